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

#define MAX_GROUPS 13   /* ceil(64 / 5) groups hold any 64-bit number */

size_t mcrle_string_bound(size_t n)
{
    return n > SIZE_MAX / MAX_GROUPS ? SIZE_MAX : n * MAX_GROUPS;
}

mcrle_result mcrle_string_encode(const uint64_t *numbers, size_t n, size_t delta_from,
                                 char *out, size_t capacity, size_t *out_len)
{
    SAFETY_CHECK(out_len != NULL && (n == 0 || (numbers != NULL && out != NULL)),
                 MCRLE_ERR_ARG);
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = numbers[i];
        if (i >= delta_from && i >= 2) u -= numbers[i - 2];
        int64_t x = (int64_t)u;
        int more = 1;
        while (more) {
            int c = (int)(x & 0x1f);
            /* arithmetic shift, written so that it does not depend on the compiler */
            x = x < 0 ? ~(~x >> 5) : x >> 5;
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            SAFETY_CHECK(p < capacity, MCRLE_ERR_NOSPACE);
            out[p++] = (char)(c + 48);
        }
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

mcrle_result mcrle_string_decode(const char *s, size_t len, size_t delta_from,
                                 uint64_t *numbers, size_t capacity, size_t *n_out,
                                 mcrle_error_info *info)
{
    SAFETY_CHECK(n_out != NULL && (len == 0 || s != NULL), MCRLE_ERR_ARG);
    size_t p = 0, m = 0;
    *n_out = 0;
    if (delta_from < 2) delta_from = 2;
    /*
     * The numbers two and one places back stay in registers: reloading them
     * from memory would put a store-to-load forwarding delay on every number.
     */
    uint64_t back2 = 0, back1 = 0;
    while (p < len) {
        uint64_t x;
        /* Most numbers (small counts, differences, label values) are one
         * character: a group without the continuation bit. */
        unsigned c = (unsigned)(unsigned char)s[p] - 48u;
        if (MCRLE_LIKELY(c < 32)) {
            x = (c & 0x10) ? (uint64_t)c - 32u : (uint64_t)c;   /* sign-extend 5 bits */
            p++;
        } else {
            mcrle_result r = decode_long(s, len, &p, &x, info);
            if (r != MCRLE_OK) return r;
        }
        if (MCRLE_UNLIKELY(m >= capacity || numbers == NULL)) {
            if (info) { info->index = p; info->sum = m; }
            return MCRLE_ERR_NOSPACE;
        }
        if (m >= delta_from) x += back2;
        numbers[m++] = x;
        back2 = back1;
        back1 = x;
    }
    *n_out = m;
    return MCRLE_OK;
}
