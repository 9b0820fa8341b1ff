/*
 * server/base/parse.c: bounded number, duration and serial parsing.
 */
#include "support.h"

#include "../../server/base/parse.h"

static void
test_wd_parse_u64_accepts_digits_within_bounds_only(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_true(wd_parse_u64("42", 1, 100, &v));
    assert_int_equal(v, 42);
    assert_true(wd_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
    assert_false(wd_parse_u64("18446744073709551616", 0, UINT64_MAX, &v));
    assert_false(wd_parse_u64("", 0, 10, &v));
    assert_false(wd_parse_u64("+1", 0, 10, &v));
    assert_false(wd_parse_u64(" 1", 0, 10, &v));
    assert_false(wd_parse_u64("1 ", 0, 10, &v));
    assert_false(wd_parse_u64("0x10", 0, 100, &v));
    assert_false(wd_parse_u64("101", 0, 100, &v));
    assert_false(wd_parse_u64("0", 1, 100, &v));
    assert_false(wd_parse_u64(NULL, 0, 100, &v));
}

static void
test_wd_parse_duration_takes_one_number_and_one_unit(void **state)
{
    uint64_t s = 0;

    (void)state;
    assert_true(wd_parse_duration("720h", 100 * 86400, &s));
    assert_int_equal(s, 720 * 3600);
    assert_true(wd_parse_duration("30d", 100 * 86400, &s));
    assert_int_equal(s, 30 * 86400);
    assert_true(wd_parse_duration("90m", 100 * 86400, &s));
    assert_int_equal(s, 90 * 60);
    assert_true(wd_parse_duration("3600s", 100 * 86400, &s));
    assert_int_equal(s, 3600);
    assert_false(wd_parse_duration("101d", 100 * 86400, &s));
    assert_false(wd_parse_duration("0h", 100 * 86400, &s));
    assert_false(wd_parse_duration("1w", 100 * 86400, &s));
    assert_false(wd_parse_duration("h", 100 * 86400, &s));
    assert_false(wd_parse_duration("1hh", 100 * 86400, &s));
    assert_false(wd_parse_duration("1.5h", 100 * 86400, &s));
    assert_false(wd_parse_duration("-1h", 100 * 86400, &s));
    assert_false(wd_parse_duration("99999999999999999999999d", UINT64_MAX, &s));
}

static void
test_wd_serial_is_valid_wants_1_to_40_lowercase_hex(void **state)
{
    (void)state;
    assert_true(wd_serial_is_valid("0", 1));
    assert_true(wd_serial_is_valid("0123456789abcdef", 16));
    assert_true(
        wd_serial_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40));
    assert_false(wd_serial_is_valid("", 0));
    assert_false(
        wd_serial_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 41));
    assert_false(wd_serial_is_valid("ABCDEF", 6));
    assert_false(wd_serial_is_valid("../etc", 6));
    assert_false(wd_serial_is_valid("12:34", 5));
}

static void
test_wd_hex_encode_writes_lowercase_pairs(void **state)
{
    const uint8_t in[] = { 0x00, 0x7f, 0xab, 0xff };
    char out[9];

    (void)state;
    wd_hex_encode(in, sizeof(in), out);
    assert_string_equal(out, "007fabff");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wd_parse_u64_accepts_digits_within_bounds_only),
        cmocka_unit_test(test_wd_parse_duration_takes_one_number_and_one_unit),
        cmocka_unit_test(test_wd_serial_is_valid_wants_1_to_40_lowercase_hex),
        cmocka_unit_test(test_wd_hex_encode_writes_lowercase_pairs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
