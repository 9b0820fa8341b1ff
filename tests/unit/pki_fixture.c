/*
 * The fixture shared by the PKI unit tests: the throwaway CAs their group
 * setups build (pki_ca_create, then pki_ca_load as serve does), the leaf
 * most of them issue from tests/data/csr-ecdsa-p256.pem, and GnuTLS's own
 * reading of a certificate, to check ours against. Failures are returned,
 * not asserted: the group setup that called the helper fails in turn.
 */
#include "pki_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "support.h"

#define DAY_S (24 * 3600)

/*
 * Fill opts for a CA called name (NULL: pki_ca_create's default) with
 * keys of type kg, public_url url, valid from now, and the single host
 * "localhost" for its server certificate. Every other option is zero, so
 * validities take their defaults.
 */
void
pki_fixture_ca_opts(struct pki_ca_new_opts *opts, const char *name,
                    enum pki_keygen kg, const char *url, time_t now)
{
    static const char *const hosts[] = { "localhost" };

    memset(opts, 0, sizeof(*opts));
    opts->name = name;
    opts->keygen = kg;
    opts->hosts = hosts;
    opts->n_hosts = 1;
    opts->public_url = url;
    opts->now = now;
}

/*
 * Load the root, intermediate and intermediate key pki_ca_create put in
 * made, with public_url url. Returns pki_ca_load's answer; on success the
 * caller owns *out (pki_ca_free).
 */
enum wd_err
pki_fixture_ca_load(const struct pki_ca_new *made, const char *url,
                    struct pki_ca **out)
{
    struct pki_ca_cfg cfg = { 0 };

    cfg.root_pem = made->root_pem;
    cfg.intermediate_pem = made->intermediate_pem;
    cfg.intermediate_key_pem = made->intermediate_key_pem;
    cfg.public_url = url;
    return pki_ca_load(&cfg, out);
}

/*
 * Create a CA as pki_fixture_ca_opts describes into *made (zeroed by the
 * caller), then load it into *ca unless ca is NULL. Returns 0, or -1 if
 * either step fails; what was made is the caller's to release with
 * pki_fixture_ca_free in both cases.
 */
int
pki_fixture_ca_make(const char *name, enum pki_keygen kg, const char *url,
                    time_t now, struct pki_ca_new *made, struct pki_ca **ca)
{
    struct pki_ca_new_opts opts;

    pki_fixture_ca_opts(&opts, name, kg, url, now);
    if (pki_ca_create(&opts, made) != WD_OK) {
        return -1;
    }
    if (ca != NULL && pki_fixture_ca_load(made, url, ca) != WD_OK) {
        return -1;
    }
    return 0;
}

/* Free ca (NULL is fine) and clear made, wiping its keys. */
void
pki_fixture_ca_free(struct pki_ca_new *made, struct pki_ca *ca)
{
    pki_ca_free(ca);
    pki_ca_new_clear(made);
}

int
pki_fixture_issuer_setup(void **state, const char *name, const char *url)
{
    struct pki_fixture_issuer *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->now = time(NULL);
    *state = f;
    if (pki_fixture_ca_make(name, PKI_KEYGEN_ECDSA_P256, url, f->now, &f->made,
                            &f->ca) != 0 ||
        (f->intermediate = pki_fixture_crt_pem(f->made.intermediate_pem)) ==
            NULL ||
        gnutls_x509_privkey_init(&f->key) < 0 ||
        gnutls_x509_privkey_generate(
            f->key, GNUTLS_PK_ECDSA,
            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0) {
        pki_fixture_issuer_teardown(state);
        return -1;
    }
    return 0;
}

int
pki_fixture_issuer_teardown(void **state)
{
    struct pki_fixture_issuer *f = *state;

    if (f->intermediate != NULL) {
        gnutls_x509_crt_deinit(f->intermediate);
    }
    if (f->key != NULL) {
        gnutls_x509_privkey_deinit(f->key);
    }
    pki_fixture_ca_free(&f->made, f->ca);
    free(f);
    *state = NULL;
    return 0;
}

/*
 * Issue a certificate from ca for the request in
 * tests/data/csr-ecdsa-p256.pem: profile server, issued at now for 90
 * days, with serial, or a fresh one when serial is NULL. The caller owns
 * the result (pki_cert_free); NULL if reading, parsing or issuing fails.
 */
struct pki_cert *
pki_fixture_leaf_issue(const struct pki_ca *ca, const char *serial, time_t now)
{
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    char fresh[WD_MAX_SERIAL_HEX + 1];
    struct pki_issue req;
    size_t len = 0;
    uint8_t *buf = test_read_file("csr-ecdsa-p256.pem", &len);

    if (buf == NULL || pki_csr_parse(buf, len, &csr) != WD_OK) {
        free(buf);
        return NULL;
    }
    free(buf);
    if (serial == NULL) {
        if (pki_serial_new(fresh) != WD_OK) {
            pki_csr_free(csr);
            return NULL;
        }
        serial = fresh;
    }
    req.csr = csr;
    req.profile = PKI_PROFILE_SERVER;
    req.serial = serial;
    req.validity_s = 90 * DAY_S;
    req.now = now;
    if (pki_cert_issue(ca, &req, &cert) != WD_OK) {
        cert = NULL;
    }
    pki_csr_free(csr);
    return cert;
}

/* tests/data/<name> parsed; unlike the setup helpers, this one asserts:
 * a request the test expects to be accepted failing is the test's
 * failure. */
struct pki_csr *
pki_fixture_csr(const char *name)
{
    struct pki_csr *csr = NULL;
    size_t len = 0;
    uint8_t *buf = test_read_file(name, &len);

    assert_non_null(buf);
    assert_wd_err(pki_csr_parse(buf, len, &csr), WD_OK);
    assert_non_null(csr);
    free(buf);
    return csr;
}

/*
 * Read len bytes of data as one certificate in fmt (PEM or DER) with
 * GnuTLS alone, as a relying party would. The caller owns the result
 * (gnutls_x509_crt_deinit); NULL if GnuTLS does not read it.
 */
gnutls_x509_crt_t
pki_fixture_crt_import(const uint8_t *data, size_t len,
                       gnutls_x509_crt_fmt_t fmt)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };

    if (gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &d, fmt) < 0) {
        gnutls_x509_crt_deinit(crt);
        return NULL;
    }
    return crt;
}

/* pki_fixture_crt_import of a NUL-terminated PEM string. */
gnutls_x509_crt_t
pki_fixture_crt_pem(const char *pem)
{
    return pki_fixture_crt_import((const uint8_t *)pem, strlen(pem),
                                  GNUTLS_X509_FMT_PEM);
}

/* Overwrite pem with zeros, as the daemon does with keys, and free it. */
void
pki_fixture_key_free(char *pem)
{
    if (pem != NULL) {
        gnutls_memset(pem, 0, strlen(pem));
        free(pem);
    }
}
