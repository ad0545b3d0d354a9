/*
 * mcrle_png.h - PNG scanline unfiltering (plain C99, no Python).
 *
 * The command-line tool reads folders of label PNGs. Label maps are 8- or
 * 16-bit greyscale or 8-bit palette images; for those a PNG is zlib data
 * (inflated by the caller, e.g. Python's zlib module) holding one filter-type
 * byte and row_bytes filtered bytes per row (PNG specification, section 9).
 * This kernel undoes the filters; it is the part of PNG decoding that a
 * generic image library does in a slower, more general way.
 *
 * Same conventions as mcrle.h: caller-provided buffers with sizes, an
 * mcrle_result, every byte of the untrusted input checked before use.
 */
#ifndef MCRLE_PNG_H
#define MCRLE_PNG_H

#include "mcrle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Results of the PNG kernel, beside those of mcrle_result. */
enum {
    MCRLE_PNG_ERR_FILTER = 40,   /* a row's filter type is above 4 (info.index: the row) */
    MCRLE_PNG_ERR_LENGTH = 41    /* in_len is not rows * (row_bytes + 1) (info.sum: in_len) */
};

/* Inflated bytes a non-interlaced image needs: rows * (row_bytes + 1), or SIZE_MAX on overflow. */
size_t mcrle_png_filtered_size(size_t rows, size_t row_bytes);

/*
 * Unfilters rows of row_bytes bytes each (bpp: bytes per pixel, 1..8, the
 * distance of the "left" byte) from `in` (in_len bytes: per row a filter type
 * 0-4, then the row) into `out` (rows * row_bytes bytes, no gaps).
 * MCRLE_ERR_ARG for bpp outside 1..8 or NULL buffers, MCRLE_ERR_NOSPACE if
 * out_len is short, MCRLE_PNG_ERR_LENGTH, MCRLE_PNG_ERR_FILTER. On error the
 * rows before the bad one are written, the rest of `out` is untouched.
 */
int mcrle_png_unfilter(const unsigned char *in, size_t in_len, size_t rows, size_t row_bytes,
                       unsigned bpp, unsigned char *out, size_t out_len,
                       mcrle_error_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MCRLE_PNG_H */
