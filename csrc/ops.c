/*
 * ops.c - per-label answers from the runs in one pass: pixel sums, bounding
 * boxes, relabelling.
 *
 * Each kernel takes the runs' labels as group indices (unsigned, 1, 2, 4 or
 * 8 bytes, each < n_groups: an 8-bit map's own values with 256 groups, or
 * the index of each run's value among the sorted distinct values) and
 * validates the counts as it walks them, like mcrle_check_counts: on a bad
 * count the walk stops and that function reports it, with the same info.
 */
#include "internal.h"

MCRLE_INLINE uint64_t load_index(const unsigned char *p, size_t k, size_t S)
{
    return mcrle_load(p + k * S, S);
}

#define INDEX_SIZE_OK(S) ((S) == 1 || (S) == 2 || (S) == 4 || (S) == 8)

/* VALUE_RANGE for run k, whose group index g is out of range (info: the run, the index). */
static mcrle_result index_error(size_t k, uint64_t g, mcrle_error_info *info)
{
    if (info) { info->index = k; info->sum = g; }
    return MCRLE_ERR_VALUE_RANGE;
}

/*
 * The check of run k made while walking, on the count c and group index g
 * as the walk read them (once): c positive and within what is left of the
 * size, g below n_groups.
 */
MCRLE_INLINE mcrle_result check_run(const uint64_t *counts, size_t n_runs, uint64_t size, size_t k,
                                    uint64_t c, uint64_t left, uint64_t g, size_t n_groups,
                                    mcrle_error_info *info)
{
    if (MCRLE_COUNT_BAD(c, left)) return mcrle_count_error(counts, n_runs, k, c, size - left, info);
    if (MCRLE_UNLIKELY(g >= n_groups)) return index_error(k, g, info);
    return MCRLE_OK;
}

MCRLE_INLINE mcrle_result group_sums(const unsigned char *index, const uint64_t *counts,
                                     size_t n_runs, uint64_t size, size_t n_groups,
                                     uint64_t *sums, mcrle_error_info *info, size_t S)
{
    uint64_t left = size;
    for (size_t k = 0; k < n_runs; k++) {
        uint64_t c = counts[k], g = load_index(index, k, S);
        mcrle_result r = check_run(counts, n_runs, size, k, c, left, g, n_groups, info);
        if (MCRLE_UNLIKELY(r != MCRLE_OK)) return r;
        left -= c;
        sums[g] += c;
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    return MCRLE_OK;
}

mcrle_result mcrle_group_sums(const void *index, size_t index_size, const uint64_t *counts,
                              size_t n_runs, uint64_t size, size_t n_groups, uint64_t *sums,
                              mcrle_error_info *info)
{
    SAFETY_CHECK(INDEX_SIZE_OK(index_size), MCRLE_ERR_ARG);
    SAFETY_CHECK(n_runs == 0 || (index && counts), MCRLE_ERR_ARG);
    SAFETY_CHECK(n_groups == 0 || sums, MCRLE_ERR_ARG);
    for (size_t g = 0; g < n_groups; g++) sums[g] = 0;
    mcrle_result r = MCRLE_OK;
    MCRLE_DISPATCH_ELEM(index_size, r = group_sums((const unsigned char *)index, counts, n_runs,
                                                   size, n_groups, sums, info, E_));
    return r;
}

/* ---- bounding boxes ---------------------------------------------------------- */

MCRLE_INLINE void widen(uint64_t *lo, uint64_t *hi, uint64_t a, uint64_t b)
{
    if (a < *lo) *lo = a;
    if (b > *hi) *hi = b;
}

MCRLE_INLINE mcrle_result group_bbox(const unsigned char *index, const uint64_t *counts,
                                     size_t n_runs, uint64_t size, int ndim, const size_t *shape,
                                     size_t n_groups, uint64_t *lo, uint64_t *hi,
                                     mcrle_error_info *info, size_t S)
{
    /*
     * (row, col): the run's first position, row along axis 0 and col the
     * Fortran column number over axes 1..; the run's last position is
     * (row_l, col_l). Along axis 0 the run covers rows [row, row_l] when it
     * stays in one column, else (it wraps past the column's end) every row.
     * Along a higher axis a, likewise with the column numbers: blocks
     * q = col / stride_a from qa to qb, coordinates q % shape[a].
     */
    const uint64_t H = shape[0];
    uint64_t row = 0, col = 0, left = size;
    uint64_t stride[MCRLE_MAX_NDIM];
    uint64_t s = 1;
    for (int a = 1; a < ndim; a++) { stride[a] = s; s *= shape[a]; }
    for (size_t k = 0; k < n_runs; k++) {
        uint64_t c = counts[k], g = load_index(index, k, S);
        mcrle_result r = check_run(counts, n_runs, size, k, c, left, g, n_groups, info);
        if (MCRLE_UNLIKELY(r != MCRLE_OK)) return r;
        left -= c;
        uint64_t row_l, col_l, nrow, ncol;
        if (c < H - row) {   /* inside one column */
            row_l = row + c - 1;
            col_l = col;
            nrow = row + c;
            ncol = col;
        } else {
            uint64_t t = c - (H - row);   /* positions after the end of this column */
            if (t < H) { ncol = col + 1; nrow = t; }
            else { ncol = col + 1 + t / H; nrow = t % H; }
            if (nrow) { row_l = nrow - 1; col_l = ncol; }
            else { row_l = H - 1; col_l = ncol - 1; }
        }
        uint64_t *L = lo + g * (uint64_t)ndim, *U = hi + g * (uint64_t)ndim;
        if (col_l == col) widen(L, U, row, row_l);
        else widen(L, U, 0, H - 1);
        if (ndim == 2) {
            widen(L + 1, U + 1, col, col_l);
        } else {
            for (int a = 1; a < ndim; a++) {
                uint64_t n = shape[a], qa = col / stride[a], qb = col_l / stride[a];
                uint64_t ca = qa % n, cb = qb % n;
                if (qb - qa >= n || ca > cb) widen(L + a, U + a, 0, n - 1);
                else widen(L + a, U + a, ca, cb);
            }
        }
        row = nrow;
        col = ncol;
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    return MCRLE_OK;
}

mcrle_result mcrle_group_bbox(const void *index, size_t index_size, const uint64_t *counts,
                              size_t n_runs, int ndim, const size_t *shape, size_t n_groups,
                              uint64_t *lo, uint64_t *hi, mcrle_error_info *info)
{
    size_t size;
    SAFETY_CHECK(INDEX_SIZE_OK(index_size), MCRLE_ERR_ARG);
    SAFETY_CHECK(ndim >= 1 && ndim <= MCRLE_MAX_NDIM && shape, MCRLE_ERR_ARG);
    SAFETY_CHECK(n_runs == 0 || (index && counts), MCRLE_ERR_ARG);
    SAFETY_CHECK(n_groups == 0 || (lo && hi), MCRLE_ERR_ARG);
    SAFETY_CHECK(n_groups <= SIZE_MAX / (size_t)ndim, MCRLE_ERR_ARG);
    mcrle_result r = mcrle_shape_size(ndim, shape, &size);
    if (r != MCRLE_OK) return r;
    for (size_t i = 0; i < n_groups * (size_t)ndim; i++) { lo[i] = UINT64_MAX; hi[i] = 0; }
    MCRLE_DISPATCH_ELEM(index_size, r = group_bbox((const unsigned char *)index, counts, n_runs,
                                                   (uint64_t)size, ndim, shape, n_groups, lo, hi,
                                                   info, E_));
    return r;
}

/* ---- relabelling ------------------------------------------------------------- */

MCRLE_INLINE mcrle_result relabel(const unsigned char *index, const uint64_t *counts,
                                  size_t n_runs, uint64_t size, const unsigned char *table,
                                  size_t table_len, unsigned char *out_values,
                                  uint64_t *out_counts, size_t capacity, size_t *n_out,
                                  mcrle_error_info *info, size_t S, size_t E)
{
    uint64_t left = size, last = 0;
    size_t n = 0;
    for (size_t k = 0; k < n_runs; k++) {
        uint64_t c = counts[k], g = load_index(index, k, S);
        mcrle_result r = check_run(counts, n_runs, size, k, c, left, g, table_len, info);
        if (MCRLE_UNLIKELY(r != MCRLE_OK)) return r;
        left -= c;
        uint64_t v = mcrle_load(table + g * E, E);
        if (n && v == last) {
            out_counts[n - 1] += c;   /* <= size: no overflow */
        } else {
            SAFETY_CHECK(n < capacity, MCRLE_ERR_NOSPACE);
            mcrle_store(out_values + n * E, v, E);
            out_counts[n++] = c;
            last = v;
        }
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    *n_out = n;
    return MCRLE_OK;
}

mcrle_result mcrle_relabel_runs(const void *index, size_t index_size, const uint64_t *counts,
                                size_t n_runs, uint64_t size, const void *table, size_t table_len,
                                size_t elem_size, void *out_values, uint64_t *out_counts,
                                size_t capacity, size_t *n_out, mcrle_error_info *info)
{
    SAFETY_CHECK(n_out != NULL, MCRLE_ERR_ARG);
    *n_out = 0;
    SAFETY_CHECK(INDEX_SIZE_OK(index_size), MCRLE_ERR_ARG);
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(n_runs == 0 || (index && counts && out_values && out_counts), MCRLE_ERR_ARG);
    SAFETY_CHECK(table_len == 0 || table, MCRLE_ERR_ARG);
    mcrle_result r = MCRLE_OK;
    const unsigned char *ix = (const unsigned char *)index, *tb = (const unsigned char *)table;
    unsigned char *ov = (unsigned char *)out_values;
#define RELABEL_E(S_)                                                                  \
    switch (elem_size) {                                                               \
    case 1: r = relabel(ix, counts, n_runs, size, tb, table_len, ov, out_counts,       \
                        capacity, n_out, info, S_, 1); break;                          \
    case 2: r = relabel(ix, counts, n_runs, size, tb, table_len, ov, out_counts,       \
                        capacity, n_out, info, S_, 2); break;                          \
    case 4: r = relabel(ix, counts, n_runs, size, tb, table_len, ov, out_counts,       \
                        capacity, n_out, info, S_, 4); break;                          \
    default: r = relabel(ix, counts, n_runs, size, tb, table_len, ov, out_counts,      \
                         capacity, n_out, info, S_, 8); break;                         \
    }
    switch (index_size) {
    case 1: RELABEL_E(1) break;
    case 2: RELABEL_E(2) break;
    case 4: RELABEL_E(4) break;
    default: RELABEL_E(8) break;
    }
#undef RELABEL_E
    if (r != MCRLE_OK) *n_out = 0;
    return r;
}

/* ---- relabelling straight from the compact strings ------------------------- */

#define CHUNK 1024

/*
 * One chunk of runs (counts, 1-byte values) relabelled and merged into the
 * output; returns nc, or the index of the first run it could not take (a
 * bad count, an undefined label or no room), left for the caller to name.
 */
MCRLE_INLINE size_t relabel_chunk(const uint64_t *cbuf, const void *vbuf, int wide, uint64_t top,
                                  size_t nc,
                                  uint64_t *left_io, const unsigned char *tb,
                                  const unsigned char *defined, unsigned char *ov,
                                  uint64_t *out_counts, size_t capacity, size_t *n_io,
                                  uint64_t *last_io, size_t E)
{
    /* wide: the values are the strings' unsigned numbers, refused past top
     * (255, or 1 for bool); else bytes narrowed already (top 255) */
    const uint64_t *v64 = (const uint64_t *)vbuf;
    const unsigned char *vb = (const unsigned char *)vbuf;
    uint64_t left = *left_io, last = *last_io;
    size_t n = *n_io, k = 0;
    for (; k < nc; k++) {
        uint64_t c = cbuf[k];
        uint64_t b = wide ? v64[k] : vb[k];
        if (MCRLE_UNLIKELY(c - 1 >= left || (c >> 63) || b > top || !defined[b])) break;
        uint64_t v = mcrle_load(tb + b * E, E);
        if (n && v == last) {
            out_counts[n - 1] += c;
        } else {
            if (MCRLE_UNLIKELY(n >= capacity)) break;
            mcrle_store(ov + n * E, v, E);
            out_counts[n++] = c;
            last = v;
        }
        left -= c;
    }
    *left_io = left;
    *last_io = last;
    *n_io = n;
    return k;
}

mcrle_result mcrle_relabel_compact(const char *values, size_t values_len, const char *counts,
                                   size_t counts_len, int values_signed, mcrle_kind kind,
                                   uint64_t size, const void *table,
                                   const unsigned char *defined, size_t elem_size,
                                   void *out_values, uint64_t *out_counts, size_t capacity,
                                   size_t *n_out, mcrle_error_info *info)
{
    SAFETY_CHECK(n_out != NULL, MCRLE_ERR_ARG);
    *n_out = 0;
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(kind == MCRLE_KIND_BOOL || kind == MCRLE_KIND_SIGNED ||
                 kind == MCRLE_KIND_UNSIGNED, MCRLE_ERR_ARG);
    SAFETY_CHECK(table && defined, MCRLE_ERR_ARG);
    SAFETY_CHECK((values_len == 0 || values) && (counts_len == 0 || counts), MCRLE_ERR_ARG);
    SAFETY_CHECK(capacity == 0 || (out_values && out_counts), MCRLE_ERR_ARG);
    const unsigned char *tb = (const unsigned char *)table;
    unsigned char *ov = (unsigned char *)out_values;
    const int wide = !values_signed && kind != MCRLE_KIND_SIGNED;
    const uint64_t top = kind == MCRLE_KIND_BOOL ? 1 : 255;
    mcrle_str_reader rc, rv;
    mcrle_str_reader_init(&rc, counts, counts_len, 3);
    mcrle_str_reader_init(&rv, values, values_len, 2);
    uint64_t cbuf[CHUNK], vbuf[CHUNK];
    uint64_t left = size, last = 0;
    size_t run = 0, n = 0;
    for (;;) {
        size_t nc = 0, nv = 0;
        mcrle_result r = mcrle_str_read(&rc, cbuf, CHUNK, &nc, info);
        if (r != MCRLE_OK) return r;
        r = mcrle_str_read(&rv, vbuf, nc, &nv, info);
        if (r != MCRLE_OK) return r;
        if (nv != nc) {   /* fewer values than counts */
            if (info) { info->index = run + nv; info->sum = size - left; }
            return MCRLE_ERR_ARG;
        }
        /* unsigned numbers for an unsigned or bool map need no narrowing
         * pass: relabel_chunk refuses those past the element's range */
        if (!wide) {
            r = mcrle_narrow_values(vbuf, nv, values_signed, kind, 1, vbuf, info);
            if (r != MCRLE_OK) {
                if (info) info->index += run;
                return r;
            }
        }
        size_t bad = nc;
        if (wide) {
            MCRLE_DISPATCH_ELEM(elem_size,
                                bad = relabel_chunk(cbuf, vbuf, 1, top, nc, &left, tb, defined, ov,
                                                    out_counts, capacity, &n, &last, E_));
        } else {
            MCRLE_DISPATCH_ELEM(elem_size,
                                bad = relabel_chunk(cbuf, vbuf, 0, 255, nc, &left, tb, defined, ov,
                                                    out_counts, capacity, &n, &last, E_));
        }
        if (MCRLE_UNLIKELY(bad < nc)) {
            uint64_t c = cbuf[bad];
            uint64_t b = wide ? vbuf[bad] : ((const unsigned char *)vbuf)[bad];
            if (c - 1 >= left || (c >> 63)) {   /* also c == 0 */
                if (info) { info->index = run + bad; info->sum = c ? UINT64_MAX : size - left; }
                return c ? MCRLE_ERR_COUNTS_LONG : MCRLE_ERR_ZERO_COUNT;
            }
            if (b > (wide ? top : 255) || !defined[b]) {
                if (info) { info->index = run + bad; info->sum = b; }
                return MCRLE_ERR_VALUE_RANGE;
            }
            return MCRLE_ERR_NOSPACE;
        }
        run += nc;
        if (nc < CHUNK) break;
    }
    if (rv.p < rv.len) {   /* more values than counts */
        if (info) { info->index = run; info->sum = size - left; }
        return MCRLE_ERR_ARG;
    }
    if (left) {
        if (info) { info->index = run; info->sum = size - left; }
        return MCRLE_ERR_COUNTS_SHORT;
    }
    *n_out = n;
    return MCRLE_OK;
}

/* ---- pair sums (confusion matrices) --------------------------------------------- */

MCRLE_INLINE mcrle_result check_indices(const unsigned char *index, size_t n, size_t n_groups,
                                        mcrle_error_info *info, size_t S)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t g = load_index(index, k, S);
        if (MCRLE_UNLIKELY(g >= n_groups)) return index_error(k, g, info);
    }
    return MCRLE_OK;
}

/*
 * The merge of both sequences in one walk that reads every count and index
 * once and checks each as it reads it (count positive and within what is
 * left of the size, index below its group count): each step takes the
 * shorter of the two run remainders and moves past every run that it
 * finishes. 1 when both sequences are good and end together, else 0 (the
 * caller then names the first problem; sums are partly written).
 */
MCRLE_INLINE int pair_walk(const unsigned char *ia, const uint64_t *ca, size_t n_a,
                           size_t na_groups, const unsigned char *ib, const uint64_t *cb,
                           size_t n_b, size_t nb_groups, uint64_t size, uint64_t *sums, size_t S)
{
    if (n_a == 0 || n_b == 0) return 0;
    size_t i = 0, j = 0;
    uint64_t ra = ca[0], rb = cb[0], ga = load_index(ia, 0, S), gb = load_index(ib, 0, S);
    if (MCRLE_COUNT_BAD(ra, size) || MCRLE_COUNT_BAD(rb, size) || ga >= na_groups ||
        gb >= nb_groups)
        return 0;
    uint64_t left_a = size - ra, left_b = size - rb;
    uint64_t row = ga * nb_groups;
    for (;;) {
        uint64_t m = ra < rb ? ra : rb;
        sums[row + gb] += m;
        ra -= m;
        rb -= m;
        if (ra == 0) {
            if (++i == n_a) break;
            ra = ca[i];
            ga = load_index(ia, i, S);
            if (MCRLE_COUNT_BAD(ra, left_a) || ga >= na_groups) return 0;
            left_a -= ra;
            row = ga * nb_groups;
        }
        if (rb == 0) {
            if (++j == n_b) break;
            rb = cb[j];
            gb = load_index(ib, j, S);
            if (MCRLE_COUNT_BAD(rb, left_b) || gb >= nb_groups) return 0;
            left_b -= rb;
        }
    }
    /* both at their last run, fully taken, and every element covered */
    return i == n_a && j == n_b - 1 && rb == 0 && left_a == 0 && left_b == 0;
}

mcrle_result mcrle_pair_sums(const void *index_a, const uint64_t *counts_a, size_t n_a,
                             size_t na_groups, const void *index_b, const uint64_t *counts_b,
                             size_t n_b, size_t nb_groups, size_t index_size, uint64_t size,
                             uint64_t *sums, mcrle_error_info *info)
{
    SAFETY_CHECK(INDEX_SIZE_OK(index_size), MCRLE_ERR_ARG);
    SAFETY_CHECK((n_a == 0 || (index_a && counts_a)) && (n_b == 0 || (index_b && counts_b)),
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(nb_groups == 0 || na_groups <= SIZE_MAX / nb_groups, MCRLE_ERR_ARG);
    SAFETY_CHECK(na_groups * nb_groups == 0 || sums, MCRLE_ERR_ARG);
    for (size_t g = 0; g < na_groups * nb_groups; g++) sums[g] = 0;
    if (size == 0 && n_a == 0 && n_b == 0) return MCRLE_OK;
    int ok = 0;
    MCRLE_DISPATCH_ELEM(index_size, ok = pair_walk((const unsigned char *)index_a, counts_a, n_a,
                                                   na_groups, (const unsigned char *)index_b,
                                                   counts_b, n_b, nb_groups, size, sums, E_));
    if (ok) return MCRLE_OK;
    /*
     * Name the problem in the documented order: A's counts, B's, A's
     * indices, B's. These reads only choose the message; when they find
     * nothing, the runs changed while the walk read them.
     */
    mcrle_result r = mcrle_check_counts(counts_a, n_a, size, info);
    if (r != MCRLE_OK) return r;
    r = mcrle_check_counts(counts_b, n_b, size, info);
    if (r != MCRLE_OK) return (mcrle_result)(r + MCRLE_PAIR_B);
    MCRLE_DISPATCH_ELEM(index_size, r = check_indices((const unsigned char *)index_a, n_a,
                                                      na_groups, info, E_));
    if (r != MCRLE_OK) return r;
    MCRLE_DISPATCH_ELEM(index_size, r = check_indices((const unsigned char *)index_b, n_b,
                                                      nb_groups, info, E_));
    if (r != MCRLE_OK) return (mcrle_result)(r + MCRLE_PAIR_B);
    if (info) { info->index = 0; info->sum = 0; }
    return MCRLE_ERR_CHANGED;
}
