/*
 * api/api_route.c and the handlers behind it, driven through api_handle
 * with a real CA (pki_ca_create) and a real SQLite store on :memory:: the
 * route table's authorization, issuance that is stored before it answers,
 * and the JSON mapping of the inventory.
 */
#include "support.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <semaphore.h>
#include <time.h>

#include "../../api/api.h"

struct fixture {
    struct pki_ca_new made;
    struct pki_ca *ca;
    struct store *st;
    struct api api;
    struct api_identity admin;
    struct api_identity service;
    uint8_t *csr;
    size_t csr_len;
};

static int
setup(void **state)
{
    static const char *const hosts[] = { "localhost" };
    struct fixture *f = calloc(1, sizeof(*f));
    struct pki_ca_new_opts opts = {
        .name = "Route Test",
        .keygen = PKI_KEYGEN_ECDSA_P256,
        .hosts = hosts,
        .n_hosts = 1,
        .public_url = "http://pub.example:8080",
        .now = time(NULL),
    };
    struct pki_ca_cfg cfg = { 0 };

    assert_wd_err(pki_ca_create(&opts, &f->made), WD_OK);
    cfg.root_pem = f->made.root_pem;
    cfg.intermediate_pem = f->made.intermediate_pem;
    cfg.intermediate_key_pem = f->made.intermediate_key_pem;
    cfg.public_url = opts.public_url;
    assert_wd_err(pki_ca_load(&cfg, &f->ca), WD_OK);
    assert_wd_err(store_open(":memory:", &f->st), WD_OK);
    assert_wd_err(api_cert_record(f->st, f->made.admin, "init", opts.now),
                  WD_OK);
    f->api.store = f->st;
    f->api.ca = f->ca;
    f->api.cfg.default_validity_s = 90 * 86400;
    f->api.cfg.max_validity_s = 397 * 86400;
    f->api.cfg.expiring_window_s = 30 * 86400;
    f->admin.role = API_ROLE_ADMIN;
    snprintf(f->admin.name, sizeof(f->admin.name), "admin");
    snprintf(f->admin.cert.serial, sizeof(f->admin.cert.serial), "%s",
             f->made.admin->serial);
    f->service.role = API_ROLE_SERVICE;
    snprintf(f->service.name, sizeof(f->service.name), "svc");
    snprintf(f->service.cert.serial, sizeof(f->service.cert.serial),
             "0123456789abcdef");
    f->csr = test_read_file("csr-ecdsa-p256.pem", &f->csr_len);
    assert_non_null(f->csr);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    pki_ca_free(f->ca);
    pki_ca_new_clear(&f->made);
    free(f->csr);
    free(f);
    return 0;
}

/* Run one request; returns the parsed JSON body (or NULL if not JSON). */
static json_t *
call(struct fixture *f, const struct api_identity *who, const char *method,
     const char *path, const char *ctype, const void *body, size_t len,
     struct api_resp *resp)
{
    struct api_req req = {
        .method = method,
        .path = path,
        .content_type = ctype,
        .body = body,
        .body_len = len,
        .who = who,
        .now = time(NULL),
    };
    json_error_t jerr;

    api_resp_clear(resp);
    api_handle(&f->api, &req, resp);
    return json_loadb((const char *)resp->body, resp->body_len, 0, &jerr);
}

static int64_t
count_rows(struct fixture *f)
{
    struct store_query q = { .limit = 1000, .now = time(NULL) };
    struct store_cert_list l = { 0 };
    int64_t n;

    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    n = (int64_t)l.n;
    store_cert_list_free(&l);
    return n;
}

static void
test_api_route_admin_issue_is_stored_before_the_201(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct store_cert *row = NULL;
    json_t *doc;
    const char *serial = NULL;
    const char *certificate = NULL;
    int64_t before = count_rows(f);

    doc = call(f, &f->admin, "POST", "/api/v1/certificates", NULL, f->csr,
               f->csr_len, &resp);
    assert_int_equal(resp.status, 201);
    assert_non_null(doc);
    assert_int_equal(json_unpack(doc, "{s:s, s:s}", "serial", &serial,
                                 "certificate", &certificate),
                     0);
    assert_wd_err(store_cert_get(f->st, serial, &row), WD_OK);
    assert_string_equal(row->requester, "admin");
    assert_string_equal(row->profile, "server-client");
    assert_int_equal(count_rows(f), before + 1);
    assert_string_equal(resp.headers[0].name, "Location");
    assert_non_null(strstr(resp.headers[0].value, serial));
    store_cert_free(row);
    json_decref(doc);
    api_resp_clear(&resp);
}

static void
test_api_route_service_without_grants_may_not_issue_or_list(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct api_identity reader = f->service;
    int64_t before = count_rows(f);
    size_t limit = 99;

    json_decref(call(f, &f->service, "POST", "/api/v1/certificates", NULL,
                     f->csr, f->csr_len, &resp));
    assert_int_equal(resp.status, 403);
    assert_string_equal(resp.error_code, "name_not_allowed");
    assert_int_equal(count_rows(f), before);
    json_decref(call(f, &f->service, "GET", "/api/v1/certificates", NULL, NULL,
                     0, &resp));
    assert_int_equal(resp.status, 403);
    /* a service may send a CSR (its grants are checked against it) */
    assert_wd_err(api_route_preflight("POST", "/api/v1/certificates",
                                      &f->service, &limit),
                  WD_OK);
    /* a reader may not even send one */
    reader.role = API_ROLE_READER;
    assert_wd_err(
        api_route_preflight("POST", "/api/v1/certificates", &reader, &limit),
        WD_E_FORBIDDEN);
    assert_int_equal(limit, 0);
    assert_wd_err(
        api_route_preflight("POST", "/api/v1/certificates", &f->admin, &limit),
        WD_OK);
    assert_int_equal(limit, WD_MAX_CSR_BYTES);
    api_resp_clear(&resp);
}

static void
test_api_route_holder_reads_only_its_own_certificate(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct api_identity holder = f->admin;
    char path[128];

    holder.role = API_ROLE_SERVICE;
    snprintf(path, sizeof(path), "/api/v1/certificates/%s",
             f->made.admin->serial);
    json_decref(call(f, &holder, "GET", path, NULL, NULL, 0, &resp));
    assert_int_equal(resp.status, 200);
    json_decref(call(f, &f->service, "GET", path, NULL, NULL, 0, &resp));
    assert_int_equal(resp.status, 403);
    json_decref(
        call(f, &f->service, "GET", "/api/v1/ca", NULL, NULL, 0, &resp));
    assert_int_equal(resp.status, 200);
    api_resp_clear(&resp);
}

static void
test_api_route_unknown_path_and_wrong_method(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };

    json_decref(
        call(f, &f->admin, "GET", "/api/v1/nope", NULL, NULL, 0, &resp));
    assert_int_equal(resp.status, 404);
    json_decref(call(f, &f->admin, "GET", "/api/v2/certificates", NULL, NULL, 0,
                     &resp));
    assert_int_equal(resp.status, 404);
    json_decref(call(f, &f->admin, "DELETE", "/api/v1/certificates", NULL, NULL,
                     0, &resp));
    assert_int_equal(resp.status, 405);
    assert_string_equal(resp.headers[0].name, "Allow");
    assert_string_equal(resp.headers[0].value, "POST, GET");
    json_decref(call(f, &f->admin, "GET", "/api/v1/certificates/", NULL, NULL,
                     0, &resp));
    assert_int_equal(resp.status, 404);
    json_decref(call(f, &f->admin, "GET", "/api/v1/certificates/ABC", NULL,
                     NULL, 0, &resp));
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.error_code, "invalid_serial");
    api_resp_clear(&resp);
}

static void
test_api_route_list_maps_rows_to_json(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    json_t *doc;
    json_t *item;
    const char *status = NULL;
    const char *requester = NULL;
    json_t *sans = NULL;
    json_t *revocation = NULL;

    doc =
        call(f, &f->admin, "GET", "/api/v1/certificates", NULL, NULL, 0, &resp);
    assert_int_equal(resp.status, 200);
    assert_non_null(doc);
    item = json_array_get(json_object_get(doc, "items"), 0);
    assert_non_null(item);
    assert_int_equal(json_unpack(item, "{s:s, s:s, s:o, s:o}", "status",
                                 &status, "requester", &requester, "sans",
                                 &sans, "revocation", &revocation),
                     0);
    assert_string_equal(status, "valid");
    assert_true(json_is_array(sans));
    assert_true(json_is_null(revocation));
    assert_true(json_is_null(json_object_get(doc, "next_cursor")));
    json_decref(doc);
    api_resp_clear(&resp);
}

static void
test_api_route_json_issue_honours_profile_and_validity(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    json_t *req = json_pack("{s:s%, s:s, s:s}", "csr", f->csr, f->csr_len,
                            "profile", "client", "validity", "1h");
    char *body = json_dumps(req, 0);
    json_t *doc;
    const char *profile = NULL;

    doc = call(f, &f->admin, "POST", "/api/v1/certificates",
               "application/json; charset=utf-8", body, strlen(body), &resp);
    assert_int_equal(resp.status, 201);
    assert_int_equal(json_unpack(doc, "{s:s}", "profile", &profile), 0);
    assert_string_equal(profile, "client");
    json_decref(doc);
    free(body);
    json_decref(req);
    api_resp_clear(&resp);
}

static void
test_api_route_bad_csr_stores_nothing(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    int64_t before = count_rows(f);

    json_decref(call(f, &f->admin, "POST", "/api/v1/certificates", NULL,
                     "garbage", 7, &resp));
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.error_code, "bad_csr");
    json_decref(call(f, &f->admin, "POST", "/api/v1/certificates",
                     "application/xml", f->csr, f->csr_len, &resp));
    assert_int_equal(resp.status, 415);
    assert_int_equal(count_rows(f), before);
    api_resp_clear(&resp);
}

static void
test_api_route_issue_waits_for_a_signing_slot_then_answers_503(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    sem_t slots;
    int64_t before = count_rows(f);

    /* every slot taken: the request waits its bounded time, then 503 */
    sem_init(&slots, 0, 0);
    f->api.sign_slots = &slots;
    json_decref(call(f, &f->admin, "POST", "/api/v1/certificates", NULL, f->csr,
                     f->csr_len, &resp));
    assert_int_equal(resp.status, 503);
    assert_string_equal(resp.error_code, "unavailable");
    assert_int_equal(count_rows(f), before);
    /* a free slot: served, and the slot comes back */
    sem_post(&slots);
    json_decref(call(f, &f->admin, "POST", "/api/v1/certificates", NULL, f->csr,
                     f->csr_len, &resp));
    assert_int_equal(resp.status, 201);
    assert_int_equal(sem_trywait(&slots), 0);
    f->api.sign_slots = NULL;
    sem_destroy(&slots);
    api_resp_clear(&resp);
}

/* A header of resp by name, or NULL. */
static const char *
header(const struct api_resp *resp, const char *name)
{
    size_t i;

    for (i = 0; i < resp->n_headers; i++) {
        if (strcmp(resp->headers[i].name, name) == 0) {
            return resp->headers[i].value;
        }
    }
    return NULL;
}

static void
test_api_route_page_is_for_admins_and_readers_under_a_strict_policy(
    void **state)
{
    struct fixture *f = *state;
    struct api_identity reader = f->service;
    struct api_resp resp = { 0 };
    struct api_req req = { .method = "GET", .path = "/", .now = time(NULL) };
    char etag[96];

    reader.role = API_ROLE_READER;
    req.who = &reader;
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(header(&resp, "Content-Security-Policy"),
                           "default-src 'self'; script-src 'self'"));
    assert_null(strstr(header(&resp, "Content-Security-Policy"), "unsafe"));
    assert_true(resp.body_len > 0);
    snprintf(etag, sizeof(etag), "%s", header(&resp, "ETag"));
    api_resp_clear(&resp);

    req.if_none_match = etag; /* revalidation costs no body */
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 304);
    assert_int_equal(resp.body_len, 0);
    api_resp_clear(&resp);

    req.if_none_match = NULL;
    req.path = "/app.js";
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/javascript; charset=utf-8");
    api_resp_clear(&resp);

    req.who = &f->service; /* a service identity has no business here */
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 403);
    api_resp_clear(&resp);

    req.who = &f->admin;
    req.method = "POST";
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 405);
    assert_string_equal(header(&resp, "Allow"), "GET");
    api_resp_clear(&resp);

    req.method = "GET";
    req.path = "/index.html"; /* only the files' own paths exist */
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 404);
    api_resp_clear(&resp);
}

static void
test_api_route_refuses_a_browser_write_from_another_origin(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    char path[128];
    struct api_req req = {
        .method = "POST",
        .path = path,
        .host = "127.0.0.1:8443",
        .origin = "https://evil.example",
        .who = &f->admin,
        .now = time(NULL),
    };

    snprintf(path, sizeof(path), "/api/v1/certificates/%s/revoke",
             f->made.admin->serial);
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 403);
    assert_string_equal(resp.error_code, "cross_origin");
    api_resp_clear(&resp);

    req.origin = "https://127.0.0.1:8443";
    req.sec_fetch_site = "cross-site";
    api_handle(&f->api, &req, &resp);
    assert_string_equal(resp.error_code, "cross_origin");
    api_resp_clear(&resp);

    req.sec_fetch_site = "same-site"; /* a sibling host is another origin */
    api_handle(&f->api, &req, &resp);
    assert_string_equal(resp.error_code, "cross_origin");
    api_resp_clear(&resp);

    /* the page's own request, and a GET from anywhere, go through */
    req.sec_fetch_site = "same-origin";
    req.path = "/api/v1/certificates/00ff/revoke";
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 404);
    api_resp_clear(&resp);
    req.method = "GET";
    req.path = "/api/v1/stats";
    req.origin = "https://evil.example";
    req.sec_fetch_site = "cross-site";
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 200);
    api_resp_clear(&resp);
}

static void
test_api_route_stats_and_whoami_answer_the_page(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    json_int_t total = -1;
    json_int_t valid = -1;
    json_t *weeks = NULL;
    const char *role = NULL;
    struct store_cert *row = NULL;
    json_t *doc;

    doc = call(f, &f->admin, "GET", "/api/v1/stats", NULL, NULL, 0, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(json_unpack(doc, "{s:{s:I, s:I}, s:o}", "counts", "total",
                                 &total, "valid", &valid, "expiring_weeks",
                                 &weeks),
                     0);
    assert_int_equal(total, count_rows(f));
    assert_int_equal(valid, total);
    assert_int_equal(json_array_size(weeks), 13);
    json_decref(doc);

    doc = call(f, &f->service, "GET", "/api/v1/stats", NULL, NULL, 0, &resp);
    assert_int_equal(resp.status, 403);
    json_decref(doc);

    /* whoami reads the caller's stored row, as the server lends it */
    assert_wd_err(store_cert_get(f->st, f->made.admin->serial, &row), WD_OK);
    f->admin.row = row;
    doc = call(f, &f->admin, "GET", "/api/v1/whoami", NULL, NULL, 0, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(json_unpack(doc, "{s:s}", "role", &role), 0);
    assert_string_equal(role, "admin");
    json_decref(doc);
    f->admin.row = NULL;
    store_cert_free(row);
    api_resp_clear(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_route_admin_issue_is_stored_before_the_201),
        cmocka_unit_test(
            test_api_route_service_without_grants_may_not_issue_or_list),
        cmocka_unit_test(test_api_route_holder_reads_only_its_own_certificate),
        cmocka_unit_test(test_api_route_unknown_path_and_wrong_method),
        cmocka_unit_test(test_api_route_list_maps_rows_to_json),
        cmocka_unit_test(
            test_api_route_json_issue_honours_profile_and_validity),
        cmocka_unit_test(test_api_route_bad_csr_stores_nothing),
        cmocka_unit_test(
            test_api_route_issue_waits_for_a_signing_slot_then_answers_503),
        cmocka_unit_test(
            test_api_route_page_is_for_admins_and_readers_under_a_strict_policy),
        cmocka_unit_test(
            test_api_route_refuses_a_browser_write_from_another_origin),
        cmocka_unit_test(test_api_route_stats_and_whoami_answer_the_page),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
