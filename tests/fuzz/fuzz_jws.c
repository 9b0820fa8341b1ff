/*
 * Fuzz target for the JWS and JWK intake of ACME (pki_jws.c,
 * pki_b64url.c). The first byte picks the path. With its top bit set the
 * rest is a DER certificate for pki_jwk_from_cert. Otherwise the rest is
 * up to nine '\n'-separated fields: kty, crv, x, y, n, e (the JWK members;
 * bit i of the first byte drops member i, as if absent), then alg, the
 * signing input and the base64url signature. Every field is also decoded
 * as base64url, which must give back exactly its text when re-encoded:
 * strict decoding means one spelling per value. A key that imports must
 * have a 43-character thumbprint, equal itself, and refuse every alg it
 * does not fit.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/base/log.h"
#include "../../server/base/xmalloc.h"

enum { KTY, CRV, X, Y, N, E, ALG, INPUT, SIG, N_FIELDS };

/* An exact-size copy of p[0..len) plus a NUL, so an over-read is caught. */
static char *
field_dup(const uint8_t *p, size_t len)
{
    char *s = xmalloc(len + 1);

    if (len > 0) {
        memcpy(s, p, len);
    }
    s[len] = '\0';
    return s;
}

/* Decode the len characters of s; on success the encoding must be s. */
static void
round_trip(const char *s, size_t len)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    char *again;

    if (pki_b64url_decode(s, len, &raw, &raw_len) != WD_OK) {
        if (raw != NULL) {
            abort(); /* published on failure */
        }
        return;
    }
    again = pki_b64url_encode(raw, raw_len);
    if (strlen(again) != len || memcmp(again, s, len) != 0) {
        abort(); /* two spellings of the same bytes */
    }
    free(again);
    free(raw);
}

/* What every key, however it was made, must satisfy. */
static void
check_key(const struct pki_jwk *k)
{
    char tp[PKI_JWK_THUMBPRINT_LEN + 1];
    char *canonical = pki_jwk_canonical(k);

    if (pki_jwk_thumbprint(k, tp) != WD_OK ||
        strlen(tp) != PKI_JWK_THUMBPRINT_LEN || canonical[0] != '{' ||
        !pki_jwk_equal(k, k)) {
        abort();
    }
    free(canonical);
}

static void
check_cert(const uint8_t *der, size_t len)
{
    uint8_t *copy = xmalloc(len > 0 ? len : 1);
    struct pki_jwk *k = NULL;
    enum wd_err rc;

    if (len > 0) {
        memcpy(copy, der, len);
    }
    rc = pki_jwk_from_cert(copy, len, &k);
    if ((rc == WD_OK) != (k != NULL)) {
        abort();
    }
    if (k != NULL) {
        check_key(k);
    }
    pki_jwk_free(k);
    free(copy);
}

static void
check_jws(uint8_t mode, const uint8_t *data, size_t size)
{
    char *field[N_FIELDS] = { NULL };
    size_t field_len[N_FIELDS] = { 0 };
    const char *member[6];
    struct pki_jwk_parts parts;
    struct pki_jwk *k = NULL;
    enum pki_jws_alg alg;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    size_t i;
    size_t start = 0;
    size_t n = 0;
    enum wd_err rc;

    for (i = 0; i <= size && n < N_FIELDS; i++) {
        if (i == size || data[i] == '\n') {
            field[n] = field_dup(data + start, i - start);
            field_len[n] = i - start;
            round_trip(field[n], field_len[n]);
            n++;
            start = i + 1;
        }
    }
    for (i = 0; i < 6; i++) {
        member[i] = (mode & (1u << i)) != 0 ? NULL : field[i];
    }
    parts.kty = member[KTY];
    parts.crv = member[CRV];
    parts.x = member[X];
    parts.y = member[Y];
    parts.n = member[N];
    parts.e = member[E];
    rc = pki_jwk_import(&parts, &k);
    if ((rc == WD_OK) != (k != NULL)) {
        abort();
    }
    if (k == NULL) {
        goto out;
    }
    check_key(k);
    if (!pki_jws_alg_parse(field[ALG], &alg) || field[INPUT] == NULL ||
        field[SIG] == NULL ||
        pki_b64url_decode(field[SIG], field_len[SIG], &sig, &sig_len) !=
            WD_OK) {
        goto out;
    }
    rc = pki_jws_verify(k, alg, (const uint8_t *)field[INPUT], field_len[INPUT],
                        sig, sig_len);
    if (rc != WD_OK && rc != WD_E_JWS_SIGNATURE) {
        abort();
    }
    if (rc == WD_OK && !pki_jwk_alg_fits(k, alg)) {
        abort(); /* a signature accepted for an alg not the key's */
    }
out:
    free(sig);
    pki_jwk_free(k);
    for (i = 0; i < N_FIELDS; i++) {
        free(field[i]);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;

    if (!quiet) {
        log_set_level(LOG_ERR);
        quiet = true;
    }
    if (size == 0) {
        return 0;
    }
    if ((data[0] & 0x80) != 0) {
        check_cert(data + 1, size - 1);
    } else {
        check_jws(data[0], data + 1, size - 1);
    }
    return 0;
}
