/*
 * api/api_metrics.c, api_metrics_page.c and api_health.c through
 * api_public_handle, with a store on :memory: and no CRL published:
 * routes become labels from the route tables (never raw paths),
 * histograms are cumulative with _count equal to +Inf, and /healthz
 * says what is not ready.
 */
#include "support.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../api/api_priv.h"

struct fixture {
    struct store *st;
    struct api api;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_wd_err(store_open(":memory:", &f->st), WD_OK);
    f->api.store = f->st;
    f->api.metrics = api_metrics_new(f->st);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    api_metrics_free(f->api.metrics);
    store_close(f->st);
    free(f);
    return 0;
}

/* GET path on the public listener; the body as a NUL-terminated copy. */
static char *
get(struct fixture *f, const char *path, struct api_resp *resp)
{
    struct api_req req = {
        .method = "GET",
        .path = path,
        .now = time(NULL),
    };
    char *text;

    api_public_handle(&f->api, &req, resp);
    text = calloc(1, resp->body_len + 1);
    memcpy(text, resp->body, resp->body_len);
    return text;
}

/* Does text hold line as a whole line? */
static bool
has_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    const char *p = text;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[len] == '\n') {
            return true;
        }
        p += len;
    }
    return false;
}

static void
test_api_metrics_labels_requests_by_route_pattern(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    char *text;

    api_metrics_request(&f->api, true, "POST",
                        "/api/v1/certificates/0a1b2c/revoke", 200, 1000);
    api_metrics_request(&f->api, true, "POST",
                        "/api/v1/certificates/ffee/revoke", 409, 1000);
    api_metrics_request(&f->api, true, "POST",
                        "/api/v1/certificates/ffee/revoke", 409, 1000);
    api_metrics_request(&f->api, true, "GET", "/no/such/route", 404, 10);
    api_metrics_request(&f->api, false, "GET", "/ocsp/MEIwQDA-", 200, 10);
    api_metrics_request(&f->api, false, "HEAD", "/crl", 200, 10);
    api_metrics_request(&f->api, false, "GET", "/crl", 0, 10);
    text = get(f, "/metrics", &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type,
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_true(has_line(
        text, "warden_http_requests_total{listener=\"api\",method=\"POST\","
              "endpoint=\"/api/v1/certificates/*/revoke\",status=\"200\"} 1"));
    assert_true(has_line(
        text, "warden_http_requests_total{listener=\"api\",method=\"POST\","
              "endpoint=\"/api/v1/certificates/*/revoke\",status=\"409\"} 2"));
    assert_true(has_line(
        text, "warden_http_requests_total{listener=\"api\",method=\"other\","
              "endpoint=\"unmatched\",status=\"404\"} 1"));
    assert_true(has_line(
        text, "warden_http_requests_total{listener=\"public\",method=\"GET\","
              "endpoint=\"/ocsp/*\",status=\"200\"} 1"));
    /* HEAD is served by the GET route, and counted under it */
    assert_true(has_line(
        text, "warden_http_requests_total{listener=\"public\",method=\"GET\","
              "endpoint=\"/crl\",status=\"200\"} 1"));
    assert_true(has_line(
        text, "warden_http_requests_total{listener=\"public\",method=\"GET\","
              "endpoint=\"/crl\",status=\"none\"} 1"));
    /* no raw path or serial ever becomes a label */
    assert_null(strstr(text, "0a1b2c"));
    assert_null(strstr(text, "/no/such/route"));
    assert_null(strstr(text, "MEIwQDA"));
    free(text);
    api_resp_clear(&resp);
}

static void
test_api_metrics_histograms_are_cumulative(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    char *text;

    api_metrics_request(&f->api, false, "GET", "/ca.crt", 200, 100);
    api_metrics_request(&f->api, false, "GET", "/ca.crt", 200, 3000);
    api_metrics_request(&f->api, false, "GET", "/ca.crt", 200, 20000000);
    text = get(f, "/metrics", &resp);
#define CA_LABELS "listener=\"public\",method=\"GET\",endpoint=\"/ca.crt\""
    assert_true(
        has_line(text, "warden_http_request_duration_seconds_bucket{" CA_LABELS
                       ",le=\"0.0005\"} 1"));
    assert_true(
        has_line(text, "warden_http_request_duration_seconds_bucket{" CA_LABELS
                       ",le=\"0.0025\"} 1"));
    assert_true(
        has_line(text, "warden_http_request_duration_seconds_bucket{" CA_LABELS
                       ",le=\"0.005\"} 2"));
    assert_true(
        has_line(text, "warden_http_request_duration_seconds_bucket{" CA_LABELS
                       ",le=\"10\"} 2"));
    assert_true(
        has_line(text, "warden_http_request_duration_seconds_bucket{" CA_LABELS
                       ",le=\"+Inf\"} 3"));
    assert_true(has_line(
        text, "warden_http_request_duration_seconds_count{" CA_LABELS "} 3"));
    assert_true(has_line(text,
                         "warden_http_request_duration_seconds_sum{" CA_LABELS
                         "} 20.003100"));
#undef CA_LABELS
    /* recorded families exist before anything happened */
    assert_true(has_line(text, "warden_ocsp_cache_hits_total 0"));
    assert_true(has_line(text, "warden_signing_duration_seconds_count 0"));
    assert_true(has_line(text, "warden_certificates_revoked_total{reason="
                               "\"keyCompromise\"} 0"));
    assert_null(strstr(text, "certificateHold"));
    /* and the inventory's, from the store */
    assert_true(has_line(text, "warden_certificates{status=\"valid\"} 0"));
    assert_true(has_line(
        text, "# TYPE warden_http_request_duration_seconds histogram"));
    free(text);
    api_resp_clear(&resp);
}

static void
test_api_health_is_degraded_without_a_crl(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    json_error_t jerr;
    json_t *doc;
    char *text;

    text = get(f, "/healthz", &resp);
    assert_int_equal(resp.status, 503);
    doc = json_loads(text, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "degraded");
    assert_string_equal(json_string_value(json_object_get(doc, "store")), "ok");
    /* no CA loaded here */
    assert_string_equal(json_string_value(json_object_get(doc, "keys")),
                        "not_loaded");
    assert_true(
        json_is_false(json_object_get(json_object_get(doc, "crl"), "fresh")));
    assert_true(json_is_null(
        json_object_get(json_object_get(doc, "crl"), "age_seconds")));
    json_decref(doc);
    free(text);
    api_resp_clear(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_api_metrics_labels_requests_by_route_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_api_metrics_histograms_are_cumulative, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_api_health_is_degraded_without_a_crl, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
