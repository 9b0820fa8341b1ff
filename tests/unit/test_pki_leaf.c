/*
 * Unit tests for server/pki/pki_leaf.c, the leaf written as DER by hand:
 * for requests of every key type and shape of name, its TBSCertificate
 * must be byte for byte what GnuTLS's certificate API writes from the same
 * request, serial, time and profile (built here the way Warden built
 * leaves before), and the struct pki_cert it hands back must be what
 * pki_cert_parse reads from the bytes. Renewal is held to the same. One
 * throwaway ECDSA P-256 CA is built in the group setup.
 */
#include "support.h"

#include <arpa/inet.h>
#include <libtasn1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"
#include "../../server/pki/pki_priv.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"
#define DAY_S (24 * 3600)
#define BACKDATE_S 300

static int
setup(void **state)
{
    return pki_fixture_issuer_setup(state, "Leaf Test", PUBLIC_URL);
}

/* The checked names as GnuTLS encodes a subjectAltName value. */
static void
gnutls_sans(const struct pki_csr *csr, gnutls_datum_t *out)
{
    gnutls_subject_alt_names_t names;
    uint8_t ip[16];
    gnutls_datum_t d;
    unsigned type = 0;
    size_t i;

    assert_int_equal(gnutls_subject_alt_names_init(&names), 0);
    for (i = 0; i < csr->n_sans; i++) {
        d.data = (unsigned char *)csr->sans[i].value;
        d.size = (unsigned)strlen(csr->sans[i].value);
        switch (csr->sans[i].type) {
        case PKI_SAN_DNS:
            type = GNUTLS_SAN_DNSNAME;
            break;
        case PKI_SAN_EMAIL:
            type = GNUTLS_SAN_RFC822NAME;
            break;
        case PKI_SAN_URI:
            type = GNUTLS_SAN_URI;
            break;
        case PKI_SAN_IP:
            type = GNUTLS_SAN_IPADDRESS;
            if (inet_pton(AF_INET, csr->sans[i].value, ip) == 1) {
                d.size = 4;
            } else {
                assert_int_equal(inet_pton(AF_INET6, csr->sans[i].value, ip),
                                 1);
                d.size = 16;
            }
            d.data = ip;
            break;
        }
        assert_int_equal(gnutls_subject_alt_names_set(names, type, &d, NULL),
                         0);
    }
    assert_int_equal(gnutls_x509_ext_export_subject_alt_names(names, out), 0);
    gnutls_subject_alt_names_deinit(names);
}

/* The serial's INTEGER content as GnuTLS is given it: a 0x00 in front of
 * a set top bit. */
static size_t
serial_bytes(const char *hex, uint8_t out[21])
{
    size_t n = strlen(hex) / 2;
    size_t o = 0;
    unsigned v;
    size_t i;

    for (i = 0; i < n; i++) {
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        if (i == 0 && v >= 0x80) {
            out[o++] = 0;
        }
        out[o++] = (uint8_t)v;
    }
    return o;
}

/*
 * The leaf GnuTLS's certificate API builds from csr (its subject and key
 * through gnutls_x509_crt_set_crq), with the extensions in the order and
 * form PRODUCT.md lists; signed by f->key under the intermediate's name.
 */
static gnutls_x509_crt_t
gnutls_leaf(const struct pki_fixture_issuer *f, const struct pki_csr *csr,
            const char *serial, enum pki_profile profile, uint64_t validity_s)
{
    gnutls_x509_crt_t crt;
    gnutls_x509_crq_t crq;
    gnutls_datum_t san = { NULL, 0 };
    gnutls_datum_t d;
    uint8_t buf[64];
    size_t size;
    unsigned usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
    gnutls_privkey_t key;

    /* GnuTLS's own reading of the request the leaf was made from */
    d.data = csr->der;
    d.size = (unsigned)csr->der_len;
    assert_int_equal(gnutls_x509_crq_init(&crq), 0);
    assert_int_equal(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER), 0);
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_set_crq(crt, crq), 0);
    if (csr->n_sans > 0) {
        gnutls_sans(csr, &san);
        assert_int_equal(
            gnutls_x509_crt_set_extension_by_oid(
                crt, "2.5.29.17", san.data, san.size, csr->subject[0] == '\0'),
            0);
        gnutls_free(san.data);
    }
    assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
    size = serial_bytes(serial, buf);
    assert_int_equal(gnutls_x509_crt_set_serial(crt, buf, size), 0);
    assert_int_equal(
        gnutls_x509_crt_set_activation_time(crt, f->now - BACKDATE_S), 0);
    assert_int_equal(
        gnutls_x509_crt_set_expiration_time(crt, f->now + (time_t)validity_s),
        0);
    assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), 0);
    if (strncmp(csr->key_type, "rsa-", 4) == 0) {
        usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
    }
    assert_int_equal(gnutls_x509_crt_set_key_usage(crt, usage), 0);
    size = sizeof(buf);
    assert_int_equal(
        gnutls_x509_crq_get_key_id(crq, GNUTLS_KEYID_USE_SHA1, buf, &size), 0);
    gnutls_x509_crq_deinit(crq);
    assert_int_equal(gnutls_x509_crt_set_subject_key_id(crt, buf, size), 0);
    size = sizeof(buf);
    assert_int_equal(
        gnutls_x509_crt_get_subject_key_id(f->intermediate, buf, &size, NULL),
        0);
    assert_int_equal(gnutls_x509_crt_set_authority_key_id(crt, buf, size), 0);
    assert_int_equal(gnutls_x509_crt_set_crl_dist_points2(
                         crt, GNUTLS_SAN_URI, PUBLIC_URL "/crl",
                         sizeof(PUBLIC_URL "/crl") - 1, 0),
                     0);
    d.data = (unsigned char *)PUBLIC_URL "/ocsp";
    d.size = sizeof(PUBLIC_URL "/ocsp") - 1;
    assert_int_equal(
        gnutls_x509_crt_set_authority_info_access(crt, GNUTLS_IA_OCSP_URI, &d),
        0);
    d.data = (unsigned char *)PUBLIC_URL "/intermediate.crt";
    d.size = sizeof(PUBLIC_URL "/intermediate.crt") - 1;
    assert_int_equal(gnutls_x509_crt_set_authority_info_access(
                         crt, GNUTLS_IA_CAISSUERS_URI, &d),
                     0);
    if (profile != PKI_PROFILE_CLIENT) {
        assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(
                             crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                         0);
    }
    if (profile != PKI_PROFILE_SERVER) {
        assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(
                             crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
                         0);
    }
    assert_int_equal(gnutls_privkey_init(&key), 0);
    assert_int_equal(gnutls_privkey_import_x509(key, f->key, 0), 0);
    assert_int_equal(gnutls_x509_crt_privkey_sign(crt, f->intermediate, key,
                                                  GNUTLS_DIG_SHA256, 0),
                     0);
    gnutls_privkey_deinit(key);
    return crt;
}

/* The TBSCertificate of a DER certificate, header included. */
static void
tbs_of(const uint8_t *der, size_t len, const uint8_t **tbs, size_t *tbs_len)
{
    int len_len = 0;
    long outer;
    long inner;

    assert_true(len > 2 && der[0] == 0x30);
    outer = asn1_get_length_der(der + 1, (int)len - 1, &len_len);
    assert_true(outer > 0);
    *tbs = der + 1 + len_len;
    assert_int_equal((*tbs)[0], 0x30);
    inner = asn1_get_length_der(*tbs + 1, (int)(outer - 1), &len_len);
    assert_true(inner > 0);
    *tbs_len = 1 + (size_t)len_len + (size_t)inner;
}

/* The struct pki_cert handed back equals pki_cert_parse's reading. */
static void
assert_described_as_parsed(const struct pki_cert *cert)
{
    struct pki_cert *again = NULL;
    size_t i;

    assert_wd_err(pki_cert_parse(cert->der, cert->der_len, &again), WD_OK);
    assert_string_equal(cert->serial, again->serial);
    assert_string_equal(cert->pem, again->pem);
    assert_string_equal(cert->subject, again->subject);
    if (again->cn == NULL) {
        assert_null(cert->cn);
    } else {
        assert_non_null(cert->cn);
        assert_string_equal(cert->cn, again->cn);
    }
    assert_int_equal(cert->n_sans, again->n_sans);
    for (i = 0; i < cert->n_sans; i++) {
        assert_int_equal(cert->sans[i].type, again->sans[i].type);
        assert_string_equal(cert->sans[i].value, again->sans[i].value);
    }
    assert_string_equal(cert->key_type, again->key_type);
    assert_int_equal(cert->profile, again->profile);
    assert_int_equal(cert->not_before, again->not_before);
    assert_int_equal(cert->not_after, again->not_after);
    assert_string_equal(cert->fingerprint, again->fingerprint);
    pki_cert_free(again);
}

/* Ours and GnuTLS's leaf for csr name, compared; ours returned. */
static struct pki_cert *
issue_and_compare(const struct pki_fixture_issuer *f, const char *name,
                  enum pki_profile profile, const char *serial)
{
    struct pki_csr *csr = pki_fixture_csr(name);
    struct pki_cert *cert = NULL;
    struct pki_issue req = {
        .csr = csr,
        .profile = profile,
        .serial = serial,
        .validity_s = 90 * DAY_S,
        .now = f->now,
    };
    gnutls_x509_crt_t theirs;
    gnutls_datum_t der = { NULL, 0 };
    const uint8_t *tbs_ours;
    const uint8_t *tbs_theirs;
    size_t len_ours;
    size_t len_theirs;

    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    theirs = gnutls_leaf(f, csr, serial, profile, req.validity_s);
    assert_int_equal(gnutls_x509_crt_export2(theirs, GNUTLS_X509_FMT_DER, &der),
                     0);
    tbs_of(cert->der, cert->der_len, &tbs_ours, &len_ours);
    tbs_of(der.data, der.size, &tbs_theirs, &len_theirs);
    assert_int_equal(len_ours, len_theirs);
    assert_memory_equal(tbs_ours, tbs_theirs, len_ours);
    assert_described_as_parsed(cert);
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(theirs);
    pki_csr_free(csr);
    return cert;
}

static void
test_pki_leaf_writes_what_gnutls_writes_for_every_key_type(void **state)
{
    static const char *const csrs[] = {
        "csr-ecdsa-p256.pem", "csr-ecdsa-p384.pem", "csr-ecdsa-p521.pem",
        "csr-ed25519.pem",    "csr-rsa-2048.pem",
    };
    size_t i;

    for (i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++) {
        pki_cert_free(issue_and_compare(*state, csrs[i], PKI_PROFILE_SERVER,
                                        "5a0b1c2d3e4f"));
    }
}

static void
test_pki_leaf_writes_what_gnutls_writes_for_every_shape_of_name(void **state)
{
    static const char *const csrs[] = {
        "csr-sans-mixed.pem",       "csr-empty-subject-san.pem",
        "csr-cn-only-host.pem",     "csr-cn-only-ip.pem",
        "csr-new-label.pem",        "csr-asks-ca-true.pem",
        "csr-cn-only-not-host.pem",
    };
    size_t i;

    for (i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++) {
        pki_cert_free(issue_and_compare(*state, csrs[i],
                                        PKI_PROFILE_SERVER_CLIENT,
                                        "0102030405060708090a0b0c0d0e0f10"));
    }
}

static void
test_pki_leaf_writes_what_gnutls_writes_for_every_profile_and_serial(
    void **state)
{
    /* a set top bit (a 0x00 goes in front), a leading zero byte (dropped
     * from the hex form), the longest serial RFC 5280 allows */
    static const char *const serials[] = {
        "80",
        "00ff",
        "0fedcba987654321",
        "7fffffffffffffffffffffffffffffffffffffff",
    };
    static const enum pki_profile profiles[] = {
        PKI_PROFILE_SERVER,
        PKI_PROFILE_CLIENT,
        PKI_PROFILE_SERVER_CLIENT,
    };
    size_t i;
    size_t j;

    for (i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
        for (j = 0; j < sizeof(profiles) / sizeof(profiles[0]); j++) {
            pki_cert_free(issue_and_compare(*state, "csr-ecdsa-p256.pem",
                                            profiles[j], serials[i]));
        }
    }
}

static void
test_pki_leaf_renewal_keeps_subject_key_and_names_byte_for_byte(void **state)
{
    const struct pki_fixture_issuer *f = *state;
    struct pki_cert *old =
        issue_and_compare(f, "csr-sans-mixed.pem", PKI_PROFILE_SERVER, "0a01");
    struct pki_cert *renewed = NULL;
    gnutls_x509_crt_t a;
    gnutls_x509_crt_t b;
    gnutls_datum_t ra = { NULL, 0 };
    gnutls_datum_t rb = { NULL, 0 };
    gnutls_datum_t sa = { NULL, 0 };
    gnutls_datum_t sb = { NULL, 0 };

    assert_wd_err(pki_cert_renew(f->ca, old->der, old->der_len,
                                 PKI_PROFILE_CLIENT, "0a02", 30 * DAY_S,
                                 f->now + 60, &renewed),
                  WD_OK);
    assert_described_as_parsed(renewed);
    assert_string_equal(renewed->serial, "0a02");
    assert_int_equal(renewed->profile, PKI_PROFILE_CLIENT);
    assert_int_equal(renewed->not_after, f->now + 60 + 30 * DAY_S);
    a = pki_fixture_crt_import(old->der, old->der_len, GNUTLS_X509_FMT_DER);
    b = pki_fixture_crt_import(renewed->der, renewed->der_len,
                               GNUTLS_X509_FMT_DER);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(gnutls_x509_crt_get_raw_dn(a, &ra), 0);
    assert_int_equal(gnutls_x509_crt_get_raw_dn(b, &rb), 0);
    assert_int_equal(ra.size, rb.size);
    assert_memory_equal(ra.data, rb.data, ra.size);
    assert_int_equal(
        gnutls_x509_crt_get_extension_by_oid2(a, "2.5.29.17", 0, &sa, NULL), 0);
    assert_int_equal(
        gnutls_x509_crt_get_extension_by_oid2(b, "2.5.29.17", 0, &sb, NULL), 0);
    assert_int_equal(sa.size, sb.size);
    assert_memory_equal(sa.data, sb.data, sa.size);
    gnutls_free(ra.data);
    gnutls_free(rb.data);
    /* the same key: the same SKI */
    assert_int_equal(
        gnutls_x509_crt_get_extension_by_oid2(a, "2.5.29.14", 0, &ra, NULL), 0);
    assert_int_equal(
        gnutls_x509_crt_get_extension_by_oid2(b, "2.5.29.14", 0, &rb, NULL), 0);
    assert_int_equal(ra.size, rb.size);
    assert_memory_equal(ra.data, rb.data, ra.size);
    gnutls_free(ra.data);
    gnutls_free(rb.data);
    gnutls_free(sa.data);
    gnutls_free(sb.data);
    gnutls_x509_crt_deinit(a);
    gnutls_x509_crt_deinit(b);
    pki_cert_free(renewed);
    pki_cert_free(old);
}

/* The request's Name and key, read raw, are the bytes the leaf carries;
 * every truncation of either is refused. */
static void
test_pki_leaf_subject_and_key_are_read_raw_and_copied_whole(void **state)
{
    struct pki_fixture_issuer *f = *state;
    struct pki_csr *csr = pki_fixture_csr("csr-ecdsa-p256.pem");
    struct pki_cert *cert = NULL;
    struct pki_der_in subject;
    struct pki_der_in spki;
    struct pki_der_in c_subject;
    struct pki_der_in c_spki;
    struct pki_issue req = {
        .csr = csr,
        .profile = PKI_PROFILE_SERVER,
        .serial = "0c",
        .validity_s = 86400,
        .now = f->now,
    };
    size_t n;

    assert_true(
        pki_subject_and_key(csr->der, csr->der_len, false, &subject, &spki));
    assert_int_equal(subject.p[0], 0x30);
    assert_int_equal(spki.len, 91); /* a P-256 SubjectPublicKeyInfo */
    assert_true(spki.p + spki.len <= csr->der + csr->der_len);
    for (n = 0; n < csr->der_len; n++) {
        assert_false(
            pki_subject_and_key(csr->der, n, false, &c_subject, &c_spki));
    }
    /* a request is not a certificate */
    assert_false(
        pki_subject_and_key(csr->der, csr->der_len, true, &c_subject, &c_spki));
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    assert_true(pki_subject_and_key(cert->der, cert->der_len, true, &c_subject,
                                    &c_spki));
    assert_int_equal(c_subject.len, subject.len);
    assert_memory_equal(c_subject.p, subject.p, subject.len);
    assert_int_equal(c_spki.len, spki.len);
    assert_memory_equal(c_spki.p, spki.p, spki.len);
    pki_cert_free(cert);
    pki_csr_free(csr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_leaf_writes_what_gnutls_writes_for_every_key_type),
        cmocka_unit_test(
            test_pki_leaf_writes_what_gnutls_writes_for_every_shape_of_name),
        cmocka_unit_test(
            test_pki_leaf_writes_what_gnutls_writes_for_every_profile_and_serial),
        cmocka_unit_test(
            test_pki_leaf_renewal_keeps_subject_key_and_names_byte_for_byte),
        cmocka_unit_test(
            test_pki_leaf_subject_and_key_are_read_raw_and_copied_whole),
    };

    return cmocka_run_group_tests(tests, setup, pki_fixture_issuer_teardown);
}
