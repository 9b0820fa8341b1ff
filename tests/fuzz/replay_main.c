/*
 * The replay driver of the builds without libFuzzer (gcc, the ASan build,
 * CI): runs LLVMFuzzerTestOneInput once on every file named on the
 * command line or found in a directory named there, so CTest replays the
 * committed corpora. Each input sits in a buffer of exactly its size, as
 * under libFuzzer, so the sanitizers see an over-read.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Run one file; returns 0, or 1 if it cannot be read. */
static int
replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0;
    size_t got;
    struct stat sb;
    int rc = 1;

    if (fp == NULL || fstat(fileno(fp), &sb) != 0 || sb.st_size < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    len = (size_t)sb.st_size;
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        goto out;
    }
    got = fread(buf, 1, len, fp);
    if (got != len) {
        fprintf(stderr, "replay: %s: short read\n", path);
        goto out;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* an empty input gets a zero-length, unreadable pointer */
    LLVMFuzzerTestOneInput(len > 0 ? buf : NULL, len);
    rc = 0;
out:
    free(buf);
    if (fp != NULL) {
        fclose(fp);
    }
    return rc;
}

/* Run every regular file of dir (not recursive); returns the failures. */
static int
replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    int failed = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
            (int)sizeof(path)) {
            failed++;
            continue;
        }
        failed += replay_file(path);
    }
    closedir(d);
    return failed;
}

int
main(int argc, char **argv)
{
    struct stat sb;
    int failed = 0;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            failed += replay_dir(argv[i]);
        } else {
            failed += replay_file(argv[i]);
        }
    }
    return failed == 0 ? 0 : 1;
}
