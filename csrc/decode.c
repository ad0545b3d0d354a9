/*
 * decode.c - runs -> array, for any output layout.
 *
 *   column: runs are laid down each column (axis 0) in turn; a Fortran-ordered
 *           output is one contiguous column, so this is a memset per run.
 *   slab:   C-ordered output (2+ dims). Writing down columns would touch one
 *           cache line per element, so instead slab 0 is written from the
 *           runs that cover it, and every later slab is the one above it,
 *           patched where a run starts in that slab (kept in a scratch slab). Those run
 *           starts are bucketed by slab with a counting sort, O(runs + rows).
 *
 * Every count and every value is read once, into a local, and each count is
 * checked (positive, within the elements left) before anything depends on
 * it: the buffers may be shared with a thread that writes into them, and a
 * count read twice could pass the check and then be used larger.
 */
#include "internal.h"

mcrle_result mcrle_count_error(const uint64_t *counts, size_t n_runs, size_t k, uint64_t c,
                               uint64_t done, mcrle_error_info *info)
{
    if (c == 0) {
        if (info) { info->index = k; info->sum = done; }
        return MCRLE_ERR_ZERO_COUNT;
    }
    if (info) {
        /* the full (saturated) sum: more useful in messages; the counts after
         * k are read for it only, never to decide a memory access */
        uint64_t t = c > UINT64_MAX - done ? UINT64_MAX : done + c;
        for (size_t i = k + 1; i < n_runs && t != UINT64_MAX; i++)
            t = counts[i] > UINT64_MAX - t ? UINT64_MAX : t + counts[i];
        info->index = k;
        info->sum = t;
    }
    return MCRLE_ERR_COUNTS_LONG;
}

mcrle_result mcrle_counts_short(size_t n_runs, uint64_t done, mcrle_error_info *info)
{
    if (info) { info->index = n_runs; info->sum = done; }
    return MCRLE_ERR_COUNTS_SHORT;
}

/* The precise check, run only when the fast one below sees a problem. */
static mcrle_result check_counts_slow(const uint64_t *counts, size_t n_runs, uint64_t size,
                                      mcrle_error_info *info)
{
    uint64_t left = size;
    for (size_t i = 0; i < n_runs; i++) {
        uint64_t c = counts[i];
        if (MCRLE_COUNT_BAD(c, left))
            return mcrle_count_error(counts, n_runs, i, c, size - left, info);
        left -= c;
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    return MCRLE_OK;
}

mcrle_result mcrle_check_counts(const uint64_t *counts, size_t n_runs, uint64_t size,
                                mcrle_error_info *info)
{
    SAFETY_CHECK(n_runs == 0 || counts != NULL, MCRLE_ERR_ARG);
    /*
     * Fast check without early exits (the compiler vectorises it): no count
     * is zero, none reaches 2^40 (so 2^24 of them cannot overflow the sum),
     * and they sum to size. Anything else goes to the precise check. (A
     * check only: the kernels that use counts check each one as they read
     * it, and never rely on this having been called.)
     */
    if (n_runs < ((size_t)1 << 24)) {
        uint64_t sum = 0, zero = 0, big = 0;
        for (size_t i = 0; i < n_runs; i++) {
            uint64_t c = counts[i];
            sum += c;
            zero |= (uint64_t)(c == 0);
            big |= c >> 40;
        }
        if (!zero && !big && sum == size) return MCRLE_OK;
    }
    return check_counts_slow(counts, n_runs, size, info);
}

/* Fills n elements from p with byte stride s. */
MCRLE_INLINE void fill(unsigned char *p, size_t n, ptrdiff_t s, uint64_t v, size_t E)
{
    if (s == (ptrdiff_t)E) {
        switch (E) {
        case 1: memset(p, (int)v, n); break;
        case 2: { uint16_t x = (uint16_t)v, *q = (uint16_t *)(void *)p;
                  if (((uintptr_t)p & 1) == 0) { for (size_t i = 0; i < n; i++) q[i] = x; break; }
                  for (size_t i = 0; i < n; i++) memcpy(p + 2 * i, &x, 2);
                  break; }
        case 4: { uint32_t x = (uint32_t)v, *q = (uint32_t *)(void *)p;
                  if (((uintptr_t)p & 3) == 0) { for (size_t i = 0; i < n; i++) q[i] = x; break; }
                  for (size_t i = 0; i < n; i++) memcpy(p + 4 * i, &x, 4);
                  break; }
        default: { uint64_t *q = (uint64_t *)(void *)p;
                   if (((uintptr_t)p & 7) == 0) { for (size_t i = 0; i < n; i++) q[i] = v; break; }
                   for (size_t i = 0; i < n; i++) memcpy(p + 8 * i, &v, 8);
                   break; }
        }
        return;
    }
    for (size_t i = 0; i < n; i++, p += s) mcrle_store(p, v, E);
}

/* The column walk; counts checked as they are read (out may be partly written on error). */
MCRLE_INLINE mcrle_result column_decode(const unsigned char *values, const uint64_t *counts,
                                        size_t n_runs, const mcrle_layout *L, unsigned char *out,
                                        mcrle_error_info *info, size_t E)
{
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 0);
    size_t H = L->shape[0], r = 0;
    const uint64_t size = (uint64_t)L->size;
    uint64_t left = size;
    ptrdiff_t s = L->strides[0];
    for (size_t k = 0; k < n_runs; k++) {
        uint64_t c = counts[k];
        if (MCRLE_COUNT_BAD(c, left)) return mcrle_count_error(counts, n_runs, k, c, size - left, info);
        left -= c;   /* so the columns below end at or before the last one */
        uint64_t v = mcrle_load(values + k * E, E);
        while (c) {
            size_t take = (uint64_t)(H - r) < c ? H - r : (size_t)c;
            fill(out + o.offset + (ptrdiff_t)r * s, take, s, v, E);
            c -= take;
            r += take;
            if (r == H) { r = 0; mcrle_odometer_next(&o); }
        }
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    return MCRLE_OK;
}

/*
 * Scratch, in 8-byte words: each run's value (n) and the values of the run
 * starts bucketed by slab (n), then row starts (H+1), run start row and
 * column (n each) and the bucketed starts' columns (n), then one slab of
 * elements (the running copy of the current slab).
 */
static size_t slab_scratch(const mcrle_layout *L, size_t n_runs)
{
    size_t H = L->shape[0], slab_bytes = mcrle_slab_width(L) * L->elem;
    if (n_runs > SIZE_MAX / 64 || H > SIZE_MAX / 32 || slab_bytes > SIZE_MAX / 4) return SIZE_MAX;
    return 2 * n_runs * sizeof(uint64_t) + (H + 1 + 3 * n_runs) * sizeof(size_t) + slab_bytes;
}

/*
 * Step 1 of slab_decode, with NEXT_COL advancing and COL reading the column
 * offset. Each count is checked as it is read, against what is left of the
 * size, so the walk never passes the last column (or row H) whatever the
 * buffer holds by now; each value is read once, into run_val.
 */
#define WALK_SLAB_RUNS(NEXT_COL, COL)                                          \
    do {                                                                       \
        size_t r = 0, col = 0;                                                 \
        (void)col;                                                             \
        for (size_t k = 0; k < n_runs; k++) {                                  \
            uint64_t c = counts[k];                                            \
            if (MCRLE_COUNT_BAD(c, left))                                      \
                return mcrle_count_error(counts, n_runs, k, c, size - left, info); \
            left -= c;                                                         \
            uint64_t v = mcrle_load(values + k * E, E);                        \
            run_val[k] = v;                                                    \
            run_row[k] = r;                                                    \
            run_col[k] = (COL);                                                \
            if (r == 0) mcrle_store(slab + (COL) * E, v, E);                   \
            else row_start[r + 1]++;                                           \
            if (c < (uint64_t)(H - r)) { r += (size_t)c; continue; }           \
            c -= H - r;                                                        \
            r = 0;                                                             \
            NEXT_COL;                                                          \
            while (c > 0) {   /* the run covers the top of the next column(s) */ \
                mcrle_store(slab + (COL) * E, v, E);                           \
                if (c < (uint64_t)H) { r = (size_t)c; break; }                 \
                c -= H;                                                        \
                NEXT_COL;                                                      \
            }                                                                  \
        }                                                                      \
    } while (0)

/* Writes out only when every count was good: out is untouched on error. */
MCRLE_INLINE mcrle_result slab_decode(const unsigned char *values, const uint64_t *counts,
                                      size_t n_runs, const mcrle_layout *L, unsigned char *out,
                                      mcrle_error_info *info, void *scratch, size_t E)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L);
    const uint64_t size = (uint64_t)L->size;
    uint64_t left = size;
    ptrdiff_t s0 = L->strides[0];
    uint64_t *run_val = (uint64_t *)scratch;     /* n_runs: the value of run k */
    uint64_t *ev_val = run_val + n_runs;         /* n_runs: run starts' values, by slab */
    size_t *row_start = (size_t *)(void *)(ev_val + n_runs);   /* H + 1 */
    size_t *run_row = row_start + H + 1;         /* n_runs: slab where run k starts */
    size_t *run_col = run_row + n_runs;          /* n_runs: its offset inside the slab */
    size_t *ev_col = run_col + n_runs;           /* n_runs: run starts bucketed by slab */
    unsigned char *slab = (unsigned char *)(ev_col + n_runs);  /* W * E */
    memset(row_start, 0, (H + 1) * sizeof(size_t));

    /*
     * 1. One walk over the runs: slab 0 is written from the runs covering
     * the top of each column; every other run start is counted for its slab.
     */
    if (L->ndim == 2) {   /* one column axis: the column offset is the column number */
        WALK_SLAB_RUNS(col++, col);
    } else {
        mcrle_odometer o;
        mcrle_odometer_init(&o, L, 1);
        WALK_SLAB_RUNS(mcrle_odometer_next(&o), (size_t)o.offset);
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    /* 2. bucket the run starts by slab (counting sort; stable) */
    for (size_t i = 0; i < H; i++) row_start[i + 1] += row_start[i];
    for (size_t k = 0; k < n_runs; k++) {
        if (run_row[k] == 0) continue;
        size_t slot = row_start[run_row[k]]++;
        ev_col[slot] = run_col[k];
        ev_val[slot] = run_val[k];
    }
    /* row_start[i] is now the end of slab i's events, the start of slab i+1's */
    /*
     * 3. Keep the current slab in scratch (it stays in L1/L2): patch it where
     * runs start, then copy it out. Copying from the output's previous slab
     * instead would read what was just written, which is twice as slow.
     */
    size_t e = row_start[0];
    memcpy(out, slab, W * E);
    for (size_t i = 1; i < H; i++) {
        for (; e < row_start[i]; e++) mcrle_store(slab + ev_col[e] * E, ev_val[e], E);
        memcpy(out + (ptrdiff_t)i * s0, slab, W * E);
    }
    return MCRLE_OK;
}

size_t mcrle_decode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                 const ptrdiff_t *strides, size_t n_runs)
{
    mcrle_layout L;
    if (mcrle_normalize(elem_size, ndim, shape, strides, &L) != MCRLE_OK || L.size == 0)
        return 0;
    return mcrle_is_slab(&L) ? slab_scratch(&L, n_runs) : 0;
}

mcrle_result mcrle_decode(const void *values, const uint64_t *counts, size_t n_runs,
                          size_t elem_size, int ndim, const size_t *shape,
                          const ptrdiff_t *strides, void *out,
                          void *scratch, size_t scratch_size, mcrle_error_info *info)
{
    mcrle_layout L;
    mcrle_result r = mcrle_normalize(elem_size, ndim, shape, strides, &L);
    if (r != MCRLE_OK) return r;
    SAFETY_CHECK(n_runs == 0 || counts != NULL, MCRLE_ERR_ARG);
    if (L.size == 0) {   /* nothing to write: only the counts to check */
        if (n_runs) return mcrle_count_error(counts, n_runs, 0, counts[0], 0, info);
        return MCRLE_OK;
    }
    SAFETY_CHECK(values != NULL && out != NULL, MCRLE_ERR_ARG);
    const unsigned char *v = (const unsigned char *)values;
    unsigned char *o = (unsigned char *)out;
    if (mcrle_is_slab(&L)) {
        SAFETY_CHECK(scratch != NULL && scratch_size >= slab_scratch(&L, n_runs),
                     MCRLE_ERR_NOSPACE);
        MCRLE_DISPATCH_ELEM(L.elem, r = slab_decode(v, counts, n_runs, &L, o, info, scratch, E_));
    } else {
        MCRLE_DISPATCH_ELEM(L.elem, r = column_decode(v, counts, n_runs, &L, o, info, E_));
    }
    return r;
}
