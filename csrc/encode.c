/*
 * encode.c - array -> runs in Fortran order.
 *
 * Two strategies, chosen from the layout:
 *   column: each column (axis 0) is scanned on its own, 32 bytes at a time
 *           when contiguous; Fortran-ordered arrays are one long column.
 *   slab:   C-ordered arrays (2+ dims). Reading down a column would stride
 *           through memory, so each slab (row, for 2D) is compared with the
 *           previous one, 32 bytes at a time; the positions that differ are
 *           the run boundaries. They are found row-major and then sorted by
 *           column (a counting sort, O(runs + columns)) to emit the runs.
 * Both touch each input element once per pass and do O(1) work per run.
 */
#include "internal.h"

/* Runs being written: value of the open run and where it started. */
typedef struct emitter {
    unsigned char *values;
    uint64_t *counts;
    size_t cap, n;
    uint64_t start;
} emitter;

/* Opens a run at Fortran index f; closes the previous one. 0 if full. */
MCRLE_INLINE int emit(emitter *em, uint64_t f, const unsigned char *value, size_t E)
{
    if (em->n) em->counts[em->n - 1] = f - em->start;
    if (MCRLE_UNLIKELY(em->n == em->cap)) return 0;
    memcpy(em->values + em->n * E, value, E);
    em->n++;
    em->start = f;
    return 1;
}

/* ---- column strategy ----------------------------------------------------- */

/*
 * Visits the changes inside one column of H elements with byte stride s:
 * positions i in [1, H) where a[i] != a[i-1]. ON_CHANGE is a statement using i.
 */
#define SCAN_COLUMN(base, H, s, E, ON_CHANGE)                                  \
    do {                                                                       \
        const unsigned char *col_ = (base);                                    \
        if ((s) == (ptrdiff_t)(E)) {                                           \
            MCRLE_SCAN_DIFF(col_ + (E), col_, ((H) - 1) * (E), E,              \
                            { size_t i = j + 1; ON_CHANGE; });                 \
        } else {                                                               \
            uint64_t prev_ = mcrle_load(col_, E);                              \
            for (size_t i = 1; i < (H); i++) {                                 \
                uint64_t cur_ = mcrle_load(col_ + (ptrdiff_t)i * (s), E);      \
                if (cur_ != prev_) { ON_CHANGE; }                              \
                prev_ = cur_;                                                  \
            }                                                                  \
        }                                                                      \
    } while (0)

MCRLE_INLINE size_t column_count(const unsigned char *data, const mcrle_layout *L, size_t E)
{
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 0);
    size_t H = L->shape[0], W = L->size / H, runs = 1;
    ptrdiff_t s = L->strides[0];
    const unsigned char *last = NULL;
    for (size_t column = 0; column < W; column++, mcrle_odometer_next(&o)) {
        const unsigned char *col = data + o.offset;
        if (last && mcrle_load(col, E) != mcrle_load(last, E)) runs++;
        SCAN_COLUMN(col, H, s, E, (void)i; runs++);
        last = col + (ptrdiff_t)(H - 1) * s;
    }
    return runs;
}

MCRLE_INLINE mcrle_result column_encode(const unsigned char *data, const mcrle_layout *L,
                                        size_t E, emitter *em)
{
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 0);
    size_t H = L->shape[0], W = L->size / H;
    ptrdiff_t s = L->strides[0];
    const unsigned char *last = NULL;
    uint64_t f = 0;
    for (size_t column = 0; column < W; column++, mcrle_odometer_next(&o), f += H) {
        const unsigned char *col = data + o.offset;
        if (!last || mcrle_load(col, E) != mcrle_load(last, E))
            SAFETY_CHECK(emit(em, f, col, E), MCRLE_ERR_NOSPACE);
        SCAN_COLUMN(col, H, s, E,
                    SAFETY_CHECK(emit(em, f + i, col + (ptrdiff_t)i * s, E), MCRLE_ERR_NOSPACE));
        last = col + (ptrdiff_t)(H - 1) * s;
    }
    return MCRLE_OK;
}

/* ---- slab strategy ------------------------------------------------------- */

/* Visits the elements j of slab `cur` (W elements) that differ from `prev`. */
#define SCAN_SLAB(cur, prev, W, E, ON_DIFF) MCRLE_SCAN_DIFF(cur, prev, (W) * (E), E, ON_DIFF)

MCRLE_INLINE size_t slab_count(const unsigned char *data, const mcrle_layout *L, size_t E)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L), runs = 1;
    ptrdiff_t s0 = L->strides[0];
    for (size_t i = 1; i < H; i++) {
        const unsigned char *cur = data + (ptrdiff_t)i * s0, *prev = cur - s0;
        SCAN_SLAB(cur, prev, W, E, (void)j; runs++);
    }
    /* column transitions: top of column jF against bottom of column jF-1 */
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 1);
    const unsigned char *bottom = data + (ptrdiff_t)(H - 1) * s0;
    ptrdiff_t prev_off = 0;
    for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o)) {
        if (jf && mcrle_load(data + o.offset * (ptrdiff_t)E, E) !=
                      mcrle_load(bottom + prev_off * (ptrdiff_t)E, E))
            runs++;
        prev_off = o.offset;
    }
    return runs;
}

/* Scratch: column offsets (W+1), event rows and columns (n), sorted rows (n), jC->jF (W). */
static size_t slab_scratch(const mcrle_layout *L, size_t n_runs)
{
    size_t W = mcrle_slab_width(L);
    size_t words = (W + 1) + 3 * n_runs + (L->ndim > 2 ? W : 0);
    if (n_runs > SIZE_MAX / 32 || words > SIZE_MAX / sizeof(size_t)) return SIZE_MAX;
    return words * sizeof(size_t);
}

MCRLE_INLINE mcrle_result slab_encode(const unsigned char *data, const mcrle_layout *L,
                                      size_t E, emitter *em, size_t *scratch)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L), n = em->cap;
    ptrdiff_t s0 = L->strides[0];
    size_t *col_start = scratch;            /* W + 1 */
    size_t *ev_row = col_start + W + 1;     /* n */
    size_t *ev_col = ev_row + n;            /* n */
    size_t *sorted = ev_col + n;            /* n */
    size_t *fortran_col = L->ndim > 2 ? sorted + n : NULL; /* W: jC -> jF */

    mcrle_odometer o;
    if (fortran_col) {
        mcrle_odometer_init(&o, L, 1);
        for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o))
            fortran_col[o.offset] = jf;
    }
    memset(col_start, 0, (W + 1) * sizeof(size_t));

    /* 1. boundaries inside columns, in row-major order */
    size_t n_ev = 0;
    for (size_t i = 1; i < H; i++) {
        const unsigned char *cur = data + (ptrdiff_t)i * s0, *prev = cur - s0;
        SCAN_SLAB(cur, prev, W, E, {
            SAFETY_CHECK(n_ev < n, MCRLE_ERR_NOSPACE);
            size_t jf = fortran_col ? fortran_col[j] : j;
            ev_row[n_ev] = i;
            ev_col[n_ev++] = jf;
            col_start[jf + 1]++;
        });
    }
    /* 2. counting sort by Fortran column (stable: rows stay ascending) */
    for (size_t jf = 0; jf < W; jf++) col_start[jf + 1] += col_start[jf];
    for (size_t e = 0; e < n_ev; e++) sorted[col_start[ev_col[e]]++] = ev_row[e];
    /* col_start[jf] now holds the end of column jf; its start is the end of jf-1 */

    /* 3. runs, column by column */
    mcrle_odometer_init(&o, L, 1);
    const unsigned char *prev_bottom = NULL;
    size_t e = 0;
    uint64_t f = 0;
    for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o), f += H) {
        const unsigned char *top = data + o.offset * (ptrdiff_t)E;
        if (!prev_bottom || mcrle_load(top, E) != mcrle_load(prev_bottom, E))
            SAFETY_CHECK(emit(em, f, top, E), MCRLE_ERR_NOSPACE);
        for (; e < col_start[jf]; e++) {
            size_t r = sorted[e];
            SAFETY_CHECK(emit(em, f + r, top + (ptrdiff_t)r * s0, E), MCRLE_ERR_NOSPACE);
        }
        prev_bottom = top + (ptrdiff_t)(H - 1) * s0;
    }
    return MCRLE_OK;
}

/* ---- public entry points -------------------------------------------------- */

mcrle_result mcrle_count_runs(const void *data, size_t elem_size, int ndim,
                              const size_t *shape, const ptrdiff_t *strides,
                              size_t *n_runs)
{
    mcrle_layout L;
    SAFETY_CHECK(n_runs != NULL, MCRLE_ERR_ARG);
    mcrle_result r = mcrle_normalize(elem_size, ndim, shape, strides, &L);
    if (r != MCRLE_OK) return r;
    if (L.size == 0) { *n_runs = 0; return MCRLE_OK; }
    SAFETY_CHECK(data != NULL, MCRLE_ERR_ARG);
    const unsigned char *d = (const unsigned char *)data;
    size_t runs = 0;
    if (mcrle_is_slab(&L)) {
        MCRLE_DISPATCH_ELEM(L.elem, runs = slab_count(d, &L, E_));
    } else {
        MCRLE_DISPATCH_ELEM(L.elem, runs = column_count(d, &L, E_));
    }
    *n_runs = runs;
    return MCRLE_OK;
}

size_t mcrle_encode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                 const ptrdiff_t *strides, size_t n_runs)
{
    mcrle_layout L;
    if (mcrle_normalize(elem_size, ndim, shape, strides, &L) != MCRLE_OK || L.size == 0)
        return 0;
    return mcrle_is_slab(&L) ? slab_scratch(&L, n_runs) : 0;
}

mcrle_result mcrle_encode(const void *data, size_t elem_size, int ndim,
                          const size_t *shape, const ptrdiff_t *strides,
                          void *values, uint64_t *counts, size_t capacity,
                          size_t *n_runs, void *scratch, size_t scratch_size)
{
    mcrle_layout L;
    SAFETY_CHECK(n_runs != NULL, MCRLE_ERR_ARG);
    *n_runs = 0;
    mcrle_result r = mcrle_normalize(elem_size, ndim, shape, strides, &L);
    if (r != MCRLE_OK) return r;
    if (L.size == 0) return MCRLE_OK;
    SAFETY_CHECK(data != NULL, MCRLE_ERR_ARG);
    SAFETY_CHECK(capacity == 0 || (values != NULL && counts != NULL), MCRLE_ERR_ARG);
    emitter em = {(unsigned char *)values, counts, capacity, 0, 0};
    const unsigned char *d = (const unsigned char *)data;
    if (mcrle_is_slab(&L)) {
        SAFETY_CHECK(scratch_size >= slab_scratch(&L, capacity) && scratch != NULL,
                     MCRLE_ERR_NOSPACE);
        MCRLE_DISPATCH_ELEM(L.elem, r = slab_encode(d, &L, E_, &em, (size_t *)scratch));
    } else {
        MCRLE_DISPATCH_ELEM(L.elem, r = column_encode(d, &L, E_, &em));
    }
    if (r != MCRLE_OK) return r;
    if (em.n) em.counts[em.n - 1] = (uint64_t)L.size - em.start;
    *n_runs = em.n;
    return MCRLE_OK;
}
