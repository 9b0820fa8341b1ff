/*
 * The PKI core: CSR intake, certificate building, the CA's own material,
 * client-certificate verification. GnuTLS does the X.509 work. This module
 * has never heard of HTTP, JSON, SQL or files: it takes and returns bytes
 * and typed structs. Only pki_signer.c touches the intermediate's key.
 */
#ifndef WD_PKI_H
#define WD_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../base/err.h"
#include "../base/limits.h"

/* Key types we generate for the CA (PRODUCT: init --key-type). */
enum pki_keygen {
    PKI_KEYGEN_ECDSA_P256,
    PKI_KEYGEN_ECDSA_P384,
    PKI_KEYGEN_RSA_2048,
    PKI_KEYGEN_RSA_3072,
    PKI_KEYGEN_RSA_4096,
    PKI_KEYGEN_ED25519,
};

/* "ecdsa-p256" etc.; false for anything else. */
bool pki_keygen_parse(const char *name, enum pki_keygen *out);
const char *pki_keygen_name(enum pki_keygen kg);

/* Extended key usage sets (PRODUCT: profiles). */
enum pki_profile {
    PKI_PROFILE_SERVER,        /* serverAuth */
    PKI_PROFILE_CLIENT,        /* clientAuth */
    PKI_PROFILE_SERVER_CLIENT, /* both; the default */
    PKI_PROFILE_OCSP_SIGNING,  /* our delegated OCSP responder; read
                                  back from certificates, never requested */
};

bool pki_profile_parse(const char *name, enum pki_profile *out);
const char *pki_profile_name(enum pki_profile p);

enum pki_san_type { PKI_SAN_DNS, PKI_SAN_IP, PKI_SAN_EMAIL, PKI_SAN_URI };

struct pki_san {
    enum pki_san_type type;
    char *value; /* DNS name, IP in text form, address or URI; NUL-free */
};

/* "DNS", "IP", "email", "URI". */
const char *pki_san_type_name(enum pki_san_type t);

/*
 * A certificate signing request that passed every intake check: exactly
 * one PEM block or one DER object, signature verified, key allowed, every
 * name well-formed. Fields are owned by the struct (pki_csr_free).
 */
struct pki_csr {
    char *subject;        /* RFC 4514 text, may be "" */
    char *cn;             /* the subject's CN, or NULL */
    struct pki_san *sans; /* after the CN-to-DNS-SAN rule */
    size_t n_sans;
    char key_type[24]; /* "ecdsa-p256", "rsa-2048", "ed25519", ... */
    uint8_t *der;      /* the request as DER, private to pki/ */
    size_t der_len;
};

/*
 * Decode and check one CSR from PEM or DER. On success the caller owns *out
 * (pki_csr_free); on failure *out is untouched and the reason is returned:
 * WD_E_CSR_SYNTAX, WD_E_CSR_SIGNATURE, WD_E_WEAK_KEY, WD_E_UNSUPPORTED_KEY,
 * WD_E_BAD_NAME, WD_E_NO_NAMES, WD_E_TOO_MANY_NAMES.
 */
enum wd_err pki_csr_parse(const uint8_t *buf, size_t len, struct pki_csr **out);
void pki_csr_free(struct pki_csr *csr);

/* Name checks used by the CSR intake (and later by grants). */
bool pki_name_is_dns(const char *s, size_t len);

/* An issued certificate, decoded: what the store and the API need. */
struct pki_cert {
    char serial[WD_MAX_SERIAL_HEX + 1]; /* lowercase hex, no leading 00 */
    uint8_t *der;
    size_t der_len;
    char *pem;
    char *subject; /* RFC 4514 text */
    char *cn;      /* or NULL */
    struct pki_san *sans;
    size_t n_sans;
    char key_type[24];
    enum pki_profile profile; /* from the EKU */
    time_t not_before;        /* seconds, UTC */
    time_t not_after;         /* seconds, UTC */
    char fingerprint[65];     /* SHA-256 of the DER, lowercase hex */
};

/* Decode a DER certificate (one we issued). Caller owns *out. */
enum wd_err pki_cert_parse(const uint8_t *der, size_t len,
                           struct pki_cert **out);
void pki_cert_free(struct pki_cert *cert);

/* One X.509v3 extension as a person reads it (pki_cert_info.c). */
struct pki_ext_info {
    char oid[64];  /* dotted */
    char name[48]; /* "keyUsage", ...; the OID again when unknown */
    bool critical;
    char *value; /* human text, e.g. "CA:FALSE" or "digitalSignature,
                    keyEncipherment"; hex of the DER when unknown */
};

/* The decoded certificate behind the inventory's detail view. */
struct pki_cert_info {
    char *subject; /* RFC 4514 */
    char *issuer;  /* RFC 4514 */
    char serial[WD_MAX_SERIAL_HEX + 1];
    int version;                  /* 3 for X.509v3 */
    time_t not_before;            /* seconds, UTC */
    time_t not_after;             /* seconds, UTC */
    char key_algorithm[16];       /* "ECDSA", "RSA", "Ed25519", ... */
    unsigned key_bits;            /* 256, 2048, ... */
    char key_curve[16];           /* "P-256", ... or "" */
    char signature_algorithm[32]; /* "ECDSA-SHA256", ... */
    struct pki_san *sans;
    size_t n_sans;
    struct pki_ext_info *exts;
    size_t n_exts;
    char fingerprint_sha256[65]; /* lowercase hex */
    char fingerprint_sha1[41];   /* lowercase hex, for tools that show it */
};

/*
 * Decode any DER certificate for display (not only ours): every extension
 * is listed, known ones rendered as text. Caller owns *out
 * (pki_cert_info_free); WD_E_INTERNAL (logged) for bytes that are not
 * one DER certificate: the store only holds certificates we parsed.
 */
enum wd_err pki_cert_info_get(const uint8_t *der, size_t len,
                              struct pki_cert_info **out);
void pki_cert_info_free(struct pki_cert_info *info);

/*
 * A fresh serial: 128 bits from the CSPRNG, first byte non-zero so the hex
 * form is always 32 digits, positive once DER-encoded.
 */
enum wd_err pki_serial_new(char out[WD_MAX_SERIAL_HEX + 1]);

/*
 * The CA as serve uses it: root and intermediate certificates, and the
 * signer holding the intermediate's key. Never the root's key.
 */
struct pki_ca;

struct pki_ca_cfg {
    const char *root_pem;             /* ca.crt */
    const char *intermediate_pem;     /* intermediate.crt */
    const char *intermediate_key_pem; /* intermediate.key, PKCS#8 (encrypted
                                         or not); NULL with a URL */
    const char *intermediate_key_url; /* RFC 7512 PKCS#11 URL, or NULL */
    /* the encrypted key's passphrase, or the token's PIN; NULL for none
     * (a URL may carry pin-value or pin-source itself) */
    const char *intermediate_key_passphrase;
    const char *public_url; /* e.g. http://127.0.0.1:8080, no slash */
};

/*
 * Parse and cross-check the CA material (intermediate signed by the root,
 * key matches the intermediate). Caller owns *out (pki_ca_free).
 */
enum wd_err pki_ca_load(const struct pki_ca_cfg *cfg, struct pki_ca **out);
void pki_ca_free(struct pki_ca *ca);

const char *pki_ca_root_pem(const struct pki_ca *ca);
const char *pki_ca_chain_pem(const struct pki_ca *ca); /* intermediate+root */
const uint8_t *pki_ca_intermediate_der(const struct pki_ca *ca, size_t *len);
const char *pki_ca_key_type(const struct pki_ca *ca); /* intermediate's */
time_t pki_ca_not_after(const struct pki_ca *ca);     /* intermediate's */
const char *pki_ca_public_url(const struct pki_ca *ca);

/*
 * PKCS#11 (pki_signer.c). Loads module (a PKCS#11 library path), or with
 * NULL the modules p11-kit is configured with; call once, before the
 * first pki_ca_load with a URL. WD_E_CONFIG (logged) if it fails.
 */
enum wd_err pki_pkcs11_init(const char *module);

/*
 * Writes the private key in key_pem (decrypted with passphrase if it is
 * encrypted) into the token token_url names, with label, marked private
 * and sensitive, its ID the key's SHA-1 key id; pin (or the URL's
 * pin-value/pin-source) logs in. On success *key_url (caller frees) is
 * the new object's URL with token_url's query (pin-value, pin-source)
 * kept. WD_E_CONFIG (logged) for a key, token or PIN that does not work.
 */
enum wd_err pki_pkcs11_key_import(const char *key_pem, const char *passphrase,
                                  const char *token_url, const char *pin,
                                  const char *label, char **key_url);

/* What one issuance asks for; the CSR has passed pki_csr_parse. */
struct pki_issue {
    const struct pki_csr *csr;
    enum pki_profile profile;
    const char *serial;  /* from pki_serial_new */
    uint64_t validity_s; /* > 0; clipped to the intermediate's end */
    time_t now;          /* seconds, UTC */
};

/*
 * Build and sign a leaf certificate as PRODUCT.md lists: v3, issuer the
 * intermediate, not_before now - 5 min, basicConstraints CA:FALSE, keyUsage
 * per key type, EKU per profile, SKI, AKI, SAN, CRL DP and AIA on the
 * public URL. Nothing else from the CSR is copied. Caller owns *out.
 */
enum wd_err pki_cert_issue(const struct pki_ca *ca, const struct pki_issue *req,
                           struct pki_cert **out);

/*
 * Renewal without a new key: a fresh certificate with the subject, SANs
 * and public key of old_der (one we issued), for profile, with serial and
 * validity as in pki_cert_issue. Nothing else of the old certificate is
 * copied. Caller owns *out.
 */
enum wd_err pki_cert_renew(const struct pki_ca *ca, const uint8_t *old_der,
                           size_t old_len, enum pki_profile profile,
                           const char *serial, uint64_t validity_s, time_t now,
                           struct pki_cert **out);

/* A verified client of the API listener. */
struct pki_client {
    char serial[WD_MAX_SERIAL_HEX + 1];
    char fingerprint[65]; /* SHA-256 of the leaf DER, lowercase hex */
    char cn[256];         /* the leaf's CN, printable ASCII, or "" */
    time_t not_after;
};

/*
 * Verify a TLS peer's certificate list (leaf first, DER) against this CA:
 * chains to the root through our intermediate, within its validity at now,
 * usable for TLS client authentication. WD_E_CLIENT_CERT_MISSING for an
 * empty list, WD_E_CLIENT_CERT_INVALID otherwise. Revocation is the
 * caller's check (the store knows).
 */
enum wd_err pki_ca_verify_client(const struct pki_ca *ca,
                                 const uint8_t *const *ders, const size_t *lens,
                                 size_t n, time_t now, struct pki_client *out);

/*
 * Were the n DER certificates issued by the CA certificate issuer_pem
 * (issuer name and signature; validity not checked)? WD_OK with
 * *first_bad the index of the first that was not, n when all were;
 * WD_E_CONFIG if issuer_pem is unusable (pki_chain_check.c).
 */
enum wd_err pki_chain_check(const char *issuer_pem, const uint8_t *const *ders,
                            const size_t *lens, size_t n, size_t *first_bad);

/*
 * Everything init creates, as PEM. The root key is returned so the caller
 * can write it once for the operator to move offline; serve never reads it.
 */
struct pki_ca_new {
    char *root_key_pem;
    char *root_pem;
    char *intermediate_key_pem;
    char *intermediate_pem;
    char *server_key_pem;
    struct pki_cert *server; /* issued by the intermediate */
    char *admin_key_pem;
    struct pki_cert *admin; /* client profile, issued by the intermediate */
};

struct pki_ca_new_opts {
    const char *name; /* CA name used in the subjects */
    enum pki_keygen keygen;
    const char *const *hosts; /* server certificate names: DNS or IP */
    size_t n_hosts;
    const char *public_url;
    time_t now;
    uint64_t root_validity_s;         /* default 20 years */
    uint64_t intermediate_validity_s; /* default 10 years */
    uint64_t leaf_validity_s;         /* server/admin, default 1 year */
};

/* Create root, intermediate (pathlen 0), server and admin identities. */
enum wd_err pki_ca_create(const struct pki_ca_new_opts *opts,
                          struct pki_ca_new *out);
void pki_ca_new_clear(struct pki_ca_new *n); /* wipes the keys */

/* ---- CRLs (pki_crl.c, on the DER writer in pki_der.c) ---- */

/* RFC 5280 5.3.1 CRLReason codes we use; certificateHold is never used. */
enum pki_reason {
    PKI_REASON_UNSPECIFIED = 0,
    PKI_REASON_KEY_COMPROMISE = 1,
    PKI_REASON_CA_COMPROMISE = 2,
    PKI_REASON_AFFILIATION_CHANGED = 3,
    PKI_REASON_SUPERSEDED = 4,
    PKI_REASON_CESSATION_OF_OPERATION = 5,
    PKI_REASON_CERTIFICATE_HOLD = 6,
    PKI_REASON_PRIVILEGE_WITHDRAWN = 9,
};

/* RFC 5280 names ("keyCompromise"); false for unknown or certificateHold. */
bool pki_reason_parse(const char *name, enum pki_reason *out);
const char *pki_reason_name(int reason); /* "unspecified" for unknown */

/*
 * A CRL built in one streaming pass: begin, add each entry, finish. The
 * TBSCertList is encoded by our DER writer (GnuTLS's own CRL builder is
 * quadratic in the entry count), then signed by the issuer's key.
 */
struct pki_crl_builder;

struct pki_crl_params {
    uint64_t number;    /* CRLNumber, strictly increasing per issuer */
    time_t this_update; /* seconds, UTC */
    time_t next_update; /* seconds, UTC */
};

/* A CRL of the intermediate (signed by the signer). Caller owns *out. */
enum wd_err pki_crl_begin(const struct pki_ca *ca,
                          const struct pki_crl_params *params,
                          struct pki_crl_builder **out);

/*
 * A CRL of any CA whose certificate and key are given as PEM (the root's
 * CRL, signed by init or by `warden root-crl` with the offline key).
 */
enum wd_err pki_crl_begin_with_key(const char *issuer_pem,
                                   const char *issuer_key_pem,
                                   const struct pki_crl_params *params,
                                   struct pki_crl_builder **out);

/* One revoked serial (hex as stored); reason < 0 leaves reasonCode out. */
enum wd_err pki_crl_add(struct pki_crl_builder *b, const char *serial_hex,
                        time_t revoked_at, int reason);

/* Sign and return the CRL as DER (caller frees *der); frees b. */
enum wd_err pki_crl_finish(struct pki_crl_builder *b, uint8_t **der,
                           size_t *der_len);

/* Free a builder that will not be finished. Accepts NULL. */
void pki_crl_abort(struct pki_crl_builder *b);

/* The entries of an existing CRL (e.g. the root's, to re-sign it). */
struct pki_crl_info {
    uint64_t number;
    time_t this_update;
    time_t next_update;
    struct pki_crl_info_entry {
        char serial[WD_MAX_SERIAL_HEX + 1];
        time_t revoked_at;
        int reason; /* -1 when absent */
    } * entries;
    size_t n_entries;
};

/* Parse and verify a DER CRL against issuer_pem. Caller frees entries. */
enum wd_err pki_crl_read(const uint8_t *der, size_t len, const char *issuer_pem,
                         struct pki_crl_info *out);
void pki_crl_info_clear(struct pki_crl_info *info);

/* PEM armour for DER ("X509 CRL", "CERTIFICATE"). Caller frees *pem. */
enum wd_err pki_der_to_pem(const char *label, const uint8_t *der, size_t len,
                           char **pem);

/* ---- OCSP (pki_ocsp_*.c: requests decoded with an ASN.1 module of
 * RFC 6960, responses written as DER by hand) ---- */

/* Who signs OCSP responses: a delegated responder or the intermediate. */
struct pki_ocsp_responder;

/*
 * cert_pem/key_pem: a delegated responder certificate issued by the
 * intermediate (id-kp-OCSPSigning); both NULL: sign with the intermediate.
 * Caller owns *out.
 */
enum wd_err pki_ocsp_responder_new(const struct pki_ca *ca,
                                   const char *cert_pem, const char *key_pem,
                                   struct pki_ocsp_responder **out);
void pki_ocsp_responder_free(struct pki_ocsp_responder *r);
time_t pki_ocsp_responder_not_after(const struct pki_ocsp_responder *r);

/*
 * Issue a delegated OCSP responder certificate: id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck, keyUsage digitalSignature, a fresh key of the
 * intermediate's type, validity_s long. The caller records *cert in the
 * store and writes *key_pem (mode 0600; wipe it). Caller owns both.
 */
enum wd_err pki_ocsp_responder_issue(const struct pki_ca *ca, time_t now,
                                     uint64_t validity_s, char **key_pem,
                                     struct pki_cert **cert);

/* RFC 6960 4.2.1 OCSPResponseStatus values we send. */
enum pki_ocsp_error {
    PKI_OCSP_MALFORMED_REQUEST = 1,
    PKI_OCSP_INTERNAL_ERROR = 2,
    PKI_OCSP_TRY_LATER = 3,
    PKI_OCSP_UNAUTHORIZED = 6,
};

#define PKI_OCSP_MAX_NONCE 128

/* One parsed OCSP request (exactly one CertID). */
struct pki_ocsp_req {
    char serial[WD_MAX_SERIAL_HEX + 1]; /* as we store serials */
    bool ours;            /* CertID names our intermediate (name+key hash) */
    int hash;             /* gnutls_digest_algorithm_t of the CertID */
    uint8_t cert_id[512]; /* the CertID DER, echoed in the response */
    size_t cert_id_len;
    bool has_nonce;
    uint8_t nonce[PKI_OCSP_MAX_NONCE]; /* the nonce extension's value */
    size_t nonce_len;
};

/*
 * Parse a DER OCSPRequest. WD_E_OCSP_MALFORMED for anything that is not
 * one well-formed request with one CertID (SHA-1 or SHA-256) and a nonce
 * of at most PKI_OCSP_MAX_NONCE bytes. A CertID of another issuer parses
 * fine with ours = false (the caller answers unauthorized).
 */
enum wd_err pki_ocsp_req_parse(const struct pki_ca *ca, const uint8_t *der,
                               size_t len, struct pki_ocsp_req *out);

enum pki_ocsp_status { PKI_OCSP_GOOD, PKI_OCSP_REVOKED, PKI_OCSP_UNKNOWN };

struct pki_ocsp_answer {
    enum pki_ocsp_status status;
    time_t revoked_at;  /* with REVOKED, seconds, UTC */
    int reason;         /* with REVOKED; -1 leaves it out */
    time_t produced_at; /* seconds, UTC */
    time_t this_update;
    time_t next_update; /* 0 leaves it out */
};

/*
 * A signed OCSPResponse (successful, id-pkix-ocsp-basic) for req: the
 * CertID echoed, responder ID by key hash, the nonce echoed when req has
 * one, the responder certificate included when delegated. Caller frees.
 */
enum wd_err pki_ocsp_resp_build(const struct pki_ocsp_responder *r,
                                const struct pki_ocsp_req *req,
                                const struct pki_ocsp_answer *a, uint8_t **der,
                                size_t *der_len);

/* Standard or URL-safe base64 (the OCSP GET form). Caller frees *out. */
enum wd_err pki_base64_decode(const char *text, size_t len, uint8_t **out,
                              size_t *out_len);

/* An unsigned error OCSPResponse (just the status). Caller frees. */
enum wd_err pki_ocsp_resp_error(enum pki_ocsp_error status, uint8_t **der,
                                size_t *der_len);

/* ---- Randomness, MACs and wiping for the layers above (pki_rand.c) */

enum pki_random_kind {
    PKI_RANDOM_NONCE, /* public but unguessable: ids, tokens */
    PKI_RANDOM_KEY,   /* secrets: MAC keys */
};

#define PKI_HMAC_SHA256_LEN 32

enum wd_err pki_random(void *buf, size_t len, enum pki_random_kind kind);
enum wd_err pki_hmac_sha256_verify(const uint8_t *key, size_t key_len,
                                   const void *data, size_t len,
                                   const uint8_t *mac, size_t mac_len);
void pki_wipe(void *p, size_t n);

/* ---- JSON Web Keys and Signatures for ACME (pki_jws.c, pki_b64url.c) ----
 * RFC 8555 6.2: every ACME request is a JWS signed by the account key. The
 * ACME layer parses the JSON and hands over base64url strings; here they
 * are decoded, bounded and checked, and GnuTLS verifies. */

/* The JWS algorithms we verify (RFC 7518 3.1, RFC 8037 3.1); "none", the
 * HMACs and everything else are refused. */
enum pki_jws_alg { PKI_JWS_RS256, PKI_JWS_ES256, PKI_JWS_ES384, PKI_JWS_EDDSA };

/* "RS256", "ES256", "ES384", "EdDSA" (case matters, RFC 7515 4.1.1);
 * false, leaving *out alone, for NULL or anything else. */
bool pki_jws_alg_parse(const char *name, enum pki_jws_alg *out);
const char *pki_jws_alg_name(enum pki_jws_alg alg); /* "unknown" if none */

/* A JWK's members as received: base64url strings (kty and crv as text),
 * NUL-terminated, NULL when absent. Private members are never read. */
struct pki_jwk_parts {
    const char *kty, *crv, *x, *y, *n, *e;
};

/* A public key from a JWK or a certificate: RSA 2048-8192 bits, ECDSA
 * P-256 or P-384, or Ed25519; immutable once made. */
struct pki_jwk;

/*
 * Decode and check a JWK (RFC 7517, RFC 7518 6, RFC 8037 2). Caller owns
 * *out (pki_jwk_free); on failure it is untouched. WD_E_JWS_MALFORMED for
 * missing, stray or badly encoded members, an EC point off its curve or
 * an impossible RSA key; WD_E_WEAK_KEY for RSA under 2048 bits;
 * WD_E_UNSUPPORTED_KEY for any other kty, crv or size ("oct", P-521, ...).
 */
enum wd_err pki_jwk_import(const struct pki_jwk_parts *p, struct pki_jwk **out);
void pki_jwk_free(struct pki_jwk *k);

/* RFC 7638: base64url(SHA-256(canonical JSON)), 43 characters. */
#define PKI_JWK_THUMBPRINT_LEN 43
enum wd_err pki_jwk_thumbprint(const struct pki_jwk *k,
                               char out[PKI_JWK_THUMBPRINT_LEN + 1]);

/* The canonical JSON of the required members (RFC 7638 3.2), e.g.
 * {"e":"AQAB","kty":"RSA","n":"..."}: to store an account key. Caller
 * frees. */
char *pki_jwk_canonical(const struct pki_jwk *k);

/* The same public key? False if either is NULL. */
bool pki_jwk_equal(const struct pki_jwk *a, const struct pki_jwk *b);

/* Is alg the one this key signs with: RS256 for RSA, ES256 for P-256,
 * ES384 for P-384, EdDSA for Ed25519? */
bool pki_jwk_alg_fits(const struct pki_jwk *k, enum pki_jws_alg alg);

/*
 * Verify a JWS signature (RFC 7515 5.2) over input, the ASCII of
 * protected || '.' || payload, as sent. sig is the decoded signature: for
 * ECDSA the fixed-size R||S of RFC 7518 3.4. WD_OK, WD_E_JWS_SIGNATURE for
 * a signature that does not verify (wrong length, alg not the key's, bad
 * value), WD_E_TOO_LARGE for input over 2 * PKI_B64URL_MAX_TEXT + 1.
 */
enum wd_err pki_jws_verify(const struct pki_jwk *k, enum pki_jws_alg alg,
                           const uint8_t *input, size_t input_len,
                           const uint8_t *sig, size_t sig_len);

/*
 * The public key of one DER certificate as a JWK, for a revokeCert signed
 * by the certificate's own key (RFC 8555 7.6). Caller owns *out.
 * WD_E_JWS_MALFORMED for bytes that are not one DER certificate, else as
 * pki_jwk_import; WD_E_TOO_LARGE over WD_MAX_CSR_BYTES.
 */
enum wd_err pki_jwk_from_cert(const uint8_t *der, size_t len,
                              struct pki_jwk **out);

/* The longest base64url text we decode: a finalize payload carries a CSR
 * of up to WD_MAX_CSR_BYTES base64url-encoded twice (16/9 of it). */
#define PKI_B64URL_MAX_TEXT (4 * WD_MAX_CSR_BYTES)

/*
 * base64url without padding (RFC 7515 2, RFC 4648 5). Decode takes len
 * characters of s and refuses padding, '+', '/', whitespace, a length of
 * 4k+1 and non-zero trailing bits (WD_E_JWS_MALFORMED), or more than
 * PKI_B64URL_MAX_TEXT (WD_E_TOO_LARGE); "" decodes to nothing (the
 * payload of a POST-as-GET). Caller frees *out, which is never NULL on
 * WD_OK. Encode returns a new NUL-terminated string.
 */
enum wd_err pki_b64url_decode(const char *s, size_t len, uint8_t **out,
                              size_t *out_len);
char *pki_b64url_encode(const uint8_t *data, size_t len);

#endif
