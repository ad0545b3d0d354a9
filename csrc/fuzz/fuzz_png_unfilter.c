/*
 * fuzz_png_unfilter.c - arbitrary bytes into mcrle_png_unfilter.
 *
 * Input: byte 0 bits 0-2 bpp - 1 (1..8), bit 3 an output one byte short,
 * bit 4 no error info; bytes 1-2 row_bytes (little-endian, modulo 1024);
 * byte 3 rows (0..255; 255: as many as the data holds, so the length
 * matches); the rest is the inflated data (filter byte + row, per row),
 * in a buffer of exactly its size.
 * Checks against a reference written from the PNG specification: the result
 * (LENGTH when the data is not rows * (row_bytes + 1) bytes, NOSPACE for the
 * short output, FILTER at the first row whose type is above 4, with that row
 * in the error info), the rows before a bad one equal to the reference and
 * nothing after them written; on success every byte equal to the reference.
 */
#include "fuzz_common.h"
#include "mcrle_png.h"
#include "../tests/png_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in);
    unsigned bpp = 1u + (b0 & 7u);
    int short_out = (b0 >> 3) & 1, no_info = (b0 >> 4) & 1;
    size_t rb = (size_t)fz_bytes(&in, 2) % 1024;
    unsigned rows_byte = fz_u8(&in);
    size_t len = in.n;
    size_t rows = rows_byte == 255 ? len / (rb + 1) : rows_byte;
    unsigned char *src = (unsigned char *)fz_malloc(len);
    memcpy(src, in.p, len);

    size_t out_len = rows * rb - (short_out && rows * rb != 0 ? 1 : 0);
    unsigned char *out = (unsigned char *)fz_malloc(out_len + 1);
    memset(out, 0xC5, out_len + 1);
    unsigned char *ref = (unsigned char *)fz_malloc(rows * rb + 1);

    /* the reference result */
    int want = MCRLE_OK;
    size_t bad_row = 0;
    if (len != rows * (rb + 1)) want = MCRLE_PNG_ERR_LENGTH;
    else if (out_len < rows * rb) want = MCRLE_ERR_NOSPACE;
    else {
        if (ref_unfilter(src, rows, rb, bpp, ref, &bad_row)) want = MCRLE_PNG_ERR_FILTER;
    }

    mcrle_error_info info = {99, 99};
    int got = mcrle_png_unfilter(len ? src : NULL, len, rows, rb, bpp, out, out_len,
                                 no_info ? NULL : &info);
    FZ_ASSERT(got == want);
    if (!no_info) {
        FZ_ASSERT(info.index == (want == MCRLE_PNG_ERR_FILTER ? bad_row : 0));
        FZ_ASSERT(info.sum == (want == MCRLE_PNG_ERR_LENGTH ? (uint64_t)len : 0));
    }
    size_t written = want == MCRLE_OK ? rows * rb : want == MCRLE_PNG_ERR_FILTER ? bad_row * rb : 0;
    FZ_ASSERT(written == 0 || memcmp(out, ref, written) == 0);
    for (size_t i = written; i <= out_len; i++) FZ_ASSERT(out[i] == 0xC5);
    free(ref);
    free(out);
    free(src);
    return 0;
}
