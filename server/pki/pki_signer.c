/*
 * The signer: the one place in the daemon that holds the intermediate's
 * private key. It takes bytes in (the key's PEM, the issuer certificate's
 * DER) and offers two operations, "sign this certificate as the issuer"
 * and "sign these bytes" (a CRL's TBSCertList, an OCSP ResponseData), so
 * that it can later move into a process of its own without its callers
 * changing. The key comes from a PEM (PKCS#8, possibly encrypted with a
 * passphrase) or from a PKCS#11 token by URL; signing through a token is
 * serialised, as a PKCS#11 session runs one operation at a time. Writing
 * a key into a token (warden key-import) is here too, so that no other
 * file handles the intermediate's key. The delegated OCSP responder's
 * key is held by a signer too (pki_ocsp_responder.c).
 */
#include "pki_priv.h"

#include <gnutls/pkcs11.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

struct pki_signer {
    gnutls_privkey_t key;
    gnutls_x509_crt_t issuer; /* our own copy of the key's certificate */
    gnutls_digest_algorithm_t digest;
    pthread_mutex_t *lock; /* a PKCS#11 key's, else NULL */
    char *pin;             /* the token's PIN for re-logins, or NULL */
};

/* The PEM label of an encrypted PKCS#8 key (RFC 5958 / RFC 7468 11). */
#define ENCRYPTED_PEM "-----BEGIN ENCRYPTED PRIVATE KEY-----"

/* Wipes and frees a secret string; accepts NULL. */
static void
wipe_free(char *s)
{
    if (s != NULL) {
        gnutls_memset(s, 0, strlen(s));
    }
    free(s);
}

/*
 * GnuTLS asks for a token PIN here; userdata is the PIN. A second attempt
 * means the first was wrong: give up rather than lock the token by
 * retrying the same PIN.
 */
static int
pin_cb(void *userdata, int attempt, const char *token_url,
       const char *token_label, unsigned int flags, char *pin, size_t pin_max)
{
    const char *given = userdata;
    size_t len = given != NULL ? strlen(given) : 0;

    (void)token_url;
    (void)token_label;
    if (given == NULL || attempt > 0 || (flags & GNUTLS_PIN_WRONG) != 0 ||
        len >= pin_max) {
        return -1;
    }
    memcpy(pin, given, len + 1);
    return 0;
}

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

/* The key from PEM, decrypted with passphrase when it is encrypted. */
static enum wd_err
import_pem(gnutls_privkey_t key, const char *pem, const char *passphrase)
{
    bool encrypted = strstr(pem, ENCRYPTED_PEM) != NULL;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
    int ret;

    if (encrypted && passphrase == NULL) {
        log_err("event=signer_load what=key err=\"the key is encrypted "
                "(PKCS#8) and no passphrase is configured\"");
        return WD_E_CONFIG;
    }
    ret = gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM,
                                         passphrase, 0);
    if (ret < 0) {
        log_err("event=signer_load what=key err=\"%s\"",
                encrypted ? "cannot decrypt the key: wrong passphrase?"
                          : gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    return WD_OK;
}

/* The key a PKCS#11 URL names, logging in with signer->pin if set. */
static enum wd_err
import_url(struct pki_signer *signer, const char *url)
{
    int ret;

    if (signer->pin != NULL) {
        gnutls_privkey_set_pin_function(signer->key, pin_cb, signer->pin);
    }
    /* the URL is not logged: it may carry pin-value */
    ret = gnutls_privkey_import_url(signer->key, url, 0);
    if (ret < 0) {
        log_err("event=signer_load what=pkcs11_key err=\"%s\"",
                gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    signer->lock = xcalloc(1, sizeof(*signer->lock));
    pthread_mutex_init(signer->lock, NULL);
    return WD_OK;
}

/*
 * Loads the issuer's private key as src says (a PEM, decrypted with
 * src->passphrase if it is an encrypted PKCS#8; or a PKCS#11 URL, with
 * src->passphrase as the PIN unless the URL carries one) and the issuer
 * certificate from issuer_der, and checks that they belong together.
 * WD_E_CONFIG (logged) for an unreadable key, a missing or wrong
 * passphrase or PIN, a key of another certificate, or a key type we do
 * not sign with. The caller wipes its copy of the passphrase; the signer
 * keeps the PIN of a token key for re-logins and wipes it when freed.
 * On success the caller owns *out (pki_signer_free).
 */
enum wd_err
pki_signer_new(const struct pki_key_src *src, const uint8_t *issuer_der,
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
    if (ret < 0) {
        log_err("event=signer_load what=key err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    if (src->pem != NULL) {
        rc = import_pem(signer->key, src->pem, src->passphrase);
    } else if (src->url != NULL) {
        if (src->passphrase != NULL) {
            signer->pin = xstrdup(src->passphrase);
        }
        rc = import_url(signer, src->url);
    } else {
        log_err("event=signer_load what=key err=\"no key\"");
    }
    if (rc != WD_OK) {
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

/* Releases the key (GnuTLS wipes it), the PIN (wiped) and the
 * certificate; accepts NULL. */
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
    if (signer->lock != NULL) {
        pthread_mutex_destroy(signer->lock);
        free(signer->lock);
    }
    wipe_free(signer->pin);
    free(signer);
}

/* A token key signs one operation at a time; a file key needs no lock. */
static void
lock(const struct pki_signer *signer)
{
    if (signer->lock != NULL) {
        pthread_mutex_lock(signer->lock);
    }
}

static void
unlock(const struct pki_signer *signer)
{
    if (signer->lock != NULL) {
        pthread_mutex_unlock(signer->lock);
    }
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

    lock(signer);
    ret = gnutls_x509_crt_privkey_sign(crt, signer->issuer, signer->key,
                                       signer->digest, 0);
    unlock(signer);
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
    lock(signer);
    ret = gnutls_privkey_sign_data2(signer->key, algo, 0, data, sig);
    unlock(signer);
    if (ret < 0) {
        log_err("event=sign_data err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Loads module (a PKCS#11 library), or with NULL the modules p11-kit is
 * configured with, before any URL is used; later calls do nothing (the
 * process keeps the first module). WD_E_CONFIG (logged) if GnuTLS cannot
 * load it.
 */
enum wd_err
pki_pkcs11_init(const char *module)
{
    /* GnuTLS's PKCS#11 state is per process, so is this */
    static bool done;
    int ret;

    if (done) {
        return WD_OK;
    }

    ret = gnutls_pkcs11_init(module != NULL ? GNUTLS_PKCS11_FLAG_MANUAL
                                            : GNUTLS_PKCS11_FLAG_AUTO,
                             NULL);
    if (ret >= 0 && module != NULL) {
        ret = gnutls_pkcs11_add_provider(module, NULL);
    }
    if (ret < 0) {
        log_err("event=pkcs11_init module=\"%s\" err=\"%s\"",
                module != NULL ? module : "p11-kit", gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    done = true;
    return WD_OK;
}

/* The URL of the private key with id in the token url names, or NULL. */
static char *
find_key_url(const char *url, const uint8_t *id, size_t id_len)
{
    gnutls_pkcs11_obj_t *objs = NULL;
    unsigned n = 0;
    char *found = NULL;
    int ret;

    ret = gnutls_pkcs11_obj_list_import_url4(&objs, &n, url,
                                             GNUTLS_PKCS11_OBJ_FLAG_PRIVKEY |
                                                 GNUTLS_PKCS11_OBJ_FLAG_LOGIN);
    if (ret < 0) {
        log_err("event=pkcs11_import what=find err=\"%s\"",
                gnutls_strerror(ret));
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        uint8_t obj_id[PKI_KEY_ID_MAX];
        size_t obj_id_len = sizeof(obj_id);

        if (found == NULL &&
            gnutls_pkcs11_obj_get_info(objs[i], GNUTLS_PKCS11_OBJ_ID, obj_id,
                                       &obj_id_len) >= 0 &&
            obj_id_len == id_len && memcmp(obj_id, id, id_len) == 0 &&
            gnutls_pkcs11_obj_export_url(objs[i], GNUTLS_PKCS11_URL_GENERIC,
                                         &found) < 0) {
            found = NULL;
        }
        gnutls_pkcs11_obj_deinit(objs[i]);
    }
    gnutls_free(objs);
    return found;
}

/* The parts of a key's PKCS#8 form that go into the token. */
struct token_key {
    gnutls_x509_privkey_t x509;
    gnutls_privkey_t priv; /* wraps x509, does not own it */
    gnutls_pubkey_t pub;
    uint8_t id[PKI_KEY_ID_MAX]; /* SHA-1 key id, the objects' CKA_ID */
    size_t id_len;
};

static enum wd_err
token_key_load(const char *pem, const char *passphrase, struct token_key *k)
{
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
    int ret;

    if (strstr(pem, ENCRYPTED_PEM) != NULL && passphrase == NULL) {
        log_err("event=pkcs11_import what=key err=\"the key is encrypted "
                "(PKCS#8) and no passphrase is configured\"");
        return WD_E_CONFIG;
    }
    ret = gnutls_x509_privkey_init(&k->x509);
    if (ret >= 0) {
        ret = gnutls_x509_privkey_import2(k->x509, &d, GNUTLS_X509_FMT_PEM,
                                          passphrase, 0);
    }
    if (ret >= 0) {
        k->id_len = sizeof(k->id);
        ret = gnutls_x509_privkey_get_key_id(k->x509, GNUTLS_KEYID_USE_SHA1,
                                             k->id, &k->id_len);
    }
    if (ret >= 0) {
        ret = gnutls_privkey_init(&k->priv);
    }
    if (ret >= 0) {
        ret = gnutls_privkey_import_x509(k->priv, k->x509, 0);
    }
    if (ret >= 0) {
        ret = gnutls_pubkey_init(&k->pub);
    }
    if (ret >= 0) {
        ret = gnutls_pubkey_import_privkey(k->pub, k->priv, 0, 0);
    }
    if (ret < 0) {
        log_err("event=pkcs11_import what=key err=\"%s\"",
                gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    return WD_OK;
}

static void
token_key_clear(struct token_key *k)
{
    gnutls_pubkey_deinit(k->pub);
    if (k->priv != NULL) {
        gnutls_privkey_deinit(k->priv);
    }
    if (k->x509 != NULL) {
        gnutls_x509_privkey_deinit(k->x509); /* GnuTLS wipes it */
    }
}

/*
 * Writes the key in key_pem (decrypted with passphrase if encrypted) into
 * the token token_url names: the private key marked private and
 * sensitive (never readable again) and its public key beside it, both
 * with label and the key's SHA-1 id. pin, unless NULL, answers the
 * token's PIN prompt (a URL's pin-value or pin-source answers first).
 * On success *key_url (caller frees) is the private key's URL followed
 * by token_url's query. WD_E_CONFIG (logged) for a key, token or PIN
 * that does not work.
 */
enum wd_err
pki_pkcs11_key_import(const char *key_pem, const char *passphrase,
                      const char *token_url, const char *pin, const char *label,
                      char **key_url)
{
    struct token_key k = { 0 };
    const unsigned usage = GNUTLS_KEY_DIGITAL_SIGNATURE |
                           GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
    const char *query = strchr(token_url, '?');
    gnutls_datum_t id;
    char *found = NULL;
    enum wd_err rc;
    int ret;

    rc = token_key_load(key_pem, passphrase, &k);
    if (rc != WD_OK) {
        goto out;
    }
    rc = WD_E_CONFIG;
    id.data = k.id;
    id.size = (unsigned)k.id_len;
    gnutls_pkcs11_set_pin_function(pin_cb, (void *)pin);
    ret = gnutls_pkcs11_copy_x509_privkey2(
        token_url, k.x509, label, &id, usage,
        GNUTLS_PKCS11_OBJ_FLAG_MARK_PRIVATE |
            GNUTLS_PKCS11_OBJ_FLAG_MARK_SENSITIVE |
            GNUTLS_PKCS11_OBJ_FLAG_LOGIN);
    if (ret >= 0) {
        /* GnuTLS reads a token key's public half from a public object */
        ret = gnutls_pkcs11_copy_pubkey(token_url, k.pub, label, &id, usage,
                                        GNUTLS_PKCS11_OBJ_FLAG_LOGIN);
    }
    if (ret < 0) {
        log_err("event=pkcs11_import what=copy err=\"%s\"",
                gnutls_strerror(ret));
        goto out;
    }
    found = find_key_url(token_url, k.id, k.id_len);
    if (found == NULL) {
        log_err("event=pkcs11_import err=\"the key is not in the token "
                "after writing it\"");
        goto out;
    }
    *key_url = xmalloc(strlen(found) + (query != NULL ? strlen(query) : 0) + 1);
    strcpy(*key_url, found);
    if (query != NULL) {
        strcat(*key_url, query);
    }
    rc = WD_OK;
out:
    gnutls_pkcs11_set_pin_function(NULL, NULL);
    gnutls_free(found);
    token_key_clear(&k);
    return rc;
}
