/*
 * api/api_ocsp.c through api_ocsp_post, with a throwaway CA, a store on
 * :memory: and the signing slots the daemon bounds key operations with. A
 * request that must be signed live (one with a nonce) never waits for a
 * slot: it runs on a thread of the public listener's pool, which other
 * connections share, so while every slot is taken it is answered tryLater
 * at once, and signed once a slot is free.
 */
#include "support.h"

#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "../../api/api_priv.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"

struct fixture {
    struct pki_ca_new made;
    struct pki_ca *ca;
    struct store *st;
    sem_t slots;
    struct api api;
    gnutls_datum_t request; /* an OCSPRequest with a nonce */
};

/* A nonce request for a leaf of f's CA, as GnuTLS writes one. */
static int
make_request(struct fixture *f)
{
    struct pki_cert *leaf = pki_fixture_leaf_issue(f->ca, NULL, time(NULL));
    gnutls_x509_crt_t issuer = pki_fixture_crt_pem(f->made.intermediate_pem);
    gnutls_x509_crt_t cert =
        leaf != NULL ? pki_fixture_crt_pem(leaf->pem) : NULL;
    gnutls_ocsp_req_t req = NULL;
    int ok =
        issuer != NULL && cert != NULL && gnutls_ocsp_req_init(&req) >= 0 &&
        gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, issuer, cert) >= 0 &&
        gnutls_ocsp_req_randomize_nonce(req) >= 0 &&
        gnutls_ocsp_req_export(req, &f->request) >= 0;

    gnutls_ocsp_req_deinit(req);
    if (cert != NULL) {
        gnutls_x509_crt_deinit(cert);
    }
    if (issuer != NULL) {
        gnutls_x509_crt_deinit(issuer);
    }
    pki_cert_free(leaf);
    return ok ? 0 : -1;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct api_revocation_cfg cfg = { .ocsp_validity_s = 3600 };

    if (f == NULL) {
        return -1;
    }
    *state = f;
    if (pki_fixture_ca_make("OCSP Test", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL,
                            time(NULL), &f->made, &f->ca) != 0 ||
        store_open(":memory:", &f->st) != WD_OK ||
        sem_init(&f->slots, 0, 0) != 0) {
        return -1;
    }
    f->api.store = f->st;
    f->api.ca = f->ca;
    f->api.sign_slots = &f->slots; /* every slot taken */
    if (api_ocsp_start(&f->api, &cfg, NULL) != WD_OK) {
        return -1;
    }
    return make_request(f);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    api_ocsp_stop(&f->api);
    gnutls_free(f->request.data);
    sem_destroy(&f->slots);
    store_close(f->st);
    pki_fixture_ca_free(&f->made, f->ca);
    free(f);
    return 0;
}

/* POST the fixture's request; the responseStatus of the answer. */
static unsigned
post(struct fixture *f)
{
    struct api_req req = {
        .method = "POST",
        .path = "/ocsp",
        .content_type = "application/ocsp-request",
        .body = f->request.data,
        .body_len = f->request.size,
        .now = time(NULL),
    };
    struct api_resp resp = { 0 };
    gnutls_ocsp_resp_t parsed;
    gnutls_datum_t der;
    int status;

    api_ocsp_post(&f->api, &req, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/ocsp-response");
    der.data = resp.body;
    der.size = (unsigned)resp.body_len;
    assert_int_equal(gnutls_ocsp_resp_init(&parsed), 0);
    assert_int_equal(gnutls_ocsp_resp_import(parsed, &der), 0);
    status = gnutls_ocsp_resp_get_status(parsed);
    gnutls_ocsp_resp_deinit(parsed);
    api_resp_clear(&resp);
    assert_true(status >= 0);
    return (unsigned)status;
}

static void
test_api_ocsp_nonce_request_does_not_wait_for_a_signing_slot(void **state)
{
    struct fixture *f = *state;
    struct timespec t0;
    struct timespec t1;
    int free_slots = -1;

    /* the daemon would wait up to 10 s for a slot; this answers now */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(post(f), GNUTLS_OCSP_RESP_TRYLATER);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    /* a slot comes free: the same request is signed, and gives it back */
    sem_post(&f->slots);
    assert_int_equal(post(f), GNUTLS_OCSP_RESP_SUCCESSFUL);
    assert_int_equal(sem_getvalue(&f->slots, &free_slots), 0);
    assert_int_equal(free_slots, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_api_ocsp_nonce_request_does_not_wait_for_a_signing_slot, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
