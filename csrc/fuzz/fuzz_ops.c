/*
 * fuzz_ops.c - mcrle_group_sums, mcrle_group_bbox, mcrle_relabel_runs and
 * mcrle_pair_sums on hostile runs, against naive references on the expanded
 * array.
 *
 * Input:
 *   byte 0: bits 0-1 index size (1, 2, 4, 8); bits 2-3 table element size;
 *           bit 4 fix the counts up so they sum to the array size (most are
 *           then valid); bit 5 pass no error info
 *   byte 1: number of groups - 1 (1..256)
 *   ndim and shape (fz_shape: 1-4D, at most 2^16 elements), then runs: a
 *   count byte as in fuzz_window (< 0xE0 as is, 0xE0..0xEF x16, 0xF0..0xFE
 *   near UINT64_MAX, 0xFF 8 raw bytes) and an index byte (bit 7: raw index
 *   bytes follow, else the low 7 bits modulo groups + 1, so sometimes one
 *   past the last group).
 * Checks, for each kernel: the result and error info equal the reference's
 * (the first run whose count is 0 or passes the size gives the error of
 * mcrle_check_counts, else the first index out of range gives VALUE_RANGE
 * with the run and the index, else a short sum gives COUNTS_SHORT); on
 * success, the sums, boxes (from every element's coordinates) and relabelled
 * runs (the canonical runs of the expanded relabelled array) are exact, a
 * relabel capacity of one run less gives NOSPACE, and inputs are not written.
 */
#include "fuzz_common.h"

#define MAX_RUNS (FZ_MAX_ELEMS + 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The expected result of a walk over the runs, and its info. */
static mcrle_result ref_walk(const uint64_t *cnts, const uint64_t *idx, size_t n, uint64_t total,
                             size_t n_groups, size_t *index, uint64_t *sum)
{
    uint64_t left = total;
    for (size_t k = 0; k < n; k++) {
        if (cnts[k] == 0 || cnts[k] > left) return fz_ref_check_counts(cnts, n, total, index, sum);
        if (idx[k] >= n_groups) { *index = k; *sum = idx[k]; return MCRLE_ERR_VALUE_RANGE; }
        left -= cnts[k];
    }
    if (left) return fz_ref_check_counts(cnts, n, total, index, sum);
    return MCRLE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in), b1 = fz_u8(&in);
    size_t S = fz_elem_size(b0), E = fz_elem_size((uint8_t)(b0 >> 2));
    int fixup = (b0 >> 4) & 1, no_info = (b0 >> 5) & 1;
    size_t G = (size_t)b1 + 1;
    size_t shape[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    size_t total = 1;
    for (int a = 0; a < ndim; a++) total *= shape[a];

    uint64_t *cnts = (uint64_t *)fz_malloc(MAX_RUNS * sizeof(uint64_t));
    uint64_t *gi = (uint64_t *)fz_malloc(MAX_RUNS * sizeof(uint64_t));
    size_t n = 0;
    uint64_t sum = 0;
    while (in.n > 0 && n < MAX_RUNS) {
        uint64_t cnt = fz_hostile_count(&in);
        uint8_t vb = fz_u8(&in);
        uint64_t g = (vb & 0x80) ? fz_bytes(&in, S) : (uint64_t)(vb & 0x7F) % (G + 1);
        if (fixup) {
            if (sum >= total) break;
            if (cnt == 0) cnt = 1;
            if (cnt > total - sum) cnt = total - sum;
        }
        cnts[n] = cnt;
        gi[n] = g;
        n++;
        sum += cnt;
    }
    if (fixup && sum < total && n < MAX_RUNS) {
        cnts[n] = total - sum;
        gi[n] = n % G;
        n++;
    }
    unsigned char *index = (unsigned char *)fz_malloc(n * S);
    for (size_t k = 0; k < n; k++) fz_store(index + k * S, gi[k], S);
    uint64_t *counts = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
    memcpy(counts, cnts, n * sizeof(uint64_t));
    for (size_t k = 0; k < n; k++) gi[k] &= fz_mask(S);   /* what the kernel reads */
    unsigned char *table = (unsigned char *)fz_malloc(G * E);
    for (size_t g = 0; g < G; g++) fz_store(table + g * E, fz_label_value((unsigned)(g % 3), E), E);

    size_t want_index = 0;
    uint64_t want_sum = 0;
    mcrle_result want = ref_walk(counts, gi, n, (uint64_t)total, G, &want_index, &want_sum);

    /* the expanded array of group indices */
    uint64_t *full = NULL;
    if (want == MCRLE_OK) {
        full = (uint64_t *)fz_malloc(total * sizeof(uint64_t));
        size_t p = 0;
        for (size_t k = 0; k < n; k++)
            for (uint64_t j = 0; j < counts[k]; j++) full[p++] = gi[k];
        FZ_ASSERT(p == total);
    }

    /* sums */
    {
        uint64_t *sums = (uint64_t *)fz_malloc(G * sizeof(uint64_t));
        mcrle_error_info info = {777, 777};
        mcrle_result r = mcrle_group_sums(index, S, counts, n, (uint64_t)total, G, sums,
                                          no_info ? NULL : &info);
        FZ_ASSERT(r == want);
        if (r != MCRLE_OK) {
            if (!no_info) FZ_ASSERT(info.index == want_index && info.sum == want_sum);
        } else {
            uint64_t *ref = (uint64_t *)fz_malloc(G * sizeof(uint64_t));
            memset(ref, 0, G * sizeof(uint64_t));
            for (size_t p = 0; p < total; p++) ref[full[p]]++;
            FZ_ASSERT(memcmp(ref, sums, G * sizeof(uint64_t)) == 0);
            free(ref);
        }
        free(sums);
    }

    /* boxes */
    {
        uint64_t *lo = (uint64_t *)fz_malloc(G * (size_t)ndim * sizeof(uint64_t));
        uint64_t *hi = (uint64_t *)fz_malloc(G * (size_t)ndim * sizeof(uint64_t));
        mcrle_error_info info = {777, 777};
        mcrle_result r = mcrle_group_bbox(index, S, counts, n, ndim, shape, G, lo, hi,
                                          no_info ? NULL : &info);
        FZ_ASSERT(r == want);
        if (r != MCRLE_OK) {
            if (!no_info) FZ_ASSERT(info.index == want_index && info.sum == want_sum);
        } else {
            uint64_t *rlo = (uint64_t *)fz_malloc(G * (size_t)ndim * sizeof(uint64_t));
            uint64_t *rhi = (uint64_t *)fz_malloc(G * (size_t)ndim * sizeof(uint64_t));
            for (size_t i = 0; i < G * (size_t)ndim; i++) { rlo[i] = UINT64_MAX; rhi[i] = 0; }
            for (size_t p = 0; p < total; p++) {
                size_t rest = p;
                for (int a = 0; a < ndim; a++) {
                    uint64_t c = rest % shape[a];
                    rest /= shape[a];
                    size_t at = (size_t)full[p] * (size_t)ndim + (size_t)a;
                    if (c < rlo[at]) rlo[at] = c;
                    if (c > rhi[at]) rhi[at] = c;
                }
            }
            FZ_ASSERT(memcmp(rlo, lo, G * (size_t)ndim * sizeof(uint64_t)) == 0);
            FZ_ASSERT(memcmp(rhi, hi, G * (size_t)ndim * sizeof(uint64_t)) == 0);
            free(rhi);
            free(rlo);
        }
        free(hi);
        free(lo);
    }

    /* relabelling */
    {
        unsigned char *ov = (unsigned char *)fz_malloc(n * E);
        uint64_t *oc = (uint64_t *)fz_malloc(n * sizeof(uint64_t));
        size_t n_out = 99;
        mcrle_error_info info = {777, 777};
        mcrle_result r = mcrle_relabel_runs(index, S, counts, n, (uint64_t)total, table, G, E,
                                            ov, oc, n, &n_out, no_info ? NULL : &info);
        FZ_ASSERT(r == want);
        if (r != MCRLE_OK) {
            FZ_ASSERT(n_out == 0);
            if (!no_info) FZ_ASSERT(info.index == want_index && info.sum == want_sum);
        } else {
            size_t nr = 0, k = 0;   /* the canonical runs of the relabelled array */
            for (size_t p = 0; p < total; p++) {
                uint64_t v = fz_load(table + full[p] * E, E);
                if (p == 0 || v != fz_load(table + full[p - 1] * E, E)) {
                    FZ_ASSERT(nr < n_out);
                    FZ_ASSERT(fz_load(ov + nr * E, E) == v);
                    if (nr) FZ_ASSERT(oc[nr - 1] == (uint64_t)(p - k));
                    k = p;
                    nr++;
                }
            }
            FZ_ASSERT(nr == n_out);
            if (nr) FZ_ASSERT(oc[nr - 1] == (uint64_t)(total - k));
            if (n_out > 0) {
                size_t n2 = 0;
                FZ_ASSERT(mcrle_relabel_runs(index, S, counts, n, (uint64_t)total, table, G, E, ov,
                                             oc, n_out - 1, &n2, NULL) == MCRLE_ERR_NOSPACE);
            }
        }
        free(oc);
        free(ov);
    }

    /*
     * pair sums (mcrle_pair_sums, a confusion matrix): A = these runs against
     * B = the same counts in reverse order with groups (g * 7 + 1) % G2, then
     * a single run of the whole array against these runs (so B's errors are
     * reached too). The kernel checks A's counts, B's counts, A's indices,
     * B's indices, in that order.
     */
    {
        size_t G2 = 1 + (size_t)(b1 % 5);
        uint64_t *rc = (uint64_t *)fz_malloc((n ? n : 1) * sizeof(uint64_t));
        uint64_t *rg = (uint64_t *)fz_malloc((n ? n : 1) * sizeof(uint64_t));
        unsigned char *rindex = (unsigned char *)fz_malloc((n ? n : 1) * S);
        for (size_t k = 0; k < n; k++) {
            rc[k] = counts[n - 1 - k];
            rg[k] = (gi[n - 1 - k] * 7 + 1) % G2;
            fz_store(rindex + k * S, rg[k], S);
        }
        size_t wi = 0, bi = 0;
        uint64_t ws = 0, bs = 0;
        int want2 = fz_ref_check_counts(counts, n, (uint64_t)total, &wi, &ws);
        if (want2 == MCRLE_OK) {
            int wb = fz_ref_check_counts(rc, n, (uint64_t)total, &bi, &bs);
            if (wb != MCRLE_OK) { want2 = wb + MCRLE_PAIR_B; wi = bi; ws = bs; }
        }
        if (want2 == MCRLE_OK)
            for (size_t k = 0; k < n; k++)
                if (gi[k] >= G) { want2 = MCRLE_ERR_VALUE_RANGE; wi = k; ws = gi[k]; break; }
        uint64_t *ps = (uint64_t *)fz_malloc(G * G2 * sizeof(uint64_t));
        mcrle_error_info info = {777, 777};
        int r = mcrle_pair_sums(index, counts, n, G, rindex, rc, n, G2, S, (uint64_t)total, ps,
                                no_info ? NULL : &info);
        FZ_ASSERT(r == want2);
        if (r != MCRLE_OK) {
            if (!no_info) FZ_ASSERT(info.index == wi && info.sum == ws);
        } else {
            uint64_t *ref = (uint64_t *)fz_malloc(G * G2 * sizeof(uint64_t));
            memset(ref, 0, G * G2 * sizeof(uint64_t));
            size_t p = 0;
            for (size_t k = 0; k < n; k++)   /* B's element p is in run k of the reversed runs */
                for (uint64_t j = 0; j < rc[k]; j++, p++) ref[full[p] * G2 + rg[k]]++;
            FZ_ASSERT(p == total);
            FZ_ASSERT(memcmp(ref, ps, G * G2 * sizeof(uint64_t)) == 0);
            free(ref);
        }
        /* one run of the whole array (group 0 of 1) against these runs */
        uint64_t whole = (uint64_t)total;
        unsigned char zero_index[8] = {0};
        int want3 = MCRLE_OK;
        wi = 0;
        ws = 0;
        int wc = fz_ref_check_counts(counts, n, (uint64_t)total, &wi, &ws);
        if (wc != MCRLE_OK) want3 = wc + MCRLE_PAIR_B;
        else
            for (size_t k = 0; k < n; k++)
                if (gi[k] >= G) { want3 = MCRLE_ERR_VALUE_RANGE + MCRLE_PAIR_B; wi = k; ws = gi[k]; break; }
        info.index = 777;
        info.sum = 777;
        r = mcrle_pair_sums(zero_index, &whole, total ? 1 : 0, 1, index, counts, n, G, S,
                            (uint64_t)total, ps, no_info ? NULL : &info);
        FZ_ASSERT(r == want3);
        if (r != MCRLE_OK) {
            if (!no_info) FZ_ASSERT(info.index == wi && info.sum == ws);
        } else {
            uint64_t *ref = (uint64_t *)fz_malloc(G * sizeof(uint64_t));
            memset(ref, 0, G * sizeof(uint64_t));
            for (size_t p = 0; p < total; p++) ref[full[p]]++;
            FZ_ASSERT(memcmp(ref, ps, G * sizeof(uint64_t)) == 0);
            free(ref);
        }
        free(ps);
        free(rindex);
        free(rg);
        free(rc);
    }

    /* inputs are never written */
    FZ_ASSERT(n == 0 || memcmp(counts, cnts, n * sizeof(uint64_t)) == 0);
    for (size_t k = 0; k < n; k++) FZ_ASSERT(fz_load(index + k * S, S) == gi[k]);

    free(full);
    free(table);
    free(counts);
    free(index);
    free(gi);
    free(cnts);
    return 0;
}
