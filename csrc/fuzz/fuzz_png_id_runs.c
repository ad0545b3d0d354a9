/*
 * fuzz_png_id_runs.c - arbitrary bytes into mcrle_png_id_runs.
 *
 * Input: byte 0 bit 0 bpp (0: 3, RGB; 1: 4, RGBA), bit 1 no error info,
 * bit 2 a work buffer one byte short, bit 3 col_pos one short, bits 4-7 the
 * room for changes: 0 as many as pixels, else (room byte) the next byte, so
 * too little room is common; bytes 1-2 width (little-endian, modulo 300);
 * byte 3 rows (255: as many as the data holds, so the length matches); the
 * rest is the inflated data (filter byte + row, per row), in a buffer of
 * exactly its size.
 * Checks against a reference written from the PNG specification (unfilter
 * the whole image, ids R + 256 G + 65536 B, naive Fortran-order runs): the
 * result (LENGTH, NOSPACE, FILTER with the first bad row, RUNS with the
 * number of changes, which is then enough room), and on success the runs
 * equal to the reference's, no run written past n_runs counted.
 */
#include "fuzz_common.h"
#include "mcrle_png.h"
#include "../tests/png_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    unsigned bpp = 3u + (b0 & 1u);
    int no_info = (b0 >> 1) & 1, short_work = (b0 >> 2) & 1, short_col = (b0 >> 3) & 1;
    size_t room = (b0 >> 4) ? (size_t)fz_u8(&in) : SIZE_MAX;
    size_t width = (size_t)fz_bytes(&in, 2) % 300, rb = width * bpp;
    unsigned rows_byte = fz_u8(&in);
    size_t len = in.n;
    size_t rows = rows_byte == 255 ? len / (rb + 1) : rows_byte;
    if (room == SIZE_MAX) room = rows * width;
    unsigned char *src = (unsigned char *)fz_malloc(len);
    memcpy(src, in.p, len);

    /* the reference: unfilter everything, then count changes and make runs */
    int want = MCRLE_OK;
    size_t bad_row = 0, npix = rows * width, changes = 0, want_n = 0;
    unsigned char *img = (unsigned char *)fz_malloc(rows * rb + 1);
    uint32_t *want_v = (uint32_t *)fz_malloc(npix * 4 + 4);
    uint64_t *want_c = (uint64_t *)fz_malloc(npix * 8 + 8);
    if (len != rows * (rb + 1)) want = MCRLE_PNG_ERR_LENGTH;
    else if (npix && (short_work || short_col)) want = MCRLE_ERR_NOSPACE;
    else {
        if (ref_unfilter(src, rows, rb, bpp, img, &bad_row)) want = MCRLE_PNG_ERR_FILTER;
        if (want == MCRLE_OK) {
            for (size_t c = 0; c < width; c++)
                for (size_t r = 0; r < rows; r++) {
                    const unsigned char *p = img + (r * width + c) * bpp;
                    uint32_t id = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
                    changes += r == 0 || memcmp(p, p - width * bpp, 3) != 0;
                    if (want_n && want_v[want_n - 1] == id) want_c[want_n - 1]++;
                    else { want_v[want_n] = id; want_c[want_n] = 1; want_n++; }
                }
            if (changes > room) want = MCRLE_PNG_ERR_RUNS;
        }
    }

    size_t work_len = 2 * rb - (short_work && rb ? 1 : 0);
    size_t col_len = width - (short_col && width ? 1 : 0);
    unsigned char *work = (unsigned char *)fz_malloc(work_len + 1);
    size_t *col = (size_t *)fz_malloc(col_len * sizeof *col + 1);
    uint32_t *ch = (uint32_t *)fz_malloc(3 * room * 4 + 4);
    uint32_t *v = (uint32_t *)fz_malloc(room * 4 + 4);
    uint64_t *cn = (uint64_t *)fz_malloc(room * 8 + 8);
    size_t n = 99;
    mcrle_error_info info = {99, 99};
    int got = mcrle_png_id_runs(len ? src : NULL, len, rows, width, bpp, work, work_len, col,
                                col_len, ch, 3 * room, v, cn, room, &n, no_info ? NULL : &info);
    FZ_ASSERT(got == want);
    if (!no_info) {
        FZ_ASSERT(info.index == (want == MCRLE_PNG_ERR_FILTER ? bad_row : 0));
        FZ_ASSERT(info.sum == (want == MCRLE_PNG_ERR_LENGTH ? (uint64_t)len
                               : want == MCRLE_PNG_ERR_RUNS ? (uint64_t)changes : 0));
    }
    if (want == MCRLE_OK) {
        FZ_ASSERT(n == want_n);
        FZ_ASSERT(n == 0 || (memcmp(v, want_v, n * 4) == 0 && memcmp(cn, want_c, n * 8) == 0));
    } else {
        FZ_ASSERT(n == 0);
    }
    free(cn);
    free(v);
    free(ch);
    free(col);
    free(work);
    free(want_c);
    free(want_v);
    free(img);
    free(src);
    return 0;
}
