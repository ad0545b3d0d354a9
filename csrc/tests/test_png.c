/*
 * test_png.c - unit tests of mcrle_png_unfilter against a naive reference
 * written from the PNG specification (9.2), on rows of every filter type,
 * bytes per pixel 1..8, lengths around the kernel's 16-byte blocks, and data
 * full of zero residuals (the kernel's shortcuts), plus every error result.
 * Buffers are exactly their size, so a sanitizer build catches any access
 * outside them. Last line: "N passed, N failed"; exit status 1 on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcrle_png.h"
#include "check.h"


static uint64_t rng = 0x9E3779B97F4A7C15u;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static unsigned ref_paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc) return (unsigned)a;
    if (pb <= pc) return (unsigned)b;
    return (unsigned)c;
}

static void ref_unfilter(const unsigned char *in, size_t rows, size_t rb, size_t bpp,
                         unsigned char *out)
{
    for (size_t r = 0; r < rows; r++) {
        const unsigned char *x = in + r * (rb + 1) + 1;
        unsigned type = in[r * (rb + 1)];
        for (size_t i = 0; i < rb; i++) {
            int a = i >= bpp ? out[r * rb + i - bpp] : 0;
            int b = r ? out[(r - 1) * rb + i] : 0;
            int c = (r && i >= bpp) ? out[(r - 1) * rb + i - bpp] : 0;
            unsigned pred = type == 0 ? 0u : type == 1 ? (unsigned)a : type == 2 ? (unsigned)b
                          : type == 3 ? (unsigned)(a + b) / 2 : ref_paeth(a, b, c);
            out[r * rb + i] = (unsigned char)(x[i] + pred);
        }
    }
}

/* Filtered data of a label-map-like image: a few labels in blocks, rows often
 * repeating the row above; mode 0 random bytes, 1 label blocks, 2 all zero. */
static void make_input(unsigned char *in, size_t rows, size_t rb, int mode)
{
    for (size_t r = 0; r < rows; r++) {
        unsigned char *row = in + r * (rb + 1);
        row[0] = (unsigned char)rnd(5);
        for (size_t i = 0; i < rb; i++) {
            if (mode == 0) row[1 + i] = (unsigned char)rnd(256);
            else if (mode == 2) row[1 + i] = 0;
            else row[1 + i] = rnd(40) == 0 ? (unsigned char)rnd(4) : 0;
        }
    }
}

static void test_random(void)
{
    static const size_t widths[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 47, 48, 100, 257};
    for (unsigned bpp = 1; bpp <= 8; bpp++)
        for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
            for (int mode = 0; mode < 3; mode++)
                for (int rep = 0; rep < 6; rep++) {
                    size_t rows = 1 + rnd(9), rb = widths[w] * bpp / (1 + (bpp > 4));
                    size_t in_len = rows * (rb + 1);
                    unsigned char *in = malloc(in_len ? in_len : 1);
                    unsigned char *got = malloc(rows * rb + 1), *want = malloc(rows * rb + 1);
                    make_input(in, rows, rb, mode);
                    if (rep == 5) {   /* the row-equals-above shortcut with varied rows above */
                        for (size_t i = 0; i < rb; i++) in[1 + i] = (unsigned char)rnd(3);
                        for (size_t r = 1; r < rows; r++) in[r * (rb + 1)] = 4;
                    }
                    ref_unfilter(in, rows, rb, bpp, want);
                    mcrle_error_info info = {7, 7};
                    CHECK(mcrle_png_unfilter(in, in_len, rows, rb, bpp, got, rows * rb, &info) ==
                          MCRLE_OK);
                    CHECK(info.index == 0 && info.sum == 0);
                    CHECK(rows * rb == 0 || memcmp(got, want, rows * rb) == 0);
                    free(in);
                    free(got);
                    free(want);
                }
}

static void test_errors(void)
{
    unsigned char in[3 * 5], out[3 * 4];
    memset(in, 0, sizeof in);
    mcrle_error_info info;
    CHECK(mcrle_png_unfilter(in, sizeof in, 3, 4, 1, out, sizeof out, &info) == MCRLE_OK);
    CHECK(mcrle_png_unfilter(in, sizeof in - 1, 3, 4, 1, out, sizeof out, &info) ==
          MCRLE_PNG_ERR_LENGTH);
    CHECK(info.sum == sizeof in - 1);
    CHECK(mcrle_png_unfilter(in, sizeof in, 3, 4, 1, out, sizeof out - 1, &info) ==
          MCRLE_ERR_NOSPACE);
    CHECK(mcrle_png_unfilter(in, sizeof in, 3, 4, 0, out, sizeof out, &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_unfilter(in, sizeof in, 3, 4, 9, out, sizeof out, &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_unfilter(NULL, sizeof in, 3, 4, 1, out, sizeof out, &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_unfilter(NULL, 0, 0, 4, 1, NULL, 0, NULL) == MCRLE_OK);
    /* a bad filter type in row 2: rows 0 and 1 written, row 2 untouched */
    for (size_t i = 0; i < sizeof in; i++) in[i] = (unsigned char)(i % 5 ? 3 : 1);
    in[2 * 5] = 5;
    memset(out, 0xEE, sizeof out);
    CHECK(mcrle_png_unfilter(in, sizeof in, 3, 4, 1, out, sizeof out, &info) ==
          MCRLE_PNG_ERR_FILTER);
    CHECK(info.index == 2);
    CHECK(out[0] == 3 && out[7] == 12 && out[8] == 0xEE && out[11] == 0xEE);
    in[2 * 5] = 255;
    CHECK(mcrle_png_unfilter(in, sizeof in, 3, 4, 1, out, sizeof out, NULL) ==
          MCRLE_PNG_ERR_FILTER);
    /* sizes that overflow */
    CHECK(mcrle_png_filtered_size(SIZE_MAX / 2, 2) == SIZE_MAX);
    CHECK(mcrle_png_filtered_size(3, SIZE_MAX) == SIZE_MAX);
    CHECK(mcrle_png_filtered_size(0, SIZE_MAX - 1) == 0);
    CHECK(mcrle_png_filtered_size(3, 4) == 15);
    CHECK(mcrle_png_unfilter(in, sizeof in, SIZE_MAX / 2, 2, 1, out, sizeof out, &info) ==
          MCRLE_PNG_ERR_LENGTH);
}

int main(void)
{
    test_random();
    test_errors();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
