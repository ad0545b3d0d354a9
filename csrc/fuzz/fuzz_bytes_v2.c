/*
 * fuzz_bytes_v2.c - the bytes form's version 2 on several threads:
 * mcrle_bytes_encode_mt and mcrle_bytes_decode_mt (chunks, line order),
 * also on corrupted payloads.
 *
 * Built with a small MCRLE_BYTES_CHUNK_ELEMS (build.sh, replay.sh), so that
 * the arrays of a fuzz input (at most 2^16 elements) have many chunks.
 *
 * Input:
 *   byte 0: bits 0-1 element size (1, 2, 4, 8); bits 2-3 kind (0, 3
 *           unsigned, 1 signed, 2 bool: 1-byte elements); bits 4-5 encode
 *           threads - 1; bit 6 lines along the first axis (order 1); bit 7
 *           corrupt the payload
 *   byte 1: bits 0-1 decode threads - 1; bits 2-4 corrupted bytes - 1
 *   ndim and shape (fz_shape), the source layout and the target layout
 *   (fz_arr_make, no broadcast), then the elements in C order: each byte a
 *   label (low 3 bits; 7: the next 8 bytes are a raw element) repeated
 *   (high 5 bits + 1) times; when the input ends the last label repeats;
 *   then, when corrupting, (offset, xor) byte pairs for the payload.
 * Checks:
 *   - the encode gives the same bytes for every number of threads, and a
 *     version 2 header with the order flag;
 *   - decoding (any number of threads) into the target layout writes
 *     exactly the source's elements and nothing between them; one byte less
 *     input is TRUNCATED;
 *   - a corrupted payload (the checksum recomputed, so that the payload is
 *     parsed) decodes on 1 and on 3 threads to the same result code, error
 *     info and output bytes, and never reads or writes outside its buffers
 *     (sanitizers).
 */
#include "fuzz_bytes_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct dec_out {
    int r;
    mcrle_error_info err;
    unsigned char *buf;
} dec_out;

static dec_out decode_into(const unsigned char *obj, size_t len, const fz_arr *T, mcrle_kind kind,
                           unsigned nt)
{
    dec_out d;
    mcrle_bytes_info info;
    d.buf = (unsigned char *)fz_malloc(T->buf_len);
    memcpy(d.buf, T->buf, T->buf_len);
    d.err.index = 777;
    d.err.sum = 777;
    d.r = mcrle_bytes_parse_header(obj, len, &info, &d.err);
    if (d.r != MCRLE_OK) return d;
    size_t ss = mcrle_bytes_decode_scratch_size_mt(&info, T->E, T->strides, nt);
    FZ_ASSERT(ss != SIZE_MAX);
    void *scr = fz_malloc(ss);
    d.r = mcrle_bytes_decode_mt(obj, len, kind, T->E, T->ndim, T->shape, T->strides,
                                d.buf + (T->base - T->buf), scr, ss, &d.err, nt);
    free(scr);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in), b1 = fz_u8(&in);
    size_t E = fz_elem_size(b0);
    unsigned kb = (b0 >> 2) & 3u;
    mcrle_kind kind = kb == 1 ? MCRLE_KIND_SIGNED : kb == 2 && E == 1 ? MCRLE_KIND_BOOL
                                                                      : MCRLE_KIND_UNSIGNED;
    unsigned nt_enc = 1 + ((b0 >> 4) & 3u), order = (b0 >> 6) & 1u, corrupt = (b0 >> 7) & 1u;
    unsigned nt_dec = 1 + (b1 & 3u), n_corrupt = 1 + ((b1 >> 2) & 7u);
    size_t shape[FZ_MAXD];
    int ndim = fz_shape(&in, shape);
    fz_arr A, T;
    fz_arr_make(&in, &A, E, ndim, shape, 0);
    fz_arr_make(&in, &T, E, ndim, shape, 0);
    fz_fill_labels(&in, &A, E, kind == MCRLE_KIND_BOOL);   /* the source, in C order */

    /* the value table (mcrle_distinct_values, checked by fuzz_threads) */
    size_t cap = A.size ? A.size : 1, nv = 0;
    uint64_t *vals = (uint64_t *)fz_malloc(cap * 8);
    size_t ds = mcrle_distinct_scratch_size(E, cap);
    void *dscr = fz_malloc(ds);
    FZ_ASSERT(mcrle_distinct_values(A.base, kind, E, ndim, shape, A.strides, vals, cap, &nv, dscr,
                                    ds) == MCRLE_OK);
    free(dscr);

    /* encode with nt_enc threads and with one: the same bytes */
    size_t bound = mcrle_bytes_bound(E, ndim, shape), len = 0, len1 = 0;
    unsigned char *obj = (unsigned char *)fz_malloc(bound), *obj1 = (unsigned char *)fz_malloc(bound);
    for (int pass = 0; pass < 2; pass++) {
        unsigned nt = pass == 0 ? nt_enc : 1;
        size_t es = mcrle_bytes_encode_scratch_size_mt(E, ndim, shape, A.strides, nv, order, 2, nt);
        FZ_ASSERT(es != SIZE_MAX);
        void *escr = fz_malloc(es);
        int r = mcrle_bytes_encode_mt(A.base, kind, E, ndim, shape, A.strides, vals, nv, order, 2,
                                      pass == 0 ? obj : obj1, bound, pass == 0 ? &len : &len1,
                                      escr, es, nt);
        FZ_ASSERT(r == MCRLE_OK);
        free(escr);
    }
    FZ_ASSERT(len == len1 && memcmp(obj, obj1, len) == 0);
    mcrle_bytes_info info;
    FZ_ASSERT(mcrle_bytes_parse_header(obj, len, &info, NULL) == MCRLE_OK);
    FZ_ASSERT(info.version == 2 && info.order == order && info.total_len == len);

    /* decode: exactly the source's elements, nothing between them */
    dec_out d = decode_into(obj, len, &T, kind, nt_dec);
    FZ_ASSERT(d.r == MCRLE_OK);
    if (A.size) {
        size_t idx[FZ_MAXD] = {0};
        unsigned char *want = (unsigned char *)fz_malloc(T.buf_len);
        memcpy(want, T.buf, T.buf_len);
        do {
            fz_store(want + (fz_at(&T, idx) - T.buf), fz_load(fz_at(&A, idx), E), E);
        } while (fz_next_c(idx, A.shape, ndim));
        FZ_ASSERT(memcmp(want, d.buf, T.buf_len) == 0);
        free(want);
    }
    free(d.buf);
    if (len > 0) {   /* one byte less: TRUNCATED */
        dec_out t = decode_into(obj, len - 1, &T, kind, nt_dec);
        FZ_ASSERT(t.r == MCRLE_BYTES_ERR_TRUNCATED);
        free(t.buf);
    }

    /* a corrupted payload, its checksum made right: the same answer on 1 and 3 threads */
    if (corrupt && info.payload_len > 0) {
        for (unsigned i = 0; i < n_corrupt && in.n >= 2; i++) {
            size_t at = (size_t)fz_bytes(&in, 2) % info.payload_len;
            obj[info.header_len + at] ^= fz_u8(&in);
        }
        uint32_t ck = ref_adler32(obj, info.header_len - 4, 1);
        ck = ref_adler32(obj + info.header_len, info.payload_len, ck);
        for (int b = 0; b < 4; b++) obj[info.header_len - 4 + (size_t)b] = (unsigned char)(ck >> (8 * b));
        dec_out x1 = decode_into(obj, len, &T, kind, 1), x3 = decode_into(obj, len, &T, kind, 3);
        FZ_ASSERT(x1.r == x3.r);
        /* the payload errors (PAYLOAD to BOOL: which part was inconsistent), or a value out of range */
        FZ_ASSERT(x1.r == MCRLE_OK || x1.r == MCRLE_ERR_VALUE_RANGE ||
                  (x1.r >= MCRLE_BYTES_ERR_PAYLOAD && x1.r <= MCRLE_BYTES_ERR_BOOL));
        if (x1.r != MCRLE_OK) FZ_ASSERT(x1.err.index == x3.err.index && x1.err.sum == x3.err.sum);
        FZ_ASSERT(memcmp(x1.buf, x3.buf, T.buf_len) == 0);
        free(x1.buf);
        free(x3.buf);
    }
    free(obj);
    free(obj1);
    free(vals);
    fz_arr_free(&A);
    fz_arr_free(&T);
    return 0;
}
