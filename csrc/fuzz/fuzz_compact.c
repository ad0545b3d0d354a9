/*
 * fuzz_compact.c - the kernels that work straight from the compact strings:
 * mcrle_window_runs_compact (a box's runs), mcrle_window_decode_compact (a
 * 2D box decoded into rows) and mcrle_relabel_compact
 * (relabelled runs of a 1-byte map), against a whole parse
 * (mcrle_string_decode, mcrle_narrow_values, the reference counts check)
 * followed by mcrle_window_runs / a naive relabel of the parsed runs.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bits 2-3 kind (0 bool, 1
 *           signed, 2-3 unsigned; bool only with 1-byte elements, else
 *           unsigned); bit 4 raw mode (both strings are input bytes); bit 5
 *           strings of signed values (values_signed); bit 6 pass no error
 *           info; bit 7 mutate the encoded strings (see below)
 *   byte 1: the relabel table: bits 0-1 its element size, the rest picks
 *           its values and which bytes are defined (bit 7: all); bits 2-3
 *           also pad the rows of the 2D decode (elements)
 *   ndim and shape (fz_shape: 1-4D, at most 2^16 elements), per axis two
 *   bytes for the box as in fuzz_window, then
 *     encoded mode: mutation bytes (which string, what: change a character,
 *       cut the string, add a character; where), then data, each byte a
 *       label (low 3 bits) and a repeat count (high 5 bits + 1), Fortran
 *       order; its runs are written with mcrle_string_encode;
 *     raw mode: one length byte for the values string, the values string,
 *       the rest the counts string.
 * Checks: the window kernel succeeds exactly when the whole parse and the
 * counts check succeed (every count positive, below 2^63, summing to the
 * size; as many values as counts; every value fits); then its runs equal
 * mcrle_window_runs's on the parsed runs, and a capacity of one run less
 * gives NOSPACE. For 2D maps, mcrle_window_decode_compact (rows padded
 * by a few elements) succeeds exactly then too, writes exactly the box's
 * elements (those runs decoded by mcrle_decode into the same rows) and
 * nothing else, and writes nothing when it fails. For 1-byte elements, the
 * relabel kernel (a table of
 * elements of the size of byte 1's low 2 bits, defined where byte 1's
 * pattern says) succeeds exactly when that holds and every run's byte is
 * defined; then its runs are the canonical runs of the relabelled parse,
 * and a capacity of one run less gives NOSPACE. The strings are never
 * written.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    mcrle_kind kind = fz_kind(b0, E);
    int raw = (b0 >> 4) & 1, values_signed = (b0 >> 5) & 1, no_info = (b0 >> 6) & 1;
    int mutate = (b0 >> 7) & 1;
    uint8_t tsel = fz_u8(&in);   /* the relabel table: element size, pattern */

    size_t shape[FZ_MAXD], start[FZ_MAXD], stop[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    size_t total = 1;
    for (int a = 0; a < ndim; a++) {
        size_t s = (size_t)fz_u8(&in) % (shape[a] + 1);
        size_t l = (size_t)fz_u8(&in) % (shape[a] - s + 1);
        start[a] = s;
        stop[a] = s + l;
        total *= shape[a];
    }

    char *vs = NULL, *cs = NULL;
    size_t vl = 0, cl = 0;
    if (raw) {
        vl = fz_u8(&in);
        if (vl > in.n) vl = in.n;
        vs = (char *)fz_malloc(vl);
        for (size_t i = 0; i < vl; i++) vs[i] = (char)fz_u8(&in);
        cl = in.n;
        cs = (char *)fz_malloc(cl);
        for (size_t i = 0; i < cl; i++) cs[i] = (char)fz_u8(&in);
    } else {
        uint8_t m0 = fz_u8(&in), m1 = fz_u8(&in), m2 = fz_u8(&in);
        fz_data_strings(&in, total, E, kind, values_signed, &vs, &vl, &cs, &cl);
        if (mutate) fz_mutate(vs, &vl, cs, &cl, m0, m1, m2);
    }

    /* the reference: a whole parse, then mcrle_window_runs */
    uint64_t *rc = (uint64_t *)fz_malloc((cl + 1) * sizeof(uint64_t));
    uint64_t *rv = (uint64_t *)fz_malloc((vl + 1) * sizeof(uint64_t));
    size_t nc = 0, nv = 0;
    int ok = mcrle_string_decode(cs, cl, 3, rc, cl, &nc, NULL) == MCRLE_OK &&
             mcrle_string_decode(vs, vl, 2, rv, vl, &nv, NULL) == MCRLE_OK && nc == nv &&
             mcrle_narrow_values(rv, nv, values_signed, kind, E, rv, NULL) == MCRLE_OK;
    if (ok) {
        size_t ri = 0;
        uint64_t rs = 0;
        for (size_t k = 0; k < nc; k++) if (rc[k] >> 63) ok = 0;
        if (ok) ok = fz_ref_check_counts(rc, nc, (uint64_t)total, &ri, &rs) == MCRLE_OK;
    }

    size_t cap = mcrle_window_runs_bound(mcrle_string_count(cs, cl), ndim, start, stop);
    FZ_ASSERT(cap != SIZE_MAX);
    unsigned char *ov = (unsigned char *)fz_malloc(cap * E);
    uint64_t *oc = (uint64_t *)fz_malloc(cap * sizeof(uint64_t));
    char *vs_copy = (char *)fz_malloc(vl), *cs_copy = (char *)fz_malloc(cl);
    if (vl) memcpy(vs_copy, vs, vl);
    if (cl) memcpy(cs_copy, cs, cl);
    size_t n_out = 99;
    mcrle_error_info info = {777, 777};
    mcrle_result r = mcrle_window_runs_compact(vs, vl, cs, cl, values_signed, kind, E, ndim, shape,
                                               start, stop, ov, oc, cap, &n_out,
                                               no_info ? NULL : &info);
    FZ_ASSERT((r == MCRLE_OK) == ok);
    if (r != MCRLE_OK) {
        FZ_ASSERT(n_out == 0);
        FZ_ASSERT(r != MCRLE_ERR_NOSPACE);   /* the capacity is enough for any string */
    } else {
        size_t bound = mcrle_window_runs_bound(nc, ndim, start, stop);
        FZ_ASSERT(bound == cap);
        unsigned char *wv = (unsigned char *)fz_malloc(bound * E);
        uint64_t *wc = (uint64_t *)fz_malloc(bound * sizeof(uint64_t));
        size_t nw = 0;
        FZ_ASSERT(mcrle_window_runs(rv, rc, nc, E, ndim, shape, start, stop, wv, wc, bound, &nw,
                                    NULL) == MCRLE_OK || nc == 0);
        /* mcrle_window_runs reads 8-byte values as rv holds them: narrowed in place */
        FZ_ASSERT(nw == n_out);
        FZ_ASSERT(n_out == 0 || memcmp(wv, ov, n_out * E) == 0);
        FZ_ASSERT(n_out == 0 || memcmp(wc, oc, n_out * sizeof(uint64_t)) == 0);
        if (n_out > 0) {
            size_t n2 = 0;
            FZ_ASSERT(mcrle_window_runs_compact(vs, vl, cs, cl, values_signed, kind, E, ndim,
                                                shape, start, stop, ov, oc, n_out - 1, &n2,
                                                NULL) == MCRLE_ERR_NOSPACE);
        }
        free(wc);
        free(wv);
    }
    /* 2D: the box decoded straight into rows (padded by tsel bits 2-3 elements) */
    if (ndim == 2) {
        size_t h = stop[0] - start[0], wd = stop[1] - start[1], pad = (tsel >> 2) & 3;
        size_t rowb = (wd + pad) * E, outb = h * rowb;
        size_t max_runs = mcrle_string_count(cs, cl);
        size_t ss = mcrle_window_decode_scratch_size(max_runs, start, stop, E);
        FZ_ASSERT(ss != SIZE_MAX);
        unsigned char *scr = (unsigned char *)fz_malloc(ss);
        unsigned char *img = (unsigned char *)fz_malloc(outb), *want = (unsigned char *)fz_malloc(outb);
        memset(img, 0xA5, outb);
        memcpy(want, img, outb);
        mcrle_error_info dinfo = {777, 777};
        mcrle_result dr = mcrle_window_decode_compact(vs, vl, cs, cl, values_signed, kind, E, shape,
                                                      start, stop, max_runs, img, (ptrdiff_t)rowb,
                                                      scr, ss, no_info ? NULL : &dinfo);
        FZ_ASSERT((dr == MCRLE_OK) == ok);
        if (dr == MCRLE_OK && h && wd) {
            /* the reference: the box's runs (from the whole parse) decoded into the rows */
            size_t bound = mcrle_window_runs_bound(nc, 2, start, stop), nw = 0;
            unsigned char *wv = (unsigned char *)fz_malloc(bound * E);
            uint64_t *wc = (uint64_t *)fz_malloc(bound * sizeof(uint64_t));
            FZ_ASSERT(mcrle_window_runs(rv, rc, nc, E, 2, shape, start, stop, wv, wc, bound, &nw,
                                        NULL) == MCRLE_OK);
            size_t os[2] = {h, wd};
            ptrdiff_t ostr[2] = {(ptrdiff_t)rowb, (ptrdiff_t)E};
            size_t dss = mcrle_decode_scratch_size(E, 2, os, ostr, nw);
            void *dscr = fz_malloc(dss);
            FZ_ASSERT(mcrle_decode(wv, wc, nw, E, 2, os, ostr, want, dscr, dss, NULL) == MCRLE_OK);
            free(dscr);
            free(wc);
            free(wv);
        }
        /* on failure nothing is written; on success exactly the rows (not the padding) */
        FZ_ASSERT(outb == 0 || memcmp(img, want, outb) == 0);
        free(want);
        free(img);
        free(scr);
    }

    /* relabelling, for maps of 1-byte elements */
    if (E == 1) {
        size_t TE = fz_elem_size(tsel);
        unsigned char *table = (unsigned char *)fz_malloc(256 * TE);
        unsigned char defined[256];
        for (unsigned b = 0; b < 256; b++) {
            fz_store(table + b * TE, fz_label_value((b * 5u + tsel) % 3u, TE), TE);
            defined[b] = (unsigned char)(((b + (tsel >> 2)) % 7u) != 0 || (tsel & 0x80));
        }
        size_t rcap = mcrle_string_count(cs, cl);
        unsigned char *rov = (unsigned char *)fz_malloc(rcap * TE);
        uint64_t *roc = (uint64_t *)fz_malloc(rcap * sizeof(uint64_t));
        int rok = ok;
        for (size_t k = 0; rok && k < nc; k++) rok = defined[((const unsigned char *)rv)[k]] != 0;
        size_t rn = 99;
        mcrle_error_info rinfo = {777, 777};
        mcrle_result rr = mcrle_relabel_compact(vs, vl, cs, cl, values_signed, kind, (uint64_t)total,
                                                table, defined, TE, rov, roc, rcap, &rn,
                                                no_info ? NULL : &rinfo);
        FZ_ASSERT((rr == MCRLE_OK) == rok);
        if (rr != MCRLE_OK) {
            FZ_ASSERT(rn == 0);
            FZ_ASSERT(rr != MCRLE_ERR_NOSPACE);
        } else {
            size_t m = 0;   /* the canonical runs of the relabelled parse */
            for (size_t k = 0; k < nc; k++) {
                uint64_t v = fz_load(table + ((const unsigned char *)rv)[k] * TE, TE);
                if (m && fz_load(rov + (m - 1) * TE, TE) == v) {
                    FZ_ASSERT(m <= rn);
                    continue;   /* merged: checked through the counts below */
                }
                FZ_ASSERT(m < rn && fz_load(rov + m * TE, TE) == v);
                m++;
            }
            FZ_ASSERT(m == rn);
            size_t k = 0;
            for (size_t j = 0; j < rn; j++) {   /* each output run sums its inputs */
                uint64_t c = 0, v = fz_load(rov + j * TE, TE);
                while (k < nc && fz_load(table + ((const unsigned char *)rv)[k] * TE, TE) == v)
                    c += rc[k++];
                FZ_ASSERT(c == roc[j]);
            }
            FZ_ASSERT(k == nc);
            if (rn > 0) {
                size_t n2 = 0;
                FZ_ASSERT(mcrle_relabel_compact(vs, vl, cs, cl, values_signed, kind,
                                                (uint64_t)total, table, defined, TE, rov, roc,
                                                rn - 1, &n2, NULL) == MCRLE_ERR_NOSPACE);
            }
        }
        free(roc);
        free(rov);
        free(table);
    }

    FZ_ASSERT(vl == 0 || memcmp(vs_copy, vs, vl) == 0);
    FZ_ASSERT(cl == 0 || memcmp(cs_copy, cs, cl) == 0);

    free(cs_copy);
    free(vs_copy);
    free(oc);
    free(ov);
    free(rv);
    free(rc);
    free(cs);
    free(vs);
    return 0;
}
