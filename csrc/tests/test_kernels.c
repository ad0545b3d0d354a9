/*
 * test_kernels.c - unit tests of the plain-C mcrle kernels (no framework).
 *
 * Every kernel result is compared with a naive reference written here: the
 * array is walked in Fortran order (first axis fastest) with an odometer over
 * its own shape and strides, which is the definition of the encoding. Arrays
 * are laid out in many ways (C order, Fortran order, crops, negative strides,
 * transposes, gaps, misaligned bases) inside buffers of exactly their size,
 * so that a sanitizer build (-Db_sanitize=address,undefined) also catches any
 * read or write outside them.
 *
 * Prints one line per failed check and "N passed, N failed" (test cases) as
 * its last line; exits non-zero when any case failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcrle.h"
#include "internal.h"   /* MCRLE_AVX2_DISPATCH, mcrle_avx2_off: both paths of the AVX2 kernels */

/* ---- tiny test framework ---------------------------------------------------- */

static int n_passed, n_failed, case_failed, case_open;
static char case_name[256];
static int fail_lines;

static void case_begin(const char *name)
{
    snprintf(case_name, sizeof case_name, "%s", name);
    case_failed = 0;
    case_open = 1;
}

static void case_end(void)
{
    if (!case_open) return;
    if (case_failed) n_failed++; else n_passed++;
    case_open = 0;
}

static void check_fail(const char *file, int line, const char *what)
{
    if (!case_open) n_failed++;   /* a check outside any case counts on its own */
    case_failed = 1;
    if (fail_lines++ < 200)
        fprintf(stderr, "FAIL [%s] %s:%d: %s\n", case_name, file, line, what);
}

#define CHECK(cond) \
    do { if (!(cond)) check_fail(__FILE__, __LINE__, #cond); } while (0)
#define CHECK_EQ_U(a, b)                                                           \
    do {                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        if (a_ != b_) {                                                            \
            char m_[256];                                                          \
            snprintf(m_, sizeof m_, "%s == %s (%llu != %llu)", #a, #b, a_, b_);    \
            check_fail(__FILE__, __LINE__, m_);                                    \
        }                                                                          \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

/* ---- random numbers (deterministic) --------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Du;
}

static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* ---- elements ---------------------------------------------------------------- */

static uint64_t elem_mask(size_t E)
{
    return E == 8 ? UINT64_MAX : (((uint64_t)1 << (8 * E)) - 1);
}

static uint64_t load(const unsigned char *p, size_t E)
{
    switch (E) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void store(unsigned char *p, uint64_t v, size_t E)
{
    switch (E) {
    case 1: *p = (unsigned char)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* Distinct values per element size, chosen to differ in high and low bytes. */
static uint64_t label_value(unsigned label, size_t E)
{
    uint64_t m = elem_mask(E), top = (uint64_t)1 << (8 * E - 1);
    switch (label) {
    case 0: return 0;
    case 1: return m;
    case 2: return 1;
    case 3: return top;
    case 4: return 0x5A5A5A5A5A5A5A5Au & m;
    case 5: return 0xA5A5A5A5A5A5A5A5u & m;
    default: return ((uint64_t)1 << (8 * E - 8)) | 1u; /* E >= 2 only */
    }
}

static unsigned max_labels(size_t E) { return E == 1 ? 6u : 7u; }

/* ---- arrays in any layout ----------------------------------------------------- */

#define MAXD 8

typedef struct layout_spec {
    const char *name;
    int order;          /* 0: C (last axis fastest), 1: Fortran, 2: random permutation */
    int pad;            /* pad each axis by up to this many elements (crop) */
    unsigned flip;      /* axes with negative strides (bit mask), ~0u for all */
    size_t gap;         /* innermost memory step in elements (>= 1) */
    size_t misalign;    /* byte offset of the buffer's start */
} layout_spec;

typedef struct arr {
    size_t E;
    int ndim;
    size_t shape[MAXD];
    ptrdiff_t strides[MAXD];
    unsigned char *buf;
    size_t buf_len;
    unsigned char *base;
    size_t size;
} arr;

static void arr_make(arr *A, size_t E, int ndim, const size_t *shape, const layout_spec *ls)
{
    int perm[MAXD];
    size_t ext[MAXD], off[MAXD];
    A->E = E;
    A->ndim = ndim;
    A->size = 1;
    for (int a = 0; a < ndim; a++) {
        A->shape[a] = shape[a];
        A->size *= shape[a];
        size_t pad = ls->pad ? rnd_below((size_t)ls->pad + 1) : 0;
        ext[a] = shape[a] + pad;
        off[a] = pad ? rnd_below(pad + 1) : 0;
        perm[a] = a;
    }
    if (ls->order == 1) {
        for (int a = 0; a < ndim; a++) perm[a] = ndim - 1 - a;
    } else if (ls->order == 2) {
        for (int a = ndim - 1; a > 0; a--) {
            int b = (int)rnd_below((size_t)a + 1), t = perm[a];
            perm[a] = perm[b];
            perm[b] = t;
        }
    }
    /* perm[0] is the slowest axis in memory, perm[ndim-1] the fastest */
    size_t step = E * (ls->gap ? ls->gap : 1);
    ptrdiff_t st[MAXD];
    for (int k = ndim - 1; k >= 0; k--) {
        int a = perm[k];
        st[a] = (ptrdiff_t)step;
        step *= ext[a];
    }
    size_t total = A->size ? step : 0;
    A->buf_len = total + ls->misalign;
    A->buf = (unsigned char *)xmalloc(A->buf_len);
    memset(A->buf, 0xEE, A->buf_len);
    ptrdiff_t base = (ptrdiff_t)ls->misalign;
    for (int a = 0; a < ndim; a++) {
        int neg = (ls->flip >> a) & 1u;
        A->strides[a] = neg ? -st[a] : st[a];
        if (A->size) base += (ptrdiff_t)(off[a] + (neg ? shape[a] - 1 : 0)) * st[a];
    }
    A->base = A->size ? A->buf + base : A->buf;
}

static void arr_free(arr *A)
{
    free(A->buf);
    A->buf = NULL;
}

/* Address of element idx. */
static unsigned char *arr_at(const arr *A, const size_t *idx)
{
    ptrdiff_t o = 0;
    for (int a = 0; a < A->ndim; a++) o += (ptrdiff_t)idx[a] * A->strides[a];
    return A->base + o;
}

/* Fortran-order odometer: advance idx (first axis fastest); 0 at the end. */
static int next_f(size_t *idx, const size_t *shape, int ndim)
{
    for (int a = 0; a < ndim; a++) {
        if (++idx[a] < shape[a]) return 1;
        idx[a] = 0;
    }
    return 0;
}

/* Fill: mode 0 random labels with long runs in memory order, 1 blocks,
 * 2 constant, 3 random full-width values, 4 two labels at random. */
static void arr_fill(arr *A, int mode, unsigned n_labels)
{
    size_t idx[MAXD] = {0};
    if (!A->size) return;
    unsigned cur = 0;
    uint64_t m = elem_mask(A->E);
    do {
        uint64_t v;
        switch (mode) {
        case 0:
            if (rnd_below(8) == 0) cur = (unsigned)rnd_below(n_labels);
            v = label_value(cur, A->E);
            break;
        case 1: {
            size_t s = 0;
            for (int a = 0; a < A->ndim; a++) s += idx[a] / (size_t)(2 + a);
            v = label_value((unsigned)(s % n_labels), A->E);
            break;
        }
        case 2: v = label_value(3, A->E); break;
        case 3: v = rnd() & m; break;
        default: v = label_value((unsigned)rnd_below(2), A->E); break;
        }
        store(arr_at(A, idx), v, A->E);
    } while (next_f(idx, A->shape, A->ndim));
}

/* The naive reference encoder: runs in Fortran order. Returns the run count;
 * writes at most cap runs. */
static size_t ref_encode(const arr *A, uint64_t *vals, uint64_t *cnts, size_t cap)
{
    size_t idx[MAXD] = {0}, n = 0;
    uint64_t last = 0;
    if (!A->size) return 0;
    do {
        uint64_t v = load(arr_at(A, idx), A->E);
        if (n && v == last) {
            if (n <= cap) cnts[n - 1]++;
            continue;
        }
        if (n < cap) { vals[n] = v; cnts[n] = 1; }
        n++;
        last = v;
    } while (next_f(idx, A->shape, A->ndim));
    return n;
}

/* Writes runs into expected (a copy of A's buffer) the naive way. */
static void ref_decode(const arr *A, unsigned char *expected_buf, const uint64_t *vals,
                       const uint64_t *cnts, size_t n)
{
    size_t idx[MAXD] = {0};
    size_t k = 0;
    uint64_t left = n ? cnts[0] : 0;
    if (!A->size) return;
    do {
        while (left == 0) left = cnts[++k];
        ptrdiff_t o = arr_at(A, idx) - A->buf;
        store(expected_buf + o, vals[k], A->E);
        left--;
    } while (next_f(idx, A->shape, A->ndim));
}

/* ---- encode / decode against the reference ------------------------------------ */

static const layout_spec LAYOUTS[] = {
    {"C", 0, 0, 0, 1, 0},
    {"F", 1, 0, 0, 1, 0},
    {"C-crop", 0, 3, 0, 1, 0},
    {"F-crop", 1, 3, 0, 1, 0},
    {"C-neg", 0, 0, ~0u, 1, 0},
    {"C-neg0", 0, 0, 1u, 1, 0},
    {"C-neglast-crop", 0, 2, 0x8u | 0x4u | 0x2u, 1, 0},
    {"F-neg", 1, 2, 0x5u, 1, 0},
    {"transposed", 2, 0, 0, 1, 0},
    {"transposed-crop-neg", 2, 3, 0x6u, 1, 0},
    {"C-gap", 0, 1, 0, 2, 0},
    {"F-gap", 1, 0, 0x1u, 3, 0},
    {"C-misaligned", 0, 1, 0, 1, 1},
    {"F-misaligned", 1, 0, 0x2u, 1, 3},
};
#define N_LAYOUTS (sizeof LAYOUTS / sizeof LAYOUTS[0])

/* Decode runs into a fresh array of layout ls and compare the whole buffer. */
static void check_decode_into(size_t E, int ndim, const size_t *shape, const layout_spec *ls,
                              const uint64_t *rvals, const uint64_t *rcnts, size_t n)
{
    arr B;
    arr_make(&B, E, ndim, shape, ls);
    unsigned char *values = (unsigned char *)xmalloc(n * E);
    for (size_t k = 0; k < n; k++) store(values + k * E, rvals[k], E);
    unsigned char *expected = (unsigned char *)xmalloc(B.buf_len);
    unsigned char *fresh = (unsigned char *)xmalloc(B.buf_len);   /* the canaries */
    memcpy(expected, B.buf, B.buf_len);
    memcpy(fresh, B.buf, B.buf_len);
    ref_decode(&B, expected, rvals, rcnts, n);

    /* one thread, then 2, 3 and 5 threads (bands of the slowest axis): the same bytes */
    static const unsigned TEAMS[] = {1, 2, 3, 5};
    for (size_t ti = 0; ti < sizeof TEAMS / sizeof TEAMS[0]; ti++) {
        unsigned nt = TEAMS[ti];
        size_t ss = mcrle_decode_scratch_size_mt(E, ndim, shape, B.strides, n, nt);
        if (nt == 1) CHECK_EQ_U(ss, mcrle_decode_scratch_size(E, ndim, shape, B.strides, n));
        mcrle_error_info info = {0, 0};
        memcpy(B.buf, fresh, B.buf_len);
        if (ss > 0) {
            /* one byte short: NOSPACE, out untouched */
            void *small = xmalloc(ss - 1);
            unsigned char *before = (unsigned char *)xmalloc(B.buf_len);
            memcpy(before, B.buf, B.buf_len);
            mcrle_result r = mcrle_decode_mt(values, rcnts, n, E, ndim, shape, B.strides, B.base,
                                             small, ss - 1, &info, nt);
            CHECK_EQ_U(r, MCRLE_ERR_NOSPACE);
            CHECK(memcmp(before, B.buf, B.buf_len) == 0);
            free(small);
            free(before);
        }
        void *scratch = xmalloc(ss);
        mcrle_result r = mcrle_decode_mt(values, rcnts, n, E, ndim, shape, B.strides, B.base,
                                         scratch, ss, &info, nt);
        CHECK_EQ_U(r, MCRLE_OK);
        CHECK(memcmp(expected, B.buf, B.buf_len) == 0);
        free(scratch);
    }
    free(fresh);
    free(expected);
    free(values);
    arr_free(&B);
}

static void check_array(size_t E, int ndim, const size_t *shape, const layout_spec *ls,
                        int mode)
{
    char name[200];
    int p = snprintf(name, sizeof name, "E=%zu %s mode=%d shape=(", E, ls->name, mode);
    for (int a = 0; a < ndim && p < 150; a++)
        p += snprintf(name + p, sizeof name - (size_t)p, "%zu%s", shape[a], a + 1 < ndim ? "," : "");
    snprintf(name + p, sizeof name - (size_t)p, ")");
    case_begin(name);

    arr A;
    arr_make(&A, E, ndim, shape, ls);
    unsigned nl = max_labels(E);
    arr_fill(&A, mode, mode == 1 ? 3 : nl);

    size_t n_ref = ref_encode(&A, NULL, NULL, 0);
    uint64_t *rvals = (uint64_t *)xmalloc(n_ref * sizeof(uint64_t));
    uint64_t *rcnts = (uint64_t *)xmalloc(n_ref * sizeof(uint64_t));
    CHECK_EQ_U(ref_encode(&A, rvals, rcnts, n_ref), n_ref);

    unsigned char *snapshot = (unsigned char *)xmalloc(A.buf_len);
    memcpy(snapshot, A.buf, A.buf_len);

    size_t n = 12345;
    mcrle_result r = mcrle_count_runs(A.base, E, ndim, shape, A.strides, &n);
    CHECK_EQ_U(r, MCRLE_OK);
    CHECK_EQ_U(n, n_ref);

    /* encode with exact capacity; buffers exactly the size needed */
    size_t ss = mcrle_encode_scratch_size(E, ndim, shape, A.strides, n_ref);
    unsigned char *values = (unsigned char *)xmalloc(n_ref * E);
    uint64_t *counts = (uint64_t *)xmalloc(n_ref * sizeof(uint64_t));
    void *scratch = xmalloc(ss);
    size_t got = 777;
    r = mcrle_encode(A.base, E, ndim, shape, A.strides, values, counts, n_ref, &got, scratch, ss);
    CHECK_EQ_U(r, MCRLE_OK);
    CHECK_EQ_U(got, n_ref);
    if (r == MCRLE_OK && got == n_ref) {
        int same = 1;
        for (size_t k = 0; k < n_ref; k++)
            if (load(values + k * E, E) != rvals[k] || counts[k] != rcnts[k]) same = 0;
        CHECK(same);
    }
    if (ss > 0 && n_ref > 0) {   /* scratch one byte short */
        void *small = xmalloc(ss - 1);
        r = mcrle_encode(A.base, E, ndim, shape, A.strides, values, counts, n_ref, &got, small,
                         ss - 1);
        CHECK_EQ_U(r, MCRLE_ERR_NOSPACE);
        free(small);
    }
    free(scratch);
    free(values);
    free(counts);

    /* capacity one short of the run count */
    if (n_ref > 0) {
        size_t cap = n_ref - 1;
        size_t ss2 = mcrle_encode_scratch_size(E, ndim, shape, A.strides, cap);
        unsigned char *v2 = (unsigned char *)xmalloc(cap * E);
        uint64_t *c2 = (uint64_t *)xmalloc(cap * sizeof(uint64_t));
        void *s2 = xmalloc(ss2);
        r = mcrle_encode(A.base, E, ndim, shape, A.strides, cap ? v2 : NULL, cap ? c2 : NULL,
                         cap, &got, s2, ss2);
        CHECK_EQ_U(r, MCRLE_ERR_NOSPACE);
        free(v2);
        free(c2);
        free(s2);
    }
    /* generous capacity: same runs */
    {
        size_t cap = n_ref + 5;
        size_t ss3 = mcrle_encode_scratch_size(E, ndim, shape, A.strides, cap);
        unsigned char *v3 = (unsigned char *)xmalloc(cap * E);
        uint64_t *c3 = (uint64_t *)xmalloc(cap * sizeof(uint64_t));
        void *s3 = xmalloc(ss3);
        r = mcrle_encode(A.base, E, ndim, shape, A.strides, v3, c3, cap, &got, s3, ss3);
        CHECK_EQ_U(r, MCRLE_OK);
        CHECK_EQ_U(got, n_ref);
        if (r == MCRLE_OK && got == n_ref) {
            int same = 1;
            for (size_t k = 0; k < n_ref; k++)
                if (load(v3 + k * E, E) != rvals[k] || c3[k] != rcnts[k]) same = 0;
            CHECK(same);
        }
        free(v3);
        free(c3);
        free(s3);
    }
    /* 2, 3 and 5 threads: the same runs; a first try with a proportional
       split of the capacity may run out of room in one band, then its band_runs plan fits */
    {
        static const unsigned TEAMS[] = {2, 3, 5};
        for (size_t ti = 0; ti < sizeof TEAMS / sizeof TEAMS[0]; ti++) {
            unsigned nt = TEAMS[ti];
            size_t caps[MCRLE_MAX_BANDS], band_runs[MCRLE_MAX_BANDS];
            for (int attempt = 0; attempt < 2; attempt++) {
                size_t cap = n_ref + 5;
                const size_t *plan = NULL;
                if (attempt == 1) {
                    cap = 0;
                    for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) cap += band_runs[b];
                    plan = caps;
                }
                size_t ss4 = mcrle_encode_scratch_size_mt(E, ndim, shape, A.strides, cap, plan, nt);
                unsigned char *v4 = (unsigned char *)xmalloc(cap * E);
                uint64_t *c4 = (uint64_t *)xmalloc(cap * sizeof(uint64_t));
                void *s4 = xmalloc(ss4);
                for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) band_runs[b] = 777;
                r = mcrle_encode_mt(A.base, E, ndim, shape, A.strides, v4, c4, cap, &got, s4, ss4,
                                    plan, band_runs, nt);
                if (r == MCRLE_ERR_NOSPACE && attempt == 0) {
                    size_t sum = 0;
                    for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) {
                        caps[b] = band_runs[b];
                        sum += band_runs[b];
                    }
                    /* the bands' own runs: at least the whole's, one more per band at most */
                    CHECK(sum >= n_ref && sum < n_ref + 2 * nt);
                } else {
                    CHECK_EQ_U(r, MCRLE_OK);
                    CHECK_EQ_U(got, n_ref);
                    if (r == MCRLE_OK && got == n_ref) {
                        int same = 1;
                        for (size_t k = 0; k < n_ref; k++)
                            if (load(v4 + k * E, E) != rvals[k] || c4[k] != rcnts[k]) same = 0;
                        CHECK(same);
                    }
                    attempt = 2;
                }
                free(v4);
                free(c4);
                free(s4);
            }
        }
    }
    /* the input is never written */
    CHECK(memcmp(snapshot, A.buf, A.buf_len) == 0);

    /* decode into a few layouts, including the source's own */
    check_decode_into(E, ndim, shape, ls, rvals, rcnts, n_ref);
    check_decode_into(E, ndim, shape, &LAYOUTS[0], rvals, rcnts, n_ref);
    check_decode_into(E, ndim, shape, &LAYOUTS[1], rvals, rcnts, n_ref);
    check_decode_into(E, ndim, shape, &LAYOUTS[rnd_below(N_LAYOUTS)], rvals, rcnts, n_ref);

    free(snapshot);
    free(rvals);
    free(rcnts);
    arr_free(&A);
    case_end();
}

static void test_arrays(void)
{
    static const size_t shapes1[][1] = {{0}, {1}, {2}, {7}, {33}, {100}, {257}};
    static const size_t shapes2[][2] = {{1, 1}, {3, 5},  {5, 3},  {1, 9},  {9, 1},
                                        {17, 9}, {40, 33}, {2, 64}, {0, 4}, {64, 2},
                                        /* the strip encoder (SSE2, W >= 16): one strip, an
                                           overlapping last strip, rows past a 64-row word */
                                        {64, 16}, {65, 17}, {127, 18}, {129, 31}};
    static const size_t shapes3[][3] = {{2, 3, 4}, {4, 3, 5}, {7, 1, 9}, {9, 8, 7},
                                        {1, 1, 1}, {3, 0, 2}, {1, 16, 5}, {33, 2, 3}};
    static const size_t shapes4[][4] = {{3, 2, 4, 2}, {2, 1, 3, 5}, {5, 4, 1, 1}};
    static const size_t Es[] = {1, 2, 4, 8};
    for (size_t ei = 0; ei < 4; ei++) {
        size_t E = Es[ei];
        for (size_t li = 0; li < N_LAYOUTS; li++) {
            const layout_spec *ls = &LAYOUTS[li];
            for (int mode = 0; mode < 5; mode++) {
                for (size_t s = 0; s < sizeof shapes1 / sizeof shapes1[0]; s++)
                    check_array(E, 1, shapes1[s], ls, mode);
                for (size_t s = 0; s < sizeof shapes2 / sizeof shapes2[0]; s++)
                    check_array(E, 2, shapes2[s], ls, mode);
                for (size_t s = 0; s < sizeof shapes3 / sizeof shapes3[0]; s++)
                    check_array(E, 3, shapes3[s], ls, mode);
                for (size_t s = 0; s < sizeof shapes4 / sizeof shapes4[0]; s++)
                    check_array(E, 4, shapes4[s], ls, mode);
            }
        }
    }
    /* larger arrays: the 32-byte fast paths and runs spanning many columns */
    static const size_t big2[] = {300, 257};
    static const size_t big3[] = {70, 33, 21};
    static const size_t wide2[] = {40, 2100};   /* strip groups: 2 for bytes, 9 for 8-byte */
    for (size_t ei = 0; ei < 4; ei++) {
        for (int mode = 0; mode < 5; mode += 1) {
            check_array(Es[ei], 2, big2, &LAYOUTS[0], mode);
            check_array(Es[ei], 2, big2, &LAYOUTS[1], mode);
            check_array(Es[ei], 2, big2, &LAYOUTS[2], mode);    /* C-crop: row stride > W */
            check_array(Es[ei], 2, big2, &LAYOUTS[5], mode);    /* C-neg0: rows upwards */
            check_array(Es[ei], 2, big2, &LAYOUTS[12], mode);   /* C-misaligned */
            check_array(Es[ei], 2, wide2, &LAYOUTS[0], mode);
            check_array(Es[ei], 3, big3, &LAYOUTS[2], mode);
            check_array(Es[ei], 3, big3, &LAYOUTS[9], mode);
        }
    }
    /* scalars (ndim 0): one element, one run */
    for (size_t ei = 0; ei < 4; ei++) {
        size_t E = Es[ei];
        case_begin("scalar ndim=0");
        unsigned char buf[8];
        store(buf, label_value(3, E), E);
        size_t n = 0;
        CHECK_EQ_U(mcrle_count_runs(buf, E, 0, NULL, NULL, &n), MCRLE_OK);
        CHECK_EQ_U(n, 1);
        unsigned char val[8];
        uint64_t cnt = 0;
        CHECK_EQ_U(mcrle_encode_scratch_size(E, 0, NULL, NULL, 1), 0);
        CHECK_EQ_U(mcrle_encode(buf, E, 0, NULL, NULL, val, &cnt, 1, &n, NULL, 0), MCRLE_OK);
        CHECK_EQ_U(n, 1);
        CHECK_EQ_U(cnt, 1);
        CHECK_EQ_U(load(val, E), label_value(3, E));
        unsigned char out[8] = {0};
        CHECK_EQ_U(mcrle_decode(val, &cnt, 1, E, 0, NULL, NULL, out, NULL, 0, NULL), MCRLE_OK);
        CHECK_EQ_U(load(out, E), label_value(3, E));
        case_end();
    }
}

/* Broadcast inputs (stride 0) encode like the materialised array. */
static void test_broadcast(void)
{
    case_begin("broadcast stride 0");
    uint32_t row[5] = {1, 1, 2, 2, 1};
    size_t shape[2] = {4, 5};
    ptrdiff_t strides[2] = {0, 4};   /* 4 identical rows */
    size_t n = 0;
    CHECK_EQ_U(mcrle_count_runs(row, 4, 2, shape, strides, &n), MCRLE_OK);
    /* Fortran order: columns of 4 equal values: 1 1 | 2 2 | 1 -> runs 1(8),2(8),1(4) */
    CHECK_EQ_U(n, 3);
    size_t ss = mcrle_encode_scratch_size(4, 2, shape, strides, n);
    void *scratch = xmalloc(ss);
    uint32_t vals[3];
    uint64_t cnts[3];
    CHECK_EQ_U(mcrle_encode(row, 4, 2, shape, strides, vals, cnts, 3, &n, scratch, ss), MCRLE_OK);
    CHECK_EQ_U(n, 3);
    CHECK(vals[0] == 1 && vals[1] == 2 && vals[2] == 1);
    CHECK(cnts[0] == 8 && cnts[1] == 8 && cnts[2] == 4);
    free(scratch);

    ptrdiff_t strides_col[2] = {4, 0};   /* 5 identical columns */
    CHECK_EQ_U(mcrle_count_runs(row, 4, 2, shape, strides_col, &n), MCRLE_OK);
    /* column = 1 1 2 2, repeated 5 times: 1(2) 2(2) 1(2) 2(2) ... -> 10 runs */
    CHECK_EQ_U(n, 9 + 1);
    case_end();
}

/* Hand-checked runs on a tiny 2D array in both orders. */
static void test_known_runs(void)
{
    case_begin("known runs 2x3");
    /* logical array [[1,1,2],[1,3,2]], Fortran order: 1 1 1 3 2 2 */
    uint8_t c_order[6] = {1, 1, 2, 1, 3, 2};
    uint8_t f_order[6] = {1, 1, 1, 3, 2, 2};
    size_t shape[2] = {2, 3};
    ptrdiff_t sc[2] = {3, 1}, sf[2] = {1, 2};
    uint8_t vals[3];
    uint64_t cnts[3];
    size_t n = 0;
    size_t ss = mcrle_encode_scratch_size(1, 2, shape, sc, 3);
    CHECK(ss > 0);
    void *scratch = xmalloc(ss);
    CHECK_EQ_U(mcrle_encode(c_order, 1, 2, shape, sc, vals, cnts, 3, &n, scratch, ss), MCRLE_OK);
    CHECK_EQ_U(n, 3);
    CHECK(vals[0] == 1 && vals[1] == 3 && vals[2] == 2);
    CHECK(cnts[0] == 3 && cnts[1] == 1 && cnts[2] == 2);
    CHECK_EQ_U(mcrle_encode_scratch_size(1, 2, shape, sf, 3), 0);
    CHECK_EQ_U(mcrle_encode(f_order, 1, 2, shape, sf, vals, cnts, 3, &n, NULL, 0), MCRLE_OK);
    CHECK_EQ_U(n, 3);
    CHECK(vals[0] == 1 && vals[1] == 3 && vals[2] == 2);
    CHECK(cnts[0] == 3 && cnts[1] == 1 && cnts[2] == 2);
    uint8_t out[6];
    memset(out, 0, sizeof out);
    size_t ds = mcrle_decode_scratch_size(1, 2, shape, sc, 3);
    CHECK(ds > 0);
    void *dscratch = xmalloc(ds);
    CHECK_EQ_U(mcrle_decode(vals, cnts, 3, 1, 2, shape, sc, out, dscratch, ds, NULL), MCRLE_OK);
    CHECK(memcmp(out, c_order, 6) == 0);
    CHECK_EQ_U(mcrle_decode_scratch_size(1, 2, shape, sf, 3), 0);
    CHECK_EQ_U(mcrle_decode(vals, cnts, 3, 1, 2, shape, sf, out, NULL, 0, NULL), MCRLE_OK);
    CHECK(memcmp(out, f_order, 6) == 0);
    free(scratch);
    free(dscratch);
    case_end();
}

/* ---- argument errors, scratch sizes, empty arrays ------------------------------- */

static void test_args(void)
{
    size_t shape[2] = {3, 4};
    ptrdiff_t strides[2] = {4, 1};
    unsigned char data[12] = {0};
    size_t n;

    case_begin("shape_size");
    size_t sz = 99;
    CHECK_EQ_U(mcrle_shape_size(0, NULL, &sz), MCRLE_OK);
    CHECK_EQ_U(sz, 1);
    CHECK_EQ_U(mcrle_shape_size(2, shape, &sz), MCRLE_OK);
    CHECK_EQ_U(sz, 12);
    CHECK_EQ_U(mcrle_shape_size(-1, shape, &sz), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_shape_size(MCRLE_MAX_NDIM + 1, shape, &sz), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_shape_size(2, NULL, &sz), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_shape_size(2, shape, NULL), MCRLE_ERR_ARG);
    {
        size_t big[3] = {SIZE_MAX / 2, 3, 1};
        CHECK_EQ_U(mcrle_shape_size(3, big, &sz), MCRLE_ERR_ARG);
        size_t big0[3] = {SIZE_MAX / 2, 3, 0};   /* an empty axis wins */
        CHECK_EQ_U(mcrle_shape_size(3, big0, &sz), MCRLE_OK);
        CHECK_EQ_U(sz, 0);
        size_t max32[MCRLE_MAX_NDIM];
        for (int a = 0; a < MCRLE_MAX_NDIM; a++) max32[a] = 1;
        max32[5] = 7;
        CHECK_EQ_U(mcrle_shape_size(MCRLE_MAX_NDIM, max32, &sz), MCRLE_OK);
        CHECK_EQ_U(sz, 7);
    }
    case_end();

    case_begin("bad element size / ndim / NULL");
    CHECK_EQ_U(mcrle_count_runs(data, 3, 2, shape, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 0, 2, shape, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 16, 2, shape, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 1, -1, shape, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 1, MCRLE_MAX_NDIM + 1, shape, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 1, 2, shape, strides, NULL), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 1, 2, NULL, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(data, 1, 2, shape, NULL, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_count_runs(NULL, 1, 2, shape, strides, &n), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_encode(data, 1, 2, shape, strides, NULL, NULL, 0, NULL, NULL, 0),
               MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_encode(NULL, 1, 2, shape, strides, NULL, NULL, 0, &n, NULL, 0),
               MCRLE_ERR_ARG);
    {
        uint64_t c = 12;
        unsigned char v = 0, out[12];
        memset(out, 0x33, sizeof out);
        CHECK_EQ_U(mcrle_decode(&v, &c, 1, 5, 2, shape, strides, out, NULL, 0, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_decode(NULL, &c, 1, 1, 2, shape, strides, out, NULL, 0, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_decode(&v, &c, 1, 1, 2, shape, strides, NULL, NULL, 0, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_decode(&v, NULL, 1, 1, 2, shape, strides, out, NULL, 0, NULL), MCRLE_ERR_ARG);
        /* slab layout without scratch */
        CHECK_EQ_U(mcrle_decode(&v, &c, 1, 1, 2, shape, strides, out, NULL, 0, NULL),
                   MCRLE_ERR_NOSPACE);
        int untouched = 1;
        for (size_t i = 0; i < sizeof out; i++) if (out[i] != 0x33) untouched = 0;
        CHECK(untouched);
    }
    case_end();

    case_begin("scratch sizes");
    ptrdiff_t fstr[2] = {1, 3};
    CHECK(mcrle_encode_scratch_size(1, 2, shape, strides, 5) > 0);
    CHECK(mcrle_decode_scratch_size(1, 2, shape, strides, 5) > 0);
    CHECK(mcrle_encode_scratch_size(1, 2, shape, strides, 50) >
          mcrle_encode_scratch_size(1, 2, shape, strides, 5));
    CHECK(mcrle_decode_scratch_size(1, 2, shape, strides, 50) >
          mcrle_decode_scratch_size(1, 2, shape, strides, 5));
    CHECK_EQ_U(mcrle_encode_scratch_size(1, 2, shape, fstr, 5), 0);
    CHECK_EQ_U(mcrle_decode_scratch_size(1, 2, shape, fstr, 5), 0);
    CHECK_EQ_U(mcrle_encode_scratch_size(3, 2, shape, strides, 5), 0);
    CHECK_EQ_U(mcrle_decode_scratch_size(1, -2, shape, strides, 5), 0);
    {
        size_t sh1[1] = {12};
        ptrdiff_t st1[1] = {1};
        CHECK_EQ_U(mcrle_encode_scratch_size(1, 1, sh1, st1, 5), 0);
        CHECK_EQ_U(mcrle_decode_scratch_size(1, 1, sh1, st1, 5), 0);
        size_t sh0[2] = {0, 4};
        CHECK_EQ_U(mcrle_encode_scratch_size(1, 2, sh0, strides, 5), 0);
        CHECK_EQ_U(mcrle_decode_scratch_size(1, 2, sh0, strides, 5), 0);
        /* absurd run counts do not overflow: SIZE_MAX, which no allocation satisfies */
        CHECK_EQ_U(mcrle_encode_scratch_size(1, 2, shape, strides, SIZE_MAX), SIZE_MAX);
        CHECK_EQ_U(mcrle_decode_scratch_size(1, 2, shape, strides, SIZE_MAX), SIZE_MAX);
        CHECK_EQ_U(mcrle_encode_scratch_size(1, 2, shape, strides, SIZE_MAX / 3), SIZE_MAX);
    }
    case_end();

    case_begin("empty arrays");
    {
        size_t sh0[3] = {4, 0, 3};
        ptrdiff_t st0[3] = {1, 4, 0};
        n = 5;
        CHECK_EQ_U(mcrle_count_runs(NULL, 4, 3, sh0, st0, &n), MCRLE_OK);
        CHECK_EQ_U(n, 0);
        n = 5;
        CHECK_EQ_U(mcrle_encode(NULL, 4, 3, sh0, st0, NULL, NULL, 0, &n, NULL, 0), MCRLE_OK);
        CHECK_EQ_U(n, 0);
        mcrle_error_info info = {7, 7};
        CHECK_EQ_U(mcrle_decode(NULL, NULL, 0, 4, 3, sh0, st0, NULL, NULL, 0, &info), MCRLE_OK);
        uint64_t c = 1;
        uint32_t v = 9;
        CHECK_EQ_U(mcrle_decode(&v, &c, 1, 4, 3, sh0, st0, NULL, NULL, 0, &info),
                   MCRLE_ERR_COUNTS_LONG);
        CHECK_EQ_U(info.index, 0);
        CHECK_EQ_U(info.sum, 1);
        CHECK_EQ_U(mcrle_count_runs(NULL, 4, 3, sh0, st0, NULL), MCRLE_ERR_ARG);
    }
    case_end();

    case_begin("result names");
    for (int r = 0; r <= 10; r++) {
        const char *s = mcrle_result_name((mcrle_result)r);
        CHECK(s != NULL && s[0] != '\0');
    }
    CHECK(strcmp(mcrle_result_name(MCRLE_OK), "ok") == 0);
    CHECK(strcmp(mcrle_result_name((mcrle_result)99), "unknown result") == 0);
    case_end();
}

/* ---- count validation and decode errors ------------------------------------------- */

static void check_counts_case(const char *name, const uint64_t *counts, size_t n, uint64_t size,
                              mcrle_result want, size_t want_index, uint64_t want_sum)
{
    case_begin(name);
    mcrle_error_info info = {12345, 12345};
    mcrle_result r = mcrle_check_counts(counts, n, size, &info);
    CHECK_EQ_U(r, want);
    if (want != MCRLE_OK) {
        CHECK_EQ_U(info.index, want_index);
        CHECK_EQ_U(info.sum, want_sum);
    }
    CHECK_EQ_U(mcrle_check_counts(counts, n, size, NULL), want);

    /* mcrle_decode gives the same answer for a 1D array of that size when
     * it is small (2D C and F too); on error a slab layout (2D C) is left
     * untouched, the others may hold the runs before the bad one, and no
     * byte outside the elements is ever written */
    if (size <= 64) {
        for (int lay = 0; lay < 3; lay++) {
            unsigned char out[64 + 16], vals[64];
            memset(out, 0xA7, sizeof out);
            for (size_t k = 0; k < n && k < 64; k++) vals[k] = (unsigned char)(k + 1);
            size_t shape[2];
            ptrdiff_t strides[2];
            int ndim;
            if (lay == 0 || size % 2 != 0) {
                ndim = 1; shape[0] = (size_t)size; strides[0] = 1;
            } else if (lay == 1) {
                ndim = 2; shape[0] = 2; shape[1] = (size_t)size / 2; strides[0] = 1; strides[1] = 2;
            } else {
                ndim = 2; shape[0] = 2; shape[1] = (size_t)size / 2;
                strides[0] = (ptrdiff_t)size / 2; strides[1] = 1;
            }
            size_t ss = mcrle_decode_scratch_size(1, ndim, shape, strides, n);
            void *scratch = ss ? xmalloc(ss) : NULL;
            mcrle_error_info info2 = {1, 1};
            if (n <= 64) {
                r = mcrle_decode(vals, counts, n, 1, ndim, shape, strides, out + 8, scratch, ss, &info2);
                CHECK_EQ_U(r, want);
                if (want != MCRLE_OK) {
                    CHECK_EQ_U(info2.index, want_index);
                    CHECK_EQ_U(info2.sum, want_sum);
                    int untouched = 1, outside = 1;
                    for (size_t i = 0; i < sizeof out; i++) {
                        if (out[i] != 0xA7) untouched = 0;
                        if ((i < 8 || i >= 8 + (size_t)size) && out[i] != 0xA7) outside = 0;
                    }
                    CHECK(outside);
                    if (ss > 0) CHECK(untouched);   /* a slab layout: scratch */
                }
            }
            free(scratch);
        }
    }
    case_end();
}

static void test_check_counts(void)
{
    const uint64_t M = UINT64_MAX;
    {
        check_counts_case("counts: empty, size 0", NULL, 0, 0, MCRLE_OK, 0, 0);
        check_counts_case("counts: empty, size 5", NULL, 0, 5, MCRLE_ERR_COUNTS_SHORT, 0, 0);
    }
    {
        uint64_t c[] = {2, 3, 1};
        check_counts_case("counts: exact", c, 3, 6, MCRLE_OK, 0, 0);
    }
    {
        uint64_t c[] = {1, 2, 0, 3};
        check_counts_case("counts: zero at 2", c, 4, 6, MCRLE_ERR_ZERO_COUNT, 2, 3);
    }
    {
        uint64_t c[] = {0};
        check_counts_case("counts: zero at 0", c, 1, 6, MCRLE_ERR_ZERO_COUNT, 0, 0);
    }
    {
        uint64_t c[] = {1, 2};
        check_counts_case("counts: short", c, 2, 5, MCRLE_ERR_COUNTS_SHORT, 2, 3);
    }
    {
        uint64_t c[] = {3, 4};
        check_counts_case("counts: long", c, 2, 5, MCRLE_ERR_COUNTS_LONG, 1, 7);
    }
    {
        uint64_t c[] = {1, 5, 1, 2};   /* info.sum is the full sum */
        check_counts_case("counts: long, full sum reported", c, 4, 4, MCRLE_ERR_COUNTS_LONG, 1, 9);
    }
    {
        uint64_t c[] = {M, 1};
        check_counts_case("counts: UINT64_MAX first", c, 2, 10, MCRLE_ERR_COUNTS_LONG, 0, M);
    }
    {
        uint64_t c[] = {5, M - 2};   /* wraps to 2 */
        check_counts_case("counts: overflow wraps", c, 2, 10, MCRLE_ERR_COUNTS_LONG, 1, M);
        check_counts_case("counts: overflow near max size", c, 2, M, MCRLE_ERR_COUNTS_LONG, 1, M);
    }
    {
        uint64_t c[] = {2, M, M, 4};   /* the sum of all wraps to 2+4-2=4 == size */
        check_counts_case("counts: wrap to exact size", c, 4, 4, MCRLE_ERR_COUNTS_LONG, 1, M);
    }
    {
        uint64_t c[] = {M, 2};   /* wraps to 1 */
        check_counts_case("counts: wrap to size 1", c, 2, 1, MCRLE_ERR_COUNTS_LONG, 0, M);
    }
    {
        uint64_t c[] = {M - 1, 1};
        check_counts_case("counts: sum UINT64_MAX exact", c, 2, M, MCRLE_OK, 0, 0);
        check_counts_case("counts: sum UINT64_MAX short", c, 1, M, MCRLE_ERR_COUNTS_SHORT, 1, M - 1);
    }
    {
        uint64_t c[] = {M};
        check_counts_case("counts: single UINT64_MAX", c, 1, M, MCRLE_OK, 0, 0);
    }
    {
        uint64_t c[] = {1, 1, 0, M};
        check_counts_case("counts: zero before long", c, 4, 2, MCRLE_ERR_ZERO_COUNT, 2, 2);
    }
    {
        uint64_t c[] = {3, 3, 0};
        check_counts_case("counts: long before zero", c, 3, 4, MCRLE_ERR_COUNTS_LONG, 1, 6);
    }
    {
        /* counts of 2^40 and more are valid; they take the precise path */
        uint64_t c[] = {(uint64_t)1 << 40, 5, (uint64_t)1 << 50};
        uint64_t size = ((uint64_t)1 << 40) + 5 + ((uint64_t)1 << 50);
        check_counts_case("counts: large but exact", c, 3, size, MCRLE_OK, 0, 0);
        check_counts_case("counts: large, short", c, 3, size + 1, MCRLE_ERR_COUNTS_SHORT, 3, size);
        check_counts_case("counts: large, long", c, 3, size - 1, MCRLE_ERR_COUNTS_LONG, 2, size);
    }
    /* 2^24 runs and more skip the fast check: still exact */
    {
        size_t n = ((size_t)1 << 24) + 3;
        uint64_t *c = (uint64_t *)malloc(n * sizeof(uint64_t));
        if (c) {
            for (size_t i = 0; i < n; i++) c[i] = 1;
            check_counts_case("counts: 2^24+3 runs, exact", c, n, (uint64_t)n, MCRLE_OK, 0, 0);
            check_counts_case("counts: 2^24+3 runs, long", c, n, (uint64_t)n - 1,
                              MCRLE_ERR_COUNTS_LONG, n - 1, (uint64_t)n);
            c[n - 2] = 0;
            check_counts_case("counts: 2^24+3 runs, zero", c, n, (uint64_t)n,
                              MCRLE_ERR_ZERO_COUNT, n - 2, (uint64_t)n - 2);
            c[n - 2] = 1;
            c[1] = 0;   /* a zero early: the fast sum may still match size */
            c[2] = 2;
            check_counts_case("counts: zero with matching sum", c, n, (uint64_t)n,
                              MCRLE_ERR_ZERO_COUNT, 1, 1);
            free(c);
        }
    }
    {
        uint64_t c[] = {3, 0, 2};   /* sums to size, but has a zero */
        check_counts_case("counts: zero, sum matches", c, 3, 5, MCRLE_ERR_ZERO_COUNT, 1, 3);
    }
    {
        /* wraps to exactly size through counts >= 2^40 */
        uint64_t c[] = {(uint64_t)1 << 63, (uint64_t)1 << 63, 4};
        check_counts_case("counts: wrap through 2^64 to size", c, 3, 4, MCRLE_ERR_COUNTS_LONG, 0,
                          UINT64_MAX);
    }
    case_begin("counts: NULL with n > 0");
    CHECK_EQ_U(mcrle_check_counts(NULL, 1, 1, NULL), MCRLE_ERR_ARG);
    case_end();
}

/* ---- compact strings -------------------------------------------------------------- */

static void check_string(const char *name, const uint64_t *nums, size_t n, size_t delta_from,
                         const char *expected)
{
    case_begin(name);
    size_t cap = mcrle_string_bound(n);
    char *out = (char *)xmalloc(cap);
    size_t len = 999;
    CHECK_EQ_U(mcrle_string_encode(nums, n, delta_from, out, cap, &len), MCRLE_OK);
    size_t el = strlen(expected);
    CHECK_EQ_U(len, el);
    CHECK(len == el && memcmp(out, expected, el) == 0);
    if (len != el || memcmp(out, expected, len < el ? len : el) != 0)
        fprintf(stderr, "  got \"%.*s\", want \"%s\"\n", (int)len, out, expected);
    /* exact capacity works, one less does not */
    if (el > 0) {
        char *exact = (char *)xmalloc(el);
        CHECK_EQ_U(mcrle_string_encode(nums, n, delta_from, exact, el, &len), MCRLE_OK);
        CHECK_EQ_U(mcrle_string_encode(nums, n, delta_from, exact, el - 1, &len), MCRLE_ERR_NOSPACE);
        free(exact);
    }
    /* decode from a buffer of exactly the string's length (no terminator) */
    char *s = (char *)xmalloc(el);
    memcpy(s, expected, el);
    uint64_t *back = (uint64_t *)xmalloc((el ? el : 1) * sizeof(uint64_t));
    size_t m = 999;
    mcrle_error_info info = {0, 0};
    CHECK_EQ_U(mcrle_string_decode(s, el, delta_from, back, el, &m, &info), MCRLE_OK);
    CHECK_EQ_U(m, n);
    if (m == n) {
        int same = 1;
        for (size_t i = 0; i < n; i++) if (back[i] != nums[i]) same = 0;
        CHECK(same);
    }
    if (n > 0) {
        CHECK_EQ_U(mcrle_string_decode(s, el, delta_from, back, n - 1, &m, &info), MCRLE_ERR_NOSPACE);
        CHECK_EQ_U(mcrle_string_decode(s, el, delta_from, back, n, &m, &info), MCRLE_OK);
    }
    free(s);
    free(back);
    free(out);
    case_end();
}

static void check_string_error(const char *name, const char *str, size_t delta_from,
                               mcrle_result want, size_t want_index)
{
    case_begin(name);
    size_t len = strlen(str);
    char *s = (char *)xmalloc(len);
    memcpy(s, str, len);
    uint64_t nums[64];
    size_t m = 999;
    mcrle_error_info info = {777, 777};
    CHECK_EQ_U(mcrle_string_decode(s, len, delta_from, nums, 64, &m, &info), want);
    CHECK_EQ_U(info.index, want_index);
    CHECK_EQ_U(mcrle_string_decode(s, len, delta_from, nums, 64, &m, NULL), want);
    free(s);
    case_end();
}

/* Reference encoder: a literal transcription of pycocotools' rleToString
 * (maskApi.c), with long widened to int64_t. */
static size_t coco_encode(const uint64_t *cnts, size_t m, size_t delta_from, char *s)
{
    size_t p = 0;
    for (size_t i = 0; i < m; i++) {
        int64_t x = (int64_t)cnts[i];
        if (i >= delta_from && i >= 2) x = (int64_t)(cnts[i] - cnts[i - 2]);
        int more = 1;
        while (more) {
            int64_t c = x & 0x1f;
            x = x < 0 ? -((-(x + 1)) >> 5) - 1 : x >> 5;   /* floor division by 32 */
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            c += 48;
            s[p++] = (char)c;
        }
    }
    return p;
}

/*
 * Bands of rows at the sizes that take them (C-ordered outputs of 2 MiB a
 * band and more): a 2D map and a 3D volume with many runs (several chunks of
 * the walk) and few (the walk on the caller), uint8 and uint32, decoded on
 * 2 and 3 threads into C-ordered outputs: the same array as one thread, and
 * the runs encoded back on threads the same as on one.
 */
static void test_rows_bands_large(void)
{
    static const size_t shapes[2][3] = {{2048, 2048, 1}, {64, 128, 512}};
    for (int si = 0; si < 2; si++) {
        int ndim = si == 0 ? 2 : 3;
        size_t sh[3] = {shapes[si][0], shapes[si][1], shapes[si][2]};
        size_t n = sh[0] * sh[1] * sh[2];
        for (size_t E = 1; E <= 4; E += 3) {
            for (int many = 0; many < 2; many++) {
                unsigned char *a = (unsigned char *)xmalloc(n * E);
                uint32_t x = 777u + (uint32_t)si;
                for (size_t i = 0; i < n; i++) {   /* stripes, or noise-like runs */
                    if (many ? (i % 7 == 0) : (i % 4096 == 0)) x = x * 1103515245u + 12345u;
                    uint64_t v = (x >> 16) % 50;
                    memcpy(a + i * E, &v, E);   /* little-endian low bytes; any order will do */
                }
                ptrdiff_t st[3];
                st[ndim - 1] = (ptrdiff_t)E;
                for (int d = ndim - 2; d >= 0; d--) st[d] = st[d + 1] * (ptrdiff_t)sh[d + 1];
                size_t n_runs = 0;
                CHECK_EQ_U(mcrle_count_runs(a, E, ndim, sh, st, &n_runs), MCRLE_OK);
                unsigned char *vals = (unsigned char *)xmalloc(n_runs * E);
                uint64_t *cnts = (uint64_t *)xmalloc(n_runs * sizeof(uint64_t));
                size_t ss = mcrle_encode_scratch_size(E, ndim, sh, st, n_runs), got = 0;
                void *scr = xmalloc(ss);
                CHECK_EQ_U(mcrle_encode(a, E, ndim, sh, st, vals, cnts, n_runs, &got, scr, ss), MCRLE_OK);
                free(scr);
                unsigned char *out = (unsigned char *)xmalloc(n * E);
                for (unsigned nt = 2; nt <= 3; nt++) {
                    memset(out, 0xA5, n * E);
                    ss = mcrle_decode_scratch_size_mt(E, ndim, sh, st, n_runs, nt);
                    scr = xmalloc(ss);
                    CHECK_EQ_U(mcrle_decode_mt(vals, cnts, n_runs, E, ndim, sh, st, out, scr, ss, NULL, nt),
                               MCRLE_OK);
                    CHECK(memcmp(out, a, n * E) == 0);
                    free(scr);
                    /* and back: the row-band encoder, exact capacity */
                    unsigned char *v2 = (unsigned char *)xmalloc(n_runs * E);
                    uint64_t *c2 = (uint64_t *)xmalloc(n_runs * sizeof(uint64_t));
                    ss = mcrle_encode_scratch_size_mt(E, ndim, sh, st, n_runs, NULL, nt);
                    scr = xmalloc(ss);
                    size_t band_runs[MCRLE_MAX_BANDS];
                    mcrle_result r = mcrle_encode_mt(a, E, ndim, sh, st, v2, c2, n_runs, &got, scr, ss,
                                                     NULL, band_runs, nt);
                    free(scr);
                    if (r == MCRLE_ERR_NOSPACE) {   /* a band over its share: the plan fits */
                        size_t sum = 0;
                        for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) sum += band_runs[b];
                        CHECK_EQ_U(sum, n_runs);
                        ss = mcrle_encode_scratch_size_mt(E, ndim, sh, st, n_runs, band_runs, nt);
                        scr = xmalloc(ss);
                        r = mcrle_encode_mt(a, E, ndim, sh, st, v2, c2, n_runs, &got, scr, ss, band_runs,
                                            NULL, nt);
                        free(scr);
                    }
                    CHECK_EQ_U(r, MCRLE_OK);
                    CHECK(got == n_runs && memcmp(v2, vals, n_runs * E) == 0 &&
                          memcmp(c2, cnts, n_runs * sizeof(uint64_t)) == 0);
                    free(v2);
                    free(c2);
                }
                free(out);
                free(vals);
                free(cnts);
                free(a);
            }
        }
    }
}

/*
 * Column layouts on several threads: bands share the work (runs and bytes),
 * so their boundaries fall anywhere, inside runs and inside columns. Runs
 * long in the first half and short in the second (bands of equal elements
 * would be far from equal work), one run over most of the map, into a
 * contiguous column and into columns with a gap below each (the rows past H
 * must stay as they were: a band's room ends where the next band begins),
 * on 2, 3 and 5 threads against one, for every element size.
 */
static void test_column_bands_large(void)
{
    const size_t H = 301, W = 203, n = H * W, pad = 5;
    case_begin("column bands by work, boundaries inside runs and columns");
    uint64_t *cnts = (uint64_t *)xmalloc(n * sizeof(uint64_t));
    for (int kind = 0; kind < 2; kind++) {
        size_t n_runs = 0, total = 0;
        uint32_t x = 4242u + (uint32_t)kind;
        while (total < n) {
            x = x * 1103515245u + 12345u;
            uint64_t c = kind == 1 && n_runs == 3 ? n - total - 100   /* one run: most of the map */
                         : total < n / 2 ? 1 + (x >> 16) % 900 : 1 + (x >> 16) % 4;
            if (c > n - total) c = n - total;
            cnts[n_runs++] = c;
            total += c;
        }
        for (size_t E = 1; E <= 8; E *= 2) {
            unsigned char *vals = (unsigned char *)xmalloc(n_runs * E);
            for (size_t k = 0; k < n_runs; k++) {
                uint64_t v = (k * 2654435761u) ^ (k << 9);
                memcpy(vals + k * E, &v, E);
            }
            for (int gap = 0; gap < 2; gap++) {
                size_t shape[2] = {H, W}, rows = H + (gap ? pad : 0), len = rows * W * E;
                ptrdiff_t st[2] = {(ptrdiff_t)E, (ptrdiff_t)(rows * E)};
                unsigned char *want = (unsigned char *)xmalloc(len), *got = (unsigned char *)xmalloc(len);
                memset(want, 0x5A, len);
                size_t ss = mcrle_decode_scratch_size(E, 2, shape, st, n_runs);
                void *scr = xmalloc(ss ? ss : 1);
                CHECK_EQ_U(mcrle_decode(vals, cnts, n_runs, E, 2, shape, st, want, scr, ss, NULL), MCRLE_OK);
                free(scr);
                for (unsigned nt = 2; nt <= 5; nt += nt == 2 ? 1 : 2) {
                    memset(got, 0x5A, len);
                    ss = mcrle_decode_scratch_size_mt(E, 2, shape, st, n_runs, nt);
                    scr = xmalloc(ss ? ss : 1);
                    CHECK_EQ_U(mcrle_decode_mt(vals, cnts, n_runs, E, 2, shape, st, got, scr, ss, NULL, nt),
                               MCRLE_OK);
                    CHECK(memcmp(got, want, len) == 0);
                    free(scr);
                }
                free(want);
                free(got);
            }
            free(vals);
        }
    }
    free(cnts);
    case_end();
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Distinct values of a large array (8 MiB: pieces on threads; 5000 values: the
 * hash table doubles several times), signed, in C and Fortran layouts: the
 * same sorted list on 1, 2 and 3 threads, and NOSPACE with one slot too few.
 */
static void test_distinct_values_mt(void)
{
    const size_t H = 1024, W = 2048, n = H * W, U = 5000;
    int32_t *a = (int32_t *)xmalloc(n * sizeof *a);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {   /* runs of 1 to 64 of values -2500 .. 2499 */
        if (i % 64 == 0 || (x >> 27) == 0) x = x * 1103515245u + 12345u;
        a[i] = (int32_t)((x >> 8) % U) - (int32_t)(U / 2);
    }
    int64_t *ref = (int64_t *)xmalloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) ref[i] = a[i];
    qsort(ref, n, sizeof *ref, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || ref[i] != ref[u - 1]) ref[u++] = ref[i];
    size_t shape[2] = {H, W};
    ptrdiff_t c_strides[2] = {(ptrdiff_t)(W * 4), 4}, f_strides[2] = {4, (ptrdiff_t)(H * 4)};
    size_t fshape[2] = {H, W};
    for (int layout = 0; layout < 2; layout++) {
        const ptrdiff_t *st = layout ? f_strides : c_strides;
        const size_t *sh = layout ? fshape : shape;
        for (unsigned nt = 1; nt <= 3; nt++) {
            size_t cap = U + 10, got = 0;
            uint64_t *out = (uint64_t *)xmalloc(cap * sizeof *out);
            size_t ss = mcrle_distinct_scratch_size_mt(4, 2, sh, st, cap, nt);
            void *scr = xmalloc(ss);
            CHECK_EQ_U(mcrle_distinct_values_mt(a, MCRLE_KIND_SIGNED, 4, 2, sh, st, out, cap, &got, scr,
                                                ss, nt), MCRLE_OK);
            CHECK_EQ_U(got, u);
            int same = got == u;
            for (size_t k = 0; same && k < u; k++) same = (int64_t)out[k] == ref[k];
            CHECK(same);
            free(scr);
            ss = mcrle_distinct_scratch_size_mt(4, 2, sh, st, u - 1, nt);
            scr = xmalloc(ss);
            CHECK_EQ_U(mcrle_distinct_values_mt(a, MCRLE_KIND_SIGNED, 4, 2, sh, st, out, u - 1, &got,
                                                scr, ss, nt), MCRLE_ERR_NOSPACE);
            free(scr);
            free(out);
        }
    }
    free(ref);
    free(a);
}

/* Long strings on several threads: the same numbers, results and error info as one. */
static void test_string_decode_mt(void)
{
    case_begin("string decode on threads");
    for (int trial = 0; trial < 12; trial++) {
        size_t n = 40000 + rnd_below(120000), df = 2 + (size_t)(trial % 2), len = 0;
        uint64_t *x = (uint64_t *)xmalloc(8 * n), *y = (uint64_t *)xmalloc(8 * n),
                 *z = (uint64_t *)xmalloc(8 * n);
        for (size_t i = 0; i < n; i++) {
            unsigned r = (unsigned)rnd_below(100);
            x[i] = r < 60 ? rnd_below(40) : r < 90 ? rnd() >> 33 : rnd();
        }
        char *s = (char *)xmalloc(13 * n);
        CHECK_EQ_U(mcrle_string_encode(x, n, df, s, 13 * n, &len), MCRLE_OK);
        for (int corrupt = 0; corrupt < 3; corrupt++) {
            if (corrupt == 1) s[rnd_below(len)] = ' ';                  /* a bad character */
            if (corrupt == 2) s[len - 1] = (char)('0' + 32 + (s[len - 1] - '0') % 32);   /* truncated */
            for (unsigned nt = 1; nt <= 5; nt++) {
                size_t n1 = 7, n2 = 9;
                mcrle_error_info i1 = {1, 1}, i2 = {2, 2};
                mcrle_result r1 = mcrle_string_decode(s, len, df, y, n, &n1, &i1);
                mcrle_result r2 = mcrle_string_decode_mt(s, len, df, z, n, &n2, &i2, nt);
                CHECK_EQ_U(r1, r2);
                if (r1 == MCRLE_OK) {
                    CHECK_EQ_U(n1, n2);
                    CHECK(memcmp(y, z, 8 * n1) == 0);
                    if (corrupt == 0) CHECK(n1 == n && memcmp(x, y, 8 * n) == 0);
                } else {
                    CHECK_EQ_U(i1.index, i2.index);
                    CHECK_EQ_U(i1.sum, i2.sum);
                }
                /* room for one number less: NOSPACE either way */
                if (corrupt == 0) CHECK_EQ_U(mcrle_string_decode_mt(s, len, df, z, n - 1, &n2, NULL, nt),
                                             MCRLE_ERR_NOSPACE);
            }
        }
        free(x);
        free(y);
        free(z);
        free(s);
    }
    case_end();
}

static void test_strings(void)
{
    {
        uint64_t c[] = {1, 3, 2, 2, 3, 1, 3, 5};
        /* by hand: 1 3 2 | 2-3=-1 'O' | 3-2=1 | 1-2=-1 'O' | 3-3=0 | 5-1=4 */
        check_string("string: COCO counts delta 3", c, 8, 3, "132O1O04");
        check_string("string: no delta", c, 8, SIZE_MAX, "13223135");
        /* delta from index 2: 2-1=1 */
        check_string("string: delta 2", c, 8, 2, "131O1O04");
        check_string("string: delta 0 is delta 2", c, 8, 0, "131O1O04");
    }
    {
        uint64_t c[] = {100};
        check_string("string: 100", c, 1, 3, "T3");
    }
    {
        uint64_t c[] = {(uint64_t)-100};
        check_string("string: -100", c, 1, 3, "lL");
    }
    {
        uint64_t c[] = {0, 15, 16, 31, 32, (uint64_t)-1, (uint64_t)-16, (uint64_t)-17};
        /* 0 '0'; 15 '?'; 16 "`0"; 31 "o0"; 32 "P1"; -1 'O'; -16 '@'; -17: c=15,x=-1 -> "_O" */
        check_string("string: group boundaries", c, 8, SIZE_MAX, "0?`0o0P1O@_O");
    }
    {
        uint64_t c[] = {UINT64_MAX};
        check_string("string: UINT64_MAX is -1", c, 1, SIZE_MAX, "O");
    }
    {
        uint64_t c[] = {(uint64_t)INT64_MAX};
        check_string("string: INT64_MAX", c, 1, SIZE_MAX, "oooooooooooo7");
    }
    {
        uint64_t c[] = {(uint64_t)1 << 63};
        check_string("string: INT64_MIN", c, 1, SIZE_MAX, "PPPPPPPPPPPPH");
    }
    {
        check_string("string: empty", NULL, 0, 3, "");
    }
    {
        /* deltas that wrap: 0, MAX, then MAX-0 = -1, 0-MAX = 1 */
        uint64_t c[] = {0, UINT64_MAX, UINT64_MAX, 0};
        check_string("string: wrapping deltas", c, 4, 2, "0OO1");
    }
    /* pycocotools transcription agrees on random and extreme numbers */
    {
        static const uint64_t extremes[] = {0, 1, 2, 15, 16, 31, 32, 1023, 1024,
                                            (uint64_t)INT32_MAX, (uint64_t)1 << 32,
                                            (uint64_t)INT64_MAX, (uint64_t)1 << 63,
                                            ((uint64_t)1 << 63) + 1, UINT64_MAX, UINT64_MAX - 1};
        const size_t NE = sizeof extremes / sizeof extremes[0];
        for (int t = 0; t < 400; t++) {
            uint64_t nums[40];
            size_t n = rnd_below(40);
            /* half the lists mostly near the number two back (label maps: the
             * encoder's paths for runs of one- and two-character differences) */
            unsigned near = t % 2 ? 6 : 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t two_back = i >= 2 ? nums[i - 2] : 0;
                switch (rnd_below(4 + near)) {
                case 0: nums[i] = extremes[rnd_below(NE)]; break;
                case 1: nums[i] = rnd(); break;
                case 2: nums[i] = rnd() >> rnd_below(64); break;
                case 3: nums[i] = rnd_below(1000); break;
                case 4: case 5: case 6: nums[i] = two_back + rnd_below(32) - 16; break;
                default: nums[i] = two_back + rnd_below(1024) - 512; break;
                }
            }
            size_t delta_from = t % 3 == 0 ? 3 : (t % 3 == 1 ? SIZE_MAX : rnd_below(5));
            char want[40 * 13 + 1];
            size_t wl = coco_encode(nums, n, delta_from, want);
            want[wl] = '\0';
            char nm[64];
            snprintf(nm, sizeof nm, "string: random %d", t);
            check_string(nm, nums, n, delta_from, want);
        }
    }

    case_begin("string_bound");
    CHECK_EQ_U(mcrle_string_bound(0), 0);
    CHECK_EQ_U(mcrle_string_bound(1), 13);
    CHECK_EQ_U(mcrle_string_bound(10), 130);
    CHECK_EQ_U(mcrle_string_bound(SIZE_MAX / 13), (SIZE_MAX / 13) * 13);
    CHECK_EQ_U(mcrle_string_bound(SIZE_MAX / 13 + 1), SIZE_MAX);
    CHECK_EQ_U(mcrle_string_bound(SIZE_MAX), SIZE_MAX);
    case_end();

    check_string_error("string err: space", "12 3", 3, MCRLE_ERR_BAD_CHAR, 2);
    check_string_error("string err: '/' below '0'", "/", 3, MCRLE_ERR_BAD_CHAR, 0);
    check_string_error("string err: 'p' above 'o'", "11p", 3, MCRLE_ERR_BAD_CHAR, 2);
    check_string_error("string err: bad char inside number", "1P\x80", 3, MCRLE_ERR_BAD_CHAR, 2);
    check_string_error("string err: truncated", "1P", 3, MCRLE_ERR_TRUNCATED, 2);
    check_string_error("string err: truncated long", "00PPPP", 3, MCRLE_ERR_TRUNCATED, 6);
    /* 13 groups is the most: a 14th character is an error at the number's start */
    check_string_error("string err: too long", "1PPPPPPPPPPPPP0", 3, MCRLE_ERR_NUMBER_TOO_LONG, 1);
    check_string_error("string err: bad char beats too long", "PPPPPPPPPPPPP~", 3,
                       MCRLE_ERR_BAD_CHAR, 13);

    case_begin("string: 13 groups accepted, non-canonical");
    {
        uint64_t nums[4];
        size_t m = 0;
        CHECK_EQ_U(mcrle_string_decode("PPPPPPPPPPPP0", 13, 3, nums, 4, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(m, 1);
        CHECK_EQ_U(nums[0], 0);
        /* 13th group's bits past 63 are dropped, no sign extension past 64 bits */
        CHECK_EQ_U(mcrle_string_decode("ooooooooooooO", 13, 3, nums, 4, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(nums[0], UINT64_MAX);
        CHECK_EQ_U(mcrle_string_decode("oooooooooooo7", 13, 3, nums, 4, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(nums[0], (uint64_t)INT64_MAX);
    }
    case_end();

    case_begin("string: decode args");
    {
        uint64_t nums[4];
        size_t m = 5;
        CHECK_EQ_U(mcrle_string_decode(NULL, 0, 3, NULL, 0, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(m, 0);
        CHECK_EQ_U(mcrle_string_decode(NULL, 3, 3, nums, 4, &m, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_string_decode("1", 1, 3, nums, 4, NULL, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_string_decode("12", 2, 3, NULL, 0, &m, NULL), MCRLE_ERR_NOSPACE);
        /* len bounds the read: the rest of the buffer is never looked at */
        CHECK_EQ_U(mcrle_string_decode("12 garbage", 2, 3, nums, 2, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(m, 2);
        size_t len = 9;
        char out[4];
        CHECK_EQ_U(mcrle_string_encode(NULL, 0, 3, NULL, 0, &len), MCRLE_OK);
        CHECK_EQ_U(len, 0);
        CHECK_EQ_U(mcrle_string_encode(nums, 1, 3, out, 4, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_string_encode(NULL, 1, 3, out, 4, &len), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_string_encode(nums, 1, 3, NULL, 4, &len), MCRLE_ERR_ARG);
    }
    case_end();
}

/* ---- value narrowing -------------------------------------------------------------- */

static void check_narrow(const char *name, uint64_t x, int is_signed, mcrle_kind kind, size_t E,
                         int ok)
{
    case_begin(name);
    uint64_t nums[3] = {0, x, 1};
    unsigned char out[3 * 8 + 1];
    memset(out, 0x5C, sizeof out);
    mcrle_error_info info = {99, 99};
    mcrle_result r = mcrle_narrow_values(nums, 3, is_signed, kind, E, out, &info);
    CHECK_EQ_U(r, ok ? MCRLE_OK : MCRLE_ERR_VALUE_RANGE);
    if (ok) {
        CHECK_EQ_U(load(out, E), 0);
        CHECK_EQ_U(load(out + E, E), x & elem_mask(E));
        CHECK_EQ_U(load(out + 2 * E, E), 1);
        CHECK_EQ_U(out[3 * E], 0x5C);
    } else {
        CHECK_EQ_U(info.index, 1);
        CHECK_EQ_U(info.sum, x);
    }
    /* in place: out aliases numbers */
    uint64_t inplace[3] = {0, x, 1};
    r = mcrle_narrow_values(inplace, 3, is_signed, kind, E, inplace, NULL);
    CHECK_EQ_U(r, ok ? MCRLE_OK : MCRLE_ERR_VALUE_RANGE);
    if (ok) {
        const unsigned char *b = (const unsigned char *)inplace;
        CHECK_EQ_U(load(b, E), 0);
        CHECK_EQ_U(load(b + E, E), x & elem_mask(E));
        CHECK_EQ_U(load(b + 2 * E, E), 1);
    }
    case_end();
}

static void test_narrow(void)
{
    const int S = 1, U = 0;
    const uint64_t M = UINT64_MAX;
    check_narrow("narrow: u8 255", 255, U, MCRLE_KIND_UNSIGNED, 1, 1);
    check_narrow("narrow: u8 256", 256, U, MCRLE_KIND_UNSIGNED, 1, 0);
    check_narrow("narrow: u8 from signed -1", M, S, MCRLE_KIND_UNSIGNED, 1, 0);
    check_narrow("narrow: u8 from signed 255", 255, S, MCRLE_KIND_UNSIGNED, 1, 1);
    check_narrow("narrow: i8 -128", (uint64_t)-128, S, MCRLE_KIND_SIGNED, 1, 1);
    check_narrow("narrow: i8 -129", (uint64_t)-129, S, MCRLE_KIND_SIGNED, 1, 0);
    check_narrow("narrow: i8 127", 127, S, MCRLE_KIND_SIGNED, 1, 1);
    check_narrow("narrow: i8 128", 128, S, MCRLE_KIND_SIGNED, 1, 0);
    check_narrow("narrow: i8 from unsigned 128", 128, U, MCRLE_KIND_SIGNED, 1, 0);
    check_narrow("narrow: i8 from unsigned -1 pattern", M, U, MCRLE_KIND_SIGNED, 1, 0);
    check_narrow("narrow: u16 65535", 65535, U, MCRLE_KIND_UNSIGNED, 2, 1);
    check_narrow("narrow: u16 65536", 65536, U, MCRLE_KIND_UNSIGNED, 2, 0);
    check_narrow("narrow: i16 -32768", (uint64_t)-32768, S, MCRLE_KIND_SIGNED, 2, 1);
    check_narrow("narrow: i16 32768", 32768, S, MCRLE_KIND_SIGNED, 2, 0);
    check_narrow("narrow: u32 max", 0xFFFFFFFFu, U, MCRLE_KIND_UNSIGNED, 4, 1);
    check_narrow("narrow: u32 max+1", 0x100000000u, U, MCRLE_KIND_UNSIGNED, 4, 0);
    check_narrow("narrow: i32 min", (uint64_t)(int64_t)INT32_MIN, S, MCRLE_KIND_SIGNED, 4, 1);
    check_narrow("narrow: i32 min-1", (uint64_t)((int64_t)INT32_MIN - 1), S, MCRLE_KIND_SIGNED, 4, 0);
    check_narrow("narrow: u64 max", M, U, MCRLE_KIND_UNSIGNED, 8, 1);
    check_narrow("narrow: u64 from signed -1", M, S, MCRLE_KIND_UNSIGNED, 8, 0);
    check_narrow("narrow: u64 from signed INT64_MAX", (uint64_t)INT64_MAX, S, MCRLE_KIND_UNSIGNED, 8, 1);
    check_narrow("narrow: i64 min", (uint64_t)1 << 63, S, MCRLE_KIND_SIGNED, 8, 1);
    check_narrow("narrow: i64 from unsigned 2^63", (uint64_t)1 << 63, U, MCRLE_KIND_SIGNED, 8, 0);
    check_narrow("narrow: i64 from unsigned INT64_MAX", (uint64_t)INT64_MAX, U, MCRLE_KIND_SIGNED, 8, 1);
    check_narrow("narrow: bool 1", 1, U, MCRLE_KIND_BOOL, 1, 1);
    check_narrow("narrow: bool 2", 2, U, MCRLE_KIND_BOOL, 1, 0);
    check_narrow("narrow: bool from signed -1", M, S, MCRLE_KIND_BOOL, 1, 0);

    /* widen is the inverse of narrow for every value an element can hold */
    static const mcrle_kind kinds[3] = {MCRLE_KIND_BOOL, MCRLE_KIND_SIGNED, MCRLE_KIND_UNSIGNED};
    static const size_t sizes[4] = {1, 2, 4, 8};
    for (int ki = 0; ki < 3; ki++) {
        for (int si = 0; si < 4; si++) {
            size_t E = sizes[si];
            if (kinds[ki] == MCRLE_KIND_BOOL && E != 1) continue;
            case_begin("widen/narrow round trip");
            unsigned char elems[64 * 8];
            uint64_t wide[64];
            for (size_t i = 0; i < sizeof elems; i++) elems[i] = (unsigned char)rnd();
            if (kinds[ki] == MCRLE_KIND_BOOL)
                for (size_t i = 0; i < 64; i++) elems[i] &= 1;
            CHECK_EQ_U(mcrle_widen_values(elems, 64, kinds[ki], E, wide), MCRLE_OK);
            int ok = 1;
            for (size_t i = 0; i < 64; i++) {
                uint64_t raw = load(elems + i * E, E), want = raw;
                if (kinds[ki] == MCRLE_KIND_SIGNED && E < 8 && (raw >> (8 * E - 1)))
                    want = raw | ~elem_mask(E);   /* sign-extended */
                if (wide[i] != want) ok = 0;
            }
            CHECK(ok);
            unsigned char back[64 * 8];
            CHECK_EQ_U(mcrle_narrow_values(wide, 64, kinds[ki] == MCRLE_KIND_SIGNED, kinds[ki], E,
                                           back, NULL), MCRLE_OK);
            CHECK(memcmp(back, elems, 64 * E) == 0);
            /* in place (out is wide itself), and one number out of range anywhere
               (-2^63 for signed kinds, 2^64 - 1 else): found */
            uint64_t same[64];
            memcpy(same, wide, sizeof same);
            CHECK_EQ_U(mcrle_narrow_values(same, 64, kinds[ki] == MCRLE_KIND_SIGNED, kinds[ki], E,
                                           same, NULL), MCRLE_OK);
            CHECK(memcmp(same, elems, 64 * E) == 0);
            if (E < 8) {   /* (every number fits an 8-byte element read as its kind) */
                for (size_t at = 0; at < 64; at += 9) {
                    memcpy(same, wide, sizeof same);
                    same[at] = kinds[ki] == MCRLE_KIND_SIGNED ? (uint64_t)1 << 63 : ~(uint64_t)0;
                    mcrle_error_info info = {0, 0};
                    CHECK_EQ_U(mcrle_narrow_values(same, 64, kinds[ki] == MCRLE_KIND_SIGNED, kinds[ki], E, at % 2 ? (void *)same : (void *)back,
                                                   &info), MCRLE_ERR_VALUE_RANGE);
                    CHECK_EQ_U(info.index, at);
                }
            }
            case_end();
        }
    }
    case_begin("narrow in place: 1000 numbers (several of its 256-number chunks)");
    {
        static uint64_t big[1000], want[1000];
        for (size_t E = 1; E <= 4; E *= 2) {
            for (size_t i = 0; i < 1000; i++) want[i] = big[i] = rnd() & elem_mask(E);
            CHECK_EQ_U(mcrle_narrow_values(big, 1000, 0, MCRLE_KIND_UNSIGNED, E, big, NULL), MCRLE_OK);
            int same = 1;
            for (size_t i = 0; i < 1000; i++)
                if (load((const unsigned char *)big + i * E, E) != want[i]) same = 0;
            CHECK(same);
            /* one out of range in the third chunk: found there */
            for (size_t i = 0; i < 1000; i++) big[i] = want[i];
            big[700] = elem_mask(E) + 1;
            mcrle_error_info info = {0, 0};
            CHECK_EQ_U(mcrle_narrow_values(big, 1000, 0, MCRLE_KIND_UNSIGNED, E, big, &info),
                       MCRLE_ERR_VALUE_RANGE);
            CHECK_EQ_U(info.index, 700);
            CHECK_EQ_U(info.sum, elem_mask(E) + 1);
        }
    }
    case_end();
    case_begin("widen: known values and arguments");
    {
        unsigned char b[8] = {0x80, 0xFF, 0x7F, 0x01, 0, 0, 0, 0x80};
        uint64_t w[8];
        CHECK_EQ_U(mcrle_widen_values(b, 3, MCRLE_KIND_SIGNED, 1, w), MCRLE_OK);
        CHECK_EQ_U(w[0], (uint64_t)-128);
        CHECK_EQ_U(w[1], UINT64_MAX);
        CHECK_EQ_U(w[2], 127);
        CHECK_EQ_U(mcrle_widen_values(b, 3, MCRLE_KIND_UNSIGNED, 1, w), MCRLE_OK);
        CHECK_EQ_U(w[0], 0x80);
        CHECK_EQ_U(w[1], 0xFF);
        uint16_t h = 0x8000;
        CHECK_EQ_U(mcrle_widen_values(&h, 1, MCRLE_KIND_SIGNED, 2, w), MCRLE_OK);
        CHECK_EQ_U(w[0], (uint64_t)-32768);
        uint32_t i32 = 0xFFFFFFFEu;
        CHECK_EQ_U(mcrle_widen_values(&i32, 1, MCRLE_KIND_SIGNED, 4, w), MCRLE_OK);
        CHECK_EQ_U(w[0], (uint64_t)-2);
        CHECK_EQ_U(mcrle_widen_values(&i32, 1, MCRLE_KIND_UNSIGNED, 4, w), MCRLE_OK);
        CHECK_EQ_U(w[0], 0xFFFFFFFEu);
        uint64_t i64 = (uint64_t)1 << 63;
        CHECK_EQ_U(mcrle_widen_values(&i64, 1, MCRLE_KIND_SIGNED, 8, w), MCRLE_OK);
        CHECK_EQ_U(w[0], (uint64_t)1 << 63);
        CHECK_EQ_U(mcrle_widen_values(b, 1, MCRLE_KIND_SIGNED, 3, w), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_widen_values(NULL, 1, MCRLE_KIND_SIGNED, 1, w), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_widen_values(b, 1, MCRLE_KIND_SIGNED, 1, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_widen_values(NULL, 0, MCRLE_KIND_SIGNED, 1, NULL), MCRLE_OK);
    }
    case_end();

    case_begin("narrow: arguments");
    uint64_t nums[2] = {1, 0};
    unsigned char out[16];
    CHECK_EQ_U(mcrle_narrow_values(nums, 2, 0, MCRLE_KIND_BOOL, 2, out, NULL), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_narrow_values(nums, 2, 0, MCRLE_KIND_UNSIGNED, 3, out, NULL), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_narrow_values(NULL, 2, 0, MCRLE_KIND_UNSIGNED, 1, out, NULL), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_narrow_values(nums, 2, 0, MCRLE_KIND_UNSIGNED, 1, NULL, NULL), MCRLE_ERR_ARG);
    CHECK_EQ_U(mcrle_narrow_values(NULL, 0, 0, MCRLE_KIND_UNSIGNED, 1, NULL, NULL), MCRLE_OK);
    case_end();
}

/* Counts -> string -> counts -> decode: the pycocotools path end to end. */
static void test_mask_via_string(void)
{
    case_begin("mask -> counts -> string -> counts -> mask");
    enum { H = 37, W = 23 };
    unsigned char mask[H * W];   /* C order, like a numpy image */
    for (size_t i = 0; i < H; i++)
        for (size_t j = 0; j < W; j++) {
            long di = (long)i - 18, dj = (long)j - 11;
            mask[i * W + j] = (unsigned char)(di * di + dj * dj < 80);
        }
    size_t shape[2] = {H, W};
    ptrdiff_t strides[2] = {W, 1};
    size_t n = 0;
    CHECK_EQ_U(mcrle_count_runs(mask, 1, 2, shape, strides, &n), MCRLE_OK);
    size_t ss = mcrle_encode_scratch_size(1, 2, shape, strides, n);
    void *scratch = xmalloc(ss);
    unsigned char *vals = (unsigned char *)xmalloc(n);
    uint64_t *cnts = (uint64_t *)xmalloc(n * sizeof(uint64_t));
    CHECK_EQ_U(mcrle_encode(mask, 1, 2, shape, strides, vals, cnts, n, &n, scratch, ss), MCRLE_OK);
    CHECK(n > 2 && vals[0] == 0);
    size_t cap = mcrle_string_bound(n), len = 0;
    char *s = (char *)xmalloc(cap);
    CHECK_EQ_U(mcrle_string_encode(cnts, n, 3, s, cap, &len), MCRLE_OK);
    uint64_t *back = (uint64_t *)xmalloc(len * sizeof(uint64_t));
    size_t m = 0;
    CHECK_EQ_U(mcrle_string_decode(s, len, 3, back, len, &m, NULL), MCRLE_OK);
    CHECK_EQ_U(m, n);
    CHECK(m == n && memcmp(back, cnts, n * sizeof(uint64_t)) == 0);
    unsigned char out[H * W];
    size_t ds = mcrle_decode_scratch_size(1, 2, shape, strides, n);
    void *dscratch = xmalloc(ds);
    CHECK_EQ_U(mcrle_decode(vals, back, m, 1, 2, shape, strides, out, dscratch, ds, NULL), MCRLE_OK);
    CHECK(memcmp(out, mask, sizeof mask) == 0);
    free(dscratch);
    free(back);
    free(s);
    free(cnts);
    free(vals);
    free(scratch);
    case_end();
}


/* ---- per-group kernels (ops.c) ----------------------------------------------- */

/* A pseudo-random label map of shape H x W (Fortran order), its runs, and
 * the kernels' answers against the map itself. */
static void check_ops_map(const char *name, int ndim, const size_t *shape, unsigned labels,
                          unsigned seed)
{
    char nm[128];
    snprintf(nm, sizeof nm, "ops: %s", name);
    case_begin(nm);
    size_t total = 1;
    for (int a = 0; a < ndim; a++) total *= shape[a];
    unsigned char *f = (unsigned char *)xmalloc(total);   /* Fortran order */
    uint32_t x = seed;
    unsigned char cur = 0;
    for (size_t i = 0; i < total; i++) {
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 7 == 0) cur = (unsigned char)((x >> 8) % labels);
        f[i] = cur;
    }
    unsigned char *vals = (unsigned char *)xmalloc(total);
    uint64_t *cnts = (uint64_t *)xmalloc(total * sizeof(uint64_t));
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        if (i && f[i] == f[i - 1]) { cnts[n - 1]++; continue; }
        vals[n] = f[i];
        cnts[n++] = 1;
    }
    /* sums */
    uint64_t sums[256], ref[256] = {0};
    for (size_t i = 0; i < total; i++) ref[f[i]]++;
    CHECK_EQ_U(mcrle_group_sums(vals, 1, cnts, n, total, 256, sums, NULL), MCRLE_OK);
    CHECK(memcmp(sums, ref, sizeof ref) == 0);
    /* boxes */
    uint64_t *lo = (uint64_t *)xmalloc(256 * (size_t)ndim * 8), *hi = (uint64_t *)xmalloc(256 * (size_t)ndim * 8);
    uint64_t *rlo = (uint64_t *)xmalloc(256 * (size_t)ndim * 8), *rhi = (uint64_t *)xmalloc(256 * (size_t)ndim * 8);
    for (size_t i = 0; i < 256 * (size_t)ndim; i++) { rlo[i] = UINT64_MAX; rhi[i] = 0; }
    for (size_t i = 0; i < total; i++) {
        size_t rest = i;
        for (int a = 0; a < ndim; a++) {
            uint64_t c = rest % shape[a];
            rest /= shape[a];
            size_t at = (size_t)f[i] * (size_t)ndim + (size_t)a;
            if (c < rlo[at]) rlo[at] = c;
            if (c > rhi[at]) rhi[at] = c;
        }
    }
    CHECK_EQ_U(mcrle_group_bbox(vals, 1, cnts, n, ndim, shape, 256, lo, hi, NULL), MCRLE_OK);
    CHECK(memcmp(lo, rlo, 256 * (size_t)ndim * 8) == 0);
    CHECK(memcmp(hi, rhi, 256 * (size_t)ndim * 8) == 0);
    /* relabel through label % 2, into uint16 */
    uint16_t table[256];
    for (unsigned g = 0; g < 256; g++) table[g] = (uint16_t)(1000 + g % 2);
    uint16_t *ov = (uint16_t *)xmalloc(n * 2);
    uint64_t *oc = (uint64_t *)xmalloc(n * 8);
    size_t m = 0;
    CHECK_EQ_U(mcrle_relabel_runs(vals, 1, cnts, n, total, table, 256, 2, ov, oc, n, &m, NULL),
               MCRLE_OK);
    size_t p = 0, ok = 1;
    for (size_t k = 0; k < m && ok; k++) {
        if (k && ov[k] == ov[k - 1]) ok = 0;
        for (uint64_t j = 0; j < oc[k] && ok; j++, p++) ok = table[f[p]] == ov[k];
    }
    CHECK(ok && p == total);
    free(oc); free(ov); free(rhi); free(rlo); free(hi); free(lo); free(cnts); free(vals); free(f);
    case_end();
}

static void test_ops(void)
{
    size_t s2[2] = {37, 23}, s1[1] = {500}, s3[3] = {5, 7, 9}, s4[4] = {3, 4, 2, 5}, tall[2] = {1, 40};
    check_ops_map("2D", 2, s2, 5, 1);
    check_ops_map("2D few labels", 2, s2, 2, 7);
    check_ops_map("1D", 1, s1, 4, 3);
    check_ops_map("3D", 3, s3, 6, 5);
    check_ops_map("4D", 4, s4, 3, 9);
    check_ops_map("one row", 2, tall, 3, 11);

    case_begin("ops: known boxes");
    {
        /* 3 x 4, Fortran order: label 1 at (2,0),(0,1) (a run wrapping a column), label 2 the rest */
        size_t shape[2] = {3, 4};
        unsigned char v[3] = {2, 1, 2};
        uint64_t c[3] = {2, 2, 8};
        uint64_t lo[6], hi[6];
        CHECK_EQ_U(mcrle_group_bbox(v, 1, c, 3, 2, shape, 3, lo, hi, NULL), MCRLE_OK);
        CHECK_EQ_U(lo[2], 0); CHECK_EQ_U(hi[2], 2);   /* label 1 rows: wrap -> all */
        CHECK_EQ_U(lo[3], 0); CHECK_EQ_U(hi[3], 1);   /* label 1 columns 0..1 */
        CHECK_EQ_U(lo[4], 0); CHECK_EQ_U(hi[4], 2);
        CHECK_EQ_U(lo[5], 0); CHECK_EQ_U(hi[5], 3);
        CHECK_EQ_U(lo[0], UINT64_MAX); CHECK_EQ_U(hi[0], 0);   /* label 0: absent */
        /* a run of exactly one column, starting at row 0 */
        unsigned char v2[3] = {0, 1, 0};
        uint64_t c2[3] = {3, 3, 6};
        CHECK_EQ_U(mcrle_group_bbox(v2, 1, c2, 3, 2, shape, 2, lo, hi, NULL), MCRLE_OK);
        CHECK_EQ_U(lo[2], 0); CHECK_EQ_U(hi[2], 2);
        CHECK_EQ_U(lo[3], 1); CHECK_EQ_U(hi[3], 1);
    }
    case_end();

    case_begin("ops: pair sums");
    {
        /* 12 elements: A = 0 0 0 1 1 1 1 2 2 2 2 2, B = 0 1 1 1 1 1 0 0 0 0 2 2 */
        unsigned char ia[3] = {0, 1, 2}, ib[4] = {0, 1, 0, 2};
        uint64_t ca[3] = {3, 4, 5}, cb[4] = {1, 5, 4, 2};
        uint64_t sums[9], want[9] = {1, 2, 0,    /* A 0: B 0 once, B 1 twice */
                                     1, 3, 0,    /* A 1 */
                                     3, 0, 2};   /* A 2 */
        CHECK_EQ_U(mcrle_pair_sums(ia, ca, 3, 3, ib, cb, 4, 3, 1, 12, sums, NULL), MCRLE_OK);
        for (int k = 0; k < 9; k++) CHECK_EQ_U(sums[k], want[k]);
        uint64_t total = 0;
        for (int k = 0; k < 9; k++) total += sums[k];
        CHECK_EQ_U(total, 12);
        /* errors: A's counts, then B's (+ MCRLE_PAIR_B), then A's and B's indices */
        mcrle_error_info info = {0, 0};
        uint64_t bad[3] = {3, 0, 9};
        CHECK_EQ_U(mcrle_pair_sums(ia, bad, 3, 3, ib, cb, 4, 3, 1, 12, sums, &info),
                   MCRLE_ERR_ZERO_COUNT);
        CHECK_EQ_U(info.index, 1);
        CHECK_EQ_U(mcrle_pair_sums(ia, ca, 3, 3, ib, bad, 3, 3, 1, 12, sums, &info),
                   MCRLE_ERR_ZERO_COUNT + MCRLE_PAIR_B);
        CHECK_EQ_U(mcrle_pair_sums(ia, ca, 3, 2, ib, cb, 4, 3, 1, 12, sums, &info),
                   MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(info.index, 2);
        CHECK_EQ_U(info.sum, 2);
        CHECK_EQ_U(mcrle_pair_sums(ia, ca, 3, 3, ib, cb, 4, 2, 1, 12, sums, &info),
                   MCRLE_ERR_VALUE_RANGE + MCRLE_PAIR_B);
        CHECK_EQ_U(info.index, 3);
        CHECK_EQ_U(mcrle_pair_sums(ia, ca, 3, 3, ib, cb, 4, 3, 3, 12, sums, &info), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_pair_sums(NULL, NULL, 0, 1, NULL, NULL, 0, 1, 8, 0, sums, &info), MCRLE_OK);
        CHECK_EQ_U(sums[0], 0);
    }
    case_end();

    case_begin("ops: errors");
    {
        size_t shape[2] = {3, 4};
        unsigned char v[3] = {0, 1, 2};
        uint16_t v16[3] = {0, 1, 300};
        uint64_t c[3] = {2, 2, 8}, zero[3] = {2, 0, 10}, longc[3] = {2, 2, 9}, shortc[3] = {2, 2, 7};
        uint64_t big[3] = {2, UINT64_MAX, 8};
        uint64_t sums[4], lo[8], hi[8], oc[3];
        unsigned char table[4] = {5, 6, 7, 8}, ov[3];
        size_t m = 99;
        mcrle_error_info info = {0, 0};
        CHECK_EQ_U(mcrle_group_sums(v, 1, zero, 3, 12, 4, sums, &info), MCRLE_ERR_ZERO_COUNT);
        CHECK_EQ_U(info.index, 1);
        CHECK_EQ_U(mcrle_group_sums(v, 1, longc, 3, 12, 4, sums, &info), MCRLE_ERR_COUNTS_LONG);
        CHECK_EQ_U(info.index, 2);
        CHECK_EQ_U(mcrle_group_sums(v, 1, shortc, 3, 12, 4, sums, &info), MCRLE_ERR_COUNTS_SHORT);
        CHECK_EQ_U(info.sum, 11);
        CHECK_EQ_U(mcrle_group_sums(v, 1, big, 3, 12, 4, sums, &info), MCRLE_ERR_COUNTS_LONG);
        CHECK_EQ_U(mcrle_group_sums(v16, 2, c, 3, 12, 4, sums, &info), MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(info.index, 2);
        CHECK_EQ_U(info.sum, 300);
        CHECK_EQ_U(mcrle_group_sums(v, 1, c, 3, 12, 2, sums, &info), MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(mcrle_group_sums(v, 3, c, 3, 12, 4, sums, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_group_bbox(v, 1, zero, 3, 2, shape, 4, lo, hi, &info), MCRLE_ERR_ZERO_COUNT);
        CHECK_EQ_U(mcrle_group_bbox(v, 1, longc, 3, 2, shape, 4, lo, hi, &info), MCRLE_ERR_COUNTS_LONG);
        CHECK_EQ_U(mcrle_group_bbox(v, 1, shortc, 3, 2, shape, 4, lo, hi, &info), MCRLE_ERR_COUNTS_SHORT);
        CHECK_EQ_U(mcrle_group_bbox(v16, 2, c, 3, 2, shape, 4, lo, hi, &info), MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(mcrle_group_bbox(v, 1, c, 3, 0, shape, 4, lo, hi, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_group_bbox(v, 1, c, 3, 2, shape, 4, NULL, hi, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_relabel_runs(v, 1, zero, 3, 12, table, 4, 1, ov, oc, 3, &m, &info),
                   MCRLE_ERR_ZERO_COUNT);
        CHECK_EQ_U(m, 0);
        CHECK_EQ_U(mcrle_relabel_runs(v16, 2, c, 3, 12, table, 4, 1, ov, oc, 3, &m, &info),
                   MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(mcrle_relabel_runs(v, 1, c, 3, 12, table, 4, 1, ov, oc, 2, &m, &info),
                   MCRLE_ERR_NOSPACE);
        CHECK_EQ_U(mcrle_relabel_runs(v, 1, c, 3, 12, table, 4, 3, ov, oc, 3, &m, &info),
                   MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_relabel_runs(v, 1, c, 3, 12, table, 4, 1, ov, oc, 3, NULL, &info),
                   MCRLE_ERR_ARG);
        /* equal neighbours merge */
        unsigned char same[4] = {7, 7, 7, 7};
        CHECK_EQ_U(mcrle_relabel_runs(v, 1, c, 3, 12, same, 4, 1, ov, oc, 3, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(m, 1);
        CHECK_EQ_U(oc[0], 12);
        CHECK_EQ_U(ov[0], 7);
        /* no runs, empty array */
        CHECK_EQ_U(mcrle_relabel_runs(NULL, 1, NULL, 0, 0, NULL, 0, 1, NULL, NULL, 0, &m, NULL), MCRLE_OK);
        CHECK_EQ_U(m, 0);
        CHECK_EQ_U(mcrle_group_sums(NULL, 1, NULL, 0, 0, 0, NULL, NULL), MCRLE_OK);
        CHECK_EQ_U(mcrle_group_sums(NULL, 1, NULL, 0, 5, 0, NULL, &info), MCRLE_ERR_COUNTS_SHORT);
    }
    case_end();
}

/* The 64-character fast path of the string decoder against the scalar one. */
static void test_string_fast_path(void)
{
    case_begin("string: long strings, fast path = scalar path");
    uint32_t x = 99;
    for (int t = 0; t < 40; t++) {
        size_t n = 50 + (size_t)t * 37;
        uint64_t *nums = (uint64_t *)xmalloc(n * 8);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            unsigned kind = (x >> 24) % 10;   /* mostly 1-2 characters, some long */
            uint64_t v = kind < 5 ? (x >> 8) % 16 : kind < 9 ? (x >> 8) % 500 : (uint64_t)x * 0x9E3779B97F4A7C15ull;
            nums[i] = v;
        }
        size_t df = t % 4, cap = mcrle_string_bound(n), len = 0;
        char *s = (char *)xmalloc(cap);
        CHECK_EQ_U(mcrle_string_encode(nums, n, df, s, cap, &len), MCRLE_OK);
        CHECK_EQ_U(mcrle_string_count(s, len), n);
        uint64_t *back = (uint64_t *)xmalloc(n * 8);
        size_t m = 0;
        CHECK_EQ_U(mcrle_string_decode(s, len, df, back, n, &m, NULL), MCRLE_OK);
        CHECK(m == n && memcmp(back, nums, n * 8) == 0);
        /* a bad character anywhere: reported at its offset */
        size_t at = (x >> 4) % len;
        char saved = s[at];
        s[at] = '~';
        mcrle_error_info info = {0, 0};
        CHECK_EQ_U(mcrle_string_decode(s, len, df, back, n, &m, &info), MCRLE_ERR_BAD_CHAR);
        CHECK_EQ_U(info.index, at);
        s[at] = saved;
        /* capacity short by one: NOSPACE */
        CHECK_EQ_U(mcrle_string_decode(s, len, df, back, n - 1, &m, NULL), MCRLE_ERR_NOSPACE);
        free(back);
        free(s);
        free(nums);
    }
    case_end();
}

/*
 * The string reader in pieces: numbers of every length (runs of one and two
 * characters, which the AVX2 path reads 8 characters at a time, mixed with
 * 3..13), read with capacities of 1..17 numbers a call, equal the whole decode
 * and the numbers encoded; a number of 14 characters anywhere is reported at
 * its start.
 */
static void test_string_reader_pieces(void)
{
    case_begin("string: reader in pieces, lengths 1..13, too long at any place");
    uint32_t x = 4242;
    for (int t = 0; t < 72; t++) {
        size_t n = 40 + (size_t)t * 29;
        uint64_t *nums = (uint64_t *)xmalloc(n * 8);
        /* short runs, long runs, alternating, random; then walks whose differences two
           back are one character (-16..15: the densest blocks) or one or two */
        unsigned style = (unsigned)t % 6;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            if (style >= 4) {
                uint64_t step = style == 4 ? (x >> 16) % 32 : (x >> 16) % 1024;
                uint64_t before = i >= 2 ? nums[i - 2] : (uint64_t)x << 30;
                nums[i] = before + step - (style == 4 ? 16 : 512);
                continue;
            }
            unsigned bits;
            if (style == 0) bits = (x >> 28) < 12 ? 4 + (x >> 20) % 6 : 12 + (x >> 20) % 50;
            else if (style == 1) bits = (x >> 28) < 12 ? 14 + (x >> 20) % 50 : 4;
            else if (style == 2) bits = i % 2 ? 4 : 20 + (x >> 20) % 8;
            else bits = 1 + (x >> 20) % 64;
            uint64_t v = ((uint64_t)x << 32 | (x * 2654435761u)) >> (64 - bits);
            nums[i] = (x & 1) ? 0 - v : v;   /* both signs, as differences are */
        }
        size_t df = (size_t)t % 5, cap = mcrle_string_bound(n), len = 0;
        char *s = (char *)xmalloc(cap);
        CHECK_EQ_U(mcrle_string_encode(nums, n, df, s, cap, &len), MCRLE_OK);
        uint64_t *back = (uint64_t *)xmalloc(n * 8), *piece = (uint64_t *)xmalloc(n * 8);
        size_t m = 0;
        CHECK_EQ_U(mcrle_string_decode(s, len, df, back, n, &m, NULL), MCRLE_OK);
        CHECK(m == n && memcmp(back, nums, n * 8) == 0);
        mcrle_str_reader rd;
        mcrle_str_reader_init(&rd, s, len, df);
        size_t got = 0, step = 1 + (size_t)t % 17;
        while (got < n) {
            size_t k = 0, want = n - got < step ? n - got : step;
            CHECK_EQ_U(mcrle_str_read(&rd, piece + got, want, &k, NULL), MCRLE_OK);
            CHECK(k == want);
            if (k != want) break;
            got += k;
            step = 1 + (step * 7 + 3) % 17;
        }
        CHECK(got == n && memcmp(piece, nums, n * 8) == 0 && rd.p == len);
        /* 14 characters put over any number: NUMBER_TOO_LONG at its start */
        char *bad = (char *)xmalloc(len + 14);
        size_t at = 0, which = (x >> 5) % n;
        for (size_t i = 0; i < which; i++) while ((unsigned char)s[at++] - 48u >= 32u) {}
        memcpy(bad, s, at);
        memcpy(bad + at, "ooooooooooooo0", 14);
        memcpy(bad + at + 14, s + at, len - at);
        mcrle_error_info info = {0, 0};
        CHECK_EQ_U(mcrle_string_decode(bad, len + 14, df, back, n + 1, &m, &info),
                   MCRLE_ERR_NUMBER_TOO_LONG);
        CHECK_EQ_U(info.index, at);
        free(bad);
        free(piece);
        free(back);
        free(s);
        free(nums);
    }
    case_end();
}

/* ---- kernels on the compact strings ---------------------------------------------- */

static void test_compact_kernels(void)
{
    case_begin("compact: window and relabel from strings = from parsed runs");
    enum { H = 29, W = 41 };
    size_t shape[2] = {H, W}, total = H * W;
    unsigned char f[H * W];
    uint32_t x = 5;
    unsigned char cur = 0;
    for (size_t i = 0; i < total; i++) {
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 9 == 0) cur = (unsigned char)((x >> 8) % 6);
        f[i] = cur;
    }
    uint64_t vals[H * W], cnts[H * W];
    unsigned char v8[H * W];
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        if (i && f[i] == f[i - 1]) { cnts[n - 1]++; continue; }
        vals[n] = f[i];
        v8[n] = f[i];
        cnts[n++] = 1;
    }
    size_t cap = mcrle_string_bound(n), vl = 0, cl = 0;
    char *vs = (char *)xmalloc(cap + 2), *cs = (char *)xmalloc(cap + 2);
    CHECK_EQ_U(mcrle_string_encode(vals, n, 2, vs, cap, &vl), MCRLE_OK);
    CHECK_EQ_U(mcrle_string_encode(cnts, n, 3, cs, cap, &cl), MCRLE_OK);
    CHECK_EQ_U(mcrle_string_count(cs, cl), n);
    size_t boxes[5][4] = {{0, 29, 0, 41}, {3, 10, 5, 20}, {0, 1, 0, 1}, {28, 29, 40, 41}, {5, 5, 2, 9}};
    for (int t = 0; t < 5; t++) {
        size_t st[2] = {boxes[t][0], boxes[t][2]}, sp[2] = {boxes[t][1], boxes[t][3]};
        size_t b = mcrle_window_runs_bound(n, 2, st, sp), n1 = 0, n2 = 0;
        unsigned char *o1 = (unsigned char *)xmalloc(b), *o2 = (unsigned char *)xmalloc(b);
        uint64_t *c1 = (uint64_t *)xmalloc(b * 8), *c2 = (uint64_t *)xmalloc(b * 8);
        CHECK_EQ_U(mcrle_window_runs(v8, cnts, n, 1, 2, shape, st, sp, o1, c1, b, &n1, NULL), MCRLE_OK);
        CHECK_EQ_U(mcrle_window_runs_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, 2, shape, st,
                                             sp, o2, c2, b, &n2, NULL), MCRLE_OK);
        CHECK(n1 == n2 && memcmp(o1, o2, n1) == 0 && memcmp(c1, c2, n1 * 8) == 0);
        /* straight into rows (2 elements of padding each) = the runs decoded */
        size_t h = sp[0] - st[0], wd = sp[1] - st[1], rowb = wd + 2;
        unsigned char *img = (unsigned char *)xmalloc(h * rowb + 1), *ref = (unsigned char *)xmalloc(h * rowb + 1);
        memset(img, 0x5A, h * rowb + 1);
        memset(ref, 0x5A, h * rowb + 1);
        size_t os[2] = {h, wd};
        ptrdiff_t ostr[2] = {(ptrdiff_t)rowb, 1};
        size_t dss = mcrle_decode_scratch_size(1, 2, os, ostr, n1);
        void *dscr = xmalloc(dss + 1);
        CHECK_EQ_U(mcrle_decode(o1, c1, n1, 1, 2, os, ostr, ref, dscr, dss, NULL), MCRLE_OK);
        size_t mr = mcrle_string_count(cs, cl), ss = mcrle_window_decode_scratch_size(mr, st, sp, 1);
        void *scr = xmalloc(ss);
        CHECK_EQ_U(mcrle_window_decode_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, shape, st, sp,
                                               mr, img, (ptrdiff_t)rowb, scr, ss, NULL), MCRLE_OK);
        CHECK(memcmp(img, ref, h * rowb + 1) == 0);
        /* a bad last count: an error, and nothing written */
        char saved = cs[cl - 1];
        cs[cl - 1] = '~';
        memset(img, 0x5A, h * rowb + 1);
        CHECK_EQ_U(mcrle_window_decode_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, shape, st, sp,
                                               mr, img, (ptrdiff_t)rowb, scr, ss, NULL), MCRLE_ERR_BAD_CHAR);
        cs[cl - 1] = saved;
        for (size_t i = 0; i < h * rowb + 1; i++) CHECK(img[i] == 0x5A);
        if (h && wd) {   /* too little scratch, too few runs allowed */
            CHECK_EQ_U(mcrle_window_decode_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, shape, st,
                                                   sp, mr, img, (ptrdiff_t)rowb, scr, ss - 1, NULL),
                       MCRLE_ERR_ARG);
            size_t ss0 = mcrle_window_decode_scratch_size(0, st, sp, 1);
            mcrle_result r0 = mcrle_window_decode_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, shape,
                                                          st, sp, 0, img, (ptrdiff_t)rowb, scr, ss0, NULL);
            CHECK(r0 == MCRLE_OK || r0 == MCRLE_ERR_NOSPACE);
        }
        free(scr); free(dscr); free(ref); free(img);
        free(c2); free(c1); free(o2); free(o1);
    }
    unsigned char table[256], defined[256];
    for (int g = 0; g < 256; g++) { table[g] = (unsigned char)(g / 2); defined[g] = 1; }
    unsigned char ov1[H * W], ov2[H * W];
    uint64_t oc1[H * W], oc2[H * W];
    size_t m1 = 0, m2 = 0;
    CHECK_EQ_U(mcrle_relabel_runs(v8, 1, cnts, n, total, table, 256, 1, ov1, oc1, n, &m1, NULL), MCRLE_OK);
    CHECK_EQ_U(mcrle_relabel_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, total, table, defined, 1,
                                     ov2, oc2, n, &m2, NULL), MCRLE_OK);
    CHECK(m1 == m2 && m1 < n && memcmp(ov1, ov2, m1) == 0 && memcmp(oc1, oc2, m1 * 8) == 0);
    case_end();

    case_begin("compact: malformed strings are refused, also past the window");
    {
        size_t st[2] = {0, 0}, sp[2] = {2, 2}, b = mcrle_window_runs_bound(n, 2, st, sp), k = 0;
        unsigned char *o = (unsigned char *)xmalloc(b);
        uint64_t *c = (uint64_t *)xmalloc(b * 8);
        mcrle_error_info info = {0, 0};
#define WIN(VS, VL, CS, CL, SIG, KIND) \
        mcrle_window_runs_compact(VS, VL, CS, CL, SIG, KIND, 1, 2, shape, st, sp, o, c, b, &k, &info)
#define REL(VS, VL, CS, CL, SIG, KIND) \
        mcrle_relabel_compact(VS, VL, CS, CL, SIG, KIND, total, table, defined, 1, ov2, oc2, n, &k, &info)
        char *bad = (char *)xmalloc(cap + 2);
        /* a bad character in the last count */
        memcpy(bad, cs, cl);
        bad[cl - 1] = '~';
        CHECK_EQ_U(WIN(vs, vl, bad, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_BAD_CHAR);
        CHECK_EQ_U(k, 0);
        CHECK_EQ_U(REL(vs, vl, bad, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_BAD_CHAR);
        /* the counts one number short: fewer counts than values, and their sum short */
        size_t cut = cl;
        while (cut > 0 && (unsigned)(cs[cut - 2] - 48) >= 32) cut--;   /* drop the last number */
        CHECK(WIN(vs, vl, cs, cut - 1, 0, MCRLE_KIND_UNSIGNED) != MCRLE_OK);
        CHECK(REL(vs, vl, cs, cut - 1, 0, MCRLE_KIND_UNSIGNED) != MCRLE_OK);
        /* one value more than counts */
        memcpy(bad, vs, vl);
        bad[vl] = '0';
        CHECK_EQ_U(WIN(bad, vl + 1, cs, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_ARG);
        CHECK_EQ_U(REL(bad, vl + 1, cs, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_ARG);
        /* a value that a bool map cannot hold */
        CHECK_EQ_U(WIN(vs, vl, cs, cl, 0, MCRLE_KIND_BOOL), MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(REL(vs, vl, cs, cl, 0, MCRLE_KIND_BOOL), MCRLE_ERR_VALUE_RANGE);
        /* the last value past 255 ("Z0" ends 300 - ...: any long number will do) */
        uint64_t v2[H * W];
        memcpy(v2, vals, n * 8);
        v2[n - 1] = 300;
        size_t l2 = 0;
        CHECK_EQ_U(mcrle_string_encode(v2, n, 2, bad, cap, &l2), MCRLE_OK);
        CHECK_EQ_U(WIN(bad, l2, cs, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(REL(bad, l2, cs, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_VALUE_RANGE);
        /* the last count one too many, or zero, or 2^63 */
        uint64_t c2[H * W];
        memcpy(c2, cnts, n * 8);
        c2[n - 1] += 1;
        CHECK_EQ_U(mcrle_string_encode(c2, n, 3, bad, cap, &l2), MCRLE_OK);
        CHECK_EQ_U(WIN(vs, vl, bad, l2, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_COUNTS_LONG);
        CHECK_EQ_U(info.index, n - 1);
        CHECK_EQ_U(REL(vs, vl, bad, l2, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_COUNTS_LONG);
        c2[n - 1] = 0;
        CHECK_EQ_U(mcrle_string_encode(c2, n, 3, bad, cap, &l2), MCRLE_OK);
        CHECK_EQ_U(WIN(vs, vl, bad, l2, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_ZERO_COUNT);
        CHECK_EQ_U(REL(vs, vl, bad, l2, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_ZERO_COUNT);
        c2[n - 1] = (uint64_t)1 << 63;
        CHECK_EQ_U(mcrle_string_encode(c2, n, 3, bad, cap, &l2), MCRLE_OK);
        CHECK_EQ_U(WIN(vs, vl, bad, l2, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_COUNTS_LONG);
        CHECK_EQ_U(REL(vs, vl, bad, l2, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_COUNTS_LONG);
        /* an undefined label (relabel) */
        size_t first = 0;   /* the first run of the last run's label */
        while (v8[first] != v8[n - 1]) first++;
        defined[v8[n - 1]] = 0;
        CHECK_EQ_U(REL(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED), MCRLE_ERR_VALUE_RANGE);
        CHECK_EQ_U(info.index, first);
        CHECK_EQ_U(info.sum, v8[n - 1]);
        defined[v8[n - 1]] = 1;
        /* no room */
        CHECK_EQ_U(mcrle_relabel_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, total, table, defined,
                                         1, ov2, oc2, 1, &k, NULL), MCRLE_ERR_NOSPACE);
        CHECK_EQ_U(mcrle_window_runs_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, 2, shape, st,
                                             sp, o, c, 0, &k, NULL), MCRLE_ERR_NOSPACE);
        /* arguments */
        CHECK_EQ_U(mcrle_window_runs_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 3, 2, shape, st,
                                             sp, o, c, b, &k, NULL), MCRLE_ERR_ARG);
        CHECK_EQ_U(mcrle_relabel_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, total, NULL, defined,
                                         1, ov2, oc2, n, &k, NULL), MCRLE_ERR_ARG);
        size_t sp_bad[2] = {30, 2};
        CHECK_EQ_U(mcrle_window_runs_compact(vs, vl, cs, cl, 0, MCRLE_KIND_UNSIGNED, 1, 2, shape, st,
                                             sp_bad, o, c, b, &k, NULL), MCRLE_ERR_ARG);
#undef WIN
#undef REL
        free(bad);
        free(c);
        free(o);
    }
    case_end();
    free(cs);
    free(vs);
}

int main(void)
{
    test_known_runs();
    test_broadcast();
    test_args();
    test_check_counts();
    test_strings();
    test_string_decode_mt();
    test_distinct_values_mt();
    test_rows_bands_large();
    test_column_bands_large();
    test_mask_via_string();
    test_narrow();
    test_arrays();
    test_string_fast_path();
    test_string_reader_pieces();
#if defined(MCRLE_AVX2_DISPATCH)
    if (mcrle_use_pext()) {   /* that was the string decoder with pext: now without */
        mcrle_pext_off = 1;
        test_strings();
        test_string_decode_mt();
        test_string_fast_path();
        test_string_reader_pieces();
        mcrle_pext_off = 0;
    }
    if (__builtin_cpu_supports("avx2")) {   /* that was the AVX2 path: now the SSE2 one */
        mcrle_avx2_off = 1;
        test_arrays();
        test_strings();
        test_string_decode_mt();
        test_string_fast_path();
        test_string_reader_pieces();
        mcrle_avx2_off = 0;
    }
#endif
    test_ops();
    test_compact_kernels();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
