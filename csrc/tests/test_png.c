/*
 * test_png.c - unit tests of mcrle_png_unfilter against a naive reference
 * written from the PNG specification (9.2), on rows of every filter type,
 * bytes per pixel 1..8, lengths around the kernel's 16-byte blocks, and data
 * full of zero residuals (the kernel's shortcuts), plus every error result.
 * mcrle_png_id_runs against the reference unfiltering, ids and a naive
 * Fortran-order run-length encoding: every filter type, RGB and RGBA (alpha
 * varying under equal ids), widths around its 8-pixel blocks, too little
 * room (the count it asks for then suffices) and every error result.
 * Buffers are exactly their size, so a sanitizer build catches any access
 * outside them. Last line: "N passed, N failed"; exit status 1 on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcrle_png.h"
#include "check.h"
#include "png_ref.h"


static uint64_t rng = 0x9E3779B97F4A7C15u;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
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
                    size_t bad_row = 0;
                    CHECK(ref_unfilter(in, rows, rb, bpp, want, &bad_row) == 0);
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

/* The PNG filter of type `type` applied to rows of unfiltered `img` (the inverse of
 * ref_unfilter): one filter byte + rb bytes per row into out. */
static void ref_filter(const unsigned char *img, size_t rows, size_t rb, size_t bpp,
                       const unsigned char *types, unsigned char *out)
{
    for (size_t r = 0; r < rows; r++) {
        unsigned type = types[r];
        out[r * (rb + 1)] = (unsigned char)type;
        for (size_t i = 0; i < rb; i++) {
            int a = i >= bpp ? img[r * rb + i - bpp] : 0;
            int b = r ? img[(r - 1) * rb + i] : 0;
            int c = (r && i >= bpp) ? img[(r - 1) * rb + i - bpp] : 0;
            unsigned pred = type == 0 ? 0u : type == 1 ? (unsigned)a : type == 2 ? (unsigned)b
                          : type == 3 ? (unsigned)(a + b) / 2 : ref_paeth(a, b, c);
            out[r * (rb + 1) + 1 + i] = (unsigned char)(img[r * rb + i] - pred);
        }
    }
}

/* Naive Fortran-order runs of the ids of an unfiltered image; returns the count. */
static size_t ref_id_runs(const unsigned char *img, size_t rows, size_t width, size_t bpp,
                          uint32_t *values, uint64_t *counts)
{
    size_t n = 0;
    for (size_t c = 0; c < width; c++)
        for (size_t r = 0; r < rows; r++) {
            const unsigned char *p = img + (r * width + c) * bpp;
            uint32_t id = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
            if (n && values[n - 1] == id) counts[n - 1]++;
            else { values[n] = id; counts[n] = 1; n++; }
        }
    return n;
}

static size_t ref_changes(const unsigned char *img, size_t rows, size_t width, size_t bpp)
{
    size_t n = 0;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < width; c++)
            n += r == 0 || memcmp(img + (r * width + c) * bpp,
                                  img + ((r - 1) * width + c) * bpp, 3) != 0;
    return n;
}

/* mode 0: random bytes; 1: blocks of few ids; 2: few ids, alpha random; 3: one id */
static void make_image(unsigned char *img, size_t rows, size_t width, size_t bpp, int mode)
{
    static const unsigned char pal[4][3] = {{0, 0, 0}, {1, 2, 3}, {200, 0, 7}, {1, 2, 4}};
    unsigned cur = rnd(4);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < width; c++) {
            unsigned char *p = img + (r * width + c) * bpp;
            if (mode == 0) {
                for (size_t k = 0; k < bpp; k++) p[k] = (unsigned char)rnd(256);
                continue;
            }
            if (mode != 3 && rnd(r && rnd(3) ? 40 : 9) == 0) cur = rnd(4);
            if (r && mode != 3 && rnd(3)) {   /* often repeat the pixel above */
                memcpy(p, p - width * bpp, 3);
            } else {
                memcpy(p, pal[cur], 3);
            }
            if (bpp == 4) p[3] = mode == 2 ? (unsigned char)rnd(256) : 255;
        }
}

static void test_id_runs(void)
{
    static const size_t widths[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 33, 100, 257};
    for (unsigned bpp = 3; bpp <= 4; bpp++)
        for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
            for (int mode = 0; mode < 4; mode++)
                for (int rep = 0; rep < 5; rep++) {
                    size_t width = widths[w], rows = 1 + rnd(12), rb = width * bpp;
                    size_t size = rows * width, in_len = rows * (rb + 1);
                    unsigned char *img = malloc(rows * rb), *in = malloc(in_len);
                    unsigned char *types = malloc(rows);
                    for (size_t r = 0; r < rows; r++)   /* rep k: filter type k in half the rows */
                        types[r] = (unsigned char)(rnd(2) ? (unsigned)rep : rnd(5));
                    make_image(img, rows, width, bpp, mode);
                    ref_filter(img, rows, rb, bpp, types, in);
                    uint32_t *want_v = malloc(size * 4);
                    uint64_t *want_c = malloc(size * 8);
                    size_t want_n = ref_id_runs(img, rows, width, bpp, want_v, want_c);
                    size_t changes = ref_changes(img, rows, width, bpp);
                    unsigned char *work = malloc(2 * rb);
                    size_t *col = malloc(width * sizeof *col);
                    /* first too little room (when there can be), then what it asks for */
                    size_t room = changes > 1 ? rnd((unsigned)changes) : changes;
                    for (int pass = 0; pass < 2; pass++) {
                        uint32_t *ch = malloc(3 * room * 4 + 1), *v = malloc(room * 4 + 1);
                        uint64_t *cn = malloc(room * 8 + 1);
                        size_t n = 77;
                        mcrle_error_info info = {7, 7};
                        int r = mcrle_png_id_runs(in, in_len, rows, width, bpp, work, 2 * rb,
                                                  col, width, ch, 3 * room, v, cn, room, &n,
                                                  &info);
                        if (room < changes) {
                            CHECK(r == MCRLE_PNG_ERR_RUNS && n == 0);
                            CHECK(info.sum == changes && info.index == 0);
                            room = (size_t)info.sum;
                        } else {
                            CHECK(r == MCRLE_OK && info.sum == 0 && info.index == 0);
                            CHECK(n == want_n);
                            CHECK(n == want_n && memcmp(v, want_v, n * 4) == 0 &&
                                  memcmp(cn, want_c, n * 8) == 0);
                            pass = 2;
                        }
                        free(ch);
                        free(v);
                        free(cn);
                    }
                    free(img);
                    free(in);
                    free(types);
                    free(want_v);
                    free(want_c);
                    free(work);
                    free(col);
                }
}

static void test_id_runs_errors(void)
{
    /* 3 rows of 2 RGB pixels, all zero: one run of 6 */
    unsigned char in[3 * 7], work[12];
    size_t col[2], n = 9;
    uint32_t ch[3 * 6], v[6];
    uint64_t cn[6];
    mcrle_error_info info;
    memset(in, 0, sizeof in);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 12, col, 2, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_OK);
    CHECK(n == 1 && v[0] == 0 && cn[0] == 6);
    CHECK(mcrle_png_id_runs(in, sizeof in - 1, 3, 2, 3, work, 12, col, 2, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_PNG_ERR_LENGTH);
    CHECK(info.sum == sizeof in - 1 && n == 0);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 2, work, 12, col, 2, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 12, col, 2, ch, 18, v, cn, 6, NULL,
                            &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_id_runs(NULL, sizeof in, 3, 2, 3, work, 12, col, 2, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 11, col, 2, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_ERR_NOSPACE);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 12, col, 1, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_ERR_NOSPACE);
    /* room for one change of the two row 0 has */
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 12, col, 2, ch, 3, v, cn, 6, &n,
                            &info) == MCRLE_PNG_ERR_RUNS);
    CHECK(info.sum == 2);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 12, col, 2, ch, 18, v, cn, 1, &n,
                            NULL) == MCRLE_PNG_ERR_RUNS);
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0,
                            &n, &info) == MCRLE_ERR_ARG);
    CHECK(mcrle_png_id_runs(NULL, 0, 0, 2, 3, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0, &n,
                            &info) == MCRLE_OK && n == 0);
    /* no pixels: the filter bytes are still checked */
    unsigned char z[2] = {0, 5};
    CHECK(mcrle_png_id_runs(z, 2, 2, 0, 3, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0, &n,
                            &info) == MCRLE_PNG_ERR_FILTER && info.index == 1);
    z[1] = 4;
    CHECK(mcrle_png_id_runs(z, 2, 2, 0, 3, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0, &n,
                            &info) == MCRLE_OK && n == 0);
    /* a bad filter type in row 1 */
    in[7] = 5;
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, 2, 3, work, 12, col, 2, ch, 18, v, cn, 6, &n,
                            &info) == MCRLE_PNG_ERR_FILTER);
    CHECK(info.index == 1 && n == 0);
    /* sizes above UINT32_MAX, and overflowing ones */
    CHECK(mcrle_png_id_runs(in, sizeof in, (size_t)UINT32_MAX + 1, 2, 3, work, 12, col, 2, ch,
                            18, v, cn, 6, &n, &info) == (SIZE_MAX > UINT32_MAX ? MCRLE_ERR_ARG
                                                         : MCRLE_PNG_ERR_LENGTH));
    CHECK(mcrle_png_id_runs(in, sizeof in, 3, SIZE_MAX / 4, 4, work, 12, col, 2, ch, 18, v, cn,
                            6, &n, &info) != MCRLE_OK);
}

int main(void)
{
    test_random();
    test_errors();
    test_id_runs();
    test_id_runs_errors();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
