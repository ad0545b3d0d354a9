/*
 * test_eval.c - unit tests of the evaluation kernels: mcrle_pair_sums_compact
 * (a confusion matrix straight from two maps' compact strings) against a
 * naive reference on the expanded maps, on every kind and element size,
 * tables and keys, more distinct labels than its cache holds, and every
 * error; mcrle_pq_image (panoptic quality of one image) on one small case
 * per rule of panopticapi's pq_compute, and its errors. Buffers are exactly
 * their size, so a sanitizer build catches any access outside them.
 * Last line: "N passed, N failed"; exit status 1 on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcrle.h"
#include "check.h"


static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? rng % n : rng;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

/* ---- pair sums from compact strings ----------------------------------------- */

typedef struct strs {
    char *v, *c;
    size_t vl, cl;
} strs;

/* The compact strings of runs (values: 64-bit patterns). */
static strs encode(const uint64_t *vals, const uint64_t *cnts, size_t n)
{
    strs s;
    size_t cap = mcrle_string_bound(n) + 1;
    s.v = (char *)xmalloc(cap);
    s.c = (char *)xmalloc(cap);
    if (mcrle_string_encode(vals, n, 2, s.v, cap, &s.vl) != MCRLE_OK ||
        mcrle_string_encode(cnts, n, 3, s.c, cap, &s.cl) != MCRLE_OK) {
        fprintf(stderr, "encode failed\n");
        exit(2);
    }
    return s;
}

static void strs_free(strs *s) { free(s->v); free(s->c); }

static uint32_t ref_group(const mcrle_group_map *g, uint64_t v)
{
    if (v < g->table_len) return g->table[v];
    for (size_t k = 0; k < g->n_keys; k++) if (g->keys[k] == v) return g->key_groups[k];
    return g->other;
}

/* Random runs of total elements with labels drawn from pool[0..n_pool). */
static size_t random_runs(uint64_t total, const uint64_t *pool, size_t n_pool, uint64_t max_run,
                          uint64_t *vals, uint64_t *cnts)
{
    size_t n = 0;
    uint64_t left = total;
    while (left) {
        uint64_t c = 1 + rnd(max_run);
        if (c > left) c = left;
        uint64_t v = pool[rnd(n_pool)];
        if (n && vals[n - 1] == v) cnts[n - 1] += c;
        else { vals[n] = v; cnts[n] = c; n++; }
        left -= c;
    }
    return n;
}

/* The reference: both maps expanded, each element's groups counted. */
static void ref_pairs(const uint64_t *va, const uint64_t *ca, size_t na, const mcrle_group_map *ga,
                      const uint64_t *vb, const uint64_t *cb, size_t nb, const mcrle_group_map *gb,
                      uint64_t total, uint64_t *sums)
{
    uint32_t *ea = (uint32_t *)xmalloc(total * 4), *eb = (uint32_t *)xmalloc(total * 4);
    uint64_t p = 0;
    for (size_t k = 0; k < na; k++) for (uint64_t j = 0; j < ca[k]; j++) ea[p++] = ref_group(ga, va[k]);
    p = 0;
    for (size_t k = 0; k < nb; k++) for (uint64_t j = 0; j < cb[k]; j++) eb[p++] = ref_group(gb, vb[k]);
    memset(sums, 0, ga->n_groups * gb->n_groups * 8);
    for (uint64_t i = 0; i < total; i++) sums[(size_t)ea[i] * gb->n_groups + eb[i]]++;
    free(ea);
    free(eb);
}

static void test_pair_sums_random(void)
{
    static const size_t E[4] = {1, 2, 4, 8};
    for (int trial = 0; trial < 400; trial++) {
        size_t elem = E[trial % 4];
        mcrle_kind kind = (trial / 4) % 3 == 0 && elem == 1 ? MCRLE_KIND_BOOL
                        : (trial / 4) % 2 ? MCRLE_KIND_SIGNED : MCRLE_KIND_UNSIGNED;
        /* labels: small ones (the table), large and negative ones (the keys) */
        uint64_t pool[300];
        size_t n_pool = kind == MCRLE_KIND_BOOL ? 2 : 1 + rnd(trial % 7 == 0 ? 300 : 12);
        for (size_t k = 0; k < n_pool; k++) {
            uint64_t v = kind == MCRLE_KIND_BOOL ? k : rnd(4) == 0 ? rnd(0) : rnd(40);
            if (elem < 8) {
                uint64_t m = (UINT64_C(1) << (8 * elem)) - 1;
                v &= m;
                if (kind == MCRLE_KIND_SIGNED && (v >> (8 * elem - 1)))
                    v |= ~m;   /* sign-extended, as the strings store signed values */
            }
            pool[k] = v;
        }
        uint64_t total = 1 + rnd(trial % 5 == 0 ? 20000 : 300);
        uint64_t *va = (uint64_t *)xmalloc(total * 8), *ca = (uint64_t *)xmalloc(total * 8);
        uint64_t *vb = (uint64_t *)xmalloc(total * 8), *cb = (uint64_t *)xmalloc(total * 8);
        size_t na = random_runs(total, pool, n_pool, 1 + rnd(30), va, ca);
        size_t nb = random_runs(total, pool, n_pool, 1 + rnd(30), vb, cb);
        /* group maps: some labels in the table, some keys, the rest 'other' */
        size_t tlen = rnd(3) ? rnd(48) : 0;
        uint32_t *table = (uint32_t *)xmalloc(tlen * 4 + 4);
        size_t ng_a = 2 + rnd(6), ng_b = 2 + rnd(6);
        for (size_t k = 0; k < tlen; k++) table[k] = (uint32_t)rnd(ng_a);
        uint64_t keys[300];
        uint32_t kg[300];
        size_t nk = 0;
        for (size_t k = 0; k < n_pool; k++) {   /* sorted distinct pool values */
            uint64_t v = pool[k];
            size_t at = 0;
            while (at < nk && keys[at] < v) at++;
            if (at < nk && keys[at] == v) continue;
            if (rnd(4) == 0) continue;       /* left to 'other' */
            memmove(keys + at + 1, keys + at, (nk - at) * 8);
            keys[at] = v;
            nk++;
        }
        for (size_t k = 0; k < nk; k++) kg[k] = (uint32_t)rnd(ng_b < ng_a ? ng_b : ng_a);
        mcrle_group_map ga = {kind, elem, table, tlen, keys, kg, nk, (uint32_t)rnd(ng_a), ng_a};
        mcrle_group_map gb = {kind, elem, NULL, 0, keys, kg, nk, (uint32_t)rnd(ng_b), ng_b};
        strs sa = encode(va, ca, na), sb = encode(vb, cb, nb);
        uint64_t *sums = (uint64_t *)xmalloc(ng_a * ng_b * 8), *want = (uint64_t *)xmalloc(ng_a * ng_b * 8);
        memset(sums, 0xAB, ng_a * ng_b * 8);
        mcrle_error_info info = {0, 0};
        mcrle_result r = mcrle_pair_sums_compact(sa.v, sa.vl, sa.c, sa.cl, &ga, sb.v, sb.vl, sb.c,
                                                 sb.cl, &gb, total, sums, &info);
        CHECK(r == MCRLE_OK);
        ref_pairs(va, ca, na, &ga, vb, cb, nb, &gb, total, want);
        CHECK(memcmp(sums, want, ng_a * ng_b * 8) == 0);
        /* the other way round: B's map on A's side */
        r = mcrle_pair_sums_compact(sb.v, sb.vl, sb.c, sb.cl, &ga, sa.v, sa.vl, sa.c, sa.cl, &gb,
                                    total, sums, NULL);
        CHECK(r == MCRLE_OK);
        ref_pairs(vb, cb, nb, &ga, va, ca, na, &gb, total, want);
        CHECK(memcmp(sums, want, ng_a * ng_b * 8) == 0);
        /* a size one element off either way fails for A, then (A right) for B */
        r = mcrle_pair_sums_compact(sa.v, sa.vl, sa.c, sa.cl, &ga, sb.v, sb.vl, sb.c, sb.cl, &gb,
                                    total + 1, sums, NULL);
        CHECK(r == MCRLE_ERR_COUNTS_SHORT);
        r = mcrle_pair_sums_compact(sa.v, sa.vl, sa.c, sa.cl, &ga, sb.v, sb.vl, sb.c, sb.cl, &gb,
                                    total - 1, sums, NULL);
        CHECK(r == MCRLE_ERR_COUNTS_LONG || r == MCRLE_ERR_COUNTS_LONG + MCRLE_PAIR_B);
        free(sums);
        free(want);
        strs_free(&sa);
        strs_free(&sb);
        free(table);
        free(va); free(ca); free(vb); free(cb);
    }
}

static mcrle_result pair(const char *va, const char *ca, const char *vb, const char *cb,
                         uint64_t size, const mcrle_group_map *g, uint64_t *sums,
                         mcrle_error_info *info)
{
    return mcrle_pair_sums_compact(va, strlen(va), ca, strlen(ca), g, vb, strlen(vb), cb,
                                   strlen(cb), g, size, sums, info);
}

static void test_pair_sums_errors(void)
{
    uint32_t table[3] = {0, 1, 2};
    mcrle_group_map g = {MCRLE_KIND_UNSIGNED, 1, table, 3, NULL, NULL, 0, 3, 4};
    uint64_t sums[16];
    mcrle_error_info info = {0, 0};
    /* values 0,1 / counts 2,2 (strings "01" and "22"): a valid map of 4 */
    CHECK(pair("01", "22", "01", "22", 4, &g, sums, &info) == MCRLE_OK);
    CHECK(sums[0] == 2 && sums[5] == 2 && sums[1] == 0);
    CHECK(pair("01", "22", "01", "22", 5, &g, sums, &info) == MCRLE_ERR_COUNTS_SHORT);
    CHECK(pair("01", "22", "01", "23", 4, &g, sums, &info) == MCRLE_ERR_COUNTS_LONG + MCRLE_PAIR_B);
    CHECK(info.index == 1);
    CHECK(pair("01", "22", "01", "21", 4, &g, sums, &info) == MCRLE_ERR_COUNTS_SHORT + MCRLE_PAIR_B);
    CHECK(pair("01", "20", "01", "22", 4, &g, sums, &info) == MCRLE_ERR_ZERO_COUNT);
    CHECK(pair("012", "22", "01", "22", 4, &g, sums, &info) == MCRLE_ERR_ARG);    /* values > counts */
    CHECK(pair("0", "22", "01", "22", 4, &g, sums, &info) == MCRLE_ERR_ARG);      /* values < counts */
    CHECK(pair("01", "2~", "01", "22", 4, &g, sums, &info) == MCRLE_ERR_BAD_CHAR);
    CHECK(pair("01", "22", "0`", "22", 4, &g, sums, &info) == MCRLE_ERR_TRUNCATED + MCRLE_PAIR_B);
    /* a value past the uint8 range */
    uint64_t v300[3] = {0, 300, 1}, c112[3] = {1, 1, 2};
    char cbuf[64], vbuf[64];
    size_t cl, vl;
    CHECK(mcrle_string_encode(v300, 3, 2, vbuf, sizeof vbuf, &vl) == MCRLE_OK);
    CHECK(mcrle_string_encode(c112, 3, 3, cbuf, sizeof cbuf, &cl) == MCRLE_OK);
    CHECK(mcrle_pair_sums_compact(vbuf, vl, cbuf, cl, &g, "01", 2, "22", 2, &g, 4, sums, &info) ==
          MCRLE_ERR_VALUE_RANGE);
    CHECK(info.index == 1 && info.sum == 300);
    /* a count of 2^63 or more */
    uint64_t big[2] = {UINT64_C(1) << 63, 1}, v2[2] = {0, 1};
    CHECK(mcrle_string_encode(big, 2, 3, cbuf, sizeof cbuf, &cl) == MCRLE_OK);
    CHECK(mcrle_string_encode(v2, 2, 2, vbuf, sizeof vbuf, &vl) == MCRLE_OK);
    CHECK(mcrle_pair_sums_compact(vbuf, vl, cbuf, cl, &g, "01", 2, "22", 2, &g, 4, sums, NULL) ==
          MCRLE_ERR_COUNTS_LONG);
    /* empty maps */
    CHECK(pair("", "", "", "", 0, &g, sums, &info) == MCRLE_OK && sums[0] == 0);
    CHECK(pair("", "", "0", "1", 1, &g, sums, &info) == MCRLE_ERR_COUNTS_SHORT);
    CHECK(pair("0", "1", "", "", 1, &g, sums, &info) == MCRLE_ERR_COUNTS_SHORT + MCRLE_PAIR_B);
    CHECK(pair("0", "1", "0", "1", 0, &g, sums, &info) == MCRLE_ERR_COUNTS_LONG);
    /* bad maps: groups out of range, unsorted keys, kinds */
    uint32_t bad_table[2] = {0, 9};
    mcrle_group_map b = g;
    b.table = bad_table;
    b.table_len = 2;
    CHECK(pair("01", "22", "01", "22", 4, &b, sums, NULL) == MCRLE_ERR_ARG);
    uint64_t keys[2] = {500, 400};
    uint32_t kg[2] = {0, 1};
    b = g;
    b.keys = keys;
    b.key_groups = kg;
    b.n_keys = 2;
    CHECK(pair("01", "22", "01", "22", 4, &b, sums, NULL) == MCRLE_ERR_ARG);
    b = g;
    b.other = 4;
    CHECK(pair("01", "22", "01", "22", 4, &b, sums, NULL) == MCRLE_ERR_ARG);
    b = g;
    b.kind = MCRLE_KIND_BOOL;
    b.elem_size = 2;
    CHECK(pair("01", "22", "01", "22", 4, &b, sums, NULL) == MCRLE_ERR_ARG);
    b = g;
    b.table = NULL;
    CHECK(pair("01", "22", "01", "22", 4, &b, sums, NULL) == MCRLE_ERR_ARG);
    CHECK(mcrle_pair_sums_compact("01", 2, "22", 2, &g, "01", 2, "22", 2, NULL, 4, sums, NULL) ==
          MCRLE_ERR_ARG);
    CHECK(mcrle_pair_sums_compact(NULL, 2, "22", 2, &g, "01", 2, "22", 2, &g, 4, sums, NULL) ==
          MCRLE_ERR_ARG);
    CHECK(pair("01", "22", "01", "22", 4, &g, NULL, NULL) == MCRLE_ERR_ARG);
}

/* Signed maps: -1 (the pattern UINT64_MAX) is a key; the cache's empty slots hold it. */
static void test_pair_sums_signed_minus_one(void)
{
    uint64_t keys[1] = {UINT64_MAX};
    uint32_t kg[1] = {1};
    mcrle_group_map g = {MCRLE_KIND_SIGNED, 4, NULL, 0, keys, kg, 1, 0, 2};
    /* values -1, 5, -1 with counts 1, 2, 3 */
    uint64_t v[3] = {UINT64_MAX, 5, UINT64_MAX}, c[3] = {1, 2, 3};
    strs s = encode(v, c, 3);
    uint64_t sums[4];
    CHECK(mcrle_pair_sums_compact(s.v, s.vl, s.c, s.cl, &g, s.v, s.vl, s.c, s.cl, &g, 6, sums,
                                  NULL) == MCRLE_OK);
    CHECK(sums[3] == 4 && sums[0] == 2 && sums[1] == 0 && sums[2] == 0);
    /* without the key, -1 is 'other' (group 0) */
    g.n_keys = 0;
    CHECK(mcrle_pair_sums_compact(s.v, s.vl, s.c, s.cl, &g, s.v, s.vl, s.c, s.cl, &g, 6, sums,
                                  NULL) == MCRLE_OK);
    CHECK(sums[0] == 6);
    strs_free(&s);
}

/* ---- panoptic quality of one image -------------------------------------------- */

typedef struct pq_case {
    size_t n_gt, n_pred;
    uint32_t gt_cat[4], pred_cat[4];
    unsigned char crowd[4];
    double area[4];
    int use_area;
    size_t n;
    uint32_t rows[16], cols[16];
    uint64_t pixels[16];
} pq_case;

static uint64_t tp[3], fp[3], fn[3];
static double iou[3];

static mcrle_result run_pq(const pq_case *c)
{
    size_t need = mcrle_pq_scratch_size(c->n_gt, c->n_pred, 3);
    void *scratch = xmalloc(need);
    memset(tp, 0, sizeof tp);
    memset(fp, 0, sizeof fp);
    memset(fn, 0, sizeof fn);
    memset(iou, 0, sizeof iou);
    mcrle_error_info info = {0, 0};
    mcrle_result r = mcrle_pq_image(c->rows, c->cols, c->pixels, c->n, c->n_gt, c->gt_cat,
                                    c->crowd, c->use_area ? c->area : NULL, c->n_pred,
                                    c->pred_cat, 3, tp, fp, fn, iou, scratch, need, &info);
    free(scratch);
    return r;
}

static void test_pq_rules(void)
{
    /* one gt segment (4 px), one prediction: 3 px on it, 1 px elsewhere (row 2 = unlisted) */
    pq_case c = {1, 1, {0}, {0}, {0}, {0}, 0, 2, {0, 2}, {0, 0}, {3, 1}};
    CHECK(run_pq(&c) == MCRLE_OK);
    /* union 4 + 3 - 3 = 4, IoU 0.75 */
    CHECK(tp[0] == 1 && fp[0] == 0 && fn[0] == 0 && iou[0] == 0.75);
    /* IoU exactly 0.5 is no match: gt 4 px, pred 2 on it + 0 elsewhere => 2 / 4 */
    pq_case half = {1, 1, {0}, {0}, {0}, {4}, 1, 1, {0}, {0}, {2}};
    CHECK(run_pq(&half) == MCRLE_OK && tp[0] == 0 && fn[0] == 1 && fp[0] == 1);
    /* the category must agree */
    pq_case other = {1, 1, {0}, {1}, {0}, {0}, 0, 1, {0}, {0}, {4}};
    CHECK(run_pq(&other) == MCRLE_OK && tp[0] == 0 && fn[0] == 1 && fp[1] == 1);
    /* pixels over gt void (row n_gt) leave the union: 2 on gt (2 px) + 2 on void => IoU 1 */
    pq_case void_ = {1, 1, {0}, {0}, {0}, {0}, 0, 2, {0, 1}, {0, 0}, {2, 2}};
    CHECK(run_pq(&void_) == MCRLE_OK && tp[0] == 1 && iou[0] == 1.0);
    /* table areas: gt area 8 (not its 3 pixels) gives 3 / (3 + 8 - 3) < 0.5 */
    pq_case area = {1, 1, {0}, {0}, {0}, {8}, 1, 1, {0}, {0}, {3}};
    CHECK(run_pq(&area) == MCRLE_OK && tp[0] == 0);
    /* crowd: never matched, no FN; hides a prediction of its category over it */
    pq_case crowd = {1, 1, {0}, {0}, {1}, {0}, 0, 1, {0}, {0}, {4}};
    CHECK(run_pq(&crowd) == MCRLE_OK && tp[0] == 0 && fn[0] == 0 && fp[0] == 0);
    /* two crowd segments of one category: only the last hides; pred over the first is FP */
    pq_case two = {2, 1, {0, 0}, {0}, {1, 1}, {0}, 0, 1, {0}, {0}, {4}};
    CHECK(run_pq(&two) == MCRLE_OK && fp[0] == 1);
    two.rows[0] = 1;
    CHECK(run_pq(&two) == MCRLE_OK && fp[0] == 0);
    /* exactly half over void is an FP; more than half is not */
    pq_case fph = {1, 1, {0}, {1}, {0}, {0}, 0, 2, {0, 1}, {0, 0}, {2, 2}};
    CHECK(run_pq(&fph) == MCRLE_OK && fp[1] == 1);
    fph.pixels[1] = 3;
    CHECK(run_pq(&fph) == MCRLE_OK && fp[1] == 0);
    /* predicted void (column n_pred) stays in the gt area and the union */
    pq_case pv = {1, 1, {0}, {0}, {0}, {0}, 0, 2, {0, 0}, {0, 1}, {3, 2}};
    CHECK(run_pq(&pv) == MCRLE_OK && tp[0] == 1 && iou[0] == 0.6);
    /* a gt segment absent from the table's map is a false negative */
    pq_case absent = {2, 0, {0, 2}, {0}, {0, 0}, {5, 9}, 1, 1, {0}, {0}, {5}};
    CHECK(run_pq(&absent) == MCRLE_OK && fn[0] == 1 && fn[2] == 1);
}

static void test_pq_errors(void)
{
    pq_case c = {1, 1, {0}, {0}, {0}, {0}, 1, 1, {0}, {0}, {3}};
    /* a union that is not positive: nothing is added */
    CHECK(run_pq(&c) == MCRLE_ERR_VALUE_RANGE && tp[0] == 0 && fn[0] == 0);
    c.area[0] = 3;
    CHECK(run_pq(&c) == MCRLE_OK && tp[0] == 1);
    /* pixels of an unlisted predicted id, a prediction without pixels */
    pq_case unl = {1, 1, {0}, {0}, {0}, {0}, 0, 2, {0, 0}, {0, 2}, {3, 1}};
    CHECK(run_pq(&unl) == MCRLE_ERR_ARG && tp[0] == 0);
    pq_case none = {1, 2, {0}, {0, 0}, {0}, {0}, 0, 1, {0}, {0}, {3}};
    CHECK(run_pq(&none) == MCRLE_ERR_ARG);
    /* indices out of range */
    pq_case rows = {1, 1, {0}, {0}, {0}, {0}, 0, 1, {3}, {0}, {3}};
    CHECK(run_pq(&rows) == MCRLE_ERR_ARG);
    pq_case cat = {1, 1, {3}, {0}, {0}, {0}, 0, 1, {0}, {0}, {3}};
    CHECK(run_pq(&cat) == MCRLE_ERR_ARG);
    /* scratch */
    uint64_t s[64];
    CHECK(mcrle_pq_image(c.rows, c.cols, c.pixels, 1, 1, c.gt_cat, c.crowd, NULL, 1, c.pred_cat,
                         3, tp, fp, fn, iou, s, 8, NULL) == MCRLE_ERR_ARG);
    CHECK(mcrle_pq_scratch_size(SIZE_MAX, 1, 1) == SIZE_MAX);
    CHECK(mcrle_pq_scratch_size(0, 0, 0) > 0);
}

int main(void)
{
    test_pair_sums_random();
    test_pair_sums_errors();
    test_pair_sums_signed_minus_one();
    test_pq_rules();
    test_pq_errors();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
