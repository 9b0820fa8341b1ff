/*
 * api/api_error.c: every wd_err has exactly one HTTP mapping, errors are
 * JSON of the PRODUCT.md shape, and a 5xx never carries the caller's text.
 */
#include "support.h"

#include <jansson.h>
#include <string.h>

#include "../../api/api.h"
#include "../../server/base/log.h"

static json_t *
body_json(const struct api_resp *resp)
{
    json_error_t jerr;

    return json_loadb((const char *)resp->body, resp->body_len, 0, &jerr);
}

static void
test_api_error_maps_every_wd_err_to_a_4xx_or_5xx_and_a_code(void **state)
{
    int e;

    (void)state;
    for (e = WD_E_INTERNAL; e < WD_E__COUNT; e++) {
        int status = api_error_status((enum wd_err)e);
        const char *code = api_error_code((enum wd_err)e);
        size_t i;

        assert_true(status >= 400 && status <= 599);
        assert_non_null(code);
        assert_true(strlen(code) > 0);
        for (i = 0; code[i] != '\0'; i++) {
            assert_true((code[i] >= 'a' && code[i] <= 'z') || code[i] == '_');
        }
        /* a real row, not the fallback: 5xx only for server-side faults */
        if (status >= 500) {
            assert_true(e == WD_E_INTERNAL || e == WD_E_NO_CA ||
                        e == WD_E_CONFIG || e == WD_E_IO ||
                        e == WD_E_UNAVAILABLE || e == WD_E_KEY_UNPROTECTED);
        }
        assert_string_not_equal(wd_err_str((enum wd_err)e), "unknown error");
    }
}

static void
test_api_error_uses_product_statuses_for_key_errors(void **state)
{
    (void)state;
    assert_int_equal(api_error_status(WD_E_CSR_SYNTAX), 400);
    assert_string_equal(api_error_code(WD_E_CSR_SYNTAX), "bad_csr");
    assert_int_equal(api_error_status(WD_E_WEAK_KEY), 400);
    assert_string_equal(api_error_code(WD_E_WEAK_KEY), "weak_key");
    assert_string_equal(api_error_code(WD_E_UNSUPPORTED_KEY),
                        "unsupported_key");
    assert_int_equal(api_error_status(WD_E_NAME_NOT_ALLOWED), 403);
    assert_string_equal(api_error_code(WD_E_NAME_NOT_ALLOWED),
                        "name_not_allowed");
    assert_int_equal(api_error_status(WD_E_NOT_FOUND), 404);
    assert_int_equal(api_error_status(WD_E_METHOD), 405);
    assert_int_equal(api_error_status(WD_E_ALREADY_REVOKED), 409);
    assert_int_equal(api_error_status(WD_E_TOO_LARGE), 413);
    assert_int_equal(api_error_status(WD_E_MEDIA_TYPE), 415);
    assert_int_equal(api_error_status(WD_E_CLIENT_CERT_MISSING), 403);
}

static void
test_api_error_body_is_json_with_code_and_message(void **state)
{
    struct api_resp resp = { 0 };
    json_t *doc;
    const char *code = NULL;
    const char *message = NULL;

    (void)state;
    api_error(&resp, WD_E_WEAK_KEY, NULL);
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal(resp.error_code, "weak_key");
    doc = body_json(&resp);
    assert_non_null(doc);
    assert_int_equal(json_unpack(doc, "{s:{s:s, s:s !} !}", "error", "code",
                                 &code, "message", &message),
                     0);
    assert_string_equal(code, "weak_key");
    assert_string_equal(message, wd_err_str(WD_E_WEAK_KEY));
    json_decref(doc);
    api_resp_clear(&resp);
}

static void
test_api_error_5xx_hides_the_message_and_carries_the_request_id(void **state)
{
    struct api_resp resp = { 0 };
    json_t *doc;
    const char *message = NULL;
    const char *rid = NULL;

    (void)state;
    log_set_request_id("abc-000001");
    api_error(&resp, WD_E_INTERNAL, "sqlite said: disk I/O error at /x");
    assert_int_equal(resp.status, 500);
    doc = body_json(&resp);
    assert_non_null(doc);
    assert_int_equal(json_unpack(doc, "{s:{s:s, s:s}}", "error", "message",
                                 &message, "request_id", &rid),
                     0);
    assert_string_equal(message, wd_err_str(WD_E_INTERNAL));
    assert_null(strstr((const char *)resp.body, "sqlite"));
    assert_string_equal(rid, "abc-000001");
    json_decref(doc);
    api_resp_clear(&resp);
    log_set_request_id(NULL);
}

static void
test_api_error_replaces_an_earlier_body_without_leaking(void **state)
{
    struct api_resp resp = { 0 };

    (void)state;
    api_error(&resp, WD_E_NOT_FOUND, NULL);
    api_error(&resp, WD_E_FORBIDDEN, "custom sentence");
    assert_int_equal(resp.status, 403);
    assert_non_null(strstr((const char *)resp.body, "custom sentence"));
    api_resp_clear(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_api_error_maps_every_wd_err_to_a_4xx_or_5xx_and_a_code),
        cmocka_unit_test(test_api_error_uses_product_statuses_for_key_errors),
        cmocka_unit_test(test_api_error_body_is_json_with_code_and_message),
        cmocka_unit_test(
            test_api_error_5xx_hides_the_message_and_carries_the_request_id),
        cmocka_unit_test(
            test_api_error_replaces_an_earlier_body_without_leaking),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
