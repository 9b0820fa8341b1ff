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
    void *crq;         /* gnutls_x509_crq_t, private to pki/ */
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
    const char *intermediate_key_pem; /* intermediate.key */
    const char *public_url;           /* e.g. http://127.0.0.1:8080, no slash */
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

#endif
