/*
 * Helpers shared by every unit test executable.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>

void
test_assert_wd_err(enum wd_err got, enum wd_err want, const char *expr,
                   const char *file, int line)
{
    if (got != want) {
        print_error("%s returned %d (%s), expected %d (%s)\n", expr, got,
                    wd_err_str(got), want, wd_err_str(want));
        _fail(file, line);
    }
}

uint8_t *
test_read_file(const char *name, size_t *len)
{
    const char *dir = getenv("WARDEN_TEST_DATA");
    char path[1024];
    FILE *f;
    uint8_t *buf = NULL;
    long size;

    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "tests/data",
             name);
    f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open fixture %s\n", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
            buf[size] = '\0';
            *len = (size_t)size;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}
