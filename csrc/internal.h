/* internal.h - helpers shared by the mcrle kernels; not part of the API. */
#ifndef MCRLE_INTERNAL_H
#define MCRLE_INTERNAL_H

#include <string.h>
#include "mcrle.h"

#if defined(__GNUC__) || defined(__clang__)
#define MCRLE_INLINE static inline __attribute__((always_inline))
#define MCRLE_LIKELY(x) __builtin_expect(!!(x), 1)
#define MCRLE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MCRLE_INLINE static inline
#define MCRLE_LIKELY(x) (x)
#define MCRLE_UNLIKELY(x) (x)
#endif

/* Guard on every read or write that depends on untrusted input. */
#define SAFETY_CHECK(cond, err) \
    do { if (MCRLE_UNLIKELY(!(cond))) return (err); } while (0)

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

/* Dispatch a kernel written for a constant element size. */
#define MCRLE_DISPATCH_ELEM(E, CALL)          \
    switch (E) {                              \
    case 1: { const size_t E_ = 1; CALL; } break; \
    case 2: { const size_t E_ = 2; CALL; } break; \
    case 4: { const size_t E_ = 4; CALL; } break; \
    default: { const size_t E_ = 8; CALL; } break; \
    }

#endif /* MCRLE_INTERNAL_H */
