/*
 * test_hostile.c - regression tests of the kernel bugs an outside attack
 * found (issue 13), one or more per fix, deterministic (the races
 * themselves are exercised from Python, tests/test_races.py, under ASan):
 *
 *   - the bytes form's decoder and encoder scratch: no run lists for a map
 *     of one line, one for two lines; no model line for a 1D encode;
 *   - a modelled payload with fewer coded bytes than its lines need is
 *     refused before a line is written (a 27-byte object claimed 2^31
 *     elements and was decoded into 2 GB for 6 s);
 *   - payload errors have their own codes and info (mode byte, raw length,
 *     raw bool byte, value table, end of the stream);
 *   - a header may not claim more distinct values than the dtype holds;
 *   - the window and pair kernels check every count in their one walk,
 *     after the window too, and name the problem as mcrle_check_counts does.
 *
 * Prints "N passed, N failed"; exits non-zero when a case failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcrle.h"
#include "mcrle_bytes.h"

static int n_passed, n_failed, failed;
static const char *current;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            failed = 1;                                                               \
            fprintf(stderr, "FAIL [%s] %s:%d: %s\n", current, __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

static void begin(const char *name) { current = name; failed = 0; }
static void end(void) { if (failed) n_failed++; else n_passed++; }

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (unsigned char)(v | 0x80); v >>= 7; }
    p[n++] = (unsigned char)v;
    return n;
}

/* A bytes-form object (docs/format.md 4.1) around any payload, with its checksum. */
static size_t make_object(unsigned char *o, unsigned dtype, int ndim, const size_t *shape,
                          uint64_t n_values, const unsigned char *payload, size_t plen)
{
    size_t h = 0;
    memcpy(o, "MCRL", 4);
    o[4] = 1; o[5] = (unsigned char)dtype; o[6] = (unsigned char)ndim; o[7] = 0;
    h = 8;
    for (int a = 0; a < ndim; a++) h += put_varint(o + h, shape[a]);
    h += put_varint(o + h, n_values);
    h += put_varint(o + h, plen);
    uint32_t ck = mcrle_adler32(mcrle_adler32(1, o, h), payload, plen);
    for (int i = 0; i < 4; i++) o[h + (size_t)i] = (unsigned char)(ck >> (8 * i));
    memcpy(o + h + 4, payload, plen);
    return h + 4 + plen;
}

static int decode(const unsigned char *obj, size_t len, unsigned char *out, int ndim,
                  const size_t *shape, mcrle_error_info *err)
{
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    ptrdiff_t s = 1;
    for (int a = ndim - 1; a >= 0; a--) { strides[a] = s; s *= (ptrdiff_t)shape[a]; }
    mcrle_bytes_info info;
    if (mcrle_bytes_parse_header(obj, len, &info, err) != MCRLE_OK) return -1;
    size_t ss = mcrle_bytes_decode_scratch_size(&info, 1, strides);
    void *scratch = malloc(ss ? ss : 1);
    int r = mcrle_bytes_decode(obj, len, MCRLE_KIND_UNSIGNED, 1, ndim, shape, strides, out,
                               scratch, ss, err);
    free(scratch);
    return r;
}

static void test_scratch_of_few_lines(void)
{
    begin("bytes form: scratch of 1D and two-line maps");
    unsigned char obj[64], payload[1] = {1};
    size_t shape1[1] = {(size_t)1 << 26}, shape2[2] = {2, (size_t)1 << 25};
    ptrdiff_t st1[1] = {1}, st2[2] = {(ptrdiff_t)1 << 25, 1};
    mcrle_bytes_info info;
    /* a header is enough to ask for the scratch (the payload is not read) */
    size_t len = make_object(obj, 1, 1, shape1, 1, payload, 1);
    CHECK(mcrle_bytes_parse_header(obj, len, &info, NULL) == MCRLE_OK);
    size_t s1 = mcrle_bytes_decode_scratch_size(&info, 1, st1);
    CHECK(s1 < ((size_t)256 << 10));   /* was 16 bytes per element + the line: 1.1 GB */
    CHECK(mcrle_bytes_decode_scratch_size(&info, 1, NULL) < shape1[0] + ((size_t)256 << 10));
    len = make_object(obj, 1, 2, shape2, 1, payload, 1);
    CHECK(mcrle_bytes_parse_header(obj, len, &info, NULL) == MCRLE_OK);
    size_t s2 = mcrle_bytes_decode_scratch_size(&info, 1, st2);
    CHECK(s2 >= 8 * shape2[1] && s2 < 8 * shape2[1] + ((size_t)256 << 10));   /* one list */
    /* the encoder of a 1D map: no model line, no copies of lines */
    CHECK(mcrle_bytes_encode_scratch_size(1, 1, shape1, st1, 3) < ((size_t)256 << 10));
    CHECK(mcrle_bytes_encode_scratch_size(1, 2, shape2, st2, 3) >= 4 * shape2[1]);
    CHECK(mcrle_bytes_encode_scratch_size(1, 2, shape2, NULL, 3) >=
          4 * shape2[1] + 2 * shape2[1]);   /* any layout: line copies too */
    end();
}

static void test_too_short_for_its_lines(void)
{
    begin("bytes form: too few coded bytes for the lines, before a line is written");
    /* one value (0), seven absent tables, then the coder's states: 65536
     * lines take two blocks of 32768 operations, each opening with 4 bytes */
    unsigned char payload[3 + 8] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0};
    size_t shape[2] = {65536, 4};
    unsigned char obj[64];
    unsigned char *out = malloc(65536 * 4);
    memset(out, 0xEE, 65536 * 4);
    mcrle_error_info err = {0, 0};
    size_t len = make_object(obj, 1, 2, shape, 1, payload, 3 + 4);
    CHECK(decode(obj, len, out, 2, shape, &err) == MCRLE_BYTES_ERR_SHORT);
    CHECK(err.index == 4 && err.sum == 8);
    int untouched = 1;
    for (size_t i = 0; i < 65536 * 4; i++) untouched &= out[i] == 0xEE;
    CHECK(untouched);
    /* with the second block it is a valid map of zeros */
    len = make_object(obj, 1, 2, shape, 1, payload, 3 + 8);
    CHECK(decode(obj, len, out, 2, shape, &err) == MCRLE_OK);
    int zeros = 1;
    for (size_t i = 0; i < 65536 * 4; i++) zeros &= out[i] == 0;
    CHECK(zeros);
    free(out);
    end();
}

static void test_payload_error_codes(void)
{
    begin("bytes form: each payload error has its code and info");
    size_t shape[2] = {2, 3};
    unsigned char obj[64], out[6];
    mcrle_error_info err = {0, 0};
    unsigned char mode7[2] = {7, 0};
    CHECK(decode(obj, make_object(obj, 1, 2, shape, 1, mode7, 2), out, 2, shape, &err) ==
          MCRLE_BYTES_ERR_MODE);
    CHECK(err.sum == 7);
    unsigned char raw[6] = {1, 0, 1, 0, 1, 0};   /* 5 elements, the map has 6 */
    CHECK(decode(obj, make_object(obj, 1, 2, shape, 2, raw, 6), out, 2, shape, &err) ==
          MCRLE_BYTES_ERR_RAW_LENGTH);
    CHECK(err.index == 7 && err.sum == 6);
    unsigned char rawb[7] = {1, 0, 1, 1, 2, 0, 1};   /* a bool byte of 2 at element 3 */
    CHECK(decode(obj, make_object(obj, 0, 2, shape, 2, rawb, 7), out, 2, shape, &err) ==
          MCRLE_BYTES_ERR_BOOL);
    CHECK(err.index == 3 && err.sum == 2);
    unsigned char vt[3] = {0, 0, 0x80};   /* the second value's varint is cut short */
    CHECK(decode(obj, make_object(obj, 1, 2, shape, 2, vt, 3), out, 2, shape, &err) ==
          MCRLE_BYTES_ERR_VALUES);
    CHECK(err.sum == 1);
    /* two lines in one block, then two stray bytes */
    unsigned char tail[3 + 4 + 2] = {0, 0, 0, 0, 0, 1, 0, 9, 9};
    CHECK(decode(obj, make_object(obj, 1, 2, shape, 1, tail, 9), out, 2, shape, &err) ==
          MCRLE_BYTES_ERR_END);
    CHECK(err.index == 7 && err.sum == 9);
    CHECK(strcmp(mcrle_bytes_result_name(MCRLE_BYTES_ERR_SHORT), "payload too short for its lines") == 0);
    for (int r = MCRLE_BYTES_ERR_PAYLOAD; r <= MCRLE_BYTES_ERR_BOOL; r++)
        CHECK(MCRLE_BYTES_PAYLOAD_ERROR(r) && strlen(mcrle_bytes_result_name(r)) > 5);
    end();
}

static void test_header_value_count(void)
{
    begin("bytes form: no more distinct values than the dtype holds");
    size_t shape[1] = {1000};
    unsigned char obj[64], payload[8] = {0};
    mcrle_bytes_info info;
    mcrle_error_info err = {0, 0};
    size_t len = make_object(obj, 0, 1, shape, 3, payload, 8);   /* bool: 3 values */
    CHECK(mcrle_bytes_parse_header(obj, len, &info, &err) == MCRLE_BYTES_ERR_HEADER);
    CHECK(err.index == 10 && err.sum == 3);
    len = make_object(obj, 0, 1, shape, 2, payload, 8);
    CHECK(mcrle_bytes_parse_header(obj, len, &info, &err) == MCRLE_OK);
    size_t big[1] = {100000};
    unsigned char many[300] = {0};
    len = make_object(obj, 1, 1, big, 257, many, 0);   /* header only: payload_len 0 */
    CHECK(mcrle_bytes_parse_header(obj, len, &info, &err) == MCRLE_BYTES_ERR_HEADER);
    end();
}

static void test_one_walk_checks_every_count(void)
{
    begin("window and pair kernels: every count checked in their one walk");
    size_t shape[2] = {4, 3}, start[2] = {0, 0}, stop[2] = {2, 1};
    unsigned char v[6] = {1, 2, 3, 4, 5, 6}, ov[16];
    uint64_t c[6] = {2, 2, 2, 2, 2, 0}, oc[16];   /* a zero count after the window */
    size_t n = 99;
    mcrle_error_info info = {0, 0};
    CHECK(mcrle_window_runs(v, c, 6, 1, 2, shape, start, stop, ov, oc, 16, &n, &info) ==
          MCRLE_ERR_ZERO_COUNT);
    CHECK(info.index == 5 && info.sum == 10 && n == 0);
    c[5] = 3;   /* one too many, after the window */
    CHECK(mcrle_window_runs(v, c, 6, 1, 2, shape, start, stop, ov, oc, 16, &n, &info) ==
          MCRLE_ERR_COUNTS_LONG);
    CHECK(info.index == 5 && info.sum == 13);
    c[5] = 2;
    CHECK(mcrle_window_runs(v, c, 6, 1, 2, shape, start, stop, ov, oc, 16, &n, &info) ==
          MCRLE_OK);
    CHECK(n == 1 && ov[0] == 1 && oc[0] == 2);

    unsigned char ia[2] = {0, 1}, ib[3] = {1, 0, 1};
    uint64_t ca[2] = {6, 6}, cb[3] = {4, 4, 4}, sums[4];
    CHECK(mcrle_pair_sums(ia, ca, 2, 2, ib, cb, 3, 2, 1, 12, sums, &info) == MCRLE_OK);
    CHECK(sums[0] == 2 && sums[1] == 4 && sums[2] == 2 && sums[3] == 4);
    cb[2] = 5;   /* B one too long: named for B, with mcrle_check_counts' info */
    CHECK(mcrle_pair_sums(ia, ca, 2, 2, ib, cb, 3, 2, 1, 12, sums, &info) ==
          MCRLE_ERR_COUNTS_LONG + MCRLE_PAIR_B);
    CHECK(info.index == 2 && info.sum == 13);
    cb[2] = 4;
    ca[0] = 0;   /* A's zero count first, whatever B holds */
    cb[0] = 0;
    CHECK(mcrle_pair_sums(ia, ca, 2, 2, ib, cb, 3, 2, 1, 12, sums, &info) ==
          MCRLE_ERR_ZERO_COUNT);
    CHECK(info.index == 0);
    ca[0] = 6;
    cb[0] = 4;
    ib[1] = 2;   /* an index past B's groups */
    CHECK(mcrle_pair_sums(ia, ca, 2, 2, ib, cb, 3, 2, 1, 12, sums, &info) ==
          MCRLE_ERR_VALUE_RANGE + MCRLE_PAIR_B);
    CHECK(info.index == 1 && info.sum == 2);
    end();
}

int main(void)
{
    test_scratch_of_few_lines();
    test_too_short_for_its_lines();
    test_payload_error_codes();
    test_header_value_count();
    test_one_walk_checks_every_count();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
