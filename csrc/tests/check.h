/*
 * check.h - the counting CHECK of the small C test programs (test_png.c,
 * test_eval.c): each check passes or fails, the first failures are printed
 * with their line, and main prints "N passed, N failed".
 */
#ifndef MCRLE_TEST_CHECK_H
#define MCRLE_TEST_CHECK_H

#include <stdio.h>

static int n_passed, n_failed;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (cond) n_passed++;                                                   \
        else {                                                                  \
            n_failed++;                                                         \
            if (n_failed < 50) fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                       \
    } while (0)

#endif /* MCRLE_TEST_CHECK_H */
