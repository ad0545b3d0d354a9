/*
 * fuzz_bytes_ref.h - small reference pieces for the bytes-form harnesses,
 * written from docs/format.md section 4 (not from bytesform.c): Adler-32,
 * LEB128 varints, dtype codes, value ranges, sign extension.
 */
#ifndef MCRLE_FUZZ_BYTES_REF_H
#define MCRLE_FUZZ_BYTES_REF_H

#include "fuzz_common.h"
#include "mcrle_bytes.h"

static inline uint32_t ref_adler32(const unsigned char *p, size_t n, uint32_t start)
{
    uint32_t a = start & 0xffff, b = start >> 16;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

/* LEB128, at most 10 bytes, below 2^64. 0 ok, 1 input ends, 2 too long / too big. */
static inline int ref_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*pos >= len) return 1;
        unsigned c = p[(*pos)++];
        if (i == 9 && c > 1) return 2;   /* bits above 63, or an 11th byte */
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) { *v = x; return 0; }
    }
    return 2;
}

static inline size_t ref_put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        p[n++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static inline void ref_dtype(unsigned code, mcrle_kind *kind, size_t *E)
{
    static const size_t ES[9] = {1, 1, 1, 2, 2, 4, 4, 8, 8};
    *E = ES[code];
    *kind = code == 0 ? MCRLE_KIND_BOOL : (code % 2 == 1 ? MCRLE_KIND_UNSIGNED : MCRLE_KIND_SIGNED);
}

/* Does the 64-bit number u (signed if sgn) fit elements of (kind, E)? */
static inline int ref_fits(uint64_t u, int sgn, mcrle_kind kind, size_t E)
{
    unsigned bits = (unsigned)(8 * E);
    uint64_t umax = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    uint64_t smax = ((uint64_t)1 << (bits - 1)) - 1;   /* as a non-negative number */
    if (kind == MCRLE_KIND_BOOL) umax = smax = 1;
    if (sgn && (u >> 63)) {   /* negative */
        if (kind != MCRLE_KIND_SIGNED) return 0;
        return (~u) <= smax;   /* -x - 1 <= smax, i.e. x >= -2^(bits-1) */
    }
    return u <= (kind == MCRLE_KIND_SIGNED ? smax : umax);
}

static inline uint64_t ref_sext(uint64_t v, size_t E)
{
    if (E == 8) return v;
    uint64_t top = (uint64_t)1 << (8 * E - 1);
    v &= (top << 1) - 1;
    return (v & top) ? v | ~((top << 1) - 1) : v;
}

static inline int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Orders 64-bit patterns as signed numbers. */
static inline int cmp_i64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a ^ ((uint64_t)1 << 63), y = *(const uint64_t *)b ^ ((uint64_t)1 << 63);
    return x < y ? -1 : x > y;
}

#endif /* MCRLE_FUZZ_BYTES_REF_H */
