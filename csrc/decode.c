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
#include "mcrle_threads.h"

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

/* ---- filling a run ---------------------------------------------------------- */

/*
 * A run is written in whole 64-byte blocks of its element pattern when at
 * least 64 more bytes of the same contiguous column follow it: the bytes past
 * its end are written again by the runs after it (each run starts exactly
 * where the one before ended, and the last writer of an element is the run
 * holding it). Most runs of a label map are short, so this costs one store
 * loop iteration and no size-dependent branch of memset.
 */
#if MCRLE_SSE2
typedef __m128i elem_pattern;
MCRLE_INLINE elem_pattern pattern_of(uint64_t v, size_t E)
{
    switch (E) {
    case 1: return _mm_set1_epi8((char)v);
    case 2: return _mm_set1_epi16((short)v);
    case 4: return _mm_set1_epi32((int)v);
    default: return _mm_set1_epi64x((long long)v);
    }
}
MCRLE_INLINE void store64(unsigned char *p, elem_pattern v)
{
    _mm_storeu_si128((__m128i *)(void *)p, v);
    _mm_storeu_si128((__m128i *)(void *)(p + 16), v);
    _mm_storeu_si128((__m128i *)(void *)(p + 32), v);
    _mm_storeu_si128((__m128i *)(void *)(p + 48), v);
}
#else
typedef uint64_t elem_pattern;
MCRLE_INLINE elem_pattern pattern_of(uint64_t v, size_t E)
{
    switch (E) {   /* the element repeated in a native 64-bit word */
    case 1: return (v & 0xffu) * 0x0101010101010101u;
    case 2: return (v & 0xffffu) * 0x0001000100010001u;
    case 4: return (v & 0xffffffffu) * 0x0000000100000001u;
    default: return v;
    }
}
MCRLE_INLINE void store64(unsigned char *p, elem_pattern v)
{
    for (int i = 0; i < 8; i++) memcpy(p + 8 * i, &v, 8);
}
#endif

/* Fills n contiguous elements exactly. */
MCRLE_INLINE void fill_exact(unsigned char *p, size_t n, uint64_t v, size_t E)
{
    switch (E) {
    case 1: memset(p, (int)(v & 0xff), n); break;
    case 2: { uint16_t x = (uint16_t)v; for (size_t i = 0; i < n; i++) memcpy(p + 2 * i, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; for (size_t i = 0; i < n; i++) memcpy(p + 4 * i, &x, 4); break; }
    default: for (size_t i = 0; i < n; i++) memcpy(p + 8 * i, &v, 8); break;
    }
}

/* Fills nb bytes (whole elements) at p; room: bytes of the column from p on (>= nb). */
MCRLE_INLINE void fill_run(unsigned char *p, size_t nb, uint64_t v, size_t E, size_t room)
{
    if (MCRLE_LIKELY(room - nb >= 64)) {
        elem_pattern pv = pattern_of(v, E);
        unsigned char *q = p, *e = p + nb;
        do { store64(q, pv); q += 64; } while (q < e);
    } else {
        fill_exact(p, nb / E, v, E);
    }
}

/* Fills n elements from p with byte stride s (room: bytes of the column from p, if s == E). */
MCRLE_INLINE void fill(unsigned char *p, size_t n, ptrdiff_t s, uint64_t v, size_t E, size_t room)
{
    if (s == (ptrdiff_t)E) fill_run(p, n * E, v, E, room);
    else for (size_t i = 0; i < n; i++, p += s) mcrle_store(p, v, E);
}

/*
 * Writes c elements of value v down the columns (axis 0, H rows of stride
 * s) from row r of the column the odometer o is at, moving o to the next
 * column at each column's end; returns the row it stopped at. avail: the
 * elements from there on that the caller may write (>= c; a band on
 * several threads ends inside a column, and a contiguous fill must not
 * write past it), UINT64_MAX for the rest of the array.
 */
MCRLE_INLINE size_t fill_down(unsigned char *out, mcrle_odometer *o, size_t r, size_t H,
                              ptrdiff_t s, uint64_t c, uint64_t v, size_t E, uint64_t avail)
{
    while (c) {
        size_t take = (uint64_t)(H - r) < c ? H - r : (size_t)c;
        size_t room = (uint64_t)(H - r) < avail ? H - r : (size_t)avail;
        fill(out + o->offset + (ptrdiff_t)r * s, take, s, v, E, room * E);
        c -= take;
        avail -= take;
        r += take;
        if (r == H) { r = 0; mcrle_odometer_next(o); }
    }
    return r;
}

#if defined(MCRLE_AVX2_DISPATCH)
/*
 * One contiguous column (Fortran order) with AVX2: as column_decode's loop,
 * a run's 64-byte blocks written as two 32-byte stores instead of four of 16
 * (most runs of a label map are one block: half the stores per run).
 */
__attribute__((always_inline, target("avx2"))) static inline mcrle_result
contiguous_body_avx2(const unsigned char *values, const uint64_t *counts, size_t n_runs,
                     unsigned char *out, uint64_t size, mcrle_error_info *info, size_t E)
{
    unsigned char *p = out, *end = out + size * E;
    uint64_t left = size;
    for (size_t k = 0; k < n_runs; k++) {
        uint64_t c = counts[k];
        if (MCRLE_COUNT_BAD(c, left)) return mcrle_count_error(counts, n_runs, k, c, size - left, info);
        left -= c;
        uint64_t v = mcrle_load(values + k * E, E);
        size_t nb = (size_t)c * E;
        if (MCRLE_LIKELY((size_t)(end - p) - nb >= 64)) {
            __m256i pv;
            switch (E) {
            case 1: pv = _mm256_set1_epi8((char)v); break;
            case 2: pv = _mm256_set1_epi16((short)v); break;
            case 4: pv = _mm256_set1_epi32((int)v); break;
            default: pv = _mm256_set1_epi64x((long long)v); break;
            }
            unsigned char *q = p, *e = p + nb;
            do {
                _mm256_storeu_si256((__m256i *)(void *)q, pv);
                _mm256_storeu_si256((__m256i *)(void *)(q + 32), pv);
                q += 64;
            } while (q < e);
        } else {
            fill_exact(p, nb / E, v, E);
        }
        p += nb;
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    return MCRLE_OK;
}

__attribute__((target("avx2"))) static mcrle_result
contiguous_decode_avx2(const unsigned char *values, const uint64_t *counts, size_t n_runs,
                       unsigned char *out, uint64_t size, mcrle_error_info *info, size_t E)
{
    mcrle_result r;
    MCRLE_DISPATCH_ELEM(E, r = contiguous_body_avx2(values, counts, n_runs, out, size, info, E_));
    return r;
}
#endif

/*
 * The one-thread column walk over the caller's runs; each count checked as
 * it is read (out may be partly written on error), each value read once.
 */
MCRLE_INLINE mcrle_result column_decode(const unsigned char *values, const uint64_t *counts,
                                        size_t n_runs, const mcrle_layout *L, unsigned char *out,
                                        mcrle_error_info *info, size_t E)
{
    size_t H = L->shape[0], r = 0;
    const uint64_t size = (uint64_t)L->size;
    uint64_t left = size;
    ptrdiff_t s = L->strides[0];
    if (L->ndim == 1 && s == (ptrdiff_t)E) {   /* one contiguous column (Fortran order) */
#if defined(MCRLE_AVX2_DISPATCH)
        if (mcrle_use_avx2()) return contiguous_decode_avx2(values, counts, n_runs, out, size, info, E);
#endif
        unsigned char *p = out, *end = out + size * E;
        for (size_t k = 0; k < n_runs; k++) {
            uint64_t c = counts[k];
            if (MCRLE_COUNT_BAD(c, left)) return mcrle_count_error(counts, n_runs, k, c, size - left, info);
            left -= c;
            fill_run(p, (size_t)c * E, mcrle_load(values + k * E, E), E, (size_t)(end - p));
            p += (size_t)c * E;
        }
        if (left) return mcrle_counts_short(n_runs, size - left, info);
        return MCRLE_OK;
    }
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 0);
    for (size_t k = 0; k < n_runs; k++) {
        uint64_t c = counts[k];
        if (MCRLE_COUNT_BAD(c, left)) return mcrle_count_error(counts, n_runs, k, c, size - left, info);
        left -= c;   /* so the columns below end at or before the last one */
        r = fill_down(out, &o, r, H, s, c, mcrle_load(values + k * E, E), E, UINT64_MAX);
    }
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    return MCRLE_OK;
}

/*
 * A band: elements [e0, e1) of the run sequence (any place, not whole
 * columns), the piece of the output one task writes on several threads.
 * Its first run is `first`, entered `skip` elements in; the next band's
 * start says where its last run ends. Bands read the private copy of the
 * runs that the first pass of mcrle_decode_mt made and checked (never the
 * caller's buffers again).
 */
typedef struct band {
    size_t first;
    uint64_t skip;
} band;

/* Moves o (at column 0) to the column holding element e of L, and returns e's row. */
static size_t odometer_seek(mcrle_odometer *o, const mcrle_layout *L, uint64_t e)
{
    size_t H = L->shape[0];
    uint64_t col = e / H;
    for (int a = 0; a < o->n; a++) {
        o->idx[a] = (size_t)(col % o->shape[a]);
        col /= o->shape[a];
        o->offset += (ptrdiff_t)o->idx[a] * o->step[a];
    }
    return (size_t)(e % H);
}

/*
 * Band [e0, e1) of L: runs b->first (entered b->skip elements in) to
 * next->first, of which next->skip elements are the band's (0: the band
 * ends with the run before). One contiguous column writes the runs
 * between the first and the last with column_decode's loop (whole runs:
 * no clipping there), and nothing past e1, which the next band writes at
 * the same time.
 */
MCRLE_INLINE void band_column_decode(const unsigned char *values, const uint64_t *counts,
                                     const band *b, const band *next, uint64_t e0, uint64_t e1,
                                     const mcrle_layout *L, unsigned char *out, size_t E)
{
    uint64_t left = e1 - e0;
    size_t k = b->first;
    if (L->ndim == 1 && L->strides[0] == (ptrdiff_t)E) {
        unsigned char *p = out + e0 * E, *end = out + e1 * E;
        uint64_t c = counts[k] - b->skip;   /* the first run, maybe the whole band */
        if (c > left) c = left;
        fill_run(p, (size_t)c * E, mcrle_load(values + k * E, E), E, (size_t)(end - p));
        p += c * E;
        left -= c;
        k++;
        if (k < next->first) {   /* whole runs */
            mcrle_layout M = *L;
            mcrle_error_info ignored;
            M.shape[0] = M.size = (size_t)(left - next->skip);
            (void)column_decode(values + k * E, counts + k, next->first - k, &M, p, &ignored, E);
            p += M.size * E;
            left = next->skip;
            k = next->first;
        }
        if (left) fill_run(p, (size_t)left * E, mcrle_load(values + k * E, E), E, (size_t)(end - p));
        return;
    }
    size_t H = L->shape[0];
    ptrdiff_t s = L->strides[0];
    mcrle_odometer o;
    mcrle_odometer_init(&o, L, 0);
    size_t r = odometer_seek(&o, L, e0);
    for (uint64_t skip = b->skip; left; k++, skip = 0) {
        uint64_t c = counts[k] - skip;
        if (c > left) c = left;
        r = fill_down(out, &o, r, H, s, c, mcrle_load(values + k * E, E), E, left);
        left -= c;
    }
}

/*
 * Slab layouts: 2+ axes, the last one contiguous (C-ordered arrays, their
 * crops, and bands of their last axis). A slab is one index of axis 0: the
 * slab decoder keeps it as a C-ordered block of W elements in scratch and
 * copies it out, in one piece when the slab is contiguous in the output,
 * else one row of the last axis at a time.
 */
MCRLE_INLINE int slab_like(const mcrle_layout *L)
{
    return L->ndim >= 2 && L->strides[L->ndim - 1] == (ptrdiff_t)L->elem;
}

/* L's slab axes with contiguous C-order strides (the scratch slab), axis 0 stepping whole slabs. */
static void slab_scratch_layout(const mcrle_layout *L, mcrle_layout *S)
{
    *S = *L;
    ptrdiff_t st = (ptrdiff_t)L->elem;
    for (int a = L->ndim - 1; a >= 1; a--) {
        S->strides[a] = st;
        st *= (ptrdiff_t)L->shape[a];
    }
    S->strides[0] = st;
}

/* Copies the scratch slab (C order, W elements) to the output slab at dst. */
static void slab_copy_out(unsigned char *dst, const unsigned char *slab, const mcrle_layout *L,
                          size_t W, int contiguous)
{
    size_t E = L->elem;
    if (contiguous) { memcpy(dst, slab, W * E); return; }
    int nd = L->ndim;
    size_t row = L->shape[nd - 1] * E, idx[MCRLE_MAX_NDIM];
    for (int a = 1; a < nd - 1; a++) idx[a] = 0;
    ptrdiff_t off = 0;
    for (size_t done = 0; done < W * E; done += row) {
        memcpy(dst + off, slab + done, row);
        for (int a = nd - 2; a >= 1; a--) {   /* C order over the row axes */
            off += L->strides[a];
            if (++idx[a] < L->shape[a]) break;
            off -= L->strides[a] * (ptrdiff_t)L->shape[a];
            idx[a] = 0;
        }
    }
}

/*
 * Packed records: when an element has at most 4 bytes and a slab, the rows
 * and the runs each number fewer than 2^32, a run start is one 64-bit record
 * (its offset in the slab, its value << 32) and its slab a 32-bit number, so
 * the sort moves half the bytes of the general layout (C bench, Zen 4, into
 * C order with the functions split as below: CamVid 20.3 -> 14.9 us a map,
 * ADE20K 23.0 -> 18.7, COCO panoptic 30.0 -> 25.8, the 1024x2048 map 91 -> 70).
 */
MCRLE_INLINE int slab_packed(const mcrle_layout *L, size_t n_runs)
{
    return L->elem <= 4 && (uint64_t)mcrle_slab_width(L) <= UINT32_MAX &&
           (uint64_t)n_runs < UINT32_MAX && (uint64_t)L->shape[0] < UINT32_MAX;
}

/*
 * Scratch. Packed: the records of the runs (n) and of the run starts
 * bucketed by slab (n), 8 bytes each; then slab starts (H + 1) and each
 * run's slab (n), 4 bytes each. General, in 8-byte words: each run's value
 * (n) and the values of the run starts bucketed by slab (n), then slab
 * starts (H+1), run start slab and offset (n each) and the bucketed starts'
 * offsets (n). Both end with one slab of elements (the running copy of the
 * current slab).
 */
/* Bytes of the packed layout's 4-byte numbers (slab starts, each run's slab), rounded to 8. */
MCRLE_INLINE size_t packed_ints_bytes(size_t H, size_t n_runs)
{
    return ((H + 1 + n_runs) * sizeof(uint32_t) + 7) & ~(size_t)7;
}

static size_t slab_scratch(const mcrle_layout *L, size_t n_runs)
{
    size_t H = L->shape[0], slab_bytes = mcrle_slab_width(L) * L->elem;
    if (n_runs > SIZE_MAX / 64 || H > SIZE_MAX / 32 || slab_bytes > SIZE_MAX / 4) return SIZE_MAX;
    slab_bytes = (slab_bytes + 7) & ~(size_t)7;
    if (slab_packed(L, n_runs))
        return 2 * n_runs * sizeof(uint64_t) + packed_ints_bytes(H, n_runs) + slab_bytes;
    return 2 * n_runs * sizeof(uint64_t) + (H + 1 + 3 * n_runs) * sizeof(size_t) + slab_bytes;
}

/*
 * Step 1 of slab_decode, with NEXT_COL advancing, COL reading the column's
 * offset in the slab and RECORD keeping run k (value v, starting in slab r
 * at offset `at`) for the sort. Each count is checked as it is read, against
 * what is left of the size, so the walk never passes the last column (or row
 * H) whatever the buffer holds by now; each value is read once, into v.
 */
#define WALK_SLAB_RUNS(NEXT_COL, COL, RECORD)                                  \
    do {                                                                       \
        size_t r = 0, col = 0;                                                 \
        (void)col;                                                             \
        for (size_t k = 0; k < n_runs; k++) {                                  \
            uint64_t c = counts[k];                                            \
            if (MCRLE_COUNT_BAD(c, left))                                      \
                return mcrle_count_error(counts, n_runs, k, c, size - left, info); \
            left -= c;                                                         \
            uint64_t v = mcrle_load(values + k * E, E);                        \
            size_t at = (COL);                                                 \
            RECORD;                                                            \
            row_start[r + 1]++;                                                \
            if (r == 0) mcrle_store(slab + at * E, v, E);                      \
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

/* The walk for L: the column's offset is its number when there is one column axis (two_d). */
#define WALK_SLAB(RECORD)                                                      \
    do {                                                                       \
        if (two_d) {                                                           \
            WALK_SLAB_RUNS(col++, col, RECORD);                                \
        } else {                                                               \
            mcrle_odometer o;                                                  \
            mcrle_odometer_init(&o, &S, 1);                                    \
            WALK_SLAB_RUNS(mcrle_odometer_next(&o), (size_t)o.offset, RECORD); \
        }                                                                      \
    } while (0)

/*
 * Step 3 of slab_decode, with row_start[i] the end of slab i's run starts
 * and PATCH writing start e into the scratch slab. The scratch slab stays in
 * L1/L2: it is patched where runs start, then copied out. Copying from the
 * output's previous slab instead would read what was just written, which is
 * twice as slow.
 */
#define PATCH_SLABS(PATCH)                                                     \
    do {                                                                       \
        size_t e = row_start[0];   /* slab 0 was written by the walk */        \
        slab_copy_out(out, slab, L, W, contiguous);                            \
        for (size_t i = 1; i < H; i++) {                                       \
            for (; e < row_start[i]; e++) PATCH;                               \
            slab_copy_out(out + (ptrdiff_t)i * s0, slab, L, W, contiguous);    \
        }                                                                      \
    } while (0)

/*
 * The whole array on one thread: walk, sort and patch as the comment of the
 * scratch says (on several threads rows_decode). Writes out only when every
 * count was good: out is untouched on error.
 *   1. One walk over the runs: slab 0 is written from the runs covering the
 *      top of each column; each run start is recorded and counted for its slab.
 *   2. The run starts are bucketed by slab (a counting sort; stable).
 *   3. Each slab is the one above it patched where runs start (PATCH_SLABS).
 */
MCRLE_INLINE mcrle_result slab_decode(const unsigned char *values, const uint64_t *counts,
                                      size_t n_runs, const mcrle_layout *L, unsigned char *out,
                                      mcrle_error_info *info, void *scratch, size_t E,
                                      int two_d)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L);
    const uint64_t size = (uint64_t)L->size;
    uint64_t left = size;
    ptrdiff_t s0 = L->strides[0];
    mcrle_layout S;
    slab_scratch_layout(L, &S);
    int contiguous = 1;
    for (int a = 1; a < L->ndim; a++) contiguous &= S.strides[a] == L->strides[a];

    if (E <= 4 && slab_packed(L, n_runs)) {
        uint64_t *run_rec = (uint64_t *)scratch;     /* n_runs: offset | value << 32 */
        uint64_t *ev_rec = run_rec + n_runs;         /* n_runs: the records by slab */
        uint32_t *row_start = (uint32_t *)(void *)(ev_rec + n_runs);   /* H + 1 */
        uint32_t *run_row = row_start + H + 1;       /* n_runs: slab where run k starts */
        unsigned char *slab = (unsigned char *)(ev_rec + n_runs) + packed_ints_bytes(H, n_runs);
        memset(row_start, 0, (H + 1) * sizeof(uint32_t));
        WALK_SLAB(run_rec[k] = (uint64_t)at | v << 32; run_row[k] = (uint32_t)r);
        if (left) return mcrle_counts_short(n_runs, size - left, info);
        for (size_t i = 0; i < H; i++) row_start[i + 1] += row_start[i];
        for (size_t k = 0; k < n_runs; k++) ev_rec[row_start[run_row[k]]++] = run_rec[k];
        PATCH_SLABS(mcrle_store(slab + (size_t)(uint32_t)ev_rec[e] * E, ev_rec[e] >> 32, E));
        return MCRLE_OK;
    }
    uint64_t *run_val = (uint64_t *)scratch;     /* n_runs: the value of run k */
    uint64_t *ev_val = run_val + n_runs;         /* n_runs: run starts' values, by slab */
    size_t *row_start = (size_t *)(void *)(ev_val + n_runs);   /* H + 1 */
    size_t *run_row = row_start + H + 1;         /* n_runs: slab where run k starts */
    size_t *run_col = run_row + n_runs;          /* n_runs: its offset inside the slab */
    size_t *ev_col = run_col + n_runs;           /* n_runs: run starts bucketed by slab */
    unsigned char *slab = (unsigned char *)(ev_col + n_runs);  /* W * E */
    memset(row_start, 0, (H + 1) * sizeof(size_t));
    WALK_SLAB(run_val[k] = v; run_row[k] = r; run_col[k] = at);
    if (left) return mcrle_counts_short(n_runs, size - left, info);
    for (size_t i = 0; i < H; i++) row_start[i + 1] += row_start[i];
    for (size_t k = 0; k < n_runs; k++) {
        size_t slot = row_start[run_row[k]]++;
        ev_col[slot] = run_col[k];
        ev_val[slot] = run_val[k];
    }
    PATCH_SLABS(mcrle_store(slab + ev_col[e] * E, ev_val[e], E));
    return MCRLE_OK;
}

/*
 * slab_decode for each element size, 2D or not, each its own function: all
 * inlined into mcrle_decode_mt, the loops ran out of registers (the sort
 * reloaded three pointers from the stack for each run; C bench, CamVid into
 * C order, packed: 18.5 -> 14.9 us a map).
 */
#define SLAB_DECODE_FOR(E_, SUFFIX, TWO_D)                                      \
    MCRLE_NOINLINE mcrle_result slab_decode_##E_##SUFFIX(                      \
        const unsigned char *values, const uint64_t *counts, size_t n_runs,     \
        const mcrle_layout *L, unsigned char *out, mcrle_error_info *info, void *scratch) \
    {                                                                          \
        return slab_decode(values, counts, n_runs, L, out, info, scratch, E_, TWO_D); \
    }
SLAB_DECODE_FOR(1, _2d, 1)
SLAB_DECODE_FOR(2, _2d, 1)
SLAB_DECODE_FOR(4, _2d, 1)
SLAB_DECODE_FOR(8, _2d, 1)
SLAB_DECODE_FOR(1, _nd, 0)
SLAB_DECODE_FOR(2, _nd, 0)
SLAB_DECODE_FOR(4, _nd, 0)
SLAB_DECODE_FOR(8, _nd, 0)

/* ---- bands for several threads --------------------------------------------- */

/*
 * Band `id` of `n` of the slowest axis of L (a range of its last index):
 * [lo, hi) of L->shape[ndim - 1]. Bands of that axis are contiguous pieces
 * of the run sequence, and of the array's memory in every order.
 */
void mcrle_band_layout(const mcrle_layout *L, unsigned id, unsigned n, mcrle_layout *B,
                       ptrdiff_t *offset, uint64_t *first_elem)
{
    int last = L->ndim - 1;
    size_t K = L->shape[last], lo = K * id / n, hi = K * (id + 1) / n;
    *B = *L;
    B->shape[last] = hi - lo;
    B->size = L->size / K * (hi - lo);
    *offset = (ptrdiff_t)lo * L->strides[last];
    *first_elem = (uint64_t)(L->size / K) * lo;
}

/*
 * Bands for n_threads threads: two per thread, so that a thread that starts
 * late (or runs slower) leaves its second band to the others; at most one
 * per index of the slowest axis, at most MCRLE_MAX_BANDS; 1 for one thread.
 */
unsigned mcrle_band_count(const mcrle_layout *L, unsigned n_threads)
{
    size_t K = L->size ? L->shape[L->ndim - 1] : 1;
    if (n_threads <= 1) return 1;
    size_t n = n_threads > MCRLE_MAX_THREADS ? 2 * MCRLE_MAX_THREADS : 2 * (size_t)n_threads;
    if (n > MCRLE_MAX_BANDS) n = MCRLE_MAX_BANDS;
    return (unsigned)(K < n ? K : n);
}

/* ---- the private copy of the runs that several threads decode ---------------- */

/*
 * Decoding on several threads takes passes over the runs (sums, band starts,
 * the bands), so its first pass copies each count and value, read once from
 * the caller's buffers, into scratch; the checks and every later pass use
 * that copy: another thread writing into the caller's runs meanwhile cannot
 * make a later pass see counts other than those checked.
 */
static size_t own_runs_bytes(size_t n_runs, size_t E)
{
    return n_runs * sizeof(uint64_t) + ((n_runs * E + 7) & ~(size_t)7);
}

/* Runs [lo, hi) into the copy; their sum and whether the fast check holds for them. */
static void own_runs_chunk(const unsigned char *restrict values, const uint64_t *restrict counts,
                           unsigned char *restrict own_values, uint64_t *restrict own_counts,
                           size_t E, size_t lo, size_t hi, uint64_t *sum_out, int *ok_out)
{
    /* vectorised (restrict: the copy is scratch): a count of 0 sets the top bit of
       (x - 1) & ~x, which SSE2 computes without the 64-bit compare it lacks (x == 0
       made this loop 2.3 times slower than with this) */
    uint64_t sum = 0, zero = 0, any = 0;
    for (size_t i = lo; i < hi; i++) {
        uint64_t x = counts[i];
        own_counts[i] = x;
        sum += x;
        zero |= (x - 1) & ~x;
        any |= x;
    }
    memcpy(own_values + lo * E, values + lo * E, (hi - lo) * E);
    *sum_out = sum;
    *ok_out = !(zero >> 63) && !(any >> 40) && hi - lo < ((size_t)1 << 24);
}

/* ---- slab layouts on several threads: bands of rows ------------------------- */

/*
 * Bands of the slowest axis would make the threads write pieces of the same
 * rows of a C-ordered output, and short rows (volumes) share a cache line at
 * every band edge, which the cores then pass back and forth. So a slab
 * layout is cut by rows (axis 0) instead: band b writes rows [row0[b],
 * row0[b + 1]), its own memory. What it needs, its slab at its first row
 * (the values of the runs covering that row) and the run starts in its
 * other rows sorted by row, comes from one walk over the runs, which the
 * one-thread decoder does too, here split in chunks of runs:
 *   1. each chunk sums its counts; then the total is checked and each
 *      chunk's first element placed;
 *   2. each chunk walks its runs: it notes each run's start (row and slab
 *      offset), writes the value of every run that covers a band's first
 *      row into that band's first-row slab, and counts its starts per row;
 *      then the counts become each (row, chunk)'s place in one list of
 *      starts sorted by row (a counting sort, as the one-thread decoder's);
 *   3. each chunk copies its starts there;
 *   4. each band patches its slab row by row with its rows' starts and
 *      copies it out, as the one-thread decoder.
 * With few runs for the size (the copies are the work), steps 1-3 run on
 * the caller alone, as one chunk, and only step 4 is shared.
 */
#define ROWS_RUNS_PER_CHUNK 4096   /* fewer runs a thread: steps 1-3 on one thread */

/*
 * Where each chunk's elements start (pos), from the element counts its
 * runs summed (part; part_ok 0 where a count was bad): 1 when every chunk
 * was good and they cover size elements, else 0 (the caller then checks
 * the counts again to name the problem).
 */
static int chunk_starts(const uint64_t *part, const int *part_ok, unsigned chunks, uint64_t *pos,
                        uint64_t size)
{
    uint64_t total = 0;
    int ok = 1;
    for (unsigned c = 0; c < chunks; c++) {
        pos[c] = total;
        total += part[c];
        ok &= part_ok[c];
    }
    return ok && total == size;
}
typedef struct rows_par {
    const unsigned char *values;   /* after step 1: the private copies below */
    const uint64_t *counts;
    const unsigned char *src_values;   /* the caller's runs, read once, in step 1 */
    const uint64_t *src_counts;
    unsigned char *own_values;     /* n_runs elements: step 1's copy of the values */
    uint64_t *own_counts;          /* n_runs: step 1's copy of the counts */
    size_t n_runs;
    const mcrle_layout *L;
    mcrle_layout S;            /* the scratch slab's layout (C order) */
    unsigned char *out;
    unsigned bands, chunks;
    size_t row0[MCRLE_MAX_BANDS + 1];
    uint64_t part[MCRLE_MAX_BANDS], pos[MCRLE_MAX_BANDS];
    int part_ok[MCRLE_MAX_BANDS];
    size_t *rowcnt;            /* chunks x H: starts per row, then where they go */
    size_t *row_begin;         /* H + 1: where each row's starts begin in the sorted list */
    unsigned char *dense;      /* bands x W elements: first rows by column number (step 2) */
    unsigned char *init;       /* bands x W elements: the same by slab offset (step 4) */
    unsigned char *band_of;    /* H: the band of each row */
    int packed;                /* slab_packed: a record holds the value too */
    size_t *run_row;           /* step 2: the row where each run starts (H: none) */
    uint64_t *run_rec;         /* step 2: its slab offset (| value << 32 when packed) */
    uint64_t *srt_rec;         /* step 3: the records sorted by row */
    size_t *srt_run;           /* step 3: their runs (not packed, where the value is) */
} rows_par;

/*
 * Output bytes a band of rows needs to pay for its thread: the walk before the
 * bands is shared by chunks only with many runs, and below this the copies the
 * bands share are too short (bench_threads.py --crossover: 2 threads are 15%
 * slower on C-ordered uint8 maps of 0.04 to 2.8 MB, 1.5x faster at 8.4 MB).
 */
#ifdef MCRLE_ROWS_MIN_BYTES   /* the fuzzers' builds: bands of rows in small arrays */
#define ROWS_MIN_BYTES ((size_t)(MCRLE_ROWS_MIN_BYTES))
#else
#define ROWS_MIN_BYTES ((size_t)2 << 20)
#endif

static unsigned rows_band_count(const mcrle_layout *L, unsigned n_threads)
{
    size_t H = L->shape[0];
    if (n_threads <= 1 || mcrle_slab_width(L) < 16) return 1;   /* tall and thin: one thread */
    size_t n = n_threads > MCRLE_MAX_THREADS ? MCRLE_MAX_THREADS : n_threads;
    size_t by_size = L->size * L->elem / ROWS_MIN_BYTES;
    if (n > by_size) n = by_size ? by_size : 1;
    if (n > MCRLE_MAX_BANDS) n = MCRLE_MAX_BANDS;
    return (unsigned)(H < n ? H : n);
}

static unsigned rows_chunk_count(size_t n_runs, unsigned bands)
{
    return n_runs >= (size_t)ROWS_RUNS_PER_CHUNK * bands ? bands : 1;
}

static size_t rows_scratch(const mcrle_layout *L, size_t n_runs, unsigned bands)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L) * L->elem;
    unsigned chunks = rows_chunk_count(n_runs, bands);
    if (n_runs > SIZE_MAX / 64 || H > SIZE_MAX / 8 / (MCRLE_MAX_BANDS + 2) ||
        W > SIZE_MAX / 4 / MCRLE_MAX_BANDS)
        return SIZE_MAX;
    size_t per_run = 2 * sizeof(uint64_t) + (slab_packed(L, n_runs) ? 1 : 2) * sizeof(size_t);
    return ((size_t)chunks * H + H + 1) * sizeof(size_t) + 2 * bands * ((W + 7) & ~(size_t)7) +
           n_runs * per_run + ((H + 7) & ~(size_t)7) + own_runs_bytes(n_runs, L->elem);
}

/* An odometer over the slab's columns (Fortran order, offsets in slab elements) at column jf. */
static void odometer_at(mcrle_odometer *o, const mcrle_layout *S, uint64_t jf)
{
    mcrle_odometer_init(o, S, 1);
    for (int a = 0; a < o->n; a++) {
        o->idx[a] = (size_t)(jf % o->shape[a]);
        jf /= o->shape[a];
        o->offset += (ptrdiff_t)o->idx[a] * o->step[a];
    }
}

/*
 * Step 2 for chunk c. The walk keeps the band it is in and where that band
 * ends in the current column, so a run that ends inside it costs one
 * comparison; only runs reaching a band's end take the loop. First rows are
 * written by column number, not slab offset: each chunk's columns are then
 * one piece of memory, not offsets interleaved with the other chunks' in
 * every cache line.
 */
MCRLE_INLINE void rows_walk(rows_par *t, unsigned c, size_t E)
{
    const mcrle_layout *L = t->L;
    size_t H = L->shape[0], slab_bytes = (mcrle_slab_width(L) * E + 7) & ~(size_t)7;
    size_t lo = t->n_runs * c / t->chunks, hi = t->n_runs * (c + 1) / t->chunks, k;
    uint64_t P = t->pos[c], left = L->size - P;
    size_t row = (size_t)(P % H), col = (size_t)(P / H);
    mcrle_odometer o;
    odometer_at(&o, &t->S, col);
    const size_t *row0 = t->row0;
    unsigned char *first = t->dense;
    size_t *rc = t->rowcnt + (size_t)c * H;
    memset(rc, 0, H * sizeof(size_t));
    unsigned b = t->band_of[row];
    size_t b_end = row0[b + 1];
    int packed = E <= 4 && t->packed;
    for (k = lo; k < hi && left; k++) {
        uint64_t n = t->counts[k];
        if (n > left) n = left;   /* only if the counts changed meanwhile */
        left -= n;
        t->run_row[k] = row;
        t->run_rec[k] = packed ? (uint64_t)o.offset | mcrle_load(t->values + k * E, E) << 32
                               : (uint64_t)o.offset;
        if (row != row0[b]) rc[row]++;   /* a start inside a band */
        else mcrle_store(first + (size_t)b * slab_bytes + col * E,
                         mcrle_load(t->values + k * E, E), E);   /* a band's first row */
        if (n < (uint64_t)(b_end - row)) {
            row += (size_t)n;
            continue;
        }
        /* it reaches the band's end: the band starts it covers, column by column */
        n -= b_end - row;
        row = b_end;
        for (;;) {
            if (row == H) {
                row = 0;
                b = 0;
                col++;
                mcrle_odometer_next(&o);
            } else {
                b++;
            }
            b_end = row0[b + 1];
            if (n == 0) break;   /* the next run starts on this band's first row */
            mcrle_store(first + (size_t)b * slab_bytes + col * E,
                        mcrle_load(t->values + k * E, E), E);
            if (n < (uint64_t)(b_end - row)) {
                row += (size_t)n;
                break;
            }
            n -= b_end - row;
            row = b_end;
        }
    }
    for (; k < hi; k++) t->run_row[k] = H;   /* past the end: only if the counts changed */
}

static void rows_walk_task(void *ctx, unsigned c)
{
    rows_par *t = (rows_par *)ctx;
    MCRLE_DISPATCH_ELEM(t->L->elem, rows_walk(t, c, E_));
}

/* Step 3 for chunk c: its starts into the list sorted by row. */
static void rows_place(void *ctx, unsigned c)
{
    rows_par *t = (rows_par *)ctx;
    size_t H = t->L->shape[0];
    size_t lo = t->n_runs * c / t->chunks, hi = t->n_runs * (c + 1) / t->chunks;
    size_t *rc = t->rowcnt + (size_t)c * H;
    for (size_t k = lo; k < hi; k++) {
        size_t r = t->run_row[k];
        if (r >= H || t->row0[t->band_of[r]] == r) continue;
        size_t at = rc[r]++;
        t->srt_rec[at] = t->run_rec[k];
        if (!t->packed) t->srt_run[at] = k;
    }
}

static void rows_sum_chunk(void *ctx, unsigned c)
{
    rows_par *t = (rows_par *)ctx;
    size_t lo = t->n_runs * c / t->chunks, hi = t->n_runs * (c + 1) / t->chunks;
    own_runs_chunk(t->src_values, t->src_counts, t->own_values, t->own_counts, t->L->elem, lo, hi,
                   &t->part[c], &t->part_ok[c]);
}

MCRLE_INLINE void rows_band_decode(rows_par *t, unsigned b, size_t E)
{
    const mcrle_layout *L = t->L;
    size_t W = mcrle_slab_width(L), r0 = t->row0[b], r1 = t->row0[b + 1];
    int contiguous = L->ndim == 2;
    if (!contiguous) {
        contiguous = 1;
        for (int a = 1; a < L->ndim; a++) contiguous &= t->S.strides[a] == L->strides[a];
    }
    size_t slab_bytes = (W * E + 7) & ~(size_t)7;
    unsigned char *slab = t->dense + (size_t)b * slab_bytes;
    if (L->ndim > 2) {   /* column numbers to slab offsets (two axes: the same) */
        unsigned char *to = t->init + (size_t)b * slab_bytes;
        mcrle_odometer o;
        mcrle_odometer_init(&o, &t->S, 1);
        for (size_t j = 0; j < W; j++, mcrle_odometer_next(&o))
            mcrle_store(to + (size_t)o.offset * E, mcrle_load(slab + j * E, E), E);
        slab = to;
    }
    ptrdiff_t s0 = L->strides[0];
    slab_copy_out(t->out + (ptrdiff_t)r0 * s0, slab, L, W, contiguous);
    const uint64_t *rec = t->srt_rec;
    int packed = E <= 4 && t->packed;
    for (size_t i = r0 + 1; i < r1; i++) {
        size_t e = t->row_begin[i], end = t->row_begin[i + 1];
        if (packed)
            for (; e < end; e++) mcrle_store(slab + (size_t)(uint32_t)rec[e] * E, rec[e] >> 32, E);
        else
            for (; e < end; e++)
                mcrle_store(slab + (size_t)rec[e] * E, mcrle_load(t->values + t->srt_run[e] * E, E), E);
        slab_copy_out(t->out + (ptrdiff_t)i * s0, slab, L, W, contiguous);
    }
}

static void rows_band(void *ctx, unsigned b)
{
    rows_par *t = (rows_par *)ctx;
    MCRLE_DISPATCH_ELEM(t->L->elem, rows_band_decode(t, b, E_));
}

/* A pass over the chunks: on the threads, or on the caller when there is one chunk. */
static void rows_pass(rows_par *t, unsigned n_threads, mcrle_task_fn fn)
{
    if (t->chunks == 1) fn(t, 0);
    else mcrle_parallel_for(n_threads, t->chunks, fn, t);
}

static mcrle_result rows_decode(const unsigned char *values, const uint64_t *counts,
                                size_t n_runs, const mcrle_layout *L, unsigned char *out,
                                unsigned char *scratch, mcrle_error_info *info,
                                unsigned n_threads, unsigned bands)
{
    rows_par t;
    size_t H = L->shape[0], W = mcrle_slab_width(L), E = L->elem;
    size_t slab_bytes = (W * E + 7) & ~(size_t)7;
    t.src_values = values;
    t.src_counts = counts;
    t.n_runs = n_runs;
    t.L = L;
    slab_scratch_layout(L, &t.S);
    t.out = out;
    t.bands = bands;
    t.chunks = rows_chunk_count(n_runs, bands);
    for (unsigned b = 0; b <= bands; b++) t.row0[b] = H * b / bands;
    /* scratch (rows_scratch) */
    unsigned char *p = scratch;
    t.packed = slab_packed(L, n_runs);
    t.run_rec = (uint64_t *)(void *)p;   /* first: 8-byte aligned where size_t has 4 */
    t.srt_rec = t.run_rec + n_runs;
    t.rowcnt = (size_t *)(void *)(t.srt_rec + n_runs);
    t.row_begin = t.rowcnt + (size_t)t.chunks * H;
    t.run_row = t.row_begin + H + 1;
    t.srt_run = t.run_row + n_runs;   /* packed: none (the records hold the values) */
    p = (unsigned char *)(t.srt_run + (t.packed ? 0 : n_runs));
    t.dense = p;
    p += bands * slab_bytes;
    t.init = p;
    p += bands * slab_bytes;
    t.band_of = p;
    p += (H + 7) & ~(size_t)7;
    t.own_counts = (uint64_t *)(void *)p;
    t.own_values = p + n_runs * sizeof(uint64_t);
    t.counts = t.own_counts;
    t.values = t.own_values;
    for (unsigned b = 0; b < bands; b++)
        memset(t.band_of + t.row0[b], (int)b, t.row0[b + 1] - t.row0[b]);
    /* 1. */
    rows_pass(&t, n_threads, rows_sum_chunk);
    if (!chunk_starts(t.part, t.part_ok, t.chunks, t.pos, L->size)) {
        /* the precise check, on what was read */
        mcrle_result r = check_counts_slow(t.own_counts, n_runs, L->size, info);
        if (r != MCRLE_OK) return r;
    }
    /* 2. (the slabs start defined: counts changed meanwhile may leave parts unwritten) */
    memset(t.dense, 0, bands * slab_bytes);
    rows_pass(&t, n_threads, rows_walk_task);
    size_t at = 0;
    for (size_t r = 0; r < H; r++) {   /* row by row, chunk by chunk: the order of the runs */
        t.row_begin[r] = at;
        for (unsigned c = 0; c < t.chunks; c++) {
            size_t *rc = t.rowcnt + (size_t)c * H + r;
            size_t n = *rc;
            *rc = at;
            at += n;
        }
    }
    t.row_begin[H] = at;
    /* 3., 4. */
    rows_pass(&t, n_threads, rows_place);
    mcrle_parallel_for(n_threads, bands, rows_band, &t);
    return MCRLE_OK;
}

/* Scratch of n decoding bands of L (n_runs runs in all). */
static size_t bands_scratch(const mcrle_layout *L, size_t n_runs, unsigned n)
{
    if (n == 1) return slab_like(L) ? slab_scratch(L, n_runs) : 0;
    if (n_runs > SIZE_MAX / 64) return SIZE_MAX;
    return slab_like(L) ? rows_scratch(L, n_runs, n) : own_runs_bytes(n_runs, L->elem);
}

/* Bands for L: of rows for slab layouts, else of the run sequence (two a thread). */
static unsigned plan_bands(const mcrle_layout *L, unsigned n_threads)
{
    if (!L->size) return 1;
    return slab_like(L) ? rows_band_count(L, n_threads) : mcrle_band_count(L, n_threads);
}

size_t mcrle_decode_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                    const ptrdiff_t *strides, size_t n_runs, unsigned n_threads)
{
    mcrle_layout L;
    if (mcrle_normalize(elem_size, ndim, shape, strides, &L) != MCRLE_OK || L.size == 0)
        return 0;
    return bands_scratch(&L, n_runs, plan_bands(&L, n_threads));
}

size_t mcrle_decode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                 const ptrdiff_t *strides, size_t n_runs)
{
    return mcrle_decode_scratch_size_mt(elem_size, ndim, shape, strides, n_runs, 1);
}

/*
 * On several threads, three passes (mcrle_parallel_for), with the serial
 * glue between them on the caller: 1. each chunk of the runs is copied
 * into scratch (own_runs_chunk: read once) and summed (the fast check of
 * mcrle_check_counts); then the total is checked (the precise check, on the
 * copy, reports any error exactly as one thread would) and the band
 * boundaries placed; 2. each chunk that holds a band boundary finds the run
 * where it falls; 3. each band is decoded into its own piece of the output.
 *
 * The bands share the work, not the elements: a run costs about as much as
 * DEC_RUN_BYTES bytes written (fitted on AAL, a brain atlas, on 2 threads:
 * 1 ns a run, 0.045 ns a byte; bands of equal elements held 19,517 and
 * 77,781 runs, and the second took 3.4 times as long). Between
 * chunk starts the work is taken as spread evenly over the elements; there
 * are up to 8 chunks a band, so that pass 2 reads few runs.
 */
#define DEC_RUN_BYTES 24
#define DEC_CHUNKS_PER_BAND 8
#ifdef MCRLE_DEC_RUNS_PER_CHUNK   /* the fuzzers' builds: several chunks in small arrays */
#define DEC_RUNS_PER_CHUNK ((size_t)(MCRLE_DEC_RUNS_PER_CHUNK))
#else
#define DEC_RUNS_PER_CHUNK ((size_t)1024)   /* fewer runs a chunk: fewer chunks */
#endif

typedef struct dec_par {
    const unsigned char *values;   /* after pass 1: the private copies below */
    const uint64_t *counts;
    const unsigned char *src_values;   /* the caller's runs, read once, in pass 1 */
    const uint64_t *src_counts;
    unsigned char *own_values;
    uint64_t *own_counts;
    size_t n_runs;
    const mcrle_layout *L;
    unsigned char *out;
    unsigned bands, chunks;
    uint64_t part[MCRLE_MAX_BANDS], pos[MCRLE_MAX_BANDS];
    int part_ok[MCRLE_MAX_BANDS];
    uint64_t band_elem[MCRLE_MAX_BANDS + 1];
    band b[MCRLE_MAX_BANDS + 1];   /* b[bands]: the end (first = n_runs) */
} dec_par;

/* Chunk c's runs [*lo, *hi). */
MCRLE_INLINE void dec_chunk_runs(const dec_par *t, unsigned c, size_t *lo, size_t *hi)
{
    *lo = t->n_runs * c / t->chunks;
    *hi = t->n_runs * (c + 1) / t->chunks;
}

static void dec_sum_chunk(void *ctx, unsigned c)
{
    dec_par *t = (dec_par *)ctx;
    size_t lo, hi;
    dec_chunk_runs(t, c, &lo, &hi);
    own_runs_chunk(t->src_values, t->src_counts, t->own_values, t->own_counts, t->L->elem, lo, hi,
                   &t->part[c], &t->part_ok[c]);
}

/*
 * Band boundaries: band_elem[j] where the work before it is j / bands of
 * the whole (chunk by chunk, then in proportion inside the chunk), never
 * below the one before. Floating point only places them: any places give
 * the same output.
 */
static void dec_place_bands(dec_par *t)
{
    const double per_run = DEC_RUN_BYTES, per_elem = (double)t->L->elem;
    double total = per_run * (double)t->n_runs + per_elem * (double)t->L->size, before = 0;
    unsigned c = 0;
    t->band_elem[0] = 0;
    for (unsigned j = 1; j < t->bands; j++) {
        double target = total * j / t->bands, work;
        size_t lo, hi;
        for (;;) {
            dec_chunk_runs(t, c, &lo, &hi);
            work = per_run * (double)(hi - lo) + per_elem * (double)t->part[c];
            if (before + work > target || c + 1 == t->chunks) break;
            before += work;
            c++;
        }
        double f = (target - before) / work;
        uint64_t e = t->pos[c] + (uint64_t)((f < 0 ? 0 : f > 1 ? 1 : f) * (double)t->part[c]);
        if (e > t->L->size) e = t->L->size;
        t->band_elem[j] = e > t->band_elem[j - 1] ? e : t->band_elem[j - 1];
    }
    t->band_elem[t->bands] = t->L->size;
    for (unsigned j = 0; j <= t->bands; j++) {   /* found by pass 2; none at the end */
        t->b[j].first = t->n_runs;
        t->b[j].skip = 0;
    }
    t->b[0].first = 0;
}

/* The runs holding the band boundaries that fall in chunk c. */
static void dec_find_starts(void *ctx, unsigned c)
{
    dec_par *t = (dec_par *)ctx;
    size_t lo, hi;
    dec_chunk_runs(t, c, &lo, &hi);
    uint64_t pos = t->pos[c], stop = pos + t->part[c];
    unsigned j = 1;
    while (j < t->bands && t->band_elem[j] < pos) j++;
    for (size_t i = lo; i < hi && j < t->bands && t->band_elem[j] < stop; i++) {
        uint64_t end = pos + t->counts[i];
        while (j < t->bands && t->band_elem[j] < end) {
            t->b[j].first = i;
            t->b[j].skip = t->band_elem[j] - pos;
            j++;
        }
        pos = end;
    }
}

static void dec_band(void *ctx, unsigned i)
{
    dec_par *t = (dec_par *)ctx;
    uint64_t e0 = t->band_elem[i], e1 = t->band_elem[i + 1];
    if (e0 == e1) return;
    MCRLE_DISPATCH_ELEM(t->L->elem, band_column_decode(t->values, t->counts, &t->b[i], &t->b[i + 1],
                                                       e0, e1, t->L, t->out, E_));
}

mcrle_result mcrle_decode_mt(const void *values, const uint64_t *counts, size_t n_runs,
                             size_t elem_size, int ndim, const size_t *shape,
                             const ptrdiff_t *strides, void *out, void *scratch,
                             size_t scratch_size, mcrle_error_info *info, unsigned n_threads)
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
    unsigned n = plan_bands(&L, n_threads);
    size_t need = bands_scratch(&L, n_runs, n);   /* what mcrle_decode_scratch_size_mt said */
    SAFETY_CHECK(need == 0 || (scratch != NULL && scratch_size >= need), MCRLE_ERR_NOSPACE);
    if (n > 1 && n_runs < 2) n = 1;   /* one run: nothing to share (needs less scratch) */
    if (n == 1) {   /* the caller's runs, each read once and checked there */
        if (slab_like(&L)) {
            static mcrle_result (*const by_size[2][4])(
                const unsigned char *, const uint64_t *, size_t, const mcrle_layout *,
                unsigned char *, mcrle_error_info *, void *) = {
                {slab_decode_1_nd, slab_decode_2_nd, slab_decode_4_nd, slab_decode_8_nd},
                {slab_decode_1_2d, slab_decode_2_2d, slab_decode_4_2d, slab_decode_8_2d}};
            size_t e = L.elem == 1 ? 0 : L.elem == 2 ? 1 : L.elem == 4 ? 2 : 3;
            r = by_size[L.ndim == 2][e](v, counts, n_runs, &L, o, info, scratch);
        } else {
            MCRLE_DISPATCH_ELEM(L.elem, r = column_decode(v, counts, n_runs, &L, o, info, E_));
        }
        return r;
    }
    if (slab_like(&L))
        return rows_decode(v, counts, n_runs, &L, o, (unsigned char *)scratch, info, n_threads, n);
    dec_par t;
    t.src_values = v;
    t.src_counts = counts;
    t.own_counts = (uint64_t *)scratch;
    t.own_values = (unsigned char *)scratch + n_runs * sizeof(uint64_t);
    t.n_runs = n_runs;
    t.L = &L;
    t.out = o;
    t.bands = n;
    size_t chunks = n_runs / DEC_RUNS_PER_CHUNK;
    if (chunks > (size_t)n * DEC_CHUNKS_PER_BAND) chunks = (size_t)n * DEC_CHUNKS_PER_BAND;
    if (chunks > MCRLE_MAX_BANDS) chunks = MCRLE_MAX_BANDS;
    t.chunks = chunks > 0 ? (unsigned)chunks : 1;   /* <= n_runs: none empty */
    /* 1. the private copy, summed */
    mcrle_parallel_for(n_threads, t.chunks, dec_sum_chunk, &t);
    if (!chunk_starts(t.part, t.part_ok, t.chunks, t.pos, L.size)) {
        /* the precise check, on what was read */
        r = check_counts_slow(t.own_counts, n_runs, L.size, info);
        if (r != MCRLE_OK) return r;
    }
    t.values = t.own_values;
    t.counts = t.own_counts;
    dec_place_bands(&t);
    /* 2. where each band starts */
    mcrle_parallel_for(n_threads, t.chunks, dec_find_starts, &t);
    /* 3. the bands */
    mcrle_parallel_for(n_threads, n, dec_band, &t);
    return MCRLE_OK;
}

mcrle_result mcrle_decode(const void *values, const uint64_t *counts, size_t n_runs,
                          size_t elem_size, int ndim, const size_t *shape,
                          const ptrdiff_t *strides, void *out,
                          void *scratch, size_t scratch_size, mcrle_error_info *info)
{
    return mcrle_decode_mt(values, counts, n_runs, elem_size, ndim, shape, strides, out, scratch,
                           scratch_size, info, 1);
}
