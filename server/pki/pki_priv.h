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
 * (pki_signer.c). Its interface is "sign this certificate", small enough
 * to move into a process of its own.
 */
struct pki_signer;

enum wd_err pki_signer_new(const char *key_pem, const uint8_t *issuer_der,
                           size_t issuer_der_len, struct pki_signer **out);
void pki_signer_free(struct pki_signer *signer);
enum wd_err pki_signer_sign_crt(const struct pki_signer *signer,
                                gnutls_x509_crt_t crt);

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
};

/* pki_keygen.c: key types. */
enum wd_err pki_key_generate(enum pki_keygen kg, gnutls_x509_privkey_t *out);
enum wd_err pki_key_type(gnutls_pubkey_t pub, char out[PKI_KEY_TYPE_MAX]);
enum wd_err pki_key_digest(gnutls_pubkey_t pub, gnutls_digest_algorithm_t *out);

/* pki_profile.c: profiles as extended key usage. */
enum wd_err pki_profile_set_eku(gnutls_x509_crt_t crt, enum pki_profile p);
enum pki_profile pki_profile_of_crt(gnutls_x509_crt_t crt);

/* pki_name.c: names in and out of GnuTLS. */
bool pki_name_is_printable(const char *s, size_t len);
enum wd_err pki_san_from_host(const char *host, size_t len,
                              struct pki_san *out);
enum wd_err pki_sans_decode(const gnutls_datum_t *ext, struct pki_san **out,
                            size_t *n_out);
enum wd_err pki_sans_encode(const struct pki_san *sans, size_t n,
                            gnutls_datum_t *out);
void pki_sans_free(struct pki_san *sans, size_t n);

/* pki_serial.c: serials as lowercase hex in and out of certificates. */
enum wd_err pki_serial_set(gnutls_x509_crt_t crt, const char *hex);
enum wd_err pki_serial_get(gnutls_x509_crt_t crt,
                           char out[WD_MAX_SERIAL_HEX + 1]);

/* pki_cert.c: fingerprints and the subject's CN. */
enum wd_err pki_der_fingerprint(const uint8_t *der, size_t len, char out[65]);
enum wd_err pki_crt_cn(gnutls_x509_crt_t crt, char **out);

/* pki_datum.c: GnuTLS buffers into ours. */
char *pki_datum_take_str(gnutls_datum_t *d);

#endif
