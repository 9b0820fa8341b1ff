/*
 * The delegated OCSP responder's certificate and key (ocsp.crt, ocsp.key):
 * short-lived, issued by the intermediate, renewed by the daemon itself at
 * two thirds of their life, so the intermediate's key signs only a weekly
 * certificate instead of every OCSP answer.
 */
#include "srv.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* PEM files here are small; this bounds a corrupt one. */
#define PEM_MAX_BYTES (64 * 1024)

/* Issue a new pair, record it in the inventory, replace the files. */
static enum wd_err
issue(const char *dir, const struct pki_ca *ca, struct store *st,
      const struct srv_config *cfg, time_t now, struct pki_ocsp_responder **out)
{
    char *key_pem = NULL;
    struct pki_cert *cert = NULL;
    enum wd_err rc;

    rc = pki_ocsp_responder_issue(ca, now, cfg->ocsp_responder_validity_s,
                                  &key_pem, &cert);
    if (rc != WD_OK) {
        goto out;
    }
    /* recorded before use: the store holds every certificate we sign */
    rc = api_cert_record(st, cert, "warden", now);
    if (rc == WD_OK) {
        rc = srv_file_replace(dir, SRV_FILE_OCSP_KEY, key_pem, strlen(key_pem),
                              0600);
    }
    if (rc == WD_OK) {
        rc = srv_file_replace(dir, SRV_FILE_OCSP_CERT, cert->pem,
                              strlen(cert->pem), 0644);
    }
    if (rc == WD_OK) {
        rc = pki_ocsp_responder_new(ca, cert->pem, key_pem, out);
    }
    if (rc == WD_OK) {
        log_info("event=ocsp_responder_issued serial=%s not_after=%lld",
                 cert->serial, (long long)cert->not_after);
    }
out:
    srv_secret_free(key_pem);
    pki_cert_free(cert);
    return rc;
}

/* Two thirds of the configured life gone: renew. */
bool
srv_ocsp_responder_due(const struct pki_ocsp_responder *r,
                       const struct srv_config *cfg, time_t now)
{
    time_t left = pki_ocsp_responder_not_after(r) - now;

    return left < (time_t)(cfg->ocsp_responder_validity_s / 3);
}

enum wd_err
srv_ocsp_responder_ensure(const char *dir, const struct pki_ca *ca,
                          struct store *st, const struct srv_config *cfg,
                          time_t now, struct pki_ocsp_responder **out)
{
    char *cert_pem = NULL;
    char *key_pem = NULL;
    size_t len;
    struct pki_ocsp_responder *r = NULL;
    enum wd_err rc = WD_E_IO;

    if (srv_file_exists(dir, SRV_FILE_OCSP_CERT) &&
        srv_file_exists(dir, SRV_FILE_OCSP_KEY)) {
        rc = srv_file_read(dir, SRV_FILE_OCSP_CERT, PEM_MAX_BYTES, &cert_pem,
                           &len);
        if (rc == WD_OK) {
            rc = srv_file_read_secret(dir, SRV_FILE_OCSP_KEY, PEM_MAX_BYTES,
                                      &key_pem, &len);
        }
        if (rc == WD_E_KEY_UNPROTECTED) {
            /* refused, not silently replaced: someone may have read it */
            goto out;
        }
        if (rc == WD_OK) {
            rc = pki_ocsp_responder_new(ca, cert_pem, key_pem, &r);
        }
        if (rc != WD_OK) {
            log_warn("event=ocsp_responder_unusable action=reissue");
        }
    }
    if (r != NULL && !srv_ocsp_responder_due(r, cfg, now)) {
        *out = r;
        r = NULL;
        rc = WD_OK;
    } else {
        rc = issue(dir, ca, st, cfg, now, out);
    }
out:
    pki_ocsp_responder_free(r);
    free(cert_pem);
    srv_secret_free(key_pem);
    return rc;
}
