/* internal.h - helpers shared by the mcrle kernels; not part of the API. */
#ifndef MCRLE_INTERNAL_H
#define MCRLE_INTERNAL_H

#include <string.h>
#include "mcrle.h"

/*
 * Compiler features: GNU builtins under gcc and clang (MinGW included), MSVC
 * intrinsics under MSVC, portable C elsewhere. Two macros force the other
 * paths so that CI tests them on a machine that has the faster ones:
 * MCRLE_PORTABLE (portable C everywhere, no SSE2) and MCRLE_MSVC_INTRINSICS
 * (the MSVC intrinsics, which MinGW-w64's <intrin.h> also provides).
 */
#if defined(MCRLE_PORTABLE)
#define MCRLE_GNU 0
#define MCRLE_MSVC 0
#elif defined(_MSC_VER) || defined(MCRLE_MSVC_INTRINSICS)
#define MCRLE_GNU 0
#define MCRLE_MSVC 1
#include <intrin.h>
#elif defined(__GNUC__) || defined(__clang__)
#define MCRLE_GNU 1
#define MCRLE_MSVC 0
#else
#define MCRLE_GNU 0
#define MCRLE_MSVC 0
#endif

/* SSE2 is part of the x86-64 baseline (every 64-bit x86 CPU, every compiler's default). */
#if !defined(MCRLE_PORTABLE) && (defined(__SSE2__) || defined(_M_X64))
#define MCRLE_SSE2 1
#else
#define MCRLE_SSE2 0
#endif

/*
 * AVX2 kernels, chosen at run time where the CPU has AVX2: GNU compilers on
 * x86-64 (their target attribute compiles one function for AVX2 without
 * compiling the rest for it; MinGW's GCC too, though the cross build checked
 * here uses the MSVC intrinsics, which leave them out). -DMCRLE_NO_AVX2 leaves them out;
 * mcrle_avx2_off (nonzero: the SSE2 paths) lets the C tests run both.
 */
#if MCRLE_SSE2 && MCRLE_GNU && defined(__x86_64__) && !defined(MCRLE_NO_AVX2)
#define MCRLE_AVX2_DISPATCH 1
#include <immintrin.h>
extern int mcrle_avx2_off;
static inline int mcrle_use_avx2(void)
{
    return !mcrle_avx2_off && __builtin_cpu_supports("avx2");
}

/*
 * BMI2's pext where it is fast: Intel (every CPU with BMI2) and AMD family
 * 19h (Zen 3 and 4). On AMD's Zen 1 and 2 it is microcoded (hundreds of
 * cycles), and families the compiler does not know are left out too.
 * mcrle_pext_off (nonzero: without it) lets the C tests run both.
 */
extern int mcrle_pext_off;
static inline int mcrle_use_pext(void)
{
    return !mcrle_pext_off && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
           (__builtin_cpu_is("intel") || __builtin_cpu_is("amdfam19h"));
}
#endif

#if MCRLE_GNU
#define MCRLE_INLINE static inline __attribute__((always_inline))
#define MCRLE_NOINLINE static __attribute__((noinline))
#define MCRLE_LIKELY(x) __builtin_expect(!!(x), 1)
#define MCRLE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(_MSC_VER)
#define MCRLE_INLINE static __forceinline
#define MCRLE_NOINLINE static __declspec(noinline)
#define MCRLE_LIKELY(x) (x)
#define MCRLE_UNLIKELY(x) (x)
#else
#define MCRLE_INLINE static inline
#define MCRLE_NOINLINE static
#define MCRLE_LIKELY(x) (x)
#define MCRLE_UNLIKELY(x) (x)
#endif

/* C99's restrict: MSVC spells it __restrict unless compiling as C11. */
#if defined(_MSC_VER) && !defined(__cplusplus) && !defined(restrict)
#define restrict __restrict
#endif

/*
 * Byte order of the machine. The formats are little-endian on every machine
 * (docs/format.md); the kernels read and write them byte by byte, and only the
 * word-at-a-time scans below depend on this. csrc/tests checks it at run time.
 */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MCRLE_LITTLE_ENDIAN 0
#elif defined(__BIG_ENDIAN__) || defined(__ARMEB__) || defined(__AARCH64EB__) || \
    defined(__MIPSEB__) || defined(__s390__) || defined(__sparc__)
#define MCRLE_LITTLE_ENDIAN 0
#else
#define MCRLE_LITTLE_ENDIAN 1
#endif

/* Guard on every read or write that depends on untrusted input. */
#define SAFETY_CHECK(cond, err) \
    do { if (MCRLE_UNLIKELY(!(cond))) return (err); } while (0)

/*
 * Run counts come from untrusted buffers that another thread may write into
 * while a kernel runs, so each one is read once into a local and checked
 * there, against the elements not yet covered (left), before anything
 * depends on it. A count is bad when it is 0 or more than left.
 */
#define MCRLE_COUNT_BAD(c, left) MCRLE_UNLIKELY((uint64_t)(c) - 1 >= (uint64_t)(left))

/*
 * The error of run k whose count c (as the walk read it) is bad, after done
 * elements, with the info mcrle_check_counts gives: ZERO_COUNT (k, done) or
 * COUNTS_LONG (k, the saturated sum of every count).
 */
mcrle_result mcrle_count_error(const uint64_t *counts, size_t n_runs, size_t k, uint64_t c,
                               uint64_t done, mcrle_error_info *info);
/* COUNTS_SHORT: all n_runs counts read, summing to done < size. */
mcrle_result mcrle_counts_short(size_t n_runs, uint64_t done, mcrle_error_info *info);

/*
 * An array layout reduced to its essentials: axes of length 1 dropped and
 * axes that are adjacent in Fortran order merged, so that a Fortran-ordered
 * array of any ndim becomes one contiguous axis. Traversal order (Fortran,
 * first axis fastest) is unchanged by both reductions.
 */
typedef struct mcrle_layout {
    int ndim;                           /* >= 1 unless size == 0 */
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];  /* bytes */
    size_t size;                        /* elements */
    size_t elem;                        /* 1, 2, 4 or 8 */
} mcrle_layout;

mcrle_result mcrle_normalize(size_t elem_size, int ndim, const size_t *shape,
                             const ptrdiff_t *strides, mcrle_layout *L);

/*
 * "Slab" layout: axes 1..ndim-1 are C-contiguous inside each slab (one index
 * of axis 0), as in any C-ordered array of 2+ dimensions or a crop of one.
 * Runs go down axis 0, so the kernels compare or copy a whole slab with the
 * previous one (contiguous memory) instead of walking with a large stride.
 */
int mcrle_is_slab(const mcrle_layout *L);

/* Elements of one slab (product of shape[1..]). */
size_t mcrle_slab_width(const mcrle_layout *L);

/*
 * Bands for several threads: band id of n is the indices [K * id / n,
 * K * (id + 1) / n) of L's last (slowest in Fortran order) axis of length
 * K, one contiguous piece of the run sequence, starting at element
 * *first_elem; *B is that piece's layout, at byte *offset from L's start.
 * mcrle_band_count: how many bands L gets for n_threads (at most K, at most
 * MCRLE_MAX_BANDS; 1 for one thread).
 */
void mcrle_band_layout(const mcrle_layout *L, unsigned id, unsigned n, mcrle_layout *B,
                       ptrdiff_t *offset, uint64_t *first_elem);
unsigned mcrle_band_count(const mcrle_layout *L, unsigned n_threads);

/*
 * Walks the axes 1..ndim-1 in Fortran order (the order runs visit columns),
 * keeping the byte offset of the current column.
 */
typedef struct mcrle_odometer {
    int n;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t step[MCRLE_MAX_NDIM];
    size_t idx[MCRLE_MAX_NDIM];
    ptrdiff_t offset;
} mcrle_odometer;

/* Columns of L; step[a] is in bytes (byte_steps) or in elements of a slab. */
void mcrle_odometer_init(mcrle_odometer *o, const mcrle_layout *L, int slab_elements);

MCRLE_INLINE void mcrle_odometer_next(mcrle_odometer *o)
{
    for (int a = 0; a < o->n; a++) {
        o->offset += o->step[a];
        if (++o->idx[a] < o->shape[a]) return;
        o->offset -= o->step[a] * (ptrdiff_t)o->shape[a];
        o->idx[a] = 0;
    }
}

/* Typed element access; E is a compile-time constant after inlining. */
MCRLE_INLINE uint64_t mcrle_load(const unsigned char *p, size_t E)
{
    switch (E) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

MCRLE_INLINE void mcrle_store(unsigned char *p, uint64_t v, size_t E)
{
    switch (E) {
    case 1: *p = (unsigned char)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* Do the 32 bytes at p equal the 32 bytes at q? Four word compares, no branches. */
MCRLE_INLINE int mcrle_eq32(const unsigned char *p, const unsigned char *q)
{
    uint64_t a[4], b[4];
    memcpy(a, p, 32);
    memcpy(b, q, 32);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

/* Index of the lowest set bit of a non-zero word. */
MCRLE_INLINE unsigned mcrle_ctz64(uint64_t x)
{
#if MCRLE_GNU
    return (unsigned)__builtin_ctzll(x);
#elif MCRLE_MSVC && (defined(_M_X64) || defined(_M_ARM64) || defined(__x86_64__))
    unsigned long i;
    _BitScanForward64(&i, x);
    return (unsigned)i;
#else
    /* de Bruijn: the lowest bit alone, times the sequence, indexes the table by its top 6 bits */
    static const unsigned char pos[64] = {
        0, 1, 2, 53, 3, 7, 54, 27, 4, 38, 41, 8, 34, 55, 48, 28, 62, 5, 39, 46, 44, 42,
        22, 9, 24, 35, 59, 56, 49, 18, 29, 11, 63, 52, 6, 26, 37, 40, 33, 47, 61, 45,
        43, 21, 23, 58, 17, 10, 51, 25, 36, 32, 60, 20, 57, 16, 50, 31, 19, 15, 30, 14,
        13, 12};
    return pos[((x & (0 - x)) * UINT64_C(0x022fdd63cc95386d)) >> 58];
#endif
}

MCRLE_INLINE uint64_t mcrle_load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/*
 * Visits every element index j in [0, nb / E) where the E-byte elements of
 * A and B differ, in increasing order; ON_DIFF is a statement using j.
 * Label maps are mostly equal from one row to the next, so the loop skips
 * equal 32-byte blocks with a few vector (SSE2: part of the x86-64 baseline)
 * or word compares, and finds each difference with one ctz.
 */
#if MCRLE_SSE2
#include <emmintrin.h>
/* Bit i set when byte i of the 32 bytes at a and b differ. */
MCRLE_INLINE uint32_t mcrle_diff32(const unsigned char *a, const unsigned char *b)
{
    __m128i e0 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)a),
                                _mm_loadu_si128((const __m128i *)(const void *)b));
    __m128i e1 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(a + 16)),
                                _mm_loadu_si128((const __m128i *)(const void *)(b + 16)));
    uint32_t eq = (uint32_t)_mm_movemask_epi8(e0) | ((uint32_t)_mm_movemask_epi8(e1) << 16);
    return ~eq;
}
#define MCRLE_SCAN_DIFF_AT(A, B, nb, E, J0, ON_DIFF)                           \
    do {                                                                       \
        const unsigned char *a_ = (A), *b_ = (B);                              \
        size_t nb_ = (nb), o_ = 0;                                             \
        for (; o_ + 32 <= nb_; o_ += 32) {                                     \
            uint32_t d_ = mcrle_diff32(a_ + o_, b_ + o_);                      \
            while (d_) {                                                       \
                unsigned k_ = mcrle_ctz64(d_) / (unsigned)(E);                 \
                size_t j = (J0) + o_ / (E) + k_;                               \
                d_ &= ~(uint32_t)(((1u << (E)) - 1) << (k_ * (E)));            \
                ON_DIFF;                                                       \
            }                                                                  \
        }                                                                      \
        for (; o_ < nb_; o_ += (E))                                            \
            if (mcrle_load(a_ + o_, E) != mcrle_load(b_ + o_, E)) {            \
                size_t j = (J0) + o_ / (E);                                    \
                ON_DIFF;                                                       \
            }                                                                  \
    } while (0)
#else
/* Portable: the same with 64-bit words (ctz order needs little-endian). */
#define MCRLE_SCAN_DIFF_AT(A, B, nb, E, J0, ON_DIFF)                           \
    do {                                                                       \
        const unsigned char *a_ = (A), *b_ = (B);                              \
        size_t nb_ = (nb), o_ = 0;                                             \
        for (; o_ + 32 <= nb_; o_ += 32) {                                     \
            if (mcrle_eq32(a_ + o_, b_ + o_)) continue;                        \
            for (size_t w_ = o_; w_ < o_ + 32; w_ += 8) {                      \
                uint64_t x_ = mcrle_load64(a_ + w_) ^ mcrle_load64(b_ + w_);   \
                if (MCRLE_LITTLE_ENDIAN) {                                     \
                    while (x_) {                                               \
                        unsigned k_ = mcrle_ctz64(x_) / (unsigned)(8 * (E));   \
                        size_t j = (J0) + w_ / (E) + k_;                       \
                        x_ &= ~(MCRLE_ELEM_MASK(E) << (k_ * 8 * (E)));         \
                        ON_DIFF;                                               \
                    }                                                          \
                } else if (x_) {                                               \
                    for (size_t q_ = 0; q_ < 8; q_ += (E))                     \
                        if (mcrle_load(a_ + w_ + q_, E) != mcrle_load(b_ + w_ + q_, E)) {\
                            size_t j = (J0) + (w_ + q_) / (E);                 \
                            ON_DIFF;                                           \
                        }                                                      \
                }                                                              \
            }                                                                  \
        }                                                                      \
        for (; o_ < nb_; o_ += (E))                                            \
            if (mcrle_load(a_ + o_, E) != mcrle_load(b_ + o_, E)) {            \
                size_t j = (J0) + o_ / (E);                                    \
                ON_DIFF;                                                       \
            }                                                                  \
    } while (0)
#endif

/* J0 is added to every j: the index of the first element of A within a larger numbering. */
#define MCRLE_SCAN_DIFF(A, B, nb, E, ON_DIFF) MCRLE_SCAN_DIFF_AT(A, B, nb, E, 0, ON_DIFF)

#define MCRLE_ELEM_MASK(E) ((E) == 8 ? ~(uint64_t)0 : (((uint64_t)1 << (8 * (E))) - 1))

/* Dispatch a kernel written for a constant element size. */
#define MCRLE_DISPATCH_ELEM(E, CALL)                                           \
    switch (E) {                                                               \
    case 1: { const size_t E_ = 1; CALL; } break;                              \
    case 2: { const size_t E_ = 2; CALL; } break;                              \
    case 4: { const size_t E_ = 4; CALL; } break;                              \
    default: { const size_t E_ = 8; CALL; } break;                             \
    }

/*
 * An incremental reader of one compact string (strings.c): each call decodes
 * up to cap more numbers, exactly as mcrle_string_decode would (same checks,
 * same error info), so a kernel can walk a string without storing it all.
 */
typedef struct mcrle_str_reader {
    const char *s;
    size_t len, p;          /* the string; offset of the next number */
    size_t m, delta_from;   /* numbers read so far; first index stored as a difference (>= 2) */
    uint64_t back1, back2;  /* the last two numbers */
} mcrle_str_reader;

void mcrle_str_reader_init(mcrle_str_reader *r, const char *s, size_t len, size_t delta_from);
/* Decodes min(cap, numbers left) numbers; *n_out < cap only at the end of the string. */
mcrle_result mcrle_str_read(mcrle_str_reader *r, uint64_t *numbers, size_t cap, size_t *n_out,
                            mcrle_error_info *info);

#endif /* MCRLE_INTERNAL_H */
