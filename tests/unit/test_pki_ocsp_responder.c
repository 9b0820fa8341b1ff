/*
 * Unit tests for server/pki/pki_ocsp_responder.c: the delegated OCSP
 * responder certificate as issued (read back with GnuTLS), and which
 * certificate and key pki_ocsp_responder_new accepts. Two throwaway CAs,
 * "Main" and "Other", are built in the group setup, and a responder of
 * each is issued there.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://127.0.0.1:8080"
#define DAY_S (24 * 3600)
#define YEAR_S (365 * DAY_S)
#define OID_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"

struct fixtures {
    struct pki_ca_new main;
    struct pki_ca_new other;
    struct pki_ca *ca;       /* Main, loaded */
    struct pki_ca *other_ca; /* Other, loaded */
    char *key_pem;           /* Main's responder */
    struct pki_cert *cert;
    char *other_key_pem; /* Other's responder */
    struct pki_cert *other_cert;
    gnutls_x509_crt_t crt; /* Main's responder, for GnuTLS */
    gnutls_x509_crt_t intermediate;
    time_t now;
};

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->now = time(NULL);
    if (pki_fixture_ca_make("Main", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL, f->now,
                            &f->main, &f->ca) != 0 ||
        pki_fixture_ca_make("Other", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL, f->now,
                            &f->other, &f->other_ca) != 0) {
        return -1;
    }
    if (pki_ocsp_responder_issue(f->ca, f->now, 30 * DAY_S, &f->key_pem,
                                 &f->cert) != WD_OK ||
        pki_ocsp_responder_issue(f->other_ca, f->now, 30 * DAY_S,
                                 &f->other_key_pem, &f->other_cert) != WD_OK) {
        return -1;
    }
    f->crt = pki_fixture_crt_pem(f->cert->pem);
    f->intermediate = pki_fixture_crt_pem(f->main.intermediate_pem);
    if (f->crt == NULL || f->intermediate == NULL) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    gnutls_x509_crt_deinit(f->crt);
    gnutls_x509_crt_deinit(f->intermediate);
    pki_fixture_key_free(f->key_pem);
    pki_fixture_key_free(f->other_key_pem);
    pki_cert_free(f->cert);
    pki_cert_free(f->other_cert);
    pki_fixture_ca_free(&f->main, f->ca);
    pki_fixture_ca_free(&f->other, f->other_ca);
    free(f);
    return 0;
}

static void
test_pki_ocsp_responder_issue_is_signed_by_the_intermediate(void **state)
{
    const struct fixtures *f = *state;
    unsigned status = 1;

    assert_true(gnutls_x509_crt_check_issuer(f->crt, f->intermediate));
    assert_int_equal(
        gnutls_x509_crt_verify(f->crt, &f->intermediate, 1, 0, &status), 0);
    assert_int_equal(status, 0);
    assert_string_equal(f->cert->subject,
                        "CN=Main Intermediate CA OCSP Responder");
    assert_string_equal(f->cert->key_type, pki_ca_key_type(f->ca));
    assert_int_equal(gnutls_x509_crt_get_version(f->crt), 3);
    assert_int_equal(strlen(f->cert->serial), 32);
    assert_string_not_equal(f->cert->serial, f->other_cert->serial);
}

static void
test_pki_ocsp_responder_issue_is_for_ocsp_signing_only(void **state)
{
    const struct fixtures *f = *state;
    char oid[128];
    size_t size = sizeof(oid);
    unsigned critical = 0;
    unsigned usage = 0;
    unsigned ca = 1;
    int pathlen;

    /* RFC 6960 4.2.2.2: id-kp-OCSPSigning, and nothing else */
    assert_int_equal(
        gnutls_x509_crt_get_key_purpose_oid(f->crt, 0, oid, &size, NULL), 0);
    assert_string_equal(oid, GNUTLS_KP_OCSP_SIGNING);
    size = sizeof(oid);
    assert_int_equal(
        gnutls_x509_crt_get_key_purpose_oid(f->crt, 1, oid, &size, NULL),
        GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    assert_int_equal(gnutls_x509_crt_get_key_usage(f->crt, &usage, &critical),
                     0);
    assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
    assert_int_equal(critical, 1);
    critical = 0;
    assert_true(gnutls_x509_crt_get_basic_constraints(f->crt, &critical, &ca,
                                                      &pathlen) >= 0);
    assert_int_equal(ca, 0);
    assert_int_equal(critical, 1);
}

static void
test_pki_ocsp_responder_issue_adds_nocheck(void **state)
{
    const struct fixtures *f = *state;
    gnutls_datum_t value = { NULL, 0 };
    unsigned critical = 1;

    /* RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck, NULL, not critical */
    assert_int_equal(gnutls_x509_crt_get_extension_by_oid2(
                         f->crt, OID_OCSP_NOCHECK, 0, &value, &critical),
                     0);
    assert_int_equal(critical, 0);
    assert_int_equal(value.size, 2);
    assert_int_equal(value.data[0], 0x05);
    assert_int_equal(value.data[1], 0x00);
    gnutls_free(value.data);
}

static void
test_pki_ocsp_responder_issue_sets_ski_and_aki(void **state)
{
    const struct fixtures *f = *state;
    uint8_t ski[64];
    uint8_t key_id[64];
    uint8_t aki[64];
    uint8_t int_ski[64];
    size_t ski_len = sizeof(ski);
    size_t key_id_len = sizeof(key_id);
    size_t aki_len = sizeof(aki);
    size_t int_ski_len = sizeof(int_ski);
    unsigned critical = 1;

    assert_int_equal(
        gnutls_x509_crt_get_subject_key_id(f->crt, ski, &ski_len, &critical),
        0);
    assert_int_equal(gnutls_x509_crt_get_key_id(f->crt, GNUTLS_KEYID_USE_SHA1,
                                                key_id, &key_id_len),
                     0);
    assert_int_equal(ski_len, key_id_len);
    assert_memory_equal(ski, key_id, ski_len);
    assert_int_equal(
        gnutls_x509_crt_get_authority_key_id(f->crt, aki, &aki_len, &critical),
        0);
    assert_int_equal(gnutls_x509_crt_get_subject_key_id(
                         f->intermediate, int_ski, &int_ski_len, &critical),
                     0);
    assert_int_equal(aki_len, int_ski_len);
    assert_memory_equal(aki, int_ski, aki_len);
}

static void
test_pki_ocsp_responder_issue_backdates_and_lasts_validity(void **state)
{
    const struct fixtures *f = *state;

    assert_int_equal(f->cert->not_before, f->now - 300);
    assert_int_equal(f->cert->not_after, f->now + 30 * DAY_S);
}

static void
test_pki_ocsp_responder_issue_never_outlives_the_intermediate(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert = NULL;
    char *key_pem = NULL;

    assert_wd_err(
        pki_ocsp_responder_issue(f->ca, f->now, 40 * YEAR_S, &key_pem, &cert),
        WD_OK);
    assert_int_equal(cert->not_after, pki_ca_not_after(f->ca));
    pki_fixture_key_free(key_pem);
    pki_cert_free(cert);
}

static void
test_pki_ocsp_responder_issue_refuses_zero_validity_and_a_dead_ca(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert = NULL;
    char *key_pem = NULL;

    assert_wd_err(pki_ocsp_responder_issue(f->ca, f->now, 0, &key_pem, &cert),
                  WD_E_BAD_VALIDITY);
    assert_wd_err(pki_ocsp_responder_issue(f->ca, pki_ca_not_after(f->ca),
                                           DAY_S, &key_pem, &cert),
                  WD_E_CONFIG);
    assert_null(cert);
    assert_null(key_pem);
}

static void
test_pki_ocsp_responder_issue_returns_the_key_as_pkcs8(void **state)
{
    const struct fixtures *f = *state;
    gnutls_x509_privkey_t key = NULL;
    gnutls_datum_t d = { (unsigned char *)f->key_pem,
                         (unsigned)strlen(f->key_pem) };
    uint8_t key_id[64];
    uint8_t crt_id[64];
    size_t key_id_len = sizeof(key_id);
    size_t crt_id_len = sizeof(crt_id);

    assert_non_null(strstr(f->key_pem, "-----BEGIN PRIVATE KEY-----"));
    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_import_pkcs8(
                         key, &d, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN),
                     0);
    assert_int_equal(gnutls_x509_privkey_get_key_id(
                         key, GNUTLS_KEYID_USE_SHA256, key_id, &key_id_len),
                     0);
    assert_int_equal(gnutls_x509_crt_get_key_id(f->crt, GNUTLS_KEYID_USE_SHA256,
                                                crt_id, &crt_id_len),
                     0);
    assert_int_equal(key_id_len, crt_id_len);
    assert_memory_equal(key_id, crt_id, key_id_len);
    gnutls_x509_privkey_deinit(key);
}

static void
test_pki_ocsp_responder_new_takes_the_issued_responder(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_responder *r = NULL;

    assert_wd_err(pki_ocsp_responder_new(f->ca, f->cert->pem, f->key_pem, &r),
                  WD_OK);
    assert_int_equal(pki_ocsp_responder_not_after(r), f->cert->not_after);
    pki_ocsp_responder_free(r);
}

static void
test_pki_ocsp_responder_new_without_files_is_the_intermediate(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_responder *r = NULL;

    assert_wd_err(pki_ocsp_responder_new(f->ca, NULL, NULL, &r), WD_OK);
    assert_int_equal(pki_ocsp_responder_not_after(r), pki_ca_not_after(f->ca));
    pki_ocsp_responder_free(r);
    pki_ocsp_responder_free(NULL);
}

static void
test_pki_ocsp_responder_new_wants_certificate_and_key_together(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_responder *r = NULL;

    assert_wd_err(pki_ocsp_responder_new(f->ca, f->cert->pem, NULL, &r),
                  WD_E_CONFIG);
    assert_wd_err(pki_ocsp_responder_new(f->ca, NULL, f->key_pem, &r),
                  WD_E_CONFIG);
    assert_null(r);
}

static void
test_pki_ocsp_responder_new_refuses_a_certificate_without_ocsp_signing(
    void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_responder *r = NULL;

    /* the server certificate: ours, but for TLS */
    assert_wd_err(pki_ocsp_responder_new(f->ca, f->main.server->pem,
                                         f->main.server_key_pem, &r),
                  WD_E_CONFIG);
    assert_null(r);
}

static void
test_pki_ocsp_responder_new_refuses_another_key(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_responder *r = NULL;

    assert_wd_err(
        pki_ocsp_responder_new(f->ca, f->cert->pem, f->other_key_pem, &r),
        WD_E_CONFIG);
    assert_wd_err(pki_ocsp_responder_new(f->ca, f->cert->pem, "not a key", &r),
                  WD_E_CONFIG);
    assert_null(r);
}

static void
test_pki_ocsp_responder_new_refuses_another_cas_responder(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_responder *r = NULL;

    assert_wd_err(
        pki_ocsp_responder_new(f->ca, f->other_cert->pem, f->other_key_pem, &r),
        WD_E_CONFIG);
    assert_wd_err(pki_ocsp_responder_new(f->ca, "garbage", f->key_pem, &r),
                  WD_E_CONFIG);
    assert_null(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_ocsp_responder_issue_is_signed_by_the_intermediate),
        cmocka_unit_test(
            test_pki_ocsp_responder_issue_is_for_ocsp_signing_only),
        cmocka_unit_test(test_pki_ocsp_responder_issue_adds_nocheck),
        cmocka_unit_test(test_pki_ocsp_responder_issue_sets_ski_and_aki),
        cmocka_unit_test(
            test_pki_ocsp_responder_issue_backdates_and_lasts_validity),
        cmocka_unit_test(
            test_pki_ocsp_responder_issue_never_outlives_the_intermediate),
        cmocka_unit_test(
            test_pki_ocsp_responder_issue_refuses_zero_validity_and_a_dead_ca),
        cmocka_unit_test(
            test_pki_ocsp_responder_issue_returns_the_key_as_pkcs8),
        cmocka_unit_test(
            test_pki_ocsp_responder_new_takes_the_issued_responder),
        cmocka_unit_test(
            test_pki_ocsp_responder_new_without_files_is_the_intermediate),
        cmocka_unit_test(
            test_pki_ocsp_responder_new_wants_certificate_and_key_together),
        cmocka_unit_test(
            test_pki_ocsp_responder_new_refuses_a_certificate_without_ocsp_signing),
        cmocka_unit_test(test_pki_ocsp_responder_new_refuses_another_key),
        cmocka_unit_test(
            test_pki_ocsp_responder_new_refuses_another_cas_responder),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
