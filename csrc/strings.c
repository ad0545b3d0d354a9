/*
 * strings.c - COCO's compressed RLE string code, for 64-bit numbers.
 *
 * pycocotools (maskApi.c, rleToString/rleFrString) writes each number as
 * 5-bit groups, least significant first, in the characters '0'..'o' (48 +
 * group, + 32 when more groups follow); the last group's bit 4 carries the
 * sign. From the fourth count on, each count is stored as the difference to
 * the count two places back. pycocotools holds counts as 32-bit and parses
 * without bounds; here numbers are 64-bit, differences wrap modulo 2^64, and
 * every character read is checked.
 */
#include "internal.h"
#include "mcrle_threads.h"

#define MAX_GROUPS 13   /* ceil(64 / 5) groups hold any 64-bit number */

size_t mcrle_string_bound(size_t n)
{
    return n > SIZE_MAX / MAX_GROUPS ? SIZE_MAX : n * MAX_GROUPS;
}

/* Writes one number (the slow path: any length) at out[*p]; 0 if out is full. */
static int encode_long(int64_t x, char *out, size_t capacity, size_t *p)
{
    int more = 1;
    while (more) {
        int c = (int)(x & 0x1f);
        /* arithmetic shift, written so that it does not depend on the compiler */
        x = x < 0 ? ~(~x >> 5) : x >> 5;
        more = (c & 0x10) ? x != -1 : x != 0;
        if (more) c |= 0x20;
        if (*p >= capacity) return 0;
        out[(*p)++] = (char)(c + 48);
    }
    return 1;
}

/* The low n (4 or 8) bytes of x at p, least significant first: one store on little-endian CPUs. */
MCRLE_INLINE void store_le(char *p, uint64_t x, size_t n)
{
    if (MCRLE_LITTLE_ENDIAN) {
        if (n == 4) { uint32_t y = (uint32_t)x; memcpy(p, &y, 4); }
        else memcpy(p, &x, 8);
    } else {
        for (size_t b = 0; b < n; b++) p[b] = (char)(x >> (8 * b));
    }
}

MCRLE_INLINE unsigned clz64(uint64_t x)   /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_clzll(x);
#else
    unsigned n = 0;
    while (!(x >> 63)) { x <<= 1; n++; }
    return n;
#endif
}

/* One or two characters of u (in -512..511) as the 2 bytes of a store; *two: 1 if two. */
MCRLE_INLINE uint64_t short_chars(uint64_t u, uint64_t *two)
{
    *two = u + 16 >= 32;   /* outside -16..15 */
    uint64_t x = (u & 31) | ((u & 0x3e0) << 3);   /* the two groups, one per byte */
    return x + 0x3030u + (*two << 5);   /* '0' to both; the continuation bit to the first */
}

MCRLE_INLINE void store2(char *p, uint64_t x)
{
    if (MCRLE_LITTLE_ENDIAN) {
        uint16_t w = (uint16_t)x;
        memcpy(p, &w, 2);
    } else {
        p[0] = (char)x;
        p[1] = (char)(x >> 8);
    }
}

/* Characters of u as a signed number: its bits, sign bit included, in groups of 5. */
MCRLE_INLINE unsigned number_chars(uint64_t u)
{
    uint64_t mag = u ^ (0 - (u >> 63));   /* u, or ~u when negative */
    /* | 1: 0 and -1 take one character like 1 (and no branch on them) */
    return (65 - clz64(mag | 1) + 4) / 5;
}

/*
 * The characters of u (chars <= 8 of them: |u| < 2^39, large ids) as the 8
 * bytes of one store, with no branch on their number: the 5-bit groups spread
 * into bytes, '0' added to all, the continuation bit to all but the last; the
 * bytes past the number are overwritten by the next one.
 */
MCRLE_INLINE uint64_t eight_chars(uint64_t u, unsigned chars)
{
    uint64_t x = u & 0xffffffffffu;   /* the low 40 bits: 8 groups */
    x = (x & 0xfffffu) | ((x & 0xffffff00000u) << 12);
    x = (x & 0x000003ff000003ffu) | ((x & 0x000ffc00000ffc00u) << 6);
    x = (x & 0x001f001f001f001fu) | ((x & 0x03e003e003e003e0u) << 3);
    return x + 0x3030303030303030u +
           (0x2020202020202020u & (((uint64_t)1 << (8 * (chars - 1))) - 1));
}

/*
 * Writes u (a number or a difference, as a signed 64-bit value) at out[*p];
 * 0 if out is full.
 */
MCRLE_INLINE int put_number(uint64_t u, char *out, size_t capacity, size_t *pp)
{
    size_t p = *pp;   /* <= capacity */
    /*
     * Most counts and label differences take one or two characters
     * (-512..511): both are written with one 2-byte store, and a
     * one-character number's second byte is overwritten by the next number
     * (or lies past the end), so that a mix of the two, as counts have it,
     * costs no branch on it.
     */
    if (MCRLE_LIKELY(u + 512 < 1024 && capacity - p >= 2)) {
        uint64_t two;
        store2(out + p, short_chars(u, &two));
        *pp = p + 1 + two;
        return 1;
    }
    if (u + 16 < 32 && p < capacity) {   /* one character in the last byte of out */
        out[p] = (char)((u & 31) + 48);
        *pp = p + 1;
        return 1;
    }
    /* longer: up to 8 characters with one store (eight_chars) */
    unsigned chars = number_chars(u);
    if (MCRLE_LIKELY(chars <= 8 && capacity - p >= 8)) {
        store_le(out + p, eight_chars(u, chars), 8);
        *pp = p + chars;
        return 1;
    }
    return encode_long((int64_t)u, out, capacity, pp);
}

#if defined(MCRLE_AVX2_DISPATCH)
/*
 * Groups of 4 differences (numbers[i..] minus the numbers two back: back2,
 * back1, then their own) of up to 8 characters each, written with AVX2 while
 * they last: the 4 differences in the lanes of a vector, their lengths from
 * 7 compares (thresholds 2^4, 2^9, .. 2^34 of their magnitudes), their
 * characters as in eight_chars (the continuation bits by a shift per lane),
 * then 4 stores of 8 bytes. Each number is read once (one vector load).
 * Stops at a group with a longer number, at one of numbers of 1-2 characters
 * only (the scalar code writes those faster), before the last 3 numbers, or
 * with fewer than 32 bytes of room; returns the index reached (back2, back1
 * and *pp follow it).
 */
__attribute__((target("avx2"))) static size_t eight_char_groups_avx2(const uint64_t *numbers,
                                                                   size_t i, size_t n,
                                                                   uint64_t *back2, uint64_t *back1,
                                                                   char *out, size_t capacity,
                                                                   size_t *pp)
{
    size_t p = *pp;
    __m256i carry = _mm256_set_epi64x(0, 0, (long long)*back1, (long long)*back2);
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi64x(1);
    const __m256i limit = _mm256_set1_epi64x(((long long)1 << 39) - 1);   /* 8 characters */
    for (; i + 4 <= n && capacity - p >= 32; i += 4) {
        __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(numbers + i));
        /* the numbers two back: back2, back1, c0, c1 */
        __m256i prev = _mm256_blend_epi32(_mm256_permute4x64_epi64(c, 0x40), carry, 0x0f);
        __m256i u = _mm256_sub_epi64(c, prev);
        __m256i mag = _mm256_xor_si256(u, _mm256_cmpgt_epi64(zero, u));   /* u, or ~u if negative */
        if (_mm256_movemask_epi8(_mm256_cmpgt_epi64(mag, limit))) break;
        __m256i two_plus = _mm256_cmpgt_epi64(mag, _mm256_set1_epi64x(511));
        if (!_mm256_movemask_epi8(two_plus)) break;   /* all of 1-2: the scalar tier is faster */
        __m256i chars = _mm256_sub_epi64(one, two_plus);
        for (int k = 1; k <= 7; k++)
            if (k != 2)
            chars = _mm256_sub_epi64(chars, _mm256_cmpgt_epi64(
                mag, _mm256_set1_epi64x(((long long)1 << (5 * k - 1)) - 1)));
        __m256i x = _mm256_and_si256(u, _mm256_set1_epi64x(0xffffffffffLL));
        x = _mm256_or_si256(_mm256_and_si256(x, _mm256_set1_epi64x(0xfffffLL)),
                            _mm256_slli_epi64(_mm256_and_si256(x, _mm256_set1_epi64x(0xffffff00000LL)), 12));
        x = _mm256_or_si256(_mm256_and_si256(x, _mm256_set1_epi64x(0x000003ff000003ffLL)),
                            _mm256_slli_epi64(_mm256_and_si256(x, _mm256_set1_epi64x(0x000ffc00000ffc00LL)), 6));
        x = _mm256_or_si256(_mm256_and_si256(x, _mm256_set1_epi64x(0x001f001f001f001fLL)),
                            _mm256_slli_epi64(_mm256_and_si256(x, _mm256_set1_epi64x(0x03e003e003e003e0LL)), 3));
        __m256i cont = _mm256_sub_epi64(_mm256_sllv_epi64(one, _mm256_slli_epi64(_mm256_sub_epi64(chars, one), 3)), one);
        x = _mm256_add_epi64(x, _mm256_add_epi64(_mm256_set1_epi64x(0x3030303030303030LL),
                                                 _mm256_and_si256(cont, _mm256_set1_epi64x(0x2020202020202020LL))));
        uint64_t w[4], len[4];
        _mm256_storeu_si256((__m256i *)(void *)w, x);
        _mm256_storeu_si256((__m256i *)(void *)len, chars);
        for (int j = 0; j < 4; j++) {
            store_le(out + p, w[j], 8);
            p += (size_t)len[j];
        }
        carry = _mm256_permute4x64_epi64(c, 0xee);   /* c2, c3: two back of the next 4 */
    }
    uint64_t two[4];
    _mm256_storeu_si256((__m256i *)(void *)two, carry);
    *back2 = two[0];
    *back1 = two[1];
    *pp = p;
    return i;
}
#endif

mcrle_result mcrle_string_encode(const uint64_t *numbers, size_t n, size_t delta_from,
                                 char *out, size_t capacity, size_t *out_len)
{
    SAFETY_CHECK(out_len != NULL && (n == 0 || (numbers != NULL && out != NULL)),
                 MCRLE_ERR_ARG);
    size_t p = 0;
    /* the numbers before the first difference (index 2 at the earliest), then the rest:
     * two loops, so that the one that runs has no test of the index */
    size_t first = delta_from < 2 ? 2 : delta_from;
    if (first > n) first = n;
    /* each number is read once: the ones two places back are kept here, so
     * that a buffer another thread writes into cannot give a difference to a
     * number other than the one written two numbers before */
    uint64_t back1 = 0, back2 = 0;
    for (size_t i = 0; i < first; i++) {
        uint64_t cur = numbers[i];
        SAFETY_CHECK(put_number(cur, out, capacity, &p), MCRLE_ERR_NOSPACE);
        back2 = back1;
        back1 = cur;
    }
    size_t i = first;
    for (; i + 4 <= n; i += 4) {
        uint64_t c0 = numbers[i], c1 = numbers[i + 1], c2 = numbers[i + 2], c3 = numbers[i + 3];
        uint64_t u0 = c0 - back2, u1 = c1 - back1, u2 = c2 - c0, u3 = c3 - c1;
        back2 = c2;
        back1 = c3;
        if (MCRLE_LIKELY(((u0 + 16) | (u1 + 16) | (u2 + 16) | (u3 + 16)) < 32 &&
                         capacity - p >= 4)) {
            /* four one-character numbers (a values string is mostly those): one store */
            uint64_t x = (u0 & 31) | (u1 & 31) << 8 | (u2 & 31) << 16 | (u3 & 31) << 24;
            store_le(out + p, x + 0x30303030u, 4);
            p += 4;
            continue;
        }
        if (MCRLE_LIKELY(((u0 + 512) | (u1 + 512) | (u2 + 512) | (u3 + 512)) < 1024 &&
                         capacity - p >= 8)) {
            /* four of one or two characters (most counts): no branch on their lengths */
            uint64_t t0, t1, t2, t3;
            uint64_t x0 = short_chars(u0, &t0), x1 = short_chars(u1, &t1);
            uint64_t x2 = short_chars(u2, &t2), x3 = short_chars(u3, &t3);
            store2(out + p, x0);
            p += 1 + t0;
            store2(out + p, x1);
            p += 1 + t1;
            store2(out + p, x2);
            p += 1 + t2;
            store2(out + p, x3);
            p += 1 + t3;
            continue;
        }
        unsigned n0 = number_chars(u0), n1 = number_chars(u1);
        unsigned n2 = number_chars(u2), n3 = number_chars(u3);
        if (MCRLE_LIKELY(((n0 <= 8) & (n1 <= 8) & (n2 <= 8) & (n3 <= 8)) && capacity - p >= 32)) {
            /* four of up to 8 characters (label ids' differences: a values string of
               panoptic ids mixes 5 characters and 1), no branch on their lengths (one
               per number took twice as long on strings the predictor had not seen) */
            store_le(out + p, eight_chars(u0, n0), 8);
            p += n0;
            store_le(out + p, eight_chars(u1, n1), 8);
            p += n1;
            store_le(out + p, eight_chars(u2, n2), 8);
            p += n2;
            store_le(out + p, eight_chars(u3, n3), 8);
            p += n3;
#if defined(MCRLE_AVX2_DISPATCH)
            /* the groups after it, while they are long too (a test here, not in the
               loop: one per group made the strings of short numbers 10% slower) */
            if (mcrle_use_avx2()) {
                /* copies: a local whose address is taken stays in memory in the whole loop */
                uint64_t b2 = back2, b1 = back1;
                size_t q = p;
                i = eight_char_groups_avx2(numbers, i + 4, n, &b2, &b1, out, capacity, &q) - 4;
                back2 = b2;
                back1 = b1;
                p = q;
            }
#endif
            continue;
        }
        SAFETY_CHECK(put_number(u0, out, capacity, &p), MCRLE_ERR_NOSPACE);
        SAFETY_CHECK(put_number(u1, out, capacity, &p), MCRLE_ERR_NOSPACE);
        SAFETY_CHECK(put_number(u2, out, capacity, &p), MCRLE_ERR_NOSPACE);
        SAFETY_CHECK(put_number(u3, out, capacity, &p), MCRLE_ERR_NOSPACE);
    }
    for (; i < n; i++) {   /* the last up to 3 */
        uint64_t cur = numbers[i];
        SAFETY_CHECK(put_number(cur - back2, out, capacity, &p), MCRLE_ERR_NOSPACE);
        back2 = back1;
        back1 = cur;
    }
    *out_len = p;
    return MCRLE_OK;
}

/* Parses one number of 2+ characters at s[*p]; the slow path of the decoder. */
static mcrle_result decode_long(const char *s, size_t len, size_t *p, uint64_t *out,
                                mcrle_error_info *info)
{
    uint64_t x = 0;
    unsigned k = 0;
    int more = 1;
    size_t number_start = *p, q = *p;
    while (more) {
        if (MCRLE_UNLIKELY(q >= len)) {
            if (info) { info->index = len; info->sum = number_start; }
            return MCRLE_ERR_TRUNCATED;
        }
        unsigned c = (unsigned char)s[q];
        if (MCRLE_UNLIKELY(c < 48 || c > 48 + 63)) {
            if (info) { info->index = q; info->sum = c; }
            return MCRLE_ERR_BAD_CHAR;
        }
        c -= 48;
        if (MCRLE_UNLIKELY(k == MAX_GROUPS)) {
            if (info) { info->index = number_start; info->sum = 0; }
            return MCRLE_ERR_NUMBER_TOO_LONG;
        }
        x |= (uint64_t)(c & 0x1f) << (5 * k);   /* k <= 12: shift <= 60 */
        more = (c & 0x20) != 0;
        q++;
        k++;
        if (!more && (c & 0x10) && 5 * k < 64) x |= ~(uint64_t)0 << (5 * k);
    }
    *p = q;
    *out = x;
    return MCRLE_OK;
}

/*
 * Bits of the 64 characters at s: the return value has bit i set when s[i]
 * is a character of the code ('0'..'o'), *term when it ends a number
 * ('0'..'O': no continuation bit).
 */
#if MCRLE_SSE2
MCRLE_INLINE uint64_t classify64(const unsigned char *s, uint64_t *term)
{
    const __m128i lo = _mm_set1_epi8(47), end = _mm_set1_epi8(80), top = _mm_set1_epi8(112);
    uint64_t t = 0, v = 0;
    for (int i = 0; i < 4; i++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
        __m128i ge = _mm_cmpgt_epi8(x, lo);   /* signed: bytes >= 0x80 are below */
        t |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_and_si128(ge, _mm_cmplt_epi8(x, end)))
             << (16 * i);
        v |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_and_si128(ge, _mm_cmplt_epi8(x, top)))
             << (16 * i);
    }
    *term = t;
    return v;
}
#else
MCRLE_INLINE uint64_t classify64(const unsigned char *s, uint64_t *term)
{
    uint64_t t = 0, v = 0;
    for (unsigned i = 0; i < 64; i++) {
        unsigned c = (unsigned)s[i] - 48u;
        t |= (uint64_t)(c < 32) << i;
        v |= (uint64_t)(c < 64) << i;
    }
    *term = t;
    return v;
}
#endif

/*
 * A number of 1..8 good characters at c (8 readable bytes), little-endian
 * machines only: the 8 bytes, '0' taken from each (a byte past the number
 * that borrows changes only the bytes above it), the 5-bit groups gathered
 * (eight_chars backwards), cut to the number's groups and sign-extended from
 * its top bit. No branch and no loop on its length.
 */
MCRLE_INLINE uint64_t gathered_number(const unsigned char *c, uint64_t chars)
{
    uint64_t w;
    memcpy(&w, c, 8);
    w = (w - 0x3030303030303030u) & 0x1f1f1f1f1f1f1f1fu;
    w = (w & 0x001f001f001f001fu) | ((w & 0x1f001f001f001f00u) >> 3);
    w = (w & 0x000003ff000003ffu) | ((w & 0x03ff000003ff0000u) >> 6);
    w = (w & 0xfffffu) | ((w & 0x000fffff00000000u) >> 12);
    uint64_t top = (uint64_t)1 << (5u * chars - 1u);
    w &= (top << 1) - 1;
    return (w ^ top) - top;
}

/*
 * One number of 1..13 good characters at blk[a..e] (e: the one that ends it),
 * as read: a difference is not yet added to the number two back. blk holds 8
 * readable bytes from a.
 */
MCRLE_INLINE uint64_t block_number(const unsigned char *blk, size_t a, size_t e)
{
    uint64_t chars = (uint64_t)(e - a) + 1;
    uint64_t t = (uint64_t)blk[e] - 48u;
    t = (t ^ 16u) - 16u;   /* the last character's 5 bits are the top ones, signed */
    if (MCRLE_LIKELY(chars <= 2)) {
        /* one or two (most counts): a first character adds its 5 bits below the last's */
        uint64_t two = chars - 1, c0 = (uint64_t)blk[a] - 48u;
        return (t << (5u * two)) + (c0 & 31u & (0 - two));
    }
    if (MCRLE_LITTLE_ENDIAN && chars <= 8) return gathered_number(blk + a, chars);   /* 3..8 */
    /* the groups below, then the last one's signed bits on top (past bit 63
       they drop, as in decode_long) */
    unsigned sh = 0;
    uint64_t x = 0;
    for (size_t i = a; i < e; i++, sh += 5) x |= (((uint64_t)blk[i] - 48u) & 31u) << sh;
    return x | t << sh;
}

/* Adds to each of the n differences at d the number two back: they become numbers. */
MCRLE_INLINE void add_two_back(uint64_t *d, size_t n, uint64_t *back2, uint64_t *back1)
{
    uint64_t b2 = *back2, b1 = *back1;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = d[i] + b2;
        d[i] = x;
        b2 = b1;
        b1 = x;
    }
    *back2 = b2;
    *back1 = b1;
}

/* How many numbers end in a block (bits of term). */
MCRLE_INLINE unsigned block_ends(uint64_t term)
{
#if MCRLE_GNU
    return (unsigned)__builtin_popcountll(term);
#else
    unsigned n = 0;
    for (; term; term &= term - 1) n++;
    return n;
#endif
}

#if defined(MCRLE_AVX2_DISPATCH)
#include "string_table.h"

/*
 * add_two_back, 8 numbers a turn: within 4 lanes, each adds the one two
 * before it (a lane shift); the upper 4 add the lower 4's last two; all add
 * the two numbers before the 8 (carry: back2, back1, back2, back1), and the
 * carry grows by the 8's own last two, so that one add is all that links a
 * turn to the next.
 */
__attribute__((target("avx2"))) static void add_two_back_avx2(uint64_t *d, size_t n,
                                                              uint64_t *back2, uint64_t *back1)
{
    __m256i carry = _mm256_set_epi64x((long long)*back1, (long long)*back2, (long long)*back1,
                                      (long long)*back2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(d + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(d + i + 4));
        a = _mm256_add_epi64(a, _mm256_permute2x128_si256(a, a, 0x08));   /* 0, 0, a0, a1 */
        b = _mm256_add_epi64(b, _mm256_permute2x128_si256(b, b, 0x08));
        b = _mm256_add_epi64(b, _mm256_permute4x64_epi64(a, 0xee));        /* a2, a3, a2, a3 */
        _mm256_storeu_si256((__m256i *)(void *)(d + i), _mm256_add_epi64(a, carry));
        _mm256_storeu_si256((__m256i *)(void *)(d + i + 4), _mm256_add_epi64(b, carry));
        carry = _mm256_add_epi64(carry, _mm256_permute4x64_epi64(b, 0xee));
    }
    uint64_t two[4];
    _mm256_storeu_si256((__m256i *)(void *)two, carry);
    *back2 = two[0];
    *back1 = two[1];
    add_two_back(d + i, n - i, back2, back1);
}

/*
 * The densest block: 64 numbers of one character (differences of -16..15)
 * from blk into o, each plus the number two back, 16 at a time: signed 5
 * bits in 16-bit lanes, the sums of each parity up to each lane (shifts by 2
 * and 4 lanes in each half, then the lower half's last two into the upper;
 * at most 8 values of 16 add up: no overflow), widened to 64 bits and added
 * to the carry as in add_two_back_avx2.
 */
__attribute__((target("avx2"))) static void dense_block_avx2(const unsigned char *blk, uint64_t *o,
                                                             uint64_t *back2, uint64_t *back1)
{
    const __m128i c48 = _mm_set1_epi8(48), c16 = _mm_set1_epi8(16);
    __m256i carry = _mm256_set_epi64x((long long)*back1, (long long)*back2, (long long)*back1,
                                      (long long)*back2);
    for (int g = 0; g < 4; g++) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(blk + 16 * g));
        c = _mm_sub_epi8(_mm_xor_si128(_mm_sub_epi8(c, c48), c16), c16);   /* signed 5 bits */
        __m256i x = _mm256_cvtepi8_epi16(c);
        x = _mm256_add_epi16(x, _mm256_slli_si256(x, 4));
        x = _mm256_add_epi16(x, _mm256_slli_si256(x, 8));
        x = _mm256_add_epi16(x, _mm256_shuffle_epi32(_mm256_permute2x128_si256(x, x, 0x08), 0xff));
        __m128i lo = _mm256_castsi256_si128(x), hi = _mm256_extracti128_si256(x, 1);
        __m256i w3 = _mm256_cvtepi16_epi64(_mm_srli_si128(hi, 8));
        _mm256_storeu_si256((__m256i *)(void *)(o + 16 * g),
                            _mm256_add_epi64(_mm256_cvtepi16_epi64(lo), carry));
        _mm256_storeu_si256((__m256i *)(void *)(o + 16 * g + 4),
                            _mm256_add_epi64(_mm256_cvtepi16_epi64(_mm_srli_si128(lo, 8)), carry));
        _mm256_storeu_si256((__m256i *)(void *)(o + 16 * g + 8),
                            _mm256_add_epi64(_mm256_cvtepi16_epi64(hi), carry));
        _mm256_storeu_si256((__m256i *)(void *)(o + 16 * g + 12), _mm256_add_epi64(w3, carry));
        carry = _mm256_add_epi64(carry, _mm256_permute4x64_epi64(w3, 0xee));
    }
    uint64_t two[4];
    _mm256_storeu_si256((__m256i *)(void *)two, carry);
    *back2 = two[0];
    *back1 = two[1];
}

/*
 * The loop of block_numbers_avx2 for blocks where fewer than 24 numbers end,
 * with GATHER reading a number of 1..8 characters (see there).
 */
#define GATHER_NUMBERS(GATHER)                                                 \
    do {                                                                       \
        uint64_t rest = term;                                                  \
        while (rest && o != o_end) {                                           \
            size_t e = mcrle_ctz64(rest);                                      \
            rest &= rest - 1;                                                  \
            if (MCRLE_UNLIKELY(e - at >= 8)) {                                 \
                if (e - at >= 13) { *too_long = 1; break; }                    \
                *o++ = block_number(blk, at, e);                               \
            } else {                                                           \
                *o++ = GATHER(blk + at, e - at + 1);                           \
            }                                                                  \
            at = e + 1;                                                        \
        }                                                                      \
    } while (0)

int mcrle_pext_off = 0;

/*
 * gathered_number with pext: one instruction packs the 5 low bits of the 8
 * characters (C bench, Zen 4, the values strings of the COCO panoptic maps,
 * 5-character ids: 3.2 -> 2.5 ns a number, 14.9 -> 11.6 us a map; the other
 * groups' strings, of 1- and 2-character numbers, take the shuffles and do
 * not change).
 */
__attribute__((always_inline, target("avx2,bmi2"))) static inline uint64_t
gathered_number_pext(const unsigned char *c, uint64_t chars)
{
    uint64_t w;
    memcpy(&w, c, 8);
    w = _pext_u64(w - 0x3030303030303030u, 0x1f1f1f1f1f1f1f1fu);
    uint64_t top = (uint64_t)1 << (5u * chars - 1u);
    w &= (top << 1) - 1;
    return (w ^ top) - top;
}

/* GATHER_NUMBERS with pext (where mcrle_use_pext); *off, o and the rest as block_numbers_avx2. */
__attribute__((target("avx2,bmi2"))) static uint64_t *gather_numbers_pext(const unsigned char *blk,
                                                                         uint64_t term, size_t *off,
                                                                         uint64_t *o, uint64_t *o_end,
                                                                         int *too_long)
{
    size_t at = *off;
    GATHER_NUMBERS(gathered_number_pext);
    *off = at;
    return o;
}

/*
 * The numbers of a block (blk: 64 characters, then 16 readable bytes; term:
 * the ends of numbers, all characters good up to the last) from blk[*off] on,
 * as they are read (differences not yet added to the numbers two back), into
 * o up to o_end. Runs of numbers of one or two characters are read 8
 * characters at a time: the pattern of ends among the 8 picks two shuffles
 * (string_table.h) that put each number's last and first characters into
 * 16-bit lanes; value = last's signed 5 bits, times 32 when there is a first,
 * plus the first's 5 bits; 8 lanes stored, the ones past the numbers
 * overwritten next. Longer numbers, runs that go on past the 8, and the last
 * numbers when fewer than 8 fit are read one by one. Stops after the block's
 * last end, past its 56th character when 8 more numbers fit (the next block
 * starts there, the shuffles' loads staying within blk), with o_end
 * reached, or at a number of 14 or more characters (*too_long set). Returns
 * the end of the numbers written; *off is past them.
 */
__attribute__((target("avx2"))) static uint64_t *block_numbers_avx2(const unsigned char *blk,
                                                                   uint64_t term, size_t *off,
                                                                   uint64_t *o, uint64_t *o_end,
                                                                   int *too_long, int pext)
{
    const __m128i c48 = _mm_set1_epi8(48), c31 = _mm_set1_epi16(31), one = _mm_set1_epi16(1);
    size_t at = *off;
    if (MCRLE_LITTLE_ENDIAN && block_ends(term) < 24) {
        /*
         * Fewer than 24 numbers end in the block (more than 2.6 characters
         * each: label ids, mostly of several characters): no shuffles, each
         * number gathered, with no branch on its length (a values string of
         * panoptic ids mixes 5 characters and 1: a branch on it, or on
         * whether the shuffles apply, mispredicts at every change).
         */
        if (pext) return gather_numbers_pext(blk, term, off, o, o_end, too_long);
        GATHER_NUMBERS(gathered_number);
        *off = at;
        return o;
    }
    for (;;) {
        while (at <= 56 && o_end - o >= 8) {
            const struct short_shuffle *sh = &short_table[(term >> at) & 0xff];
            if (!sh->count) break;
            __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(blk + at)), c48);
            __m128i last = _mm_shuffle_epi8(x, _mm_loadu_si128((const __m128i *)(const void *)sh->last));
            __m128i first = _mm_shuffle_epi8(x, _mm_loadu_si128((const __m128i *)(const void *)sh->first));
            last = _mm_srai_epi16(_mm_slli_epi16(last, 11), 11);   /* signed 5 bits */
            /* a first character has the continuation bit (32), a missing one is 0 */
            __m128i times = _mm_add_epi16(_mm_and_si128(_mm_cmpgt_epi16(first, _mm_setzero_si128()), c31), one);
            __m128i v = _mm_add_epi16(_mm_mullo_epi16(last, times), _mm_and_si128(first, c31));
            _mm256_storeu_si256((__m256i *)(void *)o, _mm256_cvtepi16_epi64(v));
            _mm256_storeu_si256((__m256i *)(void *)(o + 4), _mm256_cvtepi16_epi64(_mm_srli_si128(v, 8)));
            o += sh->count;
            at += sh->used;
        }
        uint64_t rest = at < 64 ? term >> at : 0;
        if (!rest || o == o_end || (at > 56 && o_end - o >= 8)) break;
        size_t e = at + mcrle_ctz64(rest);
        if (MCRLE_UNLIKELY(e - at >= 13)) { *too_long = 1; break; }
        /* the short ones mostly came above: here no branch between 1..8 characters
           (a values string of panoptic ids mixes 5 and 1) */
        *o++ = e - at < 8 ? gathered_number(blk + at, e - at + 1) : block_number(blk, at, e);
        at = e + 1;
    }
    *off = at;
    return o;
}
#endif

void mcrle_str_reader_init(mcrle_str_reader *r, const char *s, size_t len, size_t delta_from)
{
    r->s = s;
    r->len = s ? len : 0;
    r->p = 0;
    r->m = 0;
    r->delta_from = delta_from < 2 ? 2 : delta_from;
    r->back1 = r->back2 = 0;
}

mcrle_result mcrle_str_read(mcrle_str_reader *rd, uint64_t *numbers, size_t cap, size_t *n_out,
                            mcrle_error_info *info)
{
    const unsigned char *s = (const unsigned char *)rd->s;
    const size_t len = rd->len, df = rd->delta_from;
    size_t p = rd->p, m = rd->m, k = 0;
    /*
     * The numbers two and one places back stay in registers: reloading them
     * from memory would put a store-to-load forwarding delay on every number.
     */
    uint64_t back2 = rd->back2, back1 = rd->back1;
    mcrle_result r = MCRLE_OK;
#if defined(MCRLE_AVX2_DISPATCH)
    const int avx2 = mcrle_use_avx2(), pext = avx2 && mcrle_use_pext();
#endif
    while (k < cap && p < len) {
        if (len - p > 64) {
            /*
             * Fast path: the ends of the numbers in the next 64 characters
             * are the set bits of one mask (up to the first bad character),
             * so most numbers (one or two characters) are read without a
             * data-dependent branch. Longer ones, and anything unusual, take
             * the checked scalar code below, which also makes every error.
             * The block is copied first and everything below reads the copy:
             * the caller's buffer may be written by another thread meanwhile,
             * and the ends found must be those of the characters parsed.
             */
            unsigned char blk[80];   /* 16 more bytes: block_number and the shuffles read on */
            memcpy(blk, s + p, 64);
            memset(blk + 64, 0, 16);
            uint64_t term, bad = ~classify64(blk, &term);
            if (MCRLE_LIKELY(term == ~(uint64_t)0) && m >= df) {
                /*
                 * Densest: 64 numbers of one character each (the values
                 * string of a label map, where most differences two back
                 * are small, is nearly all of them): no ends to find, one
                 * add per number.
                 */
                size_t n = cap - k < 64 ? cap - k : 64;
#if defined(MCRLE_AVX2_DISPATCH)
                if (avx2 && n == 64) {
                    dense_block_avx2(blk, numbers + k, &back2, &back1);
                    p += 64;
                    k += 64;
                    m += 64;
                    continue;
                }
#endif
                for (size_t i = 0; i < n; i++) {
                    uint64_t x = (((uint64_t)blk[i] - 48u) ^ 16u) - 16u;   /* signed 5 bits */
                    x += back2;
                    numbers[k + i] = x;
                    back2 = back1;
                    back1 = x;
                }
                p += n;
                k += n;
                m += n;
                continue;
            }
            if (bad) term &= (bad & (0 - bad)) - 1;   /* ends before the first bad character */
#if defined(MCRLE_AVX2_DISPATCH)
            if (avx2 && term && m >= df) {
                /*
                 * Each number here is a difference: read as they are
                 * (block_numbers_avx2), then each gets the number two back
                 * added. The next block starts after the last number read.
                 */
                size_t off = 0;
                int too_long = 0;
                uint64_t *o0 = numbers + k;
                uint64_t *o = block_numbers_avx2(blk, term, &off, o0, numbers + cap, &too_long,
                                                 pext);
                add_two_back_avx2(o0, (size_t)(o - o0), &back2, &back1);
                p += off;
                m += (size_t)(o - o0);
                k = (size_t)(o - numbers);
                if (MCRLE_UNLIKELY(too_long)) goto one;   /* the code below says which error */
                continue;
            }
#endif
            if (term && m >= df) {
                /* each number here is a difference; stop when out of room.
                 * pl is p in a register: p's address goes to decode_long,
                 * which kept it in memory, a store and a reload per number */
                const size_t q = p;
                size_t pl = p;
                uint64_t *o = numbers + k, *const o_end = numbers + cap;
                do {
                    size_t e = q + mcrle_ctz64(term);
                    term &= term - 1;
                    uint64_t x;
                    if (MCRLE_LIKELY(e - pl < 2)) {
                        /* one or two characters (as block_number; here without its
                           lengths' tests, 14% faster on counts) */
                        uint64_t two = (uint64_t)(e - pl);
                        uint64_t t = (uint64_t)blk[e - q] - 48u, c0 = (uint64_t)blk[pl - q] - 48u;
                        t = (t ^ 16u) - 16u;   /* sign-extend 5 bits */
                        x = (t << (5u * two)) + (c0 & 31u & (0 - two));
                        pl = e + 1;
                    } else if (e - pl < 13) {   /* all good characters, in the block */
                        x = block_number(blk, pl - q, e - q);
                        pl = e + 1;
                    } else {   /* 14 or more: decode_long says which error */
                        p = pl;
                        r = decode_long(rd->s, len, &p, &x, info);
                        pl = p;
                        if (r != MCRLE_OK) {
                            m += (size_t)(o - numbers) - k;
                            k = (size_t)(o - numbers);
                            goto out;
                        }
                    }
                    x += back2;
                    *o++ = x;
                    back2 = back1;
                    back1 = x;
                } while (term && o < o_end);
                p = pl;
                m += (size_t)(o - numbers) - k;
                k = (size_t)(o - numbers);
                continue;
            }
        }
#if defined(MCRLE_AVX2_DISPATCH)
    one:;
#endif
        uint64_t x;
        /* Most numbers (small counts, differences, label values) are one
         * character: a group without the continuation bit. */
        unsigned c = (unsigned)s[p] - 48u;
        if (MCRLE_LIKELY(c < 32)) {
            x = (c & 0x10) ? (uint64_t)c - 32u : (uint64_t)c;   /* sign-extend 5 bits */
            p++;
        } else {
            r = decode_long(rd->s, len, &p, &x, info);
            if (r != MCRLE_OK) goto out;
        }
        if (m >= df) x += back2;
        numbers[k++] = x;
        m++;
        back2 = back1;
        back1 = x;
    }
out:
    rd->p = p;
    rd->m = m;
    rd->back1 = back1;
    rd->back2 = back2;
    *n_out = k;
    return r;
}

mcrle_result mcrle_string_decode(const char *s, size_t len, size_t delta_from,
                                 uint64_t *numbers, size_t capacity, size_t *n_out,
                                 mcrle_error_info *info)
{
    SAFETY_CHECK(n_out != NULL && (len == 0 || s != NULL), MCRLE_ERR_ARG);
    mcrle_str_reader rd;
    size_t n = 0;
    *n_out = 0;
    mcrle_str_reader_init(&rd, s, len, delta_from);
    mcrle_result r = mcrle_str_read(&rd, numbers, numbers ? capacity : 0, &n, info);
    if (r != MCRLE_OK) return r;
    if (rd.p < len) {
        /* out of room: the next number is still parsed first (its errors win) */
        uint64_t x;
        size_t one = 0;
        r = mcrle_str_read(&rd, &x, 1, &one, info);
        if (r != MCRLE_OK) return r;
        if (info) { info->index = rd.p; info->sum = rd.m - 1; }
        return MCRLE_ERR_NOSPACE;
    }
    *n_out = n;
    return MCRLE_OK;
}

MCRLE_INLINE unsigned popcount64(uint64_t x)
{
#if MCRLE_GNU
    return (unsigned)__builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

size_t mcrle_string_count(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0, i = 0;
    if (!s) return 0;
    for (; len - i >= 64; i += 64) {
        uint64_t term;
        (void)classify64(u + i, &term);
        n += popcount64(term);
    }
    for (; i < len; i++) n += (unsigned)(u[i] - 48u) < 32u;
    return n;
}

/* ---- several threads ------------------------------------------------------------ */

/*
 * A long string decoded in chunks of characters, three passes: 1. each
 * chunk counts the numbers that end in it (characters '0'..'O'); then their
 * places are fixed; 2. each chunk parses its numbers (from the character
 * after the last end before it), as differences, and adds up each parity's
 * differences from its own start; 3. each chunk adds what the chunks before
 * it carry (x[i] = d[i] + x[i - 2]: two interleaved prefix sums). Anything
 * unusual (a bad character, a number too long, a string ending inside a
 * number, no room, chunks too short) goes back to the one-thread decoder,
 * which reports exactly what one thread would.
 */
#ifdef MCRLE_STR_MIN_CHUNK   /* the fuzzers' builds: chunks in short strings */
#define STR_MIN_CHUNK ((size_t)(MCRLE_STR_MIN_CHUNK))
#else
#define STR_MIN_CHUNK ((size_t)65536)   /* characters: below, one thread */
#endif

typedef struct str_par {
    const char *s;
    size_t len, delta_from, chunks;
    uint64_t *numbers;
    size_t base[MCRLE_MAX_BANDS + 1], count[MCRLE_MAX_BANDS];
    uint64_t last[MCRLE_MAX_BANDS][2], carry[MCRLE_MAX_BANDS][2];
    int bad[MCRLE_MAX_BANDS];
} str_par;

MCRLE_INLINE size_t chunk_char(const str_par *t, size_t c) { return t->len * c / t->chunks; }

static void str_count(void *ctx, unsigned c)
{
    str_par *t = (str_par *)ctx;
    size_t a = chunk_char(t, c), b = chunk_char(t, c + 1);
    t->count[c] = mcrle_string_count(t->s + a, b - a);
}

static void str_parse(void *ctx, unsigned c)
{
    str_par *t = (str_par *)ctx;
    size_t a = chunk_char(t, c), b = chunk_char(t, c + 1), n = t->count[c];
    const unsigned char *u = (const unsigned char *)t->s;
    /* the chunk's numbers start after the last end of a number before a */
    size_t start = a;
    while (start > 0 && (unsigned)(u[start - 1] - 48u) >= 32u && start > a - 14) start--;
    if (start > 0 && (unsigned)(u[start - 1] - 48u) >= 32u) { t->bad[c] = 1; return; }
    size_t end = b;   /* just past the chunk's last end of a number */
    while (end > start && (unsigned)(u[end - 1] - 48u) >= 32u) end--;
    mcrle_str_reader rd;
    size_t got = 0;
    uint64_t *d = t->numbers + t->base[c];
    /* the first chunk as one thread would read it; the others add up each parity's
       differences from their own start (every index there is past delta_from) */
    mcrle_str_reader_init(&rd, t->s + start, end - start, c == 0 ? t->delta_from : 2);
    t->bad[c] = n && (mcrle_str_read(&rd, d, n, &got, NULL) != MCRLE_OK || got != n ||
                      rd.p != end - start);
    if (t->bad[c]) return;
    size_t i0 = t->base[c];
    t->last[c][0] = t->last[c][1] = 0;
    if (n >= 1) t->last[c][(i0 + n - 1) & 1] = d[n - 1];
    if (n >= 2) t->last[c][(i0 + n - 2) & 1] = d[n - 2];
}

static void str_carry(void *ctx, unsigned c)
{
    str_par *t = (str_par *)ctx;
    if (c == 0) return;   /* read as one thread would: nothing to carry */
    uint64_t *restrict d = t->numbers + t->base[c];
    size_t n = t->count[c], odd = t->base[c] & 1;
    /* the carries in the order of d's first two numbers, added pair by pair: a
       vectorised loop (indexing them by parity was not, and took two thirds of the
       time of the parsing pass) */
    const uint64_t c0 = t->carry[c][odd], c1 = t->carry[c][odd ^ 1];
    size_t k = 0;
    for (; k + 2 <= n; k += 2) {
        d[k] += c0;
        d[k + 1] += c1;
    }
    if (k < n) d[k] += c0;
}

mcrle_result mcrle_string_decode_mt(const char *s, size_t len, size_t delta_from,
                                    uint64_t *numbers, size_t capacity, size_t *n_out,
                                    mcrle_error_info *info, unsigned n_threads)
{
    size_t chunks = n_threads > 1 ? 2 * (size_t)n_threads : 1;
    if (chunks > MCRLE_MAX_BANDS) chunks = MCRLE_MAX_BANDS;
    if (chunks > len / STR_MIN_CHUNK) chunks = len / STR_MIN_CHUNK;
    if (chunks < 2 || !s || !numbers || !n_out || delta_from < 2)
        return mcrle_string_decode(s, len, delta_from, numbers, capacity, n_out, info);
    str_par t;
    t.s = s;
    t.len = len;
    t.delta_from = delta_from;
    t.chunks = chunks;
    t.numbers = numbers;
    mcrle_parallel_for(n_threads, (unsigned)chunks, str_count, &t);
    size_t total = 0;
    for (size_t c = 0; c < chunks; c++) { t.base[c] = total; total += t.count[c]; }
    t.base[chunks] = total;
    /* room, and every chunk past the first starting where differences apply */
    int ok = total <= capacity && (len == 0 || (unsigned)((unsigned char)s[len - 1] - 48u) < 32u);
    for (size_t c = 1; c < chunks && ok; c++) ok = t.base[c] >= delta_from && t.count[c] >= 2;
    if (ok) {
        mcrle_parallel_for(n_threads, (unsigned)chunks, str_parse, &t);
        for (size_t c = 0; c < chunks && ok; c++) ok = !t.bad[c];
    }
    if (!ok) return mcrle_string_decode(s, len, delta_from, numbers, capacity, n_out, info);
    /* each parity's running total at the end of every chunk, carried into the next */
    uint64_t run[2] = {0, 0};
    for (size_t c = 0; c < chunks; c++) {
        t.carry[c][0] = c ? run[0] : 0;
        t.carry[c][1] = c ? run[1] : 0;
        size_t n = t.count[c], i0 = t.base[c];
        for (int p = 0; p < 2; p++) {
            /* the chunk's last number of parity p, if it has one */
            int has = (n >= 1 && ((i0 + n - 1) & 1) == (size_t)p) || (n >= 2 && ((i0 + n - 2) & 1) == (size_t)p);
            if (has) run[p] = t.last[c][p] + t.carry[c][p];
        }
    }
    mcrle_parallel_for(n_threads, (unsigned)chunks, str_carry, &t);
    *n_out = total;
    return MCRLE_OK;
}
