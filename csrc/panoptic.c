/*
 * panoptic.c - panoptic quality counts of one image from its pair table,
 * with the rules of panopticapi's pq_compute (cocodataset/panopticapi,
 * evaluation.py), quirks included; docs/evaluation.md lists them.
 *
 * The table (pixels of each ground-truth segment x predicted segment pair)
 * comes from mcrle_pair_sums or mcrle_pair_sums_compact; the rules are a
 * few passes over its non-zero entries. Written in numpy they were half of
 * the time of an image pair (some sixty small array operations); here they
 * cost a few nanoseconds per entry.
 */
#include "internal.h"

/* Bytes of the scratch parts, in this order (each a multiple of 8). */
static int pq_parts(size_t n_gt, size_t n_pred, size_t n_cat, size_t part[9])
{
    const size_t lim = SIZE_MAX / 16;
    if (n_gt > lim || n_pred > lim - 2 || n_cat > lim) return 0;
    part[0] = 8 * (n_pred + 2);        /* pred_area: pixels of each column */
    part[1] = 8 * n_pred;              /* void_p: pixels over gt void */
    part[2] = 8 * n_pred;              /* ignored: void + the crowd region of its category */
    part[3] = 8 * n_gt;                /* gt_pix: pixels of each gt segment */
    part[4] = (n_gt + 7) / 8 * 8;      /* gt_matched */
    part[5] = (n_pred + 7) / 8 * 8;    /* pred_matched */
    part[6] = 8 * n_cat;               /* crowd_of: the last crowd segment of each category */
    part[7] = 8 * n_cat;               /* cat_tp */
    part[8] = 8 * n_cat;               /* cat_iou */
    return 1;
}

size_t mcrle_pq_scratch_size(size_t n_gt, size_t n_pred, size_t n_cat)
{
    size_t part[9], total = 0;
    if (!pq_parts(n_gt, n_pred, n_cat, part)) return SIZE_MAX;
    for (int k = 0; k < 9; k++) {
        if (part[k] > SIZE_MAX - total) return SIZE_MAX;
        total += part[k];
    }
    return total;
}

mcrle_result mcrle_pq_image(const uint32_t *rows, const uint32_t *cols, const uint64_t *pixels,
                            size_t n, size_t n_gt, const uint32_t *gt_cat,
                            const unsigned char *gt_crowd, const double *gt_area, size_t n_pred,
                            const uint32_t *pred_cat, size_t n_cat, uint64_t *tp, uint64_t *fp,
                            uint64_t *fn, double *iou_sum, void *scratch, size_t scratch_size,
                            mcrle_error_info *info)
{
    size_t part[9];
    SAFETY_CHECK(pq_parts(n_gt, n_pred, n_cat, part), MCRLE_ERR_ARG);
    /* need <= SIZE_MAX / 2 also tells the compiler memset's bound is an object size */
    const size_t need = mcrle_pq_scratch_size(n_gt, n_pred, n_cat);
    SAFETY_CHECK(need <= SIZE_MAX / 2 && need <= scratch_size && scratch, MCRLE_ERR_ARG);
    SAFETY_CHECK(n == 0 || (rows && cols && pixels), MCRLE_ERR_ARG);
    SAFETY_CHECK(n_gt == 0 || (gt_cat && gt_crowd), MCRLE_ERR_ARG);
    SAFETY_CHECK(n_pred == 0 || pred_cat, MCRLE_ERR_ARG);
    SAFETY_CHECK(n_cat == 0 || (tp && fp && fn && iou_sum), MCRLE_ERR_ARG);
    unsigned char *s = (unsigned char *)scratch;
    uint64_t *pred_area = (uint64_t *)(void *)s;              s += part[0];
    uint64_t *void_p = (uint64_t *)(void *)s;                 s += part[1];
    uint64_t *ignored = (uint64_t *)(void *)s;                s += part[2];
    uint64_t *gt_pix = (uint64_t *)(void *)s;                 s += part[3];
    unsigned char *gt_matched = s;                            s += part[4];
    unsigned char *pred_matched = s;                          s += part[5];
    size_t *crowd_of = (size_t *)(void *)s;                   s += part[6];
    uint64_t *cat_tp = (uint64_t *)(void *)s;                 s += part[7];
    double *cat_iou = (double *)(void *)s;
    memset(scratch, 0, need);

    /* every index the passes below use is checked here, once */
    for (size_t g = 0; g < n_gt; g++) SAFETY_CHECK(gt_cat[g] < n_cat, MCRLE_ERR_ARG);
    for (size_t p = 0; p < n_pred; p++) SAFETY_CHECK(pred_cat[p] < n_cat, MCRLE_ERR_ARG);
    /* areas: every column (void and unlisted ids too), gt segments' pixels, void row */
    for (size_t k = 0; k < n; k++) {
        uint32_t r = rows[k], c = cols[k];
        SAFETY_CHECK(r < n_gt + 2 && c < n_pred + 2, MCRLE_ERR_ARG);
        uint64_t x = pixels[k];
        pred_area[c] += x;
        if (r < n_gt) gt_pix[r] += x;
        else if (r == n_gt && c < n_pred) void_p[c] += x;
    }
    /* preconditions the caller reports in its own words: every predicted segment has
     * pixels, no pixel has an unlisted predicted id */
    if (pred_area[n_pred + 1]) return MCRLE_ERR_ARG;
    for (size_t p = 0; p < n_pred; p++) SAFETY_CHECK(pred_area[p] > 0, MCRLE_ERR_ARG);

    /* matches: same category, non-crowd gt, IoU > 0.5, every such pair (as panopticapi;
     * with consistent areas a segment matches at most once). The union leaves out only
     * the prediction's pixels over gt void. Nothing is added to the totals until every
     * union is known to be positive. */
    for (size_t k = 0; k < n; k++) {
        uint32_t r = rows[k], c = cols[k];
        if (r >= n_gt || c >= n_pred || gt_crowd[r] || gt_cat[r] != pred_cat[c] || !pixels[k])
            continue;   /* (an entry of 0 pixels is no overlap, as if absent) */
        double inter = (double)pixels[k];
        double area = gt_area ? gt_area[r] : (double)gt_pix[r];
        /* panopticapi's order: pred area + gt area - intersection - void overlap */
        double uni = (double)pred_area[c] + area - inter - (double)void_p[c];
        if (!(uni > 0)) {
            if (info) { info->index = k; info->sum = pixels[k]; }
            return MCRLE_ERR_VALUE_RANGE;
        }
        double iou = inter / uni;
        if (iou > 0.5) {
            cat_tp[gt_cat[r]] += 1;
            cat_iou[gt_cat[r]] += iou;
            gt_matched[r] = 1;
            pred_matched[c] = 1;
        }
    }
    for (size_t q = 0; q < n_cat; q++) {
        tp[q] += cat_tp[q];
        iou_sum[q] += cat_iou[q];
        crowd_of[q] = SIZE_MAX;
    }
    /* false negatives: unmatched non-crowd gt segments; the last crowd segment of
     * each category (in table order) is its crowd region */
    for (size_t g = 0; g < n_gt; g++) {
        if (gt_crowd[g]) crowd_of[gt_cat[g]] = g;
        else if (!gt_matched[g]) fn[gt_cat[g]] += 1;
    }
    /* false positives: unmatched predictions, unless more than half of their pixels
     * lie in gt void plus the crowd region of their category */
    for (size_t p = 0; p < n_pred; p++) ignored[p] = void_p[p];
    for (size_t k = 0; k < n; k++) {
        uint32_t r = rows[k], c = cols[k];
        if (r < n_gt && c < n_pred && crowd_of[pred_cat[c]] == r) ignored[c] += pixels[k];
    }
    for (size_t p = 0; p < n_pred; p++) {
        if (pred_matched[p]) continue;
        if ((double)ignored[p] / (double)pred_area[p] > 0.5) continue;
        fp[pred_cat[p]] += 1;
    }
    return MCRLE_OK;
}
