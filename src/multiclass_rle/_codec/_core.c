/*
 * _core.c - the Python binding of the mcrle kernels.
 *
 * It only converts buffers (any object with the buffer protocol: numpy
 * arrays, bytes, bytearray, memoryview), releases the GIL around the
 * kernels, and turns result codes into CodecError(code, name, index, sum).
 * Validation with readable messages, dtypes and defaults live in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "mcrle.h"
#include "mcrle_bytes.h"
#include "mcrle_png.h"

static PyObject *CodecError;

static PyObject *raise_result(mcrle_result r, const mcrle_error_info *info)
{
    PyObject *args = Py_BuildValue("(isnK)", (int)r, mcrle_result_name(r),
                                   (Py_ssize_t)(info ? info->index : 0),
                                   (unsigned long long)(info ? info->sum : 0));
    if (args) {
        PyErr_SetObject(CodecError, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* Copies a buffer's shape and strides into the kernel's types. */
static int buffer_layout(const Py_buffer *v, size_t *shape, ptrdiff_t *strides)
{
    if (v->ndim > MCRLE_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "arrays of more than %d dimensions are not supported",
                     MCRLE_MAX_NDIM);
        return -1;
    }
    if (v->itemsize != 1 && v->itemsize != 2 && v->itemsize != 4 && v->itemsize != 8) {
        PyErr_Format(PyExc_TypeError, "element size must be 1, 2, 4 or 8 bytes, not %zd",
                     v->itemsize);
        return -1;
    }
    for (int a = 0; a < v->ndim; a++) {
        shape[a] = (size_t)v->shape[a];
        strides[a] = v->strides ? (ptrdiff_t)v->strides[a] : 0;
    }
    if (!v->strides && v->ndim > 0) {   /* C-contiguous buffer without strides */
        ptrdiff_t s = (ptrdiff_t)v->itemsize;
        for (int a = v->ndim - 1; a >= 0; a--) { strides[a] = s; s *= (ptrdiff_t)shape[a]; }
    }
    return 0;
}

PyDoc_STRVAR(encode_doc,
"encode(array) -> (values: bytearray, counts: bytearray)\n\n"
"Runs of any strided buffer in Fortran order; counts are native uint64.");

/* A values / counts pair of bytearrays with room for cap runs of elem-byte values; -1 on error. */
static int new_runs(size_t cap, size_t elem, PyObject **values, PyObject **counts)
{
    if (cap > (size_t)PY_SSIZE_T_MAX / 8) { PyErr_NoMemory(); *values = *counts = NULL; return -1; }
    *values = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(cap * elem));
    *counts = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(cap * sizeof(uint64_t)));
    return *values && *counts ? 0 : -1;
}

/* Cuts the pair down to the n runs a kernel wrote; -1 on error. */
static int trim_runs(PyObject *values, PyObject *counts, size_t n, size_t elem)
{
    if (PyByteArray_Resize(values, (Py_ssize_t)(n * elem)) < 0 ||
        PyByteArray_Resize(counts, (Py_ssize_t)(n * sizeof(uint64_t))) < 0)
        return -1;
    return 0;
}

/* Runs an encode with room for `capacity` runs; 0 on success, 1 if too small, -1 on error. */
static int encode_into(const Py_buffer *v, const size_t *shape, const ptrdiff_t *strides,
                       size_t capacity, PyObject **values, PyObject **counts)
{
    size_t written = 0, scratch_size;
    void *scratch = NULL;
    mcrle_result r;
    if (new_runs(capacity, (size_t)v->itemsize, values, counts) < 0) goto fail;
    scratch_size = mcrle_encode_scratch_size((size_t)v->itemsize, v->ndim, shape, strides, capacity);
    if (scratch_size == SIZE_MAX) { PyErr_NoMemory(); goto fail; }
    if (scratch_size && !(scratch = PyMem_RawMalloc(scratch_size))) { PyErr_NoMemory(); goto fail; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_encode(v->buf, (size_t)v->itemsize, v->ndim, shape, strides,
                     PyByteArray_AS_STRING(*values),
                     (uint64_t *)(void *)PyByteArray_AS_STRING(*counts),
                     capacity, &written, scratch, scratch_size);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    if (r == MCRLE_ERR_NOSPACE) { Py_CLEAR(*values); Py_CLEAR(*counts); return 1; }
    if (r != MCRLE_OK) { raise_result(r, NULL); goto fail; }
    if (trim_runs(*values, *counts, written, (size_t)v->itemsize) < 0) goto fail;
    return 0;
fail:
    Py_CLEAR(*values);
    Py_CLEAR(*counts);
    return -1;
}

/*
 * Label maps have far fewer runs than elements, so one pass with a guessed
 * capacity usually suffices; only when it does not are the runs counted
 * first (a second, cheaper pass) and the encode redone at the exact size.
 * The guess is capped so that a huge volume does not reserve huge buffers.
 */
#define GUESS_MAX_RUNS ((size_t)1 << 18)

static PyObject *py_encode(PyObject *self, PyObject *arg)
{
    Py_buffer v;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    PyObject *values = NULL, *counts = NULL, *result = NULL;
    size_t size = 1, n_runs = 0, guess;
    mcrle_result r;
    int status;

    if (PyObject_GetBuffer(arg, &v, PyBUF_RECORDS_RO) < 0) return NULL;
    if (buffer_layout(&v, shape, strides) < 0) goto done;
    for (int a = 0; a < v.ndim; a++) size *= shape[a];
    guess = size / 8 + 16;
    if (guess > GUESS_MAX_RUNS) guess = GUESS_MAX_RUNS;
    if (guess > size) guess = size;
    status = encode_into(&v, shape, strides, guess, &values, &counts);
    if (status == 1) {
        Py_BEGIN_ALLOW_THREADS
        r = mcrle_count_runs(v.buf, (size_t)v.itemsize, v.ndim, shape, strides, &n_runs);
        Py_END_ALLOW_THREADS
        if (r != MCRLE_OK) { raise_result(r, NULL); goto done; }
        status = encode_into(&v, shape, strides, n_runs, &values, &counts);
        if (status == 1) {   /* more runs than counted: another thread wrote into the array */
            raise_result(MCRLE_ERR_CHANGED, NULL);
            goto done;
        }
    }
    if (status < 0) goto done;
    result = PyTuple_Pack(2, values, counts);
done:
    Py_XDECREF(values);
    Py_XDECREF(counts);
    PyBuffer_Release(&v);
    return result;
}

/* COCO's string code of n numbers, written straight into a new str (no copy). */
static PyObject *ascii_from(const uint64_t *numbers, size_t n, size_t delta_from)
{
    size_t cap = mcrle_string_bound(n), len = 0;
    mcrle_result r;
    if (cap == SIZE_MAX || cap > (size_t)PY_SSIZE_T_MAX) return PyErr_NoMemory();
    if (n == 0) return PyUnicode_New(0, 127);   /* the shared empty str: never write into it */
    PyObject *str = PyUnicode_New((Py_ssize_t)cap, 127);
    if (!str) return NULL;
    char *buf = (char *)PyUnicode_DATA(str);
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_string_encode(numbers, n, delta_from, buf, cap, &len);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { Py_DECREF(str); return raise_result(r, NULL); }
    buf[len] = 0;
    if (PyUnicode_Resize(&str, (Py_ssize_t)len) < 0) return NULL;
    return str;
}

PyDoc_STRVAR(encode_compact_doc,
"encode_compact(array, kind) -> (values: str, counts: str)\n\n"
"encode() and both compact strings in one call (kind: 0 bool, 1 signed,\n"
"2 unsigned; values from index 2 and counts from index 3 as differences).");

static PyObject *py_encode_compact(PyObject *self, PyObject *args)
{
    PyObject *arr, *pair = NULL, *vs = NULL, *cs = NULL, *result = NULL;
    int kind;
    uint64_t *wide = NULL;
    size_t n;
    mcrle_result r;
    if (!PyArg_ParseTuple(args, "Oi:encode_compact", &arr, &kind)) return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0, 1 or 2");
        return NULL;
    }
    pair = py_encode(self, arr);
    if (!pair) return NULL;
    PyObject *values = PyTuple_GET_ITEM(pair, 0), *counts = PyTuple_GET_ITEM(pair, 1);
    n = (size_t)PyByteArray_GET_SIZE(counts) / sizeof(uint64_t);
    size_t elem = n ? (size_t)PyByteArray_GET_SIZE(values) / n : 1;
    if (!(wide = PyMem_RawMalloc((n ? n : 1) * sizeof(uint64_t)))) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_widen_values(PyByteArray_AS_STRING(values), n, (mcrle_kind)kind, elem, wide);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, NULL); goto done; }
    if (!(vs = ascii_from(wide, n, 2))) goto done;
    if (!(cs = ascii_from((const uint64_t *)(void *)PyByteArray_AS_STRING(counts), n, 3))) goto done;
    result = PyTuple_Pack(2, vs, cs);
done:
    PyMem_RawFree(wide);
    Py_XDECREF(vs);
    Py_XDECREF(cs);
    Py_DECREF(pair);
    return result;
}

/*
 * mcrle_decode with scratch allocated (and freed) here; callable without the
 * GIL (PyMem_RawMalloc). MCRLE_ERR_NOMEM when the scratch cannot be had.
 */
static mcrle_result decode_runs(const void *values, const uint64_t *counts, size_t n_runs,
                                size_t E, int ndim, const size_t *shape, const ptrdiff_t *strides,
                                void *out, mcrle_error_info *info)
{
    size_t scratch_size = mcrle_decode_scratch_size(E, ndim, shape, strides, n_runs);
    void *scratch = NULL;
    if (scratch_size == SIZE_MAX) return MCRLE_ERR_NOMEM;
    if (scratch_size && !(scratch = PyMem_RawMalloc(scratch_size))) return MCRLE_ERR_NOMEM;
    mcrle_result r = mcrle_decode(values, counts, n_runs, E, ndim, shape, strides, out, scratch,
                                  scratch_size, info);
    PyMem_RawFree(scratch);
    return r;
}

PyDoc_STRVAR(decode_doc,
"decode(values, counts, out) -> None\n\n"
"Expands runs into the writable strided buffer out. values: contiguous, one\n"
"element of out's size per run; counts: contiguous native uint64.");

static PyObject *py_decode(PyObject *self, PyObject *args)
{
    PyObject *ov, *oc, *oo;
    Py_buffer bv, bc, bo;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    PyObject *result = NULL;
    size_t n_runs;
    mcrle_error_info info = {0, 0};
    mcrle_result r;

    if (!PyArg_ParseTuple(args, "OOO:decode", &ov, &oc, &oo)) return NULL;
    if (PyObject_GetBuffer(ov, &bv, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (PyObject_GetBuffer(oc, &bc, PyBUF_C_CONTIGUOUS) < 0) { PyBuffer_Release(&bv); return NULL; }
    if (PyObject_GetBuffer(oo, &bo, PyBUF_RECORDS) < 0) {
        PyBuffer_Release(&bv); PyBuffer_Release(&bc); return NULL;
    }
    if (buffer_layout(&bo, shape, strides) < 0) goto done;
    n_runs = (size_t)bc.len / sizeof(uint64_t);
    if ((size_t)bc.len % sizeof(uint64_t) || (size_t)bv.len != n_runs * (size_t)bo.itemsize) {
        PyErr_Format(PyExc_ValueError,
                     "values (%zd bytes) and counts (%zd bytes) do not describe the same runs "
                     "for %zd-byte elements", bv.len, bc.len, bo.itemsize);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    r = decode_runs(bv.buf, (const uint64_t *)bc.buf, n_runs, (size_t)bo.itemsize, bo.ndim,
                    shape, strides, bo.buf, &info);
    Py_END_ALLOW_THREADS
    if (r == MCRLE_ERR_NOMEM) { PyErr_NoMemory(); goto done; }
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&bv);
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bo);
    return result;
}

PyDoc_STRVAR(decode_compact_doc,
"decode_compact(values, counts, values_signed, kind, out) -> None\n\n"
"The whole decode of a compact dict in one call without the GIL: parse both\n"
"strings (values from index 2 and counts from index 3 as differences),\n"
"narrow the values to out's elements (kind: 0 bool, 1 signed, 2 unsigned)\n"
"and expand. Raises CodecError on any problem (the caller re-parses slowly\n"
"for a detailed message); ERR_ARG when the two strings hold different numbers.");

static int utf8_or_buffer(PyObject *obj, Py_buffer *b, const char **s, Py_ssize_t *len)
{
    if (PyUnicode_Check(obj)) {
        b->obj = NULL;
        *s = PyUnicode_AsUTF8AndSize(obj, len);
        return *s ? 0 : -1;
    }
    if (PyObject_GetBuffer(obj, b, PyBUF_SIMPLE) < 0) return -1;
    *s = (const char *)b->buf;
    *len = b->len;
    return 0;
}

static PyObject *py_decode_compact(PyObject *self, PyObject *args)
{
    PyObject *ov, *oc, *oo, *result = NULL;
    int values_signed, kind;
    Py_buffer bv = {0}, bc = {0}, bo;
    const char *sv, *sc;
    Py_ssize_t lv, lc;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    uint64_t *numbers = NULL;
    size_t nv = 0, nc = 0;
    mcrle_error_info info = {0, 0};
    mcrle_result r;

    if (!PyArg_ParseTuple(args, "OOpiO:decode_compact", &ov, &oc, &values_signed, &kind, &oo))
        return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0, 1 or 2");
        return NULL;
    }
    if (utf8_or_buffer(ov, &bv, &sv, &lv) < 0) return NULL;
    if (utf8_or_buffer(oc, &bc, &sc, &lc) < 0) goto release_v;
    if (PyObject_GetBuffer(oo, &bo, PyBUF_RECORDS) < 0) goto release_c;
    if (buffer_layout(&bo, shape, strides) < 0) goto done;
    if ((size_t)lv + (size_t)lc > (size_t)PY_SSIZE_T_MAX / sizeof(uint64_t)) {
        PyErr_NoMemory();
        goto done;
    }
    /* counts first, values after them; values are narrowed in place */
    numbers = PyMem_RawMalloc(((size_t)lv + (size_t)lc + 1) * sizeof(uint64_t));
    if (!numbers) { PyErr_NoMemory(); goto done; }

    Py_BEGIN_ALLOW_THREADS
    r = mcrle_string_decode(sc, (size_t)lc, 3, numbers, (size_t)lc, &nc, &info);
    if (r == MCRLE_OK)
        r = mcrle_string_decode(sv, (size_t)lv, 2, numbers + nc, (size_t)lv, &nv, &info);
    if (r == MCRLE_OK && nv != nc) r = MCRLE_ERR_ARG;
    if (r == MCRLE_OK)
        r = mcrle_narrow_values(numbers + nc, nv, values_signed, (mcrle_kind)kind,
                                (size_t)bo.itemsize, numbers + nc, &info);
    if (r == MCRLE_OK)
        r = decode_runs(numbers + nc, numbers, nc, (size_t)bo.itemsize, bo.ndim, shape, strides,
                        bo.buf, &info);
    Py_END_ALLOW_THREADS
    if (r == MCRLE_ERR_NOMEM) { PyErr_NoMemory(); goto done; }
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(numbers);
    PyBuffer_Release(&bo);
release_c:
    if (bc.obj) PyBuffer_Release(&bc);
release_v:
    if (bv.obj) PyBuffer_Release(&bv);
    return result;
}

PyDoc_STRVAR(decode_window_doc,
"decode_window(values, counts, shape, start, stop, out) -> None\n\n"
"Decodes the box [start, stop) of the array described by the runs into out\n"
"(shape stop - start, any strides), touching only the runs it needs.");

static int size_tuple(PyObject *seq, size_t *dst, int n, const char *what)
{
    if (!PyTuple_Check(seq) || PyTuple_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_ValueError, "%s must be a tuple of %d ints", what, n);
        return -1;
    }
    for (int a = 0; a < n; a++) {
        size_t x = PyLong_AsSize_t(PyTuple_GET_ITEM(seq, a));
        if (x == (size_t)-1 && PyErr_Occurred()) return -1;
        dst[a] = x;
    }
    return 0;
}

/* The map's shape and the box [start, stop) from Python sequences, checked against out's shape. */
static int window_args(PyObject *oshape, PyObject *ostart, PyObject *ostop, int ndim,
                       const size_t *out_shape, size_t *shape, size_t *start, size_t *stop)
{
    if (size_tuple(oshape, shape, ndim, "shape") < 0 || size_tuple(ostart, start, ndim, "start") < 0 ||
        size_tuple(ostop, stop, ndim, "stop") < 0)
        return -1;
    for (int a = 0; a < ndim; a++) {
        if (start[a] > stop[a] || stop[a] > shape[a] || out_shape[a] != stop[a] - start[a]) {
            PyErr_Format(PyExc_ValueError, "window axis %d: [%zu, %zu) of %zu does not match out",
                         a, start[a], stop[a], shape[a]);
            return -1;
        }
    }
    return 0;
}

static PyObject *py_decode_window(PyObject *self, PyObject *args)
{
    PyObject *ov, *oc, *oshape, *ostart, *ostop, *oo, *result = NULL;
    Py_buffer bv, bc, bo;
    size_t shape[MCRLE_MAX_NDIM], start[MCRLE_MAX_NDIM], stop[MCRLE_MAX_NDIM];
    size_t oshape_[MCRLE_MAX_NDIM];
    ptrdiff_t ostrides[MCRLE_MAX_NDIM];
    size_t n_runs, cap, n_win = 0, E;
    void *wv = NULL;
    uint64_t *wc = NULL;
    mcrle_error_info info = {0, 0};
    mcrle_result r;
    int ndim;

    if (!PyArg_ParseTuple(args, "OOOOOO:decode_window", &ov, &oc, &oshape, &ostart, &ostop, &oo))
        return NULL;
    if (PyObject_GetBuffer(ov, &bv, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (PyObject_GetBuffer(oc, &bc, PyBUF_C_CONTIGUOUS) < 0) { PyBuffer_Release(&bv); return NULL; }
    if (PyObject_GetBuffer(oo, &bo, PyBUF_RECORDS) < 0) {
        PyBuffer_Release(&bv); PyBuffer_Release(&bc); return NULL;
    }
    ndim = bo.ndim;
    if (ndim < 1 || buffer_layout(&bo, oshape_, ostrides) < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "out needs 1+ dimensions");
        goto done;
    }
    if (window_args(oshape, ostart, ostop, ndim, oshape_, shape, start, stop) < 0) goto done;
    E = (size_t)bo.itemsize;
    n_runs = (size_t)bc.len / sizeof(uint64_t);
    if ((size_t)bc.len % sizeof(uint64_t) || (size_t)bv.len != n_runs * E) {
        PyErr_SetString(PyExc_ValueError, "values and counts do not describe the same runs");
        goto done;
    }
    cap = mcrle_window_runs_bound(n_runs, ndim, start, stop);
    if (cap == SIZE_MAX || cap > SIZE_MAX / 16) { PyErr_NoMemory(); goto done; }
    wv = PyMem_RawMalloc(cap * E + 1);
    wc = PyMem_RawMalloc(cap * sizeof(uint64_t) + 1);
    if (!wv || !wc) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_window_runs(bv.buf, (const uint64_t *)bc.buf, n_runs, E, ndim, shape, start, stop,
                          wv, wc, cap, &n_win, &info);
    if (r == MCRLE_OK)
        r = decode_runs(wv, wc, n_win, E, ndim, oshape_, ostrides, bo.buf, &info);
    Py_END_ALLOW_THREADS
    if (r == MCRLE_ERR_NOMEM) { PyErr_NoMemory(); goto done; }
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(wv);
    PyMem_RawFree(wc);
    PyBuffer_Release(&bv);
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bo);
    return result;
}

PyDoc_STRVAR(decode_window_compact_doc,
"decode_window_compact(values, counts, values_signed, kind, shape, start, stop, out) -> None\n\n"
"decode_window straight from the two strings of a compact dict (values\n"
"narrowed to out's elements of kind 0 bool, 1 signed, 2 unsigned): runs\n"
"before the box are skipped, not stored, and the strings are validated to\n"
"their ends. Raises CodecError on any problem (the caller re-parses for a\n"
"message).");

static PyObject *py_decode_window_compact(PyObject *self, PyObject *args)
{
    PyObject *ov, *oc, *oshape, *ostart, *ostop, *oo, *result = NULL;
    int values_signed, kind, ndim;
    Py_buffer bv = {0}, bc = {0}, bo;
    const char *sv, *sc;
    Py_ssize_t lv, lc;
    size_t shape[MCRLE_MAX_NDIM], start[MCRLE_MAX_NDIM], stop[MCRLE_MAX_NDIM];
    size_t oshape_[MCRLE_MAX_NDIM];
    ptrdiff_t ostrides[MCRLE_MAX_NDIM];
    size_t cap, n_win = 0, scratch_size = 0, E;
    void *wv = NULL, *scratch = NULL;
    uint64_t *wc = NULL;
    mcrle_error_info info = {0, 0};
    mcrle_result r;

    if (!PyArg_ParseTuple(args, "OOpiOOOO:decode_window_compact", &ov, &oc, &values_signed, &kind,
                          &oshape, &ostart, &ostop, &oo))
        return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0, 1 or 2");
        return NULL;
    }
    if (utf8_or_buffer(ov, &bv, &sv, &lv) < 0) return NULL;
    if (utf8_or_buffer(oc, &bc, &sc, &lc) < 0) goto release_v;
    if (PyObject_GetBuffer(oo, &bo, PyBUF_RECORDS) < 0) goto release_c;
    ndim = bo.ndim;
    if (ndim < 1 || buffer_layout(&bo, oshape_, ostrides) < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "out needs 1+ dimensions");
        goto done;
    }
    if (window_args(oshape, ostart, ostop, ndim, oshape_, shape, start, stop) < 0) goto done;
    E = (size_t)bo.itemsize;
    if (ndim == 2 && ostrides[1] == (ptrdiff_t)E) {
        /* rows of contiguous elements (a C-ordered 2D window): decoded
         * straight into out, without the window's own runs */
        size_t max_runs = mcrle_string_count(sc, (size_t)lc);
        scratch_size = mcrle_window_decode_scratch_size(max_runs, start, stop, E);
        if (scratch_size == SIZE_MAX) { PyErr_NoMemory(); goto done; }
        if (!(scratch = PyMem_RawMalloc(scratch_size ? scratch_size : 1))) {
            PyErr_NoMemory();
            goto done;
        }
        Py_BEGIN_ALLOW_THREADS
        r = mcrle_window_decode_compact(sv, (size_t)lv, sc, (size_t)lc, values_signed,
                                        (mcrle_kind)kind, E, shape, start, stop, max_runs, bo.buf,
                                        ostrides[0], scratch, scratch_size, &info);
        Py_END_ALLOW_THREADS
        if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* room for every run of a valid string and a piece per window column */
    cap = mcrle_window_runs_bound(mcrle_string_count(sc, (size_t)lc), ndim, start, stop);
    if (cap == SIZE_MAX || cap > SIZE_MAX / 16) { PyErr_NoMemory(); goto done; }
    wv = PyMem_RawMalloc(cap * E + 1);
    wc = PyMem_RawMalloc(cap * sizeof(uint64_t) + 1);
    if (!wv || !wc) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_window_runs_compact(sv, (size_t)lv, sc, (size_t)lc, values_signed, (mcrle_kind)kind,
                                  E, ndim, shape, start, stop, wv, wc, cap, &n_win, &info);
    if (r == MCRLE_OK)
        r = decode_runs(wv, wc, n_win, E, ndim, oshape_, ostrides, bo.buf, &info);
    Py_END_ALLOW_THREADS
    if (r == MCRLE_ERR_NOMEM) { PyErr_NoMemory(); goto done; }
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(scratch);
    PyMem_RawFree(wv);
    PyMem_RawFree(wc);
    PyBuffer_Release(&bo);
release_c:
    if (bc.obj) PyBuffer_Release(&bc);
release_v:
    if (bv.obj) PyBuffer_Release(&bv);
    return result;
}

PyDoc_STRVAR(parse_compact_doc,
"parse_compact(values, counts, values_signed, kind, elem_size) -> (values, counts)\n\n"
"Both strings of a compact dict to runs: bytearrays of elem_size-byte values\n"
"(kind: 0 bool, 1 signed, 2 unsigned) and native uint64 counts. Raises\n"
"CodecError on any problem, including a negative count (ERR_COUNTS_LONG) and\n"
"strings of different lengths (ERR_ARG): the caller re-parses for a message.");

static PyObject *py_parse_compact(PyObject *self, PyObject *args)
{
    PyObject *ov, *oc, *values = NULL, *counts = NULL, *result = NULL;
    int values_signed, kind;
    Py_ssize_t elem;
    Py_buffer bv = {0}, bc = {0};
    const char *sv, *sc;
    Py_ssize_t lv, lc;
    uint64_t *wide = NULL;
    size_t nv = 0, nc = 0;
    mcrle_error_info info = {0, 0};
    mcrle_result r;

    if (!PyArg_ParseTuple(args, "OOpin:parse_compact", &ov, &oc, &values_signed, &kind, &elem))
        return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED ||
        (elem != 1 && elem != 2 && elem != 4 && elem != 8)) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0..2 and elem_size 1, 2, 4 or 8");
        return NULL;
    }
    if (utf8_or_buffer(ov, &bv, &sv, &lv) < 0) return NULL;
    if (utf8_or_buffer(oc, &bc, &sc, &lc) < 0) goto done;
    if ((size_t)lc > (size_t)PY_SSIZE_T_MAX / 8 || (size_t)lv > (size_t)PY_SSIZE_T_MAX / 8) {
        PyErr_NoMemory();
        goto done;
    }
    /* buffers of exactly the numbers a valid string holds (a short count
     * only makes an invalid string fail with NOSPACE instead) */
    nc = mcrle_string_count(sc, (size_t)lc);
    nv = mcrle_string_count(sv, (size_t)lv);
    counts = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)nc * 8);
    wide = PyMem_RawMalloc(nv * 8 + 8);
    if (!counts || !wide) { if (!PyErr_Occurred()) PyErr_NoMemory(); goto done; }
    {
        uint64_t *c = (uint64_t *)(void *)PyByteArray_AS_STRING(counts);
        Py_BEGIN_ALLOW_THREADS
        r = mcrle_string_decode(sc, (size_t)lc, 3, c, nc, &nc, &info);
        for (size_t i = 0; r == MCRLE_OK && i < nc; i++)
            if (c[i] >> 63) { r = MCRLE_ERR_COUNTS_LONG; info.index = i; }
        if (r == MCRLE_OK)
            r = mcrle_string_decode(sv, (size_t)lv, 2, wide, nv, &nv, &info);
        if (r == MCRLE_OK && nv != nc) r = MCRLE_ERR_ARG;
        if (r == MCRLE_OK)
            r = mcrle_narrow_values(wide, nv, values_signed, (mcrle_kind)kind, (size_t)elem, wide,
                                    &info);
        Py_END_ALLOW_THREADS
    }
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    if (PyByteArray_Resize(counts, (Py_ssize_t)(nc * 8)) < 0) goto done;
    values = PyByteArray_FromStringAndSize((const char *)wide, (Py_ssize_t)(nv * (size_t)elem));
    if (!values) goto done;
    result = PyTuple_Pack(2, values, counts);
done:
    PyMem_RawFree(wide);
    Py_XDECREF(values);
    Py_XDECREF(counts);
    if (bc.obj) PyBuffer_Release(&bc);
    if (bv.obj) PyBuffer_Release(&bv);
    return result;
}

/* ---- per-label answers (csrc/ops.c) ------------------------------------------ */

/* index (n unsigned of index_size bytes) and counts (n uint64): n, or -1 with an error set. */
static Py_ssize_t index_and_counts(const Py_buffer *bi, Py_ssize_t index_size, const Py_buffer *bc)
{
    if (index_size != 1 && index_size != 2 && index_size != 4 && index_size != 8) {
        PyErr_SetString(PyExc_ValueError, "index_size must be 1, 2, 4 or 8");
        return -1;
    }
    Py_ssize_t n = bc->len / 8;
    if (bc->len % 8 || bi->len != n * index_size) {
        PyErr_SetString(PyExc_ValueError, "index and counts do not describe the same runs");
        return -1;
    }
    return n;
}

PyDoc_STRVAR(group_sums_doc,
"group_sums(index, index_size, counts, size, sums) -> None\n\n"
"sums[g] = elements of the runs whose group index is g (sums: writable uint64\n"
"buffer, one entry per group); validates the counts against size.");

static PyObject *py_group_sums(PyObject *self, PyObject *args)
{
    Py_buffer bi, bc, bs;
    Py_ssize_t index_size, n;
    unsigned long long size;
    mcrle_error_info info = {0, 0};
    mcrle_result r = MCRLE_OK;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*ny*Kw*:group_sums", &bi, &index_size, &bc, &size, &bs))
        return NULL;
    if ((n = index_and_counts(&bi, index_size, &bc)) < 0) goto done;
    if (bs.len % 8) { PyErr_SetString(PyExc_ValueError, "sums must be a uint64 buffer"); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_group_sums(bi.buf, (size_t)index_size, (const uint64_t *)bc.buf, (size_t)n,
                         (uint64_t)size, (size_t)bs.len / 8, (uint64_t *)bs.buf, &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bs);
    return result;
}

PyDoc_STRVAR(pair_sums_doc,
"pair_sums(index_a, counts_a, na_groups, index_b, counts_b, nb_groups, index_size,\n"
"          size, sums) -> None\n\n"
"sums[ga * nb_groups + gb] = elements where A's run has group ga and B's run\n"
"group gb (a confusion matrix; sums: writable uint64 buffer of na_groups *\n"
"nb_groups entries). Validates both counts against size and every index;\n"
"CodecError codes of B's problems are MCRLE_PAIR_B (100) higher.");

static PyObject *py_pair_sums(PyObject *self, PyObject *args)
{
    Py_buffer ia, ca, ib, cb, bs;
    Py_ssize_t na_groups, nb_groups, index_size, n_a, n_b;
    unsigned long long size;
    mcrle_error_info info = {0, 0};
    mcrle_result r = MCRLE_OK;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*ny*y*nnKw*:pair_sums", &ia, &ca, &na_groups, &ib, &cb,
                          &nb_groups, &index_size, &size, &bs))
        return NULL;
    if ((n_a = index_and_counts(&ia, index_size, &ca)) < 0) goto done;
    if ((n_b = index_and_counts(&ib, index_size, &cb)) < 0) goto done;
    if (na_groups < 0 || nb_groups < 0 || bs.len % 8 ||
        (nb_groups && (size_t)bs.len / 8 / (size_t)nb_groups < (size_t)na_groups)) {
        PyErr_SetString(PyExc_ValueError, "sums must be a uint64 buffer of na_groups * nb_groups");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_pair_sums(ia.buf, (const uint64_t *)ca.buf, (size_t)n_a, (size_t)na_groups, ib.buf,
                        (const uint64_t *)cb.buf, (size_t)n_b, (size_t)nb_groups,
                        (size_t)index_size, (uint64_t)size, (uint64_t *)bs.buf, &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) {
        PyObject *a = Py_BuildValue("(isnK)", (int)r, r >= MCRLE_PAIR_B ?
                                    mcrle_result_name((mcrle_result)(r - MCRLE_PAIR_B)) :
                                    mcrle_result_name(r), (Py_ssize_t)info.index,
                                    (unsigned long long)info.sum);
        if (a) {
            PyErr_SetObject(CodecError, a);
            Py_DECREF(a);
        }
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&ia);
    PyBuffer_Release(&ca);
    PyBuffer_Release(&ib);
    PyBuffer_Release(&cb);
    PyBuffer_Release(&bs);
    return result;
}

PyDoc_STRVAR(group_bbox_doc,
"group_bbox(index, index_size, counts, shape, lo, hi) -> None\n\n"
"Per group g and axis a, lo[g, a] and hi[g, a]: the smallest and largest\n"
"coordinate (inclusive) of its elements; UINT64_MAX and 0 for groups\n"
"without runs (lo, hi: writable uint64 buffers of groups * ndim entries).");

static PyObject *py_group_bbox(PyObject *self, PyObject *args)
{
    Py_buffer bi, bc, bl, bh;
    Py_ssize_t index_size, n;
    PyObject *oshape, *result = NULL;
    size_t shape[MCRLE_MAX_NDIM];
    int ndim;
    mcrle_error_info info = {0, 0};
    mcrle_result r = MCRLE_OK;
    if (!PyArg_ParseTuple(args, "y*ny*Ow*w*:group_bbox", &bi, &index_size, &bc, &oshape, &bl, &bh))
        return NULL;
    if ((n = index_and_counts(&bi, index_size, &bc)) < 0) goto done;
    ndim = PyTuple_Check(oshape) ? (int)PyTuple_GET_SIZE(oshape) : 0;
    if (ndim < 1 || ndim > MCRLE_MAX_NDIM) {
        PyErr_SetString(PyExc_ValueError, "shape must be a tuple of 1..MAX_NDIM ints");
        goto done;
    }
    if (size_tuple(oshape, shape, ndim, "shape") < 0) goto done;
    if (bl.len != bh.len || bl.len % (8 * ndim)) {
        PyErr_SetString(PyExc_ValueError, "lo and hi must be uint64 buffers of groups * ndim");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_group_bbox(bi.buf, (size_t)index_size, (const uint64_t *)bc.buf, (size_t)n, ndim,
                         shape, (size_t)bl.len / (8 * (size_t)ndim), (uint64_t *)bl.buf,
                         (uint64_t *)bh.buf, &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bl);
    PyBuffer_Release(&bh);
    return result;
}

PyDoc_STRVAR(relabel_runs_doc,
"relabel_runs(index, index_size, counts, size, table, elem_size) -> (values, counts)\n\n"
"Run k gets element table[index[k]] (elem_size bytes); equal neighbours are\n"
"merged. Returns bytearrays of the new values and uint64 counts; validates\n"
"the counts against size.");

static PyObject *py_relabel_runs(PyObject *self, PyObject *args)
{
    Py_buffer bi, bc, bt;
    Py_ssize_t index_size, elem, n;
    unsigned long long size;
    size_t n_out = 0;
    PyObject *values = NULL, *counts = NULL, *result = NULL;
    mcrle_error_info info = {0, 0};
    mcrle_result r = MCRLE_OK;
    if (!PyArg_ParseTuple(args, "y*ny*Ky*n:relabel_runs", &bi, &index_size, &bc, &size, &bt, &elem))
        return NULL;
    if ((n = index_and_counts(&bi, index_size, &bc)) < 0) goto done;
    if ((elem != 1 && elem != 2 && elem != 4 && elem != 8) || bt.len % elem) {
        PyErr_SetString(PyExc_ValueError, "table must hold elements of 1, 2, 4 or 8 bytes");
        goto done;
    }
    if (new_runs((size_t)n, (size_t)elem, &values, &counts) < 0) goto done;
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_relabel_runs(bi.buf, (size_t)index_size, (const uint64_t *)bc.buf, (size_t)n,
                           (uint64_t)size, bt.buf, (size_t)(bt.len / elem), (size_t)elem,
                           PyByteArray_AS_STRING(values),
                           (uint64_t *)(void *)PyByteArray_AS_STRING(counts), (size_t)n, &n_out,
                           &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    if (trim_runs(values, counts, n_out, (size_t)elem) < 0) goto done;
    result = PyTuple_Pack(2, values, counts);
done:
    Py_XDECREF(values);
    Py_XDECREF(counts);
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bt);
    return result;
}

PyDoc_STRVAR(relabel_compact_doc,
"relabel_compact(values, counts, values_signed, kind, size, table, defined, elem_size)\n"
"    -> (values, counts)\n\n"
"relabel_runs straight from the two strings of a compact dict of a 1-byte map\n"
"(kind 0 bool, 1 signed, 2 unsigned): byte b -> table[b] where defined[b]\n"
"(table: 256 elements of elem_size bytes, defined: 256 bytes). Raises\n"
"CodecError on any problem, an undefined byte included (the caller falls\n"
"back to the general path).");

static PyObject *py_relabel_compact(PyObject *self, PyObject *args)
{
    PyObject *ov, *oc, *values = NULL, *counts = NULL, *result = NULL;
    int values_signed, kind;
    unsigned long long size;
    Py_ssize_t elem;
    Py_buffer bv = {0}, bc = {0}, bt = {0}, bd = {0};
    const char *sv, *sc;
    Py_ssize_t lv, lc;
    size_t cap, n_out = 0;
    mcrle_error_info info = {0, 0};
    mcrle_result r;

    if (!PyArg_ParseTuple(args, "OOpiKy*y*n:relabel_compact", &ov, &oc, &values_signed, &kind,
                          &size, &bt, &bd, &elem))
        return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED ||
        (elem != 1 && elem != 2 && elem != 4 && elem != 8) || bt.len != 256 * elem ||
        bd.len != 256) {
        PyErr_SetString(PyExc_ValueError,
                        "kind must be 0..2, table 256 elements of 1, 2, 4 or 8 bytes, defined 256 bytes");
        goto release_td;
    }
    if (utf8_or_buffer(ov, &bv, &sv, &lv) < 0) goto release_td;
    if (utf8_or_buffer(oc, &bc, &sc, &lc) < 0) goto done;
    cap = mcrle_string_count(sc, (size_t)lc);
    if (new_runs(cap, (size_t)elem, &values, &counts) < 0) goto done;
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_relabel_compact(sv, (size_t)lv, sc, (size_t)lc, values_signed, (mcrle_kind)kind,
                              (uint64_t)size, bt.buf, (const unsigned char *)bd.buf, (size_t)elem,
                              PyByteArray_AS_STRING(values),
                              (uint64_t *)(void *)PyByteArray_AS_STRING(counts), cap, &n_out,
                              &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    if (trim_runs(values, counts, n_out, (size_t)elem) < 0) goto done;
    result = PyTuple_Pack(2, values, counts);
done:
    Py_XDECREF(values);
    Py_XDECREF(counts);
    if (bc.obj) PyBuffer_Release(&bc);
    if (bv.obj) PyBuffer_Release(&bv);
release_td:
    PyBuffer_Release(&bt);
    PyBuffer_Release(&bd);
    return result;
}

PyDoc_STRVAR(check_counts_doc,
"check_counts(counts, size) -> None\n\n"
"Raises CodecError unless every count is > 0 and they sum to size.");

static PyObject *py_check_counts(PyObject *self, PyObject *args)
{
    Py_buffer bc;
    unsigned long long size;
    mcrle_error_info info = {0, 0};
    mcrle_result r;
    if (!PyArg_ParseTuple(args, "y*K:check_counts", &bc, &size)) return NULL;
    if ((size_t)bc.len % sizeof(uint64_t)) {
        PyBuffer_Release(&bc);
        PyErr_SetString(PyExc_ValueError, "counts buffer is not a whole number of uint64");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_check_counts((const uint64_t *)bc.buf, (size_t)bc.len / sizeof(uint64_t),
                           (uint64_t)size, &info);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&bc);
    if (r != MCRLE_OK) return raise_result(r, &info);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(string_encode_doc,
"string_encode(numbers, delta_from) -> str\n\n"
"COCO's compressed-counts code for a contiguous buffer of uint64.");

static PyObject *py_string_encode(PyObject *self, PyObject *args)
{
    Py_buffer b;
    Py_ssize_t delta_from;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*n:string_encode", &b, &delta_from)) return NULL;
    if ((size_t)b.len % sizeof(uint64_t) || delta_from < 0)
        PyErr_SetString(PyExc_ValueError, "numbers must be a uint64 buffer, delta_from >= 0");
    else
        result = ascii_from((const uint64_t *)b.buf, (size_t)b.len / sizeof(uint64_t),
                            (size_t)delta_from);
    PyBuffer_Release(&b);
    return result;
}

PyDoc_STRVAR(string_decode_doc,
"string_decode(s, delta_from) -> bytearray\n\n"
"Parses COCO's compressed-counts code (str or bytes-like) into native uint64.");

static PyObject *py_string_decode(PyObject *self, PyObject *args)
{
    PyObject *obj, *out = NULL;
    Py_ssize_t delta_from;
    Py_buffer b;
    int have_buffer = 0;
    const char *s;
    Py_ssize_t len;
    size_t n = 0;
    mcrle_error_info info = {0, 0};
    mcrle_result r;

    if (!PyArg_ParseTuple(args, "On:string_decode", &obj, &delta_from)) return NULL;
    if (delta_from < 0) { PyErr_SetString(PyExc_ValueError, "delta_from must be >= 0"); return NULL; }
    if (PyUnicode_Check(obj)) {
        /* UTF-8 of a non-ASCII character holds bytes >= 0x80: reported as bad characters */
        s = PyUnicode_AsUTF8AndSize(obj, &len);
        if (!s) return NULL;
    } else {
        if (PyObject_GetBuffer(obj, &b, PyBUF_SIMPLE) < 0) return NULL;
        have_buffer = 1;
        s = (const char *)b.buf;
        len = b.len;
    }
    if ((size_t)len > (size_t)PY_SSIZE_T_MAX / sizeof(uint64_t)) { PyErr_NoMemory(); goto done; }
    out = PyByteArray_FromStringAndSize(NULL, len * (Py_ssize_t)sizeof(uint64_t));
    if (!out) goto done;
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_string_decode(s, (size_t)len, (size_t)delta_from,
                            (uint64_t *)(void *)PyByteArray_AS_STRING(out), (size_t)len, &n, &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { Py_CLEAR(out); raise_result(r, &info); goto done; }
    if (PyByteArray_Resize(out, (Py_ssize_t)(n * sizeof(uint64_t))) < 0) Py_CLEAR(out);
done:
    if (have_buffer) PyBuffer_Release(&b);
    return out;
}


/* ---- the bytes form (csrc/mcrle_bytes.h) ----------------------------------- */

static PyObject *raise_bytes_result(int r, const mcrle_error_info *info)
{
    PyObject *args = Py_BuildValue("(isnK)", r, mcrle_bytes_result_name(r),
                                   (Py_ssize_t)(info ? info->index : 0),
                                   (unsigned long long)(info ? info->sum : 0));
    if (args) {
        PyErr_SetObject(CodecError, args);
        Py_DECREF(args);
    }
    return NULL;
}

PyDoc_STRVAR(bytes_header_doc,
"bytes_header(buf, verify=False) -> (version, dtype_code, shape, n_values, header_len,\n"
"                                    payload_len, total_len)\n\n"
"Parses and validates the header of the bytes-form object at the start of buf\n"
"(more objects may follow); with verify, checks its checksum too. Raises\n"
"CodecError(code, name, index, sum).");

static PyObject *py_bytes_header(PyObject *self, PyObject *args)
{
    Py_buffer b;
    mcrle_bytes_info info;
    mcrle_error_info err = {0, 0};
    PyObject *shape, *result;
    int r, verify = 0;
    if (!PyArg_ParseTuple(args, "y*|p:bytes_header", &b, &verify)) return NULL;
    r = mcrle_bytes_parse_header(b.buf, (size_t)b.len, &info, &err);
    if (r == MCRLE_OK && verify) {
        const unsigned char *p = (const unsigned char *)b.buf;
        uint32_t ck;
        Py_BEGIN_ALLOW_THREADS
        ck = mcrle_adler32(1, p, info.header_len - 4);
        ck = mcrle_adler32(ck, p + info.header_len, info.payload_len);
        Py_END_ALLOW_THREADS
        if (ck != info.checksum) {
            r = MCRLE_BYTES_ERR_CHECKSUM;
            err.index = 0;
            err.sum = ck;
        }
    }
    PyBuffer_Release(&b);
    if (r != MCRLE_OK) return raise_bytes_result(r, &err);
    shape = PyTuple_New(info.ndim);
    if (!shape) return NULL;
    for (int a = 0; a < info.ndim; a++) {
        PyObject *d = PyLong_FromSize_t(info.shape[a]);
        if (!d) { Py_DECREF(shape); return NULL; }
        PyTuple_SET_ITEM(shape, a, d);
    }
    result = Py_BuildValue("(IINnnnn)", info.version, info.dtype, shape, (Py_ssize_t)info.n_values,
                           (Py_ssize_t)info.header_len, (Py_ssize_t)info.payload_len,
                           (Py_ssize_t)info.total_len);
    return result;
}

PyDoc_STRVAR(bytes_encode_doc,
"bytes_encode(array, kind, values) -> bytes\n\n"
"The bytes form of any strided buffer of elements of kind (0 bool, 1 signed,\n"
"2 unsigned). values: contiguous native uint64, the array's distinct values\n"
"sorted ascending (signed ones sign-extended).");

static PyObject *py_bytes_encode(PyObject *self, PyObject *args)
{
    PyObject *oa, *ov, *result = NULL;
    int kind;
    Py_buffer ba, bv;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    size_t bound, scratch_size, n_values, out_len = 0;
    unsigned char *out = NULL;
    void *scratch = NULL;
    int r;

    if (!PyArg_ParseTuple(args, "OiO:bytes_encode", &oa, &kind, &ov)) return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0, 1 or 2");
        return NULL;
    }
    if (PyObject_GetBuffer(oa, &ba, PyBUF_RECORDS_RO) < 0) return NULL;
    if (PyObject_GetBuffer(ov, &bv, PyBUF_C_CONTIGUOUS) < 0) { PyBuffer_Release(&ba); return NULL; }
    if (buffer_layout(&ba, shape, strides) < 0) goto done;
    if (ba.ndim < 1) { PyErr_SetString(PyExc_ValueError, "the array needs at least one dimension"); goto done; }
    if ((size_t)bv.len % sizeof(uint64_t)) {
        PyErr_SetString(PyExc_ValueError, "values must be a uint64 buffer");
        goto done;
    }
    n_values = (size_t)bv.len / sizeof(uint64_t);
    bound = mcrle_bytes_bound((size_t)ba.itemsize, ba.ndim, shape);
    scratch_size = mcrle_bytes_encode_scratch_size((size_t)ba.itemsize, ba.ndim, shape, strides,
                                                   n_values);
    if (bound == SIZE_MAX || scratch_size == SIZE_MAX) { PyErr_NoMemory(); goto done; }
    out = PyMem_RawMalloc(bound);
    scratch = PyMem_RawMalloc(scratch_size ? scratch_size : 1);
    if (!out || !scratch) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_bytes_encode(ba.buf, (mcrle_kind)kind, (size_t)ba.itemsize, ba.ndim, shape, strides,
                           (const uint64_t *)bv.buf, n_values, out, bound, &out_len,
                           scratch, scratch_size);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_bytes_result(r, NULL); goto done; }
    result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)out_len);
done:
    PyMem_RawFree(out);
    PyMem_RawFree(scratch);
    PyBuffer_Release(&bv);
    PyBuffer_Release(&ba);
    return result;
}

PyDoc_STRVAR(bytes_decode_doc,
"bytes_decode(buf, kind, out) -> None\n\n"
"Decodes the bytes-form object at the start of buf into the writable strided\n"
"buffer out (the header's shape; elements of kind 0 bool, 1 signed, 2\n"
"unsigned, any size), without the GIL. Raises CodecError(code, name, index,\n"
"sum); errors found before the first line leave out untouched, errors found\n"
"while writing the lines set it to zeros. buf is read twice (checksum, then\n"
"payload): pass an immutable copy of anything another thread may write into.");

static PyObject *py_bytes_decode(PyObject *self, PyObject *args)
{
    PyObject *ob, *oo, *result = NULL;
    int kind, r;
    Py_buffer bb, bo;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    mcrle_bytes_info info;
    mcrle_error_info err = {0, 0};
    size_t scratch_size;
    void *scratch = NULL;

    if (!PyArg_ParseTuple(args, "OiO:bytes_decode", &ob, &kind, &oo)) return NULL;
    if (kind < MCRLE_KIND_BOOL || kind > MCRLE_KIND_UNSIGNED) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0, 1 or 2");
        return NULL;
    }
    if (PyObject_GetBuffer(ob, &bb, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(oo, &bo, PyBUF_RECORDS) < 0) { PyBuffer_Release(&bb); return NULL; }
    if (buffer_layout(&bo, shape, strides) < 0) goto done;
    r = mcrle_bytes_parse_header(bb.buf, (size_t)bb.len, &info, &err);
    if (r != MCRLE_OK) { raise_bytes_result(r, &err); goto done; }
    if (bo.ndim != info.ndim) {
        PyErr_SetString(PyExc_ValueError, "out's number of dimensions is not the header's");
        goto done;
    }
    scratch_size = mcrle_bytes_decode_scratch_size(&info, (size_t)bo.itemsize, strides);
    if (scratch_size == SIZE_MAX) { PyErr_NoMemory(); goto done; }
    if (scratch_size && !(scratch = PyMem_RawMalloc(scratch_size))) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_bytes_decode(bb.buf, (size_t)bb.len, (mcrle_kind)kind, (size_t)bo.itemsize, bo.ndim,
                           shape, strides, bo.buf, scratch, scratch_size, &err);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_bytes_result(r, &err); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(scratch);
    PyBuffer_Release(&bo);
    PyBuffer_Release(&bb);
    return result;
}

/* ---- PNG rows (csrc/mcrle_png.h), for the command-line reader ------------- */

PyDoc_STRVAR(png_unfilter_doc,
"png_unfilter(inflated, rows, row_bytes, bpp, out) -> None\n\n"
"Undoes the PNG row filters of inflated (rows * (row_bytes + 1) bytes) into\n"
"out, a writable C-contiguous buffer of at least rows * row_bytes bytes.\n"
"Raises CodecError(code, name, index, sum): 40 bad filter type (index: the\n"
"row), 41 wrong length (sum: the length given).");

static PyObject *py_png_unfilter(PyObject *self, PyObject *args)
{
    Py_buffer bi, bo;
    Py_ssize_t rows, row_bytes;
    unsigned int bpp;
    mcrle_error_info err = {0, 0};
    int r;
    if (!PyArg_ParseTuple(args, "y*nnIw*:png_unfilter", &bi, &rows, &row_bytes, &bpp, &bo))
        return NULL;
    if (rows < 0 || row_bytes < 0) {
        PyBuffer_Release(&bi);
        PyBuffer_Release(&bo);
        PyErr_SetString(PyExc_ValueError, "rows and row_bytes must be >= 0");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_png_unfilter(bi.buf, (size_t)bi.len, (size_t)rows, (size_t)row_bytes, bpp, bo.buf,
                           (size_t)bo.len, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bo);
    if (r != MCRLE_OK) {
        const char *name = r == MCRLE_PNG_ERR_FILTER ? "bad PNG filter type"
                         : r == MCRLE_PNG_ERR_LENGTH ? "wrong PNG data length"
                         : mcrle_result_name((mcrle_result)r);
        PyObject *a = Py_BuildValue("(isnK)", r, name, (Py_ssize_t)err.index,
                                    (unsigned long long)err.sum);
        if (a) {
            PyErr_SetObject(CodecError, a);
            Py_DECREF(a);
        }
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"encode", py_encode, METH_O, encode_doc},
    {"decode", py_decode, METH_VARARGS, decode_doc},
    {"encode_compact", py_encode_compact, METH_VARARGS, encode_compact_doc},
    {"decode_compact", py_decode_compact, METH_VARARGS, decode_compact_doc},
    {"decode_window", py_decode_window, METH_VARARGS, decode_window_doc},
    {"decode_window_compact", py_decode_window_compact, METH_VARARGS, decode_window_compact_doc},
    {"parse_compact", py_parse_compact, METH_VARARGS, parse_compact_doc},
    {"group_sums", py_group_sums, METH_VARARGS, group_sums_doc},
    {"group_bbox", py_group_bbox, METH_VARARGS, group_bbox_doc},
    {"pair_sums", py_pair_sums, METH_VARARGS, pair_sums_doc},
    {"relabel_runs", py_relabel_runs, METH_VARARGS, relabel_runs_doc},
    {"relabel_compact", py_relabel_compact, METH_VARARGS, relabel_compact_doc},
    {"check_counts", py_check_counts, METH_VARARGS, check_counts_doc},
    {"string_encode", py_string_encode, METH_VARARGS, string_encode_doc},
    {"string_decode", py_string_decode, METH_VARARGS, string_decode_doc},
    {"bytes_header", py_bytes_header, METH_VARARGS, bytes_header_doc},
    {"bytes_encode", py_bytes_encode, METH_VARARGS, bytes_encode_doc},
    {"bytes_decode", py_bytes_decode, METH_VARARGS, bytes_decode_doc},
    {"png_unfilter", py_png_unfilter, METH_VARARGS, png_unfilter_doc},
    {NULL, NULL, 0, NULL}
};

static int exec_module(PyObject *m)
{
    CodecError = PyErr_NewExceptionWithDoc(
        "multiclass_rle._codec._core.CodecError",
        "A kernel result code: args are (code, name, index, sum).", PyExc_ValueError, NULL);
    if (!CodecError) return -1;
    if (PyModule_AddObjectRef(m, "CodecError", CodecError) < 0) return -1;
    if (PyModule_AddIntConstant(m, "MAX_NDIM", MCRLE_MAX_NDIM) < 0) return -1;
#define ADD_CODE(name) if (PyModule_AddIntConstant(m, #name, MCRLE_##name) < 0) return -1
    ADD_CODE(ERR_ARG); ADD_CODE(ERR_ZERO_COUNT); ADD_CODE(ERR_COUNTS_SHORT);
    ADD_CODE(ERR_COUNTS_LONG); ADD_CODE(ERR_BAD_CHAR); ADD_CODE(ERR_TRUNCATED);
    ADD_CODE(ERR_NUMBER_TOO_LONG); ADD_CODE(ERR_NOSPACE); ADD_CODE(ERR_NOMEM);
    ADD_CODE(ERR_VALUE_RANGE); ADD_CODE(ERR_CHANGED);
#undef ADD_CODE
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core", "C kernels of multiclass_rle (private).", 0, methods,
    slots, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&module); }
