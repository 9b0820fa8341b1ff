/*
 * Unit tests for server/pki/pki_ocsp_resp.c: responses to requests built
 * with GnuTLS (and by `openssl ocsp`), read back with GnuTLS's OCSP
 * parser and verifier rather than our own module, signed by a delegated
 * responder and by the intermediate, for ECDSA P-256, RSA-2048 and
 * Ed25519 CAs built once in the group setup; every response byte for
 * byte against the libtasn1 builder it replaced (kept here, on ocsp.asn,
 * as the reference), and the error responses, byte for byte.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki_priv.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"
#define DAY_S (24 * 3600)
#define OID_OCSP_BASIC "1.3.6.1.5.5.7.48.1.1"

/* One CA with a leaf and both kinds of responder. */
struct ca_fixture {
    struct pki_ca_new made;
    struct pki_ca *ca;
    gnutls_x509_crt_t intermediate;
    struct pki_cert *leaf;
    gnutls_x509_crt_t leaf_crt;
    char *responder_key_pem;
    struct pki_cert *responder;
    gnutls_x509_crt_t responder_crt;
    struct pki_ocsp_responder *delegated;
    struct pki_ocsp_responder *direct; /* the intermediate */
};

struct fixtures {
    struct ca_fixture p256;
    struct ca_fixture rsa;
    struct ca_fixture ed25519;
    time_t now;
};

static const uint8_t nonce16[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2,  3,  4,
                                     5,    6,    7,    8,    9, 10, 11, 12 };

/* c's CA, its responders (delegated and direct) and a leaf of it. */
static int
make_ca(const char *name, enum pki_keygen kg, time_t now, struct ca_fixture *c)
{
    if (pki_fixture_ca_make(name, kg, PUBLIC_URL, now, &c->made, &c->ca) != 0 ||
        pki_ocsp_responder_issue(c->ca, now, 30 * DAY_S, &c->responder_key_pem,
                                 &c->responder) != WD_OK ||
        pki_ocsp_responder_new(c->ca, c->responder->pem, c->responder_key_pem,
                               &c->delegated) != WD_OK ||
        pki_ocsp_responder_new(c->ca, NULL, NULL, &c->direct) != WD_OK) {
        return -1;
    }
    c->leaf = pki_fixture_leaf_issue(c->ca, NULL, now);
    if (c->leaf == NULL) {
        return -1;
    }
    c->intermediate = pki_fixture_crt_pem(c->made.intermediate_pem);
    c->leaf_crt = pki_fixture_crt_pem(c->leaf->pem);
    c->responder_crt = pki_fixture_crt_pem(c->responder->pem);
    if (c->intermediate == NULL || c->leaf_crt == NULL ||
        c->responder_crt == NULL) {
        return -1;
    }
    return 0;
}

static void
free_ca(struct ca_fixture *c)
{
    gnutls_x509_crt_deinit(c->intermediate);
    gnutls_x509_crt_deinit(c->leaf_crt);
    gnutls_x509_crt_deinit(c->responder_crt);
    pki_ocsp_responder_free(c->delegated);
    pki_ocsp_responder_free(c->direct);
    pki_cert_free(c->leaf);
    pki_cert_free(c->responder);
    pki_fixture_key_free(c->responder_key_pem);
    pki_fixture_ca_free(&c->made, c->ca);
}

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->now = time(NULL);
    if (make_ca("P256", PKI_KEYGEN_ECDSA_P256, f->now, &f->p256) != 0 ||
        make_ca("RSA", PKI_KEYGEN_RSA_2048, f->now, &f->rsa) != 0 ||
        make_ca("Ed", PKI_KEYGEN_ED25519, f->now, &f->ed25519) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    free_ca(&f->p256);
    free_ca(&f->rsa);
    free_ca(&f->ed25519);
    free(f);
    return 0;
}

/* A GnuTLS request about c's leaf (DER into *der, gnutls_free it), and
 * what pki_ocsp_req_parse makes of it. */
static struct pki_ocsp_req
request(const struct ca_fixture *c, gnutls_digest_algorithm_t digest,
        const uint8_t *nonce, size_t nonce_len, gnutls_datum_t *der)
{
    gnutls_ocsp_req_t req = NULL;
    struct pki_ocsp_req out;
    gnutls_datum_t n = { (unsigned char *)nonce, (unsigned)nonce_len };

    assert_int_equal(gnutls_ocsp_req_init(&req), 0);
    assert_int_equal(
        gnutls_ocsp_req_add_cert(req, digest, c->intermediate, c->leaf_crt), 0);
    if (nonce != NULL) {
        assert_int_equal(gnutls_ocsp_req_set_nonce(req, 0, &n), 0);
    }
    assert_int_equal(gnutls_ocsp_req_export(req, der), 0);
    gnutls_ocsp_req_deinit(req);
    assert_wd_err(pki_ocsp_req_parse(c->ca, der->data, der->size, &out), WD_OK);
    assert_true(out.ours);
    return out;
}

static struct pki_ocsp_answer
answer(time_t now, enum pki_ocsp_status status, int reason)
{
    struct pki_ocsp_answer a;

    memset(&a, 0, sizeof(a));
    a.status = status;
    a.revoked_at = status == PKI_OCSP_REVOKED ? now - 3600 : 0;
    a.reason = reason;
    a.produced_at = now;
    a.this_update = now - 60;
    a.next_update = now + DAY_S;
    return a;
}

/* Builds the response and imports it with GnuTLS (caller deinits). */
static gnutls_ocsp_resp_t
build(const struct pki_ocsp_responder *r, const struct pki_ocsp_req *req,
      const struct pki_ocsp_answer *a, gnutls_datum_t *der_out)
{
    gnutls_ocsp_resp_t resp = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    gnutls_datum_t d;

    assert_wd_err(pki_ocsp_resp_build(r, req, a, &der, &len), WD_OK);
    d.data = der;
    d.size = (unsigned)len;
    assert_int_equal(gnutls_ocsp_resp_init(&resp), 0);
    assert_int_equal(gnutls_ocsp_resp_import(resp, &d), 0);
    if (der_out != NULL) {
        der_out->data = der;
        der_out->size = (unsigned)len;
    } else {
        free(der);
    }
    return resp;
}

/* Signed by signer, algorithm alg, and trusted as a delegated responder
 * of c (or as c's intermediate), as GnuTLS's verifier sees it. */
static void
assert_verifies(const struct ca_fixture *c, gnutls_ocsp_resp_t resp,
                bool delegated, gnutls_sign_algorithm_t alg)
{
    gnutls_x509_trust_list_t trust = NULL;
    gnutls_x509_crt_t anchor = NULL;
    gnutls_x509_crt_t *certs = NULL;
    gnutls_datum_t type = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    size_t n_certs = 0;
    unsigned verify = 1;
    size_t i;

    assert_int_equal(gnutls_ocsp_resp_get_status(resp),
                     GNUTLS_OCSP_RESP_SUCCESSFUL);
    assert_int_equal(gnutls_ocsp_resp_get_response(resp, &type, NULL), 0);
    assert_int_equal(type.size, strlen(OID_OCSP_BASIC));
    assert_memory_equal(type.data, OID_OCSP_BASIC, type.size);
    gnutls_free(type.data);
    assert_int_equal(gnutls_ocsp_resp_get_version(resp), 1);
    assert_int_equal(gnutls_ocsp_resp_get_signature_algorithm(resp), alg);
    assert_int_equal(
        gnutls_ocsp_resp_verify_direct(
            resp, delegated ? c->responder_crt : c->intermediate, &verify, 0),
        0);
    assert_int_equal(verify, 0);
    assert_int_equal(gnutls_ocsp_resp_get_certs(resp, &certs, &n_certs), 0);
    if (delegated) {
        assert_int_equal(n_certs, 1);
        assert_int_equal(
            gnutls_x509_crt_export2(certs[0], GNUTLS_X509_FMT_DER, &der), 0);
        assert_int_equal(der.size, c->responder->der_len);
        assert_memory_equal(der.data, c->responder->der, der.size);
        gnutls_free(der.data);
        /* RFC 6960 4.2.2.2: the intermediate vouches for the responder */
        anchor = pki_fixture_crt_pem(c->made.intermediate_pem);
        assert_non_null(anchor);
        assert_int_equal(gnutls_x509_trust_list_init(&trust, 0), 0);
        assert_int_equal(gnutls_x509_trust_list_add_cas(trust, &anchor, 1, 0),
                         1);
        verify = 1;
        assert_int_equal(gnutls_ocsp_resp_verify(resp, trust, &verify, 0), 0);
        assert_int_equal(verify, 0);
        gnutls_x509_trust_list_deinit(trust, 1);
    } else {
        assert_int_equal(n_certs, 0);
    }
    for (i = 0; i < n_certs; i++) {
        gnutls_x509_crt_deinit(certs[i]);
    }
    gnutls_free(certs);
}

/* The single response: the request's CertID, status, times, reason. */
static void
assert_single(gnutls_ocsp_resp_t resp, const gnutls_datum_t *req_der,
              const struct pki_ocsp_answer *a, int want_status, int want_reason)
{
    gnutls_ocsp_req_t req = NULL;
    gnutls_digest_algorithm_t req_digest;
    gnutls_digest_algorithm_t digest;
    gnutls_datum_t req_name = { NULL, 0 };
    gnutls_datum_t req_key = { NULL, 0 };
    gnutls_datum_t req_serial = { NULL, 0 };
    gnutls_datum_t name = { NULL, 0 };
    gnutls_datum_t key = { NULL, 0 };
    gnutls_datum_t serial = { NULL, 0 };
    unsigned status = 99;
    time_t this_update = 0;
    time_t next_update = 0;
    time_t revoked_at = 0;
    unsigned reason = 99;

    assert_int_equal(gnutls_ocsp_req_init(&req), 0);
    assert_int_equal(gnutls_ocsp_req_import(req, req_der), 0);
    assert_int_equal(gnutls_ocsp_req_get_cert_id(req, 0, &req_digest, &req_name,
                                                 &req_key, &req_serial),
                     0);
    assert_int_equal(gnutls_ocsp_resp_get_single(
                         resp, 0, &digest, &name, &key, &serial, &status,
                         &this_update, &next_update, &revoked_at, &reason),
                     0);
    assert_int_equal(digest, req_digest);
    assert_int_equal(name.size, req_name.size);
    assert_memory_equal(name.data, req_name.data, name.size);
    assert_int_equal(key.size, req_key.size);
    assert_memory_equal(key.data, req_key.data, key.size);
    assert_int_equal(serial.size, req_serial.size);
    assert_memory_equal(serial.data, req_serial.data, serial.size);
    assert_int_equal(status, want_status);
    assert_int_equal(this_update, a->this_update);
    assert_int_equal(next_update, a->next_update != 0 ? a->next_update : -1);
    if (want_status == GNUTLS_OCSP_CERT_REVOKED) {
        assert_int_equal(revoked_at, a->revoked_at);
        assert_int_equal(reason, want_reason);
    }
    assert_int_equal(gnutls_ocsp_resp_get_produced(resp), a->produced_at);
    /* one SingleResponse only */
    assert_int_equal(gnutls_ocsp_resp_get_single(resp, 1, &digest, NULL, NULL,
                                                 NULL, &status, NULL, NULL,
                                                 NULL, NULL),
                     GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    gnutls_free(req_name.data);
    gnutls_free(req_key.data);
    gnutls_free(req_serial.data);
    gnutls_free(name.data);
    gnutls_free(key.data);
    gnutls_free(serial.data);
    gnutls_ocsp_req_deinit(req);
}

/* Where needle occurs in hay, or NULL. */
static const uint8_t *
find(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n)
{
    size_t i;

    for (i = 0; n <= hay_len && i <= hay_len - n; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

static void
test_pki_ocsp_resp_build_answers_good_from_the_delegated_responder(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t nonce = { NULL, 0 };
    struct pki_ocsp_req req =
        request(c, GNUTLS_DIG_SHA1, nonce16, sizeof(nonce16), &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    gnutls_ocsp_resp_t resp = build(c->delegated, &req, &a, NULL);
    unsigned critical = 1;

    assert_verifies(c, resp, true, GNUTLS_SIGN_ECDSA_SHA256);
    assert_single(resp, &req_der, &a, GNUTLS_OCSP_CERT_GOOD, 0);
    assert_int_equal(gnutls_ocsp_resp_check_crt(resp, 0, c->leaf_crt), 0);
    assert_int_equal(gnutls_ocsp_resp_get_nonce(resp, &critical, &nonce), 0);
    assert_int_equal(critical, 0);
    assert_int_equal(nonce.size, sizeof(nonce16));
    assert_memory_equal(nonce.data, nonce16, sizeof(nonce16));
    gnutls_free(nonce.data);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

static void
test_pki_ocsp_resp_build_answers_revoked_with_time_and_reason(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA256, NULL, 0, &req_der);
    struct pki_ocsp_answer a =
        answer(f->now, PKI_OCSP_REVOKED, PKI_REASON_KEY_COMPROMISE);
    gnutls_ocsp_resp_t resp = build(c->delegated, &req, &a, &der);
    static const uint8_t reason[] = { 0xa0, 0x03, 0x0a, 0x01, 0x01 };

    assert_verifies(c, resp, true, GNUTLS_SIGN_ECDSA_SHA256);
    assert_single(resp, &req_der, &a, GNUTLS_OCSP_CERT_REVOKED,
                  GNUTLS_X509_CRLREASON_KEYCOMPROMISE);
    /* RFC 6960 4.2.1: [0] EXPLICIT CRLReason keyCompromise */
    assert_non_null(find(der.data, der.size, reason, sizeof(reason)));
    free(der.data);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

/* The DER of RevokedInfo [1] holding revocationTime t and nothing else. */
static void
revoked_info_without_reason(time_t t, uint8_t out[19])
{
    struct tm tm;
    char text[16];

    assert_non_null(gmtime_r(&t, &tm));
    assert_int_equal(strftime(text, sizeof(text), "%Y%m%d%H%M%SZ", &tm), 15);
    out[0] = 0xa1; /* [1] IMPLICIT RevokedInfo, constructed */
    out[1] = 17;
    out[2] = 0x18; /* GeneralizedTime */
    out[3] = 15;
    memcpy(out + 4, text, 15);
}

static void
test_pki_ocsp_resp_build_leaves_an_unknown_reason_out(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_REVOKED, -1);
    gnutls_ocsp_resp_t resp = build(c->delegated, &req, &a, &der);
    uint8_t info[19];

    assert_verifies(c, resp, true, GNUTLS_SIGN_ECDSA_SHA256);
    /* GnuTLS reports an absent reason as unspecified */
    assert_single(resp, &req_der, &a, GNUTLS_OCSP_CERT_REVOKED,
                  GNUTLS_X509_CRLREASON_UNSPECIFIED);
    revoked_info_without_reason(a.revoked_at, info);
    assert_non_null(find(der.data, der.size, info, sizeof(info)));
    free(der.data);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

static void
test_pki_ocsp_resp_build_answers_unknown(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req =
        request(c, GNUTLS_DIG_SHA256, nonce16, sizeof(nonce16), &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_UNKNOWN, -1);
    gnutls_ocsp_resp_t resp = build(c->delegated, &req, &a, NULL);

    assert_verifies(c, resp, true, GNUTLS_SIGN_ECDSA_SHA256);
    assert_single(resp, &req_der, &a, GNUTLS_OCSP_CERT_UNKNOWN, 0);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

static void
test_pki_ocsp_resp_build_signs_with_the_intermediate_without_certs(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    static const enum pki_ocsp_status statuses[] = { PKI_OCSP_GOOD,
                                                     PKI_OCSP_REVOKED,
                                                     PKI_OCSP_UNKNOWN };
    static const int gnutls_statuses[] = { GNUTLS_OCSP_CERT_GOOD,
                                           GNUTLS_OCSP_CERT_REVOKED,
                                           GNUTLS_OCSP_CERT_UNKNOWN };
    size_t i;

    for (i = 0; i < 3; i++) {
        gnutls_datum_t req_der = { NULL, 0 };
        struct pki_ocsp_req req =
            request(c, GNUTLS_DIG_SHA1, nonce16, sizeof(nonce16), &req_der);
        struct pki_ocsp_answer a =
            answer(f->now, statuses[i], PKI_REASON_SUPERSEDED);
        gnutls_ocsp_resp_t resp = build(c->direct, &req, &a, NULL);

        assert_verifies(c, resp, false, GNUTLS_SIGN_ECDSA_SHA256);
        assert_single(resp, &req_der, &a, gnutls_statuses[i],
                      GNUTLS_X509_CRLREASON_SUPERSEDED);
        assert_int_equal(gnutls_ocsp_resp_check_crt(resp, 0, c->leaf_crt), 0);
        gnutls_free(req_der.data);
        gnutls_ocsp_resp_deinit(resp);
    }
}

/* RFC 6960 4.2.2.3: SHA-1 of the key bits, which is also what a SHA-1
 * CertID naming that key as issuer carries as issuerKeyHash. */
static void
assert_responder_id(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t signer,
                    gnutls_x509_crt_t leaf)
{
    gnutls_ocsp_req_t req = NULL;
    gnutls_datum_t key_hash = { NULL, 0 };
    gnutls_datum_t id = { NULL, 0 };

    assert_int_equal(gnutls_ocsp_req_init(&req), 0);
    assert_int_equal(
        gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, signer, leaf), 0);
    assert_int_equal(
        gnutls_ocsp_req_get_cert_id(req, 0, NULL, NULL, &key_hash, NULL), 0);
    assert_int_equal(gnutls_ocsp_resp_get_responder_raw_id(
                         resp, GNUTLS_OCSP_RESP_ID_KEY, &id),
                     0);
    assert_int_equal(id.size, 20);
    assert_int_equal(key_hash.size, 20);
    assert_memory_equal(id.data, key_hash.data, 20);
    gnutls_free(key_hash.data);
    gnutls_free(id.data);
    gnutls_ocsp_req_deinit(req);
}

static void
test_pki_ocsp_resp_build_names_the_responder_by_key_hash(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t dn = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    gnutls_ocsp_resp_t delegated = build(c->delegated, &req, &a, NULL);
    gnutls_ocsp_resp_t direct = build(c->direct, &req, &a, NULL);

    assert_responder_id(delegated, c->responder_crt, c->leaf_crt);
    assert_responder_id(direct, c->intermediate, c->leaf_crt);
    assert_int_equal(gnutls_ocsp_resp_get_responder_raw_id(
                         direct, GNUTLS_OCSP_RESP_ID_DN, &dn),
                     GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(delegated);
    gnutls_ocsp_resp_deinit(direct);
}

static void
test_pki_ocsp_resp_build_echoes_the_certid_byte_for_byte(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA256, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    gnutls_ocsp_resp_t resp;

    /* a CertID GnuTLS would never write: hash parameters absent */
    assert_int_equal(req.cert_id[2], 0x30); /* AlgorithmIdentifier */
    assert_int_equal(req.cert_id[3], 0x0d); /* OID and NULL */
    assert_int_equal(req.cert_id[15], 0x05);
    memmove(req.cert_id + 15, req.cert_id + 17, req.cert_id_len - 17);
    req.cert_id_len -= 2;
    req.cert_id[1] -= 2;
    req.cert_id[3] -= 2;
    resp = build(c->delegated, &req, &a, &der);
    assert_non_null(find(der.data, der.size, req.cert_id, req.cert_id_len));
    assert_verifies(c, resp, true, GNUTLS_SIGN_ECDSA_SHA256);
    assert_single(resp, &req_der, &a, GNUTLS_OCSP_CERT_GOOD, 0);
    free(der.data);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

static void
test_pki_ocsp_resp_build_echoes_a_nonce_only_when_asked(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t nonce = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    gnutls_ocsp_resp_t resp = build(c->direct, &req, &a, &der);
    static const uint8_t nonce_oid[] = { 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
                                         0x05, 0x07, 0x30, 0x01, 0x02 };

    assert_int_equal(gnutls_ocsp_resp_get_nonce(resp, NULL, &nonce),
                     GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    assert_null(find(der.data, der.size, nonce_oid, sizeof(nonce_oid)));
    free(der.data);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

static void
test_pki_ocsp_resp_build_leaves_next_update_out_when_zero(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    gnutls_ocsp_resp_t resp;

    a.next_update = 0;
    resp = build(c->delegated, &req, &a, NULL);
    assert_single(resp, &req_der, &a, GNUTLS_OCSP_CERT_GOOD, 0);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

/* Good and revoked from both responders of c, verified, with alg. */
static void
check_key_type(const struct fixtures *f, const struct ca_fixture *c,
               gnutls_sign_algorithm_t alg)
{
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req =
        request(c, GNUTLS_DIG_SHA256, nonce16, sizeof(nonce16), &req_der);
    struct pki_ocsp_answer good = answer(f->now, PKI_OCSP_GOOD, -1);
    struct pki_ocsp_answer revoked =
        answer(f->now, PKI_OCSP_REVOKED, PKI_REASON_CESSATION_OF_OPERATION);
    gnutls_ocsp_resp_t resp;

    resp = build(c->delegated, &req, &good, NULL);
    assert_verifies(c, resp, true, alg);
    assert_single(resp, &req_der, &good, GNUTLS_OCSP_CERT_GOOD, 0);
    gnutls_ocsp_resp_deinit(resp);
    resp = build(c->direct, &req, &revoked, NULL);
    assert_verifies(c, resp, false, alg);
    assert_single(resp, &req_der, &revoked, GNUTLS_OCSP_CERT_REVOKED,
                  GNUTLS_X509_CRLREASON_CESSATIONOFOPERATION);
    gnutls_ocsp_resp_deinit(resp);
    gnutls_free(req_der.data);
}

static void
test_pki_ocsp_resp_build_signs_with_rsa_and_null_parameters(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->rsa;
    /* RFC 4055 5: sha256WithRSAEncryption, parameters NULL */
    static const uint8_t alg_id[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a,
                                      0x86, 0x48, 0x86, 0xf7, 0x0d,
                                      0x01, 0x01, 0x0b, 0x05, 0x00 };
    gnutls_datum_t req_der = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    gnutls_ocsp_resp_t resp = build(c->delegated, &req, &a, &der);

    assert_string_equal(c->responder->key_type, "rsa-2048");
    assert_non_null(find(der.data, der.size, alg_id, sizeof(alg_id)));
    check_key_type(f, c, GNUTLS_SIGN_RSA_SHA256);
    free(der.data);
    gnutls_free(req_der.data);
    gnutls_ocsp_resp_deinit(resp);
}

static void
test_pki_ocsp_resp_build_signs_with_ed25519(void **state)
{
    const struct fixtures *f = *state;

    assert_string_equal(f->ed25519.responder->key_type, "ed25519");
    check_key_type(f, &f->ed25519, GNUTLS_SIGN_EDDSA_ED25519);
}

static void
write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static uint8_t *
read_file(const char *dir, const char *name, size_t *len)
{
    char path[512];
    uint8_t *buf;
    FILE *fp;
    long size;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size > 0);
    rewind(fp);
    buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    *len = (size_t)size;
    return buf;
}

/* What `cmd` prints on stdout and stderr, NUL-terminated; caller frees. */
static char *
run(const char *cmd)
{
    size_t cap = 8192;
    size_t len = 0;
    char *out = malloc(cap);
    FILE *p = popen(cmd, "r");
    size_t n;

    assert_non_null(out);
    assert_non_null(p);
    while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0) {
        len += n;
        if (len == cap - 1) {
            break;
        }
    }
    out[len] = '\0';
    pclose(p);
    return out;
}

/*
 * openssl ocsp asks for c's leaf (with a nonce) and checks our answer
 * from r: the signature and the responder's authority (RFC 6960 4.2.2.2)
 * against the root, the nonce, and the status it prints.
 */
static void
check_with_openssl(const struct ca_fixture *c,
                   const struct pki_ocsp_responder *r,
                   const struct pki_ocsp_answer *a, const char *want_text,
                   const char *want_status)
{
    char dir[] = "/tmp/wd-ocsp-resp-XXXXXX";
    char cmd[2048];
    struct pki_ocsp_req req;
    uint8_t *req_der;
    uint8_t *der = NULL;
    size_t req_len = 0;
    size_t len = 0;
    char *out;

    assert_non_null(mkdtemp(dir));
    write_file(dir, "root.pem", c->made.root_pem, strlen(c->made.root_pem));
    write_file(dir, "issuer.pem", c->made.intermediate_pem,
               strlen(c->made.intermediate_pem));
    write_file(dir, "leaf.pem", c->leaf->pem, strlen(c->leaf->pem));
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl ocsp -issuer issuer.pem -nonce -cert leaf.pem "
             "-reqout req.der >/dev/null 2>&1",
             dir);
    assert_int_equal(system(cmd), 0);
    req_der = read_file(dir, "req.der", &req_len);
    assert_wd_err(pki_ocsp_req_parse(c->ca, req_der, req_len, &req), WD_OK);
    assert_true(req.has_nonce);
    assert_wd_err(pki_ocsp_resp_build(r, &req, a, &der, &len), WD_OK);
    write_file(dir, "resp.der", der, len);
    /* the request's nonce and CertID, the signer's authority */
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl ocsp -respin resp.der -reqin req.der "
             "-CAfile root.pem -verify_other issuer.pem -resp_text 2>&1",
             dir);
    out = run(cmd);
    if (strstr(out, "Response verify OK") == NULL ||
        strstr(out, want_text) == NULL || strstr(out, "WARNING") != NULL ||
        strstr(out, "rror") != NULL) {
        fail_msg("openssl ocsp in %s said:\n%s", dir, out);
    }
    free(out);
    /* the status openssl finds for the certificate itself */
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl ocsp -respin resp.der -no_nonce "
             "-issuer issuer.pem -cert leaf.pem -CAfile root.pem "
             "-verify_other issuer.pem 2>&1",
             dir);
    out = run(cmd);
    if (strstr(out, "Response verify OK") == NULL ||
        strstr(out, want_status) == NULL || strstr(out, "rror") != NULL) {
        fail_msg("openssl ocsp in %s said:\n%s", dir, out);
    }
    free(out);
    free(der);
    free(req_der);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_pki_ocsp_resp_build_satisfies_openssl_ocsp(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ocsp_answer good = answer(f->now, PKI_OCSP_GOOD, -1);
    struct pki_ocsp_answer revoked =
        answer(f->now, PKI_OCSP_REVOKED, PKI_REASON_KEY_COMPROMISE);
    struct pki_ocsp_answer unknown = answer(f->now, PKI_OCSP_UNKNOWN, -1);

    check_with_openssl(&f->p256, f->p256.delegated, &good, "Cert Status: good",
                       "leaf.pem: good");
    check_with_openssl(&f->p256, f->p256.direct, &revoked,
                       "Revocation Reason: keyCompromise (0x1)",
                       "leaf.pem: revoked");
    check_with_openssl(&f->rsa, f->rsa.delegated, &unknown,
                       "Cert Status: unknown", "leaf.pem: unknown");
    check_with_openssl(&f->rsa, f->rsa.direct, &good, "Cert Status: good",
                       "leaf.pem: good");
    check_with_openssl(&f->ed25519, f->ed25519.direct, &good,
                       "Cert Status: good", "leaf.pem: good");
    check_with_openssl(&f->ed25519, f->ed25519.delegated, &revoked,
                       "Cert Status: revoked", "leaf.pem: revoked");
}

static void
test_pki_ocsp_resp_build_refuses_a_request_not_ours(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_GOOD, -1);
    uint8_t *der = NULL;
    size_t len = 0;

    req.ours = false;
    assert_wd_err(pki_ocsp_resp_build(c->direct, &req, &a, &der, &len),
                  WD_E_INTERNAL);
    assert_null(der);
    req.ours = true;
    a.status = (enum pki_ocsp_status)7;
    assert_wd_err(pki_ocsp_resp_build(c->direct, &req, &a, &der, &len),
                  WD_E_INTERNAL);
    a.status = PKI_OCSP_REVOKED;
    a.reason = 7; /* RFC 5280 5.3.1: not used */
    assert_wd_err(pki_ocsp_resp_build(c->direct, &req, &a, &der, &len),
                  WD_E_INTERNAL);
    assert_null(der);
    gnutls_free(req_der.data);
}

static void
test_pki_ocsp_resp_error_is_the_status_alone(void **state)
{
    static const struct {
        enum pki_ocsp_error status;
        uint8_t last;
    } rows[] = {
        { PKI_OCSP_MALFORMED_REQUEST, 1 },
        { PKI_OCSP_INTERNAL_ERROR, 2 },
        { PKI_OCSP_TRY_LATER, 3 },
        { PKI_OCSP_UNAUTHORIZED, 6 },
    };
    gnutls_ocsp_resp_t resp = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const uint8_t want[] = { 0x30, 0x03, 0x0a, 0x01, rows[i].last };
        gnutls_datum_t d;

        assert_wd_err(pki_ocsp_resp_error(rows[i].status, &der, &len), WD_OK);
        assert_int_equal(len, sizeof(want));
        assert_memory_equal(der, want, sizeof(want));
        d.data = der;
        d.size = (unsigned)len;
        assert_int_equal(gnutls_ocsp_resp_init(&resp), 0);
        assert_int_equal(gnutls_ocsp_resp_import(resp, &d), 0);
        assert_int_equal(gnutls_ocsp_resp_get_status(resp), rows[i].last);
        gnutls_ocsp_resp_deinit(resp);
        free(der);
        der = NULL;
    }
    assert_wd_err(pki_ocsp_resp_error((enum pki_ocsp_error)0, &der, &len),
                  WD_E_INTERNAL);
    assert_wd_err(pki_ocsp_resp_error((enum pki_ocsp_error)5, &der, &len),
                  WD_E_INTERNAL);
    assert_null(der);
}

/*
 * The reference: the libtasn1 builder that pki_ocsp_resp.c replaced, as it
 * stood (ocsp.asn's BasicOCSPResponse and OCSPResponse, value by value),
 * except that it takes the signature instead of making one, so that its
 * bytes can be held against a randomized ECDSA response whole.
 */

/* Paths into a BasicOCSPResponse; Warden answers one CertID at a time. */
#define TBS "tbsResponseData"
#define SINGLE TBS ".responses.?1"
#define OID_OCSP_NONCE "1.3.6.1.5.5.7.48.1.2"

/* Writes value (len as asn1_write_value reads it) at name, or fails. */
static enum wd_err
put(asn1_node node, const char *name, const void *value, int len)
{
    return asn1_write_value(node, name, value, len) == ASN1_SUCCESS
               ? WD_OK
               : WD_E_INTERNAL;
}

/* A GeneralizedTime in UTC, whole seconds, four-digit years. */
static enum wd_err
put_time(asn1_node node, const char *name, time_t t)
{
    char buf[16];
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1000 ||
        tm.tm_year + 1900 > 9999 ||
        strftime(buf, sizeof(buf), "%Y%m%d%H%M%SZ", &tm) != 15) {
        return WD_E_INTERNAL;
    }
    return put(node, name, buf, 1);
}

/* An INTEGER or ENUMERATED from a small non-negative number. */
static enum wd_err
put_number(asn1_node node, const char *name, int v)
{
    char buf[16];

    snprintf(buf, sizeof(buf), "%d", v);
    return put(node, name, buf, 0);
}

/* RFC 6960 4.2.1 CertStatus: good, revoked (time, reason) or unknown. */
static enum wd_err
put_status(asn1_node basic, const struct pki_ocsp_answer *a)
{
    enum wd_err rc;

    switch (a->status) {
    case PKI_OCSP_GOOD:
        return put(basic, SINGLE ".certStatus", "good", 1);
    case PKI_OCSP_UNKNOWN:
        return put(basic, SINGLE ".certStatus", "unknown", 1);
    case PKI_OCSP_REVOKED:
        break;
    default:
        return WD_E_INTERNAL;
    }
    if (a->reason >= 0 &&
        (a->reason > 10 || a->reason == 7)) { /* RFC 5280 5.3.1 */
        return WD_E_INTERNAL;
    }
    rc = put(basic, SINGLE ".certStatus", "revoked", 1);
    if (rc == WD_OK) {
        rc = put_time(basic, SINGLE ".certStatus.revoked.revocationTime",
                      a->revoked_at);
    }
    if (rc != WD_OK) {
        return rc;
    }
    if (a->reason < 0) {
        return put(basic, SINGLE ".certStatus.revoked.revocationReason", NULL,
                   0);
    }
    return put_number(basic, SINGLE ".certStatus.revoked.revocationReason",
                      a->reason);
}

/* RFC 6960 4.4.1: the request's nonce as the extension's OCTET STRING. */
static enum wd_err
put_nonce(asn1_node basic, const struct pki_ocsp_req *req)
{
    uint8_t value[PKI_OCSP_MAX_NONCE + 8];
    unsigned tl_len = sizeof(value);
    enum wd_err rc;

    if (!req->has_nonce) {
        return put(basic, TBS ".responseExtensions", NULL, 0);
    }
    if (req->nonce_len == 0 || req->nonce_len > PKI_OCSP_MAX_NONCE ||
        asn1_encode_simple_der(ASN1_ETYPE_OCTET_STRING, req->nonce,
                               (unsigned)req->nonce_len, value,
                               &tl_len) != ASN1_SUCCESS) {
        return WD_E_INTERNAL;
    }
    memcpy(value + tl_len, req->nonce, req->nonce_len);
    rc = put(basic, TBS ".responseExtensions", "NEW", 1);
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responseExtensions.?1.extnID", OID_OCSP_NONCE, 1);
    }
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responseExtensions.?1.extnValue", value,
                 (int)(tl_len + req->nonce_len));
    }
    return rc;
}

/* ResponseData: everything the signature covers. */
static enum wd_err
put_response_data(asn1_node basic, const struct pki_ocsp_responder *r,
                  const struct pki_ocsp_req *req,
                  const struct pki_ocsp_answer *a)
{
    enum wd_err rc;

    rc = put(basic, TBS ".responderID", "byKey", 1);
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responderID.byKey", r->key_hash,
                 (int)sizeof(r->key_hash));
    }
    if (rc == WD_OK) {
        rc = put_time(basic, TBS ".producedAt", a->produced_at);
    }
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responses", "NEW", 1);
    }
    if (rc == WD_OK) {
        rc = put(basic, SINGLE ".certID", req->cert_id, (int)req->cert_id_len);
    }
    if (rc == WD_OK) {
        rc = put_status(basic, a);
    }
    if (rc == WD_OK) {
        rc = put_time(basic, SINGLE ".thisUpdate", a->this_update);
    }
    if (rc == WD_OK && a->next_update != 0) {
        rc = put_time(basic, SINGLE ".nextUpdate", a->next_update);
    } else if (rc == WD_OK) {
        rc = put(basic, SINGLE ".nextUpdate", NULL, 0);
    }
    if (rc == WD_OK) {
        rc = put(basic, SINGLE ".singleExtensions", NULL, 0);
    }
    if (rc == WD_OK) {
        rc = put_nonce(basic, req);
    }
    return rc;
}

/* AlgorithmIdentifier: parameters NULL for RSA, absent otherwise. */
static enum wd_err
put_algorithm(asn1_node basic, gnutls_sign_algorithm_t alg)
{
    static const uint8_t der_null[] = { 0x05, 0x00 };
    const char *oid = gnutls_sign_get_oid(alg);
    enum wd_err rc;

    if (oid == NULL) {
        return WD_E_INTERNAL;
    }
    rc = put(basic, "signatureAlgorithm.algorithm", oid, 1);
    if (rc != WD_OK) {
        return rc;
    }
    if (gnutls_sign_get_pk_algorithm(alg) == GNUTLS_PK_RSA) {
        return put(basic, "signatureAlgorithm.parameters", der_null,
                   (int)sizeof(der_null));
    }
    return put(basic, "signatureAlgorithm.parameters", NULL, 0);
}

/* The signature given, and the responder's certificate when delegated. */
static enum wd_err
put_signature(asn1_node basic, const struct pki_ocsp_responder *r,
              const gnutls_datum_t *sig)
{
    enum wd_err rc = put_algorithm(basic, pki_signer_algorithm(r->signer));

    if (rc == WD_OK) { /* a BIT STRING's length is in bits */
        rc = put(basic, "signature", sig->data, (int)sig->size * 8);
    }
    if (rc == WD_OK && r->cert_der != NULL) {
        rc = put(basic, "certs", "NEW", 1);
        if (rc == WD_OK) {
            rc = put(basic, "certs.?1", r->cert_der, (int)r->cert_der_len);
        }
    } else if (rc == WD_OK) {
        rc = put(basic, "certs", NULL, 0);
    }
    return rc;
}

/* The DER of node (all of it) into a buffer the caller frees. */
static enum wd_err
encode(asn1_node node, uint8_t **der, size_t *der_len)
{
    char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
    int len = 0;

    if (asn1_der_coding(node, "", NULL, &len, err) != ASN1_MEM_ERROR ||
        len <= 0) {
        return WD_E_INTERNAL;
    }
    *der = malloc((size_t)len);
    assert_non_null(*der);
    if (asn1_der_coding(node, "", *der, &len, err) != ASN1_SUCCESS) {
        free(*der);
        *der = NULL;
        return WD_E_INTERNAL;
    }
    *der_len = (size_t)len;
    return WD_OK;
}

/* OCSPResponse { status, responseBytes when basic_der is not NULL }. */
static enum wd_err
reference_wrap(int status, const uint8_t *basic_der, size_t basic_len,
               uint8_t **der, size_t *der_len)
{
    asn1_node resp = NULL;
    enum wd_err rc;

    rc = pki_ocsp_asn_new("OCSPResponse", &resp);
    if (rc == WD_OK) {
        rc = put_number(resp, "responseStatus", status);
    }
    if (rc == WD_OK && basic_der != NULL) {
        rc = put(resp, "responseBytes.responseType", OID_OCSP_BASIC, 1);
        if (rc == WD_OK) {
            rc = put(resp, "responseBytes.response", basic_der, (int)basic_len);
        }
    } else if (rc == WD_OK) {
        rc = put(resp, "responseBytes", NULL, 0);
    }
    if (rc == WD_OK) {
        rc = encode(resp, der, der_len);
    }
    asn1_delete_structure(&resp);
    return rc;
}

/* What pki_ocsp_resp_build wrote with libtasn1, signature sig. */
static enum wd_err
reference_build(const struct pki_ocsp_responder *r,
                const struct pki_ocsp_req *req, const struct pki_ocsp_answer *a,
                const gnutls_datum_t *sig, uint8_t **der, size_t *der_len)
{
    asn1_node basic = NULL;
    uint8_t *basic_der = NULL;
    size_t basic_len = 0;
    enum wd_err rc = WD_E_INTERNAL;

    if (!req->ours || req->cert_id_len == 0 ||
        req->cert_id_len > sizeof(req->cert_id)) {
        return WD_E_INTERNAL;
    }
    rc = pki_ocsp_asn_new("BasicOCSPResponse", &basic);
    if (rc == WD_OK) {
        rc = put_response_data(basic, r, req, a);
    }
    if (rc == WD_OK) {
        rc = put_signature(basic, r, sig);
    }
    if (rc == WD_OK) {
        rc = encode(basic, &basic_der, &basic_len);
    }
    if (rc == WD_OK) {
        rc = reference_wrap(0, basic_der, basic_len, der, der_len);
    }
    free(basic_der);
    asn1_delete_structure(&basic);
    return rc;
}

/*
 * pki_ocsp_resp_build's response for r, req and a is byte for byte what
 * the reference writes with the same signature, and that signature
 * verifies over the ResponseData written.
 */
static void
assert_same_as_reference(const struct ca_fixture *c,
                         const struct pki_ocsp_responder *r,
                         const struct pki_ocsp_req *req,
                         const struct pki_ocsp_answer *a)
{
    gnutls_datum_t der = { NULL, 0 };
    gnutls_datum_t sig = { NULL, 0 };
    gnutls_ocsp_resp_t resp = build(r, req, a, &der);
    uint8_t *want = NULL;
    size_t want_len = 0;
    unsigned verify = 1;

    assert_int_equal(gnutls_ocsp_resp_get_signature(resp, &sig), 0);
    assert_wd_err(reference_build(r, req, a, &sig, &want, &want_len), WD_OK);
    assert_int_equal(der.size, want_len);
    assert_memory_equal(der.data, want, want_len);
    assert_int_equal(gnutls_ocsp_resp_verify_direct(
                         resp,
                         r == c->delegated ? c->responder_crt : c->intermediate,
                         &verify, 0),
                     0);
    assert_int_equal(verify, 0);
    free(want);
    gnutls_free(sig.data);
    free(der.data);
    gnutls_ocsp_resp_deinit(resp);
}

/* Both builders refuse r, req and a, and write nothing. */
static void
assert_both_refuse(const struct pki_ocsp_responder *r,
                   const struct pki_ocsp_req *req,
                   const struct pki_ocsp_answer *a)
{
    static const uint8_t fake[64];
    gnutls_datum_t sig = { (unsigned char *)fake, sizeof(fake) };
    uint8_t *der = NULL;
    size_t len = 0;

    assert_wd_err(pki_ocsp_resp_build(r, req, a, &der, &len), WD_E_INTERNAL);
    assert_null(der);
    assert_wd_err(reference_build(r, req, a, &sig, &der, &len), WD_E_INTERNAL);
    assert_null(der);
}

/* RFC 5280 5.3.1 codes but 7, and -1 (no reason) */
static const int reasons_all[] = { -1, 0, 1, 2, 3, 4, 5, 6, 8, 9, 10 };

/* Every status, reason and nextUpdate for req, from both responders. */
static void
compare_answers(const struct fixtures *f, const struct ca_fixture *c,
                const struct pki_ocsp_req *req)
{
    const struct pki_ocsp_responder *responders[] = { c->delegated, c->direct };
    struct pki_ocsp_answer a;
    size_t i;
    size_t j;
    int next;

    for (i = 0; i < 2; i++) {
        for (next = 0; next < 2; next++) {
            a = answer(f->now, PKI_OCSP_GOOD, -1);
            a.next_update = next ? a.next_update : 0;
            assert_same_as_reference(c, responders[i], req, &a);
            a.status = PKI_OCSP_UNKNOWN;
            assert_same_as_reference(c, responders[i], req, &a);
            for (j = 0; j < sizeof(reasons_all) / sizeof(reasons_all[0]); j++) {
                a = answer(f->now, PKI_OCSP_REVOKED, reasons_all[j]);
                a.next_update = next ? a.next_update : 0;
                assert_same_as_reference(c, responders[i], req, &a);
            }
        }
    }
}

/* Requests of c: both CertID hashes, no nonce and nonces of 1, 16 and
 * PKI_OCSP_MAX_NONCE octets (the last with two-octet lengths), and a
 * CertID GnuTLS would never write (hash parameters absent). */
static void
compare_requests(const struct fixtures *f, const struct ca_fixture *c)
{
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req;
    size_t i;

    req = request(c, GNUTLS_DIG_SHA1, NULL, 0, &req_der);
    gnutls_free(req_der.data);
    compare_answers(f, c, &req);
    req = request(c, GNUTLS_DIG_SHA256, nonce16, sizeof(nonce16), &req_der);
    gnutls_free(req_der.data);
    compare_answers(f, c, &req);
    req.nonce_len = 1;
    compare_answers(f, c, &req);
    for (i = 0; i < PKI_OCSP_MAX_NONCE; i++) {
        req.nonce[i] = (uint8_t)(0xff - i);
    }
    req.nonce_len = PKI_OCSP_MAX_NONCE;
    compare_answers(f, c, &req);
    memmove(req.cert_id + 15, req.cert_id + 17, req.cert_id_len - 17);
    req.cert_id_len -= 2;
    req.cert_id[1] -= 2;
    req.cert_id[3] -= 2;
    compare_answers(f, c, &req);
}

static void
test_pki_ocsp_resp_build_writes_what_libtasn1_wrote(void **state)
{
    const struct fixtures *f = *state;

    compare_requests(f, &f->p256);
    compare_requests(f, &f->rsa);
    compare_requests(f, &f->ed25519);
}

static void
test_pki_ocsp_resp_build_writes_every_time_as_libtasn1_did(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    /* the first and last second of four-digit years, 1970, the RFC 5280
     * UTCTime years (GeneralizedTime all the same here), leap days */
    static const time_t times[] = {
        -30610224000,
        -30610223999,
        -2208988801,
        -631152001,
        -631152000,
        -86401,
        -1,
        0,
        1,
        951782399,
        951782400,
        951868800,
        1700000000,
        2524607999,
        2524608000,
        4107456000,
        4107542400,
        253402300799,
    };
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req =
        request(c, GNUTLS_DIG_SHA1, nonce16, sizeof(nonce16), &req_der);
    struct pki_ocsp_answer a = answer(f->now, PKI_OCSP_REVOKED, 1);
    uint64_t x = 0x9e3779b97f4a7c15u;
    size_t i;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        a.produced_at = times[i];
        a.this_update = times[(i + 1) % (sizeof(times) / sizeof(times[0]))];
        a.next_update = times[(i + 2) % (sizeof(times) / sizeof(times[0]))];
        a.revoked_at = times[(i + 3) % (sizeof(times) / sizeof(times[0]))];
        assert_same_as_reference(c, c->direct, &req, &a);
    }
    /* any second of any four-digit year */
    for (i = 0; i < 500; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        a.produced_at =
            (time_t)(-30610224000 +
                     (int64_t)(x >> 1) % (253402300800 + 30610224000));
        a.revoked_at = a.produced_at - (time_t)(x % 1000003);
        a.this_update = a.produced_at - (time_t)(x % 86400);
        a.next_update = a.produced_at + (time_t)(x % 86400);
        if (a.revoked_at < -30610224000 || a.this_update < -30610224000 ||
            a.next_update > 253402300799) {
            continue;
        }
        assert_same_as_reference(c, c->direct, &req, &a);
    }
    gnutls_free(req_der.data);
}

static void
test_pki_ocsp_resp_build_refuses_what_libtasn1_refused(void **state)
{
    const struct fixtures *f = *state;
    const struct ca_fixture *c = &f->p256;
    gnutls_datum_t req_der = { NULL, 0 };
    struct pki_ocsp_req req =
        request(c, GNUTLS_DIG_SHA1, nonce16, sizeof(nonce16), &req_der);
    struct pki_ocsp_req bad;
    struct pki_ocsp_answer good = answer(f->now, PKI_OCSP_GOOD, -1);
    struct pki_ocsp_answer a;
    /* the last second before year 1000, the first of year 10000 */
    static const time_t out_of_range[] = { -30610224001, 253402300800 };
    size_t i;

    a = answer(f->now, PKI_OCSP_REVOKED, 7); /* RFC 5280 5.3.1: unused */
    assert_both_refuse(c->direct, &req, &a);
    a.reason = 11;
    assert_both_refuse(c->direct, &req, &a);
    a.status = (enum pki_ocsp_status)3;
    assert_both_refuse(c->direct, &req, &a);
    for (i = 0; i < 2; i++) {
        a = answer(f->now, PKI_OCSP_REVOKED, 1);
        a.produced_at = out_of_range[i];
        assert_both_refuse(c->direct, &req, &a);
        a = answer(f->now, PKI_OCSP_REVOKED, 1);
        a.revoked_at = out_of_range[i];
        assert_both_refuse(c->direct, &req, &a);
        a = answer(f->now, PKI_OCSP_REVOKED, 1);
        a.this_update = out_of_range[i];
        assert_both_refuse(c->direct, &req, &a);
        a = answer(f->now, PKI_OCSP_REVOKED, 1);
        a.next_update = out_of_range[i];
        assert_both_refuse(c->direct, &req, &a);
    }
    bad = req;
    bad.nonce_len = 0;
    assert_both_refuse(c->direct, &bad, &good);
    bad.nonce_len = PKI_OCSP_MAX_NONCE + 1;
    assert_both_refuse(c->direct, &bad, &good);
    bad = req;
    bad.ours = false;
    assert_both_refuse(c->direct, &bad, &good);
    bad = req;
    bad.cert_id_len = 0;
    assert_both_refuse(c->direct, &bad, &good);
    bad.cert_id_len = sizeof(bad.cert_id) + 1;
    assert_both_refuse(c->direct, &bad, &good);
    /* a reason below zero is no reason, for both */
    a = answer(f->now, PKI_OCSP_REVOKED, -2);
    assert_same_as_reference(c, c->delegated, &req, &a);
    gnutls_free(req_der.data);
}

static void
test_pki_ocsp_resp_error_writes_what_libtasn1_wrote(void **state)
{
    static const enum pki_ocsp_error statuses[] = {
        PKI_OCSP_MALFORMED_REQUEST,
        PKI_OCSP_INTERNAL_ERROR,
        PKI_OCSP_TRY_LATER,
        PKI_OCSP_UNAUTHORIZED,
    };
    uint8_t *der = NULL;
    uint8_t *want = NULL;
    size_t len = 0;
    size_t want_len = 0;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        assert_wd_err(pki_ocsp_resp_error(statuses[i], &der, &len), WD_OK);
        assert_wd_err(
            reference_wrap((int)statuses[i], NULL, 0, &want, &want_len), WD_OK);
        assert_int_equal(len, want_len);
        assert_memory_equal(der, want, len);
        free(der);
        free(want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_ocsp_resp_build_answers_good_from_the_delegated_responder),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_answers_revoked_with_time_and_reason),
        cmocka_unit_test(test_pki_ocsp_resp_build_leaves_an_unknown_reason_out),
        cmocka_unit_test(test_pki_ocsp_resp_build_answers_unknown),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_signs_with_the_intermediate_without_certs),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_names_the_responder_by_key_hash),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_echoes_the_certid_byte_for_byte),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_echoes_a_nonce_only_when_asked),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_leaves_next_update_out_when_zero),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_signs_with_rsa_and_null_parameters),
        cmocka_unit_test(test_pki_ocsp_resp_build_signs_with_ed25519),
        cmocka_unit_test(test_pki_ocsp_resp_build_satisfies_openssl_ocsp),
        cmocka_unit_test(test_pki_ocsp_resp_build_refuses_a_request_not_ours),
        cmocka_unit_test(test_pki_ocsp_resp_build_writes_what_libtasn1_wrote),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_writes_every_time_as_libtasn1_did),
        cmocka_unit_test(
            test_pki_ocsp_resp_build_refuses_what_libtasn1_refused),
        cmocka_unit_test(test_pki_ocsp_resp_error_is_the_status_alone),
        cmocka_unit_test(test_pki_ocsp_resp_error_writes_what_libtasn1_wrote),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
