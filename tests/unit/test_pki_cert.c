/*
 * Unit tests for server/pki/pki_cert.c: what an issued certificate holds
 * (PRODUCT.md), read back with GnuTLS rather than with our own parser,
 * and pki_cert_parse on the result. One throwaway CA from pki_ca_create
 * is built in the group setup.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"
#define DAY_S (24 * 3600)

struct fixtures {
    struct pki_ca_new made;
    struct pki_ca *ca;
    gnutls_x509_crt_t root;
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
    if (pki_fixture_ca_make("Cert Test", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL,
                            f->now, &f->made, &f->ca) != 0) {
        return -1;
    }
    f->root = pki_fixture_crt_pem(f->made.root_pem);
    f->intermediate = pki_fixture_crt_pem(f->made.intermediate_pem);
    if (f->root == NULL || f->intermediate == NULL) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    gnutls_x509_crt_deinit(f->root);
    gnutls_x509_crt_deinit(f->intermediate);
    pki_fixture_ca_free(&f->made, f->ca);
    free(f);
    return 0;
}

/* Issues for tests/data/<name>; the caller frees the result. */
static struct pki_cert *
issue(const struct fixtures *f, const char *name, enum pki_profile profile,
      uint64_t validity_s, const char *serial)
{
    struct pki_csr *csr = pki_fixture_csr(name);
    struct pki_cert *cert = NULL;
    char fresh[WD_MAX_SERIAL_HEX + 1];
    struct pki_issue req;

    if (serial == NULL) {
        assert_wd_err(pki_serial_new(fresh), WD_OK);
        serial = fresh;
    }
    req.csr = csr;
    req.profile = profile;
    req.serial = serial;
    req.validity_s = validity_s;
    req.now = f->now;
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    assert_non_null(cert);
    pki_csr_free(csr);
    return cert;
}

static gnutls_x509_crt_t
crt_of(const struct pki_cert *cert)
{
    gnutls_x509_crt_t crt =
        pki_fixture_crt_import(cert->der, cert->der_len, GNUTLS_X509_FMT_DER);

    assert_non_null(crt);
    return crt;
}

/* Whether crt has extension oid, and if so whether it is critical. */
static bool
has_extension(gnutls_x509_crt_t crt, const char *oid, unsigned *critical)
{
    gnutls_datum_t d = { NULL, 0 };

    if (gnutls_x509_crt_get_extension_by_oid2(crt, oid, 0, &d, critical) < 0) {
        return false;
    }
    gnutls_free(d.data);
    return true;
}

static void
test_pki_cert_issue_writes_version_3_and_the_given_serial(void **state)
{
    const struct fixtures *f = *state;
    char serial[WD_MAX_SERIAL_HEX + 1];
    uint8_t raw[32];
    size_t raw_len = sizeof(raw);
    char hex[65];
    struct pki_cert *cert;
    gnutls_x509_crt_t crt;
    size_t i;

    assert_wd_err(pki_serial_new(serial), WD_OK);
    cert =
        issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER, 90 * DAY_S, serial);
    crt = crt_of(cert);
    assert_int_equal(gnutls_x509_crt_get_version(crt), 3);
    assert_int_equal(gnutls_x509_crt_get_serial(crt, raw, &raw_len), 0);
    for (i = 0; i < raw_len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    }
    /* DER may carry a 0x00 sign byte in front; the hex form never does */
    assert_string_equal(raw[0] == 0 ? hex + 2 : hex, serial);
    assert_string_equal(cert->serial, serial);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_keeps_a_high_serial_positive(void **state)
{
    const char *serial = "ff0102030405060708090a0b0c0d0e0f";
    uint8_t raw[32];
    size_t raw_len = sizeof(raw);
    struct pki_cert *cert = issue(*state, "csr-ecdsa-p256.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, serial);
    gnutls_x509_crt_t crt = crt_of(cert);

    assert_int_equal(gnutls_x509_crt_get_serial(crt, raw, &raw_len), 0);
    assert_int_equal(raw_len, 17);
    assert_int_equal(raw[0], 0x00); /* X.690 8.3: else negative */
    assert_int_equal(raw[1], 0xff);
    assert_string_equal(cert->serial, serial);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_names_the_intermediate_as_issuer(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert =
        issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    gnutls_datum_t issuer = { NULL, 0 };
    gnutls_datum_t subject = { NULL, 0 };

    assert_int_equal(gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0), 0);
    assert_int_equal(gnutls_x509_crt_get_dn3(f->intermediate, &subject, 0), 0);
    assert_string_equal(issuer.data, subject.data);
    assert_string_equal(issuer.data,
                        "CN=Cert Test Intermediate CA,O=Cert Test");
    assert_true(gnutls_x509_crt_check_issuer(crt, f->intermediate));
    gnutls_free(issuer.data);
    gnutls_free(subject.data);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_copies_the_subject_of_the_request(void **state)
{
    struct pki_cert *cert = issue(*state, "csr-cn-only-not-host.pem",
                                  PKI_PROFILE_CLIENT, 90 * DAY_S, NULL);

    assert_string_equal(cert->subject, "O=Example,CN=Alice Smith");
    assert_string_equal(cert->cn, "Alice Smith");
    assert_int_equal(cert->n_sans, 0);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_backdates_not_before_by_five_minutes(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert =
        issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);

    assert_int_equal(gnutls_x509_crt_get_activation_time(crt), f->now - 300);
    assert_int_equal(gnutls_x509_crt_get_expiration_time(crt),
                     f->now + 90 * DAY_S);
    assert_int_equal(cert->not_before, f->now - 300);
    assert_int_equal(cert->not_after, f->now + 90 * DAY_S);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_never_outlives_the_intermediate(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert = issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER,
                                  (uint64_t)40 * 365 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);

    assert_int_equal(gnutls_x509_crt_get_expiration_time(crt),
                     gnutls_x509_crt_get_expiration_time(f->intermediate));
    assert_int_equal(cert->not_after, pki_ca_not_after(f->ca));
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_marks_ca_false_critical(void **state)
{
    struct pki_cert *cert = issue(*state, "csr-ecdsa-p256.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    unsigned critical = 0;
    unsigned ca = 1;
    int pathlen;

    assert_true(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
                                                      &pathlen) >= 0);
    assert_int_equal(critical, 1);
    assert_int_equal(ca, 0);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

/* keyUsage of a certificate for tests/data/<name>, checked critical. */
static unsigned
key_usage_for(const struct fixtures *f, const char *name)
{
    struct pki_cert *cert =
        issue(f, name, PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    unsigned critical = 0;
    unsigned usage = 0;

    assert_true(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
    assert_int_equal(critical, 1);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
    return usage;
}

static void
test_pki_cert_issue_sets_key_usage_per_key_type(void **state)
{
    const struct fixtures *f = *state;

    assert_int_equal(key_usage_for(f, "csr-rsa-2048.pem"),
                     GNUTLS_KEY_DIGITAL_SIGNATURE |
                         GNUTLS_KEY_KEY_ENCIPHERMENT);
    assert_int_equal(key_usage_for(f, "csr-ecdsa-p256.pem"),
                     GNUTLS_KEY_DIGITAL_SIGNATURE);
    assert_int_equal(key_usage_for(f, "csr-ecdsa-p521.pem"),
                     GNUTLS_KEY_DIGITAL_SIGNATURE);
    assert_int_equal(key_usage_for(f, "csr-ed25519.pem"),
                     GNUTLS_KEY_DIGITAL_SIGNATURE);
}

/* The EKU OIDs of a certificate for profile p, "server" and "client". */
static void
check_eku(const struct fixtures *f, enum pki_profile p, bool server,
          bool client)
{
    struct pki_cert *cert = issue(f, "csr-ecdsa-p256.pem", p, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    bool seen_server = false;
    bool seen_client = false;
    char oid[128];
    size_t size;
    unsigned i;

    for (i = 0;; i++) {
        size = sizeof(oid);
        if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL) < 0) {
            break;
        }
        if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0) {
            seen_server = true;
        } else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0) {
            seen_client = true;
        } else {
            fail_msg("unexpected EKU %s", oid);
        }
    }
    assert_int_equal(i, (server ? 1u : 0u) + (client ? 1u : 0u));
    assert_int_equal(seen_server, server);
    assert_int_equal(seen_client, client);
    assert_int_equal(cert->profile, p);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_sets_the_eku_of_each_profile(void **state)
{
    check_eku(*state, PKI_PROFILE_SERVER, true, false);
    check_eku(*state, PKI_PROFILE_CLIENT, false, true);
    check_eku(*state, PKI_PROFILE_SERVER_CLIENT, true, true);
}

static void
test_pki_cert_issue_sets_ski_from_the_subject_key(void **state)
{
    struct pki_cert *cert = issue(*state, "csr-ecdsa-p384.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    uint8_t ski[64];
    uint8_t key_id[64];
    size_t ski_len = sizeof(ski);
    size_t key_id_len = sizeof(key_id);
    unsigned critical = 1;

    assert_int_equal(
        gnutls_x509_crt_get_subject_key_id(crt, ski, &ski_len, &critical), 0);
    assert_int_equal(critical, 0);
    assert_int_equal(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1,
                                                key_id, &key_id_len),
                     0);
    assert_int_equal(ski_len, 20);
    assert_memory_equal(ski, key_id, key_id_len);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_sets_aki_to_the_intermediate_ski(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert =
        issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    uint8_t aki[64];
    uint8_t ski[64];
    size_t aki_len = sizeof(aki);
    size_t ski_len = sizeof(ski);
    unsigned critical = 1;

    assert_int_equal(
        gnutls_x509_crt_get_authority_key_id(crt, aki, &aki_len, &critical), 0);
    assert_int_equal(critical, 0);
    assert_int_equal(gnutls_x509_crt_get_subject_key_id(f->intermediate, ski,
                                                        &ski_len, &critical),
                     0);
    assert_int_equal(aki_len, ski_len);
    assert_memory_equal(aki, ski, ski_len);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

/* The n-th AIA entry of crt (the URI datum does not end in a NUL). */
static void
assert_aia(gnutls_x509_crt_t crt, unsigned n, const char *method,
           const char *url)
{
    gnutls_datum_t d = { NULL, 0 };

    assert_int_equal(gnutls_x509_crt_get_authority_info_access(
                         crt, n, GNUTLS_IA_ACCESSMETHOD_OID, &d, NULL),
                     0);
    assert_string_equal(d.data, method); /* GnuTLS ends OIDs with a NUL */
    gnutls_free(d.data);
    assert_int_equal(gnutls_x509_crt_get_authority_info_access(
                         crt, n, GNUTLS_IA_URI, &d, NULL),
                     0);
    assert_int_equal(d.size, strlen(url));
    assert_memory_equal(d.data, url, d.size);
    gnutls_free(d.data);
}

static void
test_pki_cert_issue_points_crl_and_aia_at_the_public_url(void **state)
{
    struct pki_cert *cert = issue(*state, "csr-ecdsa-p256.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    char url[256];
    size_t size = sizeof(url);
    unsigned reasons = 0;
    unsigned critical = 1;
    gnutls_datum_t uri;

    assert_int_equal(gnutls_x509_crt_get_crl_dist_points(crt, 0, url, &size,
                                                         &reasons, &critical),
                     GNUTLS_SAN_URI);
    assert_string_equal(url, PUBLIC_URL "/crl");
    size = sizeof(url);
    assert_true(gnutls_x509_crt_get_crl_dist_points(crt, 1, url, &size,
                                                    &reasons, &critical) ==
                GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);

    assert_aia(crt, 0, GNUTLS_OID_AD_OCSP, PUBLIC_URL "/ocsp");
    assert_aia(crt, 1, GNUTLS_OID_AD_CAISSUERS, PUBLIC_URL "/intermediate.crt");
    assert_int_equal(gnutls_x509_crt_get_authority_info_access(
                         crt, 2, GNUTLS_IA_URI, &uri, NULL),
                     GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

/* The n-th SAN of crt as GnuTLS reads it: type and raw bytes. */
static void
assert_crt_san(gnutls_x509_crt_t crt, unsigned n, int type, const void *want,
               size_t want_len)
{
    uint8_t buf[256];
    size_t size = sizeof(buf);

    assert_int_equal(
        gnutls_x509_crt_get_subject_alt_name(crt, n, buf, &size, NULL), type);
    assert_int_equal(size, want_len);
    assert_memory_equal(buf, want, want_len);
}

static void
test_pki_cert_issue_copies_the_sans_exactly(void **state)
{
    static const uint8_t v4[] = { 192, 0, 2, 10 };
    static const uint8_t v6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                  0,    0,    0,    0,    0, 0, 0, 0x10 };
    struct pki_cert *cert = issue(*state, "csr-sans-mixed.pem",
                                  PKI_PROFILE_SERVER_CLIENT, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    uint8_t buf[256];
    size_t size = sizeof(buf);
    unsigned critical = 1;

    assert_crt_san(crt, 0, GNUTLS_SAN_DNSNAME, "mixed.example.com", 17);
    assert_crt_san(crt, 1, GNUTLS_SAN_DNSNAME, "*.mixed.example.com", 19);
    assert_crt_san(crt, 2, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4));
    assert_crt_san(crt, 3, GNUTLS_SAN_IPADDRESS, v6, sizeof(v6));
    assert_crt_san(crt, 4, GNUTLS_SAN_RFC822NAME, "ops@example.com", 15);
    assert_crt_san(crt, 5, GNUTLS_SAN_URI, "spiffe://example.org/ns/x", 25);
    assert_int_equal(
        gnutls_x509_crt_get_subject_alt_name(crt, 6, buf, &size, NULL),
        GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    assert_true(has_extension(crt, "2.5.29.17", &critical));
    assert_int_equal(critical, 0); /* the subject is not empty */

    assert_int_equal(cert->n_sans, 6);
    assert_int_equal(cert->sans[3].type, PKI_SAN_IP);
    assert_string_equal(cert->sans[3].value, "2001:db8::10");
    assert_int_equal(cert->sans[5].type, PKI_SAN_URI);
    assert_string_equal(cert->sans[5].value, "spiffe://example.org/ns/x");
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_makes_the_san_critical_for_an_empty_subject(void **state)
{
    struct pki_cert *cert = issue(*state, "csr-empty-subject-san.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    unsigned critical = 0;

    assert_string_equal(cert->subject, "");
    assert_null(cert->cn);
    assert_true(has_extension(crt, "2.5.29.17", &critical));
    assert_int_equal(critical, 1); /* RFC 5280 4.2.1.6 */
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_turns_a_cn_only_host_into_a_san(void **state)
{
    struct pki_cert *cert = issue(*state, "csr-cn-only-host.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);

    assert_crt_san(crt, 0, GNUTLS_SAN_DNSNAME, "host.example.com", 16);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_ignores_a_request_for_ca_true(void **state)
{
    static const char *const allowed[] = {
        "2.5.29.17",         /* subjectAltName */
        "2.5.29.19",         /* basicConstraints */
        "2.5.29.15",         /* keyUsage */
        "2.5.29.37",         /* extKeyUsage */
        "2.5.29.14",         /* subjectKeyIdentifier */
        "2.5.29.35",         /* authorityKeyIdentifier */
        "2.5.29.31",         /* cRLDistributionPoints */
        "1.3.6.1.5.5.7.1.1", /* authorityInfoAccess */
    };
    struct pki_cert *cert = issue(*state, "csr-asks-ca-true.pem",
                                  PKI_PROFILE_SERVER, 90 * DAY_S, NULL);
    gnutls_x509_crt_t crt = crt_of(cert);
    unsigned critical = 0;
    unsigned ca = 1;
    unsigned usage = 0;
    int pathlen;
    char oid[128];
    size_t size;
    unsigned i;
    size_t k;

    assert_true(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
                                                      &pathlen) >= 0);
    assert_int_equal(ca, 0);
    assert_true(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
    assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
    assert_false(usage & GNUTLS_KEY_KEY_CERT_SIGN);
    for (i = 0;; i++) {
        size = sizeof(oid);
        if (gnutls_x509_crt_get_extension_info(crt, i, oid, &size, &critical) <
            0) {
            break;
        }
        for (k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++) {
            if (strcmp(oid, allowed[k]) == 0) {
                break;
            }
        }
        if (k == sizeof(allowed) / sizeof(allowed[0])) {
            fail_msg("unexpected extension %s", oid);
        }
    }
    assert_int_equal(i, 8); /* each once, and the codeSigning EKU gone */
    assert_int_equal(cert->profile, PKI_PROFILE_SERVER);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
}

static void
test_pki_cert_issue_chains_to_the_root(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert = issue(f, "csr-rsa-2048.pem",
                                  PKI_PROFILE_SERVER_CLIENT, 90 * DAY_S, NULL);
    gnutls_x509_crt_t chain[2];
    gnutls_x509_crt_t anchor = pki_fixture_crt_pem(f->made.root_pem);
    gnutls_x509_trust_list_t trust = NULL;
    gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID,
                                      (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER,
                                      0 };
    unsigned status = 1;

    chain[0] = crt_of(cert);
    chain[1] = f->intermediate;
    assert_non_null(anchor);
    assert_int_equal(gnutls_x509_trust_list_init(&trust, 0), 0);
    assert_int_equal(gnutls_x509_trust_list_add_cas(trust, &anchor, 1, 0), 1);
    assert_int_equal(gnutls_x509_trust_list_verify_crt2(
                         trust, chain, 2, &purpose, 1, 0, &status, NULL),
                     0);
    assert_int_equal(status, 0);
    assert_int_equal(gnutls_x509_crt_get_signature_algorithm(chain[0]),
                     GNUTLS_SIGN_ECDSA_SHA256);
    gnutls_x509_trust_list_deinit(trust, 1);
    gnutls_x509_crt_deinit(chain[0]);
    pki_cert_free(cert);
}

static void
test_pki_cert_parse_reads_back_what_was_issued(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert =
        issue(f, "csr-ed25519.pem", PKI_PROFILE_CLIENT, 30 * DAY_S, NULL);
    struct pki_cert *again = NULL;
    uint8_t digest[32];
    char hex[65];
    size_t i;

    assert_wd_err(pki_cert_parse(cert->der, cert->der_len, &again), WD_OK);
    assert_string_equal(again->serial, cert->serial);
    assert_int_equal(again->der_len, cert->der_len);
    assert_memory_equal(again->der, cert->der, cert->der_len);
    assert_string_equal(again->pem, cert->pem);
    assert_true(strncmp(again->pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    assert_string_equal(again->subject, "CN=ed25519.example.com");
    assert_string_equal(again->cn, "ed25519.example.com");
    assert_int_equal(again->n_sans, 1);
    assert_int_equal(again->sans[0].type, PKI_SAN_DNS);
    assert_string_equal(again->sans[0].value, "ed25519.example.com");
    assert_string_equal(again->key_type, "ed25519");
    assert_int_equal(again->profile, PKI_PROFILE_CLIENT);
    assert_int_equal(again->not_before, f->now - 300);
    assert_int_equal(again->not_after, f->now + 30 * DAY_S);
    assert_int_equal(
        gnutls_hash_fast(GNUTLS_DIG_SHA256, cert->der, cert->der_len, digest),
        0);
    for (i = 0; i < sizeof(digest); i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    assert_string_equal(again->fingerprint, hex);
    pki_cert_free(again);
    pki_cert_free(cert);
}

static void
test_pki_cert_parse_rejects_what_is_no_certificate(void **state)
{
    static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
    struct pki_cert *cert = NULL;

    (void)state;
    assert_wd_err(pki_cert_parse(junk, sizeof(junk), &cert), WD_E_INTERNAL);
    assert_null(cert);
}

/* pki_cert_issue's answer for a request with one field changed. */
static enum wd_err
issue_with(const struct fixtures *f, const char *serial,
           enum pki_profile profile, uint64_t validity_s, time_t now)
{
    struct pki_csr *csr = pki_fixture_csr("csr-ecdsa-p256.pem");
    struct pki_cert *cert = NULL;
    struct pki_issue req;
    enum wd_err rc;

    req.csr = csr;
    req.profile = profile;
    req.serial = serial;
    req.validity_s = validity_s;
    req.now = now;
    rc = pki_cert_issue(f->ca, &req, &cert);
    if (rc != WD_OK) {
        assert_null(cert);
    }
    pki_cert_free(cert);
    pki_csr_free(csr);
    return rc;
}

static void
test_pki_cert_issue_refuses_bad_serials(void **state)
{
    const struct fixtures *f = *state;

    assert_wd_err(issue_with(f, "", PKI_PROFILE_SERVER, DAY_S, f->now),
                  WD_E_BAD_SERIAL);
    assert_wd_err(issue_with(f, "00", PKI_PROFILE_SERVER, DAY_S, f->now),
                  WD_E_BAD_SERIAL);
    assert_wd_err(issue_with(f, "ABCD", PKI_PROFILE_SERVER, DAY_S, f->now),
                  WD_E_BAD_SERIAL);
    assert_wd_err(issue_with(f, "0123456789abcdef0123456789abcdef012345678",
                             PKI_PROFILE_SERVER, DAY_S, f->now),
                  WD_E_BAD_SERIAL);
}

static void
test_pki_cert_issue_refuses_a_bad_profile_or_validity(void **state)
{
    const struct fixtures *f = *state;

    assert_wd_err(issue_with(f, "01", (enum pki_profile)7, DAY_S, f->now),
                  WD_E_BAD_PROFILE);
    assert_wd_err(issue_with(f, "01", PKI_PROFILE_SERVER, 0, f->now),
                  WD_E_BAD_VALIDITY);
}

static void
test_pki_cert_issue_refuses_once_the_intermediate_expired(void **state)
{
    const struct fixtures *f = *state;

    assert_wd_err(
        issue_with(f, "01", PKI_PROFILE_SERVER, DAY_S, pki_ca_not_after(f->ca)),
        WD_E_CONFIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_cert_issue_writes_version_3_and_the_given_serial),
        cmocka_unit_test(test_pki_cert_issue_keeps_a_high_serial_positive),
        cmocka_unit_test(test_pki_cert_issue_names_the_intermediate_as_issuer),
        cmocka_unit_test(test_pki_cert_issue_copies_the_subject_of_the_request),
        cmocka_unit_test(
            test_pki_cert_issue_backdates_not_before_by_five_minutes),
        cmocka_unit_test(test_pki_cert_issue_never_outlives_the_intermediate),
        cmocka_unit_test(test_pki_cert_issue_marks_ca_false_critical),
        cmocka_unit_test(test_pki_cert_issue_sets_key_usage_per_key_type),
        cmocka_unit_test(test_pki_cert_issue_sets_the_eku_of_each_profile),
        cmocka_unit_test(test_pki_cert_issue_sets_ski_from_the_subject_key),
        cmocka_unit_test(test_pki_cert_issue_sets_aki_to_the_intermediate_ski),
        cmocka_unit_test(
            test_pki_cert_issue_points_crl_and_aia_at_the_public_url),
        cmocka_unit_test(test_pki_cert_issue_copies_the_sans_exactly),
        cmocka_unit_test(
            test_pki_cert_issue_makes_the_san_critical_for_an_empty_subject),
        cmocka_unit_test(test_pki_cert_issue_turns_a_cn_only_host_into_a_san),
        cmocka_unit_test(test_pki_cert_issue_ignores_a_request_for_ca_true),
        cmocka_unit_test(test_pki_cert_issue_chains_to_the_root),
        cmocka_unit_test(test_pki_cert_parse_reads_back_what_was_issued),
        cmocka_unit_test(test_pki_cert_parse_rejects_what_is_no_certificate),
        cmocka_unit_test(test_pki_cert_issue_refuses_bad_serials),
        cmocka_unit_test(test_pki_cert_issue_refuses_a_bad_profile_or_validity),
        cmocka_unit_test(
            test_pki_cert_issue_refuses_once_the_intermediate_expired),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
