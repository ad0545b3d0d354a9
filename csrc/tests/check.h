/*
 * check.h - the counting checks of the small C test programs (test_png.c,
 * test_eval.c, test_golden.c, test_portable.c): each check passes or fails,
 * failures are printed with their line (the first 50 of CHECK; every one of
 * CHECK_MSG, with its message) and the program goes on; main prints
 * "N passed, N failed" and exits 1 when any failed.
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

/* CHECK with a printf-style message saying what was found. */
#define CHECK_MSG(cond, ...)                                                    \
    do {                                                                        \
        if (cond) n_passed++;                                                   \
        else {                                                                  \
            n_failed++;                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

#endif /* MCRLE_TEST_CHECK_H */
