/*
 * test_portable.c - the helpers whose code differs by compiler and CPU
 * (csrc/internal.h): GNU builtins, MSVC intrinsics, portable C, SSE2 or
 * word-at-a-time scans, little- or big-endian. Each build of the kernels
 * (gcc, clang, MCRLE_PORTABLE, MinGW with MCRLE_MSVC_INTRINSICS, aarch64,
 * s390x) runs it, so every variant is checked against plain loops.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"


static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t next_random(void)   /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static void test_byte_order(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    CHECK_MSG(MCRLE_LITTLE_ENDIAN == (first == 1), "MCRLE_LITTLE_ENDIAN is %d on a %s-endian machine",
          MCRLE_LITTLE_ENDIAN, first == 1 ? "little" : "big");
    unsigned char b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_MSG(mcrle_load(b, 2) == (MCRLE_LITTLE_ENDIAN ? 0x0201u : 0x0102u), "mcrle_load is native");
}

static void test_ctz(void)
{
    for (unsigned i = 0; i < 64; i++) {
        uint64_t x = (uint64_t)1 << i;
        CHECK_MSG(mcrle_ctz64(x) == i, "ctz64(1 << %u) = %u", i, mcrle_ctz64(x));
        CHECK_MSG(mcrle_ctz64(x | ~(uint64_t)0 << i) == i, "ctz64 of ones above bit %u", i);
    }
    for (int k = 0; k < 10000; k++) {
        uint64_t x = next_random() >> (next_random() % 64);
        if (!x) continue;
        unsigned n = 0;
        while (!((x >> n) & 1)) n++;
        CHECK_MSG(mcrle_ctz64(x) == n, "ctz64(%llx)", (unsigned long long)x);
    }
}

static void test_string_count(void)
{
    /* mcrle_string_count uses popcount: against a plain count of the characters that end a number */
    char s[300];
    for (int k = 0; k < 2000; k++) {
        size_t len = (size_t)(next_random() % sizeof s);
        size_t expect = 0;
        for (size_t i = 0; i < len; i++) {
            s[i] = (char)(next_random() % 4 ? 48 + next_random() % 64 : next_random() % 256);
            expect += (unsigned)((unsigned char)s[i] - 48u) < 32u;
        }
        CHECK_MSG(mcrle_string_count(s, len) == expect, "string_count of %lu characters", (unsigned long)len);
    }
}

static void test_scan_diff(void)
{
    /* every position where two buffers differ, in order, for each element size */
    static const size_t sizes[] = {1, 2, 4, 8};
    unsigned char a[200], b[200];
    for (int k = 0; k < 4000; k++) {
        size_t E = sizes[k % 4], nb = (size_t)(next_random() % (sizeof a / E + 1)) * E;
        for (size_t i = 0; i < nb; i++) a[i] = b[i] = (unsigned char)next_random();
        int flips = (int)(next_random() % 6);
        for (int f = 0; f < flips && nb; f++) b[next_random() % nb] ^= (unsigned char)(1u << (next_random() % 8));
        size_t expect[200], ne = 0, got[200], ng = 0;
        for (size_t j = 0; j < nb / E; j++)
            if (memcmp(a + j * E, b + j * E, E) != 0) expect[ne++] = j;
        MCRLE_SCAN_DIFF(a, b, nb, E, { if (ng < 200) got[ng++] = j; });
        CHECK_MSG(ng == ne && memcmp(got, expect, ne * sizeof *got) == 0,
              "scan_diff E=%lu nb=%lu: %lu positions, expected %lu", (unsigned long)E, (unsigned long)nb,
              (unsigned long)ng, (unsigned long)ne);
    }
}

int main(void)
{
    printf("build: %s, %s, %s-endian\n", MCRLE_GNU ? "GNU builtins" : MCRLE_MSVC ? "MSVC intrinsics" : "portable C",
           MCRLE_SSE2 ? "SSE2" : "no SIMD", MCRLE_LITTLE_ENDIAN ? "little" : "big");
    test_byte_order();
    test_ctz();
    test_string_count();
    test_scan_diff();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
