/*
 * The fixture shared by the PKI unit tests (test_pki_*.c): throwaway CAs
 * made by pki_ca_create and loaded as serve loads them, a leaf issued for
 * tests/data/csr-ecdsa-p256.pem, and certificates read back with GnuTLS.
 * The helpers serve a test file's group setup: on failure they return -1
 * or NULL, so that the setup fails in turn.
 */
#ifndef WD_TEST_PKI_FIXTURE_H
#define WD_TEST_PKI_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"

/* Zeroes opts, then asks for a CA called name with keys of type kg,
 * public_url url, from now, and one host: "localhost". */
void pki_fixture_ca_opts(struct pki_ca_new_opts *opts, const char *name,
                         enum pki_keygen kg, const char *url, time_t now);

/* pki_ca_load on what pki_ca_create made, with public_url url. */
enum wd_err pki_fixture_ca_load(const struct pki_ca_new *made, const char *url,
                                struct pki_ca **out);

/* A CA per pki_fixture_ca_opts into *made and, unless ca is NULL, loaded
 * into *ca. 0 or -1; pki_fixture_ca_free releases both either way. */
int pki_fixture_ca_make(const char *name, enum pki_keygen kg, const char *url,
                        time_t now, struct pki_ca_new *made,
                        struct pki_ca **ca);

/* Frees ca and clears made; either may be NULL. */
void pki_fixture_ca_free(struct pki_ca_new *made, struct pki_ca *ca);

/*
 * The group fixture of tests that hold our certificates against GnuTLS's
 * own: a throwaway P-256 CA loaded as serve loads it, its intermediate as
 * GnuTLS reads it, and a spare P-256 key for certificates made with
 * GnuTLS alone.
 */
struct pki_fixture_issuer {
    struct pki_ca_new made;
    struct pki_ca *ca;
    gnutls_x509_crt_t intermediate;
    gnutls_x509_privkey_t key;
    time_t now; /* the CA's start */
};

/* A cmocka group setup: a pki_fixture_issuer for a CA called name with
 * public_url url into *state; 0, or -1 with nothing left allocated. */
int pki_fixture_issuer_setup(void **state, const char *name, const char *url);

/* Its teardown. */
int pki_fixture_issuer_teardown(void **state);

/* A server leaf of ca for tests/data/csr-ecdsa-p256.pem, valid 90 days
 * from now, with serial or (NULL) a fresh one; NULL on failure. */
struct pki_cert *pki_fixture_leaf_issue(const struct pki_ca *ca,
                                        const char *serial, time_t now);

/* tests/data/<name> as pki_csr_parse reads it, for a test body: the test
 * fails unless it is accepted. The caller frees it (pki_csr_free). */
struct pki_csr *pki_fixture_csr(const char *name);

/* A certificate in fmt as GnuTLS reads it; NULL if it does not. */
gnutls_x509_crt_t pki_fixture_crt_import(const uint8_t *data, size_t len,
                                         gnutls_x509_crt_fmt_t fmt);

/* pki_fixture_crt_import for a PEM string. */
gnutls_x509_crt_t pki_fixture_crt_pem(const char *pem);

/* Wipes a key's PEM, then frees it; accepts NULL. */
void pki_fixture_key_free(char *pem);

#endif
