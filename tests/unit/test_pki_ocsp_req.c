/*
 * Unit tests for server/pki/pki_ocsp_req.c (and the key hash of
 * server/pki/pki_ocsp_asn.c): OCSP requests built with GnuTLS, as clients
 * build them, parsed back, and hostile ones refused. Two throwaway CAs,
 * "Main" (whose requests are ours) and "Other", are built in the group
 * setup, with a leaf of Main issued through pki_cert_issue.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>
#include <libtasn1.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"
#define HIGH_SERIAL "ff0102030405060708090a0b0c0d0e0f"

struct fixtures {
    struct pki_ca_new main;
    struct pki_ca_new other;
    struct pki_ca *ca; /* Main, loaded */
    gnutls_x509_crt_t intermediate;
    gnutls_x509_crt_t other_intermediate;
    struct pki_cert *leaf;      /* of Main, fresh serial */
    struct pki_cert *high_leaf; /* of Main, HIGH_SERIAL (DER has a 00) */
    gnutls_x509_crt_t leaf_crt;
    gnutls_x509_crt_t high_leaf_crt;
    gnutls_x509_crt_t other_leaf_crt; /* Other's server certificate */
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
                            &f->other, NULL) != 0) {
        return -1;
    }
    f->leaf = pki_fixture_leaf_issue(f->ca, NULL, f->now);
    f->high_leaf = pki_fixture_leaf_issue(f->ca, HIGH_SERIAL, f->now);
    if (f->leaf == NULL || f->high_leaf == NULL) {
        return -1;
    }
    f->intermediate = pki_fixture_crt_pem(f->main.intermediate_pem);
    f->other_intermediate = pki_fixture_crt_pem(f->other.intermediate_pem);
    f->leaf_crt = pki_fixture_crt_import(f->leaf->der, f->leaf->der_len,
                                         GNUTLS_X509_FMT_DER);
    f->high_leaf_crt = pki_fixture_crt_import(
        f->high_leaf->der, f->high_leaf->der_len, GNUTLS_X509_FMT_DER);
    f->other_leaf_crt = pki_fixture_crt_pem(f->other.server->pem);
    if (f->intermediate == NULL || f->other_intermediate == NULL ||
        f->leaf_crt == NULL || f->high_leaf_crt == NULL ||
        f->other_leaf_crt == NULL) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    gnutls_x509_crt_deinit(f->intermediate);
    gnutls_x509_crt_deinit(f->other_intermediate);
    gnutls_x509_crt_deinit(f->leaf_crt);
    gnutls_x509_crt_deinit(f->high_leaf_crt);
    gnutls_x509_crt_deinit(f->other_leaf_crt);
    pki_cert_free(f->leaf);
    pki_cert_free(f->high_leaf);
    pki_fixture_ca_free(&f->main, f->ca);
    pki_fixture_ca_free(&f->other, NULL);
    free(f);
    return 0;
}

/* What a client sends: one CertID per (issuer, cert), then a nonce. */
struct req_spec {
    gnutls_digest_algorithm_t digest;
    gnutls_x509_crt_t issuer;
    gnutls_x509_crt_t cert;
    gnutls_x509_crt_t second; /* another CertID for this cert, or NULL */
    const uint8_t *nonce;     /* or NULL */
    size_t nonce_len;
};

/* The DER of the request spec describes; the caller gnutls_free()s it. */
static gnutls_datum_t
build_request(const struct req_spec *spec)
{
    gnutls_ocsp_req_t req = NULL;
    gnutls_datum_t der = { NULL, 0 };
    gnutls_datum_t nonce;

    assert_int_equal(gnutls_ocsp_req_init(&req), 0);
    assert_int_equal(
        gnutls_ocsp_req_add_cert(req, spec->digest, spec->issuer, spec->cert),
        0);
    if (spec->second != NULL) {
        assert_int_equal(gnutls_ocsp_req_add_cert(req, spec->digest,
                                                  spec->issuer, spec->second),
                         0);
    }
    if (spec->nonce != NULL) {
        nonce.data = (unsigned char *)spec->nonce;
        nonce.size = (unsigned)spec->nonce_len;
        assert_int_equal(gnutls_ocsp_req_set_nonce(req, 0, &nonce), 0);
    }
    assert_int_equal(gnutls_ocsp_req_export(req, &der), 0);
    gnutls_ocsp_req_deinit(req);
    return der;
}

/* One DER header at *p (of at most left bytes): moves past it and returns
 * the content length. */
static size_t
skip_header(const uint8_t **p, size_t left)
{
    int len_len = 0;
    long len;

    assert_true(left >= 2);
    len = asn1_get_length_der(*p + 1, (int)left - 1, &len_len);
    assert_true(len >= 0);
    *p += 1 + len_len;
    return (size_t)len;
}

/*
 * Where GnuTLS put the CertID in a request it built (no version, no
 * requestorName): inside OCSPRequest, TBSRequest, requestList, Request.
 */
static void
assert_cert_id_is_the_sent_one(const gnutls_datum_t *der,
                               const struct pki_ocsp_req *out)
{
    const uint8_t *p = der->data;
    const uint8_t *end = der->data + der->size;
    const uint8_t *start;
    size_t len;
    int i;

    for (i = 0; i < 4; i++) {
        assert_int_equal(*p, 0x30);
        skip_header(&p, (size_t)(end - p));
    }
    start = p;
    assert_int_equal(*p, 0x30);
    len = skip_header(&p, (size_t)(end - p));
    len += (size_t)(p - start);
    assert_int_equal(out->cert_id_len, len);
    assert_memory_equal(out->cert_id, start, len);
}

static void
test_pki_ocsp_req_parse_reads_a_sha1_certid_of_ours(void **state)
{
    const struct fixtures *f = *state;
    struct req_spec spec = {
        GNUTLS_DIG_SHA1, f->intermediate, f->leaf_crt, NULL, NULL, 0
    };
    gnutls_datum_t der = build_request(&spec);
    struct pki_ocsp_req out;

    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_string_equal(out.serial, f->leaf->serial);
    assert_true(out.ours);
    assert_int_equal(out.hash, GNUTLS_DIG_SHA1);
    assert_false(out.has_nonce);
    assert_cert_id_is_the_sent_one(&der, &out);
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_reads_a_sha256_certid_and_its_nonce(void **state)
{
    const struct fixtures *f = *state;
    static const uint8_t nonce[16] = { 1, 2,  3,  4,  5,  6,  7,  8,
                                       9, 10, 11, 12, 13, 14, 15, 16 };
    struct req_spec spec = {
        GNUTLS_DIG_SHA256, f->intermediate, f->leaf_crt, NULL, nonce,
        sizeof(nonce)
    };
    gnutls_datum_t der = build_request(&spec);
    struct pki_ocsp_req out;

    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_string_equal(out.serial, f->leaf->serial);
    assert_true(out.ours);
    assert_int_equal(out.hash, GNUTLS_DIG_SHA256);
    assert_true(out.has_nonce);
    assert_int_equal(out.nonce_len, sizeof(nonce));
    assert_memory_equal(out.nonce, nonce, sizeof(nonce));
    assert_cert_id_is_the_sent_one(&der, &out);
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_strips_the_sign_byte_of_a_high_serial(void **state)
{
    const struct fixtures *f = *state;
    struct req_spec spec = {
        GNUTLS_DIG_SHA1, f->intermediate, f->high_leaf_crt, NULL, NULL, 0
    };
    gnutls_datum_t der = build_request(&spec);
    struct pki_ocsp_req out;

    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_string_equal(out.serial, HIGH_SERIAL);
    assert_true(out.ours);
    /* the echo keeps the 00 the client sent: INTEGER of 17 octets */
    assert_int_equal(out.cert_id[out.cert_id_len - 19], 0x02);
    assert_int_equal(out.cert_id[out.cert_id_len - 18], 17);
    assert_int_equal(out.cert_id[out.cert_id_len - 17], 0x00);
    assert_cert_id_is_the_sent_one(&der, &out);
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_says_another_issuer_is_not_ours(void **state)
{
    const struct fixtures *f = *state;
    struct req_spec spec = {
        GNUTLS_DIG_SHA1, f->other_intermediate, f->other_leaf_crt, NULL, NULL, 0
    };
    gnutls_datum_t der = build_request(&spec);
    struct pki_ocsp_req out;

    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_false(out.ours);
    assert_string_equal(out.serial, f->other.server->serial);
    gnutls_free(der.data);
}

/* A CertID from parts: our name hash with another CA's key hash, say. */
static gnutls_datum_t
build_request_from_parts(gnutls_digest_algorithm_t digest,
                         gnutls_x509_crt_t name_of, gnutls_x509_crt_t key_of,
                         gnutls_x509_crt_t cert)
{
    gnutls_ocsp_req_t named = NULL;
    gnutls_ocsp_req_t keyed = NULL;
    gnutls_ocsp_req_t req = NULL;
    gnutls_datum_t name_hash = { NULL, 0 };
    gnutls_datum_t key_hash = { NULL, 0 };
    gnutls_datum_t serial = { NULL, 0 };
    gnutls_datum_t unused = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };

    /* GnuTLS computes both hashes for us; take one from each */
    assert_int_equal(gnutls_ocsp_req_init(&named), 0);
    assert_int_equal(gnutls_ocsp_req_add_cert(named, digest, name_of, cert), 0);
    assert_int_equal(gnutls_ocsp_req_init(&keyed), 0);
    assert_int_equal(gnutls_ocsp_req_add_cert(keyed, digest, key_of, cert), 0);
    assert_int_equal(gnutls_ocsp_req_get_cert_id(named, 0, NULL, &name_hash,
                                                 &unused, &serial),
                     0);
    gnutls_free(unused.data);
    assert_int_equal(
        gnutls_ocsp_req_get_cert_id(keyed, 0, NULL, NULL, &key_hash, NULL), 0);
    assert_int_equal(gnutls_ocsp_req_init(&req), 0);
    assert_int_equal(gnutls_ocsp_req_add_cert_id(req, digest, &name_hash,
                                                 &key_hash, &serial),
                     0);
    assert_int_equal(gnutls_ocsp_req_export(req, &der), 0);
    gnutls_free(name_hash.data);
    gnutls_free(key_hash.data);
    gnutls_free(serial.data);
    gnutls_ocsp_req_deinit(named);
    gnutls_ocsp_req_deinit(keyed);
    gnutls_ocsp_req_deinit(req);
    return der;
}

static void
test_pki_ocsp_req_parse_wants_both_hashes_to_match(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_req out;
    gnutls_datum_t der;

    /* the cert's issuer name is Main's; the key hash is Other's */
    der = build_request_from_parts(GNUTLS_DIG_SHA256, f->intermediate,
                                   f->other_intermediate, f->leaf_crt);
    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_false(out.ours);
    gnutls_free(der.data);
    /* Other's name (Other's leaf) with Main's key */
    der = build_request_from_parts(GNUTLS_DIG_SHA1, f->other_intermediate,
                                   f->intermediate, f->other_leaf_crt);
    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_false(out.ours);
    gnutls_free(der.data);
    /* both Main's, from parts: ours */
    der = build_request_from_parts(GNUTLS_DIG_SHA1, f->intermediate,
                                   f->intermediate, f->leaf_crt);
    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_true(out.ours);
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_refuses_other_hash_algorithms(void **state)
{
    const struct fixtures *f = *state;
    static const gnutls_digest_algorithm_t refused[] = { GNUTLS_DIG_SHA384,
                                                         GNUTLS_DIG_SHA512,
                                                         GNUTLS_DIG_SHA224 };
    struct pki_ocsp_req out;
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct req_spec spec = { refused[i],  f->intermediate,
                                 f->leaf_crt, NULL,
                                 NULL,        0 };
        gnutls_datum_t der = build_request(&spec);

        assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out),
                      WD_E_OCSP_MALFORMED);
        gnutls_free(der.data);
    }
}

static void
test_pki_ocsp_req_parse_refuses_two_certids(void **state)
{
    const struct fixtures *f = *state;
    struct req_spec spec = {
        GNUTLS_DIG_SHA1, f->intermediate, f->leaf_crt, f->high_leaf_crt, NULL, 0
    };
    gnutls_datum_t der = build_request(&spec);
    struct pki_ocsp_req out;

    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out),
                  WD_E_OCSP_MALFORMED);
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_refuses_garbage_empty_and_cut_requests(void **state)
{
    const struct fixtures *f = *state;
    static const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
    static const uint8_t empty_seq[] = { 0x30, 0x00 };
    struct req_spec spec = {
        GNUTLS_DIG_SHA1, f->intermediate, f->leaf_crt, NULL, NULL, 0
    };
    gnutls_datum_t der = build_request(&spec);
    struct pki_ocsp_req out;
    size_t cut;

    memset(&out, 0x5a, sizeof(out));
    assert_wd_err(pki_ocsp_req_parse(f->ca, garbage, sizeof(garbage) - 1, &out),
                  WD_E_OCSP_MALFORMED);
    assert_int_equal(out.serial[0], 0x5a); /* untouched on failure */
    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, 0, &out),
                  WD_E_OCSP_MALFORMED);
    assert_wd_err(pki_ocsp_req_parse(f->ca, NULL, 0, &out),
                  WD_E_OCSP_MALFORMED);
    assert_wd_err(pki_ocsp_req_parse(f->ca, empty_seq, sizeof(empty_seq), &out),
                  WD_E_OCSP_MALFORMED);
    for (cut = 1; cut < der.size; cut++) {
        assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size - cut, &out),
                      WD_E_OCSP_MALFORMED);
    }
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_refuses_trailing_bytes(void **state)
{
    const struct fixtures *f = *state;
    struct req_spec spec = {
        GNUTLS_DIG_SHA1, f->intermediate, f->leaf_crt, NULL, NULL, 0
    };
    gnutls_datum_t der = build_request(&spec);
    uint8_t *longer = malloc(der.size + 1);
    struct pki_ocsp_req out;

    assert_non_null(longer);
    memcpy(longer, der.data, der.size);
    longer[der.size] = 0x00;
    assert_wd_err(pki_ocsp_req_parse(f->ca, longer, der.size + 1, &out),
                  WD_E_OCSP_MALFORMED);
    free(longer);
    gnutls_free(der.data);
}

static void
test_pki_ocsp_req_parse_refuses_over_64_kib(void **state)
{
    const struct fixtures *f = *state;
    size_t len = 64 * 1024 + 1;
    uint8_t *big = calloc(1, len);
    struct pki_ocsp_req out;

    assert_non_null(big);
    big[0] = 0x30; /* a SEQUENCE as long as the buffer, zeros inside */
    big[1] = 0x82;
    big[2] = 0xff;
    big[3] = 0xfd;
    assert_wd_err(pki_ocsp_req_parse(f->ca, big, len, &out),
                  WD_E_OCSP_MALFORMED);
    free(big);
}

static void
test_pki_ocsp_req_parse_takes_nonces_up_to_the_limit(void **state)
{
    const struct fixtures *f = *state;
    uint8_t nonce[PKI_OCSP_MAX_NONCE + 1];
    struct pki_ocsp_req out;
    gnutls_datum_t der;
    size_t i;

    for (i = 0; i < sizeof(nonce); i++) {
        nonce[i] = (uint8_t)(0xa0 + i);
    }
    {
        struct req_spec spec = { GNUTLS_DIG_SHA1, f->intermediate,
                                 f->leaf_crt,     NULL,
                                 nonce,           PKI_OCSP_MAX_NONCE };

        der = build_request(&spec);
        assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out),
                      WD_OK);
        assert_int_equal(out.nonce_len, PKI_OCSP_MAX_NONCE);
        assert_memory_equal(out.nonce, nonce, PKI_OCSP_MAX_NONCE);
        gnutls_free(der.data);
    }
    {
        struct req_spec spec = { GNUTLS_DIG_SHA1, f->intermediate,
                                 f->leaf_crt,     NULL,
                                 nonce,           PKI_OCSP_MAX_NONCE + 1 };

        der = build_request(&spec);
        assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out),
                      WD_E_OCSP_MALFORMED);
        gnutls_free(der.data);
    }
}

/* A request as `openssl ocsp -reqout` writes it for the high leaf. */
static gnutls_datum_t
openssl_request(const struct fixtures *f, const char *dir, const char *flags)
{
    gnutls_datum_t der = { NULL, 0 };
    char path[512];
    char cmd[2048];
    FILE *fp;
    long size;

    snprintf(path, sizeof(path), "%s/issuer.pem", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(f->main.intermediate_pem, fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/leaf.pem", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(f->high_leaf->pem, fp);
    fclose(fp);
    snprintf(cmd, sizeof(cmd),
             "openssl ocsp -issuer %s/issuer.pem %s -cert %s/leaf.pem "
             "-reqout %s/req.der >/dev/null 2>&1",
             dir, flags, dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/req.der", dir);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size > 0);
    rewind(fp);
    der.data = gnutls_malloc((size_t)size);
    der.size = (unsigned)size;
    assert_int_equal(fread(der.data, 1, der.size, fp), der.size);
    fclose(fp);
    return der;
}

static void
test_pki_ocsp_req_parse_reads_requests_from_openssl(void **state)
{
    const struct fixtures *f = *state;
    char dir[] = "/tmp/wd-ocsp-req-XXXXXX";
    char cmd[600];
    struct pki_ocsp_req out;
    gnutls_datum_t der;

    assert_non_null(mkdtemp(dir));
    der = openssl_request(f, dir, "-nonce -sha256");
    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_string_equal(out.serial, HIGH_SERIAL);
    assert_true(out.ours);
    assert_int_equal(out.hash, GNUTLS_DIG_SHA256);
    assert_true(out.has_nonce);
    assert_int_equal(out.nonce_len, 16); /* openssl's default */
    assert_cert_id_is_the_sent_one(&der, &out);
    gnutls_free(der.data);
    der = openssl_request(f, dir, "-no_nonce");
    assert_wd_err(pki_ocsp_req_parse(f->ca, der.data, der.size, &out), WD_OK);
    assert_int_equal(out.hash, GNUTLS_DIG_SHA1);
    assert_false(out.has_nonce);
    assert_cert_id_is_the_sent_one(&der, &out);
    gnutls_free(der.data);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_ocsp_req_parse_reads_a_sha1_certid_of_ours),
        cmocka_unit_test(
            test_pki_ocsp_req_parse_reads_a_sha256_certid_and_its_nonce),
        cmocka_unit_test(
            test_pki_ocsp_req_parse_strips_the_sign_byte_of_a_high_serial),
        cmocka_unit_test(
            test_pki_ocsp_req_parse_says_another_issuer_is_not_ours),
        cmocka_unit_test(test_pki_ocsp_req_parse_wants_both_hashes_to_match),
        cmocka_unit_test(test_pki_ocsp_req_parse_refuses_other_hash_algorithms),
        cmocka_unit_test(test_pki_ocsp_req_parse_refuses_two_certids),
        cmocka_unit_test(
            test_pki_ocsp_req_parse_refuses_garbage_empty_and_cut_requests),
        cmocka_unit_test(test_pki_ocsp_req_parse_refuses_trailing_bytes),
        cmocka_unit_test(test_pki_ocsp_req_parse_refuses_over_64_kib),
        cmocka_unit_test(test_pki_ocsp_req_parse_takes_nonces_up_to_the_limit),
        cmocka_unit_test(test_pki_ocsp_req_parse_reads_requests_from_openssl),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
