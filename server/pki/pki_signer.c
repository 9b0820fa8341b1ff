/*
 * The signer: the one place in the daemon that holds the intermediate's
 * private key. It takes bytes in (the key's PEM, the issuer certificate's
 * DER) and offers two operations, "sign this certificate as the issuer"
 * and "sign these bytes" (a CRL's TBSCertList, an OCSP ResponseData), so
 * that it can later move into a process of its own (or in front of a
 * PKCS#11 token) without its callers changing. The delegated OCSP
 * responder's key is held by a signer too (pki_ocsp_responder.c).
 */
#include "pki_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

struct pki_signer {
    gnutls_privkey_t key;
    gnutls_x509_crt_t issuer; /* our own copy of the key's certificate */
    gnutls_digest_algorithm_t digest;
};

/* The SHA-256 key ids of the private key and of the certificate agree. */
static enum wd_err
check_match(gnutls_privkey_t key, gnutls_x509_crt_t issuer,
            gnutls_digest_algorithm_t *digest)
{
    gnutls_pubkey_t pub = NULL;
    uint8_t key_id[PKI_KEY_ID_MAX];
    uint8_t crt_id[PKI_KEY_ID_MAX];
    size_t key_id_len = sizeof(key_id);
    size_t crt_id_len = sizeof(crt_id);
    enum wd_err rc = WD_E_CONFIG;
    int ret;

    ret = gnutls_pubkey_init(&pub);
    if (ret >= 0) {
        ret = gnutls_pubkey_import_privkey(pub, key, 0, 0);
    }
    if (ret >= 0) {
        ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, key_id,
                                       &key_id_len);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_get_key_id(issuer, GNUTLS_KEYID_USE_SHA256,
                                         crt_id, &crt_id_len);
    }
    if (ret < 0) {
        log_err("event=signer_load err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    if (key_id_len != crt_id_len || memcmp(key_id, crt_id, key_id_len) != 0) {
        log_err("event=signer_load err=\"the key does not match the "
                "certificate's public key\"");
        goto out;
    }
    if (pki_key_digest(pub, digest) != WD_OK) {
        goto out;
    }
    rc = WD_OK;
out:
    gnutls_pubkey_deinit(pub);
    return rc;
}

/*
 * Loads the issuer's private key from key_pem (PKCS#8 or a traditional
 * PEM form GnuTLS reads, unencrypted) and the issuer certificate from
 * issuer_der, and checks that they belong together. WD_E_CONFIG (logged)
 * for an unreadable key, a key of another certificate, or a key type we
 * do not sign with. On success the caller owns *out (pki_signer_free).
 */
enum wd_err
pki_signer_new(const char *key_pem, const uint8_t *issuer_der,
               size_t issuer_der_len, struct pki_signer **out)
{
    struct pki_signer *signer = xcalloc(1, sizeof(*signer));
    gnutls_datum_t d;
    enum wd_err rc = WD_E_CONFIG;
    int ret;

    ret = gnutls_x509_crt_init(&signer->issuer);
    if (ret >= 0) {
        d.data = (unsigned char *)issuer_der;
        d.size = (unsigned)issuer_der_len;
        ret = gnutls_x509_crt_import(signer->issuer, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret < 0) {
        log_err("event=signer_load what=certificate err=\"%s\"",
                gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_privkey_init(&signer->key);
    if (ret >= 0 && key_pem != NULL) {
        d.data = (unsigned char *)key_pem;
        d.size = (unsigned)strlen(key_pem);
        ret = gnutls_privkey_import_x509_raw(signer->key, &d,
                                             GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (ret < 0 || key_pem == NULL) {
        log_err("event=signer_load what=key err=\"%s\"",
                key_pem == NULL ? "\"no key\"" : gnutls_strerror(ret));
        goto out;
    }
    rc = check_match(signer->key, signer->issuer, &signer->digest);
    if (rc != WD_OK) {
        goto out;
    }
    *out = signer;
    signer = NULL;
out:
    pki_signer_free(signer);
    return rc;
}

/* Releases the key (GnuTLS wipes it) and the certificate; accepts NULL. */
void
pki_signer_free(struct pki_signer *signer)
{
    if (signer == NULL) {
        return;
    }
    if (signer->key != NULL) {
        gnutls_privkey_deinit(signer->key);
    }
    if (signer->issuer != NULL) {
        gnutls_x509_crt_deinit(signer->issuer);
    }
    free(signer);
}

/*
 * Signs crt as the issuer: sets its issuer name and signature, with the
 * hash that fits the key (pki_key_digest). Safe to call from several
 * threads at once, as GnuTLS shares a key between TLS sessions.
 * WD_E_INTERNAL (logged) if GnuTLS refuses.
 */
enum wd_err
pki_signer_sign_crt(const struct pki_signer *signer, gnutls_x509_crt_t crt)
{
    int ret;

    ret = gnutls_x509_crt_privkey_sign(crt, signer->issuer, signer->key,
                                       signer->digest, 0);
    if (ret < 0) {
        log_err("event=sign_crt err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * The signature algorithm the signer's key and hash make (e.g.
 * GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_SIGN_EDDSA_ED25519), for the
 * AlgorithmIdentifier written before the bytes are signed.
 * GNUTLS_SIGN_UNKNOWN if GnuTLS knows no such pair.
 */
gnutls_sign_algorithm_t
pki_signer_algorithm(const struct pki_signer *signer)
{
    int pk = gnutls_privkey_get_pk_algorithm(signer->key, NULL);

    if (pk < 0) {
        return GNUTLS_SIGN_UNKNOWN;
    }
    return gnutls_pk_to_sign((gnutls_pk_algorithm_t)pk, signer->digest);
}

/*
 * Signs data with pki_signer_algorithm's algorithm (Ed25519 signs the
 * bytes themselves, the others their hash). On success the caller owns
 * sig->data (gnutls_free); WD_E_INTERNAL (logged) if GnuTLS refuses.
 */
enum wd_err
pki_signer_sign_data(const struct pki_signer *signer,
                     const gnutls_datum_t *data, gnutls_datum_t *sig)
{
    gnutls_sign_algorithm_t algo = pki_signer_algorithm(signer);
    int ret;

    if (algo == GNUTLS_SIGN_UNKNOWN) {
        log_err("event=sign_data err=\"no signature algorithm for the key\"");
        return WD_E_INTERNAL;
    }
    ret = gnutls_privkey_sign_data2(signer->key, algo, 0, data, sig);
    if (ret < 0) {
        log_err("event=sign_data err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}
