/*
 * mcrle.h - multiclass run-length encoding kernels (plain C99, no Python).
 *
 * An array of any number of dimensions is encoded as runs in Fortran order
 * (first axis fastest), as COCO's RLE does for 2D masks. A run is a value
 * (the array's element, 1, 2, 4 or 8 bytes) and a count (uint64_t > 0).
 *
 * Conventions (after libdeflate):
 *   - every function returns an mcrle_result; MCRLE_OK is 0;
 *   - the caller provides every buffer, with its size in elements or bytes;
 *     the *_scratch_size() and *_bound() functions give the sizes needed;
 *   - arrays are described by ndim, shape (elements per axis) and strides
 *     (bytes per axis, may be negative), exactly like a numpy array or a
 *     Python buffer, so any memory layout is accepted without copies;
 *   - every read of untrusted input (counts, compact strings) is checked.
 *
 * Thread safety: no global state; functions may run concurrently on
 * different buffers.
 */
#ifndef MCRLE_H
#define MCRLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCRLE_MAX_NDIM 32

/* Most threads of one _mt call (also mcrle_threads.h's limit), and most bands (two per thread). */
#ifndef MCRLE_MAX_THREADS
#define MCRLE_MAX_THREADS 64
#endif
#define MCRLE_MAX_BANDS 128

typedef enum mcrle_result {
    MCRLE_OK = 0,
    MCRLE_ERR_ARG = 1,            /* bad ndim, element size, NULL pointer, shape overflow */
    MCRLE_ERR_ZERO_COUNT = 2,     /* a run count is 0 (info.index says which) */
    MCRLE_ERR_COUNTS_SHORT = 3,   /* counts sum to less than the array size (info.sum) */
    MCRLE_ERR_COUNTS_LONG = 4,    /* counts sum to more than the array size (info.index, info.sum) */
    MCRLE_ERR_BAD_CHAR = 5,       /* compact string: character outside '0'..'o' (info.index) */
    MCRLE_ERR_TRUNCATED = 6,      /* compact string ends inside a number (info.index) */
    MCRLE_ERR_NUMBER_TOO_LONG = 7,/* compact string: a number of more than 13 characters (info.index) */
    MCRLE_ERR_NOSPACE = 8,        /* an output or scratch buffer is too small */
    MCRLE_ERR_NOMEM = 9,          /* reserved for callers that allocate */
    MCRLE_ERR_VALUE_RANGE = 10,   /* a value does not fit the output type (info.index) */
    MCRLE_ERR_CHANGED = 11        /* the input changed during the call (another thread wrote
                                     into it) in a way a second pass detected */
} mcrle_result;

/* Details of a failure, filled when a pointer is given. */
typedef struct mcrle_error_info {
    size_t index;   /* run index, or character offset for string errors */
    uint64_t sum;   /* counts summed so far (saturated at UINT64_MAX) */
} mcrle_error_info;

/* A short English name for a result code (never NULL). */
const char *mcrle_result_name(mcrle_result r);

/* Number of elements of a shape; MCRLE_ERR_ARG if it overflows size_t. */
mcrle_result mcrle_shape_size(int ndim, const size_t *shape, size_t *size);

/* ---- encoding ------------------------------------------------------------ */

/* Counts the runs of an array (0 for an empty array). */
mcrle_result mcrle_count_runs(const void *data, size_t elem_size, int ndim,
                              const size_t *shape, const ptrdiff_t *strides,
                              size_t *n_runs);

/* Scratch bytes mcrle_encode needs for this layout and run count. */
size_t mcrle_encode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                 const ptrdiff_t *strides, size_t n_runs);

/*
 * Writes the runs of an array: values (capacity elements of elem_size bytes,
 * native byte order) and counts. *n_runs receives the number written;
 * MCRLE_ERR_NOSPACE if capacity is too small (for example if the array
 * changed since mcrle_count_runs).
 */
mcrle_result mcrle_encode(const void *data, size_t elem_size, int ndim,
                          const size_t *shape, const ptrdiff_t *strides,
                          void *values, uint64_t *counts, size_t capacity,
                          size_t *n_runs, void *scratch, size_t scratch_size);

/* ---- decoding ------------------------------------------------------------ */

/*
 * Checks that every count is > 0 and that they sum to exactly `size`,
 * without overflow. mcrle_decode and the other kernels that take counts
 * make the same checks, with the same errors and info, on each count as
 * they read it (so a buffer that changes after this call cannot harm them).
 */
mcrle_result mcrle_check_counts(const uint64_t *counts, size_t n_runs, uint64_t size,
                                mcrle_error_info *info);

/* Scratch bytes mcrle_decode needs for this output layout and run count. */
size_t mcrle_decode_scratch_size(size_t elem_size, int ndim, const size_t *shape,
                                 const ptrdiff_t *strides, size_t n_runs);

/*
 * Expands runs into `out` (any strides). Each count and each value is read
 * once; each count is checked as it is read (errors and info of
 * mcrle_check_counts), before anything depends on it, so the runs may even
 * change during the call (another thread writing into them) without any
 * access outside the buffers. On success every element of out has been
 * written. On error the elements of out are unspecified (a slab layout, C
 * order of 2+ dimensions, leaves them untouched: nothing is written before
 * every count was read; other layouts may hold the runs before the bad
 * one); nothing outside the elements is ever written.
 */
mcrle_result mcrle_decode(const void *values, const uint64_t *counts, size_t n_runs,
                          size_t elem_size, int ndim, const size_t *shape,
                          const ptrdiff_t *strides, void *out,
                          void *scratch, size_t scratch_size, mcrle_error_info *info);

/* ---- on several threads ---------------------------------------------------- */

/*
 * The _mt variants do the same work on a team of up to n_threads threads
 * (mcrle_threads.h; 1: the calling thread alone): each thread takes a band,
 * a contiguous piece of the run sequence (the encoder: of the array's
 * slowest axis in Fortran order, its last axis; the decoder: of about equal
 * work, runs and bytes, cut anywhere, or rows of a C-ordered output). Results, error codes and error info
 * are the same for every n_threads; only the scratch sizes depend on it.
 * The plain functions are the _mt ones with n_threads = 1.
 */
size_t mcrle_decode_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                    const ptrdiff_t *strides, size_t n_runs, unsigned n_threads);
mcrle_result mcrle_decode_mt(const void *values, const uint64_t *counts, size_t n_runs,
                             size_t elem_size, int ndim, const size_t *shape,
                             const ptrdiff_t *strides, void *out, void *scratch,
                             size_t scratch_size, mcrle_error_info *info, unsigned n_threads);

/*
 * mcrle_encode_mt: the capacity is split among the bands in proportion to
 * their elements, or as caps[] says (one entry per band; there are at most
 * MCRLE_MAX_BANDS bands: pass arrays of that many). A band that does not fit
 * its share makes the call fail with MCRLE_ERR_NOSPACE; then band_runs (if
 * not NULL) receives every band's exact run count (0 past the last band),
 * and a second call with capacity = their sum and caps = band_runs fits
 * (unless the array changed meanwhile).
 */
size_t mcrle_encode_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                    const ptrdiff_t *strides, size_t capacity,
                                    const size_t *caps, unsigned n_threads);
mcrle_result mcrle_encode_mt(const void *data, size_t elem_size, int ndim, const size_t *shape,
                             const ptrdiff_t *strides, void *values, uint64_t *counts,
                             size_t capacity, size_t *n_runs, void *scratch, size_t scratch_size,
                             const size_t *caps, size_t *band_runs, unsigned n_threads);

/* ---- windows -------------------------------------------------------------- */

/* Most runs mcrle_window_runs can produce (runs + window columns). */
size_t mcrle_window_runs_bound(size_t n_runs, int ndim, const size_t *start, const size_t *stop);

/*
 * The runs of the box [start[a], stop[a]) of every axis a, in Fortran order
 * of the box, cut from the runs of the whole array. Every run is read once
 * and its count checked as mcrle_decode checks it (the walk goes on to the
 * last run after the box, so the result is MCRLE_OK exactly when decoding
 * the whole array would succeed). Equal neighbouring pieces are merged.
 */
mcrle_result mcrle_window_runs(const void *values, const uint64_t *counts, size_t n_runs,
                               size_t elem_size, int ndim, const size_t *shape,
                               const size_t *start, const size_t *stop,
                               void *out_values, uint64_t *out_counts, size_t capacity,
                               size_t *n_out, mcrle_error_info *info);

/* ---- per-label answers from the runs (ops.c) ------------------------------ */

/*
 * These take each run's label as a group index: index holds n_runs unsigned
 * integers of index_size (1, 2, 4 or 8) bytes, each < n_groups (for an 8-bit
 * map its own values with 256 groups; otherwise the index of each run's
 * value among the distinct values). An index out of range is
 * MCRLE_ERR_VALUE_RANGE (info.index = the run, info.sum = the index). The
 * counts are validated during the walk with the errors and info of
 * mcrle_check_counts.
 */

/* sums[g] = number of elements of group g (sums: n_groups entries, zeroed here). */
mcrle_result mcrle_group_sums(const void *index, size_t index_size, const uint64_t *counts,
                              size_t n_runs, uint64_t size, size_t n_groups, uint64_t *sums,
                              mcrle_error_info *info);

/*
 * Bounding box of every group in an array of this shape: lo[g * ndim + a]
 * and hi[g * ndim + a] are the smallest and largest coordinate along axis a
 * of its elements (inclusive); a group without runs gets lo = UINT64_MAX,
 * hi = 0. lo and hi: n_groups * ndim entries each.
 */
mcrle_result mcrle_group_bbox(const void *index, size_t index_size, const uint64_t *counts,
                              size_t n_runs, int ndim, const size_t *shape, size_t n_groups,
                              uint64_t *lo, uint64_t *hi, mcrle_error_info *info);

/*
 * Relabels runs: run k gets element table[index[k]] (table: table_len
 * elements of elem_size bytes, native order), and neighbours that get the
 * same label are merged (their counts summed). The counts must sum to size.
 * out_values/out_counts hold capacity runs (n_runs always suffice).
 */
mcrle_result mcrle_relabel_runs(const void *index, size_t index_size, const uint64_t *counts,
                                size_t n_runs, uint64_t size, const void *table, size_t table_len,
                                size_t elem_size, void *out_values, uint64_t *out_counts,
                                size_t capacity, size_t *n_out, mcrle_error_info *info);

/*
 * Joint element counts of two run sequences over the same array (a
 * confusion matrix): sums[ga * nb_groups + gb] = elements where A's run has
 * group ga and B's run has group gb (sums: na_groups * nb_groups entries,
 * zeroed here). Both index arrays have index_size bytes per run. A's counts
 * are validated first, then B's, as mcrle_check_counts does (on a count
 * error info->index is the run of the sequence named by the result:
 * MCRLE_ERR_* for A, the same plus MCRLE_PAIR_B for B); then every index
 * below its group count (VALUE_RANGE, again + MCRLE_PAIR_B for B).
 */
#define MCRLE_PAIR_B 100
mcrle_result mcrle_pair_sums(const void *index_a, const uint64_t *counts_a, size_t n_a,
                             size_t na_groups, const void *index_b, const uint64_t *counts_b,
                             size_t n_b, size_t nb_groups, size_t index_size, uint64_t size,
                             uint64_t *sums, mcrle_error_info *info);

/* ---- compact strings (COCO's 6-bit code) --------------------------------- */

/*
 * The compressed-counts code of pycocotools (rleToString), widened to 64
 * bits: each number is cut into 5-bit groups, least significant first; each
 * character is '0' + group, plus 32 when another group follows; the last
 * group's bit 4 is the sign. Numbers at index >= delta_from are stored as the
 * difference to the number two places back (modulo 2^64, as a signed
 * value). pycocotools uses delta_from = 3 for counts.
 */

/* Most characters encoding n numbers can take (13 per number). */
size_t mcrle_string_bound(size_t n);

/*
 * Encodes n numbers into out (capacity bytes, no terminator written). The
 * string is out[0, *out_len); bytes of out after it (up to 8, within
 * capacity) may be overwritten with scratch.
 */
mcrle_result mcrle_string_encode(const uint64_t *numbers, size_t n, size_t delta_from,
                                 char *out, size_t capacity, size_t *out_len);

/*
 * Decodes a string of len bytes (need not be NUL-terminated) into at most
 * capacity numbers; len numbers always suffice. On error info->index is
 * the offset of the offending character (or len for a truncated string).
 * numbers after the *n_out decoded (up to 7, within capacity) may be
 * overwritten with scratch.
 */
mcrle_result mcrle_string_decode(const char *s, size_t len, size_t delta_from,
                                 uint64_t *numbers, size_t capacity, size_t *n_out,
                                 mcrle_error_info *info);

/* The same on up to n_threads threads (strings of 2 x 65536 characters and more). */
mcrle_result mcrle_string_decode_mt(const char *s, size_t len, size_t delta_from,
                                    uint64_t *numbers, size_t capacity, size_t *n_out,
                                    mcrle_error_info *info, unsigned n_threads);

/*
 * Number of characters of s that end a number ('0'..'O'): exactly the count
 * mcrle_string_decode returns for a valid string (so a buffer of that many
 * numbers suffices when it succeeds; for an invalid string it fails anyway,
 * MCRLE_ERR_NOSPACE at worst).
 */
size_t mcrle_string_count(const char *s, size_t len);

/* ---- values --------------------------------------------------------------- */

/* What the elements of a label array are. */
typedef enum mcrle_kind {
    MCRLE_KIND_BOOL = 0,      /* 1 byte, 0 or 1 */
    MCRLE_KIND_SIGNED = 1,    /* two's complement, 1/2/4/8 bytes */
    MCRLE_KIND_UNSIGNED = 2   /* 1/2/4/8 bytes */
} mcrle_kind;

/*
 * Converts n 64-bit numbers (signed if numbers_signed, else unsigned) to
 * elements of the given kind and size, native byte order, refusing any value
 * that the element cannot hold (MCRLE_ERR_VALUE_RANGE, info.index = which).
 * out may alias numbers (the conversion runs forward and never widens).
 * Each number is read once. On an error, out holds some elements cut short.
 */
mcrle_result mcrle_narrow_values(const uint64_t *numbers, size_t n, int numbers_signed,
                                 mcrle_kind kind, size_t elem_size, void *out,
                                 mcrle_error_info *info);

/*
 * The inverse: elements of the given kind and size to 64-bit numbers
 * (signed kinds sign-extended, the others zero-extended). out must not
 * alias values.
 */
mcrle_result mcrle_widen_values(const void *values, size_t n, mcrle_kind kind,
                                size_t elem_size, uint64_t *out);

/*
 * The distinct values of an array of the given kind (any strides), sorted
 * ascending as 64-bit numbers (signed kinds sign-extended, compared as
 * signed), into values (capacity entries); *n_values says how many. More
 * than capacity distinct values is MCRLE_ERR_NOSPACE. scratch:
 * mcrle_distinct_scratch_size(elem_size, capacity) bytes (a presence table
 * for 1- and 2-byte elements, a hash table of the values for wider ones).
 * Elements equal to the one before in memory are skipped cheaply, so a
 * label map costs about one compare per element and one lookup per run.
 */
size_t mcrle_distinct_scratch_size(size_t elem_size, size_t capacity);
mcrle_result mcrle_distinct_values(const void *data, mcrle_kind kind, size_t elem_size, int ndim,
                                   const size_t *shape, const ptrdiff_t *strides,
                                   uint64_t *values, size_t capacity, size_t *n_values,
                                   void *scratch, size_t scratch_size);
/*
 * The same on up to n_threads threads (arrays of 4 MiB and more: pieces of
 * the slowest axis, each with its own table, then their lists merged); the
 * result is the same for every n_threads, the scratch grows with it.
 */
size_t mcrle_distinct_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                      const ptrdiff_t *strides, size_t capacity,
                                      unsigned n_threads);
mcrle_result mcrle_distinct_values_mt(const void *data, mcrle_kind kind, size_t elem_size,
                                      int ndim, const size_t *shape, const ptrdiff_t *strides,
                                      uint64_t *values, size_t capacity, size_t *n_values,
                                      void *scratch, size_t scratch_size, unsigned n_threads);

/* ---- windows of compact strings (window.c) --------------------------------- */

/*
 * The runs of the box, as mcrle_window_runs gives them, straight from the
 * two compact strings of an RLE (values: differences from index 2; counts:
 * COCO's, from index 3), with values narrowed to elements of this kind and
 * size (refused if one does not fit). Neither string is stored: runs before
 * the box are skipped, and after the box's last piece both strings are still
 * read to their ends and validated, so the result is MCRLE_OK exactly when
 * decoding the whole RLE would succeed (every count positive and below
 * 2^63, summing to the size; as many values as counts; good characters).
 * Errors may come in another order than a whole decode reports them.
 * capacity: mcrle_window_runs_bound of the number of runs suffices, and
 * mcrle_string_count(counts) is that number for a valid string.
 */
mcrle_result mcrle_window_runs_compact(const char *values, size_t values_len, const char *counts,
                                       size_t counts_len, int values_signed, mcrle_kind kind,
                                       size_t elem_size, int ndim, const size_t *shape,
                                       const size_t *start, const size_t *stop,
                                       void *out_values, uint64_t *out_counts, size_t capacity,
                                       size_t *n_out, mcrle_error_info *info);

/*
 * mcrle_relabel_runs straight from the two compact strings of a map of
 * 1-byte elements (kind: bool, signed or unsigned; values narrowed to it):
 * a run whose element is the byte b gets table[b] (table: 256 elements of
 * elem_size bytes) when defined[b] is non-zero, else the call fails with
 * MCRLE_ERR_VALUE_RANGE (info.index = the run, info.sum = b). The strings
 * are read to their ends and validated as mcrle_window_runs_compact does, so
 * the result is MCRLE_OK only when decoding the whole RLE would succeed.
 * capacity: mcrle_string_count(counts) suffices for a valid string.
 */
mcrle_result mcrle_relabel_compact(const char *values, size_t values_len, const char *counts,
                                   size_t counts_len, int values_signed, mcrle_kind kind,
                                   uint64_t size, const void *table,
                                   const unsigned char *defined, size_t elem_size,
                                   void *out_values, uint64_t *out_counts, size_t capacity,
                                   size_t *n_out, mcrle_error_info *info);

/*
 * The box of a 2D map, decoded straight from the two compact strings into
 * rows: out row i (i < stop[0] - start[0]) starts at out + i * row_stride
 * bytes and holds stop[1] - start[1] contiguous elements. The strings are
 * read to their ends and validated as mcrle_window_runs_compact does; out
 * is written only when that succeeds. max_runs bounds the runs that start
 * inside the box (mcrle_string_count(counts) does; more is NOSPACE), and
 * scratch holds mcrle_window_decode_scratch_size(max_runs, ...) bytes.
 */
size_t mcrle_window_decode_scratch_size(size_t max_runs, const size_t *start, const size_t *stop,
                                        size_t elem_size);
mcrle_result mcrle_window_decode_compact(const char *values, size_t values_len, const char *counts,
                                         size_t counts_len, int values_signed, mcrle_kind kind,
                                         size_t elem_size, const size_t *shape, const size_t *start,
                                         const size_t *stop, size_t max_runs, void *out,
                                         ptrdiff_t row_stride, void *scratch, size_t scratch_size,
                                         mcrle_error_info *info);

/* ---- pair sums straight from compact strings (pairs.c) ----------------------- */

/*
 * How the values of one compact dict become group indices for
 * mcrle_pair_sums_compact. A value v (the string's number: a 64-bit pattern,
 * sign-extended for signed kinds) below table_len has group table[v]; any
 * other value equal to keys[i] (n_keys, strictly increasing as unsigned
 * numbers) has group key_groups[i]; every other value has group other.
 * Every group must be below n_groups (checked: O(table_len + n_keys) per
 * call). kind and elem_size are the dict's dtype: a value it cannot hold is
 * an error (MCRLE_ERR_VALUE_RANGE), as in a decode.
 */
typedef struct mcrle_group_map {
    mcrle_kind kind;
    size_t elem_size;
    const uint32_t *table;
    size_t table_len;
    const uint64_t *keys;
    const uint32_t *key_groups;
    size_t n_keys;
    uint32_t other;
    size_t n_groups;
} mcrle_group_map;

/*
 * mcrle_pair_sums of two maps given as the two compact strings of each
 * (values: differences from index 2; counts: COCO's, from index 3), neither
 * stored: sums[ga * b->n_groups + gb] = elements where A's run has group ga
 * and B's run group gb (sums: a->n_groups * b->n_groups entries, zeroed
 * here). Every string is read to its end and validated as a decode would
 * (every count positive, below 2^63, the counts summing to size; as many
 * values as counts; every value fits the kind; good characters): MCRLE_OK
 * exactly when decoding both maps would succeed. A problem of B is
 * reported + MCRLE_PAIR_B; problems may come in another order than two
 * decodes report them, and sums is then undefined. MCRLE_ERR_CHANGED (+
 * MCRLE_PAIR_B for B) when a group read from a map's table or key groups
 * during the walk is not below n_groups although the check at
 * the start found all of them so: another thread wrote the map's arrays
 * meanwhile (no sum is written out of bounds). Cost: O(characters +
 * runs), plus a binary search of the keys for each distinct value outside
 * the table (a 256-entry cache per map answers repeats).
 */
mcrle_result mcrle_pair_sums_compact(const char *values_a, size_t values_a_len,
                                     const char *counts_a, size_t counts_a_len,
                                     const mcrle_group_map *a,
                                     const char *values_b, size_t values_b_len,
                                     const char *counts_b, size_t counts_b_len,
                                     const mcrle_group_map *b,
                                     uint64_t size, uint64_t *sums, mcrle_error_info *info);

/* ---- panoptic quality of one image (panoptic.c) ------------------------------- */

/* Bytes of scratch mcrle_pq_image needs (SIZE_MAX if that overflows). */
size_t mcrle_pq_scratch_size(size_t n_gt, size_t n_pred, size_t n_cat);

/*
 * The counts of panoptic quality of one image by panopticapi's pq_compute
 * rules, from its pair table: n entries (rows[k], cols[k], pixels[k]), each
 * (row, col) at most once, in any order. Rows 0..n_gt-1 are the
 * ground-truth segments in their table's order, row n_gt ground-truth void,
 * row n_gt+1 ids absent from the table (ignored: neither segments nor
 * void); columns 0..n_pred-1 the predicted segments, n_pred predicted void,
 * n_pred+1 unlisted predicted ids. gt_cat/pred_cat: category indices below
 * n_cat; gt_crowd: non-zero for crowd segments; gt_area: each gt segment's
 * area as its table states it (NULL: its pixels).
 * Rules: a match is a non-crowd gt segment and a prediction of the same
 * category with IoU > 0.5, the union leaving out the prediction's pixels
 * over gt void (every such pair counts; an entry of 0 pixels is no
 * overlap); unmatched non-crowd gt segments
 * are false negatives; an unmatched prediction is a false positive unless
 * more than half of its pixels lie in gt void plus the crowd region of its
 * category (the last crowd segment of that category in table order).
 * Adds the image's counts to tp, fp, fn and its matched IoUs to iou_sum
 * (n_cat each), and nothing when it fails: MCRLE_ERR_ARG for an index out
 * of range, a predicted segment without pixels or pixels in column
 * n_pred+1 (the caller's checks); MCRLE_ERR_VALUE_RANGE when a union is not
 * positive (a gt_area too small; info.index = the entry, info.sum = its
 * pixels). scratch: mcrle_pq_scratch_size bytes, 8-byte aligned.
 */
mcrle_result mcrle_pq_image(const uint32_t *rows, const uint32_t *cols, const uint64_t *pixels,
                            size_t n, size_t n_gt, const uint32_t *gt_cat,
                            const unsigned char *gt_crowd, const double *gt_area, size_t n_pred,
                            const uint32_t *pred_cat, size_t n_cat, uint64_t *tp, uint64_t *fp,
                            uint64_t *fn, double *iou_sum, void *scratch, size_t scratch_size,
                            mcrle_error_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MCRLE_H */
