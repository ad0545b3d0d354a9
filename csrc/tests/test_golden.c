/*
 * test_golden.c - every golden file of tests/fixtures/ through the C kernels alone.
 *
 *   test_golden DIR
 *
 * For each NAME.npy in DIR (the map) it decodes NAME.v*.mcrle (every bytes-form
 * version), NAME.compact.json, NAME.original.json and NAME.packed.json with
 * the kernels (on one thread and on three) and compares every element with the
 * .npy; then it encodes the map in every version and compares the bytes with
 * NAME.vN.mcrle (a map stored in Fortran order is coded along its first axis
 * from version 2, as encode_bytes does) and the strings with NAME.compact.json. No Python: this is what runs under qemu
 * (aarch64, big-endian s390x) and wine (MinGW-w64), where it shows that a map
 * written on one machine reads back the same on every other. The files are
 * little-endian whatever the machine (.npy headers say so); the kernels work
 * in native byte order, so the comparisons go through explicit conversions.
 *
 * The JSON reader understands exactly the fixtures' flat dicts (strings, lists
 * of integers); it is a test tool, not a parser for untrusted input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"   /* mcrle_load, mcrle_store: native elements */
#include "mcrle_bytes.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <dirent.h>
#endif


static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "out of memory (%lu bytes)\n", (unsigned long)n); exit(2); }
    return p;
}

/* The whole file; NULL if it cannot be read. */
static unsigned char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = (unsigned char *)xmalloc(cap + 1);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        cap *= 2;
        unsigned char *bigger = (unsigned char *)realloc(buf, cap + 1);
        if (!bigger) { free(buf); fclose(f); return NULL; }
        buf = bigger;
    }
    fclose(f);
    buf[n] = 0;   /* text files can be read as strings */
    *len = n;
    return buf;
}

/* ---- the map: a .npy file ------------------------------------------------ */

typedef struct map {
    mcrle_kind kind;
    size_t E;
    int ndim;
    size_t shape[MCRLE_MAX_NDIM];
    ptrdiff_t strides[MCRLE_MAX_NDIM];   /* C order, bytes */
    size_t size;
    unsigned char *data;                 /* native byte order, C order */
    const char *dtype;                   /* numpy name */
    int fortran_first;                   /* stored in Fortran order, not also C-contiguous */
} map;

static const char *dtype_name(mcrle_kind kind, size_t E)
{
    static const char *const u[] = {"uint8", "uint16", "uint32", "uint64"};
    static const char *const i[] = {"int8", "int16", "int32", "int64"};
    unsigned k = E == 1 ? 0 : E == 2 ? 1 : E == 4 ? 2 : 3;
    return kind == MCRLE_KIND_BOOL ? "bool" : kind == MCRLE_KIND_SIGNED ? i[k] : u[k];
}

static uint64_t load_bytes(const unsigned char *p, size_t E, int little)
{
    uint64_t v = 0;
    for (size_t b = 0; b < E; b++) v |= (uint64_t)p[little ? b : E - 1 - b] << (8 * b);
    return v;
}

/* Parses a .npy (versions 1-3; any byte order; C or Fortran order) into m. */
static int read_npy(const unsigned char *b, size_t len, map *m)
{
    memset(m, 0, sizeof *m);
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return 0;
    size_t hl = b[6] == 1 ? (size_t)b[8] | (size_t)b[9] << 8 : (size_t)load_bytes(b + 8, 4, 1);
    size_t start = b[6] == 1 ? 10 : 12;
    if (start + hl > len) return 0;
    char head[1024];
    if (hl >= sizeof head) return 0;
    memcpy(head, b + start, hl);
    head[hl] = 0;
    const char *d = strstr(head, "'descr': '");
    const char *f = strstr(head, "'fortran_order': ");
    const char *s = strstr(head, "'shape': (");
    if (!d || !f || !s) return 0;
    d += 10;
    int little = d[0] != '>';
    char t = d[1];
    m->E = (size_t)(d[2] - '0');
    m->kind = t == 'b' ? MCRLE_KIND_BOOL : t == 'i' ? MCRLE_KIND_SIGNED : MCRLE_KIND_UNSIGNED;
    if ((t != 'b' && t != 'i' && t != 'u') || (m->E != 1 && m->E != 2 && m->E != 4 && m->E != 8))
        return 0;
    int fortran = strncmp(f + 17, "True", 4) == 0;
    s += 10;
    m->ndim = 0;
    m->size = 1;
    while (*s && *s != ')') {
        char *end;
        unsigned long long n = strtoull(s, &end, 10);
        if (end == s) break;
        m->shape[m->ndim++] = (size_t)n;
        m->size *= (size_t)n;
        s = end;
        while (*s == ',' || *s == ' ') s++;
    }
    if (m->ndim == 0) { m->ndim = 1; m->shape[0] = 1; }   /* a 0-d map: one element */
    int long_axes = 0;   /* numpy: an array of at most one axis longer than 1 is C-contiguous */
    for (int a = 0; a < m->ndim; a++) long_axes += m->shape[a] > 1;
    m->fortran_first = fortran && long_axes > 1 && m->size > 0;
    m->dtype = dtype_name(m->kind, m->E);
    ptrdiff_t st = (ptrdiff_t)m->E;
    for (int a = m->ndim - 1; a >= 0; a--) {
        m->strides[a] = st;
        st *= (ptrdiff_t)m->shape[a];
    }
    const unsigned char *p = b + start + hl;
    if ((size_t)(b + len - p) < m->size * m->E) return 0;
    m->data = (unsigned char *)xmalloc(m->size * m->E);
    for (size_t i = 0; i < m->size; i++) {
        size_t src = i;   /* element i in C order; where it is in a Fortran-ordered file */
        if (fortran) {   /* index (i0, i1, ...) is at i0 + shape[0] * (i1 + shape[1] * ...) */
            size_t rest = i;
            src = 0;
            for (int a = m->ndim - 1; a >= 0; a--) {
                size_t fm = 1;
                for (int q = 0; q < a; q++) fm *= m->shape[q];
                src += rest % m->shape[a] * fm;
                rest /= m->shape[a];
            }
        }
        mcrle_store(m->data + i * m->E, load_bytes(p + src * m->E, m->E, little), m->E);
    }
    return 1;
}

/* Element-wise comparison of a decoded buffer (native) with the map. */
static int same_elements(const map *m, const unsigned char *got)
{
    for (size_t i = 0; i < m->size; i++)
        if (mcrle_load(got + i * m->E, m->E) != mcrle_load(m->data + i * m->E, m->E)) return 0;
    return 1;
}

/* ---- the fixtures' JSON dicts ------------------------------------------- */

/* Where the value of "key" starts, after its opening character ('"' or '['); NULL if absent. */
static const char *json_field(const char *json, const char *key, char open)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": %c", key, open);
    const char *p = strstr(json, pat);
    return p ? p + strlen(pat) : NULL;
}

/* A string field, unescaped (the compact code uses '\\'), or NULL; the caller frees it. */
static char *json_string(const char *json, const char *key, size_t *len)
{
    const char *p = json_field(json, key, '"');
    if (!p) return NULL;
    char *out = (char *)xmalloc(strlen(p) + 1);
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;   /* the fixtures escape only '\\' and '"' */
        out[n++] = *p;
    }
    out[n] = 0;
    *len = n;
    return out;
}

/* A list of integers (as 64-bit patterns: negative ones in two's complement). */
static uint64_t *json_ints(const char *json, const char *key, size_t *n)
{
    const char *p = json_field(json, key, '[');
    if (!p) return NULL;
    size_t cap = 16;
    uint64_t *v = (uint64_t *)xmalloc(cap * sizeof *v);
    *n = 0;
    while (*p && *p != ']') {
        int neg = *p == '-';
        char *end;
        unsigned long long x = strtoull(p + neg, &end, 10);
        if (end == p + neg) break;
        if (*n == cap) {
            cap *= 2;
            uint64_t *w = (uint64_t *)realloc(v, cap * sizeof *v);
            if (!w) { free(v); return NULL; }
            v = w;
        }
        v[(*n)++] = neg ? 0 - (uint64_t)x : (uint64_t)x;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    return v;
}

static unsigned char *base64_decode(const char *s, size_t len, size_t *n)
{
    unsigned char *out = (unsigned char *)xmalloc(len / 4 * 3 + 3);
    uint32_t acc = 0;
    unsigned bits = 0;
    *n = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
        if (v < 0) { free(out); return NULL; }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*n)++] = (unsigned char)(acc >> bits);
        }
    }
    return out;
}

/* ---- decoding through the kernels ----------------------------------------- */

static int decode_object(const map *m, const unsigned char *obj, size_t len, const char *what)
{
    mcrle_bytes_info info;
    mcrle_error_info err = {0, 0};
    int r = mcrle_bytes_parse_header(obj, len, &info, &err);
    CHECK_MSG(r == MCRLE_OK && info.total_len == len, "%s: header (%s)", what, mcrle_bytes_result_name(r));
    if (r != MCRLE_OK) return 0;
    CHECK_MSG(strcmp(dtype_name(info.kind, info.elem_size), m->dtype) == 0, "%s: stored dtype", what);
    size_t ss = mcrle_bytes_decode_scratch_size(&info, m->E, m->strides);
    void *scratch = xmalloc(ss);
    unsigned char *out = (unsigned char *)xmalloc(m->size * m->E);
    r = mcrle_bytes_decode(obj, len, m->kind, m->E, m->ndim, m->shape, m->strides, out, scratch, ss,
                           &err);
    CHECK_MSG(r == MCRLE_OK, "%s: decode: %s (index %lu)", what, mcrle_bytes_result_name(r),
          (unsigned long)err.index);
    int ok = r == MCRLE_OK && same_elements(m, out);
    CHECK_MSG(ok, "%s: decoded elements differ from the .npy", what);
    free(scratch);
    /* and on threads (version 2: its chunks at once; native threads under qemu and wine) */
    ss = mcrle_bytes_decode_scratch_size_mt(&info, m->E, m->strides, 3);
    scratch = xmalloc(ss);
    memset(out, 0xA5, m->size * m->E);
    r = mcrle_bytes_decode_mt(obj, len, m->kind, m->E, m->ndim, m->shape, m->strides, out, scratch,
                              ss, &err, 3);
    CHECK_MSG(r == MCRLE_OK && same_elements(m, out), "%s: decode on 3 threads: %s", what,
              mcrle_bytes_result_name(r));
    ok = ok && r == MCRLE_OK && same_elements(m, out);
    free(scratch);
    free(out);
    return ok;
}

/* Runs (64-bit value patterns, counts) decoded into the map's dtype. */
static void decode_runs(const map *m, const uint64_t *numbers, int numbers_signed,
                        const uint64_t *counts, size_t n, const char *what)
{
    unsigned char *values = (unsigned char *)xmalloc(n * m->E);
    mcrle_error_info err = {0, 0};
    mcrle_result r = mcrle_narrow_values(numbers, n, numbers_signed, m->kind, m->E, values, &err);
    CHECK_MSG(r == MCRLE_OK, "%s: values do not fit %s (run %lu)", what, m->dtype, (unsigned long)err.index);
    unsigned char *out = (unsigned char *)xmalloc(m->size * m->E);
    size_t ss = mcrle_decode_scratch_size(m->E, m->ndim, m->shape, m->strides, n);
    void *scratch = xmalloc(ss);
    if (r == MCRLE_OK && m->size > 0) {
        r = mcrle_decode(values, counts, n, m->E, m->ndim, m->shape, m->strides, out, scratch, ss, &err);
        CHECK_MSG(r == MCRLE_OK, "%s: decode: %s", what, mcrle_result_name(r));
        CHECK_MSG(r == MCRLE_OK && same_elements(m, out), "%s: decoded elements differ from the .npy", what);
    } else if (r == MCRLE_OK) {
        CHECK_MSG(n == 0, "%s: runs in an empty map", what);
    }
    free(scratch);
    free(out);
    free(values);
}

static uint64_t *string_numbers(const char *s, size_t len, size_t delta_from, size_t *n)
{
    uint64_t *v = (uint64_t *)xmalloc((len + 1) * sizeof *v);   /* at most one per character */
    mcrle_error_info err = {0, 0};
    mcrle_result r = mcrle_string_decode(s, len, delta_from, v, len + 1, n, &err);
    CHECK_MSG(r == MCRLE_OK, "string decode: %s at %lu", mcrle_result_name(r), (unsigned long)err.index);
    if (r != MCRLE_OK) *n = 0;
    return v;
}

static void decode_compact(const map *m, const char *json, const char *what)
{
    size_t vl = 0, cl = 0, nv = 0, nc = 0, dl = 0;
    char *vs = json_string(json, "values", &vl), *cs = json_string(json, "counts", &cl);
    char *dt = json_string(json, "dtype", &dl);
    CHECK_MSG(vs && cs && dt, "%s: not a compact dict", what);
    if (vs && cs && dt) {
        CHECK_MSG(strcmp(dt, m->dtype) == 0, "%s: dtype %s", what, dt);
        uint64_t *values = string_numbers(vs, vl, 2, &nv), *counts = string_numbers(cs, cl, 3, &nc);
        CHECK_MSG(nv == nc, "%s: %lu values, %lu counts", what, (unsigned long)nv, (unsigned long)nc);
        if (nv == nc) decode_runs(m, values, m->kind == MCRLE_KIND_SIGNED, counts, nv, what);
        free(values);
        free(counts);
    }
    free(vs);
    free(cs);
    free(dt);
}

static void decode_original(const map *m, const char *json, const char *what)
{
    size_t nv = 0, nc = 0;
    uint64_t *values = json_ints(json, "values", &nv), *counts = json_ints(json, "counts", &nc);
    CHECK_MSG(values && counts && nv == nc, "%s: not an original dict", what);
    if (values && counts && nv == nc) decode_runs(m, values, m->kind == MCRLE_KIND_SIGNED, counts, nv, what);
    free(values);
    free(counts);
}

/* ---- encoding: the same bytes and strings on every machine ----------------- */

static int key_less(uint64_t a, uint64_t b, int sgn)
{
    return sgn ? (int64_t)a < (int64_t)b : a < b;
}

static void check_encoders(const map *m, const char *dir, const char *name, const char *compact)
{
    int sgn = m->kind == MCRLE_KIND_SIGNED;
    uint64_t *wide = (uint64_t *)xmalloc(m->size * sizeof *wide);
    mcrle_widen_values(m->data, m->size, m->kind, m->E, wide);
    /* the distinct values, sorted (insertion into a sorted table: fixtures are small) */
    size_t nd = 0;
    uint64_t *table = (uint64_t *)xmalloc(m->size * sizeof *table);
    for (size_t i = 0; i < m->size; i++) {
        size_t lo = 0, hi = nd;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (key_less(table[mid], wide[i], sgn)) lo = mid + 1;
            else hi = mid;
        }
        if (lo < nd && table[lo] == wide[i]) continue;
        memmove(table + lo + 1, table + lo, (nd - lo) * sizeof *table);
        table[lo] = wide[i];
        nd++;
    }
    /* every version: version 1 and the latest must be there (an older version's file may not) */
    for (unsigned version = 1; version <= MCRLE_BYTES_VERSION; version++) {
        char fname[512];
        snprintf(fname, sizeof fname, "%s.v%u.mcrle", name, version);
        size_t glen = 0;
        unsigned char *golden = read_file(dir, fname, &glen);
        if (!golden && version != 1 && version != MCRLE_BYTES_VERSION) continue;
        CHECK_MSG(golden != NULL, "%s: missing", fname);
        /* version 2 codes a map stored in Fortran order along its first axis, as encode_bytes does */
        unsigned order = version >= 2 && m->fortran_first;
        for (unsigned nt = 1; nt <= 2; nt++) {
            size_t cap = mcrle_bytes_bound(m->E, m->ndim, m->shape);
            size_t ss = mcrle_bytes_encode_scratch_size_mt(m->E, m->ndim, m->shape, m->strides, nd, order, version,
                                                           nt);
            unsigned char *out = (unsigned char *)xmalloc(cap);
            void *scratch = xmalloc(ss);
            size_t olen = 0;
            int r = mcrle_bytes_encode_mt(m->data, m->kind, m->E, m->ndim, m->shape, m->strides, table,
                                          nd, order, version, out, cap, &olen, scratch, ss, nt);
            CHECK_MSG(r == MCRLE_OK, "%s: encode: %s", fname, mcrle_bytes_result_name(r));
            CHECK_MSG(golden && r == MCRLE_OK && olen == glen && memcmp(out, golden, glen) == 0,
                      "%s: encode_bytes on %u thread(s) writes other bytes (%lu, golden %lu)", fname,
                      nt, (unsigned long)olen, (unsigned long)glen);
            free(scratch);
            free(out);
        }
        free(golden);
    }
    free(table);

    /* runs and the compact strings */
    size_t n_runs = 0;
    mcrle_result rr = m->size ? mcrle_count_runs(m->data, m->E, m->ndim, m->shape, m->strides, &n_runs)
                              : MCRLE_OK;
    CHECK_MSG(rr == MCRLE_OK, "%s: count runs", name);
    unsigned char *values = (unsigned char *)xmalloc(n_runs * m->E);
    uint64_t *counts = (uint64_t *)xmalloc(n_runs * sizeof *counts);
    uint64_t *vwide = (uint64_t *)xmalloc(n_runs * sizeof *vwide);
    if (m->size) {
        size_t ss = mcrle_encode_scratch_size(m->E, m->ndim, m->shape, m->strides, n_runs);
        void *scratch = xmalloc(ss);
        size_t got = 0;
        rr = mcrle_encode(m->data, m->E, m->ndim, m->shape, m->strides, values, counts, n_runs, &got,
                          scratch, ss);
        CHECK_MSG(rr == MCRLE_OK && got == n_runs, "%s: encode runs", name);
        free(scratch);
        /* on threads: the same runs (bands joined where a run crosses them). Each band
         * writes its own runs, so a first try with room for n_runs in all may fall short
         * (a run across a border counts in both bands); then the exact per-band counts. */
        static size_t band_runs[MCRLE_MAX_BANDS];
        size_t room = n_runs;
        unsigned char *v2 = NULL;
        uint64_t *c2 = NULL;
        scratch = NULL;
        for (int attempt = 0; attempt < 2; attempt++) {
            const size_t *caps = attempt ? band_runs : NULL;
            if (attempt) {
                room = 0;
                for (unsigned b = 0; b < MCRLE_MAX_BANDS; b++) room += band_runs[b];
            }
            free(v2);
            free(c2);
            free(scratch);
            v2 = (unsigned char *)xmalloc(room * m->E);
            c2 = (uint64_t *)xmalloc(room * sizeof *c2);
            ss = mcrle_encode_scratch_size_mt(m->E, m->ndim, m->shape, m->strides, room, caps, 3);
            scratch = xmalloc(ss);
            got = 0;
            rr = mcrle_encode_mt(m->data, m->E, m->ndim, m->shape, m->strides, v2, c2, room, &got,
                                 scratch, ss, caps, attempt ? NULL : band_runs, 3);
            if (rr != MCRLE_ERR_NOSPACE) break;
        }
        CHECK_MSG(rr == MCRLE_OK && got == n_runs && memcmp(v2, values, n_runs * m->E) == 0 &&
                  memcmp(c2, counts, n_runs * sizeof *c2) == 0, "%s: encode runs on 3 threads", name);
        free(scratch);
        free(c2);
        free(v2);
    }
    mcrle_widen_values(values, n_runs, m->kind, m->E, vwide);
    size_t sl = mcrle_string_bound(n_runs);
    char *vs = (char *)xmalloc(sl), *cs = (char *)xmalloc(sl);
    size_t vl = 0, cl = 0, gvl = 0, gcl = 0;
    mcrle_string_encode(vwide, n_runs, 2, vs, sl, &vl);
    mcrle_string_encode(counts, n_runs, 3, cs, sl, &cl);
    char *gv = json_string(compact, "values", &gvl), *gc = json_string(compact, "counts", &gcl);
    CHECK_MSG(gv && gvl == vl && memcmp(gv, vs, vl) == 0, "%s: values string differs", name);
    CHECK_MSG(gc && gcl == cl && memcmp(gc, cs, cl) == 0, "%s: counts string differs", name);
    free(gv);
    free(gc);
    free(vs);
    free(cs);
    free(vwide);
    free(counts);
    free(values);
    free(wide);
}

/* ---- one fixture ------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static char names[512][256];   /* the directory's file names */
static size_t n_names;

static int list_dir(const char *dir)
{
#ifdef _WIN32
    char pat[4096];
    snprintf(pat, sizeof pat, "%s/*", dir);
    WIN32_FIND_DATAA fd;
    HANDLE h = FindFirstFileA(pat, &fd);
    if (h == INVALID_HANDLE_VALUE) return 0;
    do {
        if (n_names < 512 && strlen(fd.cFileName) < 256) strcpy(names[n_names++], fd.cFileName);
    } while (FindNextFileA(h, &fd));
    FindClose(h);
#else
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (n_names < 512 && strlen(e->d_name) < 256) strcpy(names[n_names++], e->d_name);
    closedir(d);
#endif
    return 1;
}

static int check_fixture(const char *dir, const char *name)
{
    char fname[512];
    size_t len = 0;
    snprintf(fname, sizeof fname, "%s.npy", name);
    unsigned char *npy = read_file(dir, fname, &len);
    map m;
    if (!npy || !read_npy(npy, len, &m)) {
        CHECK_MSG(0, "%s: cannot read", fname);
        free(npy);
        return 0;
    }
    free(npy);
    int versions = 0;
    for (size_t i = 0; i < n_names; i++) {   /* every version of the bytes form */
        const char *f = names[i];
        size_t nl = strlen(name);
        if (strncmp(f, name, nl) == 0 && strncmp(f + nl, ".v", 2) == 0 && ends_with(f, ".mcrle")) {
            unsigned char *obj = read_file(dir, f, &len);
            CHECK_MSG(obj != NULL, "%s: cannot read", f);
            if (obj) decode_object(&m, obj, len, f);
            free(obj);
            versions++;
        }
    }
    CHECK_MSG(versions >= 1, "%s: no .mcrle file", name);
    char *compact = NULL;
    static const char *const forms[] = {"compact", "original", "packed"};
    for (int k = 0; k < 3; k++) {
        snprintf(fname, sizeof fname, "%s.%s.json", name, forms[k]);
        char *json = (char *)read_file(dir, fname, &len);
        CHECK_MSG(json != NULL, "%s: missing", fname);
        if (!json) continue;
        size_t pl = 0;
        char *packed = json_string(json, "packed", &pl);
        if (k == 1) {
            decode_original(&m, json, fname);
        } else if (packed) {
            size_t n = 0;
            unsigned char *obj = base64_decode(packed, pl, &n);
            CHECK_MSG(obj != NULL, "%s: bad base64", fname);
            if (obj) decode_object(&m, obj, n, fname);
            free(obj);
        } else {
            decode_compact(&m, json, fname);   /* packed=True keeps small and 0/1 maps plain */
        }
        free(packed);
        if (k == 0) compact = json;
        else free(json);
    }
    if (compact) check_encoders(&m, dir, name, compact);
    free(compact);
    free(m.data);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_golden FIXTURES_DIR\n");
        return 2;
    }
    if (!list_dir(argv[1])) {
        fprintf(stderr, "cannot list %s\n", argv[1]);
        return 2;
    }
    int maps = 0;
    for (size_t i = 0; i < n_names; i++) {
        if (!ends_with(names[i], ".npy")) continue;
        char name[256];
        size_t nl = strlen(names[i]) - 4;
        memcpy(name, names[i], nl);
        name[nl] = 0;
        int before = n_failed;
        check_fixture(argv[1], name);
        printf("%s %s\n", n_failed == before ? "ok  " : "FAIL", name);
        maps++;
    }
    CHECK_MSG(maps >= 20, "only %d golden maps in %s", maps, argv[1]);
    printf("%d golden maps, %d passed, %d failed\n", maps, n_passed, n_failed);
    return n_failed ? 1 : 0;
}
