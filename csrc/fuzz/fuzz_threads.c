/*
 * fuzz_threads.c - the several-thread kernels (mcrle_encode_mt,
 * mcrle_decode_mt) against the one-thread ones, and mcrle_distinct_values(_mt)
 * against a reference.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bits 2-3 threads - 1
 *           (1..4); bit 4 kind signed (else unsigned; bool for 1-byte
 *           elements with bit 5); bit 6 corrupt the counts for the decode
 *           (from the next bytes: a count set to 0, raised or lowered);
 *           bit 7 give the encode a capacity one short of its plan
 *   ndim and shape (fz_shape), the source layout (fz_arr_make, no
 *   broadcast), the output layout, then the elements in C order: each byte a
 *   label (low 3 bits; 7: the next 8 bytes are a raw element) repeated
 *   (high 5 bits + 1) times; when the input ends the last label repeats.
 * Checks:
 *   - mcrle_encode_mt with threads gives exactly the runs of mcrle_encode
 *     (with a proportional capacity, then, if a band ran out of room, with
 *     the band_runs plan, which must fit); one short of the plan is NOSPACE;
 *   - mcrle_decode_mt with threads, of the runs (or of corrupted counts),
 *     returns what mcrle_decode returns, with the same error info; on
 *     success the output buffer is byte for byte mcrle_decode's, after an
 *     error only elements may differ from before (mcrle.h: unspecified);
 *   - mcrle_distinct_values gives the sorted distinct elements (a reference
 *     sort), NOSPACE with one slot too few;
 *   - the source is never written.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    unsigned nt = 1 + ((b0 >> 2) & 3u);
    int sgn = (b0 >> 4) & 1, is_bool = E == 1 && ((b0 >> 5) & 1), corrupt = (b0 >> 6) & 1;
    int short_cap = (b0 >> 7) & 1;
    mcrle_kind kind = is_bool ? MCRLE_KIND_BOOL : sgn ? MCRLE_KIND_SIGNED : MCRLE_KIND_UNSIGNED;
    size_t shape[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    fz_arr A, B;
    fz_arr_make(&in, &A, E, ndim, shape, 0);
    fz_arr_make(&in, &B, E, ndim, shape, 0);

    fz_fill_labels(&in, &A, E, is_bool);   /* the source, in C order */
    unsigned char *snapshot = (unsigned char *)fz_malloc(A.buf_len);
    memcpy(snapshot, A.buf, A.buf_len);

    /* reference runs and the one-thread kernel */
    size_t n_ref = fz_ref_encode(&A, NULL, NULL, 0);
    uint64_t *rv = (uint64_t *)fz_malloc((n_ref + 1) * 8), *rc = (uint64_t *)fz_malloc((n_ref + 1) * 8);
    FZ_ASSERT(fz_ref_encode(&A, rv, rc, n_ref) == n_ref);

    /* 1. encode on threads */
    {
        size_t band_runs[MCRLE_MAX_BANDS], caps[MCRLE_MAX_BANDS], cap = n_ref + 3, got = 0;
        const size_t *plan = NULL;
        for (int attempt = 0; attempt < 2; attempt++) {
            size_t ss = mcrle_encode_scratch_size_mt(E, ndim, shape, A.strides, cap, plan, nt);
            unsigned char *vals = (unsigned char *)fz_malloc(cap * E);
            uint64_t *cnts = (uint64_t *)fz_malloc(cap * 8);
            void *scr = fz_malloc(ss);
            mcrle_result r = mcrle_encode_mt(A.base, E, ndim, shape, A.strides, cap ? vals : NULL,
                                             cap ? cnts : NULL, cap, &got, scr, ss, plan,
                                             band_runs, nt);
            if (r == MCRLE_ERR_NOSPACE && attempt == 0) {
                size_t sum = 0;
                for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) { caps[b] = band_runs[b]; sum += caps[b]; }
                FZ_ASSERT(sum >= n_ref && sum <= n_ref + MCRLE_MAX_BANDS);
                cap = sum;
                plan = caps;
            } else {
                FZ_ASSERT(r == MCRLE_OK && got == n_ref);
                for (size_t k = 0; k < n_ref; k++)
                    FZ_ASSERT(fz_load(vals + k * E, E) == rv[k] && cnts[k] == rc[k]);
                attempt = 2;
            }
            free(vals);
            free(cnts);
            free(scr);
        }
        if (short_cap && plan && cap > 0) {   /* one short of the plan: NOSPACE */
            caps[0] = caps[0] ? caps[0] - 1 : 0;
            size_t c2 = cap - 1;
            size_t ss = mcrle_encode_scratch_size_mt(E, ndim, shape, A.strides, c2, caps, nt);
            unsigned char *vals = (unsigned char *)fz_malloc(c2 * E + 1);
            uint64_t *cnts = (uint64_t *)fz_malloc(c2 * 8 + 8);
            void *scr = fz_malloc(ss);
            mcrle_result r = mcrle_encode_mt(A.base, E, ndim, shape, A.strides, vals, cnts, c2, &got,
                                             scr, ss, caps, NULL, nt);
            FZ_ASSERT(r == MCRLE_ERR_NOSPACE);
            free(vals);
            free(cnts);
            free(scr);
        }
    }

    /* 2. decode on threads, of the runs or of corrupted counts */
    {
        size_t n = n_ref;
        uint64_t *cnt = (uint64_t *)fz_malloc((n + 1) * 8);
        unsigned char *vals = (unsigned char *)fz_malloc((n + 1) * E);
        memcpy(cnt, rc, n * 8);
        for (size_t k = 0; k < n; k++) fz_store(vals + k * E, rv[k], E);
        if (corrupt && n > 0) {
            size_t at = (size_t)fz_u8(&in) % n;
            uint8_t how = fz_u8(&in);
            if (how % 3 == 0) cnt[at] = 0;
            else if (how % 3 == 1) cnt[at] += (uint64_t)(how >> 2) + 1;
            else cnt[at] = cnt[at] > 1 ? cnt[at] - 1 : UINT64_MAX - (how >> 2);
        }
        unsigned char *one = (unsigned char *)fz_malloc(B.buf_len), *many = (unsigned char *)fz_malloc(B.buf_len);
        memcpy(one, B.buf, B.buf_len);
        memcpy(many, B.buf, B.buf_len);
        mcrle_error_info i1 = {7, 7}, i2 = {7, 7};
        size_t s1 = mcrle_decode_scratch_size(E, ndim, shape, B.strides, n);
        size_t s2 = mcrle_decode_scratch_size_mt(E, ndim, shape, B.strides, n, nt);
        void *sc1 = fz_malloc(s1), *sc2 = fz_malloc(s2);
        mcrle_result r1 = mcrle_decode(vals, cnt, n, E, ndim, shape, B.strides,
                                       one + (B.base - B.buf), sc1, s1, &i1);
        mcrle_result r2 = mcrle_decode_mt(vals, cnt, n, E, ndim, shape, B.strides,
                                          many + (B.base - B.buf), sc2, s2, &i2, nt);
        FZ_ASSERT(r1 == r2);
        if (r1 != MCRLE_OK) FZ_ASSERT(i1.index == i2.index && i1.sum == i2.sum);
        if (r1 == MCRLE_OK) {
            FZ_ASSERT(memcmp(one, many, B.buf_len) == 0);
        } else {   /* elements unspecified after an error (mcrle.h), nothing else written */
            fz_assert_only_elements(&B, B.buf, one);
            fz_assert_only_elements(&B, B.buf, many);
        }
        if (!corrupt) {
            FZ_ASSERT(r1 == MCRLE_OK);
            unsigned char *want = (unsigned char *)fz_malloc(B.buf_len);
            memcpy(want, B.buf, B.buf_len);
            fz_ref_decode(&B, want, rv, rc, n_ref);
            FZ_ASSERT(memcmp(want, many, B.buf_len) == 0);
            free(want);
        }
        free(sc1);
        free(sc2);
        free(one);
        free(many);
        free(cnt);
        free(vals);
    }

    /* 3. distinct values */
    {
        uint64_t *keys = (uint64_t *)fz_malloc((n_ref + 1) * 8);
        uint64_t m = E == 8 ? 0 : (uint64_t)1 << (8 * E - 1), flip = sgn && !is_bool ? (uint64_t)1 << 63 : 0;
        size_t nd = 0;
        for (size_t k = 0; k < n_ref; k++) {
            uint64_t v = rv[k];
            if (flip && E < 8) v = (v ^ m) - m;   /* sign-extended */
            keys[nd++] = v ^ flip;
        }
        qsort(keys, nd, 8, cmp_key);
        size_t u = 0;
        for (size_t k = 0; k < nd; k++)
            if (u == 0 || keys[k] != keys[u - 1]) keys[u++] = keys[k];
        size_t cap = u + 1, got = 0;
        uint64_t *out = (uint64_t *)fz_malloc(cap * 8);
        for (unsigned t = 1; t <= nt; t += nt > 1 ? nt - 1 : 1) {   /* one thread, then nt */
            size_t ss = mcrle_distinct_scratch_size_mt(E, ndim, shape, A.strides, cap, t);
            void *scr = fz_malloc(ss);
            mcrle_result r = mcrle_distinct_values_mt(A.base, kind, E, ndim, shape, A.strides, out,
                                                      cap, &got, scr, ss, t);
            FZ_ASSERT(r == MCRLE_OK && got == u);
            for (size_t k = 0; k < u; k++) FZ_ASSERT((out[k] ^ flip) == keys[k]);
            free(scr);
            if (u > 0) {   /* one slot too few */
                size_t ss2 = mcrle_distinct_scratch_size_mt(E, ndim, shape, A.strides, u - 1, t);
                scr = fz_malloc(ss2);
                r = mcrle_distinct_values_mt(A.base, kind, E, ndim, shape, A.strides, out, u - 1,
                                             &got, scr, ss2, t);
                FZ_ASSERT(r == MCRLE_ERR_NOSPACE);
                free(scr);
            }
        }
        free(out);
        free(keys);
    }
    FZ_ASSERT(memcmp(snapshot, A.buf, A.buf_len) == 0);
    free(snapshot);
    free(rv);
    free(rc);
    fz_arr_free(&A);
    fz_arr_free(&B);
    return 0;
}
