/*
 * Leaf certificates written as DER by hand: the issuance path every API
 * call, renewal and ACME order goes through. GnuTLS's certificate API
 * builds a libtasn1 tree node by node, verifies the CSR again inside
 * gnutls_x509_crt_set_crq and decodes the result once more; together that
 * cost three times the signature (issue #7's profile). Here the subject
 * and the key go in byte for byte as the request carried them (GnuTLS
 * decoded it as strict DER, and copies the same bytes), every extension is
 * a few fixed shapes, and the struct pki_cert comes from what was written
 * instead of a second decode. tests/unit/test_pki_leaf.c holds the result
 * against a certificate GnuTLS's own API builds from the same inputs.
 */
#include "pki_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/parse.h"
#include "../base/xmalloc.h"

/* Pre-encoded OIDs, tag and length included: the extensions a leaf
 * carries (RFC 5280 4.2.1, id-ce 2.5.29 and 4.2.2.1 id-pe-authorityInfo
 * Access 1.3.6.1.5.5.7.1.1), the AIA access methods (id-ad-ocsp and
 * id-ad-caIssuers, 1.3.6.1.5.5.7.48.1 and .2) and the key purposes
 * (id-kp-serverAuth and clientAuth, 1.3.6.1.5.5.7.3.1 and .2).
 * test_pki_leaf holds every byte to what GnuTLS writes. */
#define ID_CE(n)                                                               \
    {                                                                          \
        PKI_DER_OID, 3, 0x55, 0x1d, (n)                                        \
    }
#define ID_PKIX(a, b)                                                          \
    {                                                                          \
        PKI_DER_OID, 8, 0x2b, 6, 1, 5, 5, 7, (a), (b)                          \
    }
static const uint8_t oid_san[] = ID_CE(17);
static const uint8_t oid_basic_constraints[] = ID_CE(19);
static const uint8_t oid_key_usage[] = ID_CE(15);
static const uint8_t oid_ski[] = ID_CE(14);
static const uint8_t oid_aki[] = ID_CE(35);
static const uint8_t oid_crl_dp[] = ID_CE(31);
static const uint8_t oid_eku[] = ID_CE(37);
static const uint8_t oid_aia[] = ID_PKIX(1, 1);
static const uint8_t oid_ad_ocsp[] = ID_PKIX(48, 1);
static const uint8_t oid_ad_ca_issuers[] = ID_PKIX(48, 2);
static const uint8_t oid_kp_server[] = ID_PKIX(3, 1);
static const uint8_t oid_kp_client[] = ID_PKIX(3, 2);

/* GeneralName (RFC 5280 4.2.1.6): uniformResourceIdentifier [6] IA5String */
#define GN_URI PKI_DER_CONTEXT_PRIM(6)
/* AuthorityKeyIdentifier's keyIdentifier [0] */
#define AKI_KEY_ID PKI_DER_CONTEXT_PRIM(0)
/* X.509 v3 is version 2 (RFC 5280 4.1.2.1) */
#define X509_V3 2
/* TBSCertificate's [0] version and [3] extensions */
#define TBS_VERSION PKI_DER_CONTEXT(0)
#define TBS_EXTENSIONS PKI_DER_CONTEXT(3)

/* Room in front for the TBSCertificate's and the Certificate's headers. */
#define LEAF_HEADROOM (2 * PKI_DER_HEADER_MAX)

/* Longest URL we write: public_url is configuration, not input. */
#define URL_MAX 2048

/*
 * Like pki_der_read, but *whole is the element with its identifier and
 * length octets: a Name or a SubjectPublicKeyInfo to copy as it is.
 */
static bool
read_whole(struct pki_der_in *in, uint8_t tag, struct pki_der_in *whole)
{
    const uint8_t *start = in->p;
    struct pki_der_in content;

    if (!pki_der_read(in, tag, &content)) {
        return false;
    }
    whole->p = start;
    whole->len = (size_t)(in->p - start);
    return true;
}

/*
 * The subject Name and SubjectPublicKeyInfo of a DER CertificationRequest
 * (RFC 2986 4) or, with cert, of a Certificate (RFC 5280 4.1), each with
 * its header, pointing into der. False if der is not shaped so.
 */
bool
pki_subject_and_key(const uint8_t *der, size_t len, bool cert,
                    struct pki_der_in *subject, struct pki_der_in *spki)
{
    struct pki_der_in in = { der, len };
    struct pki_der_in outer;
    struct pki_der_in info;
    struct pki_der_in skip;

    if (!pki_der_read(&in, PKI_DER_SEQUENCE, &outer) ||
        !pki_der_read(&outer, PKI_DER_SEQUENCE, &info)) {
        return false;
    }
    if (cert) {
        /* [0] version, serial, signature, issuer, validity */
        return pki_der_read(&info, TBS_VERSION, &skip) &&
               pki_der_read(&info, PKI_DER_INTEGER, &skip) &&
               pki_der_read(&info, PKI_DER_SEQUENCE, &skip) &&
               pki_der_read(&info, PKI_DER_SEQUENCE, &skip) &&
               pki_der_read(&info, PKI_DER_SEQUENCE, &skip) &&
               read_whole(&info, PKI_DER_SEQUENCE, subject) &&
               read_whole(&info, PKI_DER_SEQUENCE, spki);
    }
    /* version, subject, subjectPKInfo */
    return pki_der_read(&info, PKI_DER_INTEGER, &skip) &&
           read_whole(&info, PKI_DER_SEQUENCE, subject) &&
           read_whole(&info, PKI_DER_SEQUENCE, spki);
}

/* Opens an Extension (RFC 5280 4.1): its SEQUENCE and the extnValue's
 * OCTET STRING, whose content the caller writes; close with ext_end. */
struct ext_marks {
    size_t ext;
    size_t value;
};

static void
ext_begin(struct pki_der *d, const uint8_t *oid, size_t oid_len, bool critical,
          struct ext_marks *m)
{
    m->ext = pki_der_begin(d, PKI_DER_SEQUENCE);
    pki_der_raw(d, oid, oid_len);
    if (critical) {
        pki_der_boolean(d, true);
    }
    m->value = pki_der_begin(d, PKI_DER_OCTET_STRING);
}

#define EXT_BEGIN(d, oid, critical, m)                                         \
    ext_begin((d), (oid), sizeof(oid), (critical), (m))

static void
ext_end(struct pki_der *d, const struct ext_marks *m)
{
    pki_der_end(d, m->value);
    pki_der_end(d, m->ext);
}

/* A GeneralName URI under the public listener; false if it does not fit. */
static bool
put_public_uri(struct pki_der *d, const struct pki_ca *ca, const char *path)
{
    char url[URL_MAX];
    int n = snprintf(url, sizeof(url), "%s%s", ca->public_url, path);

    if (n <= 0 || (size_t)n >= sizeof(url)) {
        log_err("event=cert_issue err=\"public_url too long\"");
        return false;
    }
    pki_der_prim(d, GN_URI, url, (size_t)n);
    return true;
}

/*
 * RFC 5280 4.2.1.3: keyUsage as GnuTLS writes it, a BIT STRING of the
 * first byte of the GNUTLS_KEY_* bits (which are the X.509 bit values)
 * with its trailing zero bits marked unused. Critical.
 */
static void
put_key_usage(struct pki_der *d, unsigned usage)
{
    struct ext_marks m;
    uint8_t bits[2];
    uint8_t unused = 0;

    bits[1] = (uint8_t)(usage & 0xff);
    while (unused < 7 && (bits[1] & (1u << unused)) == 0) {
        unused++;
    }
    bits[0] = unused;
    EXT_BEGIN(d, oid_key_usage, true, &m);
    pki_der_prim(d, PKI_DER_BIT_STRING, bits, sizeof(bits));
    ext_end(d, &m);
}

/* RFC 5280 4.2.1.3: what the subject key may do, by algorithm. */
static unsigned
key_usage(const char *key_type)
{
    if (strncmp(key_type, "rsa-", 4) == 0) {
        /* RSA key transport (TLS 1.2 RSA key exchange) encrypts to it */
        return GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
    }
    return GNUTLS_KEY_DIGITAL_SIGNATURE;
}

/* RFC 5280 4.2.1.6: SAN, critical when the subject is empty. */
static enum wd_err
put_sans(struct pki_der *d, const struct pki_csr *names)
{
    gnutls_datum_t value = { NULL, 0 };
    struct ext_marks m;
    enum wd_err rc;

    if (names->n_sans == 0) {
        return WD_OK;
    }
    rc = pki_sans_encode(names->sans, names->n_sans, &value);
    if (rc != WD_OK) {
        return rc;
    }
    EXT_BEGIN(d, oid_san, names->subject == NULL || names->subject[0] == '\0',
              &m);
    pki_der_raw(d, value.data, value.size);
    ext_end(d, &m);
    gnutls_free(value.data);
    return WD_OK;
}

/* basicConstraints CA:FALSE (critical), keyUsage, SKI, AKI. */
static void
put_key_extensions(struct pki_der *d, const struct pki_ca *ca,
                   const char *key_type, const uint8_t *ski, size_t ski_len)
{
    struct ext_marks m;
    size_t mark;

    /* RFC 5280 4.2.1.9: an empty SEQUENCE, cA's DEFAULT FALSE left out */
    EXT_BEGIN(d, oid_basic_constraints, true, &m);
    pki_der_header(d, PKI_DER_SEQUENCE, 0);
    ext_end(d, &m);
    put_key_usage(d, key_usage(key_type));
    /* RFC 5280 4.2.1.2 */
    EXT_BEGIN(d, oid_ski, false, &m);
    pki_der_prim(d, PKI_DER_OCTET_STRING, ski, ski_len);
    ext_end(d, &m);
    /* RFC 5280 4.2.1.1: the issuer's SKI as keyIdentifier */
    EXT_BEGIN(d, oid_aki, false, &m);
    mark = pki_der_begin(d, PKI_DER_SEQUENCE);
    pki_der_prim(d, AKI_KEY_ID, ca->ski, ca->ski_len);
    pki_der_end(d, mark);
    ext_end(d, &m);
}

/* CRL distribution point, AIA (OCSP, caIssuers), EKU. */
static enum wd_err
put_public_extensions(struct pki_der *d, const struct pki_ca *ca,
                      enum pki_profile profile)
{
    struct ext_marks m;
    bool server = false;
    bool client = false;
    size_t seq;
    size_t dp;
    size_t name;
    size_t full;
    size_t ad;

    /* RFC 5280 4.2.1.13: one DistributionPoint with a fullName URI */
    EXT_BEGIN(d, oid_crl_dp, false, &m);
    seq = pki_der_begin(d, PKI_DER_SEQUENCE);
    dp = pki_der_begin(d, PKI_DER_SEQUENCE);
    name = pki_der_begin(d, PKI_DER_CONTEXT(0)); /* distributionPoint */
    full = pki_der_begin(d, PKI_DER_CONTEXT(0)); /* fullName */
    if (!put_public_uri(d, ca, "/crl")) {
        return WD_E_CONFIG;
    }
    pki_der_end(d, full);
    pki_der_end(d, name);
    pki_der_end(d, dp);
    pki_der_end(d, seq);
    ext_end(d, &m);

    /* RFC 5280 4.2.2.1: the OCSP responder, then the issuer's certificate */
    EXT_BEGIN(d, oid_aia, false, &m);
    seq = pki_der_begin(d, PKI_DER_SEQUENCE);
    ad = pki_der_begin(d, PKI_DER_SEQUENCE);
    pki_der_raw(d, oid_ad_ocsp, sizeof(oid_ad_ocsp));
    if (!put_public_uri(d, ca, "/ocsp")) {
        return WD_E_CONFIG;
    }
    pki_der_end(d, ad);
    ad = pki_der_begin(d, PKI_DER_SEQUENCE);
    pki_der_raw(d, oid_ad_ca_issuers, sizeof(oid_ad_ca_issuers));
    if (!put_public_uri(d, ca, "/intermediate.crt")) {
        return WD_E_CONFIG;
    }
    pki_der_end(d, ad);
    pki_der_end(d, seq);
    ext_end(d, &m);

    /* RFC 5280 4.2.1.12: the profile's purposes, not critical */
    EXT_BEGIN(d, oid_eku, false, &m);
    seq = pki_der_begin(d, PKI_DER_SEQUENCE);
    (void)pki_profile_purposes(profile, &server, &client); /* prepare's */
    if (server) {
        pki_der_raw(d, oid_kp_server, sizeof(oid_kp_server));
    }
    if (client) {
        pki_der_raw(d, oid_kp_client, sizeof(oid_kp_client));
    }
    pki_der_end(d, seq);
    ext_end(d, &m);
    return WD_OK;
}

/* What one leaf is made of, gathered before anything is written. */
struct leaf_parts {
    struct pki_der_in subject; /* Name, with header */
    struct pki_der_in spki;    /* SubjectPublicKeyInfo, with header */
    const struct pki_csr *names;
    uint8_t serial[PKI_SERIAL_MAX_BYTES];
    size_t serial_len;
    uint8_t ski[20]; /* SHA-1 of the SubjectPublicKeyInfo */
    time_t not_before;
    time_t not_after;
};

/* The TBSCertificate (RFC 5280 4.1.2) into d. */
static enum wd_err
put_tbs(struct pki_der *d, const struct pki_ca *ca, const struct leaf_parts *p,
        enum pki_profile profile, const uint8_t *alg, size_t alg_len)
{
    gnutls_datum_t issuer = { NULL, 0 };
    size_t mark;
    size_t list;
    enum wd_err rc;
    int ret;

    mark = pki_der_begin(d, TBS_VERSION);
    pki_der_uint(d, PKI_DER_INTEGER, X509_V3);
    pki_der_end(d, mark);
    pki_der_integer(d, p->serial, p->serial_len);
    pki_der_raw(d, alg, alg_len);
    /* the intermediate's subject byte for byte, as chain building
     * compares names */
    ret = gnutls_x509_crt_get_raw_dn(ca->intermediate, &issuer);
    if (ret < 0) {
        log_err("event=cert_issue what=issuer err=\"%s\"",
                gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    pki_der_raw(d, issuer.data, issuer.size);
    gnutls_free(issuer.data);
    mark = pki_der_begin(d, PKI_DER_SEQUENCE);
    if (pki_der_time(d, p->not_before) != WD_OK ||
        pki_der_time(d, p->not_after) != WD_OK) {
        return WD_E_INTERNAL;
    }
    pki_der_end(d, mark);
    pki_der_raw(d, p->subject.p, p->subject.len);
    pki_der_raw(d, p->spki.p, p->spki.len);

    mark = pki_der_begin(d, TBS_EXTENSIONS);
    list = pki_der_begin(d, PKI_DER_SEQUENCE);
    rc = put_sans(d, p->names);
    if (rc == WD_OK) {
        put_key_extensions(d, ca, p->names->key_type, p->ski, sizeof(p->ski));
        rc = put_public_extensions(d, ca, profile);
    }
    if (rc != WD_OK) {
        return rc;
    }
    pki_der_end(d, list);
    pki_der_end(d, mark);
    return WD_OK;
}

/* Copies n names. */
static struct pki_san *
sans_dup(const struct pki_san *sans, size_t n)
{
    struct pki_san *out;
    size_t i;

    if (n == 0) {
        return NULL;
    }
    out = xcalloc(n, sizeof(*out));
    for (i = 0; i < n; i++) {
        out[i].type = sans[i].type;
        out[i].value = xstrdup(sans[i].value);
    }
    return out;
}

/*
 * The decoded view of the leaf just written (what pki_cert_parse would
 * read back from it): the names are the ones that went in. *out takes der
 * on success; on failure der is still the caller's.
 */
static enum wd_err
describe(const struct leaf_parts *p, enum pki_profile profile, uint8_t *der,
         size_t der_len, struct pki_cert **out)
{
    struct pki_cert *cert = xcalloc(1, sizeof(*cert));
    enum wd_err rc;

    /* at most 20 octets: prepare decoded it from 40 hex digits */
    (void)pki_serial_hex(p->serial, p->serial_len, cert->serial);
    cert->der = der;
    cert->der_len = der_len;
    cert->subject = xstrdup(p->names->subject != NULL ? p->names->subject : "");
    cert->cn = p->names->cn != NULL ? xstrdup(p->names->cn) : NULL;
    cert->sans = sans_dup(p->names->sans, p->names->n_sans);
    cert->n_sans = p->names->n_sans;
    memcpy(cert->key_type, p->names->key_type, sizeof(cert->key_type));
    cert->profile = profile;
    cert->not_before = p->not_before;
    cert->not_after = p->not_after;
    rc = pki_der_fingerprint(der, der_len, cert->fingerprint);
    if (rc == WD_OK) {
        rc = pki_der_to_pem("CERTIFICATE", der, der_len, &cert->pem);
    }
    if (rc != WD_OK) {
        cert->der = NULL; /* still the caller's, who frees it */
        pki_cert_free(cert);
        return rc;
    }
    *out = cert;
    return WD_OK;
}

/* Serial, validity and key id: the checks pki_cert_issue promises. */
static enum wd_err
prepare(const struct pki_ca *ca, const struct pki_issue *req,
        struct leaf_parts *p)
{
    bool server;
    bool client;
    enum wd_err rc;
    int ret;

    if (!pki_profile_purposes(req->profile, &server, &client)) {
        return WD_E_BAD_PROFILE;
    }
    if (!pki_serial_decode(req->serial, p->serial, &p->serial_len)) {
        return WD_E_BAD_SERIAL;
    }
    rc = pki_leaf_validity(ca, req->now, req->validity_s, &p->not_before,
                           &p->not_after);
    if (rc != WD_OK) {
        return rc;
    }
    /* RFC 5280 4.2.1.2 method 1's hash, over the whole
     * SubjectPublicKeyInfo as GnuTLS's key id does */
    ret = gnutls_hash_fast(GNUTLS_DIG_SHA1, p->spki.p, p->spki.len, p->ski);
    if (ret < 0) {
        log_err("event=cert_issue what=ski err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/* Writes, signs and describes the leaf p and req make. */
static enum wd_err
build(const struct pki_ca *ca, struct leaf_parts *p,
      const struct pki_issue *req, struct pki_cert **out)
{
    struct pki_der alg = { 0 };
    struct pki_der d;
    gnutls_datum_t tbs;
    gnutls_datum_t sig = { NULL, 0 };
    const uint8_t *alg_der;
    size_t alg_len;
    uint8_t *der;
    size_t der_len;
    enum wd_err rc;

    pki_der_init(&d, LEAF_HEADROOM);
    rc = prepare(ca, req, p);
    if (rc == WD_OK) {
        rc = pki_der_sig_algorithm(&alg, pki_signer_algorithm(ca->signer));
    }
    if (rc == WD_OK) {
        alg_der = pki_der_data(&alg, &alg_len);
        rc = put_tbs(&d, ca, p, req->profile, alg_der, alg_len);
    }
    if (rc != WD_OK) {
        goto out;
    }
    pki_der_wrap(&d, PKI_DER_SEQUENCE);
    tbs.data = (unsigned char *)pki_der_data(&d, &der_len);
    tbs.size = (unsigned)der_len;
    rc = pki_signer_sign_data(ca->signer, &tbs, &sig);
    if (rc != WD_OK) {
        goto out;
    }
    /* Certificate: tbsCertificate, signatureAlgorithm, signatureValue */
    pki_der_raw(&d, alg_der, alg_len);
    pki_der_bit_string(&d, sig.data, sig.size);
    pki_der_wrap(&d, PKI_DER_SEQUENCE);
    der = pki_der_take(&d, &der_len);
    rc = describe(p, req->profile, der, der_len, out);
    if (rc != WD_OK) {
        free(der);
    }
out:
    gnutls_free(sig.data);
    pki_der_clear(&alg);
    pki_der_clear(&d);
    return rc;
}

/*
 * Build and sign a leaf certificate as PRODUCT.md lists: v3, the serial
 * req->serial, issuer the intermediate, not_before now - WD_BACKDATE_S,
 * not_after now + validity_s but never past the intermediate's, subject
 * and key from the CSR, SAN from the checked names, basicConstraints
 * CA:FALSE, keyUsage per key type, EKU per profile, SKI, AKI, CRL DP and
 * AIA on the public URL. Caller owns *out (pki_cert_free). WD_E_BAD_SERIAL,
 * WD_E_BAD_PROFILE, WD_E_BAD_VALIDITY for a bad request, WD_E_CONFIG once
 * the intermediate has expired, WD_E_INTERNAL (logged) otherwise.
 */
enum wd_err
pki_cert_issue(const struct pki_ca *ca, const struct pki_issue *req,
               struct pki_cert **out)
{
    struct leaf_parts p = { 0 };

    if (req->csr == NULL || req->csr->der == NULL) {
        log_err("event=cert_issue err=\"no request\"");
        return WD_E_INTERNAL;
    }
    if (!pki_subject_and_key(req->csr->der, req->csr->der_len, false,
                             &p.subject, &p.spki)) {
        log_err("event=cert_issue err=\"request not shaped as PKCS#10\"");
        return WD_E_INTERNAL;
    }
    p.names = req->csr;
    return build(ca, &p, req, out);
}

/*
 * Renewal without a new key: subject, key and SANs of the old certificate
 * (old_der, one we issued), everything else fresh as in pki_cert_issue.
 */
enum wd_err
pki_cert_renew(const struct pki_ca *ca, const uint8_t *old_der, size_t old_len,
               enum pki_profile profile, const char *serial,
               uint64_t validity_s, time_t now, struct pki_cert **out)
{
    struct pki_cert *old = NULL;
    struct pki_csr names = { 0 };
    struct leaf_parts p = { 0 };
    struct pki_issue req = {
        .csr = &names,
        .profile = profile,
        .serial = serial,
        .validity_s = validity_s,
        .now = now,
    };
    enum wd_err rc;

    rc = pki_cert_parse(old_der, old_len, &old);
    if (rc != WD_OK) {
        return rc;
    }
    if (!pki_subject_and_key(old_der, old_len, true, &p.subject, &p.spki)) {
        log_err("event=cert_renew err=\"certificate not shaped as X.509\"");
        pki_cert_free(old);
        return WD_E_INTERNAL;
    }
    /* what the renewed certificate names: exactly the old one's */
    names.subject = old->subject;
    names.cn = old->cn;
    names.sans = old->sans;
    names.n_sans = old->n_sans;
    memcpy(names.key_type, old->key_type, sizeof(names.key_type));
    p.names = &names;
    rc = build(ca, &p, &req, out);
    pki_cert_free(old);
    return rc;
}
