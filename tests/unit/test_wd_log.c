/*
 * server/base/log_json.c: key=value log lines as JSON objects, and
 * log_quote's escapes undone on the way.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/base/log.h"

#define TS "2026-01-02T03:04:05.678Z"

static const char *
json_of(const char *request_id, const char *kv)
{
    static char out[LOG_JSON_MAX];

    log_json_line(out, sizeof(out), TS, "info", request_id, kv);
    return out;
}

static void
test_log_json_line_makes_one_member_per_pair(void **state)
{
    (void)state;
    assert_string_equal(
        json_of("ab12cd34-000001",
                "event=request identity=admin serial=0a1b status=201 "
                "duration_ms=1.250"),
        "{\"time\":\"" TS "\",\"level\":\"info\","
        "\"request_id\":\"ab12cd34-000001\",\"event\":\"request\","
        "\"identity\":\"admin\",\"serial\":\"0a1b\",\"status\":\"201\","
        "\"duration_ms\":\"1.250\"}");
}

static void
test_log_json_line_leaves_out_an_empty_request_id(void **state)
{
    (void)state;
    assert_string_equal(json_of("", "event=stopped"),
                        "{\"time\":\"" TS "\",\"level\":\"info\","
                        "\"event\":\"stopped\"}");
    assert_string_equal(json_of(NULL, "event=stopped"),
                        "{\"time\":\"" TS "\",\"level\":\"info\","
                        "\"event\":\"stopped\"}");
}

static void
test_log_json_line_undoes_log_quote(void **state)
{
    char quoted[LOG_QUOTE_BUF];
    char kv[LOG_LINE_MAX];
    const char raw[] = "a \"b\" c\\d\n\x01 caf\xc3\xa9";

    (void)state;
    snprintf(kv, sizeof(kv), "event=x path=%s",
             log_quote(raw, sizeof(raw) - 1, quoted));
    /* quotes and backslashes escaped, control bytes as \u00XX, and the
     * UTF-8 that log_quote wrote as \xc3\xa9 is a character again */
    assert_string_equal(json_of(NULL, kv),
                        "{\"time\":\"" TS "\",\"level\":\"info\","
                        "\"event\":\"x\",\"path\":\"a \\\"b\\\" c\\\\d"
                        "\\u000a\\u0001 caf\xc3\xa9\"}");
}

static void
test_log_json_line_never_emits_invalid_utf8(void **state)
{
    (void)state;
    /* a lone continuation byte, an overlong '/', a surrogate */
    assert_string_equal(
        json_of(NULL,
                "event=x a=\"\\x80\" b=\"\\xc0\\xaf\" c=\"\\xed\\xa0\\x80\""),
        "{\"time\":\"" TS "\",\"level\":\"info\",\"event\":\"x\","
        "\"a\":\"\\u0080\",\"b\":\"\\u00c0\\u00af\","
        "\"c\":\"\\u00ed\\u00a0\\u0080\"}");
}

static void
test_log_json_line_keeps_what_is_not_a_pair(void **state)
{
    (void)state;
    assert_string_equal(json_of(NULL, "event=x reason=\"a b\" then free text"),
                        "{\"time\":\"" TS "\",\"level\":\"info\","
                        "\"event\":\"x\",\"reason\":\"a b\","
                        "\"msg\":\"then free text\"}");
    assert_string_equal(json_of(NULL, "Not=a pair"),
                        "{\"time\":\"" TS "\",\"level\":\"info\","
                        "\"msg\":\"Not=a pair\"}");
    /* an unterminated quote runs to the end of the line */
    assert_string_equal(json_of(NULL, "event=x reason=\"open"),
                        "{\"time\":\"" TS "\",\"level\":\"info\","
                        "\"event\":\"x\",\"reason\":\"open\"}");
    assert_string_equal(json_of(NULL, "  "),
                        "{\"time\":\"" TS "\",\"level\":\"info\"}");
}

static void
test_log_json_line_truncates_to_a_complete_object(void **state)
{
    char out[LOG_JSON_MIN];
    char kv[LOG_LINE_MAX];
    size_t len;

    (void)state;
    memset(kv, 0, sizeof(kv));
    strcpy(kv, "event=big a=");
    memset(kv + strlen(kv), 'x', 300);
    len = log_json_line(out, sizeof(out), TS, "warn", "r-1", kv);
    assert_int_equal(len, strlen(out));
    assert_true(len < sizeof(out));
    assert_string_equal(out, "{\"time\":\"" TS "\",\"level\":\"warn\","
                             "\"request_id\":\"r-1\",\"event\":\"big\","
                             "\"truncated\":\"true\"}");
}

/* WARDEN_LOG_LEVEL is read at the first question; log_set_level wins. */
static void
test_log_enabled_follows_the_environment_then_log_set_level(void **state)
{
    (void)state;
    setenv("WARDEN_LOG_LEVEL", "warn", 1);
    assert_false(log_enabled(LOG_DEBUG));
    assert_false(log_enabled(LOG_INFO));
    assert_true(log_enabled(LOG_WARN));
    assert_true(log_enabled(LOG_ERR));
    log_set_level(LOG_DEBUG);
    assert_true(log_enabled(LOG_DEBUG));
    log_set_level(LOG_INFO);
    assert_false(log_enabled(LOG_DEBUG));
    assert_true(log_enabled(LOG_INFO));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_json_line_makes_one_member_per_pair),
        cmocka_unit_test(test_log_json_line_leaves_out_an_empty_request_id),
        cmocka_unit_test(test_log_json_line_undoes_log_quote),
        cmocka_unit_test(test_log_json_line_never_emits_invalid_utf8),
        cmocka_unit_test(test_log_json_line_keeps_what_is_not_a_pair),
        cmocka_unit_test(test_log_json_line_truncates_to_a_complete_object),
        cmocka_unit_test(
            test_log_enabled_follows_the_environment_then_log_set_level),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
