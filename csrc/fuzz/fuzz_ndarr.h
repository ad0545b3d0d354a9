/*
 * fuzz_ndarr.h - output arrays of any ndim (1..MCRLE_MAX_NDIM) for the
 * bytes-form harnesses, whose headers may claim up to 32 axes: a layout from
 * one byte (C, Fortran, a transpose or a rotation of the axes, a gap in the
 * innermost axis, negative strides, a misaligned base, padding), and a
 * C-order walk over two arrays at once that keeps both element offsets.
 *
 * Each buffer is exactly as large as its layout needs (sanitizers catch any
 * access outside it) and starts filled with a canary byte.
 */
#ifndef MCRLE_FUZZ_NDARR_H
#define MCRLE_FUZZ_NDARR_H

#include "fuzz_common.h"

typedef struct fn_arr {
    size_t E;
    int ndim;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    unsigned char *buf;
    size_t buf_len;
    unsigned char *base;
    size_t size;
} fn_arr;

/*
 * Layout byte l:
 *   bits 0-1  memory order: 0 C, 1 Fortran, 2 C with the last two axes of
 *             length > 1 swapped (a transpose), 3 axes rotated (axis a
 *             is the (a+1)-th slowest)
 *   bit 2     gap: the innermost stride is 2 elements
 *   bit 3     odd axes have negative strides; bit 4 even axes do
 *   bits 5-6  base misaligned by 0..3 bytes
 *   bit 7     padding: axes (of length > 1) get one extra element of extent
 *             and start at offset 1 of it, while the buffer stays within
 *             4x the elements
 * Gap and padding are dropped for big arrays (more than 2^16 elements), so
 * buffers stay a few MB.
 */
static inline void fn_arr_make(fn_arr *A, size_t E, int ndim, const size_t *shape, uint8_t l,
                               unsigned char canary)
{
    int order = l & 3;
    size_t size = 1;   /* the caller keeps non-empty shapes small */
    for (int a = 0; a < ndim; a++) size = shape[a] == 0 ? 0 : size * shape[a];
    for (int a = 0; a < ndim; a++) if (shape[a] == 0) size = 0;
    int big = size > ((size_t)1 << 16);
    size_t gap = (!big && (l & 4)) ? 2 : 1;
    size_t misalign = (size_t)((l >> 5) & 3);
    int pad = !big && (l & 0x80);
    int perm[MCRLE_MAX_NDIM];   /* perm[0] slowest in memory */
    size_t ext[MCRLE_MAX_NDIM], off[MCRLE_MAX_NDIM];
    A->E = E;
    A->ndim = ndim;
    A->size = size;
    size_t budget = 4 * size + 64, total_ext = size;
    for (int a = 0; a < ndim; a++) {
        A->shape[a] = shape[a];
        ext[a] = shape[a];
        off[a] = 0;
        if (pad && size && shape[a] > 1 && total_ext / shape[a] * (shape[a] + 1) <= budget) {
            total_ext = total_ext / shape[a] * (shape[a] + 1);
            ext[a] = shape[a] + 1;
            off[a] = 1;
        }
    }
    for (int k = 0; k < ndim; k++) perm[k] = order == 1 ? ndim - 1 - k : order == 3 ? (k + 1) % ndim : k;
    if (order == 2) {   /* swap the last two axes of length > 1 */
        int x = -1, y = -1;
        for (int a = ndim - 1; a >= 0; a--) {
            if (shape[a] <= 1) continue;
            if (y < 0) y = a;
            else { x = a; break; }
        }
        if (x >= 0) { perm[x] = y; perm[y] = x; }
    }
    if (size == 0) {   /* no element: any strides do (and the shape may be huge) */
        for (int a = 0; a < ndim; a++) A->strides[a] = (ptrdiff_t)E;
        A->buf_len = misalign;
        A->buf = (unsigned char *)fz_malloc(A->buf_len);
        memset(A->buf, canary, A->buf_len);
        A->base = A->buf;
        return;
    }
    size_t step = E * gap;
    ptrdiff_t st[MCRLE_MAX_NDIM];
    for (int k = ndim - 1; k >= 0; k--) {
        int a = perm[k];
        st[a] = (ptrdiff_t)step;
        step *= ext[a];
    }
    A->buf_len = step + misalign;
    A->buf = (unsigned char *)fz_malloc(A->buf_len);
    memset(A->buf, canary, A->buf_len);
    ptrdiff_t base = (ptrdiff_t)misalign;
    for (int a = 0; a < ndim; a++) {
        int neg = (a & 1) ? (l >> 3) & 1 : (l >> 4) & 1;
        A->strides[a] = neg ? -st[a] : st[a];
        base += (ptrdiff_t)(off[a] + (neg ? shape[a] - 1 : 0)) * st[a];
    }
    A->base = A->buf + base;
}

static inline void fn_arr_free(fn_arr *A)
{
    free(A->buf);
    A->buf = NULL;
}

/*
 * C-order walk (last axis fastest) over the shape of A, keeping the byte
 * offsets (from base) of the current element in A and in B (same shape).
 */
typedef struct fn_walk {
    int ndim;
    size_t idx[MCRLE_MAX_NDIM];
    ptrdiff_t oa, ob;
    size_t flat;   /* C-order index */
} fn_walk;

static inline void fn_walk_init(fn_walk *w, const fn_arr *A)
{
    w->ndim = A->ndim;
    memset(w->idx, 0, sizeof w->idx);
    w->oa = w->ob = 0;
    w->flat = 0;
}

/* 0 when the walk wraps around. */
static inline int fn_walk_next(fn_walk *w, const fn_arr *A, const fn_arr *B)
{
    w->flat++;
    for (int a = w->ndim - 1; a >= 0; a--) {
        w->oa += A->strides[a];
        w->ob += B->strides[a];
        if (++w->idx[a] < A->shape[a]) return 1;
        w->oa -= A->strides[a] * (ptrdiff_t)A->shape[a];
        w->ob -= B->strides[a] * (ptrdiff_t)B->shape[a];
        w->idx[a] = 0;
    }
    return 0;
}

#endif /* MCRLE_FUZZ_NDARR_H */
