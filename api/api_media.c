/*
 * Content negotiation: which media type a request body is, and whether the
 * caller accepts the PEM chain or JSON.
 */
#include "api_priv.h"

#include <ctype.h>
#include <string.h>

/* Lower-cased media type without parameters; "" when absent. */
void
api_media_type(const char *content_type, char *out, size_t outsz)
{
    size_t i = 0;
    const char *p = content_type;

    out[0] = '\0';
    if (p == NULL || outsz == 0) {
        return;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t' &&
           i + 1 < outsz) {
        out[i++] = (char)tolower((unsigned char)*p);
        p++;
    }
    out[i] = '\0';
}

/*
 * Walk the Accept list (RFC 9110 12.5.1) without q-value ranking: PEM
 * wins if named, else JSON or a wildcard gives JSON. A missing header
 * means JSON.
 */
enum wd_err
api_accept_pem(const char *accept, bool *pem)
{
    bool json_ok = false;
    const char *p = accept;

    *pem = false;
    if (accept == NULL || accept[0] == '\0') {
        return WD_OK;
    }
    while (*p != '\0') {
        char type[96];
        size_t len = strcspn(p, ",");
        const char *semi = memchr(p, ';', len);
        size_t tlen = semi != NULL ? (size_t)(semi - p) : len;
        size_t i;
        size_t o = 0;

        for (i = 0; i < tlen && o + 1 < sizeof(type); i++) {
            if (p[i] != ' ' && p[i] != '\t') {
                type[o++] = (char)tolower((unsigned char)p[i]);
            }
        }
        type[o] = '\0';
        if (strcmp(type, "application/pem-certificate-chain") == 0) {
            *pem = true;
            return WD_OK;
        }
        if (strcmp(type, "application/json") == 0 ||
            strcmp(type, "application/*") == 0 || strcmp(type, "*/*") == 0) {
            json_ok = true;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    return json_ok ? WD_OK : WD_E_NOT_ACCEPTABLE;
}
