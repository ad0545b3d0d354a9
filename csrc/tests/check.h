/* check.h - the CHECK macro and counters of test_golden.c and test_portable.c. */
#ifndef MCRLE_TESTS_CHECK_H
#define MCRLE_TESTS_CHECK_H

#include <stdio.h>

static int failures, checks;

/* Counts a check; on failure prints where and why, and goes on. */
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        checks++;                                                               \
        if (!(cond)) {                                                          \
            failures++;                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

#endif
