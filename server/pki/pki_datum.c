/*
 * GnuTLS hands out buffers it allocated (gnutls_datum_t) while the rest of
 * Warden frees with free(). This file moves one into the other and wipes
 * the GnuTLS copy, so that a key's PEM leaves no trace in freed memory;
 * and it reads the PEM certificates an operator configured into GnuTLS,
 * with one log line for what did not read.
 */
#include "pki_priv.h"

#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/*
 * Moves d into a NUL-terminated string the caller frees with free(). The
 * GnuTLS buffer is wiped and released, and d is left empty. Never fails.
 */
char *
pki_datum_take_str(gnutls_datum_t *d)
{
    char *s = xmalloc((size_t)d->size + 1);

    if (d->size > 0) {
        memcpy(s, d->data, d->size);
    }
    s[d->size] = '\0';
    if (d->data != NULL) {
        gnutls_memset(d->data, 0, d->size);
        gnutls_free(d->data);
    }
    d->data = NULL;
    d->size = 0;
    return s;
}

/*
 * Imports one PEM certificate into *out, which the caller then owns
 * (gnutls_x509_crt_deinit). A NULL or unreadable pem is WD_E_CONFIG,
 * logged as "event=<event> what=<what>" (say ca_load and root); *out is
 * written only on success.
 */
enum wd_err
pki_crt_import_pem(const char *pem, const char *event, const char *what,
                   gnutls_x509_crt_t *out)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d;
    int ret;

    if (pem == NULL) {
        log_err("event=%s what=%s err=\"missing\"", event, what);
        return WD_E_CONFIG;
    }
    ret = gnutls_x509_crt_init(&crt);
    if (ret >= 0) {
        d.data = (unsigned char *)pem;
        d.size = (unsigned)strlen(pem);
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
    }
    if (ret < 0) {
        log_err("event=%s what=%s err=\"%s\"", event, what,
                gnutls_strerror(ret));
        gnutls_x509_crt_deinit(crt);
        return WD_E_CONFIG;
    }
    *out = crt;
    return WD_OK;
}
