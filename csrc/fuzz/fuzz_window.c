/*
 * fuzz_window.c - mcrle_window_runs: the runs of a box cut from the runs of
 * the whole array, against a naive crop; also hostile runs.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bit 2 hostile mode (the
 *           runs come from the input, not from an array); bits 3-5 labels - 1
 *           (array mode); bit 6 fix the hostile counts up so they sum to the
 *           array size (most then are valid); bit 7 pass no error info
 *   byte 1: bit 0 an invalid box (start > stop, or stop > shape, on axis
 *           (byte 1 >> 2) % ndim; ARG expected); bit 1 which of the two
 *   ndim and shape (fz_shape: 1-4D, at most 2^16 elements), per axis two
 *   bytes for the box (start = b % (shape + 1), stop = start + b' %
 *   (shape - start + 1)), the layout the box is decoded into (fz_arr_make),
 *   then
 *     array mode: data, each byte a label (low 3 bits) and a repeat count
 *       (high 5 bits + 1), Fortran order; the runs come from mcrle_encode;
 *     hostile mode: runs as in fuzz_decode (a count byte: < 0xE0 as is,
 *       0xE0..0xEF x16, 0xF0..0xFE near UINT64_MAX, 0xFF 8 raw bytes; a
 *       value byte: bit 7 raw element bytes follow, else a label).
 * Checks: the result and error info equal the reference validation
 * (fz_ref_check_counts) or ARG for an invalid box; on success the runs
 * (capacity exactly mcrle_window_runs_bound, buffers exactly that size)
 * are exactly the canonical runs of the naive crop (Fortran order of the
 * box, equal neighbours merged), a capacity of one run less gives NOSPACE,
 * and mcrle_decode of them into the chosen layout writes exactly the crop's
 * elements and nothing between them; the inputs are never written.
 */
#include "fuzz_common.h"

#define MAX_RUNS (FZ_MAX_ELEMS + 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in), b1 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    int hostile = (b0 >> 2) & 1, fixup = (b0 >> 6) & 1, no_info = (b0 >> 7) & 1;
    unsigned n_labels = 1u + ((b0 >> 3) & 7u);
    int bad_box = b1 & 1, bad_kind = (b1 >> 1) & 1;

    size_t shape[FZ_MAXD], start[FZ_MAXD], stop[FZ_MAXD], ws[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    size_t total = 1, wsize = 1;
    for (int a = 0; a < ndim; a++) {
        size_t s = (size_t)fz_u8(&in) % (shape[a] + 1);
        size_t l = (size_t)fz_u8(&in) % (shape[a] - s + 1);
        start[a] = s;
        stop[a] = s + l;
        ws[a] = l;
        total *= shape[a];
        wsize *= l;
    }
    fz_arr W;   /* the box, decoded */
    fz_arr_make(&in, &W, E, ndim, ws, 0);

    /* the whole array, Fortran-contiguous, and its runs */
    unsigned char *full = (unsigned char *)fz_malloc(total * E);
    uint64_t *cnts = NULL;
    unsigned char *values = NULL;
    size_t n = 0;
    int counts_ok;
    if (!hostile) {
        unsigned rep = 0;
        uint64_t v = fz_label_value(0, E);
        for (size_t i = 0; i < total; i++) {
            if (rep == 0 && in.n > 0) {
                uint8_t b = fz_u8(&in);
                rep = 1u + (b >> 3);
                v = fz_label_value((b & 7u) % n_labels, E);
            }
            if (rep) rep--;
            fz_store(full + i * E, v, E);
        }
        ptrdiff_t st[FZ_MAXD];
        size_t step = E;
        for (int a = 0; a < ndim; a++) { st[a] = (ptrdiff_t)step; step *= shape[a]; }
        FZ_ASSERT(mcrle_count_runs(full, E, ndim, shape, st, &n) == MCRLE_OK);
        size_t ss = mcrle_encode_scratch_size(E, ndim, shape, st, n);
        void *scratch = fz_malloc(ss);
        values = (unsigned char *)fz_malloc(n * E);
        cnts = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
        size_t got = 0;
        FZ_ASSERT(mcrle_encode(full, E, ndim, shape, st, values, cnts, n, &got, scratch, ss) ==
                  MCRLE_OK);
        FZ_ASSERT(got == n);
        free(scratch);
        counts_ok = 1;
    } else {
        uint64_t *c = (uint64_t *)fz_malloc(MAX_RUNS * sizeof(uint64_t));
        uint64_t *vv = (uint64_t *)fz_malloc(MAX_RUNS * sizeof(uint64_t));
        uint64_t sum = 0;
        while (in.n > 0 && n < MAX_RUNS) {
            uint64_t cnt = fz_hostile_count(&in);
            uint8_t vb = fz_u8(&in);
            uint64_t val = (vb & 0x80) ? fz_bytes(&in, E) : fz_label_value(vb & 7u, E);
            if (fixup) {
                if (sum >= total) break;
                if (cnt == 0) cnt = 1;
                if (cnt > total - sum) cnt = total - sum;
            }
            c[n] = cnt;
            vv[n] = val;
            n++;
            sum += cnt;
        }
        if (fixup && sum < total) {
            c[n] = total - sum;
            vv[n] = fz_label_value((unsigned)n, E);
            n++;
        }
        cnts = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
        values = (unsigned char *)fz_malloc(n * E);
        memcpy(cnts, c, n * sizeof(uint64_t));
        for (size_t k = 0; k < n; k++) fz_store(values + k * E, vv[k], E);
        free(vv);
        free(c);
        size_t ri = 0;
        uint64_t rs = 0;
        counts_ok = fz_ref_check_counts(cnts, n, (uint64_t)total, &ri, &rs) == MCRLE_OK;
        if (counts_ok) {   /* expand them: the whole array */
            size_t p = 0;
            for (size_t k = 0; k < n; k++)
                for (uint64_t j = 0; j < cnts[k]; j++, p++) memcpy(full + p * E, values + k * E, E);
            FZ_ASSERT(p == total);
        }
    }
    unsigned char *values_copy = (unsigned char *)fz_malloc(n * E);
    uint64_t *cnts_copy = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
    memcpy(values_copy, values, n * E);
    memcpy(cnts_copy, cnts, n * sizeof(uint64_t));

    /* an invalid box */
    if (bad_box) {
        int a = (b1 >> 2) % ndim;
        size_t s2[FZ_MAXD], e2[FZ_MAXD];
        memcpy(s2, start, sizeof s2);
        memcpy(e2, stop, sizeof e2);
        if (bad_kind) e2[a] = shape[a] + 1 + (b1 >> 4);
        else s2[a] = e2[a] + 1 + (b1 >> 4);
        unsigned char ov[8];
        uint64_t oc[1];
        size_t n_out = 99;
        FZ_ASSERT(mcrle_window_runs(values, cnts, n, E, ndim, shape, s2, e2, ov, oc, 1, &n_out,
                                    NULL) == MCRLE_ERR_ARG);
    }

    /* the box */
    size_t bound = mcrle_window_runs_bound(n, ndim, start, stop);
    size_t cols = 1;
    for (int a = 1; a < ndim; a++) cols *= ws[a];
    FZ_ASSERT(bound == n + cols);
    unsigned char *ov = (unsigned char *)fz_malloc(bound * E);
    uint64_t *oc = (uint64_t *)fz_malloc(bound * sizeof(uint64_t));
    size_t n_out = 99;
    mcrle_error_info info = {777, 777};
    mcrle_result r = mcrle_window_runs(values, cnts, n, E, ndim, shape, start, stop, ov, oc, bound,
                                       &n_out, no_info ? NULL : &info);
    size_t want_index = 0;
    uint64_t want_sum = 0;
    mcrle_result want = fz_ref_check_counts(cnts, n, (uint64_t)total, &want_index, &want_sum);
    FZ_ASSERT(r == want);
    FZ_ASSERT((want == MCRLE_OK) == counts_ok);
    if (r != MCRLE_OK) {
        if (!no_info) FZ_ASSERT(info.index == want_index && info.sum == want_sum);
    } else {
        FZ_ASSERT(n_out <= bound);
        FZ_ASSERT(wsize > 0 || n_out == 0);
        /* the reference: the crop in Fortran order, then its canonical runs */
        unsigned char *crop = (unsigned char *)fz_malloc(wsize * E);
        size_t nr = 0;
        if (wsize) {
            size_t idx[FZ_MAXD] = {0}, i = 0;
            do {
                size_t off = 0, mul = 1;
                for (int a = 0; a < ndim; a++) { off += (start[a] + idx[a]) * mul; mul *= shape[a]; }
                memcpy(crop + i * E, full + off * E, E);
                i++;
            } while (fz_next_f(idx, ws, ndim));
            FZ_ASSERT(i == wsize);
            size_t k = 0;   /* walk the kernel's runs along the crop */
            for (size_t j = 0; j < wsize; j++) {
                uint64_t v = fz_load(crop + j * E, E);
                if (j == 0 || v != fz_load(crop + (j - 1) * E, E)) {
                    FZ_ASSERT(nr < n_out);
                    FZ_ASSERT(fz_load(ov + nr * E, E) == v);
                    if (nr) FZ_ASSERT(oc[nr - 1] == (uint64_t)(j - k));
                    k = j;
                    nr++;
                }
            }
            FZ_ASSERT(nr == n_out);
            FZ_ASSERT(oc[nr - 1] == (uint64_t)(wsize - k));
        }
        /* one run less: NOSPACE */
        if (n_out > 0) {
            unsigned char *ov2 = (unsigned char *)fz_malloc((n_out - 1) * E);
            uint64_t *oc2 = (uint64_t *)fz_malloc((n_out - 1) * sizeof(uint64_t));
            size_t n2 = 0;
            FZ_ASSERT(mcrle_window_runs(values, cnts, n, E, ndim, shape, start, stop, ov2, oc2,
                                        n_out - 1, &n2, NULL) == MCRLE_ERR_NOSPACE);
            free(oc2);
            free(ov2);
        }
        /* decode the box's runs into its layout */
        unsigned char *expected = (unsigned char *)fz_malloc(W.buf_len);
        memcpy(expected, W.buf, W.buf_len);
        if (wsize) {
            size_t idx[FZ_MAXD] = {0}, i = 0;
            do {
                memcpy(expected + (fz_at(&W, idx) - W.buf), crop + i * E, E);
                i++;
            } while (fz_next_f(idx, ws, ndim));
        }
        size_t ds = mcrle_decode_scratch_size(E, ndim, ws, W.strides, n_out);
        void *dscratch = fz_malloc(ds);
        mcrle_error_info dinfo = {0, 0};
        FZ_ASSERT(mcrle_decode(ov, oc, n_out, E, ndim, ws, W.strides, W.base, dscratch, ds, &dinfo) ==
                  MCRLE_OK);
        FZ_ASSERT(memcmp(expected, W.buf, W.buf_len) == 0);
        free(dscratch);
        free(expected);
        free(crop);
    }
    /* inputs are never written */
    FZ_ASSERT(n == 0 || memcmp(values_copy, values, n * E) == 0);
    FZ_ASSERT(n == 0 || memcmp(cnts_copy, cnts, n * sizeof(uint64_t)) == 0);

    free(oc);
    free(ov);
    free(cnts_copy);
    free(values_copy);
    free(values);
    free(cnts);
    free(full);
    fz_arr_free(&W);
    return 0;
}
