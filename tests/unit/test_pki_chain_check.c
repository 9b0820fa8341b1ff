/*
 * Unit tests for server/pki/pki_chain_check.c: which stored certificates
 * pki_chain_check says an intermediate issued. Two throwaway CAs, "Main"
 * and "Other", are built in the group setup with a leaf of each, and a
 * leaf of Main that expired long ago; restore relies on the answers.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://127.0.0.1:8080"
#define DAY_S (24 * 3600)

struct fixtures {
    struct pki_ca_new main;
    struct pki_ca_new other;
    struct pki_ca *ca;
    struct pki_ca *other_ca;
    struct pki_cert *leaf;       /* Main's */
    struct pki_cert *old_leaf;   /* Main's, expired a year ago */
    struct pki_cert *other_leaf; /* Other's */
};

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));
    time_t now = time(NULL);

    if (f == NULL) {
        return -1;
    }
    *state = f;
    /* Main's CA starts two years ago so that its leaf of then is valid
     * from the CA's start and long expired now */
    if (pki_fixture_ca_make("Main", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL,
                            now - 2 * 365 * DAY_S, &f->main, &f->ca) != 0 ||
        pki_fixture_ca_make("Other", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL, now,
                            &f->other, &f->other_ca) != 0) {
        return -1;
    }
    f->leaf = pki_fixture_leaf_issue(f->ca, NULL, now);
    f->old_leaf = pki_fixture_leaf_issue(f->ca, NULL, now - 400 * DAY_S);
    f->other_leaf = pki_fixture_leaf_issue(f->other_ca, NULL, now);
    return f->leaf != NULL && f->old_leaf != NULL && f->other_leaf != NULL ? 0
                                                                           : -1;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    pki_cert_free(f->leaf);
    pki_cert_free(f->old_leaf);
    pki_cert_free(f->other_leaf);
    pki_fixture_ca_free(&f->main, f->ca);
    pki_fixture_ca_free(&f->other, f->other_ca);
    free(f);
    return 0;
}

/* pki_chain_check on n certificates; returns *first_bad. */
static size_t
check(const char *issuer_pem, const struct pki_cert *const *certs, size_t n)
{
    const uint8_t *ders[8];
    size_t lens[8];
    size_t first_bad = 99;
    size_t i;

    assert_true(n <= 8);
    for (i = 0; i < n; i++) {
        ders[i] = certs[i]->der;
        lens[i] = certs[i]->der_len;
    }
    assert_wd_err(pki_chain_check(issuer_pem, ders, lens, n, &first_bad),
                  WD_OK);
    return first_bad;
}

static void
test_pki_chain_check_accepts_the_intermediates_own_certificates(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *certs[] = { f->leaf, f->main.server, f->main.admin };

    assert_int_equal(check(f->main.intermediate_pem, certs, 3), 3);
}

static void
test_pki_chain_check_accepts_an_expired_certificate(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *certs[] = { f->old_leaf };

    assert_true(f->old_leaf->not_after < time(NULL));
    assert_int_equal(check(f->main.intermediate_pem, certs, 1), 1);
}

static void
test_pki_chain_check_names_the_first_certificate_of_another_ca(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *mixed[] = { f->leaf, f->old_leaf, f->other_leaf,
                                       f->main.admin };
    const struct pki_cert *theirs[] = { f->other_leaf };

    assert_int_equal(check(f->main.intermediate_pem, mixed, 4), 2);
    assert_int_equal(check(f->main.intermediate_pem, theirs, 1), 0);
    assert_int_equal(check(f->other.intermediate_pem, mixed, 4), 0);
}

static void
test_pki_chain_check_refuses_the_root_as_issuer_of_a_leaf(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *certs[] = { f->leaf };

    /* the root signed the intermediate, not the leaf */
    assert_int_equal(check(f->main.root_pem, certs, 1), 0);
}

static void
test_pki_chain_check_refuses_a_damaged_certificate(void **state)
{
    const struct fixtures *f = *state;
    uint8_t *der = malloc(f->leaf->der_len);
    const uint8_t *ders[2];
    size_t lens[2];
    size_t first_bad = 99;

    assert_non_null(der);
    memcpy(der, f->leaf->der, f->leaf->der_len);
    der[f->leaf->der_len - 10] ^= 0x01; /* inside the signature */
    ders[0] = f->leaf->der;
    lens[0] = f->leaf->der_len;
    ders[1] = der;
    lens[1] = f->leaf->der_len;
    assert_wd_err(
        pki_chain_check(f->main.intermediate_pem, ders, lens, 2, &first_bad),
        WD_OK);
    assert_int_equal(first_bad, 1);
    /* and bytes that are no certificate at all */
    lens[1] = 5;
    first_bad = 99;
    assert_wd_err(
        pki_chain_check(f->main.intermediate_pem, ders, lens, 2, &first_bad),
        WD_OK);
    assert_int_equal(first_bad, 1);
    free(der);
}

static void
test_pki_chain_check_refuses_an_unusable_issuer(void **state)
{
    const struct fixtures *f = *state;
    const uint8_t *ders[] = { f->leaf->der };
    size_t lens[] = { f->leaf->der_len };
    size_t first_bad = 99;

    assert_wd_err(
        pki_chain_check("not a certificate", ders, lens, 1, &first_bad),
        WD_E_CONFIG);
    assert_int_equal(first_bad, 99);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_chain_check_accepts_the_intermediates_own_certificates),
        cmocka_unit_test(test_pki_chain_check_accepts_an_expired_certificate),
        cmocka_unit_test(
            test_pki_chain_check_names_the_first_certificate_of_another_ca),
        cmocka_unit_test(
            test_pki_chain_check_refuses_the_root_as_issuer_of_a_leaf),
        cmocka_unit_test(test_pki_chain_check_refuses_a_damaged_certificate),
        cmocka_unit_test(test_pki_chain_check_refuses_an_unusable_issuer),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
