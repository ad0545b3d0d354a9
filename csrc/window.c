/*
 * window.c - the runs of a box of an array, cut from the runs of the whole.
 *
 * A training crop needs a small box of a large map. The box's columns (one
 * position on every axis but the first) are visited in Fortran order; in
 * each, the part [row_start, row_stop) is cut from the runs crossing it. One
 * forward walk over the runs suffices because those parts come in increasing
 * Fortran position. The result is the box's own runs (canonical: equal
 * neighbours merged), which mcrle_decode then writes in any layout.
 */
#include "internal.h"

size_t mcrle_window_runs_bound(size_t n_runs, int ndim, const size_t *start, const size_t *stop)
{
    size_t columns = 1;
    for (int a = 1; a < ndim; a++) {
        size_t w = stop[a] - start[a];
        if (w && columns > SIZE_MAX / w) return SIZE_MAX;
        columns *= w;
    }
    return n_runs > SIZE_MAX - columns ? SIZE_MAX : n_runs + columns;
}

/* The walk, for a constant element size E. */
MCRLE_INLINE mcrle_result cut_window(const void *values, const uint64_t *counts, int ndim,
                                     const size_t *shape, const size_t *start, const size_t *stop,
                                     void *out_values, uint64_t *out_counts, size_t capacity,
                                     size_t *n_out, size_t E)
{
    const unsigned char *v = (const unsigned char *)values;
    unsigned char *ov = (unsigned char *)out_values;
    const size_t H = shape[0];
    size_t idx[MCRLE_MAX_NDIM];          /* window column, per axis 1.. */
    uint64_t col_stride[MCRLE_MAX_NDIM]; /* Fortran column number step per axis */
    uint64_t column = 0;                 /* Fortran column number of the window column */
    uint64_t s = 1;
    for (int a = 1; a < ndim; a++) {
        idx[a] = start[a];
        col_stride[a] = s;
        column += start[a] * s;
        s *= shape[a];
    }
    size_t k = 0, n = 0;
    uint64_t last = 0;   /* value of out run n-1 */
    uint64_t run_end = counts[0];   /* Fortran end of run k; the window is not empty, so n_runs > 0 */
    for (;;) {
        uint64_t a_pos = column * H + start[0], b_pos = column * H + stop[0];
        while (run_end <= a_pos) run_end += counts[++k];   /* counts sum to size: k stays < n */
        uint64_t pos = a_pos;
        while (pos < b_pos) {
            uint64_t piece_end = run_end < b_pos ? run_end : b_pos;
            uint64_t val = mcrle_load(v + k * E, E);
            if (n && val == last) {
                out_counts[n - 1] += piece_end - pos;      /* same label continues */
            } else {
                SAFETY_CHECK(n < capacity, MCRLE_ERR_NOSPACE);
                mcrle_store(ov + n * E, val, E);
                out_counts[n++] = piece_end - pos;
                last = val;
            }
            pos = piece_end;
            if (pos == run_end && pos < b_pos) run_end += counts[++k];
        }
        /* next window column, Fortran order over axes 1.. */
        int a = 1;
        for (; a < ndim; a++) {
            if (++idx[a] < stop[a]) { column += col_stride[a]; break; }
            column -= (uint64_t)(idx[a] - 1 - start[a]) * col_stride[a];
            idx[a] = start[a];
        }
        if (a == ndim) break;
    }
    *n_out = n;
    return MCRLE_OK;
}

mcrle_result mcrle_window_runs(const void *values, const uint64_t *counts, size_t n_runs,
                               size_t elem_size, int ndim, const size_t *shape,
                               const size_t *start, const size_t *stop,
                               void *out_values, uint64_t *out_counts, size_t capacity,
                               size_t *n_out, mcrle_error_info *info)
{
    size_t size;
    SAFETY_CHECK(n_out != NULL, MCRLE_ERR_ARG);
    *n_out = 0;
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(ndim >= 1 && ndim <= MCRLE_MAX_NDIM && start && stop, MCRLE_ERR_ARG);
    mcrle_result r = mcrle_shape_size(ndim, shape, &size);
    if (r != MCRLE_OK) return r;
    size_t window = 1;
    for (int a = 0; a < ndim; a++) {
        SAFETY_CHECK(start[a] <= stop[a] && stop[a] <= shape[a], MCRLE_ERR_ARG);
        window *= stop[a] - start[a];
    }
    r = mcrle_check_counts(counts, n_runs, (uint64_t)size, info);
    if (r != MCRLE_OK) return r;
    if (window == 0) return MCRLE_OK;
    SAFETY_CHECK(values != NULL && out_values != NULL && out_counts != NULL, MCRLE_ERR_ARG);

    size_t n = 0;
    MCRLE_DISPATCH_ELEM(elem_size,
                        r = cut_window(values, counts, ndim, shape, start, stop, out_values,
                                       out_counts, capacity, &n, E_));
    if (r != MCRLE_OK) return r;
    *n_out = n;
    return MCRLE_OK;
}
