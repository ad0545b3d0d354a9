/*
 * fuzz_common.h - helpers shared by the mcrle fuzz harnesses: a byte reader,
 * arrays in any layout built from fuzz bytes, and the naive reference codec
 * (a Fortran-order odometer walk over the array's own shape and strides).
 *
 * Everything here is deliberately simple and independent of the kernels'
 * layout reduction, slab/column strategies and scratch arithmetic.
 */
#ifndef MCRLE_FUZZ_COMMON_H
#define MCRLE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcrle.h"

#define FZ_MAXD 4
/* The largest array a harness builds. Long campaigns may lower it
 * (CFLAGS=-DFZ_MAX_ELEMS=4096 csrc/fuzz/build.sh): fz_shape then halves the
 * longest axis until the array fits, and executions get several times faster. */
#ifndef FZ_MAX_ELEMS
#define FZ_MAX_ELEMS ((size_t)1 << 16)
#endif

#define FZ_ASSERT(cond)                                                         \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* ---- input bytes ------------------------------------------------------------- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static inline uint64_t fz_bytes(fz_in *in, size_t k)   /* k <= 8 bytes, little-endian */
{
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++) v |= (uint64_t)fz_u8(in) << (8 * i);
    return v;
}

static inline void *fz_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

/*
 * A run count that may be hostile, from one byte (and what follows it):
 * < 0xE0 the byte itself (0 included); 0xE0..0xEF 16 x a 12-bit number
 * (low nibble, next byte); 0xF0..0xFE UINT64_MAX - (b - 0xF0); 0xFF the
 * next 8 bytes raw.
 */
static inline uint64_t fz_hostile_count(fz_in *in)
{
    uint8_t c = fz_u8(in);
    if (c < 0xE0) return c;
    if (c < 0xF0) return (((uint64_t)(c & 15) << 8) | fz_u8(in)) * 16;
    if (c < 0xFF) return UINT64_MAX - (uint64_t)(c - 0xF0);
    return fz_bytes(in, 8);
}

/* ---- elements ---------------------------------------------------------------- */

static inline size_t fz_elem_size(uint8_t b)
{
    static const size_t E[4] = {1, 2, 4, 8};
    return E[b & 3];
}

static inline uint64_t fz_mask(size_t E)
{
    return E == 8 ? UINT64_MAX : (((uint64_t)1 << (8 * E)) - 1);
}

static inline uint64_t fz_load(const unsigned char *p, size_t E)
{
    switch (E) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static inline void fz_store(unsigned char *p, uint64_t v, size_t E)
{
    switch (E) {
    case 1: *p = (unsigned char)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* Eight values that differ in the low, high and sign bytes. */
static inline uint64_t fz_label_value(unsigned label, size_t E)
{
    uint64_t m = fz_mask(E), top = (uint64_t)1 << (8 * E - 1);
    switch (label & 7u) {
    case 0: return 0;
    case 1: return 1;
    case 2: return m;
    case 3: return top;
    case 4: return 2;
    case 5: return 0x5A5A5A5A5A5A5A5Au & m;
    case 6: return top | 1u;
    default: return (((uint64_t)1 << (8 * E - 8)) | 3u) & m;
    }
}

/* The kind of bits 2-3 of a byte: 1 signed, 0 bool (1-byte elements only), else unsigned. */
static inline mcrle_kind fz_kind(uint8_t b, size_t E)
{
    unsigned kb = (b >> 2) & 3u;
    return kb == 1 ? MCRLE_KIND_SIGNED : (kb == 0 && E == 1) ? MCRLE_KIND_BOOL
                                                               : MCRLE_KIND_UNSIGNED;
}

/*
 * The two compact strings of a map of total elements read from data bytes,
 * each a label (low 3 bits, fz_label_value; sign-extended when sign_extend)
 * and a repeat count (high 5 bits + 1): the runs written with
 * mcrle_string_encode into buffers with room for two more characters.
 */
static inline void fz_data_strings(fz_in *in, size_t total, size_t E, mcrle_kind kind,
                                   int sign_extend, char **vs, size_t *vl, char **cs, size_t *cl)
{
    uint64_t *vals = (uint64_t *)fz_malloc(total * sizeof(uint64_t));
    uint64_t *cnts = (uint64_t *)fz_malloc(total * sizeof(uint64_t));
    size_t n = 0, i = 0;
    while (i < total) {
        uint8_t b = fz_u8(in);
        size_t rep = 1u + (b >> 3);
        if (rep > total - i) rep = total - i;
        uint64_t v = fz_label_value(b & 7u, E);
        if (kind == MCRLE_KIND_BOOL) v &= 1;
        if (sign_extend && E < 8 && (v >> (8 * E - 1)) & 1) v |= ~fz_mask(E);
        if (n && vals[n - 1] == v) cnts[n - 1] += rep;
        else { vals[n] = v; cnts[n] = rep; n++; }
        i += rep;
    }
    size_t cap = mcrle_string_bound(n) + 2;
    *vs = (char *)fz_malloc(cap);
    *cs = (char *)fz_malloc(cap);
    FZ_ASSERT(mcrle_string_encode(vals, n, 2, *vs, cap, vl) == MCRLE_OK);
    FZ_ASSERT(mcrle_string_encode(cnts, n, 3, *cs, cap, cl) == MCRLE_OK);
    free(cnts);
    free(vals);
}

/* One mutation of one of two strings (m0 bit 0: which; (m0 >> 1) % 3: change a
 * character, cut, add one; m1, m2: where and what). Room for one more character. */
static inline void fz_mutate(char *s0, size_t *l0, char *s1, size_t *l1, uint8_t m0, uint8_t m1,
                             uint8_t m2)
{
    char *s = (m0 & 1) ? s1 : s0;
    size_t *len = (m0 & 1) ? l1 : l0;
    unsigned what = (m0 >> 1) % 3;
    size_t at = *len ? ((size_t)m1 * 256 + m2) % *len : 0;
    if (what == 0 && *len) s[at] = (char)(m2 % 2 ? 48 + (m1 & 63) : m1);
    else if (what == 1) *len = at;
    else s[(*len)++] = (char)(48 + (m1 & 63));
}

/* ---- arrays in any layout ------------------------------------------------------ */

typedef struct fz_arr {
    size_t E;
    int ndim;
    size_t shape[FZ_MAXD];
    ptrdiff_t strides[FZ_MAXD];
    unsigned char *buf;
    size_t buf_len;
    unsigned char *base;
    size_t size;
} fz_arr;

/*
 * Reads ndim and a shape from two to five bytes: 1 + b % 4 axes, then per
 * axis (two bytes for 1D) a length that is small unless the top bit is set:
 *   1D: v & 0x1FF, or (v & 0x7FFF) * 2 with bit 15 (at most 65534)
 *   2D: b & 0x1F, or (b & 0x7F) * 2 with bit 7 (at most 254)
 *   3D: b & 0xF, or (b & 0x7F) % 41 with bit 7 (at most 40)
 *   4D: b % 17
 * so the total is at most FZ_MAX_ELEMS elements (0-length axes allowed),
 * and most inputs stay small and fast.
 */
static inline int fz_shape(fz_in *in, size_t *shape)
{
    int ndim = 1 + (int)(fz_u8(in) % FZ_MAXD);
    size_t total = 1;
    for (int a = 0; a < ndim; a++) {
        size_t v;
        if (ndim == 1) {
            v = (size_t)fz_bytes(in, 2);
            v = (v & 0x8000u) ? (v & 0x7FFFu) * 2 : (v & 0x1FFu);
        } else {
            uint8_t b = fz_u8(in);
            int big = (b & 0x80) != 0;
            if (ndim == 2) v = big ? (size_t)(b & 0x7F) * 2 : (size_t)(b & 0x1F);
            else if (ndim == 3) v = big ? (size_t)(b & 0x7F) % 41 : (size_t)(b & 0xF);
            else v = (size_t)b % 17;
        }
        shape[a] = v;
        total *= v;
    }
    while (total > FZ_MAX_ELEMS) {   /* only when FZ_MAX_ELEMS is lowered */
        int longest = 0;
        for (int a = 1; a < ndim; a++) if (shape[a] > shape[longest]) longest = a;
        total = total / shape[longest] * (shape[longest] / 2);
        shape[longest] /= 2;
    }
    FZ_ASSERT(total <= FZ_MAX_ELEMS);
    return ndim;
}

/*
 * Lays out an array of the given shape from layout bytes: memory order
 * (C, Fortran or a permutation), crops (padding and offsets per axis),
 * negative strides, a gap in the innermost axis, a misaligned base and
 * (if allow_broadcast) one axis with stride 0. The buffer is exactly as
 * large as the layout needs, so sanitizers catch any access outside it.
 */
static inline void fz_arr_make(fz_in *in, fz_arr *A, size_t E, int ndim, const size_t *shape,
                        int allow_broadcast)
{
    uint8_t l = fz_u8(in), f = fz_u8(in);
    int order = l & 3;                  /* 0 C, 1 Fortran, 2 permutation, 3 C */
    int padded = (l >> 2) & 1;
    size_t gap = (size_t)((l >> 3) & 1) + 1;
    size_t misalign = (size_t)((l >> 4) & 3);
    int broadcast = allow_broadcast && ((l >> 6) & 1);
    unsigned flip = f & 0xFu;
    int bcast_axis = (f >> 4) % ndim;
    int perm[FZ_MAXD];
    size_t ext[FZ_MAXD], off[FZ_MAXD];

    A->E = E;
    A->ndim = ndim;
    A->size = 1;
    for (int a = 0; a < ndim; a++) {
        A->shape[a] = shape[a];
        A->size *= shape[a];
        perm[a] = a;
        size_t pad = 0;
        off[a] = 0;
        if (padded) {
            uint8_t b = fz_u8(in);
            pad = b & 3u;
            off[a] = (size_t)(b >> 2) % (pad + 1);
        }
        ext[a] = shape[a] + pad;
    }
    if (order == 1) {
        for (int a = 0; a < ndim; a++) perm[a] = ndim - 1 - a;
    } else if (order == 2) {
        uint8_t s = fz_u8(in);
        for (int a = ndim - 1; a > 0; a--) {
            int b = (int)(s % (unsigned)(a + 1)), t = perm[a];
            s = (uint8_t)(s / (unsigned)(a + 1));
            perm[a] = perm[b];
            perm[b] = t;
        }
    }
    /* perm[0] is the slowest axis in memory, perm[ndim - 1] the fastest */
    size_t step = E * gap;
    ptrdiff_t st[FZ_MAXD];
    for (int k = ndim - 1; k >= 0; k--) {
        int a = perm[k];
        st[a] = (ptrdiff_t)step;
        if (!(broadcast && a == bcast_axis)) step *= ext[a];
    }
    if (broadcast) st[bcast_axis] = 0;
    size_t total = A->size ? step : 0;
    A->buf_len = total + misalign;
    A->buf = (unsigned char *)fz_malloc(A->buf_len);
    memset(A->buf, 0xCD, A->buf_len);
    ptrdiff_t base = (ptrdiff_t)misalign;
    for (int a = 0; a < ndim; a++) {
        int neg = (int)((flip >> a) & 1u);
        A->strides[a] = neg ? -st[a] : st[a];
        if (A->size) base += (ptrdiff_t)(off[a] + (neg ? shape[a] - 1 : 0)) * st[a];
    }
    A->base = A->size ? A->buf + base : A->buf;
}

static inline void fz_arr_free(fz_arr *A)
{
    free(A->buf);
    A->buf = NULL;
}

static inline unsigned char *fz_at(const fz_arr *A, const size_t *idx)
{
    ptrdiff_t o = 0;
    for (int a = 0; a < A->ndim; a++) o += (ptrdiff_t)idx[a] * A->strides[a];
    return A->base + o;
}

/* Fortran-order odometer (first axis fastest); 0 when it wraps. */
static inline int fz_next_f(size_t *idx, const size_t *shape, int ndim)
{
    for (int a = 0; a < ndim; a++) {
        if (++idx[a] < shape[a]) return 1;
        idx[a] = 0;
    }
    return 0;
}

/* C-order odometer (last axis fastest). */
static inline int fz_next_c(size_t *idx, const size_t *shape, int ndim)
{
    for (int a = ndim - 1; a >= 0; a--) {
        if (++idx[a] < shape[a]) return 1;
        idx[a] = 0;
    }
    return 0;
}

/*
 * Fills A (any layout) in C order from the input: each byte a label (low 3
 * bits, fz_label_value; 7: the next 8 bytes are a raw element) repeated
 * (high 5 bits + 1) times; when the input ends the last label repeats.
 * is_bool keeps bit 0 of each value.
 */
static inline void fz_fill_labels(fz_in *in, fz_arr *A, size_t E, int is_bool)
{
    if (!A->size) return;
    size_t idx[FZ_MAXD] = {0}, rep = 0;
    uint64_t v = 0;
    do {
        if (rep == 0 && in->n > 0) {
            uint8_t c = fz_u8(in);
            unsigned lab = c & 7u;
            v = lab == 7 ? fz_bytes(in, 8) : fz_label_value(lab, E);
            if (is_bool) v &= 1;
            rep = (size_t)(c >> 3) + 1;
        }
        fz_store(fz_at(A, idx), v, E);
        if (rep) rep--;
    } while (fz_next_c(idx, A->shape, A->ndim));
}

/* Reference encoder: returns the number of runs; stores at most cap. */
static inline size_t fz_ref_encode(const fz_arr *A, uint64_t *vals, uint64_t *cnts, size_t cap)
{
    size_t idx[FZ_MAXD] = {0}, n = 0;
    uint64_t last = 0;
    if (!A->size) return 0;
    do {
        uint64_t v = fz_load(fz_at(A, idx), A->E);
        if (n && v == last) {
            if (n <= cap) cnts[n - 1]++;
            continue;
        }
        if (n < cap) { vals[n] = v; cnts[n] = 1; }
        n++;
        last = v;
    } while (fz_next_f(idx, A->shape, A->ndim));
    return n;
}

/*
 * Reference decoder: writes the runs (already known valid for A->size) at
 * the element addresses of A, into dst, a buffer shaped like A->buf.
 */
static inline void fz_ref_decode(const fz_arr *A, unsigned char *dst, const uint64_t *vals,
                          const uint64_t *cnts, size_t n)
{
    size_t idx[FZ_MAXD] = {0}, k = 0;
    uint64_t left = n ? cnts[0] : 0;
    if (!A->size) return;
    do {
        while (left == 0) left = cnts[++k];
        fz_store(dst + (fz_at(A, idx) - A->buf), vals[k], A->E);
        left--;
    } while (fz_next_f(idx, A->shape, A->ndim));
}

/*
 * Asserts that, of a buffer shaped like A->buf, only the bytes of A's
 * elements differ between before and after (what a decode may leave after
 * an error: its elements unspecified, nothing between them written).
 */
static inline void fz_assert_only_elements(const fz_arr *A, const unsigned char *before,
                                           const unsigned char *after)
{
    if (!A->size) {
        FZ_ASSERT(memcmp(before, after, A->buf_len) == 0);
        return;
    }
    unsigned char *elem = (unsigned char *)fz_malloc(A->buf_len);
    memset(elem, 0, A->buf_len);
    size_t idx[FZ_MAXD] = {0};
    do memset(elem + (fz_at(A, idx) - A->buf), 1, A->E); while (fz_next_f(idx, A->shape, A->ndim));
    for (size_t i = 0; i < A->buf_len; i++)
        if (!elem[i]) FZ_ASSERT(after[i] == before[i]);
    free(elem);
}

/*
 * Reference count validation, written independently of the kernel:
 * returns the result code mcrle_check_counts must give and fills index
 * and sum the way mcrle.h documents them.
 */
static inline mcrle_result fz_ref_check_counts(const uint64_t *c, size_t n, uint64_t size,
                                        size_t *index, uint64_t *sum)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == 0) { *index = i; *sum = s; return MCRLE_ERR_ZERO_COUNT; }
        int overflow = c[i] > UINT64_MAX - s;
        if (overflow || s + c[i] > size) {
            /* full sum of all counts, saturated */
            uint64_t t = s;
            for (size_t k = i; k < n; k++) t = c[k] > UINT64_MAX - t ? UINT64_MAX : t + c[k];
            *index = i;
            *sum = t;
            return MCRLE_ERR_COUNTS_LONG;
        }
        s += c[i];
    }
    if (s != size) { *index = n; *sum = s; return MCRLE_ERR_COUNTS_SHORT; }
    return MCRLE_OK;
}

#endif /* MCRLE_FUZZ_COMMON_H */
