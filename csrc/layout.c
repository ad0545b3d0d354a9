/* layout.c - array layout reduction shared by the encoder and decoder; value conversions. */
#include <stdlib.h>
#include "internal.h"
#include "mcrle_threads.h"

const char *mcrle_result_name(mcrle_result r)
{
    switch (r) {
    case MCRLE_OK: return "ok";
    case MCRLE_ERR_ARG: return "invalid argument";
    case MCRLE_ERR_ZERO_COUNT: return "zero count";
    case MCRLE_ERR_COUNTS_SHORT: return "counts sum short of size";
    case MCRLE_ERR_COUNTS_LONG: return "counts sum past size";
    case MCRLE_ERR_BAD_CHAR: return "bad character";
    case MCRLE_ERR_TRUNCATED: return "truncated string";
    case MCRLE_ERR_NUMBER_TOO_LONG: return "number too long";
    case MCRLE_ERR_NOSPACE: return "buffer too small";
    case MCRLE_ERR_NOMEM: return "out of memory";
    case MCRLE_ERR_VALUE_RANGE: return "value out of range";
    case MCRLE_ERR_CHANGED: return "input changed during the call";
    }
    return "unknown result";
}

mcrle_result mcrle_shape_size(int ndim, const size_t *shape, size_t *size)
{
    SAFETY_CHECK(ndim >= 0 && ndim <= MCRLE_MAX_NDIM && size != NULL, MCRLE_ERR_ARG);
    SAFETY_CHECK(ndim == 0 || shape != NULL, MCRLE_ERR_ARG);
    size_t n = 1;
    int zero = 0;
    for (int a = 0; a < ndim; a++) {
        if (shape[a] == 0) zero = 1;
        else if (n > SIZE_MAX / shape[a]) n = SIZE_MAX; /* saturate; an empty axis may still win */
        else n *= shape[a];
    }
    if (zero) { *size = 0; return MCRLE_OK; }
    SAFETY_CHECK(n != SIZE_MAX, MCRLE_ERR_ARG);
    *size = n;
    return MCRLE_OK;
}

/* s * n in ptrdiff_t, or 0 when it overflows (only impossible layouts do). */
static int stride_times(ptrdiff_t s, size_t n, ptrdiff_t *out)
{
    if (n > (size_t)PTRDIFF_MAX) return 0;
    ptrdiff_t m = (ptrdiff_t)n;
    if (s > 0 && m > PTRDIFF_MAX / s) return 0;
    if (s < -1 && m > PTRDIFF_MIN / s) return 0;   /* PTRDIFF_MIN / s > 0 here */
    /* s == -1: -m never overflows for m <= PTRDIFF_MAX */
    *out = s * m;
    return 1;
}

mcrle_result mcrle_normalize(size_t elem_size, int ndim, const size_t *shape,
                             const ptrdiff_t *strides, mcrle_layout *L)
{
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    mcrle_result r = mcrle_shape_size(ndim, shape, &L->size);
    if (r != MCRLE_OK) return r;
    SAFETY_CHECK(ndim == 0 || strides != NULL, MCRLE_ERR_ARG);
    L->elem = elem_size;
    L->ndim = 0;
    if (L->size == 0) return MCRLE_OK;
    for (int a = 0; a < ndim; a++) {
        if (shape[a] == 1) continue;
        int k = L->ndim;
        ptrdiff_t span;
        if (k > 0 && stride_times(L->strides[k - 1], L->shape[k - 1], &span) &&
            span == strides[a]) {
            L->shape[k - 1] *= shape[a];   /* Fortran-adjacent: same traversal */
            continue;
        }
        L->shape[k] = shape[a];
        L->strides[k] = strides[a];
        L->ndim = k + 1;
    }
    if (L->ndim == 0) {   /* a single element */
        L->ndim = 1;
        L->shape[0] = 1;
        L->strides[0] = (ptrdiff_t)elem_size;
    }
    return MCRLE_OK;
}

int mcrle_is_slab(const mcrle_layout *L)
{
    if (L->ndim < 2) return 0;
    if (L->strides[L->ndim - 1] != (ptrdiff_t)L->elem) return 0;
    for (int a = 1; a < L->ndim - 1; a++) {
        ptrdiff_t span;
        if (!stride_times(L->strides[a + 1], L->shape[a + 1], &span) || L->strides[a] != span)
            return 0;
    }
    return 1;
}

size_t mcrle_slab_width(const mcrle_layout *L)
{
    size_t w = 1;
    for (int a = 1; a < L->ndim; a++) w *= L->shape[a];
    return w;
}

void mcrle_odometer_init(mcrle_odometer *o, const mcrle_layout *L, int slab_elements)
{
    o->n = L->ndim - 1;
    o->offset = 0;
    for (int a = 1; a < L->ndim; a++) {
        o->shape[a - 1] = L->shape[a];
        o->step[a - 1] = slab_elements ? L->strides[a] / (ptrdiff_t)L->elem : L->strides[a];
        o->idx[a - 1] = 0;
    }
}

/*
 * A block of numbers into elements at o (not overlapping the block), in one
 * vectorised pass that also ORs together (u - lo) & ~span: nonzero when a
 * number is out of range (its element is then written anyway, cut short).
 */
static uint64_t narrow_block(const uint64_t *restrict block, size_t m, size_t elem_size,
                             uint64_t lo, uint64_t span, unsigned char *restrict o)
{
    uint64_t outside = 0;
    switch (elem_size) {
    case 1:
        for (size_t i = 0; i < m; i++) {
            outside |= (block[i] - lo) & ~span;
            o[i] = (unsigned char)block[i];
        }
        break;
    case 2:
        for (size_t i = 0; i < m; i++) {
            uint16_t w = (uint16_t)block[i];
            outside |= (block[i] - lo) & ~span;
            memcpy(o + 2 * i, &w, 2);
        }
        break;
    case 4:
        for (size_t i = 0; i < m; i++) {
            uint32_t w = (uint32_t)block[i];
            outside |= (block[i] - lo) & ~span;
            memcpy(o + 4 * i, &w, 4);
        }
        break;
    default:
        for (size_t i = 0; i < m; i++) outside |= (block[i] - lo) & ~span;
        memcpy(o, block, m * 8);
        break;
    }
    return outside;
}

mcrle_result mcrle_narrow_values(const uint64_t *numbers, size_t n, int numbers_signed,
                                 mcrle_kind kind, size_t elem_size, void *out,
                                 mcrle_error_info *info)
{
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(kind != MCRLE_KIND_BOOL || elem_size == 1, MCRLE_ERR_ARG);
    SAFETY_CHECK(n == 0 || (numbers != NULL && out != NULL), MCRLE_ERR_ARG);
    unsigned bits = (unsigned)(8 * elem_size);
    /* the accepted range, as signed and as unsigned bounds */
    int64_t smin = 0, smax;
    uint64_t umax;
    if (kind == MCRLE_KIND_BOOL) { smax = 1; umax = 1; }
    else if (kind == MCRLE_KIND_SIGNED) {
        smax = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
        smin = -smax - 1;
        umax = (uint64_t)smax;
    } else {
        umax = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
        smax = bits == 64 ? INT64_MAX : (int64_t)umax;
    }
    unsigned char *o = (unsigned char *)out;
    /*
     * 256 numbers at a time are copied to a block of their own, and only
     * the copy is read after that: each number is read once (another
     * thread may write numbers meanwhile; a number checked and then read
     * again could be stored out of range), and the narrowed elements land
     * below the numbers not yet copied, so out may be numbers itself. Every
     * accepted range is lo .. lo + span with span + 1 a power of two, so a
     * block's check is an OR of (u - lo) & ~span with no branch, in the
     * loop of one element size that narrows it (vectorised; on an error out
     * holds some elements cut short). A check and a store of variable size
     * per number took 4 cycles each.
     */
    uint64_t lo = numbers_signed ? (uint64_t)smin : 0;
    uint64_t span = (numbers_signed ? (uint64_t)smax : umax) - lo;
    uint64_t block[256];
    for (size_t k = 0; k < n; k += 256) {
        size_t m = n - k < 256 ? n - k : 256;
        memcpy(block, numbers + k, m * sizeof(uint64_t));
        if (MCRLE_UNLIKELY(narrow_block(block, m, elem_size, lo, span, o + k * elem_size))) {
            for (size_t j = 0; j < m; j++) {
                if ((block[j] - lo) & ~span) {
                    if (info) { info->index = k + j; info->sum = block[j]; }
                    return MCRLE_ERR_VALUE_RANGE;
                }
            }
        }
    }
    return MCRLE_OK;
}

mcrle_result mcrle_widen_values(const void *values, size_t n, mcrle_kind kind,
                                size_t elem_size, uint64_t *out)
{
    SAFETY_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8,
                 MCRLE_ERR_ARG);
    SAFETY_CHECK(n == 0 || (values != NULL && out != NULL), MCRLE_ERR_ARG);
    const unsigned char *v = (const unsigned char *)values;
    if (kind != MCRLE_KIND_SIGNED || elem_size == 8) {
        for (size_t i = 0; i < n; i++) out[i] = mcrle_load(v + i * elem_size, elem_size);
        return MCRLE_OK;
    }
    unsigned shift = (unsigned)(64 - 8 * elem_size);
    for (size_t i = 0; i < n; i++) {
        /* sign-extend through the top bits, without implementation-defined shifts */
        uint64_t u = mcrle_load(v + i * elem_size, elem_size) << shift;
        out[i] = (u >> 63) ? ~(~u >> shift) : u >> shift;
    }
    return MCRLE_OK;
}

/* ---- distinct values -------------------------------------------------------- */

/*
 * The hash table's first size (values; it doubles as they come) and the
 * array bytes from which threads share the work: lowered by the fuzzers'
 * builds, so that small arrays take every path.
 */
#ifndef MCRLE_DISTINCT_FIRST
#define MCRLE_DISTINCT_FIRST 1024
#endif
#ifndef MCRLE_DISTINCT_MIN_BYTES
#define MCRLE_DISTINCT_MIN_BYTES ((size_t)4 << 20)
#endif

/* Hash slots for capacity values: a power of two of at least 2 * capacity (at least 16). */
static unsigned distinct_bits(size_t capacity)
{
    unsigned b = 4;
    while (b < 62 && ((size_t)1 << b) < 2 * capacity) b++;
    return b;
}

size_t mcrle_distinct_scratch_size(size_t elem_size, size_t capacity)
{
    if (elem_size == 1) return 256;
    if (elem_size == 2) return 65536 / 8;
    if (capacity > SIZE_MAX / 32) return SIZE_MAX;
    return ((size_t)1 << distinct_bits(capacity)) * sizeof(uint64_t) + 8;   /* + the empty flag */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Marks the elements of L in memory order: the contiguous runs of its
 * innermost axis one after the other (L normalized; for C- or
 * Fortran-ordered arrays one run of every element).
 */
#define DISTINCT_WALK(E, BODY)                                                 \
    do {                                                                       \
        int inner = 0;                                                         \
        for (int a = 1; a < L.ndim; a++)                                       \
            if ((L.strides[a] < 0 ? -L.strides[a] : L.strides[a]) <            \
                (L.strides[inner] < 0 ? -L.strides[inner] : L.strides[inner])) \
                inner = a;                                                     \
        size_t n_in = L.shape[inner], outer = L.size / n_in, idx[MCRLE_MAX_NDIM]; \
        ptrdiff_t s_in = L.strides[inner], off = 0;                            \
        for (int a = 0; a < L.ndim; a++) idx[a] = 0;                           \
        for (size_t o = 0; o < outer; o++) {                                   \
            const unsigned char *q = d + off;                                  \
            for (size_t i = 0; i < n_in; i++, q += s_in) {                     \
                BODY;                                                          \
            }                                                                  \
            for (int a = L.ndim - 1; a >= 0; a--) {   /* the other axes */     \
                if (a == inner) continue;                                      \
                off += L.strides[a];                                           \
                if (++idx[a] < L.shape[a]) break;                              \
                off -= L.strides[a] * (ptrdiff_t)L.shape[a];                   \
                idx[a] = 0;                                                    \
            }                                                                  \
        }                                                                      \
    } while (0)

/*
 * Appends to values[*n..] the patterns x in [lo, hi) (multiples of 64) that a
 * presence table marks: one byte per pattern (1-byte elements) or one bit
 * (2-byte elements, bit x & 7 of byte x >> 3), in increasing order,
 * sign-extended from 64 - shift bits when shift is not 0. Reads eight table
 * bytes at a time and skips them when all are zero: a label map holds a few of
 * the 65,536 patterns, and one pattern at a time was most of the work on
 * small maps. Returns 0 (after capacity values) when there are more.
 */
static int distinct_read_table(const unsigned char *seen, size_t E, size_t lo, size_t hi,
                               unsigned shift, uint64_t *values, size_t capacity, size_t *n)
{
    size_t per_byte = E == 1 ? 1 : 8;
    for (size_t g = lo / per_byte; g < hi / per_byte; g += 8) {
        if (mcrle_load64(seen + g) == 0) continue;
        for (size_t b = g; b < g + 8; b++) {
            unsigned bits = E == 1 ? (seen[b] != 0) : seen[b];
            while (bits) {
                uint64_t u = (uint64_t)b * per_byte + mcrle_ctz64(bits);
                bits &= bits - 1;
                if (*n == capacity) return 0;
                if (shift) u = ~(~(u << shift) >> shift);   /* sign-extended */
                values[(*n)++] = u;
            }
        }
    }
    return 1;
}

/* Elements gathered at a time before they are added to the set. */
#define DISTINCT_BATCH 256
#define DISTINCT_RECENT 256

/* The hash set of distinct_layout's wide elements. */
typedef struct distinct_set {
    uint64_t *table;     /* keys; 0: empty */
    unsigned bits, max_bits;
    size_t used, n;      /* keys in the table; distinct values (key 0 included) */
    int has_zero, full;
    uint64_t *values;    /* room for capacity keys: the table's keys wait here while it doubles */
    size_t capacity;
    uint64_t flip;       /* signed: the sign bit, so that keys sort as the values */
    uint64_t sext;       /* signed elements below 8 bytes: their sign bit; else 0 */
    uint64_t recent[DISTINCT_RECENT];   /* a pattern added lately, by its low bits (L1-sized:
                                           a run's value was mostly seen a few lines before) */
} distinct_set;

/* Adds the elements x[0..n) (raw patterns) to the set; stops adding when it is full. */
static void distinct_add(distinct_set *S, const uint64_t *x, size_t n)
{
    size_t mask = ((size_t)1 << S->bits) - 1;
    for (size_t i = 0; i < n && !S->full; i++) {
        uint64_t v = x[i];
        uint64_t *r = &S->recent[v & (DISTINCT_RECENT - 1)];
        if (*r == v) continue;
        *r = v;
        v = (v ^ S->sext) - S->sext;   /* sign-extended: the table holds 64-bit patterns */
        uint64_t key = v ^ S->flip;
        if (key == 0) {
            if (!S->has_zero) { S->has_zero = 1; S->n++; }
        } else {
            size_t h = (size_t)((key * 0x9E3779B97F4A7C15u) >> (64 - S->bits));
            while (S->table[h] != 0 && S->table[h] != key) h = (h + 1) & mask;
            if (S->table[h] != 0) continue;
            S->table[h] = key;
            S->n++;
            if (2 * ++S->used > mask + 1 && S->bits < S->max_bits && S->used <= S->capacity) {
                /* double it: the keys wait in values (room for capacity) meanwhile */
                size_t m = 0;
                for (size_t slot = 0; slot <= mask; slot++)
                    if (S->table[slot]) S->values[m++] = S->table[slot];
                S->bits++;
                mask = ((size_t)1 << S->bits) - 1;
                memset(S->table, 0, (mask + 1) * sizeof(uint64_t));
                for (size_t k = 0; k < m; k++) {
                    size_t g = (size_t)((S->values[k] * 0x9E3779B97F4A7C15u) >> (64 - S->bits));
                    while (S->table[g] != 0) g = (g + 1) & mask;
                    S->table[g] = S->values[k];
                }
            }
        }
        if (S->n > S->capacity) S->full = 1;
    }
}

/*
 * The distinct values of one layout (normalized, not empty) into values
 * (capacity entries), sorted, as mcrle_distinct_values says.
 */
static mcrle_result distinct_layout(const unsigned char *d, const mcrle_layout *Lp, int sgn,
                                    uint64_t *values, size_t capacity, size_t *n_values,
                                    void *scratch)
{
    mcrle_layout L = *Lp;
    const size_t E = L.elem;
    unsigned shift = (unsigned)(64 - 8 * E);
    size_t n = 0;
    size_t need = mcrle_distinct_scratch_size(E, capacity);
    if (E <= 2) {   /* a presence table, read out in order */
        unsigned char *seen = (unsigned char *)scratch;
        memset(seen, 0, need);
        if (E == 1) {
            DISTINCT_WALK(1, seen[*q] = 1);
        } else {
            DISTINCT_WALK(2, {
                uint16_t x;
                memcpy(&x, q, 2);
                seen[x >> 3] |= (unsigned char)(1u << (x & 7));
            });
        }
        /* signed: the negative patterns (top bit set) come first */
        size_t span = E == 1 ? 256 : 65536, half = span / 2;
        int ok = sgn ? distinct_read_table(seen, E, half, span, shift, values, capacity, &n) &&
                           distinct_read_table(seen, E, 0, half, 0, values, capacity, &n)
                     : distinct_read_table(seen, E, 0, span, 0, values, capacity, &n);
        if (!ok) { *n_values = n; return MCRLE_ERR_NOSPACE; }
        *n_values = n;
        return MCRLE_OK;
    }
    /*
     * Wider elements: a hash set of the values as keys (signed ones with the
     * sign bit flipped, so that keys sort as the values do). The walk only
     * gathers the elements that differ from the one before in memory (the
     * first of each run), without a branch: a run's end is unpredictable, and
     * branching there cost more than the compares. Each batch is then added to
     * the set. Slot 0 of the key space is "empty"; the key 0 itself is
     * remembered aside. The table starts small (label maps hold a few thousand
     * values: it stays in L1) and doubles, within the scratch, when half full.
     */
    distinct_set set;
    set.max_bits = distinct_bits(capacity);
    set.bits = distinct_bits(capacity < MCRLE_DISTINCT_FIRST ? capacity : MCRLE_DISTINCT_FIRST);
    set.used = 0;
    set.table = (uint64_t *)scratch;
    memset(set.table, 0, ((size_t)1 << set.bits) * sizeof(uint64_t));
    set.has_zero = 0;
    set.n = 0;
    set.full = 0;
    set.values = values;
    set.capacity = capacity;
    set.flip = sgn ? (uint64_t)1 << 63 : 0;
    set.sext = sgn && E < 8 ? (uint64_t)1 << (8 * E - 1) : 0;
    for (size_t i = 0; i < DISTINCT_RECENT; i++) set.recent[i] = i + 1;   /* none: not in its slot */
    uint64_t batch[DISTINCT_BATCH];
    size_t nb = 0;
    uint64_t last = mcrle_load(d, E) ^ 1;   /* the first element starts a run */
    MCRLE_DISPATCH_ELEM(E, DISTINCT_WALK(E_, {
        uint64_t x = mcrle_load(q, E_);
        batch[nb] = x;
        nb += x != last;
        last = x;
        if (MCRLE_UNLIKELY(nb == DISTINCT_BATCH)) {
            distinct_add(&set, batch, nb);
            nb = 0;
        }
    }));
    distinct_add(&set, batch, nb);
    int full = set.full;
    uint64_t *table = set.table;
    size_t mask = ((size_t)1 << set.bits) - 1;
    const uint64_t flip = set.flip;
    int has_zero = set.has_zero;
    if (full) { *n_values = capacity; return MCRLE_ERR_NOSPACE; }
    size_t k = 0;
    if (has_zero) values[k++] = 0;
    for (size_t h = 0; h <= mask; h++)
        if (table[h]) values[k++] = table[h];
    qsort(values, k, sizeof(uint64_t), cmp_u64);
    for (size_t i = 0; i < k; i++) values[i] ^= flip;
    *n_values = k;
    return MCRLE_OK;
}

/* ---- distinct values on several threads: pieces, then their sorted lists merged ---- */

typedef struct distinct_par {
    const unsigned char *data;
    const mcrle_layout *L;
    int sgn;
    unsigned pieces;
    size_t capacity, piece_bytes;   /* each piece: its values (capacity), then its scratch */
    unsigned char *scratch;
    size_t got[MCRLE_MAX_BANDS];
    mcrle_result result[MCRLE_MAX_BANDS];
} distinct_par;

/* The axis of the largest stride: pieces of it are pieces of memory (order does not matter). */
static int outer_axis(const mcrle_layout *L)
{
    int ax = 0;
    for (int a = 1; a < L->ndim; a++)
        if ((L->strides[a] < 0 ? -L->strides[a] : L->strides[a]) >
            (L->strides[ax] < 0 ? -L->strides[ax] : L->strides[ax]))
            ax = a;
    return ax;
}

static void distinct_piece(void *ctx, unsigned i)
{
    distinct_par *t = (distinct_par *)ctx;
    mcrle_layout B = *t->L;
    int ax = outer_axis(t->L);
    size_t K = t->L->shape[ax], lo = K * i / t->pieces, hi = K * (i + 1) / t->pieces;
    B.shape[ax] = hi - lo;
    B.size = t->L->size / K * (hi - lo);
    unsigned char *mine = t->scratch + (size_t)i * t->piece_bytes;
    t->result[i] = distinct_layout(t->data + (ptrdiff_t)lo * t->L->strides[ax], &B, t->sgn,
                                   (uint64_t *)(void *)mine, t->capacity, &t->got[i],
                                   mine + t->capacity * sizeof(uint64_t));
}

/* Pieces for n_threads: one below MCRLE_DISTINCT_MIN_BYTES of elements, else two per thread. */
static unsigned distinct_pieces(const mcrle_layout *L, unsigned n_threads)
{
    if (n_threads <= 1 || L->size * L->elem < MCRLE_DISTINCT_MIN_BYTES) return 1;
    size_t n = 2 * (size_t)(n_threads > MCRLE_MAX_THREADS ? MCRLE_MAX_THREADS : n_threads);
    if (n > MCRLE_MAX_BANDS) n = MCRLE_MAX_BANDS;
    size_t K = L->shape[outer_axis(L)];
    return (unsigned)(n < K ? n : K);
}

size_t mcrle_distinct_scratch_size_mt(size_t elem_size, int ndim, const size_t *shape,
                                      const ptrdiff_t *strides, size_t capacity,
                                      unsigned n_threads)
{
    size_t one = mcrle_distinct_scratch_size(elem_size, capacity);
    mcrle_layout L;
    if (one == SIZE_MAX || mcrle_normalize(elem_size, ndim, shape, strides, &L) != MCRLE_OK ||
        L.size == 0)
        return one;
    unsigned pieces = distinct_pieces(&L, n_threads);
    if (pieces == 1) return one;
    size_t per = ((one + 7) & ~(size_t)7) + capacity * sizeof(uint64_t);
    if (capacity > SIZE_MAX / 64 || per > SIZE_MAX / MCRLE_MAX_BANDS) return SIZE_MAX;
    return per * pieces;
}

mcrle_result mcrle_distinct_values_mt(const void *data, mcrle_kind kind, size_t elem_size,
                                      int ndim, const size_t *shape, const ptrdiff_t *strides,
                                      uint64_t *values, size_t capacity, size_t *n_values,
                                      void *scratch, size_t scratch_size, unsigned n_threads)
{
    mcrle_layout L;
    SAFETY_CHECK(n_values != NULL && kind <= MCRLE_KIND_UNSIGNED, MCRLE_ERR_ARG);
    SAFETY_CHECK(kind != MCRLE_KIND_BOOL || elem_size == 1, MCRLE_ERR_ARG);
    *n_values = 0;
    mcrle_result r = mcrle_normalize(elem_size, ndim, shape, strides, &L);
    if (r != MCRLE_OK) return r;
    if (L.size == 0) return MCRLE_OK;
    SAFETY_CHECK(data != NULL && (values != NULL || capacity == 0), MCRLE_ERR_ARG);
    size_t need = mcrle_distinct_scratch_size_mt(elem_size, ndim, shape, strides, capacity,
                                                 n_threads);
    SAFETY_CHECK(need != SIZE_MAX && scratch != NULL && scratch_size >= need, MCRLE_ERR_NOSPACE);
    int sgn = kind == MCRLE_KIND_SIGNED;
    unsigned pieces = distinct_pieces(&L, n_threads);
    if (pieces == 1)
        return distinct_layout((const unsigned char *)data, &L, sgn, values, capacity, n_values,
                               scratch);
    distinct_par t;
    t.data = (const unsigned char *)data;
    t.L = &L;
    t.sgn = sgn;
    t.pieces = pieces;
    t.capacity = capacity;
    t.piece_bytes = need / pieces;
    t.scratch = (unsigned char *)scratch;
    mcrle_parallel_for(n_threads, pieces, distinct_piece, &t);
    for (unsigned i = 0; i < pieces; i++)
        if (t.result[i] != MCRLE_OK) return t.result[i];
    /* merge the pieces' sorted lists (keys: signed values with the sign bit flipped) */
    const uint64_t flip = sgn ? (uint64_t)1 << 63 : 0;
    size_t at[MCRLE_MAX_BANDS] = {0}, n = 0;
    for (;;) {
        int best = -1;
        uint64_t key = 0;
        for (unsigned i = 0; i < pieces; i++) {
            if (at[i] == t.got[i]) continue;
            uint64_t k = ((const uint64_t *)(void *)(t.scratch + (size_t)i * t.piece_bytes))[at[i]] ^
                         flip;
            if (best < 0 || k < key) { best = (int)i; key = k; }
        }
        if (best < 0) break;
        for (unsigned i = 0; i < pieces; i++) {   /* every piece's copy of it */
            const uint64_t *list = (const uint64_t *)(void *)(t.scratch + (size_t)i * t.piece_bytes);
            if (at[i] < t.got[i] && (list[at[i]] ^ flip) == key) at[i]++;
        }
        if (n == capacity) { *n_values = n; return MCRLE_ERR_NOSPACE; }
        values[n++] = key ^ flip;
    }
    *n_values = n;
    return MCRLE_OK;
}

mcrle_result mcrle_distinct_values(const void *data, mcrle_kind kind, size_t elem_size, int ndim,
                                   const size_t *shape, const ptrdiff_t *strides,
                                   uint64_t *values, size_t capacity, size_t *n_values,
                                   void *scratch, size_t scratch_size)
{
    return mcrle_distinct_values_mt(data, kind, elem_size, ndim, shape, strides, values, capacity,
                                    n_values, scratch, scratch_size, 1);
}
