/*
 * Shared helpers for the cmocka unit tests: assert_wd_err prints the
 * sentence of both values so a red test explains itself; test_read_file
 * loads fixtures from tests/data (WARDEN_TEST_DATA).
 */
#ifndef WD_TEST_SUPPORT_H
#define WD_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/base/err.h"

void test_assert_wd_err(enum wd_err got, enum wd_err want, const char *expr,
                        const char *file, int line);

#define assert_wd_err(expr, want)                                              \
    test_assert_wd_err((expr), (want), #expr, __FILE__, __LINE__)

/* Reads tests/data/<name> whole; NUL-terminated; caller frees. */
uint8_t *test_read_file(const char *name, size_t *len);

#endif
