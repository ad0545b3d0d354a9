/*
 * mcrle_bytes.h - the compact binary ("bytes") form of a label map (plain C99).
 *
 * One object = a self-delimiting header (magic "MCRL", format version,
 * dtype code, ndim, shape, number of distinct values, payload length and an
 * Adler-32 checksum) followed by the payload. Objects can be concatenated:
 * mcrle_bytes_parse_header() gives each one's total length. The format is
 * specified in docs/format.md, section 4.
 *
 * The payload models a label map line by line (lines run along the last
 * axis of length > 1, in C order): each line is the line before with a few
 * segments overwritten, and each segment is coded relative to the edges of
 * the line (where a boundary moved, which is most of them), its value
 * predicted from a neighbour or coded as an index into a per-map value
 * table; the symbols are entropy-coded with static per-map rANS tables.
 * Maps that do not compress are stored raw.
 *
 * Conventions are those of mcrle.h: the caller provides every buffer with
 * its size (the *_bound() and *_scratch_size() functions give the sizes),
 * every read of the untrusted input is bounds-checked, and no function keeps
 * global state. Results are mcrle_result codes or the codes below.
 */
#ifndef MCRLE_BYTES_H
#define MCRLE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include "mcrle.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCRLE_BYTES_MAGIC "MCRL"
/* The format version written by default, and the newest read (every older one is read too). */
#define MCRLE_BYTES_VERSION 2
/* Version 2 header flags: the lines run along the first axis (the map coded in Fortran order). */
#define MCRLE_BYTES_FLAG_FORTRAN 1
/* Longest possible header: 8 fixed bytes, 10 per varint, 4 checksum bytes. */
#define MCRLE_BYTES_HEADER_MAX (8 + 10 * (MCRLE_MAX_NDIM + 2) + 4)

/*
 * Results of the bytes-form functions, besides MCRLE_OK, MCRLE_ERR_ARG,
 * MCRLE_ERR_NOSPACE and MCRLE_ERR_VALUE_RANGE of mcrle_result. The numbers
 * do not collide with mcrle_result's. err->index / err->sum say more.
 */
typedef enum mcrle_bytes_result {
    MCRLE_BYTES_ERR_MAGIC = 20,     /* input does not start with "MCRL" (index: offset of the object) */
    MCRLE_BYTES_ERR_VERSION = 21,   /* unknown format version (sum: the version) */
    MCRLE_BYTES_ERR_TRUNCATED = 22, /* input ends early (index: bytes available, sum: bytes needed) */
    MCRLE_BYTES_ERR_HEADER = 23,    /* a header field is invalid (index: its offset, sum: its value) */
    MCRLE_BYTES_ERR_CHECKSUM = 24,  /* checksum mismatch (sum: the checksum computed) */
    /* the payload is inconsistent; each code names where (csrc/bytesform.c, docs/format.md 4): */
    MCRLE_BYTES_ERR_PAYLOAD = 25,   /* a modelled line (index: the line, sum: the number of lines) */
    MCRLE_BYTES_ERR_MODE = 26,      /* unknown payload mode byte (sum: the byte) */
    MCRLE_BYTES_ERR_VALUES = 27,    /* the value table (index: payload offset, sum: the entry) */
    MCRLE_BYTES_ERR_TABLES = 28,    /* a frequency table (index: payload offset, sum: the table) */
    MCRLE_BYTES_ERR_SHORT = 29,     /* too few coded bytes for the lines (index: bytes there,
                                       sum: the fewest the lines need) */
    MCRLE_BYTES_ERR_END = 30,       /* the coded lines end before the payload does, or not in the
                                       rANS start state (index: payload offset reached, sum:
                                       payload length) */
    MCRLE_BYTES_ERR_RAW_LENGTH = 31,/* raw payload of the wrong length (index: the length the
                                       map needs, sum: the length there) */
    MCRLE_BYTES_ERR_BOOL = 32       /* raw bool payload: a byte not 0/1 (index: the element in
                                       C order, sum: the byte) */
} mcrle_bytes_result;

/* Is r one of the payload errors (after which out is all zeros)? */
#define MCRLE_BYTES_PAYLOAD_ERROR(r) \
    ((r) == MCRLE_ERR_VALUE_RANGE || ((r) >= MCRLE_BYTES_ERR_PAYLOAD && (r) <= MCRLE_BYTES_ERR_BOOL))

/* dtype codes of the header: the numpy dtypes a label map may have. */
typedef enum mcrle_bytes_dtype {
    MCRLE_BYTES_BOOL = 0, MCRLE_BYTES_UINT8 = 1, MCRLE_BYTES_INT8 = 2,
    MCRLE_BYTES_UINT16 = 3, MCRLE_BYTES_INT16 = 4, MCRLE_BYTES_UINT32 = 5,
    MCRLE_BYTES_INT32 = 6, MCRLE_BYTES_UINT64 = 7, MCRLE_BYTES_INT64 = 8
} mcrle_bytes_dtype;

/* What the header says about one object. */
typedef struct mcrle_bytes_info {
    unsigned version;              /* 1 or 2 */
    unsigned order;                /* 0: lines along the last axis (C order); 1: the first (F) */
    unsigned dtype;                /* mcrle_bytes_dtype */
    mcrle_kind kind;               /* of dtype */
    size_t elem_size;              /* of dtype: 1, 2, 4 or 8 */
    int ndim;                      /* 1..MCRLE_MAX_NDIM */
    size_t shape[MCRLE_MAX_NDIM];
    size_t size;                   /* number of elements */
    size_t n_values;               /* distinct values (the payload's value table) */
    size_t header_len;             /* bytes before the payload */
    size_t payload_len;
    size_t total_len;              /* header_len + payload_len: where the next object starts */
    uint32_t checksum;             /* as stored */
} mcrle_bytes_info;

/* A short English name of a result (mcrle_result or mcrle_bytes_result). */
const char *mcrle_bytes_result_name(int r);

/* dtype code of a kind and element size; -1 if none. */
int mcrle_bytes_dtype_code(mcrle_kind kind, size_t elem_size);

/*
 * Parses and validates the header of the object at the start of buf (len
 * bytes; more objects may follow). Checks magic, version, field ranges,
 * shape overflow, that the payload is present (len >= total_len) and
 * n_values <= min(size, payload_len). Does not verify the checksum.
 */
int mcrle_bytes_parse_header(const void *buf, size_t len, mcrle_bytes_info *info,
                             mcrle_error_info *err);

/* Adler-32 (as zlib's adler32) of n bytes, continuing from adler (start: 1). */
uint32_t mcrle_adler32(uint32_t adler, const void *buf, size_t n);

/* ---- encoding ------------------------------------------------------------ */

/* Most bytes mcrle_bytes_encode writes for this array; SIZE_MAX on overflow. */
size_t mcrle_bytes_bound(size_t elem_size, int ndim, const size_t *shape);

/*
 * Scratch bytes mcrle_bytes_encode needs for an array of this layout
 * (strides NULL: of any layout); SIZE_MAX on overflow. At most 8 bytes per
 * distinct value, 4 per element of a line when the map has two lines or
 * more, 2 lines of elements when the lines are strided, and about 200 kB.
 */
size_t mcrle_bytes_encode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                       const ptrdiff_t *strides, size_t n_values);

/*
 * Encodes an array (any strides, native byte order) of the given kind.
 * values: the array's distinct values, sorted ascending, n_values of them,
 * as 64-bit patterns (signed kinds sign-extended); an element missing from
 * the table is MCRLE_ERR_VALUE_RANGE. Writes *out_len bytes to out (at
 * least mcrle_bytes_bound() bytes of capacity are always enough).
 * mcrle_bytes_encode writes version 1 (lines along the last axis).
 */
int mcrle_bytes_encode(const void *data, mcrle_kind kind, size_t elem_size, int ndim,
                       const size_t *shape, const ptrdiff_t *strides,
                       const uint64_t *values, size_t n_values,
                       void *out, size_t capacity, size_t *out_len,
                       void *scratch, size_t scratch_size);

/*
 * The same for a chosen format version (1 or 2) and, for version 2, line
 * order (0: lines along the last axis, for C-ordered arrays; 1: along the
 * first, for Fortran-ordered ones: the map is coded with its axes
 * reversed). Version 2 cuts the lines into chunks coded independently (the
 * number depends on the map only), which n_threads threads code at once;
 * the bytes are the same for every n_threads.
 */
size_t mcrle_bytes_encode_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                          const ptrdiff_t *strides, size_t n_values, unsigned order,
                                          unsigned version, unsigned n_threads);
int mcrle_bytes_encode_mt(const void *data, mcrle_kind kind, size_t elem_size, int ndim,
                          const size_t *shape, const ptrdiff_t *strides,
                          const uint64_t *values, size_t n_values, unsigned order,
                          unsigned version, void *out, size_t capacity, size_t *out_len,
                          void *scratch, size_t scratch_size, unsigned n_threads);

/* ---- decoding ------------------------------------------------------------ */

/*
 * Scratch bytes mcrle_bytes_decode needs for this object and an output of
 * these strides (in the header's shape; NULL: of any layout); SIZE_MAX on
 * overflow. At most 8 bytes per distinct value, a line of out's elements
 * when out's lines are strided, 8 bytes per element of a line for each of
 * the two run lists (one when the map has two lines, none for one line),
 * and about 110 kB (docs/security.md: what that is against the output).
 */
size_t mcrle_bytes_decode_scratch_size(const mcrle_bytes_info *info, size_t out_elem_size,
                                       const ptrdiff_t *strides);

/*
 * Decodes the object at the start of buf into out, whose shape must be the
 * header's (ndim, shape) and whose elements are of out_kind / out_elem_size
 * (any strides). Verifies the checksum first. A value that out's type cannot
 * hold is MCRLE_ERR_VALUE_RANGE (err->index: its index in the value table,
 * or the element for raw payloads). Argument, scratch and checksum errors
 * leave out untouched, and so do payload errors found before the first line
 * (mode, value table, frequency tables, too few coded bytes for the lines);
 * an error found while expanding the lines sets every element of out to 0
 * (MCRLE_BYTES_PAYLOAD_ERROR: all payload errors and VALUE_RANGE leave out
 * all zeros or untouched; callers that need one state may zero it). On
 * success every element has been written.
 *
 * buf is read more than once (the checksum, then the payload), and every
 * read is bounds-checked, so a buffer that changes during the call can give
 * a wrong map or an error but no access outside buf, out and scratch;
 * callers that cannot rule that out pass a private copy (the binding does).
 */
int mcrle_bytes_decode(const void *buf, size_t len, mcrle_kind out_kind, size_t out_elem_size,
                       int ndim, const size_t *shape, const ptrdiff_t *strides, void *out,
                       void *scratch, size_t scratch_size, mcrle_error_info *err);

/*
 * The same on up to n_threads threads (the chunks of a version 2 object at
 * once): the per-thread part of the scratch once for each thread, and, when
 * out's lines are strided in the model's view (e.g. a Fortran-coded volume
 * into a C-ordered array), a stage of up to one chunk of out's elements per
 * thread (at most max(2^20, size / 256 + line) elements).
 */
size_t mcrle_bytes_decode_scratch_size_mt(const mcrle_bytes_info *info, size_t out_elem_size,
                                          const ptrdiff_t *strides, unsigned n_threads);
int mcrle_bytes_decode_mt(const void *buf, size_t len, mcrle_kind out_kind, size_t out_elem_size,
                          int ndim, const size_t *shape, const ptrdiff_t *strides, void *out,
                          void *scratch, size_t scratch_size, mcrle_error_info *err,
                          unsigned n_threads);

#ifdef __cplusplus
}
#endif

#endif /* MCRLE_BYTES_H */
