/*
 * replay_main.c - runs files through a harness's LLVMFuzzerTestOneInput
 * without libFuzzer, so any compiler (gcc with sanitizers, say) can replay
 * a corpus. Arguments are files or directories (not recursive). Each input
 * is copied into a buffer of exactly its size, as libFuzzer does. With
 * REPLAY_VERBOSE set, each file's name is printed (to stderr) before it runs,
 * so the last name printed before a crash is the failing input.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t n_run;
static int verbose;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = (unsigned char *)malloc(cap);
    if (!buf) { fclose(f); return 1; }
    for (;;) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        cap *= 2;
        unsigned char *nb = (unsigned char *)realloc(buf, cap);
        if (!nb) { free(buf); fclose(f); return 1; }
        buf = nb;
    }
    fclose(f);
    unsigned char *exact = (unsigned char *)malloc(len ? len : 1);
    if (!exact) { free(buf); return 1; }
    memcpy(exact, buf, len);
    free(buf);
    if (verbose) { fprintf(stderr, "replaying %s\n", path); fflush(stderr); }
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    n_run++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { perror(path); return 1; }
    if (!S_ISDIR(st.st_mode)) return run_file(path);
    DIR *d = opendir(path);
    if (!d) { perror(path); return 1; }
    size_t n = 0, cap = 64;
    char **names = (char **)malloc(cap * sizeof(char *));
    struct dirent *e;
    int rc = 0;
    while (names && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap *= 2;
            char **nn = (char **)realloc(names, cap * sizeof(char *));
            if (!nn) { rc = 1; break; }
            names = nn;
        }
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        names[n] = (char *)malloc(l);
        if (!names[n]) { rc = 1; break; }
        snprintf(names[n], l, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (!names) return 1;
    qsort(names, n, sizeof(char *), cmp_str);   /* deterministic order */
    for (size_t i = 0; i < n; i++) {
        struct stat fs;
        if (rc == 0 && stat(names[i], &fs) == 0 && S_ISREG(fs.st_mode)) rc |= run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    verbose = getenv("REPLAY_VERBOSE") != NULL;
    for (int i = 1; i < argc; i++) rc |= run_path(argv[i]);
    printf("%s: %zu inputs replayed\n", argc > 0 ? argv[0] : "replay", n_run);
    return rc;
}
