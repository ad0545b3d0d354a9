/*
 * png.c - PNG scanline unfiltering (see mcrle_png.h).
 *
 * Filter types (PNG specification 9.2), for byte x of a row with a = the byte
 * bpp to the left (0 before the row start), b = the byte above (0 in the
 * first row), c = the byte above a:
 *   0 None  x;  1 Sub  x + a;  2 Up  x + b;  3 Average  x + (a + b) / 2;
 *   4 Paeth  x + whichever of a, b, c is closest to a + b - c (ties: a, b, c).
 * All sums are modulo 256. Up is independent per byte (the compiler
 * vectorises it); Sub, Average and Paeth carry a dependency along the row.
 */
#include <string.h>

#include "internal.h"
#include "mcrle_png.h"

size_t mcrle_png_filtered_size(size_t rows, size_t row_bytes)
{
    if (row_bytes == SIZE_MAX || (rows != 0 && row_bytes + 1 > SIZE_MAX / rows)) return SIZE_MAX;
    return rows * (row_bytes + 1);
}

static inline unsigned paeth(unsigned a, unsigned b, unsigned c)
{
    int pa = (int)b - (int)c, pb = (int)a - (int)c, pc = pa + pb;
    pa = pa < 0 ? -pa : pa;
    pb = pb < 0 ? -pb : pb;
    pc = pc < 0 ? -pc : pc;
    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

/*
 * Label maps have long stretches where the filtered bytes are 0 (the filter
 * predicted the pixel exactly). Two cases there skip the serial Paeth/Sub
 * arithmetic for a block of BLOCK bytes with x all 0 (checked with word loads):
 *   - Paeth, when the row so far equals the row above at the bpp bytes before
 *     the block (a == c): then pa = |b - c| = |b - a|, pb = 0 and pc = pa, so
 *     the predictor picks b (or a, equal to b), every byte of the block is the
 *     byte above and a == c still holds after it: copy the row above.
 *   - Paeth with the row above constant over the block and the byte before
 *     it (b == c, pa = 0 picks a), and Sub: every byte repeats the one bpp
 *     before; for bpp 1 that is a memset.
 */
#define BLOCK 16

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline int zero_block(const unsigned char *p)
{
    return (load64(p) | load64(p + 8)) == 0;
}

/* p[-1 .. BLOCK-1] all equal */
static inline int flat_block(const unsigned char *p)
{
    uint64_t f = 0x0101010101010101u * p[-1];
    return (load64(p) ^ f) == 0 && (load64(p + 8) ^ f) == 0;
}

/* One row; prev is NULL for the first row (all bytes above are 0). */
static void unfilter_row(unsigned type, const unsigned char *restrict x,
                         const unsigned char *restrict prev, unsigned char *restrict out,
                         size_t n, size_t bpp)
{
    size_t i;
    switch (type) {
    case 0:
        memcpy(out, x, n);
        break;
    case 1:
        for (i = 0; i < n && i < bpp; i++) out[i] = x[i];
        while (i < n) {
            if (bpp == 1 && i + BLOCK <= n && zero_block(x + i)) {
                memset(out + i, out[i - 1], BLOCK);
                i += BLOCK;
                continue;
            }
            size_t e = i + BLOCK < n ? i + BLOCK : n;
            for (; i < e; i++) out[i] = (unsigned char)(x[i] + out[i - bpp]);
        }
        break;
    case 2:
        if (!prev) { memcpy(out, x, n); break; }
        for (i = 0; i < n; i++) out[i] = (unsigned char)(x[i] + prev[i]);
        break;
    case 3:
        if (!prev) {
            for (i = 0; i < n && i < bpp; i++) out[i] = x[i];
            for (; i < n; i++) out[i] = (unsigned char)(x[i] + (out[i - bpp] >> 1));
            break;
        }
        for (i = 0; i < n && i < bpp; i++) out[i] = (unsigned char)(x[i] + (prev[i] >> 1));
        for (; i < n; i++)
            out[i] = (unsigned char)(x[i] + ((unsigned)out[i - bpp] + prev[i]) / 2);
        break;
    default:   /* 4: Paeth; in the first row it is Sub (b = c = 0 picks a) */
        if (!prev) {
            for (i = 0; i < n && i < bpp; i++) out[i] = x[i];
            for (; i < n; i++) out[i] = (unsigned char)(x[i] + out[i - bpp]);
            break;
        }
        for (i = 0; i < n && i < bpp; i++) out[i] = (unsigned char)(x[i] + prev[i]);
        while (i < n) {
            if (i + BLOCK <= n && zero_block(x + i)) {
                if (memcmp(out + i - bpp, prev + i - bpp, bpp) == 0) {
                    memcpy(out + i, prev + i, BLOCK);
                    i += BLOCK;
                    continue;
                }
                if (bpp == 1 && flat_block(prev + i)) {
                    memset(out + i, out[i - 1], BLOCK);
                    i += BLOCK;
                    continue;
                }
            }
            size_t e = i + BLOCK < n ? i + BLOCK : n;
            for (; i < e; i++)
                out[i] = (unsigned char)(x[i] + paeth(out[i - bpp], prev[i], prev[i - bpp]));
        }
        break;
    }
}

int mcrle_png_unfilter(const unsigned char *in, size_t in_len, size_t rows, size_t row_bytes,
                       unsigned bpp, unsigned char *out, size_t out_len,
                       mcrle_error_info *info)
{
    if (info) { info->index = 0; info->sum = 0; }
    SAFETY_CHECK(bpp >= 1 && bpp <= 8, MCRLE_ERR_ARG);
    size_t need = mcrle_png_filtered_size(rows, row_bytes);
    if (need != in_len) {
        if (info) info->sum = (uint64_t)in_len;
        return MCRLE_PNG_ERR_LENGTH;
    }
    SAFETY_CHECK(out_len >= rows * row_bytes, MCRLE_ERR_NOSPACE);   /* no overflow: need fits */
    SAFETY_CHECK(rows == 0 || (in != NULL && out != NULL), MCRLE_ERR_ARG);
    const unsigned char *prev = NULL;
    for (size_t r = 0; r < rows; r++) {
        const unsigned char *src = in + r * (row_bytes + 1);
        unsigned type = src[0];
        if (type > 4) {
            if (info) info->index = r;
            return MCRLE_PNG_ERR_FILTER;
        }
        unsigned char *dst = out + r * row_bytes;
        unfilter_row(type, src + 1, prev, dst, row_bytes, bpp);
        prev = dst;
    }
    return MCRLE_OK;
}
