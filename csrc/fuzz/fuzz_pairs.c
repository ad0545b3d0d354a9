/*
 * fuzz_pairs.c - mcrle_pair_sums_compact (the confusion matrix of two maps
 * straight from their compact strings) against a whole parse of each map
 * (mcrle_string_decode, mcrle_narrow_values, the reference counts check)
 * and a naive pair count of the expanded maps.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bits 2-3 kind (0 bool, 1
 *           signed, 2-3 unsigned; bool only with 1-byte elements, else
 *           unsigned); bit 4 raw mode (the four strings are input bytes);
 *           bit 5 mutate the encoded strings; bit 6 pass no error info
 *   byte 1: table length (% 40); byte 2: number of keys (% 24) and groups of
 *           A (1 + high nibble); byte 3: groups of B (1 + b % 16) and the
 *           'other' groups (high bits)
 *   then the table's groups (a byte each), the keys (a label byte each, see
 *   fz_label_value; bit 7: 8 raw bytes instead), their groups (a byte each)
 *   two bytes: the size (% 4097 elements)
 *     encoded mode: for A then B, data bytes, each a label (low 3 bits) and
 *       a repeat count (high 5 bits + 1) until the size is covered; their
 *       runs written with mcrle_string_encode; then mutation bytes (which
 *       string, what: change a character, cut, add one; where);
 *     raw mode: three length bytes (A's values, A's counts, B's values), the
 *       strings, the rest B's counts.
 * Checks: the kernel succeeds exactly when both whole parses and counts
 * checks succeed; a failure is attributed to a map that fails them (A's
 * codes plain, B's + MCRLE_PAIR_B); on success every entry equals the naive
 * count; the strings are never written.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_map {
    char *v, *c;
    size_t vl, cl;
} fz_map;

static uint64_t label(uint8_t b, size_t E, mcrle_kind kind, int raw8, fz_in *in)
{
    uint64_t v = raw8 ? fz_bytes(in, 8) : fz_label_value(b & 7u, E);
    if (kind == MCRLE_KIND_BOOL) v &= 1;
    if (!raw8 && kind == MCRLE_KIND_SIGNED && E < 8 && ((v >> (8 * E - 1)) & 1))
        v |= ~fz_mask(E);   /* sign-extended, as the strings store signed values */
    return v;
}

static char *raw_string(fz_in *in, size_t len, size_t *out_len)
{
    if (len > in->n) len = in->n;
    char *s = (char *)fz_malloc(len);
    for (size_t i = 0; i < len; i++) s[i] = (char)fz_u8(in);
    *out_len = len;
    return s;
}

/* The whole parse of one map: its runs (values narrowed in place), or 0 if it fails. */
static int parse(const fz_map *m, mcrle_kind kind, size_t E, uint64_t total, uint64_t **vals,
                 uint64_t **cnts, size_t *n)
{
    *vals = (uint64_t *)fz_malloc((m->vl + 1) * sizeof(uint64_t));
    *cnts = (uint64_t *)fz_malloc((m->cl + 1) * sizeof(uint64_t));
    uint64_t *wide = (uint64_t *)fz_malloc((m->vl + 1) * sizeof(uint64_t));
    size_t nc = 0, nv = 0;
    int ok = mcrle_string_decode(m->c, m->cl, 3, *cnts, m->cl, &nc, NULL) == MCRLE_OK &&
             mcrle_string_decode(m->v, m->vl, 2, *vals, m->vl, &nv, NULL) == MCRLE_OK &&
             nc == nv;
    if (ok) {
        memcpy(wide, *vals, nv * sizeof(uint64_t));
        ok = mcrle_narrow_values(wide, nv, kind == MCRLE_KIND_SIGNED, kind, E, wide, NULL) ==
             MCRLE_OK;
    }
    for (size_t k = 0; ok && k < nc; k++) if ((*cnts)[k] >> 63) ok = 0;
    if (ok) {
        size_t ri = 0;
        uint64_t rs = 0;
        ok = fz_ref_check_counts(*cnts, nc, total, &ri, &rs) == MCRLE_OK;
    }
    free(wide);
    *n = nc;
    return ok;
}

static uint32_t ref_group(const mcrle_group_map *g, uint64_t v)
{
    if (v < g->table_len) return g->table[v];
    for (size_t k = 0; k < g->n_keys; k++) if (g->keys[k] == v) return g->key_groups[k];
    return g->other;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    mcrle_kind kind = fz_kind(b0, E);
    int raw = (b0 >> 4) & 1, mutate = (b0 >> 5) & 1, no_info = (b0 >> 6) & 1;
    size_t tlen = fz_u8(&in) % 40;
    uint8_t b2 = fz_u8(&in), b3 = fz_u8(&in);
    size_t nk_want = (b2 & 15u) % 24, ng_a = 1 + (b2 >> 4), ng_b = 1 + (b3 & 15u);
    uint32_t table[40], kg[24];
    uint64_t keys[24];
    for (size_t k = 0; k < tlen; k++) table[k] = fz_u8(&in) % (uint32_t)ng_a;
    size_t nk = 0;
    for (size_t k = 0; k < nk_want; k++) {   /* sorted, distinct */
        uint8_t b = fz_u8(&in);
        uint64_t v = label(b, E, kind, (b >> 7) & 1, &in);
        size_t at = 0;
        while (at < nk && keys[at] < v) at++;
        if (at < nk && keys[at] == v) continue;
        memmove(keys + at + 1, keys + at, (nk - at) * sizeof(uint64_t));
        keys[at] = v;
        nk++;
    }
    size_t ng_min = ng_a < ng_b ? ng_a : ng_b;
    for (size_t k = 0; k < nk; k++) kg[k] = fz_u8(&in) % (uint32_t)ng_min;
    mcrle_group_map ga = {kind, E, table, tlen, keys, kg, nk, (uint32_t)((b3 >> 4) % ng_a), ng_a};
    mcrle_group_map gb = {kind, E, NULL, 0, keys, kg, nk, (uint32_t)((b3 >> 6) % ng_b), ng_b};
    size_t total = (size_t)fz_bytes(&in, 2) % 4097;

    fz_map A = {0}, B = {0};
    if (raw) {
        size_t l0 = fz_u8(&in), l1 = fz_u8(&in), l2 = fz_u8(&in);
        A.v = raw_string(&in, l0, &A.vl);
        A.c = raw_string(&in, l1, &A.cl);
        B.v = raw_string(&in, l2, &B.vl);
        B.c = raw_string(&in, in.n, &B.cl);
    } else {
        int sx = kind == MCRLE_KIND_SIGNED;   /* signed values as the strings store them */
        fz_data_strings(&in, total, E, kind, sx, &A.v, &A.vl, &A.c, &A.cl);
        fz_data_strings(&in, total, E, kind, sx, &B.v, &B.vl, &B.c, &B.cl);
        if (mutate) {
            uint8_t m0 = fz_u8(&in), m1 = fz_u8(&in), m2 = fz_u8(&in);
            fz_map *M = (m0 & 2) ? &B : &A;
            /* bit 1 picks the map: the mutation itself reads m0 >> 2 as fz_mutate's m0 */
            fz_mutate(M->v, &M->vl, M->c, &M->cl, (uint8_t)(((m0 >> 2) << 1) | (m0 & 1)), m1, m2);
        }
    }

    uint64_t *va, *ca, *vb, *cb;
    size_t na, nb;
    int ok_a = parse(&A, kind, E, total, &va, &ca, &na);
    int ok_b = parse(&B, kind, E, total, &vb, &cb, &nb);
    char *copy[4] = {(char *)fz_malloc(A.vl), (char *)fz_malloc(A.cl), (char *)fz_malloc(B.vl),
                     (char *)fz_malloc(B.cl)};
    if (A.vl) memcpy(copy[0], A.v, A.vl);
    if (A.cl) memcpy(copy[1], A.c, A.cl);
    if (B.vl) memcpy(copy[2], B.v, B.vl);
    if (B.cl) memcpy(copy[3], B.c, B.cl);

    uint64_t *sums = (uint64_t *)fz_malloc(ng_a * ng_b * sizeof(uint64_t));
    mcrle_error_info info = {777, 777};
    mcrle_result r = mcrle_pair_sums_compact(A.v, A.vl, A.c, A.cl, &ga, B.v, B.vl, B.c, B.cl, &gb,
                                             (uint64_t)total, sums, no_info ? NULL : &info);
    FZ_ASSERT((r == MCRLE_OK) == (ok_a && ok_b));
    if (r != MCRLE_OK) {
        FZ_ASSERT((int)r >= MCRLE_PAIR_B ? !ok_b : !ok_a);
    } else {
        uint64_t *want = (uint64_t *)fz_malloc(ng_a * ng_b * sizeof(uint64_t));
        memset(want, 0, ng_a * ng_b * sizeof(uint64_t));
        size_t ia = 0, ib = 0;
        uint64_t ra = na ? ca[0] : 0, rb = nb ? cb[0] : 0;
        for (size_t e = 0; e < total; e++) {   /* element by element */
            while (ra == 0) ra = ca[++ia];
            while (rb == 0) rb = cb[++ib];
            want[(size_t)ref_group(&ga, va[ia]) * ng_b + ref_group(&gb, vb[ib])]++;
            ra--;
            rb--;
        }
        FZ_ASSERT(memcmp(want, sums, ng_a * ng_b * sizeof(uint64_t)) == 0);
        free(want);
    }
    FZ_ASSERT(A.vl == 0 || memcmp(copy[0], A.v, A.vl) == 0);
    FZ_ASSERT(A.cl == 0 || memcmp(copy[1], A.c, A.cl) == 0);
    FZ_ASSERT(B.vl == 0 || memcmp(copy[2], B.v, B.vl) == 0);
    FZ_ASSERT(B.cl == 0 || memcmp(copy[3], B.c, B.cl) == 0);
    for (int k = 0; k < 4; k++) free(copy[k]);
    free(sums);
    free(va); free(ca); free(vb); free(cb);
    free(A.v); free(A.c); free(B.v); free(B.c);
    return 0;
}
