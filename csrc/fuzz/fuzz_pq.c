/*
 * fuzz_pq.c - mcrle_pq_image (panoptic quality counts of one image) against
 * a reference written from panopticapi's rules over a dense pair table, and
 * on hostile entries (indices out of range, huge pixel counts, a scratch
 * one byte short) for memory safety and its argument checks.
 *
 * Input:
 *   byte 0: n_gt (% 9); byte 1: n_pred (% 9); byte 2: n_cat (1 + b % 5)
 *   byte 3: bit 0 table areas for the gt segments; bit 1 no error info;
 *           bit 2 hostile entries (raw indices and fz_hostile_count pixels,
 *           passed as they come); bit 3 a scratch one byte short
 *   gt categories (a byte each, % n_cat unless hostile), the crowd flags (one
 *   byte, bit g), gt areas (a byte each, with bit 0), pred categories
 *   then entries, three bytes each: row, column, pixels.
 * Without bit 2 the entries fill a dense (n_gt + 2) x (n_pred + 2) table
 * (rows % (n_gt + 2), columns % (n_pred + 2), pixels added), whose non-zero
 * entries are passed in row-major order. Checks: the result is OK exactly
 * when the reference finds every predicted segment with pixels, none in the
 * unlisted column and every candidate union positive; then the counts and
 * IoU sums added equal the reference's (the same order of float sums), and
 * on failure nothing is added.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NC 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    size_t ng = fz_u8(&in) % 9, np_ = fz_u8(&in) % 9, nc = 1 + fz_u8(&in) % NC;
    uint8_t flags = fz_u8(&in);
    int use_area = flags & 1, no_info = (flags >> 1) & 1, hostile = (flags >> 2) & 1;
    int short_scratch = (flags >> 3) & 1;
    uint32_t gcat[8], pcat[8];
    unsigned char crowd[8];
    double area[8];
    for (size_t g = 0; g < ng; g++) gcat[g] = hostile ? fz_u8(&in) % 8 : fz_u8(&in) % nc;
    uint8_t cb = fz_u8(&in);
    for (size_t g = 0; g < ng; g++) crowd[g] = (cb >> g) & 1;
    for (size_t g = 0; g < ng; g++) area[g] = use_area ? (double)fz_u8(&in) : 0.0;
    for (size_t p = 0; p < np_; p++) pcat[p] = hostile ? fz_u8(&in) % 8 : fz_u8(&in) % nc;

    size_t R = ng + 2, C = np_ + 2, cap = in.n / 3 + R * C + 1;
    uint32_t *rows = (uint32_t *)fz_malloc(cap * sizeof(uint32_t));
    uint32_t *cols = (uint32_t *)fz_malloc(cap * sizeof(uint32_t));
    uint64_t *pix = (uint64_t *)fz_malloc(cap * sizeof(uint64_t));
    uint64_t table[10 * 10];
    memset(table, 0, sizeof table);
    size_t n = 0;
    if (hostile) {
        while (in.n >= 3) {
            rows[n] = fz_u8(&in);
            cols[n] = fz_u8(&in);
            pix[n++] = fz_hostile_count(&in);
        }
    } else {
        while (in.n >= 3) {
            size_t r = fz_u8(&in) % R, c = fz_u8(&in) % C;
            table[r * C + c] += fz_u8(&in);
        }
        for (size_t r = 0; r < R; r++)
            for (size_t c = 0; c < C; c++)
                if (table[r * C + c]) {
                    rows[n] = (uint32_t)r;
                    cols[n] = (uint32_t)c;
                    pix[n++] = table[r * C + c];
                }
    }

    uint64_t tp[NC], fp[NC], fn[NC], tp0[NC], fp0[NC], fn0[NC];
    double iou[NC], iou0[NC];
    for (size_t q = 0; q < NC; q++) {
        tp[q] = tp0[q] = 7 + q;
        fp[q] = fp0[q] = 11 + q;
        fn[q] = fn0[q] = 13 + q;
        iou[q] = iou0[q] = 0.25 * (double)q;
    }
    size_t need = mcrle_pq_scratch_size(ng, np_, nc);
    FZ_ASSERT(need != SIZE_MAX);
    size_t have = short_scratch ? need - 1 : need;
    uint64_t *scratch = (uint64_t *)fz_malloc((have + 7) / 8 * 8);
    mcrle_error_info info = {777, 777};
    mcrle_result r = mcrle_pq_image(rows, cols, pix, n, ng, gcat, crowd, use_area ? area : NULL,
                                    np_, pcat, nc, tp, fp, fn, iou, scratch, have,
                                    no_info ? NULL : &info);
    if (r != MCRLE_OK) {   /* nothing added */
        FZ_ASSERT(memcmp(tp, tp0, sizeof tp) == 0 && memcmp(fp, fp0, sizeof fp) == 0);
        FZ_ASSERT(memcmp(fn, fn0, sizeof fn) == 0 && memcmp(iou, iou0, sizeof iou) == 0);
    }
    if (short_scratch) FZ_ASSERT(r == MCRLE_ERR_ARG);
    if (hostile || short_scratch) goto out;

    /* the reference, on the dense table */
    {
        uint64_t parea[10] = {0}, gpix[8] = {0}, voidp[10] = {0};
        for (size_t rr = 0; rr < R; rr++)
            for (size_t c = 0; c < C; c++) {
                parea[c] += table[rr * C + c];
                if (rr < ng) gpix[rr] += table[rr * C + c];
                if (rr == ng) voidp[c] += table[rr * C + c];
            }
        int ok = parea[np_ + 1] == 0;
        for (size_t p = 0; p < np_; p++) ok = ok && parea[p] > 0;
        uint64_t wtp[NC] = {0}, wfp[NC] = {0}, wfn[NC] = {0};
        double wiou[NC] = {0};
        int gm[8] = {0}, pm[8] = {0};
        for (size_t g = 0; ok && g < ng; g++)
            for (size_t p = 0; ok && p < np_; p++) {
                uint64_t x = table[g * C + p];
                if (!x || crowd[g] || gcat[g] != pcat[p]) continue;
                double a = use_area ? area[g] : (double)gpix[g];
                double u = (double)parea[p] + a - (double)x - (double)voidp[p];
                if (!(u > 0)) { ok = 0; break; }
                if ((double)x / u > 0.5) {
                    wtp[gcat[g]]++;
                    wiou[gcat[g]] += (double)x / u;
                    gm[g] = pm[p] = 1;
                }
            }
        FZ_ASSERT((r == MCRLE_OK) == ok);
        if (!ok) {
            FZ_ASSERT(r == MCRLE_ERR_ARG || r == MCRLE_ERR_VALUE_RANGE);
            goto out;
        }
        long last[NC];
        for (size_t q = 0; q < NC; q++) last[q] = -1;
        for (size_t g = 0; g < ng; g++) {
            if (crowd[g]) last[gcat[g]] = (long)g;
            else if (!gm[g]) wfn[gcat[g]]++;
        }
        for (size_t p = 0; p < np_; p++) {
            if (pm[p]) continue;
            uint64_t ign = voidp[p];
            if (last[pcat[p]] >= 0) ign += table[(size_t)last[pcat[p]] * C + p];
            if ((double)ign / (double)parea[p] > 0.5) continue;
            wfp[pcat[p]]++;
        }
        for (size_t q = 0; q < NC; q++) {
            FZ_ASSERT(tp[q] == tp0[q] + wtp[q] && fp[q] == fp0[q] + wfp[q]);
            FZ_ASSERT(fn[q] == fn0[q] + wfn[q] && iou[q] == iou0[q] + wiou[q]);
        }
    }
out:
    free(scratch);
    free(rows);
    free(cols);
    free(pix);
    return 0;
}
