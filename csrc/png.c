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

/* a[0 .. n-1] == b[0 .. n-1] for n <= 8: inline (memcmp of a size known
 * only at run time is a libc call, 14% of mcrle_png_id_runs on COCO's PNGs) */
static inline int same_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
    unsigned d = 0;
    for (size_t k = 0; k < n; k++) d |= (unsigned)(a[k] ^ b[k]);
    return d == 0;
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
                if (same_bytes(out + i - bpp, prev + i - bpp, bpp)) {
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

/*
 * Unfilters row r of the filtered data (rows of a filter-type byte and
 * row_bytes bytes) into dst, below prev (NULL for the first row). 0 (with
 * info.index = r) when its filter type is not one of PNG's five.
 */
static int unfilter_at(const unsigned char *in, size_t r, size_t row_bytes, size_t bpp,
                       const unsigned char *prev, unsigned char *dst, mcrle_error_info *info)
{
    const unsigned char *src = in + r * (row_bytes + 1);
    unsigned type = src[0];   /* read once: the caller's buffer may change meanwhile */
    if (type > 4) {
        if (info) info->index = r;
        return 0;
    }
    unfilter_row(type, src + 1, prev, dst, row_bytes, bpp);
    return 1;
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
        unsigned char *dst = out + r * row_bytes;
        if (!unfilter_at(in, r, row_bytes, bpp, prev, dst, info)) return MCRLE_PNG_ERR_FILTER;
        prev = dst;
    }
    return MCRLE_OK;
}

/*
 * Segment-id runs straight from the filtered rows (see mcrle_png.h).
 *
 * Rows are unfiltered one at a time into two row buffers (the row and the
 * one above, all the filters need). Runs go down the columns (Fortran
 * order), but the rows come across them, so the pass records where each
 * column's id changes: in row 0 every column starts a run; below it only
 * the pixels whose id differs from the pixel above (label maps have few).
 * These changes, in row order, are then sorted by column (a counting sort:
 * stable, so rows stay in order within a column), a column's runs end where
 * its next change starts, and a run that continues from the bottom of one
 * column into the top of the next is merged.
 */
static inline uint32_t pixel_id(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

int mcrle_png_id_runs(const unsigned char *in, size_t in_len, size_t rows, size_t width,
                      unsigned bpp, unsigned char *work, size_t work_len,
                      size_t *col_pos, size_t col_len, uint32_t *changes, size_t changes_len,
                      uint32_t *values, uint64_t *counts, size_t runs_cap, size_t *n_runs,
                      mcrle_error_info *info)
{
    if (info) { info->index = 0; info->sum = 0; }
    SAFETY_CHECK(n_runs != NULL, MCRLE_ERR_ARG);
    *n_runs = 0;
    SAFETY_CHECK(bpp == 3 || bpp == 4, MCRLE_ERR_ARG);
    SAFETY_CHECK(rows <= UINT32_MAX && width <= UINT32_MAX && width <= SIZE_MAX / 8,
                 MCRLE_ERR_ARG);
    size_t row_bytes = width * bpp;
    size_t need = mcrle_png_filtered_size(rows, row_bytes);
    if (need != in_len) {
        if (info) info->sum = (uint64_t)in_len;
        return MCRLE_PNG_ERR_LENGTH;
    }
    if (rows == 0) return MCRLE_OK;
    SAFETY_CHECK(in != NULL, MCRLE_ERR_ARG);
    if (width == 0) {   /* no pixels, but the filter bytes are still checked */
        for (size_t r = 0; r < rows; r++) {
            if (in[r] > 4) {
                if (info) info->index = r;
                return MCRLE_PNG_ERR_FILTER;
            }
        }
        return MCRLE_OK;
    }
    SAFETY_CHECK(work != NULL && col_pos != NULL, MCRLE_ERR_ARG);
    SAFETY_CHECK(work_len / 2 >= row_bytes && col_len >= width, MCRLE_ERR_NOSPACE);
    size_t cap = changes_len / 3 < runs_cap ? changes_len / 3 : runs_cap;
    SAFETY_CHECK(cap == 0 || (changes != NULL && values != NULL && counts != NULL),
                 MCRLE_ERR_ARG);

    memset(col_pos, 0, width * sizeof *col_pos);
    unsigned char *prev = NULL, *cur = work;
    size_t n = 0;   /* changes seen (those past cap are counted, not stored) */
    for (size_t r = 0; r < rows; r++) {
        if (!unfilter_at(in, r, row_bytes, bpp, prev, cur, info)) return MCRLE_PNG_ERR_FILTER;
        for (size_t c = 0; c < width; c++) {
            size_t i = c * bpp;
            if (prev) {
                /* eight pixels at a time while they repeat the row above */
                if ((c & 7) == 0 && c + 8 <= width) {
                    if (bpp == 3 ? (load64(cur + i) == load64(prev + i) &&
                                    load64(cur + i + 8) == load64(prev + i + 8) &&
                                    load64(cur + i + 16) == load64(prev + i + 16))
                                 : (load64(cur + i) == load64(prev + i) &&
                                    load64(cur + i + 8) == load64(prev + i + 8) &&
                                    load64(cur + i + 16) == load64(prev + i + 16) &&
                                    load64(cur + i + 24) == load64(prev + i + 24))) {
                        c += 7;
                        continue;
                    }
                }
                if (cur[i] == prev[i] && cur[i + 1] == prev[i + 1] && cur[i + 2] == prev[i + 2])
                    continue;
            }
            col_pos[c]++;
            if (n < cap) {
                changes[3 * n] = (uint32_t)c;
                changes[3 * n + 1] = (uint32_t)r;
                changes[3 * n + 2] = pixel_id(cur + i);
            }
            n++;
        }
        prev = cur;
        cur = cur == work ? work + row_bytes : work;
    }
    if (n > cap) {
        if (info) info->sum = (uint64_t)n;
        return MCRLE_PNG_ERR_RUNS;
    }
    /* counting sort by column: col_pos[c] becomes the first slot of column c */
    size_t acc = 0;
    for (size_t c = 0; c < width; c++) {
        size_t k = col_pos[c];
        col_pos[c] = acc;
        acc += k;
    }
    for (size_t k = 0; k < n; k++) {
        size_t p = col_pos[changes[3 * k]]++;
        values[p] = changes[3 * k + 2];
        counts[p] = changes[3 * k + 1];    /* the run's first row, for now */
    }
    /* col_pos[c] is now the end of column c; runs in place (out <= p) */
    size_t out = 0, begin = 0;
    for (size_t c = 0; c < width; c++) {
        size_t end = col_pos[c];
        for (size_t p = begin; p < end; p++) {
            uint64_t start = counts[p];
            uint64_t stop = p + 1 < end ? counts[p + 1] : (uint64_t)rows;
            uint32_t v = values[p];
            if (out > 0 && values[out - 1] == v) {
                counts[out - 1] += stop - start;
            } else {
                values[out] = v;
                counts[out] = stop - start;
                out++;
            }
        }
        begin = end;
    }
    *n_runs = out;
    return MCRLE_OK;
}
