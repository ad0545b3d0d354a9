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

static PyObject *py_encode(PyObject *self, PyObject *arg)
{
    Py_buffer v;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];
    PyObject *values = NULL, *counts = NULL, *result = NULL;
    void *scratch = NULL;
    size_t n_runs = 0, written = 0, scratch_size;
    mcrle_result r;

    if (PyObject_GetBuffer(arg, &v, PyBUF_RECORDS_RO) < 0) return NULL;
    if (buffer_layout(&v, shape, strides) < 0) goto done;

    Py_BEGIN_ALLOW_THREADS
    r = mcrle_count_runs(v.buf, (size_t)v.itemsize, v.ndim, shape, strides, &n_runs);
    Py_END_ALLOW_THREADS
    if (r != MCRLE_OK) { raise_result(r, NULL); goto done; }

    values = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(n_runs * (size_t)v.itemsize));
    counts = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(n_runs * sizeof(uint64_t)));
    if (!values || !counts) goto done;
    scratch_size = mcrle_encode_scratch_size((size_t)v.itemsize, v.ndim, shape, strides, n_runs);
    if (scratch_size == SIZE_MAX) { PyErr_NoMemory(); goto done; }
    if (scratch_size && !(scratch = PyMem_RawMalloc(scratch_size))) { PyErr_NoMemory(); goto done; }

    Py_BEGIN_ALLOW_THREADS
    r = mcrle_encode(v.buf, (size_t)v.itemsize, v.ndim, shape, strides,
                     PyByteArray_AS_STRING(values), (uint64_t *)(void *)PyByteArray_AS_STRING(counts),
                     n_runs, &written, scratch, scratch_size);
    Py_END_ALLOW_THREADS
    if (r == MCRLE_OK && written != n_runs) r = MCRLE_ERR_NOSPACE;
    if (r == MCRLE_ERR_NOSPACE) {
        PyErr_SetString(PyExc_RuntimeError, "the array was modified while it was being encoded");
        goto done;
    }
    if (r != MCRLE_OK) { raise_result(r, NULL); goto done; }
    result = PyTuple_Pack(2, values, counts);
done:
    PyMem_RawFree(scratch);
    Py_XDECREF(values);
    Py_XDECREF(counts);
    PyBuffer_Release(&v);
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
