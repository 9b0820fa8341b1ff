/*
 * What the files of the PKI core share and nobody else sees: the CA's
 * in-memory form, the signer's narrow interface, and the GnuTLS-facing
 * helpers for keys, names, serials and profiles. Every function here
 * returns a wd_err after logging the GnuTLS text where it failed.
 */
#ifndef WD_PKI_PRIV_H
#define WD_PKI_PRIV_H

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>
#include <libtasn1.h>

#include "pki.h"

/* Room for a key identifier: SHA-1 (20 bytes) for SKI/AKI, SHA-256 (32
 * bytes) for comparing keys. */
#define PKI_KEY_ID_MAX 64

/* Size of the key_type strings in struct pki_csr and struct pki_cert. */
#define PKI_KEY_TYPE_MAX 24

/* Longest public_url we accept; the URLs built on it stay well under
 * what clients and GnuTLS handle. */
#define PKI_PUBLIC_URL_MAX 1024

/* PKCS#9 extensionRequest: where a CSR carries its extensions. */
#define PKI_OID_EXTENSION_REQUEST "1.2.840.113549.1.9.14"
/* RFC 5280 4.2.1.6 subjectAltName. */
#define PKI_OID_SAN "2.5.29.17"

/*
 * The signer: the only holder of the intermediate's private key
 * (pki_signer.c), of the root's while `root-crl` re-signs its CRL, and of
 * the delegated OCSP responder's. Its interface is "sign this
 * certificate" and "sign these bytes", small enough to move into a
 * process of its own.
 */
struct pki_signer;

/* Where a signer's private key comes from: a PEM or a PKCS#11 URL. */
struct pki_key_src {
    const char *pem;        /* PKCS#8, encrypted or not, or traditional */
    const char *url;        /* RFC 7512 PKCS#11 URL, when pem is NULL */
    const char *passphrase; /* the PEM's passphrase or the PIN, or NULL */
};

enum wd_err pki_signer_new(const struct pki_key_src *src,
                           const uint8_t *issuer_der, size_t issuer_der_len,
                           struct pki_signer **out);
void pki_signer_free(struct pki_signer *signer);
enum wd_err pki_signer_sign_crt(const struct pki_signer *signer,
                                gnutls_x509_crt_t crt);
gnutls_sign_algorithm_t pki_signer_algorithm(const struct pki_signer *signer);
enum wd_err pki_signer_sign_data(const struct pki_signer *signer,
                                 const gnutls_datum_t *data,
                                 gnutls_datum_t *sig);

/* The loaded CA (pki_ca.c); immutable once pki_ca_load returns. */
struct pki_ca {
    gnutls_x509_crt_t root;
    gnutls_x509_crt_t intermediate;
    gnutls_x509_trust_list_t trust; /* holds its own copy of the root */
    struct pki_signer *signer;
    char *root_pem;
    char *chain_pem; /* intermediate PEM, then root PEM */
    uint8_t *intermediate_der;
    size_t intermediate_der_len;
    uint8_t ski[PKI_KEY_ID_MAX]; /* the intermediate's, for leaf AKIs */
    size_t ski_len;
    char key_type[PKI_KEY_TYPE_MAX];
    time_t not_after; /* the intermediate's, seconds, UTC */
    char *public_url; /* no trailing slash */
    /* RFC 6960 4.1.1: the intermediate's CertID hashes (issuerNameHash,
     * issuerKeyHash), SHA-1 in [0] and SHA-256 in [1], made at load so
     * that an OCSP request costs no hashing of our own certificate */
    uint8_t ocsp_name_hash[2][PKI_KEY_ID_MAX];
    uint8_t ocsp_key_hash[2][PKI_KEY_ID_MAX];
};

/* pki_keygen.c: key types, and fresh keys out as PKCS#8 PEM. */
enum wd_err pki_key_generate(enum pki_keygen kg, gnutls_x509_privkey_t *out);
enum wd_err pki_key_export_pem(gnutls_x509_privkey_t key, const char *event,
                               char **out);
enum wd_err pki_key_type(gnutls_pubkey_t pub, char out[PKI_KEY_TYPE_MAX]);
enum wd_err pki_key_digest(gnutls_pubkey_t pub, gnutls_digest_algorithm_t *out);

/* pki_profile.c: profiles as extended key usage. */
enum pki_profile pki_profile_of_crt(gnutls_x509_crt_t crt);
bool pki_profile_purposes(enum pki_profile p, bool *server, bool *client);

/* pki_name.c: names in and out of GnuTLS. */
bool pki_name_is_printable(const char *s, size_t len);
enum wd_err pki_san_from_host(const char *host, size_t len,
                              struct pki_san *out);
enum wd_err pki_sans_decode(const gnutls_datum_t *ext, struct pki_san **out,
                            size_t *n_out);
enum wd_err pki_sans_encode(const struct pki_san *sans, size_t n,
                            gnutls_datum_t *out);
void pki_sans_free(struct pki_san *sans, size_t n);

/* RFC 5280 4.1.2.2: a serial is at most 20 octets, so 40 hex digits. */
#define PKI_SERIAL_MAX_BYTES (WD_MAX_SERIAL_HEX / 2)

/* pki_serial.c: serials as lowercase hex in and out of certificates. */
bool pki_serial_decode(const char *hex, uint8_t out[PKI_SERIAL_MAX_BYTES],
                       size_t *len);
enum wd_err pki_serial_set(gnutls_x509_crt_t crt, const char *hex);
enum wd_err pki_serial_get(gnutls_x509_crt_t crt,
                           char out[WD_MAX_SERIAL_HEX + 1]);
/* An INTEGER's content bytes as the store writes serials: lowercase hex
 * without leading zero bytes, "0" for zero. False (out untouched) for more
 * than 20 octets once the zeros are gone. */
bool pki_serial_hex(const uint8_t *p, size_t n,
                    char out[WD_MAX_SERIAL_HEX + 1]);

/* pki_cert.c: fingerprints and the subject's CN. */
enum wd_err pki_der_fingerprint(const uint8_t *der, size_t len, char out[65]);
enum wd_err pki_crt_cn(gnutls_x509_crt_t crt, char **out);

/* pki_datum.c: GnuTLS buffers into ours, configured PEM into GnuTLS. */
char *pki_datum_take_str(gnutls_datum_t *d);
enum wd_err pki_crt_import_pem(const char *pem, const char *event,
                               const char *what, gnutls_x509_crt_t *out);

/* pki_cert.c: what every leaf the intermediate signs shares, for the
 * leaves built outside pki_cert_issue (the OCSP responder's). */
struct pki_leaf {
    const char *serial;  /* from pki_serial_new */
    time_t now;          /* seconds, UTC */
    uint64_t validity_s; /* > 0; clipped to the intermediate's end */
    unsigned key_usage;  /* GNUTLS_KEY_* bits */
    const uint8_t *ski;  /* the subject key's id */
    size_t ski_len;
};

/* Every leaf's notBefore and notAfter (pki_cert.c), for both builders. */
enum wd_err pki_leaf_validity(const struct pki_ca *ca, time_t now,
                              uint64_t validity_s, time_t *not_before,
                              time_t *not_after);
enum wd_err pki_cert_set_leaf(gnutls_x509_crt_t crt, const struct pki_ca *ca,
                              const struct pki_leaf *leaf);
enum wd_err pki_cert_sign(const struct pki_ca *ca, gnutls_x509_crt_t crt,
                          struct pki_cert **out);

/* pki_ocsp_req.c: ca's CertID hashes (struct pki_ca), once its
 * intermediate is loaded. WD_E_INTERNAL (logged) if they cannot be made. */
enum wd_err pki_ocsp_issuer_hashes(struct pki_ca *ca);

/* pki_ocsp_asn.c: the ASN.1 module of RFC 6960 (ocsp.asn), loaded once. */
enum wd_err pki_ocsp_asn_new(const char *type, asn1_node *out);
enum wd_err pki_ocsp_asn_decode(const char *type, const uint8_t *der,
                                size_t len, asn1_node *out);
enum wd_err pki_ocsp_key_hash(const uint8_t *crt_der, size_t len,
                              gnutls_digest_algorithm_t digest,
                              uint8_t out[PKI_KEY_ID_MAX], size_t *out_len);

/* RFC 6960 4.2.2.3: ResponderID byKey is a SHA-1 hash. */
#define PKI_OCSP_KEY_HASH_LEN 20

/* Who signs OCSP responses (pki_ocsp_responder.c); immutable once made. */
struct pki_ocsp_responder {
    struct pki_signer *own;          /* the delegated key, or NULL */
    const struct pki_signer *signer; /* own, or the CA's (borrowed) */
    uint8_t *cert_der;               /* the delegated responder's, or NULL */
    size_t cert_der_len;
    uint8_t key_hash[PKI_OCSP_KEY_HASH_LEN]; /* ResponderID byKey */
    time_t not_after;                        /* seconds, UTC */
};

/* pki_der.c: a streaming DER writer (X.690) and a minimal reader. */
#define PKI_DER_BOOLEAN 0x01
#define PKI_DER_INTEGER 0x02
#define PKI_DER_BIT_STRING 0x03
#define PKI_DER_OCTET_STRING 0x04
#define PKI_DER_NULL 0x05
#define PKI_DER_OID 0x06
#define PKI_DER_ENUMERATED 0x0a
#define PKI_DER_UTC_TIME 0x17
#define PKI_DER_GENERALIZED_TIME 0x18
#define PKI_DER_SEQUENCE 0x30
#define PKI_DER_SET 0x31
#define PKI_DER_CONTEXT(n) (0xa0 | (n))      /* [n], constructed, n < 31 */
#define PKI_DER_CONTEXT_PRIM(n) (0x80 | (n)) /* [n], primitive */

/* One tag byte, then a length of at most 1 + sizeof(size_t) bytes. */
#define PKI_DER_HEADER_MAX (2 + sizeof(size_t))

struct pki_der {
    uint8_t *buf; /* NULL until the first write */
    size_t start; /* what is written is buf[start..end); headroom before */
    size_t end;
    size_t cap;
};

void pki_der_init(struct pki_der *d, size_t headroom);
void pki_der_clear(struct pki_der *d);
const uint8_t *pki_der_data(const struct pki_der *d, size_t *len);
uint8_t *pki_der_take(struct pki_der *d, size_t *len);
void pki_der_raw(struct pki_der *d, const void *p, size_t n);
void pki_der_prepend(struct pki_der *d, const void *p, size_t n);
void pki_der_header(struct pki_der *d, uint8_t tag, size_t len);
void pki_der_prim(struct pki_der *d, uint8_t tag, const void *p, size_t n);
size_t pki_der_begin(struct pki_der *d, uint8_t tag);
void pki_der_end(struct pki_der *d, size_t mark);
void pki_der_wrap(struct pki_der *d, uint8_t tag);
void pki_der_integer(struct pki_der *d, const uint8_t *be, size_t n);
void pki_der_uint(struct pki_der *d, uint8_t tag, uint64_t v);
enum wd_err pki_der_oid(struct pki_der *d, const char *dotted);
void pki_der_null(struct pki_der *d);
void pki_der_boolean(struct pki_der *d, bool v);
void pki_der_bit_string(struct pki_der *d, const uint8_t *p, size_t n);
enum wd_err pki_der_time(struct pki_der *d, time_t t);
/* A Time's tag, length and GeneralizedTime's 15 octets. */
#define PKI_DER_TIME_MAX (2 + 15)
enum wd_err pki_der_time_encode(time_t t, uint8_t out[PKI_DER_TIME_MAX],
                                size_t *len);
enum wd_err pki_der_generalized_time(struct pki_der *d, time_t t);
enum wd_err pki_der_sig_algorithm(struct pki_der *d,
                                  gnutls_sign_algorithm_t algo);

/* Unread DER input: the reader's cursor. */
struct pki_der_in {
    const uint8_t *p;
    size_t len;
};

bool pki_der_next_is(const struct pki_der_in *in, uint8_t tag);
bool pki_der_read(struct pki_der_in *in, uint8_t tag,
                  struct pki_der_in *content);
bool pki_der_signed_parts(const uint8_t *der, size_t len,
                          struct pki_der_in *tbs, struct pki_der_in *sig);

/* pki_leaf.c: a request's or a certificate's subject and key, raw. */
bool pki_subject_and_key(const uint8_t *der, size_t len, bool cert,
                         struct pki_der_in *subject, struct pki_der_in *spki);

#endif
