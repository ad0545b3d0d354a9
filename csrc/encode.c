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
#include "mcrle_threads.h"

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

/*
 * Slab layouts: 2+ axes, the last one contiguous (C-ordered arrays, their
 * crops, and bands of their last axis). A slab is one index of axis 0; it is
 * read as rows of its last axis (one row when the slab is contiguous), its
 * elements numbered in C order within the slab.
 */
MCRLE_INLINE int slab_like(const mcrle_layout *L)
{
    return L->ndim >= 2 && L->strides[L->ndim - 1] == (ptrdiff_t)L->elem;
}

/* Elements per row (the whole slab when it is contiguous in memory), and rows per slab. */
static void slab_rows(const mcrle_layout *L, size_t *R, size_t *n_rows)
{
    int nd = L->ndim;
    size_t r = L->shape[nd - 1];
    int contiguous = 1;
    for (int a = nd - 2; a >= 1; a--) {
        contiguous &= L->strides[a] == (ptrdiff_t)(r * L->elem);
        r *= L->shape[a];
    }
    *R = contiguous ? r : L->shape[nd - 1];
    *n_rows = mcrle_slab_width(L) / *R;
}

/*
 * Visits the elements j (C-order index within the slab) of slab `cur` that
 * differ from slab `prev` (byte offset ps from cur), row by row.
 */
#define SCAN_SLAB(cur, ps, L, R, n_rows, E, ON_DIFF)                            \
    do {                                                                       \
        const unsigned char *c_ = (cur);                                       \
        if ((n_rows) == 1) {                                                   \
            MCRLE_SCAN_DIFF(c_, c_ - (ps), (R) * (E), E, ON_DIFF);             \
        } else {                                                               \
            size_t idx_[MCRLE_MAX_NDIM], base_ = 0;                            \
            ptrdiff_t off_ = 0;                                                \
            int nd_ = (L)->ndim;                                               \
            for (int a_ = 1; a_ < nd_ - 1; a_++) idx_[a_] = 0;                 \
            for (size_t row_ = 0; row_ < (n_rows); row_++, base_ += (R)) {     \
                MCRLE_SCAN_DIFF_AT(c_ + off_, c_ + off_ - (ps), (R) * (E), E,  \
                                   base_, ON_DIFF);                            \
                for (int a_ = nd_ - 2; a_ >= 1; a_--) {                        \
                    off_ += (L)->strides[a_];                                  \
                    if (++idx_[a_] < (L)->shape[a_]) break;                    \
                    off_ -= (L)->strides[a_] * (ptrdiff_t)(L)->shape[a_];      \
                    idx_[a_] = 0;                                              \
                }                                                              \
            }                                                                  \
        }                                                                      \
    } while (0)

/* L's slab axes with C-order element strides (the numbering of SCAN_SLAB). */
static void slab_c_layout(const mcrle_layout *L, mcrle_layout *S)
{
    *S = *L;
    ptrdiff_t st = (ptrdiff_t)L->elem;
    for (int a = L->ndim - 1; a >= 1; a--) {
        S->strides[a] = st;
        st *= (ptrdiff_t)L->shape[a];
    }
    S->strides[0] = st;
}

MCRLE_INLINE size_t slab_count(const unsigned char *data, const mcrle_layout *L, size_t E)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L), runs = 1, R, n_rows;
    ptrdiff_t s0 = L->strides[0];
    slab_rows(L, &R, &n_rows);
    for (size_t i = 1; i < H; i++) {
        const unsigned char *cur = data + (ptrdiff_t)i * s0;
        SCAN_SLAB(cur, s0, L, R, n_rows, E, (void)j; runs++);
    }
    /* column transitions: top of column jF against bottom of column jF-1 */
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 0);
    const unsigned char *bottom = data + (ptrdiff_t)(H - 1) * s0;
    ptrdiff_t prev_off = 0;
    for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o)) {
        if (jf && mcrle_load(data + o.offset, E) != mcrle_load(bottom + prev_off, E)) runs++;
        prev_off = o.offset;
    }
    return runs;
}

/* Scratch: column offsets (W+1), event rows and columns (n), sorted rows (n), jC->jF (W). */
static size_t slab_scratch(const mcrle_layout *L, size_t n_runs)
{
    size_t W = mcrle_slab_width(L);
    size_t words = (W + 1) + 3 * n_runs + (L->ndim > 2 ? W : 0);
    if (n_runs > SIZE_MAX / 32 || W > SIZE_MAX / 32 || words > SIZE_MAX / sizeof(size_t))
        return SIZE_MAX;
    return words * sizeof(size_t);
}

MCRLE_INLINE mcrle_result slab_encode(const unsigned char *data, const mcrle_layout *L,
                                      size_t E, emitter *em, size_t *scratch)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L), n = em->cap, R, n_rows;
    ptrdiff_t s0 = L->strides[0];
    size_t *col_start = scratch;            /* W + 1 */
    size_t *ev_row = col_start + W + 1;     /* n */
    size_t *ev_col = ev_row + n;            /* n */
    size_t *sorted = ev_col + n;            /* n */
    size_t *fortran_col = L->ndim > 2 ? sorted + n : NULL; /* W: jC -> jF */
    slab_rows(L, &R, &n_rows);

    mcrle_odometer o;
    if (fortran_col) {
        mcrle_layout S;
        slab_c_layout(L, &S);
        mcrle_odometer_init(&o, &S, 1);
        for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o))
            fortran_col[o.offset] = jf;
    }
    memset(col_start, 0, (W + 1) * sizeof(size_t));

    /* 1. boundaries inside columns, in row-major order */
    size_t n_ev = 0;
    for (size_t i = 1; i < H; i++) {
        const unsigned char *cur = data + (ptrdiff_t)i * s0;
        SCAN_SLAB(cur, s0, L, R, n_rows, E, {
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
    mcrle_odometer_init(&o, L, 0);
    const unsigned char *prev_bottom = NULL;
    size_t e = 0;
    uint64_t f = 0;
    for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o), f += H) {
        const unsigned char *top = data + o.offset;
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

/* ---- one band: the strategies chosen from its layout ----------------------- */

static size_t band_count_runs(const unsigned char *d, const mcrle_layout *L)
{
    size_t runs = 0;
    if (slab_like(L)) {
        MCRLE_DISPATCH_ELEM(L->elem, runs = slab_count(d, L, E_));
    } else {
        MCRLE_DISPATCH_ELEM(L->elem, runs = column_count(d, L, E_));
    }
    return runs;
}

static size_t band_scratch(const mcrle_layout *L, size_t capacity)
{
    return slab_like(L) ? slab_scratch(L, capacity) : 0;
}

/* The runs of one band into values/counts (capacity runs); *n_runs: how many. */
static mcrle_result encode_band(const unsigned char *d, const mcrle_layout *L, void *values,
                                uint64_t *counts, size_t capacity, size_t *n_runs, void *scratch)
{
    emitter em = {(unsigned char *)values, counts, capacity, 0, 0};
    mcrle_result r;
    if (slab_like(L)) {
        MCRLE_DISPATCH_ELEM(L->elem, r = slab_encode(d, L, E_, &em, (size_t *)scratch));
    } else {
        MCRLE_DISPATCH_ELEM(L->elem, r = column_encode(d, L, E_, &em));
    }
    if (r == MCRLE_OK && em.n) em.counts[em.n - 1] = (uint64_t)L->size - em.start;
    *n_runs = em.n;
    return r;
}

/* ---- several threads: one band per task --------------------------------- */

/*
 * Each band (bands of the slowest axis, whose runs are a contiguous piece of
 * the whole's) is encoded into its own region of the caller's arrays:
 * capacity split in proportion to the bands' elements, or as caps says. A
 * band that runs out of room counts its runs instead. Then the pieces are
 * joined: where a band's first run continues the run before it (same
 * value), the two become one, and every band's runs move down to follow the
 * previous band's (in parallel when no move overlaps another band's
 * unmoved runs, else in order).
 */
typedef struct enc_par {
    const unsigned char *data;
    const mcrle_layout *L;
    unsigned char *values;
    uint64_t *counts;
    unsigned char *scratch;
    unsigned bands;
    size_t cap[MCRLE_MAX_BANDS], base[MCRLE_MAX_BANDS], got[MCRLE_MAX_BANDS];
    size_t dest[MCRLE_MAX_BANDS], skip[MCRLE_MAX_BANDS], scr[MCRLE_MAX_BANDS];
    uint64_t carry[MCRLE_MAX_BANDS];
    mcrle_result band_result[MCRLE_MAX_BANDS];
} enc_par;

static void enc_band(void *ctx, unsigned b)
{
    enc_par *t = (enc_par *)ctx;
    size_t E = t->L->elem;
    mcrle_layout B;
    ptrdiff_t off;
    uint64_t e0;
    mcrle_band_layout(t->L, b, t->bands, &B, &off, &e0);
    const unsigned char *d = t->data + off;
    mcrle_result r = encode_band(d, &B, t->values + t->base[b] * E, t->counts + t->base[b],
                                 t->cap[b], &t->got[b], t->scratch + t->scr[b]);
    if (r == MCRLE_ERR_NOSPACE) t->got[b] = band_count_runs(d, &B);
    t->band_result[b] = r;
}

static void enc_move(void *ctx, unsigned b)
{
    enc_par *t = (enc_par *)ctx;
    size_t E = t->L->elem;
    size_t from = t->base[b] + t->skip[b], to = t->dest[b] + t->skip[b], k = t->got[b] - t->skip[b];
    if (from != to && k) {
        memmove(t->values + to * E, t->values + from * E, k * E);
        memmove(t->counts + to, t->counts + from, k * sizeof(uint64_t));
    }
}

/* Plans the join of the bands' runs; their total. */
static size_t enc_join_plan(enc_par *t, int *parallel)
{
    size_t E = t->L->elem, next = 0;
    for (unsigned b = 0; b < t->bands; b++) {
        size_t first = t->base[b];
        t->skip[b] = 0;
        if (b > 0 && memcmp(t->values + first * E,
                            t->values + (t->base[b - 1] + t->got[b - 1] - 1) * E, E) == 0) {
            t->skip[b] = 1;   /* its first run continues the run before */
            t->carry[b] = t->counts[first];   /* before any move can overwrite it */
        }
        t->dest[b] = next - t->skip[b];
        next = t->dest[b] + t->got[b];
    }
    /* moves in parallel when no destination overlaps another band's runs */
    *parallel = 1;
    for (unsigned b = 1; b < t->bands && *parallel; b++)
        for (unsigned c = 0; c < t->bands; c++) {
            size_t d0 = t->dest[b] + t->skip[b], d1 = t->dest[b] + t->got[b];
            size_t s0 = t->base[c], s1 = t->base[c] + t->got[c];
            if (c != b && d0 < s1 && s0 < d1) { *parallel = 0; break; }
        }
    return next;
}

/* Bands and their capacities (caps: given, or capacity in proportion to elements). */
static void enc_plan(const mcrle_layout *L, unsigned bands, size_t capacity, const size_t *caps,
                     enc_par *t, size_t *scratch_total)
{
    size_t at = 0, scr = 0;
    for (unsigned b = 0; b < bands; b++) {
        mcrle_layout B;
        ptrdiff_t off;
        uint64_t e0;
        mcrle_band_layout(L, b, bands, &B, &off, &e0);
        size_t cap;
        if (caps) cap = caps[b];
        else if (b + 1 == bands) cap = capacity - at;
        else {
            /* elements of bands 0..b in proportion, rounded down (no overflow: 128-bit free) */
            double share = (double)(e0 + B.size) / (double)L->size;
            size_t upto = (size_t)(share * (double)capacity);
            if (upto > capacity) upto = capacity;
            cap = upto > at ? upto - at : 0;
        }
        t->base[b] = at;
        t->cap[b] = cap;
        t->scr[b] = scr;
        at += cap;
        size_t bs = band_scratch(&B, cap);
        if (bs == SIZE_MAX || scr > SIZE_MAX - bs - 8) { *scratch_total = SIZE_MAX; return; }
        scr += (bs + 7) & ~(size_t)7;
    }
    *scratch_total = scr;
}

/* ---- public entry points -------------------------------------------------- */

static mcrle_result count_runs_layout(const unsigned char *d, const mcrle_layout *L, size_t *n_runs)
{
    *n_runs = L->size ? band_count_runs(d, L) : 0;
    return MCRLE_OK;
}

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
    return count_runs_layout((const unsigned char *)data, &L, n_runs);
}

size_t mcrle_encode_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                    const ptrdiff_t *strides, size_t capacity,
                                    const size_t *caps, unsigned n_threads)
{
    mcrle_layout L;
    if (mcrle_normalize(elem_size, ndim, shape, strides, &L) != MCRLE_OK || L.size == 0)
        return 0;
    enc_par t;
    size_t total;
    enc_plan(&L, mcrle_band_count(&L, n_threads), capacity, caps, &t, &total);
    return total;
}

size_t mcrle_encode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                 const ptrdiff_t *strides, size_t n_runs)
{
    return mcrle_encode_scratch_size_mt(elem_size, ndim, shape, strides, n_runs, NULL, 1);
}

mcrle_result mcrle_encode_mt(const void *data, size_t elem_size, int ndim, const size_t *shape,
                             const ptrdiff_t *strides, void *values, uint64_t *counts,
                             size_t capacity, size_t *n_runs, void *scratch, size_t scratch_size,
                             const size_t *caps, size_t *band_runs, unsigned n_threads)
{
    mcrle_layout L;
    SAFETY_CHECK(n_runs != NULL, MCRLE_ERR_ARG);
    *n_runs = 0;
    mcrle_result r = mcrle_normalize(elem_size, ndim, shape, strides, &L);
    if (r != MCRLE_OK) return r;
    if (L.size == 0) return MCRLE_OK;
    SAFETY_CHECK(data != NULL, MCRLE_ERR_ARG);
    unsigned bands = mcrle_band_count(&L, n_threads);
    if (caps) {   /* a plan from band_runs: it must fit the capacity */
        size_t sum = 0;
        for (unsigned b = 0; b < bands; b++) {
            SAFETY_CHECK(caps[b] <= capacity - sum, MCRLE_ERR_ARG);
            sum += caps[b];
        }
    }
    SAFETY_CHECK(capacity == 0 || (values != NULL && counts != NULL), MCRLE_ERR_ARG);
    enc_par t;
    size_t need;
    enc_plan(&L, bands, capacity, caps, &t, &need);
    SAFETY_CHECK(need != SIZE_MAX && scratch_size >= need && (scratch != NULL || need == 0),
                 MCRLE_ERR_NOSPACE);
    t.data = (const unsigned char *)data;
    t.L = &L;
    t.values = (unsigned char *)values;
    t.counts = counts;
    t.scratch = (unsigned char *)scratch;
    t.bands = bands;
    if (band_runs)
        for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) band_runs[b] = 0;
    if (bands == 1) {
        r = encode_band(t.data, &L, values, counts, capacity, n_runs, scratch);
        if (r == MCRLE_ERR_NOSPACE && band_runs) count_runs_layout(t.data, &L, band_runs);
        if (r != MCRLE_OK) *n_runs = 0;
        return r;
    }
    mcrle_parallel_for(n_threads, bands, enc_band, &t);
    r = MCRLE_OK;
    for (unsigned b = 0; b < bands; b++)
        if (t.band_result[b] != MCRLE_OK) r = t.band_result[b];
    if (r == MCRLE_ERR_NOSPACE && band_runs)
        for (unsigned b = 0; b < bands; b++) band_runs[b] = t.got[b];
    if (r != MCRLE_OK) return r;
    int parallel;
    size_t total = enc_join_plan(&t, &parallel);
    if (parallel) mcrle_parallel_for(n_threads, bands, enc_move, &t);
    else for (unsigned b = 1; b < bands; b++) enc_move(&t, b);
    for (unsigned b = 1; b < bands; b++)   /* merged first runs join the run before, in order */
        if (t.skip[b]) t.counts[t.dest[b]] += t.carry[b];
    *n_runs = total;
    return MCRLE_OK;
}

mcrle_result mcrle_encode(const void *data, size_t elem_size, int ndim,
                          const size_t *shape, const ptrdiff_t *strides,
                          void *values, uint64_t *counts, size_t capacity,
                          size_t *n_runs, void *scratch, size_t scratch_size)
{
    return mcrle_encode_mt(data, elem_size, ndim, shape, strides, values, counts, capacity, n_runs,
                           scratch, scratch_size, NULL, NULL, 1);
}
