/*
 * png_ref.h - a reference PNG unfilter written from the PNG specification
 * (section 9: filter types 0-4, bytes before the row's start and above the
 * first row read as 0), byte by byte with no shortcut, for the C tests and
 * the fuzz harnesses of csrc/png.c (the harnesses include it as
 * "../tests/png_ref.h").
 */
#ifndef MCRLE_PNG_REF_H
#define MCRLE_PNG_REF_H

#include <stddef.h>
#include <stdlib.h>

static unsigned ref_paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc) return (unsigned)a;
    if (pb <= pc) return (unsigned)b;
    return (unsigned)c;
}

/*
 * Unfilters rows of rb bytes (bpp bytes per pixel) from in (each row its
 * filter type byte, then the row) into out (the rows one after another).
 * Returns 1 and sets *bad_row at the first filter type above 4 (rows before
 * it written, it and later ones not), else 0.
 */
static int ref_unfilter(const unsigned char *in, size_t rows, size_t rb, size_t bpp,
                        unsigned char *out, size_t *bad_row)
{
    for (size_t r = 0; r < rows; r++) {
        const unsigned char *x = in + r * (rb + 1) + 1;
        unsigned type = in[r * (rb + 1)];
        if (type > 4) {
            *bad_row = r;
            return 1;
        }
        for (size_t i = 0; i < rb; i++) {
            int a = i >= bpp ? out[r * rb + i - bpp] : 0;
            int b = r ? out[(r - 1) * rb + i] : 0;
            int c = (r && i >= bpp) ? out[(r - 1) * rb + i - bpp] : 0;
            unsigned pred = type == 0 ? 0u : type == 1 ? (unsigned)a : type == 2 ? (unsigned)b
                          : type == 3 ? (unsigned)(a + b) / 2 : ref_paeth(a, b, c);
            out[r * rb + i] = (unsigned char)(x[i] + pred);
        }
    }
    return 0;
}

#endif
