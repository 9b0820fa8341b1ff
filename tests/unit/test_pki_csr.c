/*
 * Unit tests for server/pki/pki_csr.c: every fixture of tests/data (made
 * by gen-csr-fixtures.sh) parses with the right key type and names or
 * fails with its exact reason, leaving the out pointer NULL. Requests
 * openssl cannot write (a NUL in a subject attribute, two CNs) are built
 * here with GnuTLS.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

struct fixtures {
    gnutls_x509_privkey_t key; /* signs the requests built here */
};

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));

    if (f == NULL || gnutls_x509_privkey_init(&f->key) < 0 ||
        gnutls_x509_privkey_generate(
            f->key, GNUTLS_PK_ECDSA,
            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    gnutls_x509_privkey_deinit(f->key);
    free(f);
    return 0;
}

/* Parses tests/data/<name>, which must fail with want and leave out. */
static void
parse_fails(const char *name, enum wd_err want)
{
    struct pki_csr *csr = NULL;
    size_t len = 0;
    uint8_t *buf = test_read_file(name, &len);

    assert_non_null(buf);
    assert_wd_err(pki_csr_parse(buf, len, &csr), want);
    assert_null(csr);
    free(buf);
}

static void
assert_san(const struct pki_csr *csr, size_t i, enum pki_san_type type,
           const char *value)
{
    assert_true(i < csr->n_sans);
    assert_int_equal(csr->sans[i].type, type);
    assert_string_equal(csr->sans[i].value, value);
}

/* A good fixture: key type, subject, one DNS SAN equal to the CN. */
static void
check_simple(const char *name, const char *key_type, const char *host)
{
    struct pki_csr *csr = pki_fixture_csr(name);
    char subject[300];

    snprintf(subject, sizeof(subject), "CN=%s", host);
    assert_string_equal(csr->key_type, key_type);
    assert_string_equal(csr->subject, subject);
    assert_string_equal(csr->cn, host);
    assert_int_equal(csr->n_sans, 1);
    assert_san(csr, 0, PKI_SAN_DNS, host);
    assert_non_null(csr->der);
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_reads_an_ecdsa_p256_request(void **state)
{
    (void)state;
    check_simple("csr-ecdsa-p256.pem", "ecdsa-p256", "p256.example.com");
}

static void
test_pki_csr_parse_reads_an_ecdsa_p384_request(void **state)
{
    (void)state;
    check_simple("csr-ecdsa-p384.pem", "ecdsa-p384", "p384.example.com");
}

static void
test_pki_csr_parse_reads_an_ecdsa_p521_request(void **state)
{
    (void)state;
    check_simple("csr-ecdsa-p521.pem", "ecdsa-p521", "p521.example.com");
}

static void
test_pki_csr_parse_reads_an_rsa_2048_request_in_pem(void **state)
{
    (void)state;
    check_simple("csr-rsa-2048.pem", "rsa-2048", "rsa2048.example.com");
}

static void
test_pki_csr_parse_reads_an_rsa_2048_request_in_der(void **state)
{
    (void)state;
    check_simple("csr-rsa-2048.der", "rsa-2048", "rsa2048.example.com");
}

static void
test_pki_csr_parse_reads_an_ed25519_request(void **state)
{
    (void)state;
    check_simple("csr-ed25519.pem", "ed25519", "ed25519.example.com");
}

static void
test_pki_csr_parse_reads_the_new_certificate_request_label(void **state)
{
    (void)state;
    check_simple("csr-new-label.pem", "ecdsa-p256", "p256.example.com");
}

static void
test_pki_csr_parse_accepts_whitespace_around_the_pem_block(void **state)
{
    struct pki_csr *csr = NULL;
    size_t len = 0;
    uint8_t *pem = test_read_file("csr-ecdsa-p256.pem", &len);
    uint8_t *buf = malloc(len + 8);

    (void)state;
    assert_non_null(pem);
    assert_non_null(buf);
    memcpy(buf, "\r\n \t", 4);
    memcpy(buf + 4, pem, len);
    memcpy(buf + 4 + len, "\r\n\n ", 4);
    assert_wd_err(pki_csr_parse(buf, len + 8, &csr), WD_OK);
    assert_string_equal(csr->key_type, "ecdsa-p256");
    pki_csr_free(csr);
    free(buf);
    free(pem);
}

static void
test_pki_csr_parse_reads_mixed_sans_in_canonical_form(void **state)
{
    struct pki_csr *csr = pki_fixture_csr("csr-sans-mixed.pem");

    (void)state;
    assert_int_equal(csr->n_sans, 6);
    assert_san(csr, 0, PKI_SAN_DNS, "mixed.example.com"); /* lower-cased */
    assert_san(csr, 1, PKI_SAN_DNS, "*.mixed.example.com");
    assert_san(csr, 2, PKI_SAN_IP, "192.0.2.10");
    assert_san(csr, 3, PKI_SAN_IP, "2001:db8::10");
    assert_san(csr, 4, PKI_SAN_EMAIL, "ops@example.com");
    assert_san(csr, 5, PKI_SAN_URI, "spiffe://example.org/ns/x");
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_turns_a_cn_only_host_into_a_dns_san(void **state)
{
    struct pki_csr *csr = pki_fixture_csr("csr-cn-only-host.pem");

    (void)state;
    assert_string_equal(csr->cn, "host.example.com");
    assert_int_equal(csr->n_sans, 1);
    assert_san(csr, 0, PKI_SAN_DNS, "host.example.com");
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_turns_a_cn_only_ip_into_an_ip_san(void **state)
{
    struct pki_csr *csr = pki_fixture_csr("csr-cn-only-ip.pem");

    (void)state;
    assert_int_equal(csr->n_sans, 1);
    assert_san(csr, 0, PKI_SAN_IP, "192.0.2.7");
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_keeps_a_cn_that_is_no_host_name_without_san(void **state)
{
    struct pki_csr *csr = pki_fixture_csr("csr-cn-only-not-host.pem");

    (void)state;
    assert_string_equal(csr->subject, "O=Example,CN=Alice Smith");
    assert_string_equal(csr->cn, "Alice Smith");
    assert_int_equal(csr->n_sans, 0);
    assert_null(csr->sans);
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_accepts_an_empty_subject_with_a_san(void **state)
{
    struct pki_csr *csr = pki_fixture_csr("csr-empty-subject-san.pem");

    (void)state;
    assert_string_equal(csr->subject, "");
    assert_null(csr->cn);
    assert_int_equal(csr->n_sans, 1);
    assert_san(csr, 0, PKI_SAN_DNS, "nosubject.example.com");
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_reads_a_request_for_ca_true_like_any_other(void **state)
{
    struct pki_csr *csr = pki_fixture_csr("csr-asks-ca-true.pem");

    (void)state; /* what issuance makes of it: test_pki_cert.c */
    assert_int_equal(csr->n_sans, 1);
    assert_san(csr, 0, PKI_SAN_DNS, "ca-wannabe.example.com");
    pki_csr_free(csr);
}

static void
test_pki_csr_parse_rejects_a_weak_rsa_key(void **state)
{
    (void)state;
    parse_fails("csr-rsa-1024-weak.pem", WD_E_WEAK_KEY);
}

static void
test_pki_csr_parse_rejects_a_dsa_key(void **state)
{
    (void)state;
    parse_fails("csr-dsa-2048.pem", WD_E_UNSUPPORTED_KEY);
}

static void
test_pki_csr_parse_rejects_a_curve_gnutls_does_not_know(void **state)
{
    (void)state;
    parse_fails("csr-brainpool-unsupported.pem", WD_E_UNSUPPORTED_KEY);
}

static void
test_pki_csr_parse_rejects_a_curve_we_do_not_sign_for(void **state)
{
    (void)state;
    parse_fails("csr-ecdsa-p224.pem", WD_E_UNSUPPORTED_KEY);
}

static void
test_pki_csr_parse_rejects_an_ed448_key(void **state)
{
    (void)state;
    parse_fails("csr-ed448.pem", WD_E_UNSUPPORTED_KEY);
}

static void
test_pki_csr_parse_rejects_a_bad_signature(void **state)
{
    (void)state;
    parse_fails("csr-bad-signature.pem", WD_E_CSR_SIGNATURE);
}

/* The self-signature is checked under whatever hash and padding the
 * request names, as GnuTLS's gnutls_x509_crq_verify judges them. */
static void
test_pki_csr_parse_checks_signatures_of_every_algorithm(void **state)
{
    (void)state;
    check_simple("csr-rsa-pss.pem", "rsa-2048", "pss.example.com");
    check_simple("csr-ecdsa-sha1.pem", "ecdsa-p256", "sha1.example.com");
    check_simple("csr-rsa-sha1.pem", "rsa-2048", "rsasha1.example.com");
    check_simple("csr-ecdsa-sha512.pem", "ecdsa-p256", "sha512.example.com");
    parse_fails("csr-rsa-pss-salt20.pem", WD_E_CSR_SIGNATURE);
}

/* A signature that holds for other bytes than the ones sent: one octet
 * of the signed part changed in a request that verified. */
static void
test_pki_csr_parse_rejects_a_signature_over_other_bytes(void **state)
{
    size_t len = 0;
    uint8_t *der = test_read_file("csr-rsa-2048.der", &len);
    struct pki_csr *csr = NULL;
    size_t i;

    (void)state;
    assert_non_null(der);
    /* the CN's first letter: the request still parses, the signature
     * over it no longer holds */
    for (i = 0; i + 3 < len && memcmp(der + i, "rsa2", 4) != 0; i++) {
    }
    assert_true(i + 3 < len);
    der[i] = 'R';
    assert_wd_err(pki_csr_parse(der, len, &csr), WD_E_CSR_SIGNATURE);
    assert_null(csr);
    free(der);
}

static void
test_pki_csr_parse_rejects_trailing_garbage(void **state)
{
    (void)state;
    parse_fails("csr-trailing-garbage.der", WD_E_CSR_SYNTAX);
}

static void
test_pki_csr_parse_rejects_two_pem_blocks(void **state)
{
    (void)state;
    parse_fails("csr-two-blocks.pem", WD_E_CSR_SYNTAX);
}

static void
test_pki_csr_parse_rejects_text_after_the_pem_block(void **state)
{
    (void)state;
    parse_fails("csr-pem-trailing-text.pem", WD_E_CSR_SYNTAX);
}

static void
test_pki_csr_parse_rejects_corrupt_base64(void **state)
{
    (void)state;
    parse_fails("csr-corrupt-base64.pem", WD_E_CSR_SYNTAX);
}

static void
test_pki_csr_parse_rejects_a_truncated_der_request(void **state)
{
    struct pki_csr *csr = NULL;
    size_t len = 0;
    uint8_t *der = test_read_file("csr-rsa-2048.der", &len);

    (void)state;
    assert_non_null(der);
    assert_wd_err(pki_csr_parse(der, len - 1, &csr), WD_E_CSR_SYNTAX);
    assert_wd_err(pki_csr_parse(der, 1, &csr), WD_E_CSR_SYNTAX);
    assert_null(csr);
    free(der);
}

static void
test_pki_csr_parse_rejects_a_pem_certificate(void **state)
{
    static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
                              "MAA=\n"
                              "-----END CERTIFICATE-----\n";
    struct pki_csr *csr = NULL;

    (void)state;
    assert_wd_err(pki_csr_parse((const uint8_t *)pem, sizeof(pem) - 1, &csr),
                  WD_E_CSR_SYNTAX);
    assert_null(csr);
}

static void
test_pki_csr_parse_rejects_empty_and_oversized_input(void **state)
{
    struct pki_csr *csr = NULL;
    uint8_t *big = calloc(1, WD_MAX_CSR_BYTES + 1);

    (void)state;
    assert_non_null(big);
    assert_wd_err(pki_csr_parse((const uint8_t *)"", 0, &csr), WD_E_CSR_SYNTAX);
    assert_wd_err(pki_csr_parse(big, WD_MAX_CSR_BYTES + 1, &csr),
                  WD_E_CSR_SYNTAX);
    assert_null(csr);
    free(big);
}

static void
test_pki_csr_parse_rejects_more_than_100_sans(void **state)
{
    (void)state;
    parse_fails("csr-many-sans.pem", WD_E_TOO_MANY_NAMES);
}

static void
test_pki_csr_parse_rejects_an_empty_dns_label(void **state)
{
    (void)state;
    parse_fails("csr-bad-dns.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_a_non_ascii_dns_name(void **state)
{
    (void)state;
    parse_fails("csr-non-ascii-dns.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_a_nul_in_a_dns_name(void **state)
{
    (void)state;
    parse_fails("csr-dns-with-nul.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_an_othername_san(void **state)
{
    (void)state;
    parse_fails("csr-othername-san.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_an_email_without_at_sign(void **state)
{
    (void)state;
    parse_fails("csr-bad-email.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_a_uri_without_scheme(void **state)
{
    (void)state;
    parse_fails("csr-bad-uri.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_a_control_character_in_the_cn(void **state)
{
    (void)state;
    parse_fails("csr-cn-control-char.pem", WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_two_san_extensions(void **state)
{
    (void)state;
    parse_fails("csr-two-san-extensions.pem", WD_E_CSR_SYNTAX);
}

static void
test_pki_csr_parse_rejects_two_extension_requests(void **state)
{
    (void)state;
    parse_fails("csr-two-extension-requests.pem", WD_E_CSR_SYNTAX);
}

static void
test_pki_csr_parse_rejects_a_request_without_names(void **state)
{
    (void)state;
    parse_fails("csr-no-names.pem", WD_E_NO_NAMES);
}

/* A request signed by f->key whose subject is the given attributes. */
static enum wd_err
parse_built(const struct fixtures *f, const char *const *oids,
            const char *const *values, const size_t *lens, size_t n)
{
    gnutls_x509_crq_t crq = NULL;
    gnutls_datum_t der = { NULL, 0 };
    struct pki_csr *csr = NULL;
    enum wd_err rc;
    size_t i;

    assert_int_equal(gnutls_x509_crq_init(&crq), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(gnutls_x509_crq_set_dn_by_oid(
                             crq, oids[i], 0, values[i], (unsigned)lens[i]),
                         0);
    }
    assert_int_equal(gnutls_x509_crq_set_key(crq, f->key), 0);
    assert_int_equal(gnutls_x509_crq_sign2(crq, f->key, GNUTLS_DIG_SHA256, 0),
                     0);
    assert_int_equal(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der),
                     0);
    rc = pki_csr_parse(der.data, der.size, &csr);
    if (rc != WD_OK) {
        assert_null(csr);
    }
    pki_csr_free(csr);
    gnutls_free(der.data);
    gnutls_x509_crq_deinit(crq);
    return rc;
}

static void
test_pki_csr_parse_accepts_a_request_built_with_gnutls(void **state)
{
    const char *oids[] = { GNUTLS_OID_X520_COMMON_NAME };
    const char *values[] = { "built.example.com" };
    size_t lens[] = { 17 };

    assert_wd_err(parse_built(*state, oids, values, lens, 1), WD_OK);
}

static void
test_pki_csr_parse_rejects_a_nul_in_the_cn(void **state)
{
    const char *oids[] = { GNUTLS_OID_X520_COMMON_NAME };
    const char *values[] = { "a\0b.example.com" };
    size_t lens[] = { 15 };

    assert_wd_err(parse_built(*state, oids, values, lens, 1), WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_a_nul_in_another_attribute(void **state)
{
    const char *oids[] = { GNUTLS_OID_X520_ORGANIZATION_NAME,
                           GNUTLS_OID_X520_COMMON_NAME };
    const char *values[] = { "Evil\0Corp", "nul-org.example.com" };
    size_t lens[] = { 9, 19 };

    assert_wd_err(parse_built(*state, oids, values, lens, 2), WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_two_cns(void **state)
{
    const char *oids[] = { GNUTLS_OID_X520_COMMON_NAME,
                           GNUTLS_OID_X520_COMMON_NAME };
    const char *values[] = { "one.example.com", "two.example.com" };
    size_t lens[] = { 15, 15 };

    assert_wd_err(parse_built(*state, oids, values, lens, 2), WD_E_BAD_NAME);
}

static void
test_pki_csr_parse_rejects_a_cn_over_64_characters(void **state)
{
    const char *oids[] = { GNUTLS_OID_X520_COMMON_NAME };
    const char *values[] = { "a-very-long-label-that-goes-on-and-on."
                             "and-on-until-it-passes.example.com" };
    size_t lens[] = { 72 };

    assert_int_equal(strlen(values[0]), 72);
    assert_wd_err(parse_built(*state, oids, values, lens, 1), WD_E_BAD_NAME);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_csr_parse_reads_an_ecdsa_p256_request),
        cmocka_unit_test(test_pki_csr_parse_reads_an_ecdsa_p384_request),
        cmocka_unit_test(test_pki_csr_parse_reads_an_ecdsa_p521_request),
        cmocka_unit_test(test_pki_csr_parse_reads_an_rsa_2048_request_in_pem),
        cmocka_unit_test(test_pki_csr_parse_reads_an_rsa_2048_request_in_der),
        cmocka_unit_test(test_pki_csr_parse_reads_an_ed25519_request),
        cmocka_unit_test(
            test_pki_csr_parse_reads_the_new_certificate_request_label),
        cmocka_unit_test(
            test_pki_csr_parse_accepts_whitespace_around_the_pem_block),
        cmocka_unit_test(test_pki_csr_parse_reads_mixed_sans_in_canonical_form),
        cmocka_unit_test(
            test_pki_csr_parse_turns_a_cn_only_host_into_a_dns_san),
        cmocka_unit_test(test_pki_csr_parse_turns_a_cn_only_ip_into_an_ip_san),
        cmocka_unit_test(
            test_pki_csr_parse_keeps_a_cn_that_is_no_host_name_without_san),
        cmocka_unit_test(
            test_pki_csr_parse_accepts_an_empty_subject_with_a_san),
        cmocka_unit_test(
            test_pki_csr_parse_reads_a_request_for_ca_true_like_any_other),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_weak_rsa_key),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_dsa_key),
        cmocka_unit_test(
            test_pki_csr_parse_rejects_a_curve_gnutls_does_not_know),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_curve_we_do_not_sign_for),
        cmocka_unit_test(test_pki_csr_parse_rejects_an_ed448_key),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_bad_signature),
        cmocka_unit_test(
            test_pki_csr_parse_checks_signatures_of_every_algorithm),
        cmocka_unit_test(
            test_pki_csr_parse_rejects_a_signature_over_other_bytes),
        cmocka_unit_test(test_pki_csr_parse_rejects_trailing_garbage),
        cmocka_unit_test(test_pki_csr_parse_rejects_two_pem_blocks),
        cmocka_unit_test(test_pki_csr_parse_rejects_text_after_the_pem_block),
        cmocka_unit_test(test_pki_csr_parse_rejects_corrupt_base64),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_truncated_der_request),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_pem_certificate),
        cmocka_unit_test(test_pki_csr_parse_rejects_empty_and_oversized_input),
        cmocka_unit_test(test_pki_csr_parse_rejects_more_than_100_sans),
        cmocka_unit_test(test_pki_csr_parse_rejects_an_empty_dns_label),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_non_ascii_dns_name),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_nul_in_a_dns_name),
        cmocka_unit_test(test_pki_csr_parse_rejects_an_othername_san),
        cmocka_unit_test(test_pki_csr_parse_rejects_an_email_without_at_sign),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_uri_without_scheme),
        cmocka_unit_test(
            test_pki_csr_parse_rejects_a_control_character_in_the_cn),
        cmocka_unit_test(test_pki_csr_parse_rejects_two_san_extensions),
        cmocka_unit_test(test_pki_csr_parse_rejects_two_extension_requests),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_request_without_names),
        cmocka_unit_test(
            test_pki_csr_parse_accepts_a_request_built_with_gnutls),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_nul_in_the_cn),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_nul_in_another_attribute),
        cmocka_unit_test(test_pki_csr_parse_rejects_two_cns),
        cmocka_unit_test(test_pki_csr_parse_rejects_a_cn_over_64_characters),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
