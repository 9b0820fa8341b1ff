/*
 * Unit tests for server/pki/pki_serial.c: fresh serials and their round
 * trip through a certificate (see also test_pki_cert.c), and the
 * decoding of stored serials into bytes.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "../../server/base/parse.h"
#include "../../server/pki/pki.h"
#include "../../server/pki/pki_priv.h"

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

/* pki_serial_decode(s) takes s exactly when wd_serial_is_valid does and
 * s is not zero. */
static void
assert_decode_agrees(const char *s)
{
    uint8_t out[PKI_SERIAL_MAX_BYTES];
    size_t len = 0;
    size_t n = strlen(s);
    bool nonzero = strspn(s, "0") != n;

    assert_int_equal(pki_serial_decode(s, out, &len),
                     wd_serial_is_valid(s, n) && nonzero);
}

static void
test_pki_serial_decode_takes_what_wd_serial_is_valid_takes(void **state)
{
    char s[4];
    int c;

    (void)state;
    for (c = 1; c < 256; c++) {
        s[0] = (char)c;
        s[1] = '\0';
        assert_decode_agrees(s);
        memcpy(s, "a", 1);
        s[1] = (char)c;
        s[2] = '1';
        s[3] = '\0';
        assert_decode_agrees(s);
    }
    assert_decode_agrees("");
    assert_decode_agrees("0");
    assert_decode_agrees("0000");
    assert_decode_agrees("ffffffffffffffffffffffffffffffffffffffff");
    assert_decode_agrees("fffffffffffffffffffffffffffffffffffffffff");
    assert_false(pki_serial_decode(NULL, (uint8_t[PKI_SERIAL_MAX_BYTES]){ 0 },
                                   &(size_t){ 0 }));
}

static void
test_pki_serial_decode_gives_big_endian_bytes_with_leading_zeros(void **state)
{
    static const uint8_t want_odd[] = { 0x0a, 0xbc };
    static const uint8_t want_zeros[] = { 0x00, 0x00, 0x80 };
    uint8_t out[PKI_SERIAL_MAX_BYTES];
    size_t len = 0;
    size_t i;

    (void)state;
    assert_true(pki_serial_decode("abc", out, &len));
    assert_int_equal(len, sizeof(want_odd));
    assert_memory_equal(out, want_odd, len);
    assert_true(pki_serial_decode("000080", out, &len));
    assert_int_equal(len, sizeof(want_zeros));
    assert_memory_equal(out, want_zeros, len);
    assert_true(pki_serial_decode("0123456789abcdef0123456789abcdef01234567",
                                  out, &len));
    assert_int_equal(len, PKI_SERIAL_MAX_BYTES);
    for (i = 0; i < len; i++) {
        assert_int_equal(out[i], (uint8_t)((i % 8) * 0x22 + 0x01));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_serial_new_gives_32_lowercase_hex_digits),
        cmocka_unit_test(test_pki_serial_new_never_starts_with_a_zero_byte),
        cmocka_unit_test(test_pki_serial_new_gives_1000_distinct_serials),
        cmocka_unit_test(
            test_pki_serial_decode_takes_what_wd_serial_is_valid_takes),
        cmocka_unit_test(
            test_pki_serial_decode_gives_big_endian_bytes_with_leading_zeros),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
