/* layout.c - array layout reduction shared by the encoder and decoder. */
#include "internal.h"

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
    for (size_t i = 0; i < n; i++) {
        uint64_t u = numbers[i];
        int ok = numbers_signed ? ((int64_t)u >= smin && (int64_t)u <= smax) : u <= umax;
        if (MCRLE_UNLIKELY(!ok)) {
            if (info) { info->index = i; info->sum = u; }
            return MCRLE_ERR_VALUE_RANGE;
        }
        mcrle_store(o + i * elem_size, u, elem_size);
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
