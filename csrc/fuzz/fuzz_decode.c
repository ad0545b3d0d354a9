/*
 * fuzz_decode.c - untrusted runs into mcrle_decode, any output layout.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bit 2 "fix the counts up so
 *           they sum to the array size" (most inputs then decode); bit 3
 *           give one byte less scratch than mcrle_decode_scratch_size;
 *           bit 4 pass no error info
 *   ndim and shape (fuzz_common.h: fz_shape), then the output layout
 *   (fz_arr_make: C, Fortran, permuted, crops, negative strides, gaps,
 *   misaligned), then runs until the input ends, each:
 *     a count: byte c < 0xE0 -> c; 0xE0..0xEF -> ((c & 15) << 8 | next) * 16;
 *              0xF0..0xFE -> UINT64_MAX - (c - 0xF0); 0xFF -> 8 raw bytes
 *     a value: byte v; bit 7 set -> E raw bytes follow, else label v & 7
 * Checks: the result and error info agree with a reference validation
 * (NOSPACE first when the scratch is short: it is checked before the walk
 * that reads the counts); on success the whole output buffer (elements and
 * the gaps between them) equals a canary-filled buffer with the runs
 * written by a naive Fortran-order walk; on any error no byte outside the
 * elements is written, and for a layout with scratch (C order, 2+ axes)
 * none at all.
 */
#include "fuzz_common.h"

#define MAX_RUNS (FZ_MAX_ELEMS + 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    int fixup = (b0 >> 2) & 1, short_scratch = (b0 >> 3) & 1, no_info = (b0 >> 4) & 1;
    size_t shape[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    fz_arr A;
    fz_arr_make(&in, &A, E, ndim, shape, 0);

    /* runs */
    uint64_t *counts = (uint64_t *)fz_malloc(MAX_RUNS * sizeof(uint64_t));
    uint64_t *vals = (uint64_t *)fz_malloc(MAX_RUNS * sizeof(uint64_t));
    size_t n = 0;
    uint64_t sum = 0;
    while (in.n > 0 && n < MAX_RUNS) {
        uint64_t cnt = fz_hostile_count(&in);
        uint8_t v = fz_u8(&in);
        uint64_t val = (v & 0x80) ? fz_bytes(&in, E) : fz_label_value(v & 7u, E);
        if (fixup) {
            if (sum >= A.size) break;
            if (cnt == 0) cnt = 1;
            if (cnt > A.size - sum) cnt = A.size - sum;
        }
        counts[n] = cnt;
        vals[n] = val;
        n++;
        sum += cnt;   /* wraps only without fixup; only used by fixup */
    }
    if (fixup && sum < A.size) {   /* one last run to fill the array */
        counts[n] = A.size - sum;
        vals[n] = fz_label_value((unsigned)n, E);
        n++;
    }

    /* exactly sized inputs for the kernel */
    unsigned char *values = (unsigned char *)fz_malloc(n * E);
    uint64_t *cnts = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
    for (size_t k = 0; k < n; k++) fz_store(values + k * E, vals[k], E);
    memcpy(cnts, counts, n * sizeof(uint64_t));

    size_t ss = mcrle_decode_scratch_size(E, ndim, shape, A.strides, n);
    int scratch_short = short_scratch && ss > 0;
    if (scratch_short) ss--;
    void *scratch = fz_malloc(ss);

    unsigned char *before = (unsigned char *)fz_malloc(A.buf_len);
    memcpy(before, A.buf, A.buf_len);

    mcrle_error_info info = {777, 777};
    mcrle_result r = mcrle_decode(values, cnts, n, E, ndim, shape, A.strides, A.base, scratch, ss,
                                  no_info ? NULL : &info);

    size_t want_index = 0;
    uint64_t want_sum = 0;
    mcrle_result want = fz_ref_check_counts(counts, n, (uint64_t)A.size, &want_index, &want_sum);
    if (A.size > 0 && scratch_short) want = MCRLE_ERR_NOSPACE;
    FZ_ASSERT(r == want);
    if (r == MCRLE_OK) {
        unsigned char *expected = before;   /* canary + reference writes */
        fz_ref_decode(&A, expected, vals, counts, n);
        FZ_ASSERT(memcmp(expected, A.buf, A.buf_len) == 0);
    } else {
        if (ss > 0 || scratch_short) {   /* slab layout: nothing written */
            FZ_ASSERT(memcmp(before, A.buf, A.buf_len) == 0);
        } else {   /* only element bytes may have been written */
            fz_assert_only_elements(&A, before, A.buf);
        }
        if (!no_info && r != MCRLE_ERR_NOSPACE) {
            FZ_ASSERT(info.index == want_index);
            FZ_ASSERT(info.sum == want_sum);
        }
        /* mcrle_check_counts says the same */
        if (r != MCRLE_ERR_NOSPACE) {
            mcrle_error_info info2 = {0, 0};
            FZ_ASSERT(mcrle_check_counts(cnts, n, (uint64_t)A.size, &info2) == r);
            FZ_ASSERT(info2.index == want_index && info2.sum == want_sum);
        }
    }
    /* inputs are never written */
    FZ_ASSERT(memcmp(cnts, counts, n * sizeof(uint64_t)) == 0);
    for (size_t k = 0; k < n; k++) FZ_ASSERT(fz_load(values + k * E, E) == vals[k]);

    free(before);
    free(scratch);
    free(cnts);
    free(values);
    free(vals);
    free(counts);
    fz_arr_free(&A);
    return 0;
}
