/*
 * server/pki/pki_leaf.c when GnuTLS fails under it: the PEM encoder (which
 * fails only when memory runs out) is wrapped at link time
 * (tests/CMakeLists.txt) so a test can make it fail. An issuance that
 * fails after the certificate was signed hands nothing out and frees what
 * it made exactly once (a double free here aborts the test; valgrind and
 * ASan in CI see any leak).
 */
#include "support.h"

#include <stdlib.h>

#include <gnutls/gnutls.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"

static bool fail_pem;

int __real_gnutls_pem_base64_encode2(const char *header,
                                     const gnutls_datum_t *data,
                                     gnutls_datum_t *result);
int __wrap_gnutls_pem_base64_encode2(const char *header,
                                     const gnutls_datum_t *data,
                                     gnutls_datum_t *result);

int
__wrap_gnutls_pem_base64_encode2(const char *header, const gnutls_datum_t *data,
                                 gnutls_datum_t *result)
{
    if (fail_pem) {
        return GNUTLS_E_MEMORY_ERROR;
    }
    return __real_gnutls_pem_base64_encode2(header, data, result);
}

static int
setup(void **state)
{
    return pki_fixture_issuer_setup(state, "Leaf Faults", PUBLIC_URL);
}

static void
test_pki_leaf_issue_that_fails_after_signing_hands_nothing_out(void **state)
{
    struct pki_fixture_issuer *f = *state;
    struct pki_csr *csr = pki_fixture_csr("csr-ecdsa-p256.pem");
    struct pki_cert *cert = NULL;
    struct pki_issue req = {
        .csr = csr,
        .profile = PKI_PROFILE_SERVER,
        .serial = "0a0b0c",
        .validity_s = 86400,
        .now = f->now,
    };

    fail_pem = true;
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_E_INTERNAL);
    fail_pem = false;
    assert_null(cert);
    /* and the same request goes through once GnuTLS does */
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    assert_non_null(cert);
    assert_string_equal(cert->serial, "0a0b0c");
    pki_cert_free(cert);
    pki_csr_free(csr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_leaf_issue_that_fails_after_signing_hands_nothing_out),
    };

    return cmocka_run_group_tests(tests, setup, pki_fixture_issuer_teardown);
}
