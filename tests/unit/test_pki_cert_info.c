/*
 * Unit tests for server/pki/pki_cert_info.c: the detail view of a leaf we
 * issued, of the root and the intermediate, of a delegated OCSP
 * responder, and of certificates made here with GnuTLS alone to carry
 * what Warden never issues (policies, name constraints, unknown or broken
 * extensions, names holding a NUL). Expected values come from GnuTLS's
 * own reading, not from our code. One throwaway CA is built in the group
 * setup.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"
#define DAY_S (24 * 3600)

/* An OID longer than struct pki_ext_info has room for as a name. */
#define LONG_OID "1.3.6.1.4.1.99999.1234567.1234567.1234567.1234567.1"

static int
setup(void **state)
{
    return pki_fixture_issuer_setup(state, "Info Test", PUBLIC_URL);
}

/* Issues for tests/data/<name>; the caller frees the result. */
static struct pki_cert *
issue(const struct pki_fixture_issuer *f, const char *name,
      enum pki_profile profile)
{
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    struct pki_issue req;
    size_t len = 0;
    uint8_t *buf = test_read_file(name, &len);

    assert_non_null(buf);
    assert_wd_err(pki_csr_parse(buf, len, &csr), WD_OK);
    free(buf);
    assert_wd_err(pki_serial_new(serial), WD_OK);
    req.csr = csr;
    req.profile = profile;
    req.serial = serial;
    req.validity_s = 90 * DAY_S;
    req.now = f->now;
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    pki_csr_free(csr);
    return cert;
}

/* pki_cert_info_get on a DER that must decode; the caller frees it. */
static struct pki_cert_info *
info_of(const uint8_t *der, size_t len)
{
    struct pki_cert_info *info = NULL;

    assert_wd_err(pki_cert_info_get(der, len, &info), WD_OK);
    assert_non_null(info);
    return info;
}

/* The DER of a PEM certificate (root, intermediate); gnutls_free it. */
static gnutls_datum_t
der_of_pem(const char *pem)
{
    gnutls_x509_crt_t crt = pki_fixture_crt_pem(pem);
    gnutls_datum_t der = { NULL, 0 };

    assert_non_null(crt);
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der),
                     0);
    gnutls_x509_crt_deinit(crt);
    return der;
}

/* The extension called name; fails the test if there is none. */
static const struct pki_ext_info *
ext_named(const struct pki_cert_info *info, const char *name)
{
    size_t i;

    for (i = 0; i < info->n_exts; i++) {
        if (strcmp(info->exts[i].name, name) == 0) {
            return &info->exts[i];
        }
    }
    fail_msg("no extension %s", name);
    return NULL;
}

/* Checks the extension called name: its OID, criticality and text. */
static void
assert_ext(const struct pki_cert_info *info, const char *name, const char *oid,
           bool critical, const char *value)
{
    const struct pki_ext_info *ext = ext_named(info, name);

    assert_string_equal(ext->oid, oid);
    assert_int_equal(ext->critical, critical);
    assert_string_equal(ext->value, value);
}

/* A key identifier as openssl prints it: "AB:CD:...". */
static void
key_id_text(const uint8_t *id, size_t len, char *out)
{
    size_t i;

    out[0] = '\0';
    for (i = 0; i < len; i++) {
        sprintf(out + 3 * i, i + 1 < len ? "%02X:" : "%02X", id[i]);
    }
}

/* Lowercase hex of a digest of der, computed here with GnuTLS. */
static void
digest_hex(gnutls_digest_algorithm_t alg, const uint8_t *der, size_t len,
           char *out)
{
    uint8_t digest[64];
    size_t i;

    assert_int_equal(gnutls_hash_fast(alg, der, len, digest), 0);
    for (i = 0; i < gnutls_hash_get_len(alg); i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
}

/* A v3 certificate for CN=crafted.example signed by the fixture's key,
 * to which a test adds extensions before crafted_der. */
static gnutls_x509_crt_t
crafted_new(const struct pki_fixture_issuer *f)
{
    static const uint8_t serial[] = { 0x01 };
    gnutls_x509_crt_t crt = NULL;

    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
    assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)),
                     0);
    assert_int_equal(gnutls_x509_crt_set_activation_time(crt, f->now), 0);
    assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, f->now + DAY_S),
                     0);
    assert_int_equal(gnutls_x509_crt_set_dn_by_oid(
                         crt, GNUTLS_OID_X520_COMMON_NAME, 0, "crafted.example",
                         strlen("crafted.example")),
                     0);
    assert_int_equal(gnutls_x509_crt_set_key(crt, f->key), 0);
    return crt;
}

/* Self-signs crt, frees it and returns its DER (gnutls_free). */
static gnutls_datum_t
crafted_der(const struct pki_fixture_issuer *f, gnutls_x509_crt_t crt)
{
    gnutls_datum_t der = { NULL, 0 };

    assert_int_equal(
        gnutls_x509_crt_sign2(crt, crt, f->key, GNUTLS_DIG_SHA256, 0), 0);
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der),
                     0);
    gnutls_x509_crt_deinit(crt);
    return der;
}

/* Adds an extension with a raw DER value. */
static void
add_raw(gnutls_x509_crt_t crt, const char *oid, const uint8_t *value,
        size_t len, bool critical)
{
    assert_int_equal(
        gnutls_x509_crt_set_extension_by_oid(crt, oid, value, len, critical),
        0);
}

static void
test_pki_cert_info_get_reads_names_serial_and_validity_of_a_leaf(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    struct pki_cert *cert =
        issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);

    assert_string_equal(info->subject, "CN=p256.example.com");
    assert_string_equal(info->issuer,
                        "CN=Info Test Intermediate CA,O=Info Test");
    assert_string_equal(info->serial, cert->serial);
    assert_int_equal(info->version, 3);
    assert_int_equal(info->not_before, f->now - 300);
    assert_int_equal(info->not_after, f->now + 90 * DAY_S);
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_names_an_ecdsa_p256_key_and_signature(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);

    assert_string_equal(info->key_algorithm, "ECDSA");
    assert_int_equal(info->key_bits, 256);
    assert_string_equal(info->key_curve, "P-256");
    assert_string_equal(info->signature_algorithm, "ECDSA-SHA256");
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_lists_the_extensions_in_their_order(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-sans-mixed.pem", PKI_PROFILE_SERVER_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);
    gnutls_x509_crt_t crt =
        pki_fixture_crt_import(cert->der, cert->der_len, GNUTLS_X509_FMT_DER);
    char oid[128];
    size_t size;
    unsigned critical;
    size_t i;

    assert_non_null(crt);
    for (i = 0;; i++) {
        size = sizeof(oid);
        if (gnutls_x509_crt_get_extension_info(crt, (unsigned)i, oid, &size,
                                               &critical) < 0) {
            break;
        }
        assert_true(i < info->n_exts);
        assert_string_equal(info->exts[i].oid, oid);
        assert_int_equal(info->exts[i].critical, critical != 0);
        assert_non_null(info->exts[i].value);
        assert_string_not_equal(info->exts[i].name, oid); /* all known */
    }
    assert_int_equal(i, info->n_exts);
    assert_int_equal(info->n_exts, 8);
    gnutls_x509_crt_deinit(crt);
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_renders_what_issuance_writes(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-sans-mixed.pem", PKI_PROFILE_SERVER_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);

    /* RFC 5280 4.2.1.9 and 4.2.1.3: both critical in a leaf */
    assert_ext(info, "basicConstraints", "2.5.29.19", true, "CA:FALSE");
    assert_ext(info, "keyUsage", "2.5.29.15", true, "digitalSignature");
    assert_ext(info, "extKeyUsage", "2.5.29.37", false,
               "serverAuth, clientAuth");
    assert_ext(info, "subjectAltName", "2.5.29.17", false,
               "DNS:mixed.example.com, DNS:*.mixed.example.com, "
               "IP:192.0.2.10, IP:2001:db8::10, email:ops@example.com, "
               "URI:spiffe://example.org/ns/x");
    assert_ext(info, "cRLDistributionPoints", "2.5.29.31", false,
               "URI:" PUBLIC_URL "/crl");
    assert_ext(info, "authorityInfoAccess", "1.3.6.1.5.5.7.1.1", false,
               "OCSP - URI:" PUBLIC_URL "/ocsp; CA Issuers - URI:" PUBLIC_URL
               "/intermediate.crt");
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_prints_key_identifiers_as_openssl_does(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    struct pki_cert *cert =
        issue(f, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);
    gnutls_x509_crt_t crt =
        pki_fixture_crt_import(cert->der, cert->der_len, GNUTLS_X509_FMT_DER);
    uint8_t id[64];
    size_t id_len = sizeof(id);
    unsigned critical = 1;
    char want[3 * sizeof(id)];

    assert_non_null(crt);
    assert_int_equal(
        gnutls_x509_crt_get_subject_key_id(crt, id, &id_len, &critical), 0);
    key_id_text(id, id_len, want);
    assert_int_equal(strlen(want), 59); /* SHA-1: 20 bytes */
    assert_ext(info, "subjectKeyIdentifier", "2.5.29.14", false, want);
    /* RFC 5280 4.2.1.1: the AKI repeats the intermediate's SKI */
    id_len = sizeof(id);
    assert_int_equal(gnutls_x509_crt_get_subject_key_id(f->intermediate, id,
                                                        &id_len, &critical),
                     0);
    key_id_text(id, id_len, want);
    assert_ext(info, "authorityKeyIdentifier", "2.5.29.35", false, want);
    gnutls_x509_crt_deinit(crt);
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_reads_the_sans_as_pki_cert_parse_does(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-sans-mixed.pem", PKI_PROFILE_SERVER_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);
    size_t i;

    assert_int_equal(info->n_sans, 6);
    assert_int_equal(info->n_sans, cert->n_sans);
    for (i = 0; i < info->n_sans; i++) {
        assert_int_equal(info->sans[i].type, cert->sans[i].type);
        assert_string_equal(info->sans[i].value, cert->sans[i].value);
    }
    assert_int_equal(info->sans[2].type, PKI_SAN_IP);
    assert_string_equal(info->sans[2].value, "192.0.2.10");
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_fingerprints_the_der_with_sha256_and_sha1(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);
    char sha256[65];
    char sha1[41];

    digest_hex(GNUTLS_DIG_SHA256, cert->der, cert->der_len, sha256);
    digest_hex(GNUTLS_DIG_SHA1, cert->der, cert->der_len, sha1);
    assert_string_equal(info->fingerprint_sha256, sha256);
    assert_string_equal(info->fingerprint_sha1, sha1);
    assert_string_equal(info->fingerprint_sha256, cert->fingerprint);
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_shows_the_intermediate_as_a_ca_of_pathlen_0(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_datum_t der = der_of_pem(f->made.intermediate_pem);
    struct pki_cert_info *info = info_of(der.data, der.size);

    assert_string_equal(info->subject,
                        "CN=Info Test Intermediate CA,O=Info Test");
    assert_string_equal(info->issuer, "CN=Info Test Root CA,O=Info Test");
    assert_int_equal(info->not_after, pki_ca_not_after(f->ca));
    assert_ext(info, "basicConstraints", "2.5.29.19", true,
               "CA:TRUE, pathlen:0");
    assert_ext(info, "keyUsage", "2.5.29.15", true, "keyCertSign, cRLSign");
    assert_ext(info, "cRLDistributionPoints", "2.5.29.31", false,
               "URI:" PUBLIC_URL "/root.crl");
    assert_int_equal(info->n_sans, 0);
    assert_null(info->sans);
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

static void
test_pki_cert_info_get_shows_the_root_as_a_ca_without_pathlen(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_datum_t der = der_of_pem(f->made.root_pem);
    struct pki_cert_info *info = info_of(der.data, der.size);

    assert_string_equal(info->subject, "CN=Info Test Root CA,O=Info Test");
    assert_string_equal(info->issuer, info->subject);
    assert_string_equal(info->key_algorithm, "ECDSA");
    assert_string_equal(info->key_curve, "P-256");
    assert_ext(info, "basicConstraints", "2.5.29.19", true, "CA:TRUE");
    assert_ext(info, "keyUsage", "2.5.29.15", true, "keyCertSign, cRLSign");
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

static void
test_pki_cert_info_get_names_an_rsa_key_and_its_size(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-rsa-2048.pem", PKI_PROFILE_SERVER);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);

    assert_string_equal(info->key_algorithm, "RSA");
    assert_int_equal(info->key_bits, 2048);
    assert_string_equal(info->key_curve, "");
    assert_string_equal(info->signature_algorithm, "ECDSA-SHA256");
    assert_ext(info, "keyUsage", "2.5.29.15", true,
               "digitalSignature, keyEncipherment");
    assert_ext(info, "extKeyUsage", "2.5.29.37", false, "serverAuth");
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_names_an_ed25519_key(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-ed25519.pem", PKI_PROFILE_CLIENT);
    struct pki_cert_info *info = info_of(cert->der, cert->der_len);

    assert_string_equal(info->key_algorithm, "Ed25519");
    assert_int_equal(info->key_bits, 256);
    assert_string_equal(info->key_curve, ""); /* the algorithm names it */
    assert_ext(info, "extKeyUsage", "2.5.29.37", false, "clientAuth");
    pki_cert_info_free(info);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_shows_a_responder_for_ocsp_without_checks(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    struct pki_cert *cert = NULL;
    struct pki_cert_info *info;
    char *key_pem = NULL;

    assert_wd_err(
        pki_ocsp_responder_issue(f->ca, f->now, 30 * DAY_S, &key_pem, &cert),
        WD_OK);
    info = info_of(cert->der, cert->der_len);
    assert_ext(info, "extKeyUsage", "2.5.29.37", false, "OCSPSigning");
    /* RFC 6960 4.2.2.2.1: presence says it all */
    assert_ext(info, "ocspNoCheck", "1.3.6.1.5.5.7.48.1.5", false, "");
    pki_cert_info_free(info);
    pki_fixture_key_free(key_pem);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_get_renders_policies_constraints_and_unknown_ekus(
    void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_x509_crt_t crt = crafted_new(f);
    gnutls_x509_name_constraints_t nc = NULL;
    struct gnutls_x509_policy_st policy;
    static const uint8_t net[] = { 10, 0, 0, 0, 255, 0, 0, 0 };
    gnutls_datum_t d;
    struct pki_cert_info *info;

    memset(&policy, 0, sizeof(policy));
    policy.oid = (char *)"2.23.140.1.2.1";
    assert_int_equal(gnutls_x509_crt_set_policy(crt, &policy, 0), 0);
    policy.oid = (char *)"1.3.6.1.4.1.99999.7";
    assert_int_equal(gnutls_x509_crt_set_policy(crt, &policy, 0), 0);
    assert_int_equal(
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_CODE_SIGNING, 0), 0);
    assert_int_equal(
        gnutls_x509_crt_set_key_purpose_oid(crt, "1.3.6.1.4.1.99999.9", 0), 0);
    assert_int_equal(gnutls_x509_name_constraints_init(&nc), 0);
    d.data = (unsigned char *)"example.com";
    d.size = 11;
    assert_int_equal(
        gnutls_x509_name_constraints_add_permitted(nc, GNUTLS_SAN_DNSNAME, &d),
        0);
    d.data = (unsigned char *)net;
    d.size = sizeof(net);
    assert_int_equal(gnutls_x509_name_constraints_add_permitted(
                         nc, GNUTLS_SAN_IPADDRESS, &d),
                     0);
    d.data = (unsigned char *)"bad.example.com";
    d.size = 15;
    assert_int_equal(
        gnutls_x509_name_constraints_add_excluded(nc, GNUTLS_SAN_DNSNAME, &d),
        0);
    assert_int_equal(gnutls_x509_crt_set_name_constraints(crt, nc, 1), 0);
    gnutls_x509_name_constraints_deinit(nc);
    d = crafted_der(f, crt);
    info = info_of(d.data, d.size);
    assert_ext(info, "certificatePolicies", "2.5.29.32", false,
               "2.23.140.1.2.1, 1.3.6.1.4.1.99999.7");
    assert_ext(info, "nameConstraints", "2.5.29.30", true,
               "Permitted: DNS:example.com, IP:10.0.0.0/255.0.0.0; "
               "Excluded: DNS:bad.example.com");
    assert_ext(info, "extKeyUsage", "2.5.29.37", false,
               "codeSigning, 1.3.6.1.4.1.99999.9");
    assert_string_equal(info->subject, "CN=crafted.example");
    assert_string_equal(info->issuer, "CN=crafted.example");
    assert_string_equal(info->serial, "01"); /* whole bytes */
    pki_cert_info_free(info);
    gnutls_free(d.data);
}

static void
test_pki_cert_info_get_shows_an_unknown_extension_as_hex(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_x509_crt_t crt = crafted_new(f);
    static const uint8_t value[] = { 0x04, 0x03, 0x01, 0xab, 0xff };
    gnutls_datum_t der;
    struct pki_cert_info *info;

    add_raw(crt, "1.3.6.1.4.1.99999.42", value, sizeof(value), true);
    add_raw(crt, LONG_OID, value, sizeof(value), false);
    der = crafted_der(f, crt);
    info = info_of(der.data, der.size);
    assert_ext(info, "1.3.6.1.4.1.99999.42", "1.3.6.1.4.1.99999.42", true,
               "040301abff");
    /* the name has room for 47 characters; the OID keeps them all */
    assert_int_equal(info->n_exts, 2);
    assert_string_equal(info->exts[1].oid, LONG_OID);
    assert_string_equal(info->exts[1].name,
                        "1.3.6.1.4.1.99999.1234567.1234567.1234567.12...");
    assert_string_equal(info->exts[1].value, "040301abff");
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

static void
test_pki_cert_info_get_cuts_a_long_value_at_4_kib(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_x509_crt_t crt = crafted_new(f);
    uint8_t value[3004] = { 0x04, 0x82, 0x0b, 0xb8 }; /* 3000 bytes */
    const struct pki_ext_info *ext;
    gnutls_datum_t der;
    struct pki_cert_info *info;

    memset(value + 4, 0xee, sizeof(value) - 4);
    add_raw(crt, "1.3.6.1.4.1.99999.43", value, sizeof(value), false);
    der = crafted_der(f, crt);
    info = info_of(der.data, der.size);
    ext = ext_named(info, "1.3.6.1.4.1.99999.43");
    assert_int_equal(strlen(ext->value), 4096);
    assert_true(strncmp(ext->value, "04820bb8eeee", 12) == 0);
    assert_string_equal(ext->value + 4093, "...");
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

static void
test_pki_cert_info_get_shows_an_undecodable_known_extension_as_hex(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_x509_crt_t crt = crafted_new(f);
    static const uint8_t not_a_sequence[] = { 0x04, 0x01, 0x00 };
    gnutls_datum_t der;
    struct pki_cert_info *info;

    add_raw(crt, "2.5.29.19", not_a_sequence, sizeof(not_a_sequence), true);
    der = crafted_der(f, crt);
    info = info_of(der.data, der.size);
    assert_ext(info, "basicConstraints", "2.5.29.19", true, "040100");
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

static void
test_pki_cert_info_get_renders_other_general_names(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_x509_crt_t crt = crafted_new(f);
    /* an otherName the SAN checks refuse, then a good DNS name */
    static const uint8_t san[] = {
        0x30, 0x19, 0xa0, 0x0c, 0x06, 0x03, 0x2a, 0x03, 0x04,
        0xa0, 0x05, 0x0c, 0x03, 0x61, 0x62, 0x63, 0x82, 0x09,
        'a',  '.',  'e',  'x',  'a',  'm',  'p',  'l',  'e',
    };
    gnutls_datum_t der;
    struct pki_cert_info *info;

    add_raw(crt, "2.5.29.17", san, sizeof(san), false);
    der = crafted_der(f, crt);
    info = info_of(der.data, der.size);
    assert_ext(info, "subjectAltName", "2.5.29.17", false,
               "othername:<unsupported>, DNS:a.example");
    /* pki_sans_decode refuses the otherName: no names to list */
    assert_int_equal(info->n_sans, 0);
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

/* pki_cert_info_get on a certificate with one raw extension added. */
static enum wd_err
info_with_ext(const struct pki_fixture_issuer *f, const char *oid,
              const uint8_t *value, size_t len, struct pki_cert_info **out)
{
    gnutls_x509_crt_t crt = crafted_new(f);
    gnutls_datum_t der;
    enum wd_err rc;

    add_raw(crt, oid, value, len, false);
    der = crafted_der(f, crt);
    rc = pki_cert_info_get(der.data, der.size, out);
    gnutls_free(der.data);
    return rc;
}

static void
test_pki_cert_info_get_refuses_a_name_holding_a_nul(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    /* SAN with dNSName "a\0.example" */
    static const uint8_t san[] = { 0x30, 0x0c, 0x82, 0x0a, 'a', 0x00, '.',
                                   'e',  'x',  'a',  'm',  'p', 'l',  'e' };
    /* CRL DP with the URI "http://a\0b/" */
    static const uint8_t crl_dp[] = { 0x30, 0x14, 0x30, 0x12, 0xa0, 0x10,
                                      0xa0, 0x0e, 0x86, 0x0c, 'h',  't',
                                      't',  'p',  ':',  '/',  '/',  'a',
                                      0x00, 'b',  '/',  '/' };
    struct pki_cert_info *info = NULL;

    assert_wd_err(info_with_ext(f, "2.5.29.17", san, sizeof(san), &info),
                  WD_E_INTERNAL);
    assert_null(info);
    assert_wd_err(info_with_ext(f, "2.5.29.31", crl_dp, sizeof(crl_dp), &info),
                  WD_E_INTERNAL);
    assert_null(info);
}

static void
test_pki_cert_info_get_shows_a_subject_holding_a_nul_as_hex(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    gnutls_x509_crt_t crt = crafted_new(f);
    struct pki_cert_info *info;
    gnutls_datum_t der;

    assert_int_equal(
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                      "ev\0il", 5),
        0);
    der = crafted_der(f, crt);
    info = info_of(der.data, der.size);
    /* RFC 4514 2.4: GnuTLS writes such a value as its BER in hex */
    assert_string_equal(info->subject, "O=#0c05657600696c,CN=crafted.example");
    pki_cert_info_free(info);
    gnutls_free(der.data);
}

static void
test_pki_cert_info_get_refuses_what_is_no_certificate(void **state)
{
    static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
    static const uint8_t text[] = "-----BEGIN CERTIFICATE-----";
    struct pki_cert_info *info = NULL;

    (void)state;
    assert_wd_err(pki_cert_info_get(junk, sizeof(junk), &info), WD_E_INTERNAL);
    assert_null(info);
    assert_wd_err(pki_cert_info_get(text, sizeof(text) - 1, &info),
                  WD_E_INTERNAL);
    assert_null(info);
    assert_wd_err(pki_cert_info_get(junk, 0, &info), WD_E_INTERNAL);
    assert_null(info);
    assert_wd_err(pki_cert_info_get(NULL, 0, &info), WD_E_INTERNAL);
    assert_null(info);
}

static void
test_pki_cert_info_get_refuses_a_truncated_or_padded_certificate(void **state)
{
    struct pki_cert *cert =
        issue(*state, "csr-ecdsa-p256.pem", PKI_PROFILE_SERVER);
    struct pki_cert_info *info = NULL;
    uint8_t *padded = malloc(cert->der_len + 1);

    assert_non_null(padded);
    assert_wd_err(pki_cert_info_get(cert->der, cert->der_len - 1, &info),
                  WD_E_INTERNAL);
    assert_null(info);
    assert_wd_err(pki_cert_info_get(cert->der, cert->der_len / 2, &info),
                  WD_E_INTERNAL);
    assert_null(info);
    /* nothing may follow the certificate */
    memcpy(padded, cert->der, cert->der_len);
    padded[cert->der_len] = 0x00;
    assert_wd_err(pki_cert_info_get(padded, cert->der_len + 1, &info),
                  WD_E_INTERNAL);
    assert_null(info);
    free(padded);
    pki_cert_free(cert);
}

static void
test_pki_cert_info_free_accepts_null(void **state)
{
    (void)state;
    pki_cert_info_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_cert_info_get_reads_names_serial_and_validity_of_a_leaf),
        cmocka_unit_test(
            test_pki_cert_info_get_names_an_ecdsa_p256_key_and_signature),
        cmocka_unit_test(
            test_pki_cert_info_get_lists_the_extensions_in_their_order),
        cmocka_unit_test(test_pki_cert_info_get_renders_what_issuance_writes),
        cmocka_unit_test(
            test_pki_cert_info_get_prints_key_identifiers_as_openssl_does),
        cmocka_unit_test(
            test_pki_cert_info_get_reads_the_sans_as_pki_cert_parse_does),
        cmocka_unit_test(
            test_pki_cert_info_get_fingerprints_the_der_with_sha256_and_sha1),
        cmocka_unit_test(
            test_pki_cert_info_get_shows_the_intermediate_as_a_ca_of_pathlen_0),
        cmocka_unit_test(
            test_pki_cert_info_get_shows_the_root_as_a_ca_without_pathlen),
        cmocka_unit_test(test_pki_cert_info_get_names_an_rsa_key_and_its_size),
        cmocka_unit_test(test_pki_cert_info_get_names_an_ed25519_key),
        cmocka_unit_test(
            test_pki_cert_info_get_shows_a_responder_for_ocsp_without_checks),
        cmocka_unit_test(
            test_pki_cert_info_get_renders_policies_constraints_and_unknown_ekus),
        cmocka_unit_test(
            test_pki_cert_info_get_shows_an_unknown_extension_as_hex),
        cmocka_unit_test(test_pki_cert_info_get_cuts_a_long_value_at_4_kib),
        cmocka_unit_test(
            test_pki_cert_info_get_shows_an_undecodable_known_extension_as_hex),
        cmocka_unit_test(test_pki_cert_info_get_renders_other_general_names),
        cmocka_unit_test(test_pki_cert_info_get_refuses_a_name_holding_a_nul),
        cmocka_unit_test(
            test_pki_cert_info_get_shows_a_subject_holding_a_nul_as_hex),
        cmocka_unit_test(test_pki_cert_info_get_refuses_what_is_no_certificate),
        cmocka_unit_test(
            test_pki_cert_info_get_refuses_a_truncated_or_padded_certificate),
        cmocka_unit_test(test_pki_cert_info_free_accepts_null),
    };

    return cmocka_run_group_tests(tests, setup, pki_fixture_issuer_teardown);
}
