/*
 * bytesform.c - the compact binary form (docs/format.md, section 4).
 *
 * Model. The array is cut into lines along its last axis of length > 1
 * (W elements each; the other axes are walked in C order). Line i is line
 * i-1 with a few segments overwritten: a segment is a maximal run of
 * positions whose value changes, all to the same new value. Label maps have
 * few such segments, and most of them touch an edge of the line above (a
 * boundary that moved by a few pixels): a segment is coded as
 *   a  "starts at the k-th edge" after the current position, length l, or
 *   b  "ends at the k-th edge", length l, or
 *   c  "starts off positions after the current position", length l,
 * with its value either predicted (a: the value on its left, b: the value on
 * its right) or coded as a rank among a few candidates (the values on both
 * sides, the last 4 values that replaced the old value) or as a raw index.
 * An edge is a position x with line[x] != line[x-1], on the line as far as it
 * is updated; the current position is the end of the previous segment.
 * Values are indices into the map's sorted value table.
 *
 * Entropy coding: rANS with 32-bit state, 16-bit renormalisation and static
 * per-map frequency tables (at most 9-bit precision), one per symbol
 * context. The encoder counts the symbols in a first pass, then codes them
 * in blocks of BLOCK_OPS operations (rANS runs backwards within a block).
 * The first pass also records its operations while they fit a store of
 * bounded size (a quarter of the input's bytes over the tasks): a chunk whose
 * operations were all recorded is coded from the store; the others are walked
 * again, so memory does not grow beyond that bound on any map.
 *
 * Decoding keeps the line being built in the output's element type (each
 * line starts as a copy of the one before, then its segments are filled),
 * so that a predicted value is copied from a neighbour and never looked up.
 * Every read of the input is bounds-checked, every decoded position and
 * index is checked before use, and every loop is bounded by the line length.
 */
#include "internal.h"
#include "mcrle_bytes.h"
#include "mcrle_threads.h"

/* ---- constants of format version 1 ---------------------------------------- */

#define SCALE_BITS 9
#define M_TOTAL (1u << SCALE_BITS)
#define RANS_L (1u << 16)
#define BLOCK_OPS 32768u
#define NONE 0xFFFFFFFFu
#define CACHE_SLOTS 4096u
#define MAX_LINE 0xFFFFFFF0u      /* longest line the model codes (positions are 32-bit) */
#define MAX_VALUES 0xFFFFFFF0u    /* largest value table the model codes */
#define MODE_MODEL 0
#define MODE_RAW 1
#define RAW_CHUNK 4096u      /* elements converted at a time by the raw decoder */

enum {
    T_FIRST = 0,   /* 2 tables: a line's first symbol; context: did the line before change */
    T_SEG = 2,     /* the following symbols of a line */
    T_KX = 3,      /* k - 5 when k >= 5 */
    T_LX = 4,      /* l - 5 when l >= 5 */
    T_OFF = 5,     /* offset of a case-c segment */
    T_VAL = 6,     /* rank of a coded value (7: escape, raw index follows) */
    N_TABLES = 7
};
#define SEG_ALPHA 106
#define NUM_ALPHA 33
#define MAX_ALPHA 128
static const unsigned char ALPHA[N_TABLES] = {SEG_ALPHA, SEG_ALPHA, SEG_ALPHA, NUM_ALPHA,
                                              NUM_ALPHA, NUM_ALPHA, 8};
/*
 * Line symbols: 0 ends the line; cases a and b are
 *   1 + ((case_b * 5 + min(k, 5) - 1) * 5 + min(l, 5) - 1) * 2 + predicted
 * (1..100) and case c is 101 + min(l, 5) - 1 (101..105).
 */
#define SYM_END 0u
#define SYM_C 101u
#define KL_ESC 4u      /* min(k, 5) - 1 or min(l, 5) - 1 of an escaped k or l */
#define KL_BASE 5u
#define VAL_ESC 7u

/* ---- small helpers --------------------------------------------------------- */

const char *mcrle_bytes_result_name(int r)
{
    switch (r) {
    case MCRLE_BYTES_ERR_MAGIC: return "bad magic";
    case MCRLE_BYTES_ERR_VERSION: return "unknown version";
    case MCRLE_BYTES_ERR_TRUNCATED: return "truncated";
    case MCRLE_BYTES_ERR_HEADER: return "bad header field";
    case MCRLE_BYTES_ERR_CHECKSUM: return "checksum mismatch";
    case MCRLE_BYTES_ERR_PAYLOAD: return "corrupt payload line";
    case MCRLE_BYTES_ERR_MODE: return "unknown payload mode";
    case MCRLE_BYTES_ERR_VALUES: return "corrupt value table";
    case MCRLE_BYTES_ERR_TABLES: return "corrupt frequency table";
    case MCRLE_BYTES_ERR_SHORT: return "payload too short for its lines";
    case MCRLE_BYTES_ERR_END: return "payload does not end with its lines";
    case MCRLE_BYTES_ERR_RAW_LENGTH: return "raw payload of the wrong length";
    case MCRLE_BYTES_ERR_BOOL: return "raw bool payload byte not 0/1";
    default: return mcrle_result_name((mcrle_result)r);
    }
}

int mcrle_bytes_dtype_code(mcrle_kind kind, size_t elem_size)
{
    if (kind == MCRLE_KIND_BOOL) return elem_size == 1 ? MCRLE_BYTES_BOOL : -1;
    int base;
    switch (elem_size) {
    case 1: base = 1; break;
    case 2: base = 3; break;
    case 4: base = 5; break;
    case 8: base = 7; break;
    default: return -1;
    }
    if (kind == MCRLE_KIND_UNSIGNED) return base;
    if (kind == MCRLE_KIND_SIGNED) return base + 1;
    return -1;
}

static void dtype_props(unsigned code, mcrle_kind *kind, size_t *elem)
{
    if (code == 0) { *kind = MCRLE_KIND_BOOL; *elem = 1; return; }
    *kind = (code & 1) ? MCRLE_KIND_UNSIGNED : MCRLE_KIND_SIGNED;
    *elem = (size_t)1 << ((code - 1) / 2);
}

uint32_t mcrle_adler32(uint32_t adler, const void *buf, size_t n)
{
    const unsigned char *p = (const unsigned char *)buf;
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552;   /* largest k with no uint32 overflow */
        n -= k;
        while (k >= 8) {
            a += p[0]; b += a; a += p[1]; b += a; a += p[2]; b += a; a += p[3]; b += a;
            a += p[4]; b += a; a += p[5]; b += a; a += p[6]; b += a; a += p[7]; b += a;
            p += 8;
            k -= 8;
        }
        while (k--) { a += *p++; b += a; }
        a %= 65521u;
        b %= 65521u;
    }
    return (b << 16) | a;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (unsigned char)(v | 0x80); v >>= 7; }
    p[n++] = (unsigned char)v;
    return n;
}

/* 0: ok; 1: input ends inside the number; 2: longer than 10 bytes or above 2^64. */
static int get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*pos >= len) return 1;
        unsigned c = p[(*pos)++];
        if (i == 9 && c > 1) return 2;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) { *v = x; return 0; }
    }
    return 2;
}

MCRLE_INLINE unsigned bitlen64(uint64_t x)
{
    unsigned n = 0;
    while (x) { n++; x >>= 1; }
    return n;
}

/* Sign-extends the low E bytes of v (mod 2^64). */
MCRLE_INLINE uint64_t sign_extend(uint64_t v, size_t E)
{
    if (E >= 8) return v;
    uint64_t m = (uint64_t)1 << (8 * E - 1);
    v &= (m << 1) - 1;
    return (v ^ m) - m;
}

/* Keys order values as unsigned numbers: signed values have their sign bit flipped. */
#define KEY_FLIP ((uint64_t)1 << 63)

static void key_range(mcrle_kind kind, size_t E, uint64_t *lo, uint64_t *hi)
{
    if (kind == MCRLE_KIND_BOOL) { *lo = 0; *hi = 1; return; }
    if (kind == MCRLE_KIND_UNSIGNED) { *lo = 0; *hi = E >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * E)) - 1; return; }
    if (E >= 8) { *lo = 0; *hi = UINT64_MAX; return; }
    uint64_t half = (uint64_t)1 << (8 * E - 1);
    *lo = KEY_FLIP - half;
    *hi = KEY_FLIP + half - 1;
}

/* ---- header --------------------------------------------------------------- */

#define SET_ERR(e, i, s) do { if (e) { (e)->index = (size_t)(i); (e)->sum = (uint64_t)(s); } } while (0)

int mcrle_bytes_parse_header(const void *buf, size_t len, mcrle_bytes_info *info,
                             mcrle_error_info *err)
{
    const unsigned char *p = (const unsigned char *)buf;
    SAFETY_CHECK(info != NULL && (len == 0 || p != NULL), MCRLE_ERR_ARG);
    memset(info, 0, sizeof *info);
    for (size_t i = 0; i < 4; i++) {
        if (i >= len) { SET_ERR(err, len, 8); return MCRLE_BYTES_ERR_TRUNCATED; }
        if (p[i] != (unsigned char)MCRLE_BYTES_MAGIC[i]) { SET_ERR(err, 0, 0); return MCRLE_BYTES_ERR_MAGIC; }
    }
    if (len < 5) { SET_ERR(err, len, 8); return MCRLE_BYTES_ERR_TRUNCATED; }
    if (p[4] < 1 || p[4] > MCRLE_BYTES_VERSION) { SET_ERR(err, 4, p[4]); return MCRLE_BYTES_ERR_VERSION; }
    if (len < 8) { SET_ERR(err, len, 8); return MCRLE_BYTES_ERR_TRUNCATED; }
    info->version = p[4];
    if (p[5] > MCRLE_BYTES_INT64) { SET_ERR(err, 5, p[5]); return MCRLE_BYTES_ERR_HEADER; }
    info->dtype = p[5];
    dtype_props(info->dtype, &info->kind, &info->elem_size);
    if (p[6] < 1 || p[6] > MCRLE_MAX_NDIM) { SET_ERR(err, 6, p[6]); return MCRLE_BYTES_ERR_HEADER; }
    info->ndim = p[6];
    /* flags: none in version 1; in version 2 only the line order */
    unsigned allowed = info->version >= 2 ? MCRLE_BYTES_FLAG_FORTRAN : 0;
    if (p[7] & ~allowed) { SET_ERR(err, 7, p[7]); return MCRLE_BYTES_ERR_HEADER; }
    info->order = p[7] & MCRLE_BYTES_FLAG_FORTRAN;
    size_t pos = 8;
    uint64_t v;
    int r;
    for (int a = 0; a < info->ndim; a++) {
        size_t at = pos;
        r = get_varint(p, len, &pos, &v);
        if (r == 1) { SET_ERR(err, len, pos + 1); return MCRLE_BYTES_ERR_TRUNCATED; }
        if (r == 2 || v > (uint64_t)(SIZE_MAX >> 1)) { SET_ERR(err, at, 0); return MCRLE_BYTES_ERR_HEADER; }
        info->shape[a] = (size_t)v;
    }
    if (mcrle_shape_size(info->ndim, info->shape, &info->size) != MCRLE_OK ||
        info->size > SIZE_MAX / 8) {
        SET_ERR(err, 8, 0);
        return MCRLE_BYTES_ERR_HEADER;
    }
    size_t at = pos;
    r = get_varint(p, len, &pos, &v);
    if (r == 1) { SET_ERR(err, len, pos + 1); return MCRLE_BYTES_ERR_TRUNCATED; }
    if (r == 2 || v > info->size) { SET_ERR(err, at, r == 2 ? 0 : v); return MCRLE_BYTES_ERR_HEADER; }
    /* no more distinct values than the dtype holds (the decoder's value table
     * is allocated from n_values: bounded by the dtype as well as the size) */
    if (info->elem_size < 8 &&
        v > (info->kind == MCRLE_KIND_BOOL ? 2 : (uint64_t)1 << (8 * info->elem_size))) {
        SET_ERR(err, at, v);
        return MCRLE_BYTES_ERR_HEADER;
    }
    info->n_values = (size_t)v;
    at = pos;
    r = get_varint(p, len, &pos, &v);
    if (r == 1) { SET_ERR(err, len, pos + 1); return MCRLE_BYTES_ERR_TRUNCATED; }
    if (r == 2 || v > (uint64_t)(SIZE_MAX >> 1)) { SET_ERR(err, at, 0); return MCRLE_BYTES_ERR_HEADER; }
    info->payload_len = (size_t)v;
    if (len - pos < 4) { SET_ERR(err, len, pos + 4); return MCRLE_BYTES_ERR_TRUNCATED; }
    info->checksum = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 | (uint32_t)p[pos + 2] << 16 |
                     (uint32_t)p[pos + 3] << 24;
    pos += 4;
    info->header_len = pos;
    info->total_len = pos + info->payload_len;   /* both <= SIZE_MAX/2: no overflow */
    /* consistency of the counts (before anything is allocated from them) */
    if (info->size == 0) {
        if (info->n_values != 0) { SET_ERR(err, at - 1, info->n_values); return MCRLE_BYTES_ERR_HEADER; }
        if (info->payload_len != 0) { SET_ERR(err, at, info->payload_len); return MCRLE_BYTES_ERR_HEADER; }
    } else {
        if (info->n_values == 0 || info->n_values > info->payload_len) {
            SET_ERR(err, at, info->n_values);
            return MCRLE_BYTES_ERR_HEADER;
        }
    }
    if (len < info->total_len) { SET_ERR(err, len, info->total_len); return MCRLE_BYTES_ERR_TRUNCATED; }
    return MCRLE_OK;
}

/* ---- line geometry -------------------------------------------------------- */

/*
 * Lines: the axes of length 1 are dropped (they do not change the C order);
 * the last remaining axis is the line, the others are walked in C order.
 */
typedef struct geom {
    int n;                              /* leading axes */
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t step[MCRLE_MAX_NDIM];
    size_t idx[MCRLE_MAX_NDIM];
    ptrdiff_t offset;                   /* byte offset of the current line */
    size_t W;                           /* line length */
    ptrdiff_t wstride;                  /* byte stride along the line */
    size_t lines;
} geom;

static void geom_init(geom *g, int ndim, const size_t *shape, const ptrdiff_t *strides, size_t E)
{
    int k = 0;
    size_t dims[MCRLE_MAX_NDIM];
    ptrdiff_t st[MCRLE_MAX_NDIM];
    for (int a = 0; a < ndim; a++) {
        if (shape[a] == 1) continue;
        dims[k] = shape[a];
        st[k] = strides ? strides[a] : 0;
        k++;
    }
    if (k == 0) { dims[0] = 1; st[0] = (ptrdiff_t)E; k = 1; }
    g->W = dims[k - 1];
    g->wstride = st[k - 1];
    g->n = k - 1;
    g->lines = 1;
    for (int a = 0; a < k - 1; a++) {
        g->shape[a] = dims[a];
        g->step[a] = st[a];
        g->idx[a] = 0;
        g->lines *= dims[a];
    }
    g->offset = 0;
}

MCRLE_INLINE void geom_next(geom *g)
{
    for (int a = g->n - 1; a >= 0; a--) {
        g->offset += g->step[a];
        if (++g->idx[a] < g->shape[a]) return;
        g->offset -= g->step[a] * (ptrdiff_t)g->shape[a];
        g->idx[a] = 0;
    }
}

static void model_dims(int ndim, const size_t *shape, size_t *W, size_t *lines)
{
    geom g;
    geom_init(&g, ndim, shape, NULL, 1);
    *W = g.W;
    *lines = g.lines;
}

/* Moves g (at line 0) to line `line`. */
static void geom_seek(geom *g, size_t line)
{
    for (int a = g->n - 1; a >= 0; a--) {
        size_t i = line % g->shape[a];
        line /= g->shape[a];
        g->idx[a] = i;
        g->offset += (ptrdiff_t)i * g->step[a];
    }
}

/*
 * The map as the model sees it: in Fortran order (version 2, order 1) its
 * axes reversed, so that the lines run along the first axis and the whole
 * line machinery works unchanged on the reversed shape and strides.
 */
static void model_view(int ndim, const size_t *shape, const ptrdiff_t *strides, unsigned order,
                       size_t *mshape, ptrdiff_t *mstrides)
{
    for (int a = 0; a < ndim; a++) {
        int b = order ? ndim - 1 - a : a;
        mshape[a] = shape[b];
        if (strides) mstrides[a] = strides[b];
    }
}

/*
 * Version 2 chunks: independent pieces of consecutive lines, about
 * CHUNK_ELEMS elements each (at most MAX_CHUNKS_WRITTEN, at least one line
 * each), so that several threads code and decode a large map at once. The
 * count depends on the map alone: the bytes do not depend on the threads.
 */
#ifdef MCRLE_BYTES_CHUNK_ELEMS   /* the fuzzers' builds: many chunks in small arrays */
#define CHUNK_ELEMS ((size_t)(MCRLE_BYTES_CHUNK_ELEMS))
#else
#define CHUNK_ELEMS ((size_t)1 << 20)
#endif
#define MAX_CHUNKS_WRITTEN 256u
#define MAX_CHUNKS_READ 65536u

static size_t chunk_count(size_t size, size_t lines)
{
    size_t k = size / CHUNK_ELEMS + (size % CHUNK_ELEMS != 0);
    if (k > MAX_CHUNKS_WRITTEN) k = MAX_CHUNKS_WRITTEN;
    if (k > lines) k = lines;
    return k ? k : 1;
}

/* Threads' tasks over K chunks: each takes a run of consecutive chunks. */
static unsigned task_count(size_t K, unsigned n_threads)
{
    if (n_threads <= 1 || K <= 1) return 1;
    size_t t = n_threads > MCRLE_MAX_THREADS ? 2 * (size_t)MCRLE_MAX_THREADS : 2 * (size_t)n_threads;
    return (unsigned)(t < K ? t : K);
}

/* ---- value cache: the last 4 values that replaced each value ------------- */

MCRLE_INLINE uint32_t *cache_slot(uint32_t *cache, uint32_t c)
{
    return cache + 4 * (size_t)(c & (CACHE_SLOTS - 1));
}

MCRLE_INLINE void cache_update(uint32_t *K, uint32_t v)
{
    if (K[0] == v) return;
    if (K[1] == v) { K[1] = K[0]; K[0] = v; return; }
    if (K[2] != v) K[3] = K[2];
    K[2] = K[1];
    K[1] = K[0];
    K[0] = v;
}

/* ---- frequency tables ------------------------------------------------------ */

/* Encoder's view of a table. */
typedef struct ftab {
    uint16_t freq[MAX_ALPHA];   /* scaled to M_TOTAL; 0 for absent symbols */
    uint16_t cum[MAX_ALPHA];
} ftab;

/* LSB-first bit writer / reader for the table section */
typedef struct bitw { unsigned char *p; size_t cap, n; uint64_t acc; unsigned nacc; int over; } bitw;

static void bw_put(bitw *b, uint32_t v, unsigned n)
{
    b->acc |= (uint64_t)v << b->nacc;
    b->nacc += n;
    while (b->nacc >= 8) {
        if (b->n < b->cap) b->p[b->n] = (unsigned char)b->acc;
        else b->over = 1;
        b->n++;
        b->acc >>= 8;
        b->nacc -= 8;
    }
}

static void bw_flush(bitw *b)
{
    if (b->nacc) bw_put(b, 0, 8 - b->nacc);
}

static void bw_eg0(bitw *b, uint32_t v)   /* exp-Golomb order 0 */
{
    unsigned z = bitlen64((uint64_t)v + 1) - 1;
    bw_put(b, 0, z);
    bw_put(b, 1, 1);
    bw_put(b, (v + 1) & ((1u << z) - 1), z);
}

typedef struct bitr { const unsigned char *p; size_t len, pos; unsigned bit; int bad; } bitr;

/*
 * The reader takes up to 57 bits at a time: the next 8 bytes (fewer at the end, zero-filled)
 * shifted by the bit offset. Running out of bits leaves it at the end of the section (pos ==
 * len, bit 0) and bad, as reading bit by bit would.
 */
MCRLE_INLINE uint64_t br_peek(const bitr *b, size_t *avail)
{
    size_t left = b->pos < b->len ? b->len - b->pos : 0;
    uint64_t w = 0;
    if (left >= 8) {
        const unsigned char *q = b->p + b->pos;   /* one 8-byte load once compiled */
        w = (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16 | (uint64_t)q[3] << 24 |
            (uint64_t)q[4] << 32 | (uint64_t)q[5] << 40 | (uint64_t)q[6] << 48 | (uint64_t)q[7] << 56;
        *avail = 64 - b->bit;
    } else {
        for (size_t i = 0; i < left; i++) w |= (uint64_t)b->p[b->pos + i] << (8 * i);
        *avail = left * 8 - (left ? b->bit : 0);
    }
    return w >> b->bit;
}

MCRLE_INLINE void br_skip(bitr *b, size_t n)
{
    size_t t = b->bit + n;
    b->pos += t >> 3;
    b->bit = (unsigned)(t & 7);
}

MCRLE_INLINE void br_fail_end(bitr *b)
{
    b->bad = 1;
    if (b->pos < b->len) b->pos = b->len;
    b->bit = 0;
}

MCRLE_INLINE uint32_t br_get(bitr *b, unsigned n)   /* n <= 32 */
{
    size_t avail;
    uint64_t w = br_peek(b, &avail);
    if (n > avail) { br_fail_end(b); return 0; }
    br_skip(b, n);
    return (uint32_t)(w & (((uint64_t)1 << n) - 1));
}

MCRLE_INLINE uint32_t br_eg0(bitr *b, unsigned max_z)   /* max_z <= 16 */
{
    size_t avail;
    uint64_t w = br_peek(b, &avail);
    unsigned z = w ? mcrle_ctz64(w) : 64;   /* zero bits before the first one bit */
    if (z > max_z && (size_t)max_z + 1 <= avail) {   /* one zero too many */
        br_skip(b, (size_t)max_z + 1);
        b->bad = 1;
        return 0;
    }
    if ((size_t)z + 1 + z > avail) { br_fail_end(b); return 0; }
    br_skip(b, 2 * (size_t)z + 1);
    return (uint32_t)(((w >> (z + 1)) & (((uint64_t)1 << z) - 1)) | ((uint64_t)1 << z)) - 1;
}

static unsigned eg0_len(uint32_t v)
{
    return 2 * (bitlen64((uint64_t)v + 1) - 1) + 1;
}

/* log2(x) in 1/256 bits, x >= 1 (encoder's cost estimates; no libm). */
static uint32_t log2_fx(uint64_t x)
{
    unsigned ip = bitlen64(x) - 1;
    /* mantissa in [1, 2) as Q30 */
    uint64_t m = ip >= 30 ? x >> (ip - 30) : x << (30 - ip);
    uint32_t frac = 0;
    for (int i = 7; i >= 0; i--) {
        m = (m * m) >> 30;
        if (m >= ((uint64_t)2 << 30)) { m >>= 1; frac |= 1u << i; }
    }
    return (uint32_t)(ip << 8) | frac;
}

/*
 * Normalises counts to a total of 2^k (every present symbol >= 1); 0 if k is
 * too small for the number of present symbols.
 */
static int normalise(const uint32_t *count, unsigned A, unsigned k, uint32_t *f)
{
    uint64_t N = 0;
    unsigned present = 0, big = 0;
    uint32_t T = 1u << k;
    for (unsigned s = 0; s < A; s++) {
        N += count[s];
        if (count[s]) present++;
        if (count[s] > count[big]) big = s;
    }
    if (present > T || N == 0) return 0;
    uint64_t sum = 0;
    for (unsigned s = 0; s < A; s++) {
        if (!count[s]) { f[s] = 0; continue; }
        uint64_t q = ((uint64_t)count[s] * T + N / 2) / N;
        f[s] = q ? (uint32_t)q : 1;
        sum += f[s];
    }
    if (sum > T) {
        /*
         * Rounding up small symbols overshot by d: take one from the largest
         * frequency (the first of equals) d times. Done at once, with the same
         * result: every frequency above a level L comes down to L, where L is
         * the lowest level whose excess sum(f - L) is at most d; the r
         * decrements left take the first r symbols at L (in order) to L - 1.
         * L >= 2 unless every frequency ends at 1 (present == T, r == 0).
         */
        uint64_t d = sum - T;
        uint32_t lo = 1, hi = f[big];
        for (unsigned s = 0; s < A; s++)
            if (f[s] > hi) hi = f[s];
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            uint64_t excess = 0;
            for (unsigned s = 0; s < A; s++)
                if (f[s] > mid) excess += f[s] - mid;
            if (excess <= d) hi = mid;
            else lo = mid + 1;
        }
        uint64_t r = d;
        for (unsigned s = 0; s < A; s++)
            if (f[s] > lo) { r -= f[s] - lo; f[s] = lo; }
        for (unsigned s = 0; s < A && r; s++)
            if (f[s] == lo) { f[s]--; r--; }
        sum = T;
    }
    f[big] += (uint32_t)(T - sum);
    return 1;
}

/*
 * Chooses the precision 2^k (k <= SCALE_BITS) that minimises table plus
 * data bits, writes the table and fills t->freq / t->cum (scaled to M_TOTAL).
 * Layout: used (1 bit); k (4 bits); EG0(present - 1); for each present
 * symbol EG0(gap to the previous one); for each but the last EG0(freq - 1).
 */
static void write_table(bitw *b, const uint32_t *count, unsigned A, ftab *t)
{
    /* the present symbols and their counts, in increasing order: the loops below run
     * over them alone (a table has up to 106 symbols, a map uses a few; with 10
     * precisions to try, the absent ones were most of the work of a small map) */
    unsigned sym[MAX_ALPHA], np = 0;
    uint32_t cnt[MAX_ALPHA];
    uint64_t N = 0;
    for (unsigned s = 0; s < A; s++) {
        if (!count[s]) continue;
        sym[np] = s;
        cnt[np++] = count[s];
        N += count[s];
    }
    memset(t->freq, 0, sizeof t->freq);
    memset(t->cum, 0, sizeof t->cum);
    if (N == 0) { bw_put(b, 0, 1); return; }
    uint32_t f[MAX_ALPHA], best_f[MAX_ALPHA];
    uint64_t best_cost = UINT64_MAX;
    unsigned best_k = SCALE_BITS;
    uint64_t fixed = 1 + 4 + eg0_len(np - 1);
    for (unsigned i = 0; i < np; i++) fixed += eg0_len(i ? sym[i] - sym[i - 1] - 1 : sym[0]);
    for (unsigned k = 0; k <= SCALE_BITS; k++) {
        if (!normalise(cnt, np, k, f)) continue;
        uint64_t cost = fixed << 8;
        for (unsigned i = 0; i < np; i++) {
            if (i + 1 < np) cost += (uint64_t)eg0_len(f[i] - 1) << 8;
            cost += (uint64_t)cnt[i] * (((uint64_t)k << 8) - log2_fx(f[i]));
        }
        if (cost < best_cost) {
            best_cost = cost;
            best_k = k;
            memcpy(best_f, f, np * sizeof *f);
        }
    }
    bw_put(b, 1, 1);
    bw_put(b, best_k, 4);
    bw_eg0(b, np - 1);
    for (unsigned i = 0; i < np; i++) bw_eg0(b, i ? sym[i] - sym[i - 1] - 1 : sym[0]);
    for (unsigned i = 0; i + 1 < np; i++) bw_eg0(b, best_f[i] - 1);
    uint32_t c = 0;
    for (unsigned i = 0; i < np; i++) {   /* absent symbols keep 0 */
        t->freq[sym[i]] = (uint16_t)(best_f[i] << (SCALE_BITS - best_k));
        t->cum[sym[i]] = (uint16_t)c;
        c += t->freq[sym[i]];
    }
}

/*
 * Decoder's view of a table: one 32-bit entry per slot (x mod M_TOTAL), so
 * that a symbol costs one load: freq[symbol] (bits 0-15, first: the multiply
 * of the state update waits only for the load), slot - cum[symbol] (the next
 * SCALE_BITS bits) and the symbol (bits 25-31).
 */
#define LUT_BIAS_SHIFT 16
#define LUT_SYM_SHIFT (LUT_BIAS_SHIFT + SCALE_BITS)
#define LUT_STRIDE (M_TOTAL + 8)   /* a table's slots, then slack for read_table's 8-slot stores */
#define LUT_ENTRY(sym, bias, freq) ((uint32_t)(freq) | (uint32_t)(bias) << LUT_BIAS_SHIFT | (uint32_t)(sym) << LUT_SYM_SHIFT)

/*
 * Reads one table into its lookup table: 1 if present, 2 if absent (the
 * caller then uses a table that decodes symbol 0 and consumes nothing), 0
 * if malformed.
 */
static int read_table(bitr *b, unsigned A, uint32_t *lut)
{
    unsigned char sym[MAX_ALPHA];
    uint32_t freq[MAX_ALPHA];
    if (br_get(b, 1) == 0) return b->bad ? 0 : 2;
    unsigned k = br_get(b, 4);
    uint32_t np = br_eg0(b, 8) + 1;
    if (b->bad || k > SCALE_BITS || np > A) return 0;
    for (uint32_t i = 0, next = 0; i < np; i++) {
        uint32_t gap = br_eg0(b, 8);
        if (b->bad || gap >= A - next) return 0;
        sym[i] = (unsigned char)(next + gap);
        next += gap + 1;
    }
    uint32_t T = 1u << k, sum = 0;
    for (uint32_t i = 0; i + 1 < np; i++) {
        uint32_t f = br_eg0(b, 10) + 1;
        if (b->bad || f >= T - sum) return 0;   /* leaves at least 1 for the last symbol */
        freq[i] = f;
        sum += f;
    }
    freq[np - 1] = T - sum;
    size_t c = 0;
    for (uint32_t i = 0; i < np; i++) {
        uint32_t f = freq[i] << (SCALE_BITS - k), e0 = LUT_ENTRY(sym[i], 0, f);
        uint32_t *d = lut + c;
        /* 8 slots at a time: may run into the next symbol's slots (written next) or the
           table's slack */
#if MCRLE_SSE2
        __m128i v = _mm_add_epi32(_mm_set1_epi32((int)e0),
                                  _mm_setr_epi32(0, 1 << LUT_BIAS_SHIFT, 2 << LUT_BIAS_SHIFT,
                                                 3 << LUT_BIAS_SHIFT));
        const __m128i step = _mm_set1_epi32(4 << LUT_BIAS_SHIFT);
        for (size_t j = 0; j < f; j += 8) {
            _mm_storeu_si128((__m128i *)(void *)(d + j), v);
            v = _mm_add_epi32(v, step);
            _mm_storeu_si128((__m128i *)(void *)(d + j + 4), v);
            v = _mm_add_epi32(v, step);
        }
#else
        for (size_t j = 0; j < f; j += 8)
            for (uint32_t q = 0; q < 8; q++) d[j + q] = e0 + ((uint32_t)(j + q) << LUT_BIAS_SHIFT);
#endif
        c += f;
    }
    return 1;
}

/* ---- rANS decoder ---------------------------------------------------------- */

typedef struct rdec {
    const unsigned char *p, *end;
    uint32_t x;
    uint32_t left;   /* operations left in the current block */
    int bad;
} rdec;

MCRLE_INLINE uint32_t load32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

MCRLE_INLINE void rd_block(rdec *d)
{
    if (d->x != RANS_L) d->bad = 1;   /* the previous block must end where the encoder began */
    if (d->end - d->p < 4) { d->bad = 1; d->x = RANS_L; d->p = d->end; }
    else {
        d->x = load32le(d->p);
        d->p += 4;
        if (d->x < RANS_L) { d->bad = 1; d->x = RANS_L; }
    }
    d->left = BLOCK_OPS;
}

/*
 * x < RANS_L ? y : x without a branch (compilers turn the plain conditional into one here,
 * which mispredicts on about every other renormalisation): on x86-64 one compare and one
 * conditional move, the shortest path on the state's dependency chain.
 */
MCRLE_INLINE uint32_t renorm_select(uint32_t x, uint32_t y)
{
#if MCRLE_GNU && defined(__x86_64__)
    __asm__("cmpl %2, %0\n\tcmovbl %1, %0" : "+r"(x) : "r"(y), "i"(RANS_L) : "cc");
    return x;
#else
    uint32_t m = 0u - (uint32_t)(x < RANS_L);
    return x ^ ((x ^ y) & m);
#endif
}

MCRLE_INLINE void rd_refill(rdec *d)
{
    if (MCRLE_LIKELY(d->end - d->p >= 2)) {   /* branch-free: the test below is unpredictable */
        uint32_t w = (uint32_t)d->p[0] | (uint32_t)d->p[1] << 8;
        uint32_t need = d->x < RANS_L, y = (d->x << 16) | w;
        d->x = renorm_select(d->x, y);
        d->p += 2 * need;
    } else if (d->x < RANS_L) {
        d->bad = 1;
        d->x = (d->x << 16) | 0xffffu;
    }
}

MCRLE_INLINE unsigned rd_sym(rdec *d, const uint32_t *lut)
{
    if (MCRLE_UNLIKELY(d->left == 0)) rd_block(d);
    d->left--;
    uint32_t e = lut[d->x & (M_TOTAL - 1)];
    d->x = (e & 0xffffu) * (d->x >> SCALE_BITS) + ((e >> LUT_BIAS_SHIFT) & (M_TOTAL - 1));
    rd_refill(d);
    return e >> LUT_SYM_SHIFT;
}

MCRLE_INLINE uint32_t rd_raw(rdec *d, unsigned k)   /* 1 <= k <= 16 */
{
    if (MCRLE_UNLIKELY(d->left == 0)) rd_block(d);
    d->left--;
    uint32_t v = d->x & ((1u << k) - 1);
    d->x >>= k;
    rd_refill(d);
    return v;
}

MCRLE_INLINE uint64_t rd_bits(rdec *d, unsigned k)   /* 0 <= k <= 32 */
{
    if (k == 0) return 0;
    if (k <= 16) return rd_raw(d, k);
    uint64_t hi = rd_raw(d, k - 16);
    return (hi << 16) | rd_raw(d, 16);
}

/* ---- encoder --------------------------------------------------------------- */

#define OP_RAW 0x80000000u

typedef struct enc {
    const unsigned char *data;
    size_t E;
    mcrle_kind kind;
    int ndim;
    const size_t *shape;
    const ptrdiff_t *strides;
    size_t W, lines;
    size_t first_line, n_lines;   /* the lines walked: one chunk (version 2) or all */
    const uint64_t *keys;
    uint32_t n;
    unsigned nb_index;
    uint32_t *lut8;            /* E == 1: index of each byte value (NONE if absent) */
    uint32_t *hash;            /* E > 1: index + 1 of each key, open addressing (0: empty) */
    unsigned hash_bits;
    uint32_t *IL;              /* the line as decoded so far: the line before, updated;
                                  NULL for a map of one line (see il_at) */
    uint32_t last;             /* without IL: the index at position pos - 1 */
    uint64_t *EB;              /* the edges of the line before: bit x when x differs from x - 1 */
    unsigned char *lines_buf;  /* strided input: 2 lines of elements, copies; else unused */
    uint32_t *cache;
    size_t cache_words;
    /* sink */
    int counting;
    uint32_t counts[N_TABLES][MAX_ALPHA];
    ftab tabs[N_TABLES];
    uint32_t *ops;
    size_t nops;
    uint32_t *rec;             /* pass 1: the operations recorded (rec_cap 0: none) */
    size_t rec_n, rec_cap;
    int rec_full;              /* the store filled up: nothing more is recorded */
    uint16_t *words;           /* ops_cap + 2 words (at most one per op, + the state) */
    size_t ops_cap;            /* ops the buffer holds: BLOCK_OPS, or all a small map emits */
    unsigned char *out;
    size_t cap, olen;
    int over;
    int err;
} enc;

/* rANS-codes one block of operations (at most ops_cap) into the output. */
static void enc_block(enc *e, const uint32_t *ops, size_t nops)
{
    if (nops == 0) return;
    uint32_t x = RANS_L;
    uint16_t *wend = e->words + e->ops_cap + 2, *w = wend;
    for (size_t i = nops; i-- > 0;) {
        uint32_t op = ops[i];
        if (op & OP_RAW) {
            unsigned k = (op >> 16) & 31;
            uint32_t v = op & 0xffff;
            uint64_t xmax = (uint64_t)1 << (32 - k);
            if (x >= xmax) { *--w = (uint16_t)x; x >>= 16; }
            x = (x << k) | v;
        } else {
            const ftab *t = &e->tabs[op >> 8];
            unsigned s = op & 0xff;
            uint32_t f = t->freq[s];
            uint64_t xmax = ((uint64_t)(RANS_L >> SCALE_BITS) << 16) * f;
            if (x >= xmax) { *--w = (uint16_t)x; x >>= 16; }
            x = ((x / f) << SCALE_BITS) + (x % f) + t->cum[s];
        }
    }
    size_t need = 4 + 2 * (size_t)(wend - w);
    if (e->cap - e->olen < need) { e->over = 1; return; }
    unsigned char *o = e->out + e->olen;
    o[0] = (unsigned char)x; o[1] = (unsigned char)(x >> 8);
    o[2] = (unsigned char)(x >> 16); o[3] = (unsigned char)(x >> 24);
    o += 4;
    for (; w < wend; w++) { *o++ = (unsigned char)*w; *o++ = (unsigned char)(*w >> 8); }
    e->olen += need;
}

static void enc_flush(enc *e)
{
    enc_block(e, e->ops, e->nops);
    e->nops = 0;
}

/* Pass 1: appends an operation to the store while it has room. */
MCRLE_INLINE void record(enc *e, uint32_t op)
{
    if (e->rec_n < e->rec_cap) e->rec[e->rec_n++] = op;
    else e->rec_full = 1;
}

/*
 * Pass 1 counts each symbol; pass 2 takes it back from the count, so a
 * symbol that pass 1 did not see (frequency 0: its division in enc_flush
 * would be by zero) or saw fewer times means the input changed between the
 * passes (another thread writing into it): MCRLE_ERR_CHANGED, and the
 * symbol is not coded.
 */
MCRLE_INLINE void emit(enc *e, unsigned t, unsigned s)
{
    if (e->counting) {
        e->counts[t][s]++;
        record(e, (uint32_t)(t << 8) | s);
        return;
    }
    if (MCRLE_UNLIKELY(e->counts[t][s] == 0)) { e->err = MCRLE_ERR_CHANGED; return; }
    e->counts[t][s]--;
    e->ops[e->nops++] = (uint32_t)(t << 8) | s;
    if (e->nops == BLOCK_OPS) enc_flush(e);
}

static void emit_raw(enc *e, unsigned k, uint64_t v)   /* 0 <= k <= 32 */
{
    if (k == 0) return;
    if (k > 16) {
        emit_raw(e, k - 16, v >> 16);
        k = 16;
        v &= 0xffff;
    }
    uint32_t op = OP_RAW | (uint32_t)k << 16 | (uint32_t)v;
    if (e->counting) { record(e, op); return; }
    e->ops[e->nops++] = op;
    if (e->nops == BLOCK_OPS) enc_flush(e);
}

MCRLE_INLINE size_t key_hash(uint64_t key, unsigned bits)
{
    return (size_t)((key * 0x9E3779B97F4A7C15u) >> (64 - bits));
}

/* The index of a value in the table; NONE if it is not there. */
static uint32_t enc_lookup(const enc *e, uint64_t v)
{
    if (e->lut8) return e->lut8[v & 0xff];
    uint64_t key = e->kind == MCRLE_KIND_SIGNED ? sign_extend(v, e->E) ^ KEY_FLIP : v;
    /* a hash table, not a binary search: its unpredictable branches took a fifth of the time */
    size_t mask = ((size_t)1 << e->hash_bits) - 1, h = key_hash(key, e->hash_bits);
    for (uint32_t i; (i = e->hash[h]) != 0; h = (h + 1) & mask)
        if (e->keys[i - 1] == key) return i - 1;
    return NONE;
}

/* Hash bits for n keys: a table of at least 2n slots (at least 16). */
static unsigned hash_bits_for(size_t n)
{
    unsigned b = 4;
    while (b < 60 && ((size_t)1 << b) < 2 * n) b++;
    return b;
}

/* The first x >= from where the E-byte elements of a and b differ; W if none. */
MCRLE_INLINE size_t next_diff(const unsigned char *a, const unsigned char *b, size_t from, size_t W,
                              size_t E)
{
    size_t x = from, per = 8 / E;
    for (; x + per <= W; x += per) {
        uint64_t d = mcrle_load64(a + x * E) ^ mcrle_load64(b + x * E);
        if (d) {
            if (MCRLE_LITTLE_ENDIAN) return x + mcrle_ctz64(d) / (8 * E);
            break;
        }
    }
    for (; x < W; x++)
        if (mcrle_load(a + x * E, E) != mcrle_load(b + x * E, E)) return x;
    return W;
}

/* Encodes x (< 2^32 - 1) as its bit-length class from table t, then the bits below the top one. */
static void enc_num(enc *e, unsigned t, uint64_t x)
{
    unsigned c = bitlen64(x + 1) - 1;
    emit(e, t, c);
    emit_raw(e, c, x + 1 - ((uint64_t)1 << c));
}

/*
 * Candidates for a coded value: A, B, then the last values that replaced
 * c, skipping NONE, c, x and repeats. Returns how many (<= 6).
 */
MCRLE_INLINE unsigned candidates(uint32_t *cand, const uint32_t *cache, uint32_t c, uint32_t A,
                                 uint32_t B, uint32_t x)
{
    const uint32_t *K = cache + 4 * (size_t)(c & (CACHE_SLOTS - 1));
    uint32_t in[6] = {A, B, K[0], K[1], K[2], K[3]};
    unsigned n = 0;
    for (unsigned i = 0; i < 6; i++) {
        uint32_t v = in[i];
        if (v == NONE || v == c || v == x) continue;
        unsigned k = 0;
        while (k < n && cand[k] != v) k++;
        if (k == n) cand[n++] = v;
    }
    return n;
}

static void enc_value(enc *e, uint32_t v, uint32_t old, uint32_t left, uint32_t right, uint32_t pred)
{
    uint32_t cand[6];
    unsigned nc = candidates(cand, e->cache, old, left, right, pred);
    unsigned r = 0;
    while (r < nc && cand[r] != v) r++;
    if (r < nc) emit(e, T_VAL, r);
    else { emit(e, T_VAL, VAL_ESC); emit_raw(e, e->nb_index, v); }
    cache_update(cache_slot(e->cache, old), v);
}

/* Bits set in x (inline: without POPCNT in the baseline ISA, the builtin is a library call). */
MCRLE_INLINE unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555u);
    x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
    return (unsigned)((x * 0x0101010101010101u) >> 56);
}

/*
 * After segment [s, e) of value v: the edges of the line as it now is, at
 * s .. e (inside the segment none; at s and e, whether v differs from its
 * neighbours). Later segments of the line read only positions past e.
 */
MCRLE_INLINE void edges_update(uint64_t *B, const uint32_t *IL, size_t W, size_t s, size_t e,
                               uint32_t v)
{
    for (size_t x = s + 1; x < e; ) {   /* clear (s, e) */
        size_t w = x >> 6, hi = (w + 1) << 6 < e ? (w + 1) << 6 : e;
        uint64_t m = (~(uint64_t)0 << (x & 63)) & (~(uint64_t)0 >> (63 - ((hi - 1) & 63)));
        B[w] &= ~m;
        x = hi;
    }
    uint64_t bs = s > 0 && IL[s - 1] != v, be = e < W && IL[e] != v;
    B[s >> 6] = (B[s >> 6] & ~((uint64_t)1 << (s & 63))) | bs << (s & 63);
    if (e < W) B[e >> 6] = (B[e >> 6] & ~((uint64_t)1 << (e & 63))) | be << (e & 63);
}

#define EDGE_AT(B, x) (((B)[(x) >> 6] >> ((x) & 63)) & 1u)

/* Bits set at positions [a, b) of the bitmap B. */
MCRLE_INLINE size_t edges_in(const uint64_t *B, size_t a, size_t b)
{
    if (a >= b) return 0;
    size_t wa = a >> 6, wb = (b - 1) >> 6;
    uint64_t ma = ~(uint64_t)0 << (a & 63), mb = ~(uint64_t)0 >> (63 - ((b - 1) & 63));
    if (wa == wb) return popcount64(B[wa] & ma & mb);
    size_t n = popcount64(B[wa] & ma);
    for (size_t w = wa + 1; w < wb; w++) n += popcount64(B[w]);
    return n + popcount64(B[wb] & mb);
}

/*
 * Case of segment [s, e) against the edges at positions >= max(p, 1) of the
 * line as decoded so far: 1 (a) if s is the k-th edge, 2 (b) if e is (W
 * counts as the edge after the last one), 3 (c) otherwise. Positions before
 * p are decoded already and those from p on still hold the line before, so
 * the edges are p itself when the new value at p - 1 differs from the old
 * one at p (at_p), then the edges of the line before above p (EB): counted
 * with popcounts, not by walking the line.
 */
MCRLE_INLINE unsigned classify(const uint64_t *EB, size_t W, size_t p, size_t s, size_t e,
                               unsigned at_p, size_t *k)
{
    size_t base = p >= 1 && at_p;
    if (s == p) {
        if (base) { *k = 1; return 1; }
    } else if (EDGE_AT(EB, s)) {
        *k = base + edges_in(EB, p + 1, s + 1);
        return 1;
    }
    if (e == W) { *k = base + edges_in(EB, p + 1, W) + 1; return 2; }
    if (EDGE_AT(EB, e)) { *k = base + edges_in(EB, p + 1, e + 1); return 2; }
    return 3;
}

/*
 * classify() for the first line of a map without IL (a map of one line):
 * positions >= p still hold the line before the first, all index 0, and
 * position p - 1 holds last; so the only edge after p can be p itself.
 */
static unsigned classify_first(size_t W, size_t p, uint32_t last, size_t s, size_t e, size_t *k)
{
    size_t n = p > 0 && last != 0;   /* an edge at p */
    if (n && s == p) { *k = 1; return 1; }
    if (e == W) { *k = n + 1; return 2; }
    return 3;
}

/* IL[x] for x >= pos - 1 (all that segments read), also where there is no IL. */
MCRLE_INLINE uint32_t il_at(const enc *e, size_t pos, size_t x)
{
    if (e->IL) return e->IL[x];
    return x + 1 == pos ? e->last : 0;
}

static void enc_segment(enc *e, unsigned t, size_t p, size_t s, size_t en, uint32_t v)
{
    size_t W = e->W, k = 0, l = en - s;
    uint32_t old = il_at(e, p, s);
    if (MCRLE_UNLIKELY(v == old)) {
        /* the line before (read again from the input) no longer holds what
         * was coded for it: a decoder would refuse this segment */
        e->err = MCRLE_ERR_CHANGED;
        return;
    }
    unsigned cs;
    if (e->IL) {
        unsigned at_p = p >= 1 && e->IL[p - 1] != e->IL[p];   /* p < W: s >= p is in the line */
        cs = classify(e->EB, W, p, s, en, at_p, &k);
    } else {
        cs = classify_first(W, p, e->last, s, en, &k);
    }
    unsigned ll = l < KL_BASE ? (unsigned)l - 1 : KL_ESC;
    uint32_t left = s ? il_at(e, p, s - 1) : NONE, right = en < W ? il_at(e, p, en) : NONE;
    uint32_t pred = cs == 1 ? left : cs == 2 ? right : NONE;
    unsigned ok = pred != NONE && v == pred;
    if (cs == 3) {
        emit(e, t, SYM_C + ll);
        enc_num(e, T_OFF, s - p);
    } else {
        unsigned kk = k < KL_BASE ? (unsigned)k - 1 : KL_ESC;
        emit(e, t, 1 + (((cs - 1) * 5 + kk) * 5 + ll) * 2 + ok);
        if (kk == KL_ESC) enc_num(e, T_KX, k - KL_BASE);
    }
    if (ll == KL_ESC) enc_num(e, T_LX, l - KL_BASE);
    if (!ok) enc_value(e, v, old, left, right, pred);
}

/* next_diff against a line whose every element is the pattern v (the line before the first). */
MCRLE_INLINE size_t next_diff_val(const unsigned char *a, uint64_t v, size_t from, size_t W, size_t E)
{
    uint64_t pat = 0;
    for (size_t i = 0; i < 8; i += E) pat |= (v & MCRLE_ELEM_MASK(E)) << (8 * i);
    size_t x = from, per = 8 / E;
    for (; x + per <= W; x += per) {
        uint64_t d = mcrle_load64(a + x * E) ^ pat;
        if (d) {
            if (MCRLE_LITTLE_ENDIAN) return x + mcrle_ctz64(d) / (8 * E);
            break;
        }
    }
    for (; x < W; x++)
        if (mcrle_load(a + x * E, E) != (v & MCRLE_ELEM_MASK(E))) return x;
    return W;
}

MCRLE_INLINE void enc_lines(enc *e, size_t E)
{
    size_t W = e->W;
    uint32_t *IL = e->IL;
    geom g;
    geom_init(&g, e->ndim, e->shape, e->strides, E);
    geom_seek(&g, e->first_line);
    for (size_t i = 0; i < e->cache_words; i++) e->cache[i] = NONE;
    if (IL) {
        memset(IL, 0, W * sizeof *IL);   /* the line before the first: all value 0 */
        memset(e->EB, 0, (W / 64 + 1) * sizeof *e->EB);   /* ... without edges */
    }
    e->last = 0;
    /* the lines as contiguous elements: the input's own, or copies (strided input) */
    int contig = g.wstride == (ptrdiff_t)E, nb = 0;
    unsigned char *buf[2] = {e->lines_buf, contig ? NULL : e->lines_buf + W * E};
    /* the line before the first is all v0, compared without being written out */
    uint64_t v0 = (e->kind == MCRLE_KIND_SIGNED ? e->keys[0] ^ KEY_FLIP : e->keys[0]) &
                  MCRLE_ELEM_MASK(E);
    const unsigned char *prev = NULL;   /* NULL: that line */
    unsigned prev_changed = 0;
    for (size_t k = 0; k < e->n_lines && !e->err && !e->over; k++) {
        const unsigned char *cur = e->data + g.offset;
        if (!contig) {
            unsigned char *c = buf[nb];
            for (size_t x = 0; x < W; x++) memcpy(c + x * E, cur + (ptrdiff_t)x * g.wstride, E);
            cur = c;
            nb = 1 - nb;
        }
        unsigned t = T_FIRST + prev_changed, changed = 0;
        size_t pos = 0, x = 0;
        for (;;) {
            x = prev ? next_diff(cur, prev, x, W, E) : next_diff_val(cur, v0, x, W, E);
            if (x == W || e->err) break;
            size_t s = x, en = x + 1;
            uint64_t raw = mcrle_load(cur + s * E, E);
            uint32_t v = enc_lookup(e, raw);
            if (v == NONE) { e->err = MCRLE_ERR_VALUE_RANGE; return; }
            while (en < W && mcrle_load(cur + en * E, E) == raw &&
                   (prev ? mcrle_load(prev + en * E, E) : v0) != raw)
                en++;
            enc_segment(e, t, pos, s, en, v);
            t = T_SEG;
            changed = 1;
            if (IL) {
                edges_update(e->EB, IL, W, s, en, v);   /* IL[s - 1] final, IL[en] still old */
                for (size_t y = s; y < en; y++) IL[y] = v;
            } else {
                e->last = v;
            }
            pos = x = en;
        }
        emit(e, t, SYM_END);
        prev_changed = changed;
        prev = cur;
        geom_next(&g);
    }
}

static void enc_walk(enc *e)
{
    MCRLE_DISPATCH_ELEM(e->E, enc_lines(e, E_));
}

size_t mcrle_bytes_bound(size_t elem_size, int ndim, const size_t *shape)
{
    size_t size;
    if (mcrle_shape_size(ndim, shape, &size) != MCRLE_OK || elem_size == 0 ||
        size > (SIZE_MAX - MCRLE_BYTES_HEADER_MAX - 1) / elem_size)
        return SIZE_MAX;
    return MCRLE_BYTES_HEADER_MAX + 1 + size * elem_size;
}

/* Scratch layout of the encoder, in 8-byte aligned pieces. */
/*
 * Scratch of the encoder: shared (the keys, the byte table or the hash of
 * the values), then per task (a thread's run of chunks) its encoder state,
 * line, lines, cache and operations buffer.
 */
typedef struct enc_layout {
    size_t keys, lut8, hash, tasks;
    size_t il, eb, lines, cache, ops, words, rec, per_task;   /* offsets within a task's piece */
    size_t ops_cap, rec_cap, chunks, n_tasks, total;
    unsigned hash_bits;
} enc_layout;

/*
 * Ops a map can emit, so that small maps get small scratch (the block of
 * BLOCK_OPS ops, 192 KB with its words, is only needed by large maps): per
 * line one END (or FIRST-END) symbol, per segment at most 10 ops (its symbol;
 * an OFF or KX number: class + at most two raw pieces; an LX number: 3; a
 * value: VAL + an escape index of up to two raw pieces), and a line has at
 * most W segments. Blocks still break every BLOCK_OPS ops, so the format
 * does not depend on this capacity.
 */
static size_t ops_capacity(size_t W, size_t lines)
{
    if (W == 0 || lines == 0) return 0;   /* raw payload or no element: no model */
    if (lines > (BLOCK_OPS - 1) / 11 || W > (BLOCK_OPS - lines) / (10 * lines)) return BLOCK_OPS;
    return lines + 10 * W * lines;
}

/*
 * Operations pass 1 records per task: at most what all the lines can emit,
 * and at most a quarter of the input's bytes over all tasks (at least one
 * block each). A label map emits a few operations per segment (the 3D Voronoi
 * volume of uint32 ids in the benchmarks: one per 57 bytes); a map that emits more
 * (noise) walks its unrecorded chunks again, and so does a 1D map (one line:
 * nothing recorded, its scratch stays a few blocks).
 */
#ifndef MCRLE_BYTES_REC_MIN   /* lowered by the fuzzers' builds: small maps fill the store */
#define MCRLE_BYTES_REC_MIN BLOCK_OPS
#endif

static size_t rec_capacity(size_t bytes, size_t W, size_t lines, size_t n_tasks)
{
    if (lines < 2) return 0;
    size_t cap = bytes / 16 / n_tasks;
    if (cap < MCRLE_BYTES_REC_MIN) cap = MCRLE_BYTES_REC_MIN;
    if (W <= (SIZE_MAX / 16 - 1) / 10 && lines <= SIZE_MAX / 16 / (1 + 10 * W) &&
        lines * (1 + 10 * W) < cap)
        cap = lines * (1 + 10 * W);   /* each line: its end, and <= W segments of <= 10 */
    return cap;
}

/*
 * The model line (IL, 4 bytes an element) and its edge bitmap are needed
 * from the second line on: a map of one line (a 1D map) has neither. Copies
 * of lines (2 lines of elements) only for input whose lines are strided in
 * the model's view; strides NULL: any.
 */
static int enc_plan(size_t elem_size, int ndim, const size_t *shape, const ptrdiff_t *strides,
                    size_t n_values, unsigned version, unsigned n_threads, enc_layout *Lo)
{
    size_t W, lines, size;
    if (mcrle_shape_size(ndim, shape, &size) != MCRLE_OK) return 0;
    model_dims(ndim, shape, &W, &lines);
    if (W > MAX_LINE || n_values > MAX_VALUES) W = 0;   /* raw payload: no model buffers */
    if (n_values > SIZE_MAX / 64 || W > SIZE_MAX / 64) return 0;
    Lo->chunks = version >= 2 && W ? chunk_count(size, lines) : 1;
    Lo->n_tasks = task_count(Lo->chunks, n_threads);
    size_t per_chunk = lines / Lo->chunks + (lines % Lo->chunks != 0);   /* lines, at most */
    int contig = 0;
    if (strides) {
        geom g;
        geom_init(&g, ndim, shape, strides, elem_size);
        contig = g.wstride == (ptrdiff_t)elem_size;
    }
    size_t cache_slots = n_values < CACHE_SLOTS ? n_values : CACHE_SLOTS;
    Lo->hash_bits = elem_size > 1 && W ? hash_bits_for(n_values) : 0;
    size_t off = 0;
#define TAKE(field, bytes) do { Lo->field = off; off += ((bytes) + 7) & ~(size_t)7; } while (0)
    TAKE(keys, n_values * 8);
    TAKE(lut8, elem_size == 1 ? 256 * 4 : 0);
    TAKE(hash, Lo->hash_bits ? ((size_t)1 << Lo->hash_bits) * 4 : 0);
    TAKE(tasks, W ? Lo->n_tasks * sizeof(enc) : 0);
    size_t shared = off;
    off = 0;
    TAKE(il, lines >= 2 ? W * 4 : 0);
    TAKE(eb, W && lines >= 2 ? (W / 64 + 1) * 8 : 0);
    TAKE(lines, contig ? 0 : 2 * W * elem_size);
    TAKE(cache, W ? cache_slots * 16 : 0);
    Lo->ops_cap = ops_capacity(W, per_chunk);
    TAKE(ops, Lo->ops_cap * 4);
    TAKE(words, W ? (Lo->ops_cap + 2) * 2 : 0);
    Lo->rec_cap = W ? rec_capacity(size * elem_size, W, lines, Lo->n_tasks) : 0;
    TAKE(rec, Lo->rec_cap * 4);
#undef TAKE
    Lo->per_task = off;
    /* a task beyond the first only where the scratch of the others stays within the
     * input's size (few long lines: one task) */
    while (Lo->n_tasks > 1 && (Lo->n_tasks - 1) * Lo->per_task > size * elem_size) Lo->n_tasks--;
    if (Lo->per_task && Lo->n_tasks > (SIZE_MAX - shared) / Lo->per_task) return 0;
    Lo->total = shared + (W ? Lo->n_tasks * Lo->per_task : 0);
    return 1;
}

size_t mcrle_bytes_encode_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                          const ptrdiff_t *strides, size_t n_values, unsigned order,
                                          unsigned version, unsigned n_threads)
{
    enc_layout Lo;
    size_t mshape[MCRLE_MAX_NDIM];
    ptrdiff_t mstrides[MCRLE_MAX_NDIM];
    if (version < 1 || version > MCRLE_BYTES_VERSION || order > 1 || ndim < 1 ||
        ndim > MCRLE_MAX_NDIM || !shape)
        return SIZE_MAX;
    model_view(ndim, shape, strides, order, mshape, strides ? mstrides : NULL);
    return enc_plan(elem_size, ndim, mshape, strides ? mstrides : NULL, n_values, version, n_threads,
                    &Lo) ? Lo.total : SIZE_MAX;
}

size_t mcrle_bytes_encode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                       const ptrdiff_t *strides, size_t n_values)
{
    return mcrle_bytes_encode_scratch_size_mt(elem_size, ndim, shape, strides, n_values, 0, 1, 1);
}

/* Raw payload: mode byte, then the elements in C order, little-endian. */
static int write_raw(const unsigned char *data, size_t E, int ndim, const size_t *shape,
                     const ptrdiff_t *strides, unsigned char *o, size_t cap, size_t size,
                     size_t *len)
{
    if (cap < 1 + size * E) return MCRLE_ERR_NOSPACE;
    o[0] = MODE_RAW;
    size_t q = 1;
    geom g;
    geom_init(&g, ndim, shape, strides, E);
    for (size_t k = 0; k < g.lines; k++) {
        const unsigned char *p = data + g.offset;
        for (size_t j = 0; j < g.W; j++, p += g.wstride) {
            uint64_t v = mcrle_load(p, E);
            for (size_t b = 0; b < E; b++) o[q++] = (unsigned char)(v >> (8 * b));
        }
        geom_next(&g);
    }
    *len = q;
    return MCRLE_OK;
}

/* The passes of the encoder over chunks, one task (a run of chunks) per call. */
typedef struct enc_par {
    enc *tasks;
    unsigned n_tasks;
    size_t chunks, lines, W;
    unsigned char *out;           /* pass 2: chunk c is coded at out + region[c] */
    size_t region[MAX_CHUNKS_WRITTEN + 1];
    size_t len[MAX_CHUNKS_WRITTEN];
    int over[MAX_CHUNKS_WRITTEN];
    size_t rec_end[MAX_CHUNKS_WRITTEN];   /* pass 1: the end of chunk c's operations in its
                                            task's store; 0 if they were not all recorded */
} enc_par;

/* Lines of chunk c of K over `lines` lines: [lines * c / K, lines * (c + 1) / K). */
MCRLE_INLINE size_t chunk_line(size_t lines, size_t K, size_t c)
{
    return (size_t)((uint64_t)lines * c / K);   /* lines * K < 2^64: K <= 2^16, lines <= 2^47 */
}

static void enc_count_task(void *ctx, unsigned t)
{
    enc_par *P = (enc_par *)ctx;
    enc *e = &P->tasks[t];
    size_t c0 = P->chunks * t / P->n_tasks, c1 = P->chunks * (t + 1) / P->n_tasks;
    e->counting = 1;
    memset(e->counts, 0, sizeof e->counts);
    e->rec_n = 0;
    e->rec_full = e->rec_cap == 0;
    for (size_t c = c0; c < c1 && !e->err; c++) {
        e->first_line = chunk_line(P->lines, P->chunks, c);
        e->n_lines = chunk_line(P->lines, P->chunks, c + 1) - e->first_line;
        enc_walk(e);
        P->rec_end[c] = e->rec_full ? 0 : e->rec_n;
    }
}

/*
 * Pass 2 of a chunk whose operations pass 1 recorded (rec[from, to)): their
 * symbols taken back from the counts, then coded block by block.
 */
static void enc_recorded(enc *e, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        uint32_t op = e->rec[i];
        if (!(op & OP_RAW)) e->counts[op >> 8][op & 0xff]--;
    }
    for (size_t i = from; i < to && !e->over; i += BLOCK_OPS)
        enc_block(e, e->rec + i, to - i < BLOCK_OPS ? to - i : BLOCK_OPS);
}

static void enc_code_task(void *ctx, unsigned t)
{
    enc_par *P = (enc_par *)ctx;
    enc *e = &P->tasks[t];
    size_t c0 = P->chunks * t / P->n_tasks, c1 = P->chunks * (t + 1) / P->n_tasks;
    e->counting = 0;
    for (size_t c = c0; c < c1 && !e->err; c++) {
        e->first_line = chunk_line(P->lines, P->chunks, c);
        e->n_lines = chunk_line(P->lines, P->chunks, c + 1) - e->first_line;
        e->out = P->out + P->region[c];
        e->cap = P->region[c + 1] - P->region[c];
        e->olen = 0;
        e->nops = 0;
        e->over = 0;
        if (P->rec_end[c]) {
            enc_recorded(e, c > c0 ? P->rec_end[c - 1] : 0, P->rec_end[c]);
        } else {
            enc_walk(e);
            enc_flush(e);
        }
        P->len[c] = e->olen;
        P->over[c] = e->over;
    }
}

int mcrle_bytes_encode_mt(const void *data, mcrle_kind kind, size_t elem_size, int ndim,
                          const size_t *shape, const ptrdiff_t *strides,
                          const uint64_t *values, size_t n_values, unsigned order,
                          unsigned version, void *out, size_t capacity, size_t *out_len,
                          void *scratch, size_t scratch_size, unsigned n_threads)
{
    int code = mcrle_bytes_dtype_code(kind, elem_size);
    SAFETY_CHECK(code >= 0 && ndim >= 1 && ndim <= MCRLE_MAX_NDIM && shape != NULL &&
                 out != NULL && out_len != NULL, MCRLE_ERR_ARG);
    SAFETY_CHECK(version >= 1 && version <= MCRLE_BYTES_VERSION && order <= 1 &&
                 (version >= 2 || order == 0), MCRLE_ERR_ARG);
    size_t size;
    if (mcrle_shape_size(ndim, shape, &size) != MCRLE_OK) return MCRLE_ERR_ARG;
    SAFETY_CHECK(size == 0 || (data != NULL && strides != NULL && values != NULL), MCRLE_ERR_ARG);
    SAFETY_CHECK(size > 0 ? (n_values >= 1 && n_values <= size) : n_values == 0, MCRLE_ERR_ARG);
    size_t bound = mcrle_bytes_bound(elem_size, ndim, shape);
    SAFETY_CHECK(bound != SIZE_MAX, MCRLE_ERR_ARG);
    SAFETY_CHECK(capacity >= MCRLE_BYTES_HEADER_MAX + (size ? 1 + size * elem_size : 0),
                 MCRLE_ERR_NOSPACE);
    /* the model's view of the map (axes reversed for order 1); the header keeps its shape */
    size_t mshape[MCRLE_MAX_NDIM];
    ptrdiff_t mstrides[MCRLE_MAX_NDIM];
    model_view(ndim, shape, strides, order, mshape, mstrides);
    enc_layout Lo;
    SAFETY_CHECK(enc_plan(elem_size, ndim, mshape, mstrides, n_values, version, n_threads, &Lo),
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(size == 0 || (scratch != NULL && scratch_size >= Lo.total), MCRLE_ERR_NOSPACE);

    unsigned char *o = (unsigned char *)out;
    unsigned char *pl = o + MCRLE_BYTES_HEADER_MAX;      /* payload, moved down at the end */
    size_t pcap = capacity - MCRLE_BYTES_HEADER_MAX, plen = 0;
    size_t E = elem_size;
    const unsigned char *d = (const unsigned char *)data;

    if (size > 0) {
        unsigned char *S = (unsigned char *)scratch;
        uint64_t lo, hi;
        key_range(kind, E, &lo, &hi);
        uint64_t *keys = (uint64_t *)(void *)(S + Lo.keys);
        for (size_t i = 0; i < n_values; i++) {
            uint64_t key = kind == MCRLE_KIND_SIGNED ? values[i] ^ KEY_FLIP : values[i];
            SAFETY_CHECK(key >= lo && key <= hi && (i == 0 || key > keys[i - 1]), MCRLE_ERR_ARG);
            if (kind == MCRLE_KIND_SIGNED && E < 8)   /* the pattern must be sign-extended */
                SAFETY_CHECK(sign_extend(values[i], E) == values[i], MCRLE_ERR_ARG);
            keys[i] = key;
        }
        size_t W, lines;
        model_dims(ndim, mshape, &W, &lines);
        int modeled = 0;
        if (W <= MAX_LINE && n_values <= MAX_VALUES) {
            enc e;
            memset(&e, 0, sizeof e);
            e.data = d; e.E = E; e.kind = kind; e.ndim = ndim; e.shape = mshape; e.strides = mstrides;
            e.W = W; e.lines = lines; e.keys = keys; e.n = (uint32_t)n_values;
            e.nb_index = bitlen64(n_values - 1);
            if (E == 1) {
                e.lut8 = (uint32_t *)(void *)(S + Lo.lut8);
                for (unsigned b = 0; b < 256; b++) e.lut8[b] = NONE;
                for (size_t i = 0; i < n_values; i++) {
                    uint64_t v = kind == MCRLE_KIND_SIGNED ? (keys[i] ^ KEY_FLIP) & 0xff : keys[i];
                    e.lut8[v] = (uint32_t)i;
                }
            } else {
                e.hash = (uint32_t *)(void *)(S + Lo.hash);
                e.hash_bits = Lo.hash_bits;
                size_t mask = ((size_t)1 << Lo.hash_bits) - 1;
                memset(e.hash, 0, (mask + 1) * 4);
                for (size_t i = 0; i < n_values; i++) {
                    size_t h = key_hash(keys[i], Lo.hash_bits);
                    while (e.hash[h]) h = (h + 1) & mask;
                    e.hash[h] = (uint32_t)i + 1;
                }
            }
            e.cache_words = 4 * (n_values < CACHE_SLOTS ? n_values : CACHE_SLOTS);
            e.ops_cap = Lo.ops_cap;
            /* one encoder per task, each with its own buffers */
            enc_par P;
            P.tasks = (enc *)(void *)(S + Lo.tasks);
            P.n_tasks = (unsigned)Lo.n_tasks;
            P.chunks = Lo.chunks;
            P.lines = lines;
            P.W = W;
            for (unsigned t = 0; t < P.n_tasks; t++) {
                unsigned char *T = S + Lo.total - (Lo.n_tasks - t) * Lo.per_task;
                P.tasks[t] = e;
                P.tasks[t].IL = lines >= 2 ? (uint32_t *)(void *)(T + Lo.il) : NULL;
                P.tasks[t].EB = lines >= 2 ? (uint64_t *)(void *)(T + Lo.eb) : NULL;
                P.tasks[t].lines_buf = T + Lo.lines;
                P.tasks[t].cache = (uint32_t *)(void *)(T + Lo.cache);
                P.tasks[t].ops = (uint32_t *)(void *)(T + Lo.ops);
                P.tasks[t].words = (uint16_t *)(void *)(T + Lo.words);
                P.tasks[t].rec = (uint32_t *)(void *)(T + Lo.rec);
                P.tasks[t].rec_cap = Lo.rec_cap;
            }
            /* pass 1: count the symbols (each task its chunks), then add the counts up */
            if (P.n_tasks > 1) mcrle_parallel_for(n_threads, P.n_tasks, enc_count_task, &P);
            else enc_count_task(&P, 0);
            for (unsigned t = 0; t < P.n_tasks; t++)
                if (P.tasks[t].err) return P.tasks[t].err;
            /* the totals apart: each task keeps its own counts for pass 2 to take back */
            uint32_t total[N_TABLES][MAX_ALPHA];
            memset(total, 0, sizeof total);
            for (unsigned t = 0; t < P.n_tasks; t++)
                for (unsigned a = 0; a < N_TABLES; a++)
                    for (unsigned b = 0; b < MAX_ALPHA; b++) total[a][b] += P.tasks[t].counts[a][b];
            /* payload: mode, value table, frequency tables, then the rANS stream (version 1)
               or the chunk table and the chunks' streams (version 2) */
            size_t limit = pcap < 1 + size * E ? pcap : size * E;   /* must beat the raw payload */
            size_t olen = 0;
            if (limit > 1 + 10 * n_values) {   /* room for the value table */
                pl[olen++] = MODE_MODEL;
                uint64_t prev = 0;
                for (size_t i = 0; i < n_values; i++) {
                    uint64_t v;
                    if (i == 0) {
                        v = keys[0];
                        if (kind == MCRLE_KIND_SIGNED) {   /* zigzag of the signed value */
                            uint64_t sv = keys[0] ^ KEY_FLIP;
                            v = (sv << 1) ^ (0 - (sv >> 63));
                        }
                    } else {
                        v = keys[i] - prev - 1;
                    }
                    prev = keys[i];
                    olen += put_varint(pl + olen, v);
                }
                bitw bw = {pl + olen, limit - olen, 0, 0, 0, 0};
                ftab tabs[N_TABLES];
                for (unsigned t = 0; t < N_TABLES; t++)
                    write_table(&bw, total[t], ALPHA[t], &tabs[t]);
                bw_flush(&bw);
                for (unsigned t = 0; t < P.n_tasks; t++)
                    memcpy(P.tasks[t].tabs, tabs, sizeof tabs);
                size_t ctab = version >= 2 ? 10 + 20 * P.chunks : 0;   /* the chunk table, at most */
                if (!bw.over && limit - olen - bw.n > ctab + 4 * P.chunks) {
                    olen += bw.n;
                    /* pass 2: code; each chunk into its share of the room left */
                    size_t base = olen + ctab, room = limit - base;
                    P.out = pl;
                    for (size_t c = 0; c <= P.chunks; c++)
                        P.region[c] = base + (size_t)((double)room * (double)chunk_line(lines, P.chunks, c) /
                                                      (double)lines);
                    P.region[P.chunks] = limit;
                    if (P.n_tasks > 1) mcrle_parallel_for(n_threads, P.n_tasks, enc_code_task, &P);
                    else enc_code_task(&P, 0);
                    int over = 0;
                    for (unsigned t = 0; t < P.n_tasks; t++)
                        if (P.tasks[t].err) return P.tasks[t].err;
                    for (size_t c = 0; c < P.chunks; c++) over |= P.over[c];
                    /* every symbol of pass 1 coded again (each task its own chunks'):
                       else the input changed between the passes */
                    for (unsigned t = 0; t < P.n_tasks && !over; t++)
                        for (unsigned a = 0; a < N_TABLES; a++)
                            for (unsigned b = 0; b < ALPHA[a]; b++)
                                if (P.tasks[t].counts[a][b]) return MCRLE_ERR_CHANGED;
                    if (!over && version < 2) {
                        memmove(pl + olen, pl + P.region[0], P.len[0]);
                        plen = olen + P.len[0];
                        modeled = 1;
                    } else if (!over) {
                        olen += put_varint(pl + olen, P.chunks);
                        for (size_t c = 0; c < P.chunks; c++) {
                            olen += put_varint(pl + olen, chunk_line(lines, P.chunks, c + 1) -
                                                              chunk_line(lines, P.chunks, c));
                            olen += put_varint(pl + olen, P.len[c]);
                        }
                        for (size_t c = 0; c < P.chunks; c++) {   /* in order: each moves down */
                            memmove(pl + olen, pl + P.region[c], P.len[c]);
                            olen += P.len[c];
                        }
                        plen = olen;
                        modeled = plen < 1 + size * E;
                    }
                }
            }
        }
        if (!modeled) {
            int r = write_raw(d, E, ndim, mshape, mstrides, pl, pcap, size, &plen);
            if (r != MCRLE_OK) return r;
        }
    }
    /* header */
    unsigned char h[MCRLE_BYTES_HEADER_MAX];
    size_t hl = 0;
    memcpy(h, MCRLE_BYTES_MAGIC, 4);
    h[4] = (unsigned char)version;
    h[5] = (unsigned char)code;
    h[6] = (unsigned char)ndim;
    h[7] = (unsigned char)(version >= 2 ? order : 0);
    hl = 8;
    for (int a = 0; a < ndim; a++) hl += put_varint(h + hl, shape[a]);
    hl += put_varint(h + hl, n_values);
    hl += put_varint(h + hl, plen);
    uint32_t ck = mcrle_adler32(1, h, hl);
    ck = mcrle_adler32(ck, pl, plen);
    h[hl++] = (unsigned char)ck;
    h[hl++] = (unsigned char)(ck >> 8);
    h[hl++] = (unsigned char)(ck >> 16);
    h[hl++] = (unsigned char)(ck >> 24);
    memmove(o + hl, pl, plen);
    memcpy(o, h, hl);
    *out_len = hl + plen;
    return MCRLE_OK;
}

int mcrle_bytes_encode(const void *data, mcrle_kind kind, size_t elem_size, int ndim,
                       const size_t *shape, const ptrdiff_t *strides,
                       const uint64_t *values, size_t n_values,
                       void *out, size_t capacity, size_t *out_len,
                       void *scratch, size_t scratch_size)
{
    return mcrle_bytes_encode_mt(data, kind, elem_size, ndim, shape, strides, values, n_values, 0,
                                 1, out, capacity, out_len, scratch, scratch_size, 1);
}

/* ---- decoder --------------------------------------------------------------- */

#define RUN_SLACK 8u   /* entries of a run list beyond W: [-1], the end pseudo-runs, copy overrun */

/*
 * Scratch of the decoder: shared (the value table as out's elements, the
 * lookup tables), then per task (a thread's run of chunks) its cache, line
 * and run lists. The number of chunks is in the payload, so the tasks are
 * planned for as many chunks as lines. The two run lists (starts and value
 * indices, 8 bytes a run) alternate: list b takes the runs of lines 0, 2, 4,
 * ... and list a those of lines 1, 3, ...; the last line's runs are never
 * needed, so a map of one line (a 1D map) needs neither, and one of two
 * lines only b. The line (W elements of out) is built in scratch only for an
 * output whose lines are strided, where a task also stages its chunks
 * (stage_budget). With the value table, the scratch of one task is at most
 * W * out_elem + 8 * n_values + 16 * (W + RUN_SLACK) * (lines >= 2 ? 2 : 0)
 * bytes plus a fixed 110 kB or so (lookup tables, value cache, the raw
 * decoder's chunk): docs/security.md states what that is against the output.
 */
typedef struct dec_layout {
    size_t tv, luts, shared;
    size_t cache, line, runs, stage, per_task;   /* offsets within a task's piece */
    size_t rl_a, rl_b, n_tasks, total, stage_elems;
} dec_layout;

/*
 * Elements a task stages (decodes in the model's order before copying them
 * out in tiles) when out's lines are not contiguous, e.g. a Fortran-coded
 * volume decoded into a C-ordered array: a chunk as the encoder writes them
 * (2^20 elements, more in maps of over 2^28), or the whole map if smaller. A
 * larger chunk (another encoder's, or version 1's one stream) is written
 * straight, element by element. Maps of one line are never staged.
 */
static size_t stage_budget(size_t size, size_t W)
{
    size_t budget = (size_t)1 << 20;
    if (size / 256 + W > budget) budget = size / 256 + W;
    return size < budget ? size : budget;
}

/* Whether a map of W x lines elements decodes through a stage into out (geometry g). */
MCRLE_INLINE int staged_output(const geom *g, size_t W, size_t lines, size_t oE)
{
    return g->wstride != (ptrdiff_t)oE && W >= 2 && lines >= 2;
}

static int dec_plan(const mcrle_bytes_info *info, size_t out_elem, const ptrdiff_t *strides,
                    unsigned n_threads, dec_layout *Lo)
{
    size_t W, lines, n = info->n_values, mshape[MCRLE_MAX_NDIM];
    ptrdiff_t mstrides[MCRLE_MAX_NDIM];
    model_view(info->ndim, info->shape, strides, info->order, mshape, strides ? mstrides : NULL);
    model_dims(info->ndim, mshape, &W, &lines);
    if (W > SIZE_MAX / 64 || n > SIZE_MAX / 64 || out_elem > 8) return 0;
    /* the line is built in scratch, and chunks staged, only for an output whose
     * lines are strided in the model's view; strides NULL: any output */
    int contig = 0, staged = W >= 2 && lines >= 2;
    if (strides) {
        geom g;
        geom_init(&g, info->ndim, mshape, mstrides, out_elem);
        contig = g.wstride == (ptrdiff_t)out_elem;
        staged = staged_output(&g, W, lines, out_elem);
    }
    size_t line = contig ? 0 : W * out_elem;
    Lo->stage_elems = staged ? stage_budget(lines * W, W) : 0;
    size_t cache_slots = n < CACHE_SLOTS ? n : CACHE_SLOTS;
    Lo->n_tasks = info->version >= 2 ? task_count(lines, n_threads) : 1;
    Lo->rl_b = (lines >= 2 ? W : 0) + RUN_SLACK;
    Lo->rl_a = (lines >= 3 ? W : 0) + RUN_SLACK;
    size_t off = 0;
#define TAKE(field, bytes) do { Lo->field = off; off += ((bytes) + 7) & ~(size_t)7; } while (0)
    TAKE(tv, n * 8);
    TAKE(luts, (size_t)N_TABLES * LUT_STRIDE * 4);
    Lo->shared = off;
    off = 0;
    TAKE(cache, cache_slots * 16);
    TAKE(line, line > RAW_CHUNK * 8 ? line : RAW_CHUNK * 8);   /* also the raw decoder's chunk */
    TAKE(runs, (Lo->rl_a + Lo->rl_b) * 8);
    TAKE(stage, Lo->stage_elems * out_elem);
#undef TAKE
    Lo->per_task = off;
    /* a task beyond the first only where the scratch of the others stays within the
     * output's size (few long lines: one task, as the bound above says) */
    while (Lo->n_tasks > 1 && (Lo->n_tasks - 1) * Lo->per_task > lines * W * out_elem) Lo->n_tasks--;
    if (Lo->n_tasks > (SIZE_MAX - Lo->shared) / Lo->per_task) return 0;
    Lo->total = Lo->shared + Lo->n_tasks * Lo->per_task;
    return 1;
}

size_t mcrle_bytes_decode_scratch_size_mt(const mcrle_bytes_info *info, size_t out_elem_size,
                                          const ptrdiff_t *strides, unsigned n_threads)
{
    dec_layout Lo;
    if (!info || info->size == 0) return 0;
    return dec_plan(info, out_elem_size, strides, n_threads, &Lo) ? Lo.total : SIZE_MAX;
}

size_t mcrle_bytes_decode_scratch_size(const mcrle_bytes_info *info, size_t out_elem_size,
                                       const ptrdiff_t *strides)
{
    return mcrle_bytes_decode_scratch_size_mt(info, out_elem_size, strides, 1);
}

/* Fills n elements of a contiguous line with the element pattern v. */
MCRLE_INLINE void fill_contig(unsigned char *p, size_t n, uint64_t v, size_t E)
{
    switch (E) {
    case 1: memset(p, (int)(v & 0xff), n); break;
    case 2: { uint16_t x = (uint16_t)v; for (size_t i = 0; i < n; i++) memcpy(p + 2 * i, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; for (size_t i = 0; i < n; i++) memcpy(p + 4 * i, &x, 4); break; }
    default: for (size_t i = 0; i < n; i++) memcpy(p + 8 * i, &v, 8); break;
    }
}

static void scatter_line(unsigned char *dst, ptrdiff_t s, const unsigned char *src, size_t W, size_t E)
{
    for (size_t j = 0; j < W; j++, dst += s) memcpy(dst, src + j * E, E);
}

typedef struct dstate {
    rdec rd;
    const uint32_t *luts[N_TABLES];
    uint32_t *cache;
    uint32_t n;
    unsigned nb_index;
    const uint64_t *tv;       /* the values as out's element patterns */
} dstate;

/* The r-th of the candidates() of the encoder; NONE if there are fewer. */
MCRLE_INLINE uint32_t nth_candidate(const uint32_t *cache, unsigned r, uint32_t c, uint32_t A,
                                    uint32_t B, uint32_t x)
{
    const uint32_t *K = cache + 4 * (size_t)(c & (CACHE_SLOTS - 1));
    uint32_t seen[6];
    unsigned n = 0;
    for (unsigned i = 0; i < 6; i++) {
        uint32_t v = i == 0 ? A : i == 1 ? B : K[i - 2];
        if (v == NONE || v == c || v == x) continue;
        unsigned k = 0;
        while (k < n && seen[k] != v) k++;
        if (k < n) continue;
        if (n == r) return v;
        seen[n++] = v;
    }
    return NONE;
}

/* Decodes a coded value (an index); NONE when corrupt. */
MCRLE_INLINE uint32_t dec_value(dstate *s, rdec *rd, uint32_t old, uint32_t left, uint32_t right,
                                uint32_t pred)
{
    unsigned r = rd_sym(rd, s->luts[T_VAL]);
    uint32_t v;
    if (r != VAL_ESC) {
        v = nth_candidate(s->cache, r, old, left, right, pred);
        if (v == NONE) return NONE;
    } else {
        uint64_t i = rd_bits(rd, s->nb_index);
        if (i >= s->n || i == old) return NONE;
        v = (uint32_t)i;
    }
    cache_update(cache_slot(s->cache, old), v);
    return v;
}

MCRLE_INLINE uint64_t dec_num(rdec *rd, const uint32_t *lut)
{
    unsigned c = rd_sym(rd, lut);   /* < NUM_ALPHA: c <= 32 */
    return ((uint64_t)1 << c) - 1 + rd_bits(rd, c);
}

/* Symbols 1..100 unpacked: min(l,5)-1 (bits 0-2), min(k,5)-1 (bits 3-5), predicted (6), case b (7). */
#define SEG_INFO_OF(x) ((((x) >> 1) % 5) | (((x) / 10 % 5) << 3) | (((x) & 1) << 6) | ((x) / 50) << 7)
#define SI4(x) SEG_INFO_OF(x), SEG_INFO_OF(x + 1), SEG_INFO_OF(x + 2), SEG_INFO_OF(x + 3)
#define SI20(x) SI4(x), SI4(x + 4), SI4(x + 8), SI4(x + 12), SI4(x + 16)
static const unsigned short SEG_INFO[SYM_C] = {
    0, SI20(0), SI20(20), SI20(40), SI20(60), SI20(80)
};
#undef SI20
#undef SI4

/*
 * The line before into the line (contiguous, nb bytes): short lines (3D maps have many)
 * inline in 16-byte moves, the last one overlapping; long or overlapping ones by memmove.
 */
MCRLE_INLINE void copy_line(unsigned char *d, const unsigned char *s, size_t nb)
{
    uintptr_t a = (uintptr_t)d, b = (uintptr_t)s;
    if (nb >= 16 && nb <= 256 && (a >= b + nb || b >= a + nb)) {
        for (size_t i = 0; i + 16 < nb; i += 16) memcpy(d + i, s + i, 16);
        memcpy(d + nb - 16, s + nb - 16, 16);
    } else {
        memmove(d, s, nb);
    }
}

#define RUN_END 0xFFFFFFFFu   /* start of the pseudo-run after the line's end pseudo-run */

/* Fills a segment of 1 to 4 (E == 1) or 1 to 2 (else) elements with the pattern v, branch-free. */
MCRLE_INLINE void fill_short(unsigned char *line, size_t s, size_t e, uint64_t v, size_t E)
{
    switch (E) {
    case 1: {   /* 1..4 bytes: s, e - 1, and one inside from each end */
        size_t i = e - s > 1, j = e - s > 2;
        line[s] = (unsigned char)v; line[e - 1] = (unsigned char)v;
        line[s + i] = (unsigned char)v; line[e - 1 - j] = (unsigned char)v;
        break;
    }
    case 2: { uint16_t x = (uint16_t)v; memcpy(line + 2 * s, &x, 2); memcpy(line + 2 * (e - 1), &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(line + 4 * s, &x, 4); memcpy(line + 4 * (e - 1), &x, 4); break; }
    default: memcpy(line + 8 * s, &v, 8); memcpy(line + 8 * (e - 1), &v, 8); break;
    }
}

/*
 * All lines, for out elements of E bytes. 0, or the line where the payload is corrupt + 1.
 *
 * The line before is kept as its runs: starts P[0] = 0 < P[1] < ... < P[m-1] (its edges) and
 * value indices PV[i] != PV[i + 1]; then a pseudo-run P[m] = W with PV[m] = NONE (so that
 * "the run holding position W" has no value) and P[m + 1] = RUN_END, above every position.
 * While a line is decoded, positions [0, p) are final and [p, W) still hold the line before,
 * so the edges after p (4.7) are: p itself when the value at p - 1 (the last new run)
 * differs from the old one at p, then the old edges above p, then W. With c the old run
 * that holds p, the k-th edge is P[c + k - (1 if p is an edge)]: no scan. The new line's
 * runs (N, NV; NV[-1] = NONE is the value "left of position 0") are built as segments come,
 * the old runs between them copied, and become the line before of the next line; a line
 * without segments keeps them. The output line is the line before copied (memmove; for
 * strided outputs the scratch line keeps it) and patched segment by segment.
 */
MCRLE_INLINE size_t decode_lines(dstate *st, const mcrle_bytes_info *info, size_t W,
                                 size_t first_line, size_t lines, const ptrdiff_t *strides,
                                 unsigned char *out, unsigned char *scratch_line, uint32_t *runs,
                                 size_t rl_a, size_t rl_b, size_t E)
{
    geom g;
    geom_init(&g, info->ndim, info->shape, strides, E);
    geom_seek(&g, first_line);
    const int contig = g.wstride == (ptrdiff_t)E;
    rdec rd = st->rd;   /* a local copy stays in registers */
    const uint32_t *seg = st->luts[T_SEG];
    const uint64_t *tv = st->tv;
    const uint32_t W32 = (uint32_t)W;   /* W <= MAX_LINE */
    /* list a (the line before the first, then lines 1, 3, ...), list b (lines 0, 2, ...) */
    uint32_t *P = runs + 1, *PV = runs + rl_a + 1;
    uint32_t *N = runs + 2 * rl_a + 1, *NV = runs + 2 * rl_a + rl_b + 1;
    memset(runs, 0, 2 * (rl_a + rl_b) * sizeof *runs);   /* the copy overrun reads defined entries */
    PV[-1] = NONE;
    NV[-1] = NONE;
    uint32_t m = 1;
    P[0] = 0;
    PV[0] = 0;   /* before the first line: all index 0 */
    P[1] = W32;
    PV[1] = NONE;
    P[2] = RUN_END;
    /* the table of a line's first symbol: a select in registers, not an indexed load, as
       it is on the dependency chain from one line to the next */
    const uint32_t *first0 = st->luts[T_FIRST], *first1 = st->luts[T_FIRST + 1], *first = first0;
    /* lines at a fixed distance (the leading axes of out collapse, as in C order): no walk */
    int uniform = 1;
    for (int a = 0; a + 1 < g.n; a++)
        uniform &= g.step[a] == g.step[a + 1] * (ptrdiff_t)g.shape[a + 1];
    const ptrdiff_t lstep = g.n > 0 ? g.step[g.n - 1] : 0;
    unsigned char *prev = NULL, *next = out + g.offset;   /* uniform: the next line of out */
    if (!contig) fill_contig(scratch_line, W, tv[0], E);
    for (size_t k = 0; k < lines; k++) {
        unsigned char *line_out = uniform ? next : out + g.offset;
        unsigned char *dst = contig ? line_out : scratch_line;
        unsigned sym = rd_sym(&rd, first);
        if (contig) {
            if (k == 0) fill_contig(dst, W, tv[0], E);
            else copy_line(dst, prev, W * E);
        }
        first = sym != SYM_END ? first1 : first0;
        /* the last line's runs are never read: not built (its list may not exist) */
        const int build = k + 1 < lines;
        if (sym != SYM_END) {
            /* c: the old run holding p; n: new runs so far; last: the value at p - 1 */
            uint32_t p = 0, c = 0, n = 0, last = NONE, vc = PV[0];   /* vc: PV[c] */
            do {
                uint32_t s, e, cs, ce;   /* cs, ce: the old runs holding s and e */
                unsigned ok, side;       /* side: 0 the segment's left is predicted, 1 its right */
                if (MCRLE_UNLIKELY(p >= W32)) return k + 1;   /* no position left for a segment */
                if (MCRLE_UNLIKELY(sym >= SYM_C)) {
                    uint64_t off = dec_num(&rd, st->luts[T_OFF]);
                    unsigned ll = sym - SYM_C;
                    uint64_t l = ll < KL_ESC ? ll + 1 : KL_BASE + dec_num(&rd, st->luts[T_LX]);
                    if (off >= W32 - p) return k + 1;
                    s = p + (uint32_t)off;
                    if (l > W32 - s) return k + 1;
                    e = s + (uint32_t)l;
                    ok = 0;
                    side = 2;
                    cs = c;
                    while (P[cs + 1] <= s) cs++;
                    ce = cs;
                } else {
                    unsigned si = SEG_INFO[sym], ll = si & 7, kk = (si >> 3) & 7;
                    ok = (si >> 6) & 1;
                    side = si >> 7;
                    uint64_t kv = kk + 1, l = ll + 1;
                    if (MCRLE_UNLIKELY(kk == KL_ESC)) kv = KL_BASE + dec_num(&rd, st->luts[T_KX]);
                    if (MCRLE_UNLIKELY(ll == KL_ESC)) l = KL_BASE + dec_num(&rd, st->luts[T_LX]);
                    /* is p an edge: the new value on its left differs from the old one at p */
                    unsigned at_p = (p > 0) & (last != vc);
                    uint64_t kr = kv - at_p;   /* the kr-th old edge above p (0: p itself) */
                    if (MCRLE_UNLIKELY(kr > m - c)) return k + 1;   /* fewer edges */
                    uint32_t idx = c + (uint32_t)kr;   /* <= m: P[m] == W */
                    uint32_t edge = kr ? P[idx] : p;
                    /* a: [edge, edge + l) inside the line; b: [edge - l, edge) after p */
                    unsigned bad_a = (edge >= W32) | (l > (uint64_t)(W32 - edge));
                    unsigned bad_b = l > (uint64_t)(edge - p);
                    if (MCRLE_UNLIKELY((bad_a & (side ^ 1)) | (bad_b & side))) return k + 1;
                    s = edge - ((uint32_t)l & (0u - side));
                    e = s + (uint32_t)l;
                    cs = idx - side;   /* b: idx > c, so cs >= c, and P[c] <= p <= s */
                    while (P[cs] > s) cs--;
                    ce = idx;
                }
                while (P[ce + 1] <= e) ce++;   /* stops at m (P[m] == W) or below */
                /* the new runs of [p, s): the old ones: p's own unless it merges, c+1 .. cs,
                   but cs itself only if it starts before s */
                uint32_t left = last;   /* the value at s - 1 (NONE if s == 0) */
                {
                    uint32_t v0 = vc;
                    unsigned cut = P[cs] == s;      /* then s > p implies cs > c */
                    if (MCRLE_LIKELY(build)) {
                        N[n] = p;
                        NV[n] = v0;
                        n += (s > p) & (last != v0);
                        uint32_t cnt = cs - c;
                        memcpy(N + n, P + c + 1, 4 * sizeof *N);   /* most segments copy 0..4 runs */
                        memcpy(NV + n, PV + c + 1, 4 * sizeof *N);
                        if (MCRLE_UNLIKELY(cnt > 4)) {
                            memcpy(N + n + 4, P + c + 5, (cnt - 4) * sizeof *N);
                            memcpy(NV + n + 4, PV + c + 5, (cnt - 4) * sizeof *N);
                        }
                        n += cnt - ((cnt > 0) & cut);
                    }
                    uint32_t sp = 0u - (s > p), lo = PV[(ptrdiff_t)cs - cut];   /* PV[-1] exists */
                    left = (lo & sp) | (left & ~sp);
                }
                uint32_t right = PV[ce];     /* the value at e (NONE if e == W) */
                uint32_t v;
                if (ok) {
                    v = side == 0 ? left : right;
                    if (MCRLE_UNLIKELY(v == NONE)) return k + 1;
                } else {
                    uint32_t pred = side == 0 ? left : side == 1 ? right : NONE;
                    v = dec_value(st, &rd, PV[cs], left, right, pred);
                    if (MCRLE_UNLIKELY(v == NONE)) return k + 1;
                }
                if (MCRLE_LIKELY(build)) {
                    N[n] = s;
                    NV[n] = v;
                    n += left != v;
                }
                uint64_t val = tv[v];
                if (MCRLE_LIKELY(e - s <= (E == 1 ? 4 : 2))) fill_short(dst, s, e, val, E);
                else fill_contig(dst + (size_t)s * E, e - s, val, E);
                p = e;
                c = ce;
                vc = right;
                last = v;
                sym = rd_sym(&rd, seg);
            } while (sym != SYM_END);
            if (build) {   /* the runs of the line, for the next one */
                if (p < W32) {   /* the rest of the line is old */
                    uint32_t v0 = PV[c];
                    N[n] = p;
                    NV[n] = v0;
                    n += last != v0;
                    for (uint32_t i = c + 1; i < m; i += 4) {   /* 4 at a time: slack after m */
                        memcpy(N + n + (i - c - 1), P + i, 4 * sizeof *N);
                        memcpy(NV + n + (i - c - 1), PV + i, 4 * sizeof *N);
                    }
                    n += m - c - 1;
                }
                N[n] = W32;
                NV[n] = NONE;
                N[n + 1] = RUN_END;
                m = n;
                uint32_t *t = P; P = N; N = t;
                t = PV; PV = NV; NV = t;
            }
        }
        if (!contig) scatter_line(line_out, g.wstride, dst, W, E);
        if (rd.bad) return k + 1;
        prev = dst;
        if (uniform) next += lstep;
        else geom_next(&g);
    }
    st->rd = rd;
    return 0;
}

/* Reads the value table (64-bit patterns, signed ones sign-extended) into tv; *bad: the entry. */
static int read_values(const unsigned char *pl, size_t plen, size_t *pos, const mcrle_bytes_info *info,
                       uint64_t *tv, size_t *bad)
{
    uint64_t lo, hi, key = 0;
    key_range(info->kind, info->elem_size, &lo, &hi);
    for (size_t i = 0; i < info->n_values; i++) {
        uint64_t v;
        *bad = i;
        if (get_varint(pl, plen, pos, &v) != 0) return 0;
        if (i == 0) {
            key = v;
            if (info->kind == MCRLE_KIND_SIGNED) key = ((v >> 1) ^ (0 - (v & 1))) ^ KEY_FLIP;
            if (key < lo) return 0;
        } else {
            if (v >= hi - key) return 0;   /* key + v + 1 > hi */
            key += v + 1;
        }
        if (key > hi) return 0;
        tv[i] = info->kind == MCRLE_KIND_SIGNED ? key ^ KEY_FLIP : key;
    }
    return 1;
}

/*
 * The chunks of a version 2 payload, decoded by tasks (each a run of
 * consecutive chunks, with its own cache, line and run lists). A task starts
 * from where the serial check of the chunk table left its first chunk.
 */
/*
 * Copies lines [l0, l0 + nl) of the model's view from stage (nl lines of W
 * elements, one after the other) into out (g: the model's geometry over
 * out's strides, at line 0), in tiles: lines that differ only along out's
 * fastest leading axis (a "pencil") are copied together, TR of them times TJ
 * positions at a time, so that the writes move along out's memory and the
 * reads stay in a tile that fits L1, instead of one element per cache line.
 */
MCRLE_INLINE void stage_copy(const unsigned char *stage, size_t l0, size_t nl, size_t W,
                             const geom *g0, unsigned char *out, size_t E)
{
    int b = g0->n - 1;   /* the leading axis with the smallest stride in out */
    for (int a = g0->n - 1; a >= 0; a--) {
        ptrdiff_t sa = g0->step[a] < 0 ? -g0->step[a] : g0->step[a];
        ptrdiff_t sbest = g0->step[b] < 0 ? -g0->step[b] : g0->step[b];
        if (sa < sbest) b = a;
    }
    size_t db = 1;   /* lines from one index of axis b to the next */
    for (int a = b + 1; a < g0->n; a++) db *= g0->shape[a];
    const size_t nbv = g0->shape[b], TJ = 32, TR = 64 / E, l1 = l0 + nl;
    const ptrdiff_t sb = g0->step[b], ws = g0->wstride;
    const size_t rstep = db * W * E;   /* stage bytes from one line of a pencil to the next */
    for (size_t l = l0; l < l1; l++) {
        size_t ib = (l / db) % nbv;
        if (ib != 0 && l - db >= l0) continue;   /* not the first line of its pencil here */
        size_t m = (l1 - 1 - l) / db + 1;        /* the pencil's lines in the range */
        if (m > nbv - ib) m = nbv - ib;
        geom g = *g0;
        geom_seek(&g, l);
        unsigned char *d0 = out + g.offset;
        const unsigned char *s0 = stage + (l - l0) * W * E;
        for (size_t j0 = 0; j0 < W; j0 += TJ) {
            size_t jn = W - j0 < TJ ? W - j0 : TJ;
            for (size_t r0 = 0; r0 < m; r0 += TR) {
                size_t rn = m - r0 < TR ? m - r0 : TR;
                for (size_t j = j0; j < j0 + jn; j++) {
                    unsigned char *d = d0 + (ptrdiff_t)j * ws + (ptrdiff_t)r0 * sb;
                    const unsigned char *src = s0 + r0 * rstep + j * E;
                    for (size_t r = 0; r < rn; r++, d += sb, src += rstep) memcpy(d, src, E);
                }
            }
        }
    }
}

/* The model's view of a map in C order (the stage's strides). */
static void stage_strides_of(const mcrle_bytes_info *info, size_t oE, ptrdiff_t *st)
{
    ptrdiff_t c = (ptrdiff_t)oE;
    for (int a = info->ndim - 1; a >= 0; a--) {
        st[a] = c;
        c *= (ptrdiff_t)info->shape[a];
    }
}

typedef struct dec_par {
    const dstate *st;            /* the template: tables, values */
    const mcrle_bytes_info *info;
    const unsigned char *pl;
    size_t plen, W, lines, K, cache_words;
    const ptrdiff_t *strides;
    const ptrdiff_t *stage_strides;   /* the model's view in C order; NULL: no staging */
    unsigned char *out, *S;
    const dec_layout *Lo;
    size_t oE;
    unsigned n_tasks;
    size_t task_table[2 * MCRLE_MAX_THREADS + 1];   /* table position of the task's first chunk */
    size_t task_line[2 * MCRLE_MAX_THREADS + 1];    /* its first line */
    size_t task_stream[2 * MCRLE_MAX_THREADS + 1];  /* its first stream's offset in the payload */
    size_t bad_line[2 * MCRLE_MAX_THREADS];         /* first bad line + 1, or 0 */
} dec_par;

static void dec_chunks_task(void *ctx, unsigned t)
{
    dec_par *D = (dec_par *)ctx;
    unsigned char *T = D->S + D->Lo->shared + (size_t)t * D->Lo->per_task;
    size_t tp = D->task_table[t], line = D->task_line[t], at = D->task_stream[t];
    size_t c0 = D->K * t / D->n_tasks, c1 = D->K * (t + 1) / D->n_tasks;
    D->bad_line[t] = 0;
    for (size_t c = c0; c < c1; c++) {
        uint64_t nl = 0, nb = 0;   /* checked by the serial pass */
        get_varint(D->pl, D->plen, &tp, &nl);
        get_varint(D->pl, D->plen, &tp, &nb);
        dstate st = *D->st;
        st.cache = (uint32_t *)(void *)(T + D->Lo->cache);
        for (size_t i = 0; i < D->cache_words; i++) st.cache[i] = NONE;
        st.rd.p = D->pl + at;
        st.rd.end = D->pl + at + nb;
        st.rd.x = RANS_L;
        st.rd.left = 0;
        size_t bad = 0;
        unsigned char *lb = T + D->Lo->line;
        uint32_t *runs = (uint32_t *)(void *)(T + D->Lo->runs);
        const size_t ra = D->Lo->rl_a, rb = D->Lo->rl_b;
        if (D->stage_strides && (size_t)nl * D->W <= D->Lo->stage_elems) {
            /* decoded in order into the stage, then copied out in tiles (if all of it is good) */
            unsigned char *stage = T + D->Lo->stage;
            MCRLE_DISPATCH_ELEM(D->oE, bad = decode_lines(&st, D->info, D->W, 0, (size_t)nl,
                                                          D->stage_strides, stage, lb, runs, ra, rb,
                                                          E_));
            if (!bad && st.rd.x == RANS_L && st.rd.p == st.rd.end) {
                geom g;
                geom_init(&g, D->info->ndim, D->info->shape, D->strides, D->oE);
                MCRLE_DISPATCH_ELEM(D->oE, stage_copy(stage, line, (size_t)nl, D->W, &g, D->out, E_));
            }
        } else {
            MCRLE_DISPATCH_ELEM(D->oE, bad = decode_lines(&st, D->info, D->W, line, (size_t)nl,
                                                          D->strides, D->out, lb, runs, ra, rb, E_));
        }
        if (!bad && (st.rd.x != RANS_L || st.rd.p != st.rd.end)) bad = (size_t)nl;
        if (bad) { D->bad_line[t] = line + bad; return; }   /* bad - 1 of this chunk */
        line += (size_t)nl;
        at += (size_t)nb;
    }
}

static int decode_model(const unsigned char *pl, size_t plen, const mcrle_bytes_info *info,
                        mcrle_kind out_kind, size_t oE, const ptrdiff_t *strides,
                        unsigned char *out, unsigned char *S, const dec_layout *Lo,
                        int *touched, mcrle_error_info *err, unsigned n_threads)
{
    size_t n = info->n_values, W, lines;
    model_dims(info->ndim, info->shape, &W, &lines);
    /* the encoder never models such maps */
    if (W > MAX_LINE || n > MAX_VALUES) { SET_ERR(err, 0, 0); return MCRLE_BYTES_ERR_MODE; }
    size_t pos = 1, bad_entry = 0;
    uint64_t *tv = (uint64_t *)(void *)(S + Lo->tv);
    if (!read_values(pl, plen, &pos, info, tv, &bad_entry)) {
        SET_ERR(err, pos, bad_entry);
        return MCRLE_BYTES_ERR_VALUES;
    }
    /* the values as out's elements: narrowed in place (forwards), then each
     * widened back to its own word (backwards, so none is overwritten unread) */
    mcrle_error_info vinfo = {0, 0};
    mcrle_result vr = mcrle_narrow_values(tv, n, info->kind == MCRLE_KIND_SIGNED, out_kind, oE,
                                          tv, &vinfo);
    if (vr != MCRLE_OK) { SET_ERR(err, vinfo.index, vinfo.sum); return vr; }
    for (size_t i = n; i-- > 0;) tv[i] = mcrle_load((const unsigned char *)tv + i * oE, oE);
    dstate st;
    memset(&st, 0, sizeof st);
    st.tv = tv;

    bitr br = {pl, plen, pos, 0, 0};
    uint32_t *absent = NULL;
    for (unsigned t = 0; t < N_TABLES; t++) {
        uint32_t *lut = (uint32_t *)(void *)(S + Lo->luts) + (size_t)t * LUT_STRIDE;
        int r = read_table(&br, ALPHA[t], lut);
        if (!r) { SET_ERR(err, br.pos, t); return MCRLE_BYTES_ERR_TABLES; }
        if (r == 2) {   /* absent tables share one lookup table */
            if (!absent) {
                absent = lut;
                for (uint32_t i = 0; i < M_TOTAL; i++) lut[i] = LUT_ENTRY(0, i, M_TOTAL);
            }
            lut = absent;
        }
        st.luts[t] = lut;
    }
    if (br.bit) br.pos++;
    st.n = (uint32_t)n;
    st.nb_index = bitlen64(n - 1);
    size_t cache_words = 4 * (n < CACHE_SLOTS ? n : CACHE_SLOTS);
    /* out's lines not contiguous (e.g. a Fortran-coded map into a C-ordered array): stage */
    ptrdiff_t cstrides[MCRLE_MAX_NDIM];
    const ptrdiff_t *stage_strides = NULL;
    if (Lo->stage_elems) {
        stage_strides_of(info, oE, cstrides);
        stage_strides = cstrides;
    }

    if (info->version < 2) {   /* one stream of all lines, to the end of the payload */
        /*
         * Every line takes at least one operation (its first symbol), and
         * every block of BLOCK_OPS operations starts with a 4-byte state: a
         * payload with fewer coded bytes cannot hold the lines, which is
         * found here, before a line is written (a hostile object of a few
         * bytes may claim a map of 2^31 elements).
         */
        size_t coded = plen - br.pos, need = 4 * (lines / BLOCK_OPS + (lines % BLOCK_OPS != 0));
        if (coded < need) { SET_ERR(err, coded, need); return MCRLE_BYTES_ERR_SHORT; }
        st.rd.p = pl + br.pos;
        st.rd.end = pl + plen;
        st.rd.x = RANS_L;
        st.rd.left = 0;
        st.cache = (uint32_t *)(void *)(S + Lo->shared + Lo->cache);
        for (size_t i = 0; i < cache_words; i++) st.cache[i] = NONE;
        size_t bad = 0;
        unsigned char *line = S + Lo->shared + Lo->line;
        uint32_t *runs = (uint32_t *)(void *)(S + Lo->shared + Lo->runs);
        int staged = stage_strides && lines * W <= Lo->stage_elems;
        unsigned char *stage = S + Lo->shared + Lo->stage;
        /* out is zeroed after a payload error even when the stage kept it
         * untouched, so that the result of an error is the same on every path */
        *touched = 1;
        MCRLE_DISPATCH_ELEM(oE, bad = decode_lines(&st, info, W, 0, lines,
                                                   staged ? stage_strides : strides,
                                                   staged ? stage : out, line, runs,
                                                   Lo->rl_a, Lo->rl_b, E_));
        if (bad) { SET_ERR(err, bad - 1, lines); return MCRLE_BYTES_ERR_PAYLOAD; }
        if (st.rd.x != RANS_L || st.rd.p != st.rd.end) {
            SET_ERR(err, (size_t)(st.rd.p - pl), plen);
            return MCRLE_BYTES_ERR_END;
        }
        if (staged) {
            geom g;
            geom_init(&g, info->ndim, info->shape, strides, oE);
            MCRLE_DISPATCH_ELEM(oE, stage_copy(stage, 0, lines, W, &g, out, E_));
        }
        return MCRLE_OK;
    }
    /*
     * Version 2: the chunk table (K, then lines and stream bytes of each
     * chunk), checked whole before anything is decoded: K in 1..lines, every
     * chunk at least one line, the lines adding up to the map's, the streams
     * to the rest of the payload exactly.
     */
    dec_par D;
    size_t tp = br.pos;
    uint64_t K;
    if (get_varint(pl, plen, &tp, &K) != 0 || K < 1 || K > lines || K > MAX_CHUNKS_READ) {
        SET_ERR(err, br.pos, 0);
        return MCRLE_BYTES_ERR_PAYLOAD;
    }
    D.K = (size_t)K;
    D.n_tasks = task_count(D.K, n_threads);
    if (D.n_tasks > Lo->n_tasks) D.n_tasks = (unsigned)Lo->n_tasks;
    {
        uint64_t sum_lines = 0, sum_bytes = 0;
        unsigned t = 0;
        size_t q = tp;
        for (size_t c = 0; c < D.K; c++) {
            if (t < D.n_tasks && c == D.K * t / D.n_tasks) {   /* a task starts at chunk c */
                D.task_table[t] = q;
                D.task_line[t] = (size_t)sum_lines;
                D.task_stream[t] = (size_t)sum_bytes;   /* relative: fixed below */
                t++;
            }
            uint64_t nl, nb;
            size_t at = q;
            if (get_varint(pl, plen, &q, &nl) != 0 || get_varint(pl, plen, &q, &nb) != 0 ||
                nl < 1 || nl > lines - sum_lines || nb > plen) {
                SET_ERR(err, at, c);
                return MCRLE_BYTES_ERR_PAYLOAD;
            }
            sum_lines += nl;
            sum_bytes += nb;
            if (sum_bytes > plen) { SET_ERR(err, at, c); return MCRLE_BYTES_ERR_PAYLOAD; }
        }
        if (sum_lines != lines || sum_bytes != plen - q) {
            SET_ERR(err, q, sum_lines);
            return MCRLE_BYTES_ERR_PAYLOAD;
        }
        /* each chunk's stream holds its lines' block states (see version 1 above): checked
         * for all chunks before a line is written */
        size_t coded = plen - q, need = 0, tq = tp;
        for (size_t c = 0; c < D.K; c++) {
            uint64_t nl = 0, nb = 0;
            get_varint(pl, plen, &tq, &nl);
            get_varint(pl, plen, &tq, &nb);
            size_t nc = 4 * (size_t)(nl / BLOCK_OPS + (nl % BLOCK_OPS != 0));
            need += nc;
            if (nb < nc) {
                SET_ERR(err, coded, need > coded ? need : coded + 1);
                return MCRLE_BYTES_ERR_SHORT;
            }
        }
        for (unsigned u = 0; u < D.n_tasks; u++) D.task_stream[u] += q;
    }
    D.st = &st;
    D.info = info;
    D.pl = pl;
    D.plen = plen;
    D.W = W;
    D.lines = lines;
    D.cache_words = cache_words;
    D.strides = strides;
    D.stage_strides = stage_strides;
    D.out = out;
    D.S = S;
    D.Lo = Lo;
    D.oE = oE;
    *touched = 1;
    if (D.n_tasks > 1) mcrle_parallel_for(n_threads, D.n_tasks, dec_chunks_task, &D);
    else dec_chunks_task(&D, 0);
    for (unsigned t = 0; t < D.n_tasks; t++)
        if (D.bad_line[t]) {   /* the first bad chunk, as one thread would find it */
            SET_ERR(err, D.bad_line[t] - 1, lines);
            return MCRLE_BYTES_ERR_PAYLOAD;
        }
    return MCRLE_OK;
}

static int decode_raw(const unsigned char *pl, size_t plen, const mcrle_bytes_info *info,
                      mcrle_kind out_kind, size_t oE, const ptrdiff_t *strides,
                      unsigned char *out, unsigned char *S, const dec_layout *Lo,
                      int *touched, mcrle_error_info *err)
{
    size_t E = info->elem_size;
    if (plen != 1 + info->size * E) {   /* size * E < SIZE_MAX / 8 (parse_header) */
        SET_ERR(err, 1 + info->size * E, plen);
        return MCRLE_BYTES_ERR_RAW_LENGTH;
    }
    *touched = 1;
    geom g;
    geom_init(&g, info->ndim, info->shape, strides, oE);
    uint64_t *tmp = (uint64_t *)(void *)(S + Lo->shared + Lo->line);
    const unsigned char *p = pl + 1;
    int sgn = info->kind == MCRLE_KIND_SIGNED;
    for (size_t k = 0; k < g.lines; k++) {
        for (size_t j0 = 0; j0 < g.W; j0 += RAW_CHUNK) {
            size_t n = g.W - j0 < RAW_CHUNK ? g.W - j0 : RAW_CHUNK;
            for (size_t j = 0; j < n; j++) {
                uint64_t v = 0;
                for (size_t b = 0; b < E; b++) v |= (uint64_t)p[b] << (8 * b);
                p += E;
                if (info->kind == MCRLE_KIND_BOOL && v > 1) {   /* a bool map holds 0/1 only */
                    SET_ERR(err, k * g.W + j0 + j, v);
                    return MCRLE_BYTES_ERR_BOOL;
                }
                tmp[j] = sgn ? sign_extend(v, E) : v;
            }
            mcrle_error_info vinfo = {0, 0};
            /* converts in place into packed elements of oE bytes */
            mcrle_result vr = mcrle_narrow_values(tmp, n, sgn, out_kind, oE, tmp, &vinfo);
            if (vr != MCRLE_OK) {
                SET_ERR(err, k * g.W + j0 + vinfo.index, tmp[vinfo.index]);
                return vr;
            }
            unsigned char *dst = out + g.offset + (ptrdiff_t)j0 * g.wstride;
            if (g.wstride == (ptrdiff_t)oE) memcpy(dst, tmp, n * oE);
            else scatter_line(dst, g.wstride, (const unsigned char *)tmp, n, oE);
        }
        geom_next(&g);
    }
    return MCRLE_OK;
}

static void zero_out(int ndim, const size_t *shape, const ptrdiff_t *strides, unsigned char *out,
                     size_t oE)
{
    geom g;
    geom_init(&g, ndim, shape, strides, oE);
    for (size_t k = 0; k < g.lines; k++) {
        unsigned char *p = out + g.offset;
        if (g.wstride == (ptrdiff_t)oE) memset(p, 0, g.W * oE);
        else for (size_t j = 0; j < g.W; j++, p += g.wstride) memset(p, 0, oE);
        geom_next(&g);
    }
}

int mcrle_bytes_decode_mt(const void *buf, size_t len, mcrle_kind out_kind, size_t out_elem_size,
                          int ndim, const size_t *shape, const ptrdiff_t *strides, void *out,
                          void *scratch, size_t scratch_size, mcrle_error_info *err,
                          unsigned n_threads)
{
    mcrle_bytes_info info;
    int r = mcrle_bytes_parse_header(buf, len, &info, err);
    if (r != MCRLE_OK) return r;
    SAFETY_CHECK(out_kind <= MCRLE_KIND_UNSIGNED && mcrle_bytes_dtype_code(out_kind, out_elem_size) >= 0,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(ndim == info.ndim && shape != NULL, MCRLE_ERR_ARG);
    for (int a = 0; a < ndim; a++) SAFETY_CHECK(shape[a] == info.shape[a], MCRLE_ERR_ARG);
    const unsigned char *p = (const unsigned char *)buf;
    uint32_t ck = mcrle_adler32(1, p, info.header_len - 4);
    ck = mcrle_adler32(ck, p + info.header_len, info.payload_len);
    if (ck != info.checksum) { SET_ERR(err, 0, ck); return MCRLE_BYTES_ERR_CHECKSUM; }
    if (info.size == 0) return MCRLE_OK;
    SAFETY_CHECK(out != NULL && strides != NULL, MCRLE_ERR_ARG);
    dec_layout Lo;
    SAFETY_CHECK(dec_plan(&info, out_elem_size, strides, n_threads, &Lo), MCRLE_ERR_ARG);
    SAFETY_CHECK(scratch != NULL && scratch_size >= Lo.total, MCRLE_ERR_NOSPACE);
    /* the model's view: for lines along the first axis, the axes reversed */
    mcrle_bytes_info mi = info;
    ptrdiff_t mstrides[MCRLE_MAX_NDIM];
    model_view(ndim, shape, strides, info.order, mi.shape, mstrides);
    const unsigned char *pl = p + info.header_len;
    unsigned char *o = (unsigned char *)out;
    int touched = 0;   /* out written: zeroed on a later error */
    const unsigned mode = pl[0];   /* read once */
    if (mode == MODE_MODEL)
        r = decode_model(pl, info.payload_len, &mi, out_kind, out_elem_size, mstrides, o,
                         (unsigned char *)scratch, &Lo, &touched, err, n_threads);
    else if (mode == MODE_RAW)
        r = decode_raw(pl, info.payload_len, &mi, out_kind, out_elem_size, mstrides, o,
                       (unsigned char *)scratch, &Lo, &touched, err);
    else {
        SET_ERR(err, 0, mode);
        r = MCRLE_BYTES_ERR_MODE;
    }
    if (r != MCRLE_OK && touched) zero_out(ndim, shape, strides, o, out_elem_size);
    return r;
}

int mcrle_bytes_decode(const void *buf, size_t len, mcrle_kind out_kind, size_t out_elem_size,
                       int ndim, const size_t *shape, const ptrdiff_t *strides, void *out,
                       void *scratch, size_t scratch_size, mcrle_error_info *err)
{
    return mcrle_bytes_decode_mt(buf, len, out_kind, out_elem_size, ndim, shape, strides, out,
                                 scratch, scratch_size, err, 1);
}
