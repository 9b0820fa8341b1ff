/*
 * Unit tests for server/pki/pki_serial.c: fresh serials and their round
 * trip through a certificate (see also test_pki_cert.c).
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "../../server/pki/pki.h"

#define N_SERIALS 1000

static void
test_pki_serial_new_gives_32_lowercase_hex_digits(void **state)
{
    char serial[WD_MAX_SERIAL_HEX + 1];
    size_t i;

    (void)state;
    assert_wd_err(pki_serial_new(serial), WD_OK);
    assert_int_equal(strlen(serial), 32);
    for (i = 0; i < 32; i++) {
        assert_true((serial[i] >= '0' && serial[i] <= '9') ||
                    (serial[i] >= 'a' && serial[i] <= 'f'));
    }
}

static void
test_pki_serial_new_never_starts_with_a_zero_byte(void **state)
{
    char serial[WD_MAX_SERIAL_HEX + 1];
    int i;

    (void)state;
    for (i = 0; i < N_SERIALS; i++) {
        assert_wd_err(pki_serial_new(serial), WD_OK);
        assert_false(serial[0] == '0' && serial[1] == '0');
    }
}

static int
compare(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
test_pki_serial_new_gives_1000_distinct_serials(void **state)
{
    char(*serials)[WD_MAX_SERIAL_HEX + 1] = calloc(N_SERIALS, sizeof(*serials));
    int i;

    (void)state;
    assert_non_null(serials);
    for (i = 0; i < N_SERIALS; i++) {
        assert_wd_err(pki_serial_new(serials[i]), WD_OK);
    }
    qsort(serials, N_SERIALS, sizeof(*serials), compare);
    for (i = 1; i < N_SERIALS; i++) {
        assert_string_not_equal(serials[i - 1], serials[i]);
    }
    free(serials);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_serial_new_gives_32_lowercase_hex_digits),
        cmocka_unit_test(test_pki_serial_new_never_starts_with_a_zero_byte),
        cmocka_unit_test(test_pki_serial_new_gives_1000_distinct_serials),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
