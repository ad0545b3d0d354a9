/*
 * fuzz_roundtrip.c - array -> runs -> array, through every layout.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bits 2-4 labels - 1
 *           (1..8 distinct values, so runs are long); bit 5 raw values
 *           (full-width element bytes from the input instead of labels);
 *           bit 6 the SSE2 paths of the kernels that have AVX2 ones
 *   ndim and shape (fz_shape), the source layout (fz_arr_make, stride-0
 *   broadcast allowed), the target layout (no broadcast), then the data:
 *   each byte gives a label (low 3 bits) and a repeat count (high 5 bits
 *   + 1), filling the array in C order; when the input ends the last
 *   label repeats.
 * Checks: mcrle_count_runs and mcrle_encode agree with the naive reference;
 * encode with one run too little capacity gives NOSPACE, with more gives
 * the same runs; the input is never written; the counts survive the COCO
 * string code; mcrle_decode into the target layout writes exactly the
 * source's elements and nothing between them.
 */
#include "fuzz_common.h"
#include "internal.h"   /* MCRLE_AVX2_DISPATCH, mcrle_avx2_off */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    unsigned n_labels = 1u + ((b0 >> 2) & 7u);
    int raw = (b0 >> 5) & 1;
#if defined(MCRLE_AVX2_DISPATCH)
    mcrle_avx2_off = (b0 >> 6) & 1;
#endif
    size_t shape[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    fz_arr A, B;
    fz_arr_make(&in, &A, E, ndim, shape, 1);
    fz_arr_make(&in, &B, E, ndim, shape, 0);

    /* fill the source in C order */
    if (A.size) {
        size_t idx[FZ_MAXD] = {0};
        uint64_t v = fz_label_value(0, E);
        unsigned rep = 0;
        do {
            if (rep == 0 && in.n > 0) {
                uint8_t b = fz_u8(&in);
                rep = 1u + (b >> 3);
                v = raw ? fz_bytes(&in, E) : fz_label_value((b & 7u) % n_labels, E);
            }
            if (rep) rep--;
            fz_store(fz_at(&A, idx), v, E);
        } while (fz_next_c(idx, A.shape, ndim));
    }
    unsigned char *snapshot = (unsigned char *)fz_malloc(A.buf_len);
    memcpy(snapshot, A.buf, A.buf_len);

    /* reference runs */
    size_t n_ref = fz_ref_encode(&A, NULL, NULL, 0);
    uint64_t *rvals = (uint64_t *)fz_malloc(n_ref * sizeof(uint64_t));
    uint64_t *rcnts = (uint64_t *)fz_malloc(n_ref * sizeof(uint64_t));
    FZ_ASSERT(fz_ref_encode(&A, rvals, rcnts, n_ref) == n_ref);

    size_t n = 99;
    FZ_ASSERT(mcrle_count_runs(A.base, E, ndim, shape, A.strides, &n) == MCRLE_OK);
    FZ_ASSERT(n == n_ref);

    /* encode, exact capacity */
    size_t ss = mcrle_encode_scratch_size(E, ndim, shape, A.strides, n);
    void *scratch = fz_malloc(ss);
    unsigned char *values = (unsigned char *)fz_malloc(n * E);
    uint64_t *counts = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
    size_t got = 99;
    FZ_ASSERT(mcrle_encode(A.base, E, ndim, shape, A.strides, values, counts, n, &got, scratch,
                           ss) == MCRLE_OK);
    FZ_ASSERT(got == n_ref);
    for (size_t k = 0; k < n; k++) {
        FZ_ASSERT(fz_load(values + k * E, E) == rvals[k]);
        FZ_ASSERT(counts[k] == rcnts[k]);
    }
    free(scratch);

    /* one run short: NOSPACE; a few more: the same runs */
    if (n > 0) {
        size_t cap = n - 1;
        size_t ss2 = mcrle_encode_scratch_size(E, ndim, shape, A.strides, cap);
        void *s2 = fz_malloc(ss2);
        unsigned char *v2 = (unsigned char *)fz_malloc(cap * E);
        uint64_t *c2 = (uint64_t *)fz_malloc(cap * sizeof(uint64_t));
        FZ_ASSERT(mcrle_encode(A.base, E, ndim, shape, A.strides, cap ? v2 : NULL,
                               cap ? c2 : NULL, cap, &got, s2, ss2) == MCRLE_ERR_NOSPACE);
        free(c2);
        free(v2);
        free(s2);
    }
    {
        size_t cap = n + 3;
        size_t ss3 = mcrle_encode_scratch_size(E, ndim, shape, A.strides, cap);
        void *s3 = fz_malloc(ss3);
        unsigned char *v3 = (unsigned char *)fz_malloc(cap * E);
        uint64_t *c3 = (uint64_t *)fz_malloc(cap * sizeof(uint64_t));
        FZ_ASSERT(mcrle_encode(A.base, E, ndim, shape, A.strides, v3, c3, cap, &got, s3, ss3) ==
                  MCRLE_OK);
        FZ_ASSERT(got == n);
        FZ_ASSERT(n == 0 || (memcmp(v3, values, n * E) == 0 &&
                             memcmp(c3, counts, n * sizeof(uint64_t)) == 0));
        free(c3);
        free(v3);
        free(s3);
    }
    FZ_ASSERT(memcmp(snapshot, A.buf, A.buf_len) == 0);

    /* counts through the COCO string code */
    {
        size_t cap = mcrle_string_bound(n), len = 0, m = 0;
        char *s = (char *)fz_malloc(cap);
        FZ_ASSERT(mcrle_string_encode(counts, n, 3, s, cap, &len) == MCRLE_OK);
        uint64_t *back = (uint64_t *)fz_malloc((n ? n : 1) * sizeof(uint64_t));
        FZ_ASSERT(mcrle_string_decode(s, len, 3, back, n, &m, NULL) == MCRLE_OK);
        FZ_ASSERT(m == n && (n == 0 || memcmp(back, counts, n * sizeof(uint64_t)) == 0));
        free(back);
        free(s);
    }

    /* decode into the target layout */
    {
        unsigned char *expected = (unsigned char *)fz_malloc(B.buf_len);
        memcpy(expected, B.buf, B.buf_len);
        fz_ref_decode(&B, expected, rvals, rcnts, n);
        size_t ds = mcrle_decode_scratch_size(E, ndim, shape, B.strides, n);
        void *dscratch = fz_malloc(ds);
        mcrle_error_info info = {0, 0};
        FZ_ASSERT(mcrle_decode(values, counts, n, E, ndim, shape, B.strides, B.base, dscratch, ds,
                               &info) == MCRLE_OK);
        FZ_ASSERT(memcmp(expected, B.buf, B.buf_len) == 0);
        /* and element by element against the source */
        if (A.size) {
            size_t idx[FZ_MAXD] = {0};
            do {
                FZ_ASSERT(fz_load(fz_at(&A, idx), E) == fz_load(fz_at(&B, idx), E));
            } while (fz_next_f(idx, shape, ndim));
        }
        free(dscratch);
        free(expected);
    }

    free(counts);
    free(values);
    free(rcnts);
    free(rvals);
    free(snapshot);
    fz_arr_free(&B);
    fz_arr_free(&A);
    return 0;
}
