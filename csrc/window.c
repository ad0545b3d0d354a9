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

/* The box [start, stop) inside shape (ARG otherwise); the array's and the box's element counts. */
static mcrle_result check_box(int ndim, const size_t *shape, const size_t *start,
                              const size_t *stop, size_t *size, size_t *window)
{
    SAFETY_CHECK(ndim >= 1 && ndim <= MCRLE_MAX_NDIM && shape && start && stop, MCRLE_ERR_ARG);
    mcrle_result r = mcrle_shape_size(ndim, shape, size);
    if (r != MCRLE_OK) return r;
    size_t w = 1;
    for (int a = 0; a < ndim; a++) {
        SAFETY_CHECK(start[a] <= stop[a] && stop[a] <= shape[a], MCRLE_ERR_ARG);
        w *= stop[a] - start[a];
    }
    *window = w;
    return MCRLE_OK;
}

/* ---- a window straight from the compact strings ---------------------------- */

#define CHUNK 1024

/*
 * The window walk of cut_window, fed one run at a time: seg_a/seg_b is the
 * part of the current window column in Fortran positions.
 */
typedef struct window_walk {
    int ndim;
    const size_t *shape, *start, *stop;
    size_t idx[MCRLE_MAX_NDIM];
    uint64_t col_stride[MCRLE_MAX_NDIM];
    uint64_t column, seg_a, seg_b;
    int done;
    unsigned char *ov;
    uint64_t *oc;
    size_t capacity, n, E;
    uint64_t last;
    uint64_t bad_count;   /* the count a chunk stopped at, as it was read */
} window_walk;

static void walk_segment(window_walk *w)
{
    uint64_t H = w->shape[0];
    w->seg_a = w->column * H + w->start[0];
    w->seg_b = w->column * H + w->stop[0];
}

static void walk_next_column(window_walk *w)
{
    int a = 1;
    for (; a < w->ndim; a++) {
        if (++w->idx[a] < w->stop[a]) { w->column += w->col_stride[a]; break; }
        w->column -= (uint64_t)(w->idx[a] - 1 - w->start[a]) * w->col_stride[a];
        w->idx[a] = w->start[a];
    }
    if (a == w->ndim) w->done = 1;
    else walk_segment(w);
}

/* The walk at the window's first column (done at once for an empty window). */
static void walk_init(window_walk *w, int ndim, const size_t *shape, const size_t *start,
                      const size_t *stop, int empty, void *out_values, uint64_t *out_counts,
                      size_t capacity, size_t E)
{
    w->ndim = ndim;
    w->shape = shape;
    w->start = start;
    w->stop = stop;
    w->column = 0;
    w->seg_a = w->seg_b = 0;
    uint64_t s = 1;
    for (int a = 1; a < ndim; a++) {
        w->idx[a] = start[a];
        w->col_stride[a] = s;
        w->column += start[a] * s;
        s *= shape[a];
    }
    w->done = empty;
    w->ov = (unsigned char *)out_values;
    w->oc = out_counts;
    w->capacity = capacity;
    w->n = 0;
    w->E = E;
    w->bad_count = 0;
    w->last = 0;
    if (!w->done) walk_segment(w);
}

/* The run [rs, re) of value v: its pieces inside the window, in order. */
MCRLE_INLINE mcrle_result walk_run(window_walk *w, uint64_t v, uint64_t rs, uint64_t re, size_t E)
{
    while (!w->done && w->seg_a < re) {
        uint64_t lo = rs > w->seg_a ? rs : w->seg_a, hi = re < w->seg_b ? re : w->seg_b;
        if (lo < hi) {
            if (w->n && v == w->last) {
                w->oc[w->n - 1] += hi - lo;
            } else {
                SAFETY_CHECK(w->n < w->capacity, MCRLE_ERR_NOSPACE);
                mcrle_store(w->ov + w->n * E, v, E);
                w->oc[w->n++] = hi - lo;
                w->last = v;
            }
        }
        if (w->seg_b <= re) walk_next_column(w);
        else break;
    }
    return MCRLE_OK;
}

/*
 * One chunk of runs (counts, values of E bytes) through the window walk.
 * The hot loop keeps the position and the current window piece in
 * registers: a run that ends before the piece costs a compare, one inside
 * it an append; only runs that cross a piece's ends go to walk_run. Returns
 * nc, or the index of the first bad count (*r stays MCRLE_OK), or of the run
 * the walk failed on (*r says why).
 */
MCRLE_INLINE size_t window_chunk(window_walk *w, const uint64_t *cbuf, const void *vals,
                                 int wide, size_t nc, uint64_t total, uint64_t *pos_io,
                                 uint64_t *next_io, mcrle_result *r, size_t E)
{
    /* wide: the values are numbers (checked to fit), else narrowed elements */
    const uint64_t *vbuf = wide ? (const uint64_t *)vals : NULL;
    const unsigned char *vb = (const unsigned char *)vals;
    uint64_t pos = *pos_io, next_a = *next_io, seg_b = w->done ? UINT64_MAX : w->seg_b;
    uint64_t last = w->last;
    size_t n = w->n, k = 0;
    unsigned char *ov = w->ov;
    uint64_t *oc = w->oc;
    const size_t capacity = w->capacity;
    for (; k < nc; k++) {
        uint64_t c = cbuf[k];
        if (MCRLE_UNLIKELY(c - 1 >= total - pos || (c >> 63))) {   /* also c == 0 */
            w->bad_count = c;   /* reported as read: the caller's may have changed since */
            break;
        }
        uint64_t re = pos + c;
        if (MCRLE_UNLIKELY(re > next_a)) {
            uint64_t v = wide ? vbuf[k] : mcrle_load(vb + k * E, E);
            if (pos >= next_a && re < seg_b) {   /* inside the piece */
                if (n && v == last) {
                    oc[n - 1] += c;
                } else {
                    if (MCRLE_UNLIKELY(n >= capacity)) { *r = MCRLE_ERR_NOSPACE; break; }
                    mcrle_store(ov + n * E, v, E);
                    oc[n++] = c;
                    last = v;
                }
            } else {
                w->n = n;
                w->last = last;
                *r = walk_run(w, v, pos, re, E);
                if (*r != MCRLE_OK) break;
                n = w->n;
                last = w->last;
                next_a = w->done ? UINT64_MAX : w->seg_a;
                seg_b = w->done ? UINT64_MAX : w->seg_b;
            }
        }
        pos = re;
    }
    w->n = n;
    w->last = last;
    *pos_io = pos;
    *next_io = next_a;
    return k;
}

/* The arguments both window-runs kernels share: n_out (zeroed), the element size, the box. */
static mcrle_result window_args(size_t *n_out, size_t elem_size, int ndim, const size_t *shape,
                                const size_t *start, const size_t *stop, size_t *size,
                                size_t *window)
{
    SAFETY_CHECK(n_out != NULL, MCRLE_ERR_ARG);
    *n_out = 0;
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    return check_box(ndim, shape, start, stop, size, window);
}

mcrle_result mcrle_window_runs(const void *values, const uint64_t *counts, size_t n_runs,
                               size_t elem_size, int ndim, const size_t *shape,
                               const size_t *start, const size_t *stop,
                               void *out_values, uint64_t *out_counts, size_t capacity,
                               size_t *n_out, mcrle_error_info *info)
{
    size_t size, window;
    mcrle_result r = window_args(n_out, elem_size, ndim, shape, start, stop, &size, &window);
    if (r != MCRLE_OK) return r;
    SAFETY_CHECK(n_runs == 0 || (counts != NULL && values != NULL), MCRLE_ERR_ARG);
    SAFETY_CHECK(window == 0 || (out_values != NULL && out_counts != NULL), MCRLE_ERR_ARG);

    /* one walk over all runs: each count and value read once, each count
     * checked as it is read; after the window's last piece it only checks */
    window_walk w;
    walk_init(&w, ndim, shape, start, stop, window == 0, out_values, out_counts, capacity,
              elem_size);
    uint64_t pos = 0, next_a = w.done ? UINT64_MAX : w.seg_a;
    size_t bad = n_runs;
    MCRLE_DISPATCH_ELEM(elem_size, bad = window_chunk(&w, counts, values, 0, n_runs,
                                                      (uint64_t)size, &pos, &next_a, &r, E_));
    if (MCRLE_UNLIKELY(bad < n_runs)) {
        if (r != MCRLE_OK) return r;
        return mcrle_count_error(counts, n_runs, bad, w.bad_count, pos, info);
    }
    if (pos != (uint64_t)size) return mcrle_counts_short(n_runs, pos, info);
    *n_out = w.n;
    return MCRLE_OK;
}

/*
 * The window of a 2D map decoded straight into rows (decode.c's slab
 * method, fed by the strings): slab[j] is the element at the window's first
 * row in its column j; every run that starts inside the window below that
 * row is an event (row, column, value). Afterwards, row 0 is the slab and
 * every later row the one above it patched at that row's events.
 */
typedef struct slab_walk {
    uint64_t H, r0, r1, c0, w;   /* map rows; window rows [r0, r1), columns [c0, c0 + w) */
    uint64_t r, col;             /* the next run's first row and column */
    unsigned char *slab;
    uint32_t *ev_row, *ev_col;
    uint64_t *ev_val;
    size_t n_ev, cap_ev;
} slab_walk;

MCRLE_INLINE size_t slab_chunk(slab_walk *sw, const uint64_t *cbuf, const uint64_t *vbuf,
                               int wide, size_t nc, uint64_t total, uint64_t *pos_io,
                               mcrle_result *r, size_t E)
{
    const unsigned char *vb = (const unsigned char *)vbuf;
    const uint64_t H = sw->H, r0 = sw->r0, r1 = sw->r1, c0 = sw->c0, w = sw->w;
    uint64_t pos = *pos_io, row = sw->r, col = sw->col;
    unsigned char *slab = sw->slab;
    uint32_t *ev_row = sw->ev_row, *ev_col = sw->ev_col;
    uint64_t *ev_val = sw->ev_val;
    const size_t cap_ev = sw->cap_ev;
    size_t n_ev = sw->n_ev, k = 0;
    for (; k < nc; k++) {
        uint64_t c = cbuf[k];
        if (MCRLE_UNLIKELY(c - 1 >= total - pos || (c >> 63))) break;   /* also c == 0 */
        pos += c;
        if (col - c0 < w) {   /* the run starts in a window column */
            if (row <= r0) {
                if (c > r0 - row) {   /* it covers the window's first row */
                    uint64_t v = wide ? vbuf[k] : mcrle_load(vb + k * E, E);
                    mcrle_store(slab + (col - c0) * E, v, E);
                }
            } else if (row < r1) {
                if (MCRLE_UNLIKELY(n_ev >= cap_ev)) { *r = MCRLE_ERR_NOSPACE; break; }
                ev_row[n_ev] = (uint32_t)(row - r0);
                ev_col[n_ev] = (uint32_t)(col - c0);
                ev_val[n_ev++] = wide ? vbuf[k] : mcrle_load(vb + k * E, E);
            }
        }
        if (c < H - row) { row += c; continue; }
        /* the run reaches the next column(s): their tops are in it */
        uint64_t v = wide ? vbuf[k] : mcrle_load(vb + k * E, E);
        c -= H - row;
        col++;
        if (c >= H) {
            uint64_t full = c / H, lo = col > c0 ? col : c0;
            uint64_t hi = col + full < c0 + w ? col + full : c0 + w;
            for (uint64_t j = lo; j < hi; j++) mcrle_store(slab + (j - c0) * E, v, E);
            col += full;
            c -= full * H;
        }
        if (c > r0 && col - c0 < w) mcrle_store(slab + (col - c0) * E, v, E);
        row = c;
    }
    sw->r = row;
    sw->col = col;
    sw->n_ev = n_ev;
    *pos_io = pos;
    return k;
}

/*
 * Reads both strings in step, CHUNK runs at a time, to their ends, feeding
 * the runs to the window walk (w) or the slab walk (sw): after the window's
 * last piece the walk only validates (every count positive, never past the
 * size, their sum the size; the values as many as the counts and each
 * fitting the element), so that a malformed RLE is refused exactly when
 * decoding it whole would be.
 */
static mcrle_result walk_compact(const char *values, size_t values_len, const char *counts,
                                 size_t counts_len, int values_signed, mcrle_kind kind,
                                 size_t elem_size, uint64_t total, window_walk *w, slab_walk *sw,
                                 mcrle_error_info *info)
{
    const int wide = !values_signed && kind != MCRLE_KIND_SIGNED;
    const uint64_t top = kind == MCRLE_KIND_BOOL ? 1 : MCRLE_ELEM_MASK(elem_size);
    mcrle_str_reader rc, rv;
    mcrle_str_reader_init(&rc, counts, counts_len, 3);
    mcrle_str_reader_init(&rv, values, values_len, 2);
    uint64_t cbuf[CHUNK], vbuf[CHUNK];
    uint64_t pos = 0, next_a = (!w || w->done) ? UINT64_MAX : w->seg_a;
    size_t run = 0;
    mcrle_result r;
    for (;;) {
        size_t nc = 0, nv = 0;
        r = mcrle_str_read(&rc, cbuf, CHUNK, &nc, info);
        if (r != MCRLE_OK) return r;
        r = mcrle_str_read(&rv, vbuf, nc, &nv, info);
        if (r != MCRLE_OK) return r;
        if (nv != nc) {   /* fewer values than counts */
            if (info) { info->index = run + nv; info->sum = pos; }
            return MCRLE_ERR_ARG;
        }
        if (wide) {
            /* unsigned numbers for an unsigned or bool map: a range check,
             * no narrowing pass (the walks store the low bytes they need) */
            uint64_t any = 0;   /* top is 2^b - 1: an OR finds the bits above it */
            for (size_t k = 0; k < nv; k++) any |= vbuf[k];
            if (MCRLE_UNLIKELY(any > top)) {
                size_t k = 0;
                while (vbuf[k] <= top) k++;
                if (info) { info->index = run + k; info->sum = 0; }
                return MCRLE_ERR_VALUE_RANGE;
            }
        } else {
            r = mcrle_narrow_values(vbuf, nv, values_signed, kind, elem_size, vbuf, info);
            if (r != MCRLE_OK) {
                if (info) info->index += run;
                return r;
            }
        }
        size_t bad = nc;
        if (sw) {
            if (wide) {
                MCRLE_DISPATCH_ELEM(elem_size, bad = slab_chunk(sw, cbuf, vbuf, 1, nc, total,
                                                                &pos, &r, E_));
            } else {
                MCRLE_DISPATCH_ELEM(elem_size, bad = slab_chunk(sw, cbuf, vbuf, 0, nc, total,
                                                                &pos, &r, E_));
            }
        } else if (wide) {
            MCRLE_DISPATCH_ELEM(elem_size,
                                bad = window_chunk(w, cbuf, vbuf, 1, nc, total, &pos, &next_a,
                                                   &r, E_));
        } else {
            MCRLE_DISPATCH_ELEM(elem_size,
                                bad = window_chunk(w, cbuf, vbuf, 0, nc, total, &pos, &next_a,
                                                   &r, E_));
        }
        if (MCRLE_UNLIKELY(bad < nc)) {
            if (r != MCRLE_OK) return r;
            uint64_t c = cbuf[bad];   /* a private copy: parsed from the string */
            if (info) { info->index = run + bad; info->sum = c ? UINT64_MAX : pos; }
            return c ? MCRLE_ERR_COUNTS_LONG : MCRLE_ERR_ZERO_COUNT;
        }
        run += nc;
        if (nc < CHUNK) break;   /* the counts string has ended */
    }
    if (rv.p < rv.len) {   /* more values than counts */
        if (info) { info->index = run; info->sum = pos; }
        return MCRLE_ERR_ARG;
    }
    if (pos != total) {
        if (info) { info->index = run; info->sum = pos; }
        return MCRLE_ERR_COUNTS_SHORT;
    }
    return MCRLE_OK;
}

mcrle_result mcrle_window_runs_compact(const char *values, size_t values_len, const char *counts,
                                       size_t counts_len, int values_signed, mcrle_kind kind,
                                       size_t elem_size, int ndim, const size_t *shape,
                                       const size_t *start, const size_t *stop,
                                       void *out_values, uint64_t *out_counts, size_t capacity,
                                       size_t *n_out, mcrle_error_info *info)
{
    size_t size, window;
    mcrle_result r = window_args(n_out, elem_size, ndim, shape, start, stop, &size, &window);
    if (r != MCRLE_OK) return r;
    SAFETY_CHECK(kind == MCRLE_KIND_BOOL || kind == MCRLE_KIND_SIGNED ||
                 kind == MCRLE_KIND_UNSIGNED, MCRLE_ERR_ARG);
    SAFETY_CHECK((values_len == 0 || values) && (counts_len == 0 || counts), MCRLE_ERR_ARG);
    SAFETY_CHECK(window == 0 || (out_values && out_counts), MCRLE_ERR_ARG);

    window_walk w;
    walk_init(&w, ndim, shape, start, stop, window == 0, out_values, out_counts, capacity,
              elem_size);
    r = walk_compact(values, values_len, counts, counts_len, values_signed, kind, elem_size,
                     (uint64_t)size, &w, NULL, info);
    if (r != MCRLE_OK) return r;
    *n_out = w.n;
    return MCRLE_OK;
}

/* Scratch layout of mcrle_window_decode_compact: slab, then events, then sorted events, row starts. */
static size_t slab_layout(size_t max_runs, size_t h, size_t w, size_t E, size_t *ev_off,
                          size_t *sorted_off, size_t *rows_off)
{
    if (max_runs > SIZE_MAX / 64 || h > SIZE_MAX / 16 || w > SIZE_MAX / 16) return SIZE_MAX;
    size_t slab = (w * E + 7) & ~(size_t)7;
    *ev_off = slab;                                /* row, col (uint32), value (uint64) */
    *sorted_off = *ev_off + max_runs * 16;         /* col (uint32, padded), value (uint64) */
    *rows_off = *sorted_off + max_runs * 16;       /* h + 1 size_t */
    if (*rows_off > SIZE_MAX - (h + 1) * sizeof(size_t)) return SIZE_MAX;
    return *rows_off + (h + 1) * sizeof(size_t);
}

size_t mcrle_window_decode_scratch_size(size_t max_runs, const size_t *start, const size_t *stop,
                                        size_t elem_size)
{
    size_t a, b, c;
    if (!start || !stop || stop[0] < start[0] || stop[1] < start[1]) return SIZE_MAX;
    return slab_layout(max_runs, stop[0] - start[0], stop[1] - start[1], elem_size, &a, &b, &c);
}

mcrle_result mcrle_window_decode_compact(const char *values, size_t values_len, const char *counts,
                                         size_t counts_len, int values_signed, mcrle_kind kind,
                                         size_t elem_size, const size_t *shape, const size_t *start,
                                         const size_t *stop, size_t max_runs, void *out,
                                         ptrdiff_t row_stride, void *scratch, size_t scratch_size,
                                         mcrle_error_info *info)
{
    size_t size;
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(kind == MCRLE_KIND_BOOL || kind == MCRLE_KIND_SIGNED ||
                 kind == MCRLE_KIND_UNSIGNED, MCRLE_ERR_ARG);
    SAFETY_CHECK(shape && start && stop, MCRLE_ERR_ARG);
    SAFETY_CHECK((values_len == 0 || values) && (counts_len == 0 || counts), MCRLE_ERR_ARG);
    mcrle_result r = mcrle_shape_size(2, shape, &size);
    if (r != MCRLE_OK) return r;
    for (int a = 0; a < 2; a++)
        SAFETY_CHECK(start[a] <= stop[a] && stop[a] <= shape[a], MCRLE_ERR_ARG);
    size_t h = stop[0] - start[0], w = stop[1] - start[1];
    /* event rows and columns are 32-bit */
    SAFETY_CHECK(h <= UINT32_MAX && w <= UINT32_MAX, MCRLE_ERR_ARG);
    size_t ev_off, sorted_off, rows_off;
    size_t need = slab_layout(max_runs, h, w, elem_size, &ev_off, &sorted_off, &rows_off);
    SAFETY_CHECK(need != SIZE_MAX, MCRLE_ERR_ARG);
    SAFETY_CHECK((h == 0 || w == 0) || (out && scratch && scratch_size >= need), MCRLE_ERR_ARG);

    slab_walk sw;
    unsigned char *base = (unsigned char *)scratch;
    sw.H = shape[0];
    sw.r0 = start[0];
    sw.r1 = stop[0];
    sw.c0 = start[1];
    sw.w = (h == 0 || w == 0) ? 0 : w;   /* an empty window: nothing is recorded */
    sw.r = 0;
    sw.col = 0;
    sw.slab = base;
    sw.ev_row = base ? (uint32_t *)(void *)(base + ev_off) : NULL;
    sw.ev_col = base ? sw.ev_row + max_runs : NULL;
    sw.ev_val = base ? (uint64_t *)(void *)(base + ev_off + max_runs * 8) : NULL;
    sw.n_ev = 0;
    sw.cap_ev = sw.w ? max_runs : 0;
    r = walk_compact(values, values_len, counts, counts_len, values_signed, kind, elem_size,
                     (uint64_t)size, NULL, &sw, info);
    if (r != MCRLE_OK) return r;
    if (sw.w == 0) return MCRLE_OK;

    /* bucket the events by row (counting sort), then write the rows */
    size_t *row_start = (size_t *)(void *)(base + rows_off);
    uint32_t *s_col = (uint32_t *)(void *)(base + sorted_off);
    uint64_t *s_val = (uint64_t *)(void *)(base + sorted_off + max_runs * 8);
    memset(row_start, 0, (h + 1) * sizeof(size_t));
    for (size_t e = 0; e < sw.n_ev; e++) row_start[sw.ev_row[e] + 1]++;
    for (size_t i = 0; i < h; i++) row_start[i + 1] += row_start[i];
    for (size_t e = 0; e < sw.n_ev; e++) {
        size_t slot = row_start[sw.ev_row[e]]++;
        s_col[slot] = sw.ev_col[e];
        s_val[slot] = sw.ev_val[e];
    }
    /* row_start[i] is now the end of row i's events, the start of row i+1's */
    unsigned char *o = (unsigned char *)out, *slab = sw.slab;
    size_t e = row_start[0], wb = w * elem_size;
    memcpy(o, slab, wb);
    for (size_t i = 1; i < h; i++) {
        for (; e < row_start[i]; e++) mcrle_store(slab + (size_t)s_col[e] * elem_size, s_val[e], elem_size);
        memcpy(o + (ptrdiff_t)i * row_stride, slab, wb);
    }
    return MCRLE_OK;
}
