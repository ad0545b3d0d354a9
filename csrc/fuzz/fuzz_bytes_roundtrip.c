/*
 * fuzz_bytes_roundtrip.c - array -> bytes form -> array (mcrle_bytes.h),
 * plus mcrle_narrow_values / mcrle_widen_values against a reference.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bits 2-3 kind (0, 3
 *           unsigned, 1 signed, 2 bool: 1 byte, 0/1); bits 4-6 labels - 1
 *           (1..7 distinct labels, 7: 256, a label byte per operation);
 *           bit 7 the first 8 label values are raw element bytes read from
 *           the input (else fixed patterns that differ in low, high and sign
 *           bytes)
 *   byte 1: bit 0 add an unused value to the value table; bit 1 drop a used
 *           value (VALUE_RANGE expected); bit 2 also decode into the 8-byte
 *           type of the same signedness; bit 3 decode with bytes trailing the
 *           object; bit 4 capacity / scratch one byte short (NOSPACE); bit 5
 *           fill by line edits (else by runs in C order); bit 6 swap two
 *           table values (ARG expected)
 *   ndim and shape (fz_shape: 1-4D, at most 2^16 elements), the source
 *   layout (fz_arr_make, stride-0 broadcast allowed), the target layout
 *   (no broadcast), [8 raw values], then the data, in C order:
 *     runs: each byte a label (low 3 bits, or the next byte for 256 labels)
 *           and a repeat count (high 5 bits + 1);
 *     line edits (lines along the last axis, each a copy of the one before
 *           with segments overwritten, like a label map): per byte b, 0xFF
 *           ends the line; else skip b & 0x3F positions, then a byte gives
 *           a label and a segment length (high 5 bits + 1).
 *   When the input ends, the last label (runs) or line (edits) repeats.
 * Checks: mcrle_bytes_encode into exactly mcrle_bytes_bound bytes and
 * exactly the scratch size succeeds and fits the bound; the header says
 * the dtype, shape, n_values and length, its checksum is the Adler-32 of
 * the object (reference implementation); a raw payload is exactly the
 * elements in C order; encoding from another layout of the same array
 * gives the same bytes; the source is never written; one byte less
 * capacity or scratch is NOSPACE, a used value missing from the table is
 * VALUE_RANGE, an unsorted table ARG; decoding into the target layout
 * writes exactly the source's elements and nothing between them (also with
 * trailing bytes and an unused table value, and widened into 8 bytes); one
 * byte less input is TRUNCATED and writes nothing.
 */
#include "fuzz_bytes_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LABELS 256

/* Element pattern of a label value for the kind (bool: 0/1). */
static uint64_t label_pattern(uint64_t v, mcrle_kind kind, size_t E)
{
    return kind == MCRLE_KIND_BOOL ? (v & 1) : (v & fz_mask(E));
}

/* The 64-bit number an element stands for (signed kinds sign-extended). */
static uint64_t widen_ref(uint64_t pattern, mcrle_kind kind, size_t E)
{
    return kind == MCRLE_KIND_SIGNED ? ref_sext(pattern, E) : pattern;
}

/* Writes the array's elements at the positions of layout B into a copy of B's buffer. */
static void expect_in(const fz_arr *A, const fz_arr *B, unsigned char *copy)
{
    size_t idx[FZ_MAXD] = {0};
    if (!A->size) return;
    do {
        memcpy(copy + (fz_at(B, idx) - B->buf), fz_at(A, idx), A->E);
    } while (fz_next_c(idx, A->shape, A->ndim));
}

/* narrow / widen against the reference, on numbers derived from the table */
static void check_narrow_widen(const uint64_t *vals, size_t n, uint8_t salt)
{
    static const mcrle_kind kinds[3] = {MCRLE_KIND_BOOL, MCRLE_KIND_SIGNED, MCRLE_KIND_UNSIGNED};
    size_t m = 4 * n;
    uint64_t *nums = (uint64_t *)fz_malloc(m * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        nums[4 * i] = vals[i];
        nums[4 * i + 1] = vals[i] + 1;
        nums[4 * i + 2] = vals[i] - 1 - salt;
        nums[4 * i + 3] = ~vals[i] >> (salt & 7);
    }
    uint64_t *work = (uint64_t *)fz_malloc(m * sizeof(uint64_t));
    unsigned char *out = (unsigned char *)fz_malloc(m * 8);
    uint64_t *back = (uint64_t *)fz_malloc(m * sizeof(uint64_t));
    for (int ki = 0; ki < 3; ki++) {
        for (int ei = 0; ei < 4; ei++) {
            size_t E = (size_t)1 << ei;
            mcrle_kind kind = kinds[ki];
            if (kind == MCRLE_KIND_BOOL && E != 1) {
                mcrle_error_info inf = {0, 0};
                FZ_ASSERT(mcrle_narrow_values(nums, m, 0, kind, E, out, &inf) == MCRLE_ERR_ARG);
                continue;
            }
            for (int sgn = 0; sgn < 2; sgn++) {
                size_t bad = m;
                for (size_t i = 0; i < m && bad == m; i++)
                    if (!ref_fits(nums[i], sgn, kind, E)) bad = i;
                mcrle_error_info inf = {777, 777};
                int r = mcrle_narrow_values(nums, m, sgn, kind, E, out, &inf);
                /* in place: out aliases the numbers */
                memcpy(work, nums, m * sizeof(uint64_t));
                mcrle_error_info inf2 = {777, 777};
                int r2 = mcrle_narrow_values(work, m, sgn, kind, E, work, &inf2);
                FZ_ASSERT(r == r2);
                if (bad < m) {
                    FZ_ASSERT(r == MCRLE_ERR_VALUE_RANGE);
                    FZ_ASSERT(inf.index == bad && inf.sum == nums[bad]);
                    FZ_ASSERT(inf2.index == bad && inf2.sum == nums[bad]);
                    continue;
                }
                FZ_ASSERT(r == MCRLE_OK);
                FZ_ASSERT(m == 0 || memcmp(out, work, m * E) == 0);
                for (size_t i = 0; i < m; i++) FZ_ASSERT(fz_load(out + i * E, E) == (nums[i] & fz_mask(E)));
                FZ_ASSERT(mcrle_widen_values(out, m, kind, E, back) == MCRLE_OK);
                /* every number fits, so widening gives it back */
                for (size_t i = 0; i < m; i++) {
                    FZ_ASSERT(back[i] == widen_ref(nums[i] & fz_mask(E), kind, E));
                    FZ_ASSERT(back[i] == nums[i]);
                }
            }
        }
    }
    free(back);
    free(out);
    free(work);
    free(nums);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in), fl = fz_u8(&in);
    unsigned kc = (b0 >> 2) & 3;
    mcrle_kind kind = kc == 1 ? MCRLE_KIND_SIGNED : kc == 2 ? MCRLE_KIND_BOOL : MCRLE_KIND_UNSIGNED;
    size_t E = kind == MCRLE_KIND_BOOL ? 1 : fz_elem_size(b0);
    unsigned lab_code = (b0 >> 4) & 7;
    unsigned n_labels = lab_code == 7 ? MAX_LABELS : lab_code + 1;
    int raw_labels = (b0 >> 7) & 1;
    int add_unused = fl & 1, drop_used = (fl >> 1) & 1, wide_decode = (fl >> 2) & 1;
    int trailing = (fl >> 3) & 1, short_space = (fl >> 4) & 1, edits = (fl >> 5) & 1;
    int swap = (fl >> 6) & 1;

    size_t shape[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    fz_arr A, B;
    fz_arr_make(&in, &A, E, ndim, shape, 1);
    fz_arr_make(&in, &B, E, ndim, shape, 0);

    /* label values (element patterns) */
    uint64_t lv[MAX_LABELS];
    for (unsigned j = 0; j < MAX_LABELS; j++) {
        uint64_t v = j < 8 ? fz_label_value(j, E)
                           : ((uint64_t)j * 0x9E3779B97F4A7C15u) >> (j & 31);
        lv[j] = label_pattern(v, kind, E);
    }
    if (raw_labels)
        for (unsigned j = 0; j < 8; j++) lv[j] = label_pattern(fz_bytes(&in, E), kind, E);

    /* the data as labels in C order */
    size_t n = A.size;
    uint16_t *lab = (uint16_t *)fz_malloc(n * sizeof(uint16_t));
    if (n) {
        if (!edits) {
            unsigned cur = 0, rep = 0;
            for (size_t i = 0; i < n; i++) {
                if (rep == 0 && in.n > 0) {
                    uint8_t b = fz_u8(&in);
                    rep = 1u + (b >> 3);
                    cur = n_labels == MAX_LABELS ? fz_u8(&in) : (b & 7u) % n_labels;
                }
                if (rep) rep--;
                lab[i] = (uint16_t)cur;
            }
        } else {
            size_t W = shape[ndim - 1], lines = n / W;
            memset(lab, 0, W * sizeof(uint16_t));
            for (size_t k = 0; k < lines; k++) {
                uint16_t *line = lab + k * W;
                if (k) memcpy(line, line - W, W * sizeof(uint16_t));
                size_t x = 0;
                while (in.n > 0 && x < W) {
                    uint8_t b = fz_u8(&in);
                    if (b == 0xFF) break;
                    x += b & 0x3F;
                    uint8_t c = fz_u8(&in);
                    unsigned l = 1u + (c >> 3);
                    unsigned label = n_labels == MAX_LABELS ? fz_u8(&in) : (c & 7u) % n_labels;
                    for (size_t y = x; y < x + l && y < W; y++) line[y] = (uint16_t)label;
                    x += l;
                }
            }
        }
        size_t idx[FZ_MAXD] = {0}, i = 0;
        do fz_store(fz_at(&A, idx), lv[lab[i++]], E); while (fz_next_c(idx, A.shape, ndim));
    }
    free(lab);
    unsigned char *snapshot = (unsigned char *)fz_malloc(A.buf_len);
    memcpy(snapshot, A.buf, A.buf_len);

    /* the value table: distinct values, ascending in the kind's order */
    uint64_t *vals = (uint64_t *)fz_malloc((n + 2) * sizeof(uint64_t));
    size_t nv = 0;
    if (n) {
        size_t idx[FZ_MAXD] = {0};
        do vals[nv++] = widen_ref(fz_load(fz_at(&A, idx), E), kind, E);
        while (fz_next_c(idx, A.shape, ndim));
        qsort(vals, nv, sizeof *vals, kind == MCRLE_KIND_SIGNED ? cmp_i64 : cmp_u64);
        size_t u = 0;
        for (size_t i = 0; i < nv; i++)
            if (u == 0 || vals[i] != vals[u - 1]) vals[u++] = vals[i];
        nv = u;
    }
    check_narrow_widen(vals, nv, b0);

    /* encode */
    int code = mcrle_bytes_dtype_code(kind, E);
    FZ_ASSERT(code >= 0);
    size_t bound = mcrle_bytes_bound(E, ndim, shape);
    size_t ss = mcrle_bytes_encode_scratch_size(E, ndim, shape, A.strides, nv);
    FZ_ASSERT(ss <= mcrle_bytes_encode_scratch_size(E, ndim, shape, NULL, nv));
    FZ_ASSERT(bound != SIZE_MAX && ss != SIZE_MAX);
    FZ_ASSERT(bound >= MCRLE_BYTES_HEADER_MAX + 1 + n * E);
    unsigned char *enc = (unsigned char *)fz_malloc(bound);
    void *scratch = fz_malloc(ss);
    memset(scratch, 0xA5, ss ? ss : 1);
    size_t len = 0;
    FZ_ASSERT(mcrle_bytes_encode(A.base, kind, E, ndim, shape, A.strides, vals, nv, enc, bound,
                                 &len, scratch, ss) == MCRLE_OK);
    FZ_ASSERT(len <= bound);
    FZ_ASSERT(memcmp(snapshot, A.buf, A.buf_len) == 0);

    /* the header and checksum */
    mcrle_bytes_info info;
    FZ_ASSERT(mcrle_bytes_parse_header(enc, len, &info, NULL) == MCRLE_OK);
    FZ_ASSERT(info.total_len == len && info.dtype == (unsigned)code && info.ndim == ndim);
    FZ_ASSERT(info.kind == kind && info.elem_size == E && info.size == n && info.n_values == nv);
    for (int a = 0; a < ndim; a++) FZ_ASSERT(info.shape[a] == shape[a]);
    FZ_ASSERT(info.header_len <= MCRLE_BYTES_HEADER_MAX);
    FZ_ASSERT(ref_adler32(enc, info.header_len - 4, 1) == mcrle_adler32(1, enc, info.header_len - 4));
    FZ_ASSERT(ref_adler32(enc + info.header_len, info.payload_len,
                          ref_adler32(enc, info.header_len - 4, 1)) == info.checksum);
    const unsigned char *pl = enc + info.header_len;
    if (n == 0) FZ_ASSERT(info.payload_len == 0);
    else {
        FZ_ASSERT(pl[0] <= 1);
        if (pl[0] == 1) {   /* raw: the elements in C order, little-endian */
            FZ_ASSERT(info.payload_len == 1 + n * E);
            size_t idx[FZ_MAXD] = {0}, i = 0;
            do {
                uint64_t v = fz_load(fz_at(&A, idx), E), w = 0;
                for (size_t b = 0; b < E; b++) w |= (uint64_t)pl[1 + i * E + b] << (8 * b);
                FZ_ASSERT(v == w);
                i++;
            } while (fz_next_c(idx, A.shape, ndim));
        } else {
            FZ_ASSERT(info.payload_len < n * E + 1);   /* modelled only when smaller */
        }
    }

    /* the same bytes from the target layout */
    {
        unsigned char *bufB = (unsigned char *)fz_malloc(B.buf_len);
        memcpy(bufB, B.buf, B.buf_len);
        expect_in(&A, &B, B.buf);
        unsigned char *enc2 = (unsigned char *)fz_malloc(bound);
        size_t len2 = 0, ssb = mcrle_bytes_encode_scratch_size(E, ndim, shape, B.strides, nv);
        void *scratch_b = fz_malloc(ssb);
        FZ_ASSERT(mcrle_bytes_encode(B.base, kind, E, ndim, shape, B.strides, vals, nv, enc2, bound,
                                     &len2, scratch_b, ssb) == MCRLE_OK);
        free(scratch_b);
        FZ_ASSERT(len2 == len && memcmp(enc2, enc, len) == 0);
        memcpy(B.buf, bufB, B.buf_len);   /* the canary back */
        free(enc2);
        free(bufB);
    }

    /* one byte short: NOSPACE */
    if (short_space) {
        size_t need = MCRLE_BYTES_HEADER_MAX + (n ? 1 + n * E : 0);
        unsigned char *small = (unsigned char *)fz_malloc(need - 1);
        size_t l3 = 0;
        FZ_ASSERT(mcrle_bytes_encode(A.base, kind, E, ndim, shape, A.strides, vals, nv, small,
                                     need - 1, &l3, scratch, ss) == MCRLE_ERR_NOSPACE);
        free(small);
        if (n && ss) {
            void *s2 = fz_malloc(ss - 1);
            FZ_ASSERT(mcrle_bytes_encode(A.base, kind, E, ndim, shape, A.strides, vals, nv, enc,
                                         bound, &l3, s2, ss - 1) == MCRLE_ERR_NOSPACE);
            free(s2);
            FZ_ASSERT(mcrle_bytes_parse_header(enc, len, &info, NULL) == MCRLE_OK);
        }
    }
    /* a used value missing: VALUE_RANGE; two swapped: ARG (the output may be scribbled on) */
    if ((drop_used || swap) && nv >= 2) {
        unsigned char *junk = (unsigned char *)fz_malloc(bound);
        size_t l4 = 0;
        uint64_t *v2 = (uint64_t *)fz_malloc(nv * sizeof(uint64_t));
        if (drop_used) {
            size_t drop = (size_t)fl % nv, k = 0;
            for (size_t i = 0; i < nv; i++) if (i != drop) v2[k++] = vals[i];
            size_t ss4 = mcrle_bytes_encode_scratch_size(E, ndim, shape, A.strides, nv - 1);
            void *s4 = fz_malloc(ss4);
            FZ_ASSERT(mcrle_bytes_encode(A.base, kind, E, ndim, shape, A.strides, v2, nv - 1, junk,
                                         bound, &l4, s4, ss4) == MCRLE_ERR_VALUE_RANGE);
            free(s4);
        }
        if (swap) {
            memcpy(v2, vals, nv * sizeof(uint64_t));
            size_t i = (size_t)b0 % (nv - 1);
            uint64_t t = v2[i];
            v2[i] = v2[i + 1];
            v2[i + 1] = t;
            FZ_ASSERT(mcrle_bytes_encode(A.base, kind, E, ndim, shape, A.strides, v2, nv, junk,
                                         bound, &l4, scratch, ss) == MCRLE_ERR_ARG);
        }
        free(v2);
        free(junk);
    }

    /* decode into the target layout */
    unsigned char *expected = (unsigned char *)fz_malloc(B.buf_len);
    memcpy(expected, B.buf, B.buf_len);
    expect_in(&A, &B, expected);
    {
        size_t extra = trailing ? 5 : 0;
        unsigned char *obj = (unsigned char *)fz_malloc(len + extra);
        memcpy(obj, enc, len);
        if (extra) memcpy(obj + len, "MCRL\x01", extra);
        size_t ds = mcrle_bytes_decode_scratch_size(&info, E, B.strides);
        FZ_ASSERT(ds != SIZE_MAX && (n > 0 || ds == 0));
        void *dscratch = fz_malloc(ds);
        memset(dscratch, 0x5A, ds ? ds : 1);
        unsigned char *before = (unsigned char *)fz_malloc(B.buf_len);
        memcpy(before, B.buf, B.buf_len);
        /* one byte less: TRUNCATED, nothing written */
        mcrle_error_info err = {0, 0};
        FZ_ASSERT(mcrle_bytes_decode(obj, len - 1, kind, E, ndim, shape, B.strides, B.base,
                                     dscratch, ds, &err) == MCRLE_BYTES_ERR_TRUNCATED);
        FZ_ASSERT(err.index == len - 1 && err.sum > len - 1);
        FZ_ASSERT(memcmp(before, B.buf, B.buf_len) == 0);
        FZ_ASSERT(mcrle_bytes_decode(obj, len + extra, kind, E, ndim, shape, B.strides, B.base,
                                     dscratch, ds, &err) == MCRLE_OK);
        FZ_ASSERT(memcmp(expected, B.buf, B.buf_len) == 0);
        free(before);
        free(dscratch);
        free(obj);
    }

    /* widened into 8 bytes of the same signedness */
    if (wide_decode && n) {
        mcrle_kind wk = kind == MCRLE_KIND_SIGNED ? MCRLE_KIND_SIGNED : MCRLE_KIND_UNSIGNED;
        size_t ds = mcrle_bytes_decode_scratch_size(&info, 8, NULL);
        void *dscratch = fz_malloc(ds);
        uint64_t *wide = (uint64_t *)fz_malloc(n * 8);
        ptrdiff_t st[FZ_MAXD];
        size_t step = 8;
        for (int a = ndim - 1; a >= 0; a--) { st[a] = (ptrdiff_t)step; step *= shape[a]; }
        FZ_ASSERT(mcrle_bytes_decode(enc, len, wk, 8, ndim, shape, st, wide, dscratch, ds, NULL) ==
                  MCRLE_OK);
        size_t idx[FZ_MAXD] = {0}, i = 0;
        do {
            FZ_ASSERT(wide[i] == widen_ref(fz_load(fz_at(&A, idx), E), kind, E));
            i++;
        } while (fz_next_c(idx, A.shape, ndim));
        free(wide);
        free(dscratch);
    }

    /* an unused value in the table: still the same array */
    if (add_unused && n && nv + 1 <= n) {
        uint64_t lo = 0, hi = kind == MCRLE_KIND_BOOL ? 1 : fz_mask(E);
        if (kind == MCRLE_KIND_SIGNED) { lo = ref_sext(((uint64_t)1 << (8 * E - 1)), E); hi = ref_sext(fz_mask(E) >> 1, E); }
        /* a number in range that is not in the table: below the first, above the last, or in a gap */
        uint64_t extra = 0;
        int found = 0;
        if (vals[0] != lo) { extra = vals[0] - 1; found = 1; }
        else if (vals[nv - 1] != hi) { extra = vals[nv - 1] + 1; found = 1; }
        else
            for (size_t i = 0; i + 1 < nv && !found; i++)
                if (vals[i + 1] != vals[i] + 1) { extra = vals[i] + 1; found = 1; }
        if (found) {
            uint64_t *v3 = (uint64_t *)fz_malloc((nv + 1) * sizeof(uint64_t));
            memcpy(v3, vals, nv * sizeof(uint64_t));
            v3[nv] = extra;
            qsort(v3, nv + 1, sizeof *v3, kind == MCRLE_KIND_SIGNED ? cmp_i64 : cmp_u64);
            size_t ss3 = mcrle_bytes_encode_scratch_size(E, ndim, shape, A.strides, nv + 1);
            void *s3 = fz_malloc(ss3);
            unsigned char *e3 = (unsigned char *)fz_malloc(bound);
            size_t l3 = 0;
            FZ_ASSERT(mcrle_bytes_encode(A.base, kind, E, ndim, shape, A.strides, v3, nv + 1, e3,
                                         bound, &l3, s3, ss3) == MCRLE_OK);
            FZ_ASSERT(l3 <= bound);
            mcrle_bytes_info i3;
            FZ_ASSERT(mcrle_bytes_parse_header(e3, l3, &i3, NULL) == MCRLE_OK && i3.n_values == nv + 1);
            size_t ds = mcrle_bytes_decode_scratch_size(&i3, E, NULL);
            void *dscratch = fz_malloc(ds);
            fz_arr Cc;   /* a C-order target */
            {
                uint8_t lay[2] = {0, 0};
                fz_in li = {lay, 2};
                fz_arr_make(&li, &Cc, E, ndim, shape, 0);
            }
            unsigned char *exp3 = (unsigned char *)fz_malloc(Cc.buf_len);
            memcpy(exp3, Cc.buf, Cc.buf_len);
            expect_in(&A, &Cc, exp3);
            FZ_ASSERT(mcrle_bytes_decode(e3, l3, kind, E, ndim, shape, Cc.strides, Cc.base, dscratch,
                                         ds, NULL) == MCRLE_OK);
            FZ_ASSERT(memcmp(exp3, Cc.buf, Cc.buf_len) == 0);
            free(exp3);
            fz_arr_free(&Cc);
            free(dscratch);
            free(e3);
            free(s3);
            free(v3);
        }
    }

    free(expected);
    free(scratch);
    free(enc);
    free(vals);
    free(snapshot);
    fz_arr_free(&B);
    fz_arr_free(&A);
    return 0;
}
