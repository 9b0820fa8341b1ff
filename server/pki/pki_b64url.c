/*
 * base64url without padding (RFC 7515 2, RFC 4648 5): how a JWS carries
 * its header, payload and signature and a JWK its numbers. Decoding is
 * strict, so that each value has exactly one spelling: the ACME layer
 * compares and stores what it decodes, and a thumbprint is only stable
 * if nobody can write the same key two ways. pki_base64.c is the lenient
 * reader of the OCSP GET form; this is not.
 */
#include "pki_priv.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz"
                               "0123456789-_";

/* The 6-bit value of c in the URL-safe alphabet, or -1. */
static int
sextet(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/*
 * Decodes len characters of s. WD_E_JWS_MALFORMED for any character
 * outside the URL-safe alphabet ('=', '+', '/', whitespace and NUL
 * included), a length of 4k+1 (6 bits are no byte) and unused trailing
 * bits that are not zero (RFC 4648 3.5: a second spelling of the same
 * bytes); WD_E_TOO_LARGE beyond PKI_B64URL_MAX_TEXT. On WD_OK the caller
 * frees *out (never NULL, even for len 0); on failure nothing is written.
 */
enum wd_err
pki_b64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t *buf;
    size_t n = 0;
    size_t i;
    uint32_t acc = 0; /* bits read but not yet written */
    unsigned bits = 0;

    if (len > PKI_B64URL_MAX_TEXT) {
        log_info("event=b64url_refused reason=\"%zu characters\"", len);
        return WD_E_TOO_LARGE;
    }
    if (len % 4 == 1) {
        log_info("event=b64url_refused reason=\"length 4k+1\"");
        return WD_E_JWS_MALFORMED;
    }
    buf = xmalloc(len / 4 * 3 + 3);
    for (i = 0; i < len; i++) {
        int v = sextet(s[i]);

        if (v < 0) {
            log_info("event=b64url_refused reason=\"character at %zu\"", i);
            free(buf);
            return WD_E_JWS_MALFORMED;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        log_info("event=b64url_refused reason=\"non-zero trailing bits\"");
        free(buf);
        return WD_E_JWS_MALFORMED;
    }
    *out = buf;
    *out_len = n;
    return WD_OK;
}

/*
 * The base64url text of len bytes of data, without padding; never NULL
 * (an empty string for len 0). The caller frees it.
 */
char *
pki_b64url_encode(const uint8_t *data, size_t len)
{
    char *s;
    size_t i;
    size_t n = 0;

    assert(len <= SIZE_MAX / 2); /* only ever our own, bounded, bytes */
    s = xmalloc(len / 3 * 4 + 4);
    for (i = 0; i + 3 <= len; i += 3) {
        uint32_t v =
            (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

        s[n++] = alphabet[v >> 18];
        s[n++] = alphabet[v >> 12 & 0x3f];
        s[n++] = alphabet[v >> 6 & 0x3f];
        s[n++] = alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        s[n++] = alphabet[data[i] >> 2];
        s[n++] = alphabet[(data[i] & 0x03) << 4];
    } else if (len - i == 2) {
        s[n++] = alphabet[data[i] >> 2];
        s[n++] = alphabet[(data[i] & 0x03) << 4 | data[i + 1] >> 4];
        s[n++] = alphabet[(data[i + 1] & 0x0f) << 2];
    }
    s[n] = '\0';
    return s;
}
