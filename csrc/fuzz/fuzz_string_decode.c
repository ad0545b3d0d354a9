/*
 * fuzz_string_decode.c - arbitrary bytes into mcrle_string_decode.
 *
 * Input: byte 0 picks delta_from (bits 0-2: 0..6, or 7 -> SIZE_MAX: no
 * deltas), the SSE2 path instead of the AVX2 one (bit 3) and the pieces the
 * reader check takes (bits 4-7: 1..16 numbers a call); the rest is the string
 * (not NUL-terminated; the buffer is exactly its size). An input of odd
 * length leaves pext out where the CPU has it fast (the AVX2 path's gather).
 * Checks:
 *   - the result, the numbers and the error info agree with an independent
 *     reference decoder written below, and mcrle_string_decode_mt (2 to 4
 *     threads, chunks of 16 characters in the fuzz builds) agrees too;
 *   - on success: re-encoding gives at most mcrle_string_bound(n) bytes,
 *     decoding that again gives the same numbers, and encoding is a fixed
 *     point (encode(decode(encode(x))) == encode(x));
 *   - one number of capacity less gives MCRLE_ERR_NOSPACE;
 *   - the reader (mcrle_str_read) in pieces of 1..16 numbers gives the same numbers.
 */
#include "fuzz_common.h"
#include "internal.h"   /* MCRLE_AVX2_DISPATCH, mcrle_avx2_off, the reader */

/* Reference: pycocotools' rleFrString with every read bounded. */
static mcrle_result ref_decode(const unsigned char *s, size_t len, size_t delta_from,
                               uint64_t *nums, size_t *n_out, size_t *err_index)
{
    size_t p = 0, m = 0;
    while (p < len) {
        size_t start = p;
        uint64_t x = 0;
        unsigned k = 0;
        for (;;) {
            if (p >= len) { *err_index = len; return MCRLE_ERR_TRUNCATED; }
            unsigned c = s[p];
            if (c < '0' || c > 'o') { *err_index = p; return MCRLE_ERR_BAD_CHAR; }
            if (k == 13) { *err_index = start; return MCRLE_ERR_NUMBER_TOO_LONG; }
            c -= '0';
            if (k < 13) x |= (uint64_t)(c & 0x1f) << (5 * k);
            k++;
            p++;
            if (!(c & 0x20)) {
                /* sign-extend from bit 5k - 1 when that is inside 64 bits */
                if ((c & 0x10) && 5 * k < 64) x |= UINT64_MAX << (5 * k);
                break;
            }
        }
        if (m >= 2 && m >= delta_from) x += nums[m - 2];
        nums[m++] = x;
    }
    *n_out = m;
    return MCRLE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t delta_from = (data[0] & 7) == 7 ? SIZE_MAX : (size_t)(data[0] & 7);
#if defined(MCRLE_AVX2_DISPATCH)
    mcrle_avx2_off = (data[0] >> 3) & 1;
    mcrle_pext_off = (int)(size & 1);
#endif
    size_t len = size - 1;
    char *s = (char *)fz_malloc(len);
    memcpy(s, data + 1, len);

    uint64_t *nums = (uint64_t *)fz_malloc(len * sizeof(uint64_t));
    uint64_t *ref = (uint64_t *)fz_malloc(len * sizeof(uint64_t));
    size_t n = 12345, n_ref = 0, ref_index = 0;
    mcrle_error_info info = {777, 777};
    mcrle_result r = mcrle_string_decode(s, len, delta_from, nums, len, &n, &info);
    mcrle_result rr = ref_decode((const unsigned char *)s, len, delta_from, ref, &n_ref, &ref_index);
    FZ_ASSERT(r == rr);
    /* on 2 to 4 threads (chunks of MCRLE_STR_MIN_CHUNK characters in the fuzz builds): the
       same result, numbers and error info */
    {
        uint64_t *mt = (uint64_t *)fz_malloc(len * sizeof(uint64_t));
        size_t n_mt = 54321;
        mcrle_error_info imt = {777, 777};
        mcrle_result rm = mcrle_string_decode_mt(s, len, delta_from, mt, len, &n_mt, &imt,
                                                 2 + (unsigned)(len % 3));
        FZ_ASSERT(rm == r);
        if (r != MCRLE_OK) FZ_ASSERT(imt.index == info.index && imt.sum == info.sum);
        else FZ_ASSERT(n_mt == n && (n == 0 || memcmp(mt, nums, n * sizeof(uint64_t)) == 0));
        free(mt);
    }
    if (r != MCRLE_OK) {
        FZ_ASSERT(info.index == ref_index);
        FZ_ASSERT(info.index <= len);
        if (r == MCRLE_ERR_BAD_CHAR) FZ_ASSERT(info.index < len);
        if (r == MCRLE_ERR_TRUNCATED) FZ_ASSERT(info.index == len);
        /* without an info pointer: same result, no crash */
        FZ_ASSERT(mcrle_string_decode(s, len, delta_from, nums, len, &n, NULL) == r);
        goto done;
    }
    FZ_ASSERT(n == n_ref && n <= len);
    FZ_ASSERT(n == 0 || memcmp(nums, ref, n * sizeof(uint64_t)) == 0);

    /* capacity one short */
    if (n > 0) {
        size_t n2 = 0;
        FZ_ASSERT(mcrle_string_decode(s, len, delta_from, ref, n - 1, &n2, NULL) ==
                  MCRLE_ERR_NOSPACE);
    }

    /* the reader in pieces (its room ends inside the AVX2 path's 8-number stores) */
    {
        size_t step = 1 + (size_t)(data[0] >> 4), got = 0;
        mcrle_str_reader rd;
        mcrle_str_reader_init(&rd, s, len, delta_from);
        while (got < n) {
            size_t k = 0, want = n - got < step ? n - got : step;
            FZ_ASSERT(mcrle_str_read(&rd, ref + got, want, &k, NULL) == MCRLE_OK && k == want);
            got += k;
        }
        FZ_ASSERT(rd.p == len && (n == 0 || memcmp(ref, nums, n * sizeof(uint64_t)) == 0));
    }

    /* re-encode, decode again */
    {
        size_t cap = mcrle_string_bound(n), len2 = 0, len3 = 0, n3 = 0;
        char *enc = (char *)fz_malloc(cap);
        char *enc2 = (char *)fz_malloc(cap);
        FZ_ASSERT(mcrle_string_encode(nums, n, delta_from, enc, cap, &len2) == MCRLE_OK);
        FZ_ASSERT(len2 <= cap);
        FZ_ASSERT(len2 >= n);   /* at least one character per number */
        /* canonical form is never longer than what was decoded */
        FZ_ASSERT(len2 <= len);
        uint64_t *back = (uint64_t *)fz_malloc((len2 ? len2 : 1) * sizeof(uint64_t));
        FZ_ASSERT(mcrle_string_decode(enc, len2, delta_from, back, len2, &n3, NULL) == MCRLE_OK);
        FZ_ASSERT(n3 == n);
        FZ_ASSERT(n == 0 || memcmp(back, nums, n * sizeof(uint64_t)) == 0);
        FZ_ASSERT(mcrle_string_encode(back, n3, delta_from, enc2, cap, &len3) == MCRLE_OK);
        FZ_ASSERT(len3 == len2 && memcmp(enc, enc2, len2) == 0);
        if (len2 > 0) {
            size_t dummy = 0;
            FZ_ASSERT(mcrle_string_encode(nums, n, delta_from, enc2, len2 - 1, &dummy) ==
                      MCRLE_ERR_NOSPACE);
        }
        free(back);
        free(enc2);
        free(enc);
    }
done:
    free(ref);
    free(nums);
    free(s);
    return 0;
}
