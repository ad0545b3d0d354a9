/*
 * encode.c - array -> runs in Fortran order.
 *
 * Three strategies, chosen from the layout:
 *   column: each column (axis 0) is scanned on its own, 32 bytes at a time
 *           when contiguous; Fortran-ordered arrays are one long column.
 *   strip:  2D maps with contiguous rows (C order and its crops) on x86-64:
 *           16 columns at a time, their boundary bits gathered 64 rows to a
 *           word per column and read off in Fortran order (below).
 *   slab:   other C-ordered arrays (3+ dims, and 2D without SSE2). Reading
 *           down a column would stride through memory, so each slab (row,
 *           for 2D) is compared with the previous one, 32 bytes at a time;
 *           the positions that differ are the run boundaries. They are found
 *           row-major and then sorted by column (a counting sort, O(runs +
 *           columns)) to emit the runs.
 * Each touches each input element once per pass and does O(1) work per run.
 * On several threads: bands of columns for column and strip layouts, bands
 * of rows for slab layouts (rowenc below).
 */
#include "internal.h"
#include "mcrle_threads.h"

#if defined(MCRLE_AVX2_DISPATCH)
int mcrle_avx2_off = 0;
#endif

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

/* ---- strip strategy (SSE2, 2D) ----------------------------------------------- */

#define MCRLE_STRIP 16   /* columns of a strip */

#if MCRLE_SSE2
/*
 * 2D maps whose rows are contiguous (C order and its crops), W >= 16. The
 * slab strategy finds the boundaries row by row and sorts them by column;
 * here the columns are taken 16 at a time (a strip) instead: going down the
 * strip, each row is compared with the one above with a few vector compares,
 * and the results of 8 rows are folded into one byte per column (bit r: row
 * r of the 8), 64 rows into one word per column (an 8x16 byte transpose).
 * Each column's boundaries are then the set bits of its words, already in
 * Fortran order: no event lists, no sort, O(1) work per boundary and a few
 * vector operations per 16 x 8 elements. The rows are read 8 at a time
 * across a group of strips (below). A last strip narrower than 16 overlaps
 * the one before and emits only its new columns.
 */
#define MCRLE_STRIP_OK(L) ((L)->ndim == 2 && (L)->strides[1] == (ptrdiff_t)(L)->elem && \
                           (L)->shape[1] >= MCRLE_STRIP)

/* One row of a strip: its 16 elements (16 E bytes), as vectors. */
typedef struct strip_row {
    __m128i v[8];
} strip_row;

MCRLE_INLINE void strip_load(strip_row *row, const unsigned char *p, size_t E)
{
    for (size_t h = 0; h < E; h++)
        row->v[h] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * h));
}

/* Byte k is 0xFF where element k of the two rows is equal. */
MCRLE_INLINE __m128i strip_eq(const strip_row *a, const strip_row *b, size_t E)
{
    if (E == 1) return _mm_cmpeq_epi8(a->v[0], b->v[0]);
    if (E == 2)
        return _mm_packs_epi16(_mm_cmpeq_epi16(a->v[0], b->v[0]),
                               _mm_cmpeq_epi16(a->v[1], b->v[1]));
    __m128i q[4];
    for (int h = 0; h < 4; h++) {
        if (E == 4) {
            q[h] = _mm_cmpeq_epi32(a->v[h], b->v[h]);
        } else {   /* two 8-byte elements per vector: both halves equal; then 4 lanes from 2 vectors */
            __m128i e0 = _mm_cmpeq_epi32(a->v[2 * h], b->v[2 * h]);
            __m128i e1 = _mm_cmpeq_epi32(a->v[2 * h + 1], b->v[2 * h + 1]);
            e0 = _mm_and_si128(e0, _mm_shuffle_epi32(e0, _MM_SHUFFLE(2, 3, 0, 1)));
            e1 = _mm_and_si128(e1, _mm_shuffle_epi32(e1, _MM_SHUFFLE(2, 3, 0, 1)));
            q[h] = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(e0), _mm_castsi128_ps(e1),
                                                   _MM_SHUFFLE(2, 0, 2, 0)));
        }
    }
    /* signed saturation keeps 0 and -1 */
    return _mm_packs_epi16(_mm_packs_epi32(q[0], q[1]), _mm_packs_epi32(q[2], q[3]));
}

/*
 * Rows [i0, i0 + 8) of the strip whose first column is at col: byte k, bit r
 * set when row i0 + r differs from the row above in column k. Each row is
 * loaded once, from the last up (each doubling moves the rows before up a
 * bit). Rows are clamped to [0, H - 1], so that row 0 and rows past the end
 * compare equal to the row above (full: all of i0 - 1 .. i0 + 7 are rows).
 */
MCRLE_INLINE __m128i strip_byte(const unsigned char *col, ptrdiff_t s0, size_t i0, size_t H,
                                int full, size_t E)
{
#define ROW_(i) (col + (ptrdiff_t)(full ? (i) : ((i) < H ? (i) : H - 1)) * s0)
    strip_row cur, prev;
    __m128i acc = _mm_setzero_si128();
    strip_load(&cur, ROW_(i0 + 7), E);
    for (int r = 7; r >= 0; r--) {
        size_t up = i0 + (size_t)r;
        up = up ? up - 1 : 0;
        strip_load(&prev, ROW_(up), E);
        acc = _mm_sub_epi8(_mm_add_epi8(acc, acc), strip_eq(&cur, &prev, E));   /* 2 acc + eq */
        cur = prev;
    }
#undef ROW_
    return _mm_xor_si128(acc, _mm_set1_epi8(-1));
}

/*
 * AVX2 (x86-64 with GCC or clang, chosen at run time): the same bytes for 2-,
 * 4- and 8-byte elements, whose 16 elements of a row are 1, 2 or 4 whole
 * 256-bit vectors: 5-12 operations a row where SSE2 takes 8-30. COCO panoptic
 * uint32 maps 26.6 -> 23.8 us (C, -O3), CamVid maps as uint16 25 -> 21 us,
 * as int64 116-131 -> 57-75 us. Bytes keep the SSE2 code: their row of a
 * strip is one 128-bit vector. strip_byte_avx2 repeats strip_byte's loop over
 * 256-bit rows: one body for both (a macro over the row type) made COCO
 * panoptic maps 7% slower (24 -> 25.7 us).
 */
#if defined(MCRLE_AVX2_DISPATCH)
#define MCRLE_AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

MCRLE_AVX2_INLINE __m128i strip_eq_avx2(const __m256i *a, const __m256i *b, size_t E)
{
    if (E == 2) {
        __m256i e = _mm256_cmpeq_epi16(a[0], b[0]);
        return _mm_packs_epi16(_mm256_castsi256_si128(e), _mm256_extracti128_si256(e, 1));
    }
    if (E == 4) {
        /* in-lane pack: [a 0-3, b 0-3 | a 4-7, b 4-7]; the 64-bit swap puts a before b */
        __m256i e = _mm256_packs_epi32(_mm256_cmpeq_epi32(a[0], b[0]), _mm256_cmpeq_epi32(a[1], b[1]));
        e = _mm256_permute4x64_epi64(e, _MM_SHUFFLE(3, 1, 2, 0));
        return _mm_packs_epi16(_mm256_castsi256_si128(e), _mm256_extracti128_si256(e, 1));
    }
    /* 8-byte elements: the low 32 bits of each 64-bit mask, 4 elements to a 128-bit half */
    const __m256i low = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m128i d[4];
    for (int h = 0; h < 4; h++)
        d[h] = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_cmpeq_epi64(a[h], b[h]), low));
    return _mm_packs_epi16(_mm_packs_epi32(d[0], d[1]), _mm_packs_epi32(d[2], d[3]));
}

MCRLE_AVX2_INLINE __m128i strip_byte_avx2(const unsigned char *col, ptrdiff_t s0, size_t i0,
                                          size_t H, int full, size_t E)
{
#define ROW_(i) (col + (ptrdiff_t)(full ? (i) : ((i) < H ? (i) : H - 1)) * s0)
    __m256i cur[4], prev[4];
    const size_t nv = E / 2;   /* 256-bit vectors in a row of the strip */
    __m128i acc = _mm_setzero_si128();
    for (size_t h = 0; h < nv; h++)
        cur[h] = _mm256_loadu_si256((const __m256i *)(const void *)(ROW_(i0 + 7) + 32 * h));
    for (int r = 7; r >= 0; r--) {
        size_t up = i0 + (size_t)r;
        up = up ? up - 1 : 0;
        for (size_t h = 0; h < nv; h++)
            prev[h] = _mm256_loadu_si256((const __m256i *)(const void *)(ROW_(up) + 32 * h));
        acc = _mm_sub_epi8(_mm_add_epi8(acc, acc), strip_eq_avx2(cur, prev, E));
        for (size_t h = 0; h < nv; h++) cur[h] = prev[h];
    }
#undef ROW_
    return _mm_xor_si128(acc, _mm_set1_epi8(-1));
}
#endif

/*
 * Word w of a strip's 16 columns from its 8 bytes g[0..7] (strip_byte of rows
 * 64 w + 8 b): words[k * n_words + w] gets column k's boundary bits of rows
 * [64 w, 64 w + 64).
 */
MCRLE_INLINE void strip_word(const unsigned char *gbytes, size_t w, size_t n_words,
                             uint64_t *words)
{
    __m128i g[8], any = _mm_setzero_si128();
    for (int b = 0; b < 8; b++) {
        g[b] = _mm_loadu_si128((const __m128i *)(const void *)(gbytes + 16 * b));
        any = _mm_or_si128(any, g[b]);
    }
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128())) == 0xFFFF) {
        for (int k = 0; k < MCRLE_STRIP; k++) words[(size_t)k * n_words + w] = 0;
        return;
    }
    /* 8 x 16 bytes -> 16 x 8 bytes: column k's word holds g[0][k] .. g[7][k] */
    __m128i t0 = _mm_unpacklo_epi8(g[0], g[1]), t1 = _mm_unpackhi_epi8(g[0], g[1]);
    __m128i t2 = _mm_unpacklo_epi8(g[2], g[3]), t3 = _mm_unpackhi_epi8(g[2], g[3]);
    __m128i t4 = _mm_unpacklo_epi8(g[4], g[5]), t5 = _mm_unpackhi_epi8(g[4], g[5]);
    __m128i t6 = _mm_unpacklo_epi8(g[6], g[7]), t7 = _mm_unpackhi_epi8(g[6], g[7]);
    __m128i u[8] = {_mm_unpacklo_epi16(t0, t2), _mm_unpackhi_epi16(t0, t2),
                    _mm_unpacklo_epi16(t1, t3), _mm_unpackhi_epi16(t1, t3),
                    _mm_unpacklo_epi16(t4, t6), _mm_unpackhi_epi16(t4, t6),
                    _mm_unpacklo_epi16(t5, t7), _mm_unpackhi_epi16(t5, t7)};
    for (int q = 0; q < 4; q++) {   /* u[q]: columns 4q..4q+3, rows 0-31; u[q + 4]: rows 32-63 */
        __m128i lo = _mm_unpacklo_epi32(u[q], u[q + 4]), hi = _mm_unpackhi_epi32(u[q], u[q + 4]);
        uint64_t *d = words + (size_t)(4 * q) * n_words + w;
        _mm_storel_epi64((__m128i *)(void *)d, lo);
        _mm_storel_epi64((__m128i *)(void *)(d + n_words), _mm_unpackhi_epi64(lo, lo));
        _mm_storel_epi64((__m128i *)(void *)(d + 2 * n_words), hi);
        _mm_storel_epi64((__m128i *)(void *)(d + 3 * n_words), _mm_unpackhi_epi64(hi, hi));
    }
}

/*
 * Strips are taken in groups about MCRLE_STRIP_GROUP_BYTES of a row wide, and
 * a group 8 rows at a time across all its strips, so that the map is read in
 * blocks of consecutive rows, each line once while it is in L1. A strip at a
 * time down the whole map read every line four times (bytes: four strips to
 * a line), from L2 or further when the rows did not stay in L1: COCO
 * panoptic maps (uint32, 2.5 KB rows) 37 -> 33 us, a 1024 x 2048 byte map
 * (its 2 KB row stride puts 65 rows in 2 of L1's sets) 188 -> 88 us. The
 * scratch holds a group's words and its strips' bytes of 8 rows.
 */
#ifndef MCRLE_STRIP_GROUP_BYTES
#define MCRLE_STRIP_GROUP_BYTES 2048
#endif

MCRLE_INLINE size_t strip_group(size_t W, size_t E)
{
    size_t n_strips = (W + MCRLE_STRIP - 1) / MCRLE_STRIP;
    size_t group = MCRLE_STRIP_GROUP_BYTES / (MCRLE_STRIP * E);
    if (group < 1) group = 1;
    return group < n_strips ? group : n_strips;
}

/* A group's words, then its strips' bytes of 8 rows (16 bytes each, 8 per strip). */
static size_t strip_scratch(const mcrle_layout *L)
{
    size_t n_words = L->shape[0] / 64 + 1, group = strip_group(L->shape[1], L->elem);
    return group * (MCRLE_STRIP * n_words * sizeof(uint64_t) + 8 * 16);
}

/* Strip s starts at column 16 s, the last at W - 16 (overlapping the one before). */
#define STRIP_X0_(s) ((s) * MCRLE_STRIP + MCRLE_STRIP <= W ? (s) * MCRLE_STRIP : W - MCRLE_STRIP)

/* The bytes of rows [i0, i0 + 64) of strips [g0, g1): gbytes, 8 of 16 bytes per strip. */
#define STRIP_ROWS_BODY(BYTE)                                                    \
    do {                                                                         \
        int full = i0 >= 1 && i0 + 64 <= H;                                      \
        for (size_t b = 0; b < 8; b++)                                           \
            for (size_t s = g0; s < g1; s++) {                                   \
                const unsigned char *col = data + STRIP_X0_(s) * E;              \
                __m128i g = full ? BYTE(col, s0, i0 + 8 * b, H, 1, E)            \
                                 : BYTE(col, s0, i0 + 8 * b, H, 0, E);           \
                _mm_storeu_si128((__m128i *)(void *)(gbytes + ((s - g0) * 8 + b) * 16), g); \
            }                                                                    \
    } while (0)

MCRLE_INLINE void strip_rows(const unsigned char *data, size_t W, ptrdiff_t s0, size_t H,
                             size_t i0, size_t g0, size_t g1, unsigned char *gbytes, size_t E)
{
    STRIP_ROWS_BODY(strip_byte);
}

#if defined(MCRLE_AVX2_DISPATCH)
__attribute__((target("avx2"))) static void strip_rows_avx2(const unsigned char *data, size_t W,
                                                            ptrdiff_t s0, size_t H, size_t i0,
                                                            size_t g0, size_t g1,
                                                            unsigned char *gbytes, size_t E_any)
{
    switch (E_any) {   /* a constant element size in each copy */
    case 2: { const size_t E = 2; STRIP_ROWS_BODY(strip_byte_avx2); } break;
    case 4: { const size_t E = 4; STRIP_ROWS_BODY(strip_byte_avx2); } break;
    default: { const size_t E = 8; STRIP_ROWS_BODY(strip_byte_avx2); } break;
    }
}
#endif

/*
 * The runs are written here without emit(): counts[] first holds each run's
 * start, and becomes the lengths at the end (the last one is the caller's,
 * from em->start, as with emit). The capacity is checked once per word when
 * 64 more runs fit.
 */
MCRLE_INLINE mcrle_result strip_encode(const unsigned char *data, const mcrle_layout *L,
                                       size_t E, emitter *em, uint64_t *words)
{
#if defined(MCRLE_AVX2_DISPATCH)
    int avx2 = E >= 2 && mcrle_use_avx2();
#endif
    size_t H = L->shape[0], W = L->shape[1], n_words = (H + 63) / 64;
    size_t n_strips = (W + MCRLE_STRIP - 1) / MCRLE_STRIP, group = strip_group(W, E);
    size_t slot = MCRLE_STRIP * n_words;
    unsigned char *gbytes = (unsigned char *)(words + group * slot);
    ptrdiff_t s0 = L->strides[0];
    unsigned char *values = em->values;
    uint64_t *starts = em->counts;
    size_t n = 0, cap = em->cap;
    const unsigned char *prev_bottom = NULL;
    for (size_t g0 = 0; g0 < n_strips; g0 += group) {
        size_t g1 = g0 + group < n_strips ? g0 + group : n_strips;
        for (size_t w = 0; w < n_words; w++) {
#if defined(MCRLE_AVX2_DISPATCH)
            if (avx2) strip_rows_avx2(data, W, s0, H, 64 * w, g0, g1, gbytes, E);
            else
#endif
            strip_rows(data, W, s0, H, 64 * w, g0, g1, gbytes, E);
            for (size_t s = g0; s < g1; s++)
                strip_word(gbytes + (s - g0) * 8 * 16, w, n_words, words + (s - g0) * slot);
        }
        for (size_t s = g0; s < g1; s++) {
            size_t x0 = STRIP_X0_(s);
            const unsigned char *col0 = data + x0 * E;
            for (size_t k = s * MCRLE_STRIP - x0; k < MCRLE_STRIP; k++) {   /* its new columns */
                const unsigned char *top = col0 + k * E;
                uint64_t f = (uint64_t)(x0 + k) * H;
                if (!prev_bottom || mcrle_load(top, E) != mcrle_load(prev_bottom, E)) {
                    SAFETY_CHECK(n < cap, MCRLE_ERR_NOSPACE);
                    memcpy(values + n * E, top, E);
                    starts[n++] = f;
                }
                const uint64_t *cw = words + (s - g0) * slot + k * n_words;
                for (size_t w = 0; w < n_words; w++) {
                    uint64_t m = cw[w];
                    if (!m) continue;
                    int room = cap - n >= 64;
                    for (; m; m &= m - 1) {
                        size_t r = 64 * w + mcrle_ctz64(m);
                        if (!room) SAFETY_CHECK(n < cap, MCRLE_ERR_NOSPACE);
                        memcpy(values + n * E, top + (ptrdiff_t)r * s0, E);
                        starts[n++] = f + r;
                    }
                }
                prev_bottom = top + (ptrdiff_t)(H - 1) * s0;
            }
        }
    }
#undef STRIP_X0_
#undef STRIP_ROWS_BODY
    em->n = n;
    if (n) {
        em->start = starts[n - 1];
        for (size_t i = 0; i + 1 < n; i++) starts[i] = starts[i + 1] - starts[i];
    }
    return MCRLE_OK;
}
#else
#define MCRLE_STRIP_OK(L) 0
static size_t strip_scratch(const mcrle_layout *L) { (void)L; return 0; }
#endif

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
    if (MCRLE_STRIP_OK(L)) return strip_scratch(L);
    return slab_like(L) ? slab_scratch(L, capacity) : 0;
}

/* The runs of one band into values/counts (capacity runs); *n_runs: how many. */
static mcrle_result encode_band(const unsigned char *d, const mcrle_layout *L, void *values,
                                uint64_t *counts, size_t capacity, size_t *n_runs, void *scratch)
{
    emitter em = {(unsigned char *)values, counts, capacity, 0, 0};
    mcrle_result r;
#if MCRLE_SSE2
    if (MCRLE_STRIP_OK(L)) {
        MCRLE_DISPATCH_ELEM(L->elem, r = strip_encode(d, L, E_, &em, (uint64_t *)scratch));
    } else
#endif
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

/* ---- slab layouts on several threads: bands of rows ------------------------- */

/*
 * Bands of the slowest axis cut a C-ordered array's rows into short pieces
 * (a volume's rows are its last axis), which the slab scan then reads one
 * piece at a time. So a slab layout is cut by rows (axis 0) instead, and the
 * work of the one-thread slab encoder is shared as it is:
 *   1. band b compares its slabs with the ones before (its first with the
 *      last of the band before) and keeps the positions that differ, then
 *      sorts them by Fortran column (its own counting sort);
 *   2. the Fortran columns are cut in as many ranges; each range counts its
 *      runs: its columns' boundaries in every band, and its columns' tops
 *      that differ from the bottom of the column before;
 *   3. each range writes its runs at its place in the output (the bands'
 *      boundaries of a column in band order are its boundaries in row order).
 * The last run of each range is closed afterwards, by the start of the next
 * range's first run.
 *
 * Capacity: band b keeps at most ev_cap[b] boundaries (the capacity in
 * proportion to its rows, or caps[b]), and the runs (boundaries and tops)
 * must fit the capacity. A band over its share counts the rest; the call
 * then fails with MCRLE_ERR_NOSPACE and band_runs[b] = its boundaries (band
 * 0: plus the tops that start a run), which add up to the runs and as caps
 * fit exactly.
 */
typedef struct rowenc_par {
    const unsigned char *data;
    const mcrle_layout *L;
    size_t H, W, R, n_rows;
    ptrdiff_t s0;
    unsigned bands;
    size_t row0[MCRLE_MAX_BANDS + 1], col0[MCRLE_MAX_BANDS + 1];
    size_t ev_base[MCRLE_MAX_BANDS], ev_cap[MCRLE_MAX_BANDS], ev_n[MCRLE_MAX_BANDS];
    size_t *fortran_col;        /* W: slab offset (C order) -> Fortran column; NULL for 2 axes */
    size_t *col_cnt;            /* bands x (W + 1): band b's boundaries per Fortran column */
    size_t *ev_row, *ev_col, *sorted;
    size_t out_base[MCRLE_MAX_BANDS + 1], out_n[MCRLE_MAX_BANDS];
    uint64_t out_first[MCRLE_MAX_BANDS], out_last[MCRLE_MAX_BANDS];   /* its runs' first, last start */
    unsigned char *values;
    uint64_t *counts;
} rowenc_par;

/* Row bands for a slab layout on n_threads threads; 1: the one-thread encoder. */
static unsigned rowenc_band_count(const mcrle_layout *L, unsigned n_threads)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L);
    if (n_threads <= 1 || !slab_like(L) || H < 2 || W < 16) return 1;
    /* 2D maps in strips: bands of columns (mcrle_band_count), each band strip-encoded */
    if (MCRLE_STRIP_OK(L) && W / mcrle_band_count(L, n_threads) >= MCRLE_STRIP) return 1;
    size_t n = n_threads > MCRLE_MAX_THREADS ? MCRLE_MAX_THREADS : n_threads;
    if (n > MCRLE_MAX_BANDS) n = MCRLE_MAX_BANDS;
    if (n > H / 2) n = H / 2;
    if (n > W) n = W;
    return n < 2 ? 1 : (unsigned)n;
}

/* Each band's boundary capacity; the scratch words for them and the rest; SIZE_MAX: too big. */
static size_t rowenc_plan(const mcrle_layout *L, unsigned bands, size_t capacity,
                          const size_t *caps, size_t *ev_base, size_t *ev_cap, size_t *span)
{
    size_t H = L->shape[0], W = mcrle_slab_width(L), at = 0;
    for (unsigned b = 0; b < bands; b++) {
        size_t cap;
        if (caps) {
            cap = caps[b];
        } else {
            /* rows of bands 0..b in proportion (rounded down), the rest to the last band */
            size_t upto = b + 1 == bands ? capacity
                                         : (size_t)((double)capacity * (double)(H * (b + 1) / bands) /
                                                    (double)H);
            if (upto > capacity) upto = capacity;
            cap = upto > at ? upto - at : 0;
        }
        ev_base[b] = at;
        at += cap;
        ev_cap[b] = cap;
    }
    *span = at;   /* each boundary array: band b's at ev_base[b] */
    size_t words = (size_t)bands * (W + 1) + (L->ndim > 2 ? W : 0);
    if (at > SIZE_MAX / 32 || W > SIZE_MAX / 32 / MCRLE_MAX_BANDS) return SIZE_MAX;
    return (words + 3 * at) * sizeof(size_t);
}

/* Step 1, band b: boundaries, counted and sorted by Fortran column. */
MCRLE_INLINE void rowenc_scan(rowenc_par *t, unsigned b, size_t E)
{
    const mcrle_layout *L = t->L;
    size_t W = t->W, R = t->R, n_rows = t->n_rows, cap = t->ev_cap[b], n = 0;
    ptrdiff_t s0 = t->s0;
    size_t *cnt = t->col_cnt + (size_t)b * (W + 1);
    size_t *ev_row = t->ev_row + t->ev_base[b], *ev_col = t->ev_col + t->ev_base[b];
    const size_t *fortran_col = t->fortran_col;
    memset(cnt, 0, (W + 1) * sizeof(size_t));
    size_t i0 = t->row0[b] ? t->row0[b] : 1;
    for (size_t i = i0; i < t->row0[b + 1]; i++) {
        const unsigned char *cur = t->data + (ptrdiff_t)i * s0;
        SCAN_SLAB(cur, s0, L, R, n_rows, E, {
            size_t jf = fortran_col ? fortran_col[j] : j;
            cnt[jf + 1]++;
            if (n < cap) {
                ev_row[n] = i;
                ev_col[n] = jf;
            }
            n++;
        });
    }
    t->ev_n[b] = n;
    for (size_t jf = 0; jf < W; jf++) cnt[jf + 1] += cnt[jf];
    if (n > cap) {   /* over its share: the call fails, with the counts (each column's end) */
        memmove(cnt, cnt + 1, W * sizeof(size_t));
        return;
    }
    size_t *sorted = t->sorted + t->ev_base[b];
    for (size_t e = 0; e < n; e++) sorted[cnt[ev_col[e]]++] = ev_row[e];
    /* cnt[jf] now holds the end of column jf's boundaries; its start is cnt[jf - 1] (0 for 0) */
}

static void rowenc_scan_task(void *ctx, unsigned b)
{
    rowenc_par *t = (rowenc_par *)ctx;
    MCRLE_DISPATCH_ELEM(t->L->elem, rowenc_scan(t, b, E_));
}

/* An odometer over L's columns (byte offsets) at Fortran column jf. */
static void rowenc_odometer_at(mcrle_odometer *o, const mcrle_layout *L, size_t jf)
{
    mcrle_odometer_init(o, L, 0);
    for (int a = 0; a < o->n; a++) {
        o->idx[a] = jf % o->shape[a];
        jf /= o->shape[a];
        o->offset += (ptrdiff_t)o->idx[a] * o->step[a];
    }
}

/* Band b's boundaries of Fortran columns [j0, j1). */
MCRLE_INLINE size_t rowenc_between(const rowenc_par *t, unsigned b, size_t j0, size_t j1)
{
    const size_t *cnt = t->col_cnt + (size_t)b * (t->W + 1);
    return (j1 ? cnt[j1 - 1] : 0) - (j0 ? cnt[j0 - 1] : 0);
}

/*
 * Steps 2 (emit = 0: count) and 3 (emit = 1: write) for the columns of range
 * c: a run starts at each column's top that differs from the bottom of the
 * column before (always at column 0), and at each boundary.
 */
MCRLE_INLINE void rowenc_range(rowenc_par *t, unsigned c, int emit_runs, size_t E)
{
    const mcrle_layout *L = t->L;
    size_t H = t->H, j0 = t->col0[c], j1 = t->col0[c + 1], n = 0;
    ptrdiff_t s0 = t->s0;
    mcrle_odometer o;
    rowenc_odometer_at(&o, L, j0);
    const unsigned char *prev_bottom = NULL;
    if (j0) {   /* the bottom of the column before the range */
        mcrle_odometer p;
        rowenc_odometer_at(&p, L, j0 - 1);
        prev_bottom = t->data + p.offset + (ptrdiff_t)(H - 1) * s0;
    }
    if (!emit_runs) {
        for (size_t jf = j0; jf < j1; jf++, mcrle_odometer_next(&o)) {
            const unsigned char *top = t->data + o.offset;
            n += !prev_bottom || mcrle_load(top, E) != mcrle_load(prev_bottom, E);
            prev_bottom = top + (ptrdiff_t)(H - 1) * s0;
        }
        for (unsigned b = 0; b < t->bands; b++) n += rowenc_between(t, b, j0, j1);
        t->out_n[c] = n;
        return;
    }
    emitter em = {t->values + t->out_base[c] * E, t->counts + t->out_base[c], t->out_n[c], 0, 0};
    const size_t *cnt[MCRLE_MAX_BANDS];
    const size_t *sorted[MCRLE_MAX_BANDS];
    for (unsigned b = 0; b < t->bands; b++) {
        cnt[b] = t->col_cnt + (size_t)b * (t->W + 1);
        sorted[b] = t->sorted + t->ev_base[b];
    }
    uint64_t f = (uint64_t)j0 * H, first = 0;
    for (size_t jf = j0; jf < j1; jf++, mcrle_odometer_next(&o), f += H) {
        const unsigned char *top = t->data + o.offset;
        if (!prev_bottom || mcrle_load(top, E) != mcrle_load(prev_bottom, E)) {
            if (!emit(&em, f, top, E)) goto done;   /* the array changed since step 2 */
            if (em.n == 1) first = f;
        }
        for (unsigned b = 0; b < t->bands; b++) {
            for (size_t e = jf ? cnt[b][jf - 1] : 0, end = cnt[b][jf]; e < end; e++) {
                size_t r = sorted[b][e];
                if (!emit(&em, f + r, top + (ptrdiff_t)r * s0, E)) goto done;
                if (em.n == 1) first = f + r;
            }
        }
        prev_bottom = top + (ptrdiff_t)(H - 1) * s0;
    }
done:
    t->out_n[c] = em.n;
    t->out_first[c] = first;
    t->out_last[c] = em.start;
}

static void rowenc_count_task(void *ctx, unsigned c)
{
    rowenc_par *t = (rowenc_par *)ctx;
    MCRLE_DISPATCH_ELEM(t->L->elem, rowenc_range(t, c, 0, E_));
}

static void rowenc_emit_task(void *ctx, unsigned c)
{
    rowenc_par *t = (rowenc_par *)ctx;
    MCRLE_DISPATCH_ELEM(t->L->elem, rowenc_range(t, c, 1, E_));
}

static mcrle_result rowenc_encode(const unsigned char *data, const mcrle_layout *L, void *values,
                                  uint64_t *counts, size_t capacity, size_t *n_runs,
                                  size_t *scratch, const size_t *caps, size_t *band_runs,
                                  unsigned bands, unsigned n_threads)
{
    rowenc_par t;
    size_t span;
    t.data = data;
    t.L = L;
    t.H = L->shape[0];
    t.W = mcrle_slab_width(L);
    t.s0 = L->strides[0];
    slab_rows(L, &t.R, &t.n_rows);
    t.bands = bands;
    rowenc_plan(L, bands, capacity, caps, t.ev_base, t.ev_cap, &span);
    size_t W = t.W;
    for (unsigned b = 0; b <= bands; b++) {
        t.row0[b] = t.H * b / bands;
        t.col0[b] = W * b / bands;
    }
    /* scratch (rowenc_plan): column counts, Fortran columns, then the boundaries */
    t.col_cnt = scratch;
    t.fortran_col = L->ndim > 2 ? t.col_cnt + (size_t)bands * (W + 1) : NULL;
    t.ev_row = t.col_cnt + (size_t)bands * (W + 1) + (L->ndim > 2 ? W : 0);
    t.ev_col = t.ev_row + span;
    t.sorted = t.ev_col + span;
    t.values = (unsigned char *)values;
    t.counts = counts;
    if (t.fortran_col) {
        mcrle_layout S;
        mcrle_odometer o;
        slab_c_layout(L, &S);
        mcrle_odometer_init(&o, &S, 1);
        for (size_t jf = 0; jf < W; jf++, mcrle_odometer_next(&o)) t.fortran_col[o.offset] = jf;
    }
    /* 1. */
    mcrle_parallel_for(n_threads, bands, rowenc_scan_task, &t);
    int over = 0;
    for (unsigned b = 0; b < bands; b++) over |= t.ev_n[b] > t.ev_cap[b];
    /* 2. (also when a band is over its share: the counts for band_runs) */
    mcrle_parallel_for(n_threads, bands, rowenc_count_task, &t);
    size_t total = 0, boundaries = 0;
    for (unsigned c = 0; c < bands; c++) {
        t.out_base[c] = total;
        total += t.out_n[c];
        boundaries += t.ev_n[c];
    }
    if (over || total > capacity) {   /* the exact counts: as caps, they fit */
        if (band_runs)
            for (unsigned b = 0; b < bands; b++)
                band_runs[b] = t.ev_n[b] + (b == 0 ? total - boundaries : 0);
        return MCRLE_ERR_NOSPACE;
    }
    /* 3. */
    size_t expect[MCRLE_MAX_BANDS];
    for (unsigned c = 0; c < bands; c++) expect[c] = t.out_n[c];
    mcrle_parallel_for(n_threads, bands, rowenc_emit_task, &t);
    int changed = 0;
    for (unsigned c = 0; c < bands; c++) changed |= t.out_n[c] != expect[c];
    if (changed) {   /* the array changed between the passes (another thread wrote it) */
        if (band_runs)
            for (unsigned b = 0; b < bands; b++)
                band_runs[b] = t.ev_n[b] + (b == 0 ? total - boundaries : 0);
        return MCRLE_ERR_NOSPACE;
    }
    /* each range's last run ends where the next range's runs start (the last: at the end) */
    uint64_t next = L->size;
    for (unsigned c = bands; c-- > 0;) {
        if (!t.out_n[c]) continue;
        t.counts[t.out_base[c] + t.out_n[c] - 1] = next - t.out_last[c];
        next = t.out_first[c];
    }
    *n_runs = total;
    return MCRLE_OK;
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
    unsigned rows = rowenc_band_count(&L, n_threads);
    if (rows > 1) {
        size_t base[MCRLE_MAX_BANDS], cap[MCRLE_MAX_BANDS], span;
        return rowenc_plan(&L, rows, capacity, caps, base, cap, &span);
    }
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
    unsigned rows = rowenc_band_count(&L, n_threads);
    unsigned bands = rows > 1 ? rows : mcrle_band_count(&L, n_threads);
    if (caps) {   /* a plan from band_runs: it must fit the capacity */
        size_t sum = 0;
        for (unsigned b = 0; b < bands; b++) {
            SAFETY_CHECK(caps[b] <= capacity - sum, MCRLE_ERR_ARG);
            sum += caps[b];
        }
    }
    SAFETY_CHECK(capacity == 0 || (values != NULL && counts != NULL), MCRLE_ERR_ARG);
    if (band_runs)
        for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) band_runs[b] = 0;
    if (rows > 1) {   /* a C-ordered array: bands of rows */
        size_t base[MCRLE_MAX_BANDS], cap[MCRLE_MAX_BANDS], span;
        size_t need = rowenc_plan(&L, rows, capacity, caps, base, cap, &span);
        SAFETY_CHECK(need != SIZE_MAX && scratch_size >= need && scratch != NULL, MCRLE_ERR_NOSPACE);
        return rowenc_encode((const unsigned char *)data, &L, values, counts, capacity, n_runs,
                             (size_t *)scratch, caps, band_runs, rows, n_threads);
    }
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
