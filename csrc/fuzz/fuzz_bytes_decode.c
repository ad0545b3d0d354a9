/*
 * fuzz_bytes_decode.c - untrusted bytes into the bytes form's header parser
 * and decoder (mcrle_bytes.h), decoded into two output layouts.
 *
 * Input:
 *   byte 0 (ctl): bit 0 build mode (below); bit 1 raw mode: recompute and
 *           patch the checksum (most inputs then reach the payload), build
 *           mode: store a wrong checksum; bits 2-4 output dtype: the
 *           header's dtype code + this, mod 9 (0: the stored dtype; others
 *           may not hold the values); bit 5 give one byte less scratch than
 *           mcrle_bytes_decode_scratch_size; bit 6 no error info for the
 *           first decode (the second gets one, or the other way round);
 *           bit 7 build mode: a synthesised modelled payload (below)
 *   byte 1, byte 2: the layouts of outputs A and B (fuzz_ndarr.h: C,
 *           Fortran, transposed, rotated, gaps, negative strides, misaligned,
 *           padded)
 *   raw mode: the rest is the object (and whatever follows it);
 *   build mode: dtype byte (mod 9); ndim byte (bit 7: 1 + (b & 31), else
 *           1 + b % 4); per axis a byte (bit 7: two bytes, 15 bits); n_values
 *           (a byte; 0xFF: two bytes); the rest is the payload, behind a
 *           header with the right payload_len and checksum; with ctl bit 7
 *           (maps of at most 2^18 elements) the rest is instead a script
 *           from which a modelled payload is written: a byte per value
 *           (the value table: the first value, then gaps), then per line
 *           symbols (a byte: >= 212 or 0 ends the line, else b % 106; then
 *           the numbers the symbol needs, a byte each or 0xFF and 4 bytes,
 *           and a VAL byte: rank in bits 0-2, escape index above), coded
 *           with fixed tables into a well-formed rANS stream (sy_payload).
 * Maps of more than 2^20 elements are refused after the header is parsed,
 * before anything is allocated from it (as the Python layer's element limit
 * does). Headers of both versions are checked; the payload checks below are
 * of version 1 (version 2's chunks and line order: fuzz_bytes_v2).
 *
 * Checks:
 *   - mcrle_bytes_parse_header: result, error info (index, sum) and fields
 *     equal a reference parser written from docs/format.md 4.1; every
 *     prefix of an accepted object is TRUNCATED (index = the prefix length,
 *     sum > it); parsing exactly total_len bytes gives the same fields;
 *   - mcrle_bytes_decode (outputs filled with different canaries, scratch
 *     exactly sized and filled with garbage): the result is what the input
 *     implies: the parse error; CHECKSUM (sum: an independent Adler-32);
 *     NOSPACE for short scratch; MODE (sum: the byte) for a mode other than
 *     0 and 1; for a raw payload, RAW_LENGTH when its length is wrong
 *     (index: the length needed, sum: the length), else BOOL or VALUE_RANGE
 *     at the first element (C order) that the stored or the output dtype
 *     cannot hold, else OK with exactly the stored elements; for a modelled
 *     payload, VALUES when the value table (read by a reference reader) is
 *     invalid, VALUE_RANGE at the first table value the output cannot hold,
 *     else OK or one of TABLES, SHORT, PAYLOAD, END;
 *   - the output contract of mcrle_bytes.h: errors found before anything
 *     is written (header, checksum, scratch, mode, raw length, value table,
 *     frequency tables, too short for the lines, a table value the output
 *     cannot hold) leave out untouched; errors found while writing (a line,
 *     the end of the stream, a raw element) set every element to 0; in all
 *     cases the bytes between elements are never written;
 *   - on success: both layouts hold the same elements (each checked against
 *     the other's with the other canary) and every element is a value of the
 *     table; re-encoding the result (mcrle_bytes_encode, bound-sized buffer)
 *     and decoding that gives the same array (maps up to 2^16 elements);
 *   - the second decode (other layout, other scratch garbage, error info
 *     given or not) gives the same result and error info.
 */
#include "fuzz_ndarr.h"
#include "fuzz_bytes_ref.h"

/* 2^20 and 2^16 by default; both follow a lowered FZ_MAX_ELEMS (fuzz_common.h) */
#define FB_MAX_ELEMS (FZ_MAX_ELEMS * 16)
#define FB_REENCODE_MAX FZ_MAX_ELEMS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the reference header parser, written from docs/format.md 4.1 --------------------- */

typedef struct ref_hdr {
    int code;
    size_t index;
    uint64_t sum;
    mcrle_bytes_info info;
} ref_hdr;

#define REF_FAIL(c, i, s) do { R->code = (c); R->index = (size_t)(i); R->sum = (uint64_t)(s); return; } while (0)

/* The header per 4.1, with the kernel's own limits (each axis and the
 * payload length <= SIZE_MAX / 2, size <= SIZE_MAX / 8). */
static void ref_parse(const unsigned char *p, size_t len, ref_hdr *R)
{
    mcrle_bytes_info *I = &R->info;
    memset(R, 0, sizeof *R);
    for (size_t i = 0; i < 4; i++) {
        if (i >= len) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, 8);
        if (p[i] != (unsigned char)"MCRL"[i]) REF_FAIL(MCRLE_BYTES_ERR_MAGIC, 0, 0);
    }
    if (len < 5) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, 8);
    if (p[4] != 1 && p[4] != 2) REF_FAIL(MCRLE_BYTES_ERR_VERSION, 4, p[4]);
    if (len < 8) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, 8);
    if (p[5] > 8) REF_FAIL(MCRLE_BYTES_ERR_HEADER, 5, p[5]);
    if (p[6] < 1 || p[6] > 32) REF_FAIL(MCRLE_BYTES_ERR_HEADER, 6, p[6]);
    /* flags (4.1): none in version 1; in version 2 bit 0, the line order (4.9) */
    if (p[7] & (p[4] == 2 ? 0xFEu : 0xFFu)) REF_FAIL(MCRLE_BYTES_ERR_HEADER, 7, p[7]);
    I->version = p[4];
    I->order = p[7] & 1u;
    I->dtype = p[5];
    ref_dtype(I->dtype, &I->kind, &I->elem_size);
    I->ndim = p[6];
    size_t pos = 8, at;
    uint64_t v;
    int r;
    int zero = 0, over = 0;
    size_t n = 1;
    for (int a = 0; a < I->ndim; a++) {
        at = pos;
        r = ref_varint(p, len, &pos, &v);
        if (r == 1) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, len + 1);
        if (r == 2 || v > (uint64_t)(SIZE_MAX / 2)) REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, 0);
        I->shape[a] = (size_t)v;
        if (v == 0) zero = 1;
        else if (n > (SIZE_MAX / 8) / (size_t)v) over = 1;
        else n *= (size_t)v;
    }
    if (!zero && over) REF_FAIL(MCRLE_BYTES_ERR_HEADER, 8, 0);
    I->size = zero ? 0 : n;
    at = pos;
    r = ref_varint(p, len, &pos, &v);
    if (r == 1) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, len + 1);
    if (r == 2) REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, 0);
    if (v > I->size) REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, v);
    if (I->elem_size < 8) {   /* at most as many distinct values as the dtype has */
        uint64_t most = I->kind == MCRLE_KIND_BOOL ? 2 : (uint64_t)1 << (8 * I->elem_size);
        if (v > most) REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, v);
    }
    I->n_values = (size_t)v;
    at = pos;
    r = ref_varint(p, len, &pos, &v);
    if (r == 1) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, len + 1);
    if (r == 2 || v > (uint64_t)(SIZE_MAX / 2)) REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, 0);
    I->payload_len = (size_t)v;
    if (len - pos < 4) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, pos + 4);
    I->checksum = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 | (uint32_t)p[pos + 2] << 16 |
                  (uint32_t)p[pos + 3] << 24;
    I->header_len = pos + 4;
    I->total_len = I->header_len + I->payload_len;
    /* the offending count is reported at the payload_len field's offset */
    if (I->size == 0 && I->payload_len != 0) REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, I->payload_len);
    if (I->size > 0 && (I->n_values == 0 || I->n_values > I->payload_len))
        REF_FAIL(MCRLE_BYTES_ERR_HEADER, at, I->n_values);
    if (len < I->total_len) REF_FAIL(MCRLE_BYTES_ERR_TRUNCATED, len, I->total_len);
    R->code = MCRLE_OK;
}

/* Reads the value table (4.3): 1 and the values as 64-bit numbers (signed
 * ones sign-extended), or 0 if it is invalid. */
static int ref_values(const unsigned char *pl, size_t plen, const mcrle_bytes_info *I,
                      uint64_t *tv)
{
    size_t pos = 1;
    int sgn = I->kind == MCRLE_KIND_SIGNED;
    uint64_t prev = 0;
    for (size_t i = 0; i < I->n_values; i++) {
        uint64_t v, x;
        if (ref_varint(pl, plen, &pos, &v) != 0) return 0;
        if (i == 0) {
            x = sgn ? ((v >> 1) ^ (0 - (v & 1))) : v;   /* zigzag */
        } else {
            /* x = prev + v + 1 must fit the dtype: compare as offsets from its minimum */
            uint64_t lo = sgn ? (uint64_t)1 << 63 : 0;   /* key = x + 2^63 for signed */
            uint64_t kprev = prev ^ lo, kmax;
            if (sgn) kmax = I->elem_size == 8 ? UINT64_MAX : (((uint64_t)1 << (8 * I->elem_size - 1)) - 1) ^ lo;
            else kmax = I->kind == MCRLE_KIND_BOOL ? 1 : I->elem_size == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * I->elem_size)) - 1;
            if (kprev == kmax || v > kmax - kprev - 1) return 0;
            x = (kprev + v + 1) ^ lo;
        }
        if (!ref_fits(x, sgn, I->kind, I->elem_size)) return 0;
        tv[i] = x;
        prev = x;
    }
    return 1;
}

/* ---- synthesised modelled payloads (docs/format.md 4.5-4.7) -------------------------- */

/*
 * Build mode with ctl bit 7: the payload is written here from a script of
 * line symbols, so the decoder gets a well-formed rANS stream whose segments
 * are whatever the input says (valid or not), and every check of the line
 * decoder is reachable. Tables: every symbol of every alphabet present
 * (symbol 0 of the line tables likely), precision 9. The script follows the
 * order in which a decoder reads (4.7): per line a first symbol (FIRST0/1 by
 * whether the line before changed), then SEG symbols until 0; per segment
 * symbol its numbers (OFF, KX, LX classes and raw bits), then unless it is
 * predicted a VAL rank (7: escape, then raw index bits).
 */
#define SY_OPS_MAX (1u << 20)
static const unsigned SY_ALPHA[7] = {106, 106, 106, 33, 33, 33, 8};

typedef struct sy_tab { uint32_t freq[106], cum[106]; } sy_tab;

typedef struct synth {
    uint32_t *ops;   /* bit 31: raw (bits 16-20: k, low 16: value); else table << 8 | symbol */
    size_t n, cap;   /* cap: the most ops a script may have (SY_OPS_MAX) */
    size_t alloc;    /* ops allocated so far: grown on demand, since a 4 MB buffer per
                        execution cost more than the decoding being tested */
    sy_tab tab[7];
} synth;

static void sy_tables(synth *S)
{
    for (unsigned t = 0; t < 7; t++) {
        unsigned A = SY_ALPHA[t];
        uint32_t c = 0;
        for (unsigned s = 0; s < A; s++) {
            uint32_t f = A == 106 ? (s == 0 ? 197 : 3) : A == 33 ? (s < 32 ? 15 : 32) : 64;
            S->tab[t].freq[s] = f;
            S->tab[t].cum[s] = c;
            c += f;
        }
        FZ_ASSERT(c == 512);
    }
}

static void sy_push(synth *S, uint32_t op)
{
    if (S->n >= S->cap) return;
    if (S->n == S->alloc) {
        S->alloc = S->alloc ? 2 * S->alloc : 4096;
        S->ops = (uint32_t *)realloc(S->ops, S->alloc * sizeof(uint32_t));
        if (!S->ops) abort();
    }
    S->ops[S->n++] = op;
}

static void sy_sym(synth *S, unsigned t, unsigned s)
{
    sy_push(S, (uint32_t)(t << 8) | s);
}

static void sy_raw(synth *S, unsigned k, uint64_t v)   /* 0..32 bits, high part first */
{
    if (k == 0) return;
    if (k > 16) { sy_raw(S, k - 16, v >> 16); k = 16; v &= 0xffff; }
    sy_push(S, 0x80000000u | (uint32_t)k << 16 | (uint32_t)(v & ((1u << k) - 1)));
}

static unsigned sy_bitlen(uint64_t x)
{
    unsigned n = 0;
    while (x) { n++; x >>= 1; }
    return n;
}

static void sy_num(synth *S, unsigned t, uint64_t x)   /* x < 2^32 - 1 */
{
    unsigned c = sy_bitlen(x + 1) - 1;
    sy_sym(S, t, c);
    sy_raw(S, c, x + 1 - ((uint64_t)1 << c));
}

static uint64_t sy_in_num(fz_in *in)   /* a byte, or 0xFF and 4 bytes */
{
    uint8_t b = fz_u8(in);
    uint64_t x = b == 0xFF ? fz_bytes(in, 4) : b;
    return x > 0xFFFFFFFDu ? 0xFFFFFFFDu : x;
}

/* The script: lines of the map with n_values values. */
static void sy_script(synth *S, fz_in *in, size_t lines, size_t n_values)
{
    unsigned nb = sy_bitlen((uint64_t)n_values - 1);
    unsigned prev_changed = 0;
    for (size_t k = 0; k < lines && S->n < S->cap; k++) {
        unsigned t = prev_changed, changed = 0;   /* FIRST0 / FIRST1 */
        for (;;) {
            uint8_t b = in->n ? fz_u8(in) : 0xFF;
            unsigned sym = b >= 212 ? 0 : b % 106;
            sy_sym(S, t, sym);
            if (sym == 0 || S->n >= S->cap) break;
            t = 2;   /* SEG */
            changed = 1;
            unsigned pred = 0;
            if (sym >= 101) {
                sy_num(S, 5, sy_in_num(in));                  /* OFF */
                if (sym == 105) sy_num(S, 4, sy_in_num(in));  /* LX */
            } else {
                unsigned v = sym - 1, ll = (v >> 1) % 5, kk = (v / 10) % 5;
                pred = v & 1;
                if (kk == 4) sy_num(S, 3, sy_in_num(in));     /* KX */
                if (ll == 4) sy_num(S, 4, sy_in_num(in));     /* LX */
            }
            if (!pred) {
                uint8_t r = fz_u8(in);
                sy_sym(S, 6, r & 7u);
                if ((r & 7u) == 7) sy_raw(S, nb, (r >> 3) % (n_values ? n_values : 1));
            }
        }
        prev_changed = changed;
    }
}

/* rANS-codes the ops (blocks of 32768, each coded backwards); returns the bytes written. */
static size_t sy_rans(const synth *S, unsigned char *out)
{
    size_t o = 0;
    uint16_t *words = (uint16_t *)fz_malloc((S->n < 32768 ? S->n : 32768) * sizeof(uint16_t) + 4);
    for (size_t b0 = 0; b0 < S->n; b0 += 32768) {
        size_t b1 = S->n - b0 < 32768 ? S->n : b0 + 32768, nw = 0;
        uint32_t x = 1u << 16;
        for (size_t i = b1; i-- > b0;) {
            uint32_t op = S->ops[i];
            if (op & 0x80000000u) {
                unsigned k = (op >> 16) & 31;
                if ((uint64_t)x >= ((uint64_t)1 << (32 - k))) { words[nw++] = (uint16_t)x; x >>= 16; }
                x = (x << k) | (op & 0xffff);
            } else {
                const sy_tab *T = &S->tab[op >> 8];
                uint32_t f = T->freq[op & 0xff];
                if ((uint64_t)x >= ((uint64_t)((1u << 16) >> 9) << 16) * f) { words[nw++] = (uint16_t)x; x >>= 16; }
                x = ((x / f) << 9) + (x % f) + T->cum[op & 0xff];
            }
        }
        for (int i = 0; i < 4; i++) out[o++] = (unsigned char)(x >> (8 * i));
        while (nw) { uint16_t w = words[--nw]; out[o++] = (unsigned char)w; out[o++] = (unsigned char)(w >> 8); }
    }
    free(words);
    return o;
}

typedef struct sy_bits { unsigned char *p; size_t n; unsigned bit; } sy_bits;

static void sy_put(sy_bits *w, uint32_t v, unsigned k)   /* LSB first */
{
    for (unsigned i = 0; i < k; i++) {
        if (w->bit == 0) w->p[w->n] = 0;
        w->p[w->n] |= (unsigned char)(((v >> i) & 1) << w->bit);
        if (++w->bit == 8) { w->bit = 0; w->n++; }
    }
}

static void sy_eg0(sy_bits *w, uint32_t v)
{
    unsigned z = sy_bitlen((uint64_t)v + 1) - 1;
    sy_put(w, 0, z);
    sy_put(w, 1, 1);
    sy_put(w, (v + 1) & ((1u << z) - 1), z);
}

/*
 * The payload for a map of `lines` lines and n_values values: mode 0, the
 * value table (a byte each from the input: the first value, then gaps), the
 * tables, the stream. Returns a malloc'd payload and its length.
 */
static unsigned char *sy_payload(fz_in *in, size_t lines, size_t n_values, size_t *plen)
{
    synth S;
    memset(&S, 0, sizeof S);
    sy_tables(&S);
    S.cap = SY_OPS_MAX;   /* ops: NULL, alloc 0 after the memset */
    unsigned char *vt = (unsigned char *)fz_malloc(n_values * 10 + 1);
    size_t vl = 0;
    for (size_t i = 0; i < n_values; i++) vl += ref_put_varint(vt + vl, fz_u8(in));
    sy_script(&S, in, lines, n_values);
    size_t cap = 1 + vl + 1024 + 4 * (S.n / 32768 + 1) + 4 * S.n + 16;
    unsigned char *p = (unsigned char *)fz_malloc(cap);
    size_t n = 0;
    p[n++] = 0;
    memcpy(p + n, vt, vl);
    n += vl;
    sy_bits w = {p + n, 0, 0};
    for (unsigned t = 0; t < 7; t++) {
        unsigned A = SY_ALPHA[t];
        sy_put(&w, 1, 1);
        sy_put(&w, 9, 4);
        sy_eg0(&w, A - 1);
        for (unsigned s = 0; s < A; s++) sy_eg0(&w, 0);
        for (unsigned s = 0; s + 1 < A; s++) sy_eg0(&w, S.tab[t].freq[s] - 1);
    }
    n += w.n + (w.bit ? 1 : 0);
    n += sy_rans(&S, p + n);
    FZ_ASSERT(n <= cap);
    free(vt);
    free(S.ops);
    *plen = n;
    return p;
}

/* ---- helpers ----------------------------------------------------------------------- */

/* Sets every element of A (in a copy of its buffer) to 0. */
static void zero_elements(const fn_arr *A, unsigned char *copy)
{
    if (!A->size) return;
    fn_walk w;
    fn_walk_init(&w, A);
    size_t base = (size_t)(A->base - A->buf);
    do memset(copy + base + w.oa, 0, A->E); while (fn_walk_next(&w, A, A));
}

/* What the output must look like after an error: untouched, or every element 0. */
static void check_error_output(int r, int raw, const fn_arr *A, const unsigned char *before)
{
    unsigned char *expect = (unsigned char *)fz_malloc(A->buf_len);
    memcpy(expect, before, A->buf_len);
    if (r == MCRLE_BYTES_ERR_PAYLOAD || r == MCRLE_BYTES_ERR_END || r == MCRLE_BYTES_ERR_BOOL ||
        (r == MCRLE_ERR_VALUE_RANGE && raw))
        zero_elements(A, expect);
    FZ_ASSERT(memcmp(expect, A->buf, A->buf_len) == 0);
    free(expect);
}

typedef struct dec_run {
    int r;
    mcrle_error_info err;
} dec_run;

static dec_run run_decode(const unsigned char *obj, size_t len, const mcrle_bytes_info *info,
                          mcrle_kind okind, size_t oE, fn_arr *A, size_t ss, unsigned char garbage,
                          int with_info)
{
    dec_run d;
    void *scratch = fz_malloc(ss);
    memset(scratch, garbage, ss ? ss : 1);
    d.err.index = 777;
    d.err.sum = 777;
    d.r = mcrle_bytes_decode(obj, len, okind, oE, info->ndim, info->shape, A->strides, A->base,
                             scratch, ss, with_info ? &d.err : NULL);
    free(scratch);
    return d;
}

/* Re-encodes the decoded array A (elements of okind/oE, values: the sorted
 * distinct values as 64-bit patterns) and decodes that into a C-order array. */
static void check_reencode(const fn_arr *A, mcrle_kind okind, const uint64_t *vals, size_t nv)
{
    size_t bound = mcrle_bytes_bound(A->E, A->ndim, A->shape);
    size_t es = mcrle_bytes_encode_scratch_size(A->E, A->ndim, A->shape, A->strides, nv);
    FZ_ASSERT(es <= mcrle_bytes_encode_scratch_size(A->E, A->ndim, A->shape, NULL, nv));
    FZ_ASSERT(bound != SIZE_MAX && es != SIZE_MAX);
    unsigned char *enc = (unsigned char *)fz_malloc(bound);
    void *scratch = fz_malloc(es);
    size_t elen = 0;
    int r = mcrle_bytes_encode(A->base, okind, A->E, A->ndim, A->shape, A->strides, vals, nv, enc,
                               bound, &elen, scratch, es);
    FZ_ASSERT(r == MCRLE_OK);
    FZ_ASSERT(elen <= bound);
    free(scratch);
    mcrle_bytes_info info;
    FZ_ASSERT(mcrle_bytes_parse_header(enc, elen, &info, NULL) == MCRLE_OK);
    FZ_ASSERT(info.total_len == elen && info.n_values == nv);
    fn_arr C;
    fn_arr_make(&C, A->E, A->ndim, A->shape, 0, 0xEE);
    size_t ds = mcrle_bytes_decode_scratch_size(&info, A->E, C.strides);
    void *dscratch = fz_malloc(ds);
    FZ_ASSERT(mcrle_bytes_decode(enc, elen, okind, A->E, A->ndim, A->shape, C.strides, C.base,
                                 dscratch, ds, NULL) == MCRLE_OK);
    fn_walk w;
    fn_walk_init(&w, A);
    do {
        FZ_ASSERT(memcmp(A->base + w.oa, C.base + w.ob, A->E) == 0);
    } while (fn_walk_next(&w, A, &C));
    free(dscratch);
    fn_arr_free(&C);
    free(enc);
}

/* ---- the harness --------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t ctl = fz_u8(&in), la = fz_u8(&in), lb = fz_u8(&in);
    int build = ctl & 1, fix_ck = (ctl >> 1) & 1, short_scratch = (ctl >> 5) & 1;
    int no_info = (ctl >> 6) & 1;
    unsigned out_shift = (ctl >> 2) & 7;

    /* the object */
    unsigned char *obj;
    size_t len;
    if (build) {
        unsigned char h[MCRLE_BYTES_HEADER_MAX];
        size_t hl = 0;
        uint8_t dt = fz_u8(&in) % 9, nb = fz_u8(&in);
        int ndim = (nb & 0x80) ? 1 + (nb & 31) : 1 + nb % 4;
        memcpy(h, "MCRL", 4);
        h[4] = 1;
        h[5] = dt;
        h[6] = (unsigned char)ndim;
        h[7] = 0;
        hl = 8;
        size_t shp[MCRLE_MAX_NDIM], total = 1, W = 1;
        for (int a = 0; a < ndim; a++) {
            uint8_t b = fz_u8(&in);
            uint64_t v = (b & 0x80) ? ((uint64_t)(b & 0x7f) << 8 | fz_u8(&in)) : b;
            hl += ref_put_varint(h + hl, v);
            shp[a] = (size_t)v;
            total *= shp[a];
            if (shp[a] > 1) W = shp[a];   /* the line: the last axis of length > 1 */
        }
        uint8_t b = fz_u8(&in);
        uint64_t nv = b == 0xFF ? fz_bytes(&in, 2) : b;
        hl += ref_put_varint(h + hl, nv);
        unsigned char *payload;
        size_t plen;
        if ((ctl & 0x80) && total > 0 && total <= ((size_t)1 << 18) && nv > 0) {
            payload = sy_payload(&in, total / W, (size_t)nv, &plen);
        } else {
            plen = in.n;
            payload = (unsigned char *)fz_malloc(plen);
            if (plen) memcpy(payload, in.p, plen);
        }
        hl += ref_put_varint(h + hl, plen);
        uint32_t ck = ref_adler32(h, hl, 1);
        ck = ref_adler32(payload, plen, ck);
        if (fix_ck) ck++;
        for (int i = 0; i < 4; i++) h[hl++] = (unsigned char)(ck >> (8 * i));
        len = hl + plen;
        obj = (unsigned char *)fz_malloc(len);
        memcpy(obj, h, hl);
        if (plen) memcpy(obj + hl, payload, plen);
        free(payload);
    } else {
        len = in.n;
        obj = (unsigned char *)fz_malloc(len);
        memset(obj, 0, len ? len : 1);
        if (len) memcpy(obj, in.p, len);
        if (fix_ck) {
            mcrle_bytes_info ci;
            if (mcrle_bytes_parse_header(obj, len, &ci, NULL) == MCRLE_OK) {
                uint32_t ck = ref_adler32(obj, ci.header_len - 4, 1);
                ck = ref_adler32(obj + ci.header_len, ci.payload_len, ck);
                for (int i = 0; i < 4; i++) obj[ci.header_len - 4 + i] = (unsigned char)(ck >> (8 * i));
            }
        }
    }

    /* the header, against the reference */
    mcrle_bytes_info info;
    mcrle_error_info herr = {777, 777};
    int hr = mcrle_bytes_parse_header(obj, len, &info, &herr);
    ref_hdr R;
    ref_parse(obj, len, &R);
    FZ_ASSERT(hr == R.code);
    FZ_ASSERT(mcrle_bytes_parse_header(obj, len, &info, NULL) == hr);
    if (hr != MCRLE_OK) {
        FZ_ASSERT(herr.index == R.index && herr.sum == R.sum);
        if (hr == MCRLE_BYTES_ERR_TRUNCATED) FZ_ASSERT(herr.index == len && herr.sum > len);
        /* the decoder reports the same, writing nothing */
        unsigned char one[9];
        memset(one, 0x77, sizeof one);
        size_t sh1 = 1;
        ptrdiff_t st1 = 8;
        mcrle_error_info derr = {777, 777};
        unsigned char scratch1[8];
        FZ_ASSERT(mcrle_bytes_decode(obj, len, MCRLE_KIND_UNSIGNED, 8, 1, &sh1, &st1, one + 1,
                                     scratch1, sizeof scratch1, &derr) == hr);
        FZ_ASSERT(derr.index == R.index && derr.sum == R.sum);
        for (size_t i = 0; i < sizeof one; i++) FZ_ASSERT(one[i] == 0x77);
        free(obj);
        return 0;
    }
    {
        const mcrle_bytes_info *I = &R.info;
        FZ_ASSERT(info.version == I->version && info.order == I->order);
        FZ_ASSERT(info.dtype == I->dtype && info.kind == I->kind);
        FZ_ASSERT(info.elem_size == I->elem_size && info.ndim == I->ndim);
        for (int a = 0; a < info.ndim; a++) FZ_ASSERT(info.shape[a] == I->shape[a]);
        FZ_ASSERT(info.size == I->size && info.n_values == I->n_values);
        FZ_ASSERT(info.header_len == I->header_len && info.payload_len == I->payload_len);
        FZ_ASSERT(info.total_len == I->total_len && info.checksum == I->checksum);
        FZ_ASSERT(info.header_len <= MCRLE_BYTES_HEADER_MAX && info.total_len <= len);
        FZ_ASSERT(mcrle_bytes_dtype_code(info.kind, info.elem_size) == (int)info.dtype);
    }
    /* prefixes are truncated; exactly the object parses the same */
    {
        size_t cuts[4] = {info.total_len - 1, info.header_len - 1, info.header_len - 5, 3};
        for (int c = 0; c < 4; c++) {
            size_t L = cuts[c];
            if (L >= info.total_len) continue;
            unsigned char *pre = (unsigned char *)fz_malloc(L);
            if (L) memcpy(pre, obj, L);
            mcrle_bytes_info pi;
            mcrle_error_info pe = {0, 0};
            FZ_ASSERT(mcrle_bytes_parse_header(pre, L, &pi, &pe) == MCRLE_BYTES_ERR_TRUNCATED);
            FZ_ASSERT(pe.index == L && pe.sum > L);
            free(pre);
        }
        unsigned char *exact = (unsigned char *)fz_malloc(info.total_len);
        memcpy(exact, obj, info.total_len);
        mcrle_bytes_info ei;
        FZ_ASSERT(mcrle_bytes_parse_header(exact, info.total_len, &ei, NULL) == MCRLE_OK);
        FZ_ASSERT(memcmp(&ei, &info, sizeof ei) == 0);
        free(exact);
    }
    /* the element limit, before any allocation; and version 2 payloads, whose
     * chunks and line order the reference model below does not know, are
     * fuzz_bytes_v2's (its header is checked above) */
    if (info.size > FB_MAX_ELEMS || info.version != 1) {
        free(obj);
        return 0;
    }

    /* output type */
    unsigned ocode = (info.dtype + out_shift) % 9;
    mcrle_kind okind;
    size_t oE;
    ref_dtype(ocode, &okind, &oE);

    fn_arr A, B;
    fn_arr_make(&A, oE, info.ndim, info.shape, la, 0xCD);
    fn_arr_make(&B, oE, info.ndim, info.shape, lb, 0x5A);
    /* scratch exactly for each layout (at most what any layout needs) */
    size_t ss_any = mcrle_bytes_decode_scratch_size(&info, oE, NULL);
    size_t ss = mcrle_bytes_decode_scratch_size(&info, oE, A.strides);
    size_t ssb = mcrle_bytes_decode_scratch_size(&info, oE, B.strides);
    FZ_ASSERT(ss_any != SIZE_MAX && ss <= ss_any && ssb <= ss_any);
    FZ_ASSERT(info.size > 0 || ss_any == 0);
    int scratch_short = short_scratch && ss > 0;
    if (scratch_short) { ss--; ssb--; }
    unsigned char *beforeA = (unsigned char *)fz_malloc(A.buf_len);
    unsigned char *beforeB = (unsigned char *)fz_malloc(B.buf_len);
    memcpy(beforeA, A.buf, A.buf_len);
    memcpy(beforeB, B.buf, B.buf_len);

    /* what the input implies */
    const unsigned char *pl = obj + info.header_len;
    size_t plen = info.payload_len;
    uint32_t ck = ref_adler32(obj, info.header_len - 4, 1);
    ck = ref_adler32(pl, plen, ck);
    FZ_ASSERT(mcrle_adler32(mcrle_adler32(1, obj, info.header_len - 4), pl, plen) == ck);
    int want = -1;   /* -1: OK or a modelled payload's error */
    size_t want_index = 0;
    uint64_t want_sum = 0;
    uint64_t *tv = NULL;   /* model: the value table as 64-bit numbers */
    if (ck != info.checksum) { want = MCRLE_BYTES_ERR_CHECKSUM; want_sum = ck; }
    else if (info.size == 0) want = MCRLE_OK;
    else if (scratch_short) want = MCRLE_ERR_NOSPACE;
    else if (pl[0] == 1) {   /* raw */
        int sgn = info.kind == MCRLE_KIND_SIGNED;
        size_t E = info.elem_size;
        if (plen != 1 + info.size * E) {
            want = MCRLE_BYTES_ERR_RAW_LENGTH;
            want_index = 1 + info.size * E;
            want_sum = plen;
        }
        else {
            want = MCRLE_OK;
            for (size_t i = 0; i < info.size; i++) {
                uint64_t v = fz_load(pl + 1 + i * E, E);   /* little-endian host */
                if (sgn) v = ref_sext(v, E);
                if (info.kind == MCRLE_KIND_BOOL && v > 1) {   /* a bool map holds 0/1 only */
                    want = MCRLE_BYTES_ERR_BOOL;
                    want_index = i;
                    want_sum = v;
                    break;
                }
                if (!ref_fits(v, sgn, okind, oE)) {
                    want = MCRLE_ERR_VALUE_RANGE;
                    want_index = i;
                    want_sum = v;
                    break;
                }
            }
        }
    } else if (pl[0] == 0) {   /* modelled */
        tv = (uint64_t *)fz_malloc(info.n_values * sizeof(uint64_t));
        if (!ref_values(pl, plen, &info, tv)) want = MCRLE_BYTES_ERR_VALUES;
        else {
            int sgn = info.kind == MCRLE_KIND_SIGNED;
            for (size_t i = 0; i < info.n_values; i++) {
                if (!ref_fits(tv[i], sgn, okind, oE)) {
                    want = MCRLE_ERR_VALUE_RANGE;
                    want_index = i;
                    want_sum = tv[i];
                    break;
                }
            }
        }
    } else {
        want = MCRLE_BYTES_ERR_MODE;
        want_sum = pl[0];
    }

    dec_run d1 = run_decode(obj, len, &info, okind, oE, &A, ss, 0xA5, !no_info);
    dec_run d2 = run_decode(obj, len, &info, okind, oE, &B, ssb, 0x3C, no_info);
    if (want >= 0) FZ_ASSERT(d1.r == want);
    else FZ_ASSERT(d1.r == MCRLE_OK || d1.r == MCRLE_BYTES_ERR_PAYLOAD ||
                   d1.r == MCRLE_BYTES_ERR_TABLES || d1.r == MCRLE_BYTES_ERR_SHORT ||
                   d1.r == MCRLE_BYTES_ERR_END);
    FZ_ASSERT(d2.r == d1.r);
    {
        const dec_run *with = no_info ? &d2 : &d1;
        if (d1.r == MCRLE_BYTES_ERR_CHECKSUM || d1.r == MCRLE_ERR_VALUE_RANGE ||
            d1.r == MCRLE_BYTES_ERR_MODE || d1.r == MCRLE_BYTES_ERR_RAW_LENGTH ||
            d1.r == MCRLE_BYTES_ERR_BOOL)
            FZ_ASSERT(with->err.index == want_index && with->err.sum == want_sum);
    }

    if (d1.r != MCRLE_OK) {
        int raw = info.size > 0 && pl[0] == 1;
        check_error_output(d1.r, raw, &A, beforeA);
        check_error_output(d2.r, raw, &B, beforeB);
    } else if (info.size > 0) {
        /* each layout against the other, with the other's canary: every
         * element written, the same in both, nothing between them touched */
        fn_walk w;
        size_t ba = (size_t)(A.base - A.buf), bb = (size_t)(B.base - B.buf);
        fn_walk_init(&w, &A);
        do {
            memcpy(beforeA + ba + w.oa, B.base + w.ob, oE);
            memcpy(beforeB + bb + w.ob, A.base + w.oa, oE);
        } while (fn_walk_next(&w, &A, &B));
        FZ_ASSERT(memcmp(beforeA, A.buf, A.buf_len) == 0);
        FZ_ASSERT(memcmp(beforeB, B.buf, B.buf_len) == 0);

        /* the values, against the input */
        uint64_t *table;   /* sorted 64-bit patterns of out's kind */
        size_t nt = 0;
        int osgn = okind == MCRLE_KIND_SIGNED;
        if (pl[0] == 1) {
            table = (uint64_t *)fz_malloc(info.size * sizeof(uint64_t));
            size_t E = info.elem_size;
            int sgn = info.kind == MCRLE_KIND_SIGNED;
            fn_walk_init(&w, &A);
            do {
                uint64_t v = fz_load(pl + 1 + w.flat * E, E);
                if (sgn) v = ref_sext(v, E);
                uint64_t got = fz_load(A.base + w.oa, oE);
                FZ_ASSERT(got == (v & fz_mask(oE)));
                table[nt++] = v;
            } while (fn_walk_next(&w, &A, &A));
            FZ_ASSERT(nt == info.size);
            qsort(table, nt, sizeof *table, cmp_u64);
            size_t u = 0;
            for (size_t i = 0; i < nt; i++)
                if (i == 0 || table[i] != table[u - 1]) table[u++] = table[i];
            nt = u;
        } else {
            FZ_ASSERT(tv != NULL);
            table = (uint64_t *)fz_malloc(info.n_values * sizeof(uint64_t));
            for (size_t i = 0; i < info.n_values; i++) table[nt++] = tv[i];
            qsort(table, nt, sizeof *table, cmp_u64);
            fn_walk_init(&w, &A);
            do {
                uint64_t got = fz_load(A.base + w.oa, oE);
                if (osgn) got = ref_sext(got, oE);
                FZ_ASSERT(bsearch(&got, table, nt, sizeof *table, cmp_u64) != NULL);
            } while (fn_walk_next(&w, &A, &A));
        }
        /* ascending in out's kind: for a signed kind the negative numbers
         * (last in the unsigned sort, in the right order) come first */
        if (osgn && nt) {
            uint64_t *t2 = (uint64_t *)fz_malloc(nt * sizeof(uint64_t));
            size_t k = 0;
            for (size_t i = 0; i < nt; i++) if (table[i] >> 63) t2[k++] = table[i];
            for (size_t i = 0; i < nt; i++) if (!(table[i] >> 63)) t2[k++] = table[i];
            memcpy(table, t2, nt * sizeof(uint64_t));
            free(t2);
        }
        if (info.size <= FB_REENCODE_MAX) check_reencode(&A, okind, table, nt);
        free(table);
    } else {
        FZ_ASSERT(memcmp(beforeA, A.buf, A.buf_len) == 0);
        FZ_ASSERT(memcmp(beforeB, B.buf, B.buf_len) == 0);
    }

    free(tv);
    free(beforeB);
    free(beforeA);
    fn_arr_free(&B);
    fn_arr_free(&A);
    free(obj);
    return 0;
}
