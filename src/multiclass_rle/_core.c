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

/* Runs an encode with room for `capacity` runs; 0 on success, 1 if too small, -1 on error. */
static int encode_into(const Py_buffer *v, const size_t *shape, const ptrdiff_t *strides,
                       size_t capacity, PyObject **values, PyObject **counts)
{
    size_t written = 0, scratch_size;
    void *scratch = NULL;
    mcrle_result r;
    *values = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(capacity * (size_t)v->itemsize));
    *counts = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(capacity * sizeof(uint64_t)));
    if (!*values || !*counts) goto fail;
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
    if (PyByteArray_Resize(*values, (Py_ssize_t)(written * (size_t)v->itemsize)) < 0 ||
        PyByteArray_Resize(*counts, (Py_ssize_t)(written * sizeof(uint64_t))) < 0)
        goto fail;
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
        if (status == 1) {
            PyErr_SetString(PyExc_RuntimeError, "the array was modified while it was being encoded");
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

/* A str of len ASCII bytes written by fill(buffer, capacity, &len) without a copy. */
static PyObject *ascii_from(const uint64_t *numbers, size_t n, size_t delta_from)
{
    size_t cap = mcrle_string_bound(n), len = 0;
    mcrle_result r;
    if (cap == SIZE_MAX || cap > (size_t)PY_SSIZE_T_MAX) return PyErr_NoMemory();
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
    r = mcrle_widen_values(PyByteArray_AS_STRING(values), n, (mcrle_kind)kind,
                           elem == 0 ? 1 : elem, wide);
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
    void *scratch = NULL;
    size_t n_runs, scratch_size;
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
    scratch_size = mcrle_decode_scratch_size((size_t)bo.itemsize, bo.ndim, shape, strides, n_runs);
    if (scratch_size == SIZE_MAX) { PyErr_NoMemory(); goto done; }
    if (scratch_size && !(scratch = PyMem_RawMalloc(scratch_size))) { PyErr_NoMemory(); goto done; }

    Py_BEGIN_ALLOW_THREADS
    r = mcrle_decode(bv.buf, (const uint64_t *)bc.buf, n_runs, (size_t)bo.itemsize, bo.ndim,
                     shape, strides, bo.buf, scratch, scratch_size, &info);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(scratch);
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
    void *scratch = NULL;
    size_t nv = 0, nc = 0, scratch_size = 0;
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
    if (r == MCRLE_OK) {
        scratch_size = mcrle_decode_scratch_size((size_t)bo.itemsize, bo.ndim, shape, strides, nc);
        if (scratch_size == SIZE_MAX) r = MCRLE_ERR_NOMEM;
        else if (scratch_size && !(scratch = PyMem_RawMalloc(scratch_size))) r = MCRLE_ERR_NOMEM;
    }
    if (r == MCRLE_OK)
        r = mcrle_decode(numbers + nc, numbers, nc, (size_t)bo.itemsize, bo.ndim, shape, strides,
                         bo.buf, scratch, scratch_size, &info);
    Py_END_ALLOW_THREADS
    if (r == MCRLE_ERR_NOMEM) { PyErr_NoMemory(); goto done; }
    if (r != MCRLE_OK) { raise_result(r, &info); goto done; }
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(scratch);
    PyMem_RawFree(numbers);
    PyBuffer_Release(&bo);
release_c:
    if (bc.obj) PyBuffer_Release(&bc);
release_v:
    if (bv.obj) PyBuffer_Release(&bv);
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
    char *tmp = NULL;
    size_t n, cap, len = 0;
    mcrle_result r;
    if (!PyArg_ParseTuple(args, "y*n:string_encode", &b, &delta_from)) return NULL;
    if ((size_t)b.len % sizeof(uint64_t) || delta_from < 0) {
        PyErr_SetString(PyExc_ValueError, "numbers must be a uint64 buffer, delta_from >= 0");
        goto done;
    }
    n = (size_t)b.len / sizeof(uint64_t);
    cap = mcrle_string_bound(n);
    if (cap == SIZE_MAX || !(tmp = PyMem_RawMalloc(cap ? cap : 1))) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    r = mcrle_string_encode((const uint64_t *)b.buf, n, (size_t)delta_from, tmp, cap, &len);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, NULL); goto done; }
    result = PyUnicode_DecodeASCII(tmp, (Py_ssize_t)len, "strict");
done:
    PyMem_RawFree(tmp);
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

static PyMethodDef methods[] = {
    {"encode", py_encode, METH_O, encode_doc},
    {"decode", py_decode, METH_VARARGS, decode_doc},
    {"encode_compact", py_encode_compact, METH_VARARGS, encode_compact_doc},
    {"decode_compact", py_decode_compact, METH_VARARGS, decode_compact_doc},
    {"check_counts", py_check_counts, METH_VARARGS, check_counts_doc},
    {"string_encode", py_string_encode, METH_VARARGS, string_encode_doc},
    {"string_decode", py_string_decode, METH_VARARGS, string_decode_doc},
    {NULL, NULL, 0, NULL}
};

static int exec_module(PyObject *m)
{
    CodecError = PyErr_NewExceptionWithDoc(
        "multiclass_rle._core.CodecError",
        "A kernel result code: args are (code, name, index, sum).", PyExc_ValueError, NULL);
    if (!CodecError) return -1;
    if (PyModule_AddObjectRef(m, "CodecError", CodecError) < 0) return -1;
    if (PyModule_AddIntConstant(m, "MAX_NDIM", MCRLE_MAX_NDIM) < 0) return -1;
#define ADD_CODE(name) if (PyModule_AddIntConstant(m, #name, MCRLE_##name) < 0) return -1
    ADD_CODE(ERR_ARG); ADD_CODE(ERR_ZERO_COUNT); ADD_CODE(ERR_COUNTS_SHORT);
    ADD_CODE(ERR_COUNTS_LONG); ADD_CODE(ERR_BAD_CHAR); ADD_CODE(ERR_TRUNCATED);
    ADD_CODE(ERR_NUMBER_TOO_LONG); ADD_CODE(ERR_NOSPACE); ADD_CODE(ERR_NOMEM);
    ADD_CODE(ERR_VALUE_RANGE);
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
