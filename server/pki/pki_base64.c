/*
 * Base64 for bytes that arrive as text outside PEM: the OCSP GET form
 * (RFC 6960 appendix A), where clients send standard or URL-safe base64
 * and some HTTP stacks turn '+' into ' '.
 */
#include "pki_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/* Longer text than this is no OCSP request we would answer. */
#define B64_MAX_TEXT (64 * 1024)

/*
 * Decode len characters of base64 (standard or URL-safe, padding
 * optional). WD_E_OCSP_MALFORMED for anything else. Caller frees *out.
 */
enum wd_err
pki_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len)
{
    char *norm;
    size_t i;
    size_t n = 0;
    gnutls_datum_t in;
    gnutls_datum_t der = { NULL, 0 };
    int ret;

    if (len == 0 || len > B64_MAX_TEXT) {
        return WD_E_OCSP_MALFORMED;
    }
    norm = xmalloc(len + 4);
    for (i = 0; i < len; i++) {
        char c = text[i];

        if (c == '-') {
            c = '+';
        } else if (c == '_') {
            c = '/';
        } else if (c == ' ') {
            c = '+';
        }
        norm[n++] = c;
    }
    while (n % 4 != 0) {
        norm[n++] = '=';
    }
    in.data = (unsigned char *)norm;
    in.size = (unsigned)n;
    ret = gnutls_base64_decode2(&in, &der);
    free(norm);
    if (ret < 0) {
        log_info("event=base64_refused err=\"%s\"", gnutls_strerror(ret));
        return WD_E_OCSP_MALFORMED;
    }
    *out = xmemdup(der.data, der.size);
    *out_len = der.size;
    gnutls_free(der.data);
    return WD_OK;
}
