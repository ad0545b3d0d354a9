/*
 * pairs.c - the joint element counts of two maps (a confusion matrix)
 * straight from their compact strings, for the evaluators.
 *
 * Evaluating a dataset of compact dicts is parse, map labels to groups and
 * walk both run sequences for every pair; done as three passes (parse into
 * arrays, a lookup pass per map, mcrle_pair_sums) two thirds of the time went
 * to writing and re-reading the intermediate arrays and to their Python
 * objects. Here each map's two strings are read in chunks of runs, each
 * chunk's values are checked and mapped to groups in one tight loop, and the
 * two chunked sequences are merged as mcrle_pair_sums merges its arrays.
 */
#include "internal.h"

/*
 * Runs per chunk, and the fewest runs on each side of a pair of chunks for
 * which the merge is split in two walks: lowered by the fuzzers' builds, so
 * that small maps take several chunks and split walks.
 */
#ifndef MCRLE_PAIR_CHUNK
#define MCRLE_PAIR_CHUNK 512
#endif
#ifndef MCRLE_PAIR_SPLIT_MIN
#define MCRLE_PAIR_SPLIT_MIN 64
#endif
#define PAIR_CHUNK MCRLE_PAIR_CHUNK
#define PAIR_CACHE 256   /* entries of the per-map lookup cache, a power of two */

/* One map being read: its strings, the current chunk of runs, the lookup cache. */
typedef struct pair_seq {
    const mcrle_group_map *g;
    mcrle_str_reader rc, rv;
    size_t n, i, base;         /* runs in the chunk, the next one, runs before the chunk */
    uint64_t total;            /* elements of the runs read so far */
    int64_t smin, smax;        /* the values the map's kind holds */
    uint64_t umax;
    int is_signed;
    uint64_t cnt[PAIR_CHUNK];
    uint64_t val[PAIR_CHUNK];
    uint32_t grp[PAIR_CHUNK];
    uint64_t ckey[PAIR_CACHE]; /* value -> group of values found by binary search */
    uint32_t cgrp[PAIR_CACHE];
} pair_seq;

static uint32_t search_group(const mcrle_group_map *g, uint64_t v)
{
    size_t lo = 0, hi = g->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->keys[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return (lo < g->n_keys && g->keys[lo] == v) ? g->key_groups[lo] : g->other;
}

/*
 * The group of a value at or past the table: a direct-mapped cache in front
 * of a binary search of the keys. A map has few distinct labels (classes,
 * segments), so after the first run of each the cache answers; the binary
 * search's unpredictable branches are paid once per label.
 */
static uint32_t group_past_table(pair_seq *s, uint64_t v)
{
    size_t h = (size_t)((v * UINT64_C(0x9E3779B97F4A7C15)) >> 56) & (PAIR_CACHE - 1);
    if (s->ckey[h] == v) return s->cgrp[h];
    uint32_t gr = search_group(s->g, v);
    s->ckey[h] = v;
    s->cgrp[h] = gr;
    return gr;
}

static mcrle_result check_map(const mcrle_group_map *g)
{
    SAFETY_CHECK(g != NULL, MCRLE_ERR_ARG);
    SAFETY_CHECK(g->elem_size == 1 || g->elem_size == 2 || g->elem_size == 4 ||
                 g->elem_size == 8, MCRLE_ERR_ARG);
    SAFETY_CHECK(g->kind == MCRLE_KIND_SIGNED || g->kind == MCRLE_KIND_UNSIGNED ||
                 (g->kind == MCRLE_KIND_BOOL && g->elem_size == 1), MCRLE_ERR_ARG);
    SAFETY_CHECK(g->table_len == 0 || g->table != NULL, MCRLE_ERR_ARG);
    SAFETY_CHECK(g->n_keys == 0 || (g->keys != NULL && g->key_groups != NULL), MCRLE_ERR_ARG);
    SAFETY_CHECK(g->other < g->n_groups, MCRLE_ERR_ARG);
    /* every group the walk can meet indexes the sums: checked once here */
    for (size_t k = 0; k < g->table_len; k++) SAFETY_CHECK(g->table[k] < g->n_groups, MCRLE_ERR_ARG);
    for (size_t k = 0; k < g->n_keys; k++) {
        SAFETY_CHECK(g->key_groups[k] < g->n_groups, MCRLE_ERR_ARG);
        SAFETY_CHECK(k == 0 || g->keys[k - 1] < g->keys[k], MCRLE_ERR_ARG);
    }
    return MCRLE_OK;
}

static void seq_init(pair_seq *s, const mcrle_group_map *g, const char *values, size_t values_len,
                     const char *counts, size_t counts_len)
{
    s->g = g;
    mcrle_str_reader_init(&s->rc, counts, counts_len, 3);
    mcrle_str_reader_init(&s->rv, values, values_len, 2);
    s->n = s->i = s->base = 0;
    s->total = 0;
    unsigned bits = (unsigned)(8 * g->elem_size);
    s->is_signed = g->kind == MCRLE_KIND_SIGNED;
    if (g->kind == MCRLE_KIND_BOOL) {
        s->smin = 0; s->smax = 1; s->umax = 1;
    } else if (s->is_signed) {
        s->smax = bits == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
        s->smin = -s->smax - 1;
        s->umax = (uint64_t)s->smax;
    } else {
        s->umax = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        s->smin = 0;
        s->smax = INT64_MAX;
    }
    /* the cache's empty slots hold UINT64_MAX with its true group, so a
     * lookup of UINT64_MAX that hits one is right too */
    uint32_t top = search_group(g, UINT64_MAX);
    for (size_t k = 0; k < PAIR_CACHE; k++) { s->ckey[k] = UINT64_MAX; s->cgrp[k] = top; }
}

/* Reads the next chunk of runs: counts checked (positive, below 2^63, within
 * size), values checked against the kind and mapped. s->n == 0 at the end. */
static mcrle_result seq_refill(pair_seq *s, uint64_t size, mcrle_error_info *info)
{
    size_t nc = 0, nv = 0;
    s->base += s->n;
    s->n = s->i = 0;
    mcrle_result r = mcrle_str_read(&s->rc, s->cnt, PAIR_CHUNK, &nc, info);
    if (r != MCRLE_OK) return r;
    if (nc == 0) {
        if (s->rv.p < s->rv.len) {   /* more values than counts */
            if (info) { info->index = s->base; info->sum = s->total; }
            return MCRLE_ERR_ARG;
        }
        return MCRLE_OK;
    }
    r = mcrle_str_read(&s->rv, s->val, nc, &nv, info);
    if (r != MCRLE_OK) return r;
    if (nv != nc) {   /* fewer values than counts */
        if (info) { info->index = s->base + nv; info->sum = s->total; }
        return MCRLE_ERR_ARG;
    }
    uint64_t total = s->total;
    for (size_t k = 0; k < nc; k++) {
        uint64_t c = s->cnt[k];
        if (MCRLE_UNLIKELY(c == 0 || (c >> 63) || c > size - total)) {
            if (info) { info->index = s->base + k; info->sum = c ? UINT64_MAX : total; }
            return c ? MCRLE_ERR_COUNTS_LONG : MCRLE_ERR_ZERO_COUNT;
        }
        total += c;
        s->cnt[k] = total;   /* from here on the run's end: the merge compares ends */
    }
    s->total = total;
    /* the map's fields in locals: stores to grp[] would otherwise make the
     * compiler reload them for every value */
    const uint32_t *table = s->g->table;
    const uint64_t table_len = s->g->table_len;
    const uint64_t *val = s->val;
    uint32_t *grp = s->grp;
    size_t bad = nc;
    uint32_t top = 0;   /* the largest group met */
    if (s->is_signed) {
        const int64_t lo = s->smin, hi = s->smax;
        for (size_t k = 0; k < nc; k++) {
            uint64_t v = val[k];
            if (MCRLE_UNLIKELY((int64_t)v < lo || (int64_t)v > hi)) { bad = k; break; }
            uint32_t g = v < table_len ? table[v] : group_past_table(s, v);
            grp[k] = g;
            top = g > top ? g : top;
        }
    } else {
        const uint64_t hi = s->umax;
        for (size_t k = 0; k < nc; k++) {
            uint64_t v = val[k];
            if (MCRLE_UNLIKELY(v > hi)) { bad = k; break; }
            uint32_t g = v < table_len ? table[v] : group_past_table(s, v);
            grp[k] = g;
            top = g > top ? g : top;
        }
    }
    if (MCRLE_UNLIKELY(bad < nc)) {
        if (info) { info->index = s->base + bad; info->sum = val[bad]; }
        return MCRLE_ERR_VALUE_RANGE;
    }
    /*
     * check_map found every group of the map below n_groups, but the map's
     * arrays are the caller's and another thread may write them while this
     * runs: the groups as read now index the sums, so they are checked again.
     */
    if (MCRLE_UNLIKELY(top >= s->g->n_groups)) {
        if (info) { info->index = s->base; info->sum = top; }
        return MCRLE_ERR_CHANGED;
    }
    s->n = nc;
    return MCRLE_OK;
}

static mcrle_result short_counts(const pair_seq *s, mcrle_error_info *info)
{
    if (info) { info->index = s->base + s->n; info->sum = s->total; }
    return MCRLE_ERR_COUNTS_SHORT;
}

#define B_ERR(r) ((mcrle_result)((r) + MCRLE_PAIR_B))

/*
 * One step of a merge walk at runs (ia, ib), position pos: branch-free. The
 * runs' ends are compared, the shorter step is added to the pair of groups,
 * and each side moves on when its run ends there (both at a shared end). A
 * branch on "which run ends first" is a coin toss for the predictor on label
 * maps and cost half the walk.
 */
#define PAIR_STEP(ia, ib, pos)                                   \
    do {                                                         \
        uint64_t x_ = ea[ia], y_ = eb[ib];                       \
        uint64_t e_ = x_ < y_ ? x_ : y_;                         \
        sums[(size_t)ga[ia] * nb + gb[ib]] += e_ - (pos);        \
        (pos) = e_;                                              \
        (ia) += x_ == e_;                                        \
        (ib) += y_ == e_;                                        \
    } while (0)

/* The first index in [lo, hi) whose end is above v (hi when none is). */
static size_t first_end_above(const uint64_t *ends, size_t lo, size_t hi, uint64_t v)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ends[mid] <= v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/*
 * The merge walk of two initialised sequences (sums zeroed), chunk by chunk.
 * Each step waits for the one before: the next end to compare is loaded at
 * the index that step computed (load, compare, add: about 7 cycles, half the
 * time of a pair on CamVid-like maps). So each pair of chunks is cut at an
 * end P of A near the middle of their common span, and the two halves are
 * walked interleaved, two independent chains that the CPU overlaps: the
 * first from the current runs to P (it stops when A's run ending at P is
 * done), the second from the runs that contain P on (A's next one; B's
 * first ending after P). The steps and sums are the same as one walk's.
 */
static mcrle_result pair_walk_strings(pair_seq *A, pair_seq *B, uint64_t size, uint64_t *sums,
                                      mcrle_error_info *info)
{
    const size_t nb = B->g->n_groups;
    mcrle_result r = seq_refill(A, size, info);
    if (r != MCRLE_OK) return r;
    r = seq_refill(B, size, info);
    if (r != MCRLE_OK) return B_ERR(r);
    if (A->n == 0) {
        if (size) return short_counts(A, info);
        if (B->n) return B_ERR(MCRLE_ERR_COUNTS_LONG);   /* not reached: refill refuses it */
        return MCRLE_OK;
    }
    if (B->n == 0) return B_ERR(short_counts(B, info));
    uint64_t pos = 0;
    for (;;) {
        size_t ia = A->i, ib = B->i;
        const size_t na = A->n, nbr = B->n;
        const uint64_t *ea = A->cnt, *eb = B->cnt;
        const uint32_t *ga = A->grp, *gb = B->grp;
        if (na - ia >= MCRLE_PAIR_SPLIT_MIN && nbr - ib >= MCRLE_PAIR_SPLIT_MIN) {
            uint64_t last_b = eb[nbr - 1], lim = ea[na - 1] < last_b ? ea[na - 1] : last_b;
            /* A's first end past the middle: there is one (pos < lim, so the
             * middle is below lim, and ea[na - 1] >= lim) */
            size_t k = first_end_above(ea, ia, na, pos + (lim - pos) / 2);
            uint64_t cut = ea[k];
            if (cut <= last_b) {   /* else B's chunk ends before it: one walk */
                size_t ia2 = k + 1, ib2 = first_end_above(eb, ib, nbr, cut);
                uint64_t pos2 = cut;
                while (ia <= k && ia2 < na && ib2 < nbr) {
                    PAIR_STEP(ia, ib, pos);
                    PAIR_STEP(ia2, ib2, pos2);
                }
                /* the first walk ends where the second began: A's run k done
                 * at cut, B's runs ending at or before cut done (B's last
                 * one ends at or past cut, so ib stays below nbr) */
                while (ia <= k) PAIR_STEP(ia, ib, pos);
                ia = ia2;
                ib = ib2;
                pos = pos2;
            }
        }
        while (ia < na && ib < nbr) PAIR_STEP(ia, ib, pos);
        A->i = ia;
        B->i = ib;
        if (ia == na) {
            r = seq_refill(A, size, info);
            if (r != MCRLE_OK) return r;
            if (A->n == 0) break;
        }
        if (ib == nbr) {
            r = seq_refill(B, size, info);
            if (r != MCRLE_OK) return B_ERR(r);
            /* B ends inside A's runs: B covers less than A, at most size */
            if (B->n == 0) return B_ERR(short_counts(B, info));
        }
    }
    /* A ended at A->total elements; B has covered as many, and a run of B
     * left over, or another one, means B covers more (at most size) */
    if (A->total < size) return short_counts(A, info);
    if (B->i == B->n) {
        r = seq_refill(B, size, info);   /* any further run of B is too long */
        if (r != MCRLE_OK) return B_ERR(r);
        if (B->n) return B_ERR(MCRLE_ERR_COUNTS_LONG);  /* not reached: refill refuses it */
    }
    return MCRLE_OK;
}

mcrle_result mcrle_pair_sums_compact(const char *values_a, size_t values_a_len,
                                     const char *counts_a, size_t counts_a_len,
                                     const mcrle_group_map *a,
                                     const char *values_b, size_t values_b_len,
                                     const char *counts_b, size_t counts_b_len,
                                     const mcrle_group_map *b,
                                     uint64_t size, uint64_t *sums, mcrle_error_info *info)
{
    mcrle_result r = check_map(a);
    if (r != MCRLE_OK) return r;
    r = check_map(b);
    if (r != MCRLE_OK) return r;
    SAFETY_CHECK((values_a_len == 0 || values_a) && (counts_a_len == 0 || counts_a) &&
                 (values_b_len == 0 || values_b) && (counts_b_len == 0 || counts_b),
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(a->n_groups <= SIZE_MAX / b->n_groups, MCRLE_ERR_ARG);
    SAFETY_CHECK(sums != NULL, MCRLE_ERR_ARG);
    for (size_t k = 0; k < a->n_groups * b->n_groups; k++) sums[k] = 0;
    /* 2 x 13 KiB on the stack: well within any platform's thread stack, and
     * no allocation per pair */
    pair_seq A, B;
    seq_init(&A, a, values_a, values_a_len, counts_a, counts_a_len);
    seq_init(&B, b, values_b, values_b_len, counts_b, counts_b_len);
    return pair_walk_strings(&A, &B, size, sums, info);
}
