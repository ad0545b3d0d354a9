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
    MCRLE_PNG_ERR_LENGTH = 41,   /* in_len is not rows * (row_bytes + 1) (info.sum: in_len) */
    MCRLE_PNG_ERR_RUNS = 42      /* more changes than room for them (info.sum: how many) */
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

/*
 * The segment ids of an 8-bit RGB (bpp 3) or RGBA (bpp 4) image, id = R +
 * 256 G + 65536 B (alpha ignored), as runs in Fortran order (down the
 * columns, as the mcrle codec stores them), without ever holding the image:
 * the panoptic evaluation of COCO PNGs needs the runs only.
 *
 * in, in_len: the inflated data, rows * (width * bpp + 1) bytes (a filter
 * type 0-4 and the filtered row, per row). work: two rows (2 * width * bpp
 * bytes); col_pos: width size_t. changes: 3 uint32 per change (a column's
 * id differing from the pixel above it, or row 0), values and counts:
 * runs_cap each; a map has at most as many runs as changes, so both hold
 * min(changes_len / 3, runs_cap) of them. rows and width are at most
 * UINT32_MAX. On success *n_runs runs are in values/counts: positive
 * counts summing to rows * width, no two neighbours of equal value.
 *
 * Results: MCRLE_ERR_ARG (bpp not 3 or 4, sizes above UINT32_MAX, NULL
 * buffers), MCRLE_PNG_ERR_LENGTH, MCRLE_PNG_ERR_FILTER (info.index: the
 * row), MCRLE_ERR_NOSPACE (work or col_pos short), MCRLE_PNG_ERR_RUNS (more
 * changes than the buffers hold; info.sum: the number, so a second call
 * with that room succeeds). On error *n_runs is 0 and the outputs hold no
 * result.
 */
int mcrle_png_id_runs(const unsigned char *in, size_t in_len, size_t rows, size_t width,
                      unsigned bpp, unsigned char *work, size_t work_len,
                      size_t *col_pos, size_t col_len, uint32_t *changes, size_t changes_len,
                      uint32_t *values, uint64_t *counts, size_t runs_cap, size_t *n_runs,
                      mcrle_error_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MCRLE_PNG_H */
