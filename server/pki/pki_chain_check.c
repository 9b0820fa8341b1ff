/*
 * Whose certificates are these? pki_chain_check answers for a batch of
 * stored certificates against one CA certificate, without its key: each
 * must name that CA as its issuer and carry a signature that verifies
 * with the CA's public key. `warden restore` uses it to refuse a backup
 * of another CA. Validity periods are not checked: an expired
 * certificate was still issued by whoever signed it.
 */
#include "pki_priv.h"

/* A stored certificate may be long expired, its issuer too. */
#define VERIFY_FLAGS                                                           \
    (GNUTLS_VERIFY_DISABLE_TIME_CHECKS |                                       \
     GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS)

/* Was der (one DER certificate) signed by issuer? */
static bool
issued_by(gnutls_x509_crt_t issuer, const uint8_t *der, size_t len)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d;
    unsigned status = 0;
    bool ok;
    int ret;

    ret = gnutls_x509_crt_init(&crt);
    if (ret >= 0) {
        d.data = (unsigned char *)der;
        d.size = (unsigned)len;
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_verify(crt, &issuer, 1, VERIFY_FLAGS, &status);
    }
    ok = ret >= 0 && status == 0;
    gnutls_x509_crt_deinit(crt);
    return ok;
}

/*
 * Check that each of the n DER certificates (ders[i], lens[i]) was issued
 * by the CA certificate issuer_pem: issuer name and signature, times
 * ignored. WD_OK with *first_bad the index of the first that was not
 * (or that does not parse), n when all were; WD_E_CONFIG (logged) when
 * issuer_pem is not one certificate.
 */
enum wd_err
pki_chain_check(const char *issuer_pem, const uint8_t *const *ders,
                const size_t *lens, size_t n, size_t *first_bad)
{
    gnutls_x509_crt_t issuer = NULL;
    enum wd_err rc;
    size_t i;

    rc = pki_crt_import_pem(issuer_pem, "chain_check", "issuer", &issuer);
    if (rc != WD_OK) {
        return rc;
    }
    for (i = 0; i < n; i++) {
        if (!issued_by(issuer, ders[i], lens[i])) {
            break;
        }
    }
    *first_bad = i;
    gnutls_x509_crt_deinit(issuer);
    return WD_OK;
}
