/*
 * JSON Web Keys and Signatures for ACME (RFC 8555 6.2): the account keys
 * clients send as JWKs (RFC 7517, RFC 7518 6, RFC 8037 2), their RFC 7638
 * thumbprints, and the check of a JWS signature over the protected header
 * and payload (RFC 7515 5.2). The ACME layer in api/ parses the JSON and
 * hands over the members as base64url strings; here they are bounded,
 * decoded and checked before GnuTLS sees them, and GnuTLS does the
 * arithmetic. Every key, whether from a JWK or a certificate, goes through
 * build_key, so both kinds meet the same checks and compare equal.
 */
#include "pki_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

enum jwk_kind { JWK_RSA, JWK_P256, JWK_P384, JWK_ED25519 };

struct pki_jwk {
    enum jwk_kind kind;
    gnutls_pubkey_t pub;
    char *canonical; /* RFC 7638 3.2 JSON of the required members */
    size_t sig_len;  /* bytes of a signature: the modulus's, or R||S's */
};

static const struct alg_row {
    enum pki_jws_alg alg;
    const char *name; /* RFC 7518 3.1, RFC 8037 3.1 */
    enum jwk_kind kind;
    gnutls_sign_algorithm_t sign; /* the curve-bound variants for ECDSA */
} algs[] = {
    { PKI_JWS_RS256, "RS256", JWK_RSA, GNUTLS_SIGN_RSA_SHA256 },
    { PKI_JWS_ES256, "ES256", JWK_P256, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256 },
    { PKI_JWS_ES384, "ES384", JWK_P384, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384 },
    { PKI_JWS_EDDSA, "EdDSA", JWK_ED25519, GNUTLS_SIGN_EDDSA_ED25519 },
};

#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static const struct curve_row {
    enum jwk_kind kind;
    const char *kty;
    const char *crv; /* RFC 7518 6.2.1.1, RFC 8037 2 */
    gnutls_ecc_curve_t curve;
    size_t size; /* bytes of a coordinate (of the key, for Ed25519) */
} curves[] = {
    { JWK_P256, "EC", "P-256", GNUTLS_ECC_CURVE_SECP256R1, 32 },
    { JWK_P384, "EC", "P-384", GNUTLS_ECC_CURVE_SECP384R1, 48 },
    { JWK_ED25519, "OKP", "Ed25519", GNUTLS_ECC_CURVE_ED25519, 32 },
};

#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

/* The largest coordinate of the curves above (P-384). */
#define MAX_COORD 48

/* RFC 7518 6.3.1.1: n in as few octets as it takes, so WD_MAX_RSA_BITS
 * bounds its length before anything is decoded. */
#define MAX_N_BYTES (WD_MAX_RSA_BITS / 8)

/* No key generator makes a public exponent over 32 bits, and Go's
 * crypto/rsa (behind most ACME clients) refuses them too. */
#define MAX_E_BYTES 4

/* Characters of base64url for n bytes, without padding. */
#define B64URL_LEN(n) (((n)*4 + 2) / 3)

/* A signing input is two base64url values and a dot. */
#define MAX_SIGNING_INPUT (2 * (size_t)PKI_B64URL_MAX_TEXT + 1)

static const struct alg_row *
find_alg(enum pki_jws_alg alg)
{
    size_t i;

    for (i = 0; i < N_ALGS; i++) {
        if (algs[i].alg == alg) {
            return &algs[i];
        }
    }
    return NULL;
}

/*
 * Sets *out to the JWS algorithm called name. Returns false, leaving *out
 * alone, for NULL, "none", the HMACs (a shared secret is no account key)
 * and every other name.
 */
bool
pki_jws_alg_parse(const char *name, enum pki_jws_alg *out)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; i < N_ALGS; i++) {
        if (strcmp(name, algs[i].name) == 0) {
            *out = algs[i].alg;
            return true;
        }
    }
    return false;
}

/* The name of alg as a JWS header carries it; "unknown" for no alg. */
const char *
pki_jws_alg_name(enum pki_jws_alg alg)
{
    const struct alg_row *row = find_alg(alg);

    return row != NULL ? row->name : "unknown";
}

/* Releases k and its GnuTLS key; accepts NULL. */
void
pki_jwk_free(struct pki_jwk *k)
{
    if (k == NULL) {
        return;
    }
    if (k->pub != NULL) {
        gnutls_pubkey_deinit(k->pub);
    }
    free(k->canonical);
    free(k);
}

/* Bits of the unsigned big-endian number p[0..len), p[0] != 0. */
static unsigned
bit_length(const uint8_t *p, size_t len)
{
    unsigned bits = (unsigned)(len - 1) * 8;
    uint8_t top = p[0];

    while (top != 0) {
        bits++;
        top >>= 1;
    }
    return bits;
}

/*
 * RFC 7518 6.3.1: n and e are unsigned big-endian in their fewest octets.
 * The modulus must be odd and of WD_MIN_RSA_BITS..WD_MAX_RSA_BITS, the
 * exponent odd, at least 3 and at most 32 bits.
 */
static enum wd_err
check_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
    unsigned bits;
    uint32_t ev = 0;
    size_t i;

    if (n_len == 0 || e_len == 0 || n[0] == 0 || e[0] == 0) {
        log_info("event=jwk_refused reason=\"RSA n or e not in its fewest "
                 "octets (RFC 7518 6.3.1)\"");
        return WD_E_JWS_MALFORMED;
    }
    bits = bit_length(n, n_len);
    if (bits < WD_MIN_RSA_BITS) {
        log_info("event=jwk_refused reason=\"RSA modulus of %u bits\"", bits);
        return WD_E_WEAK_KEY;
    }
    if (bits > WD_MAX_RSA_BITS || e_len > MAX_E_BYTES) {
        log_info("event=jwk_refused reason=\"RSA modulus of %u bits, "
                 "exponent of %zu bytes\"",
                 bits, e_len);
        return WD_E_UNSUPPORTED_KEY;
    }
    for (i = 0; i < e_len; i++) {
        ev = ev << 8 | e[i];
    }
    if ((n[n_len - 1] & 1) == 0 || (ev & 1) == 0 || ev < 3) {
        log_info("event=jwk_refused reason=\"no RSA key: even modulus, or "
                 "exponent even or under 3\"");
        return WD_E_JWS_MALFORMED;
    }
    return WD_OK;
}

/*
 * The RFC 7638 3.2 form: the required members, sorted, no whitespace. The
 * values are our own base64url of checked bytes and names from our
 * tables, so nothing here needs escaping.
 */
static char *
canonical_json(const struct curve_row *curve, const uint8_t *a, size_t a_len,
               const uint8_t *b, size_t b_len)
{
    char *a64 = pki_b64url_encode(a, a_len);
    char *b64 = b != NULL ? pki_b64url_encode(b, b_len) : NULL;
    size_t size = strlen(a64) + (b64 != NULL ? strlen(b64) : 0) + 64;
    char *json = xmalloc(size);

    if (curve == NULL) { /* RSA: a is n, b is e */
        snprintf(json, size, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", b64,
                 a64);
    } else if (b64 != NULL) {
        snprintf(json, size,
                 "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                 curve->crv, curve->kty, a64, b64);
    } else {
        snprintf(json, size, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\"}",
                 curve->crv, curve->kty, a64);
    }
    free(a64);
    free(b64);
    return json;
}

/*
 * Checks and imports a public key: RSA (curve NULL; a is n, b is e), an
 * EC point (a is x, b is y, each exactly curve->size bytes) or an Ed25519
 * key (a is x, b NULL). Caller owns *out; on failure it is untouched.
 */
static enum wd_err
build_key(const struct curve_row *curve, const uint8_t *a, size_t a_len,
          const uint8_t *b, size_t b_len, struct pki_jwk **out)
{
    struct pki_jwk *k = xcalloc(1, sizeof(*k));
    gnutls_datum_t da = { (unsigned char *)a, (unsigned)a_len };
    gnutls_datum_t db = { (unsigned char *)b, (unsigned)b_len };
    enum wd_err rc;
    int ret;

    ret = gnutls_pubkey_init(&k->pub);
    if (ret < 0) {
        log_err("event=jwk_import err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    if (curve == NULL) {
        rc = check_rsa(a, a_len, b, b_len);
        if (rc != WD_OK) {
            goto out;
        }
        k->kind = JWK_RSA;
        k->sig_len = a_len; /* RFC 8017 8.2.2: exactly the modulus's */
        ret = gnutls_pubkey_import_rsa_raw(k->pub, &da, &db);
    } else {
        k->kind = curve->kind;
        k->sig_len = 2 * curve->size; /* RFC 7518 3.4, RFC 8032 5.1.6 */
        ret = gnutls_pubkey_import_ecc_raw(k->pub, curve->curve, &da,
                                           b != NULL ? &db : NULL);
    }
    if (ret < 0) {
        log_info("event=jwk_refused err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_JWS_MALFORMED;
        goto out;
    }
    /* import takes any numbers; this is where GnuTLS checks that an EC
     * point lies on its curve (SP 800-56A 5.6.2.3) */
    ret = gnutls_pubkey_verify_params(k->pub);
    if (ret < 0) {
        log_info("event=jwk_refused reason=\"invalid public key\" err=\"%s\"",
                 gnutls_strerror(ret));
        rc = WD_E_JWS_MALFORMED;
        goto out;
    }
    k->canonical = canonical_json(curve, a, a_len, b, b_len);
    *out = k;
    k = NULL;
    rc = WD_OK;
out:
    pki_jwk_free(k);
    return rc;
}

/*
 * Decodes the member called name, of at most max bytes: too_long if its
 * text is longer than that could be, WD_E_JWS_MALFORMED if it is missing,
 * empty or not base64url. The caller frees *out.
 */
static enum wd_err
decode_member(const char *name, const char *s, size_t max, enum wd_err too_long,
              uint8_t **out, size_t *out_len)
{
    size_t len;
    enum wd_err rc;

    if (s == NULL) {
        log_info("event=jwk_refused reason=\"member %s missing\"", name);
        return WD_E_JWS_MALFORMED;
    }
    len = strnlen(s, B64URL_LEN(max) + 1);
    if (len > B64URL_LEN(max)) {
        log_info("event=jwk_refused reason=\"member %s over %zu bytes\"", name,
                 max);
        return too_long;
    }
    if (len == 0) {
        log_info("event=jwk_refused reason=\"member %s empty\"", name);
        return WD_E_JWS_MALFORMED;
    }
    rc = pki_b64url_decode(s, len, out, out_len);
    if (rc != WD_OK) {
        log_info("event=jwk_refused reason=\"member %s not base64url\"", name);
    }
    return rc;
}

/* Members of another key type have no place in a JWK. */
static bool
only_members(const struct pki_jwk_parts *p, bool crv, bool x, bool y, bool n,
             bool e)
{
    if ((p->crv != NULL && !crv) || (p->x != NULL && !x) ||
        (p->y != NULL && !y) || (p->n != NULL && !n) || (p->e != NULL && !e)) {
        log_info("event=jwk_refused reason=\"member of another key type\"");
        return false;
    }
    return true;
}

static enum wd_err
import_rsa(const struct pki_jwk_parts *p, struct pki_jwk **out)
{
    uint8_t *n = NULL;
    uint8_t *e = NULL;
    size_t n_len = 0;
    size_t e_len = 0;
    enum wd_err rc;

    if (!only_members(p, false, false, false, true, true)) {
        return WD_E_JWS_MALFORMED;
    }
    rc =
        decode_member("n", p->n, MAX_N_BYTES, WD_E_UNSUPPORTED_KEY, &n, &n_len);
    if (rc != WD_OK) {
        goto out;
    }
    rc =
        decode_member("e", p->e, MAX_E_BYTES, WD_E_UNSUPPORTED_KEY, &e, &e_len);
    if (rc != WD_OK) {
        goto out;
    }
    rc = build_key(NULL, n, n_len, e, e_len, out);
out:
    free(n);
    free(e);
    return rc;
}

static enum wd_err
import_curve(const struct pki_jwk_parts *p, struct pki_jwk **out)
{
    const struct curve_row *curve = NULL;
    bool okp = strcmp(p->kty, "OKP") == 0;
    uint8_t *x = NULL;
    uint8_t *y = NULL;
    size_t x_len = 0;
    size_t y_len = 0;
    char quoted[LOG_QUOTE_BUF];
    enum wd_err rc;
    size_t i;

    if (p->crv == NULL) {
        log_info("event=jwk_refused reason=\"member crv missing\"");
        return WD_E_JWS_MALFORMED;
    }
    for (i = 0; i < N_CURVES; i++) {
        if (strcmp(p->kty, curves[i].kty) == 0 &&
            strcmp(p->crv, curves[i].crv) == 0) {
            curve = &curves[i];
        }
    }
    if (curve == NULL) {
        log_info("event=jwk_refused reason=\"curve not accepted\" crv=%s",
                 log_quote(p->crv, strnlen(p->crv, LOG_QUOTE_MAX + 1), quoted));
        return WD_E_UNSUPPORTED_KEY;
    }
    if (!only_members(p, true, true, !okp, false, false)) {
        return WD_E_JWS_MALFORMED;
    }
    /* RFC 7518 6.2.1.2, RFC 8037 2: exactly the full size, no more, no
     * less */
    rc = decode_member("x", p->x, curve->size, WD_E_JWS_MALFORMED, &x, &x_len);
    if (rc != WD_OK) {
        goto out;
    }
    if (!okp) {
        rc = decode_member("y", p->y, curve->size, WD_E_JWS_MALFORMED, &y,
                           &y_len);
        if (rc != WD_OK) {
            goto out;
        }
    }
    if (x_len != curve->size || (!okp && y_len != curve->size)) {
        log_info("event=jwk_refused reason=\"%s coordinate not %zu bytes "
                 "(RFC 7518 6.2.1.2)\"",
                 curve->crv, curve->size);
        rc = WD_E_JWS_MALFORMED;
        goto out;
    }
    rc = build_key(curve, x, x_len, y, y_len, out);
out:
    free(x);
    free(y);
    return rc;
}

/*
 * Decodes and checks the JWK whose members p holds. On success the caller
 * owns *out (pki_jwk_free); on failure *out is untouched and the reason
 * is returned: WD_E_JWS_MALFORMED (no kty, a required member missing or
 * not base64url, a member of another key type, a coordinate of the wrong
 * size, a point off its curve, n or e with leading zeros, an even modulus
 * or an exponent that is even or under 3), WD_E_WEAK_KEY (RSA under
 * WD_MIN_RSA_BITS) or WD_E_UNSUPPORTED_KEY (any other kty, "oct" included;
 * a curve other than P-256, P-384 or Ed25519; RSA over WD_MAX_RSA_BITS or
 * with an exponent over 32 bits).
 */
enum wd_err
pki_jwk_import(const struct pki_jwk_parts *p, struct pki_jwk **out)
{
    char quoted[LOG_QUOTE_BUF];

    if (p == NULL || p->kty == NULL) {
        log_info("event=jwk_refused reason=\"member kty missing\"");
        return WD_E_JWS_MALFORMED;
    }
    if (strcmp(p->kty, "RSA") == 0) {
        return import_rsa(p, out);
    }
    if (strcmp(p->kty, "EC") == 0 || strcmp(p->kty, "OKP") == 0) {
        return import_curve(p, out);
    }
    log_info("event=jwk_refused reason=\"key type not accepted\" kty=%s",
             log_quote(p->kty, strnlen(p->kty, LOG_QUOTE_MAX + 1), quoted));
    return WD_E_UNSUPPORTED_KEY;
}

/*
 * Writes k's RFC 7638 thumbprint with SHA-256, base64url, into out (43
 * characters and a NUL). WD_E_INTERNAL (logged) if GnuTLS cannot hash.
 */
enum wd_err
pki_jwk_thumbprint(const struct pki_jwk *k,
                   char out[PKI_JWK_THUMBPRINT_LEN + 1])
{
    uint8_t digest[32];
    char *text;
    int ret;

    ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, k->canonical,
                           strlen(k->canonical), digest);
    if (ret < 0) {
        log_err("event=jwk_thumbprint err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    text = pki_b64url_encode(digest, sizeof(digest));
    memcpy(out, text, PKI_JWK_THUMBPRINT_LEN + 1);
    free(text);
    return WD_OK;
}

/* A copy of k's RFC 7638 3.2 JSON, which the caller frees. */
char *
pki_jwk_canonical(const struct pki_jwk *k)
{
    return xstrdup(k->canonical);
}

/*
 * True if a and b are the same public key. Both were built from checked,
 * minimal encodings, so equal keys have equal canonical forms.
 */
bool
pki_jwk_equal(const struct pki_jwk *a, const struct pki_jwk *b)
{
    return a != NULL && b != NULL && a->kind == b->kind &&
           strcmp(a->canonical, b->canonical) == 0;
}

/* True if alg is the algorithm k signs with (one per key type). */
bool
pki_jwk_alg_fits(const struct pki_jwk *k, enum pki_jws_alg alg)
{
    const struct alg_row *row = find_alg(alg);

    return k != NULL && row != NULL && row->kind == k->kind;
}

/* An R or S of RFC 7518 3.4 as the unsigned integer GnuTLS encodes:
 * without leading zeros, so that the DER INTEGER is minimal (X.690
 * 8.3.2), but at least one byte. */
static gnutls_datum_t
rs_integer(const uint8_t *p, size_t len)
{
    gnutls_datum_t d;

    while (len > 1 && p[0] == 0) {
        p++;
        len--;
    }
    d.data = (unsigned char *)p;
    d.size = (unsigned)len;
    return d;
}

/*
 * Checks sig, a JWS signature by k with alg, over input_len bytes of
 * input (RFC 7515 5.2 step 8). WD_OK if it verifies; WD_E_JWS_SIGNATURE
 * if alg is not k's, sig is not exactly the length alg and k make (RFC
 * 7518 3.3, 3.4; RFC 8037 3.1), or it does not verify; WD_E_TOO_LARGE
 * for an input over MAX_SIGNING_INPUT; WD_E_INTERNAL (logged) if GnuTLS
 * fails otherwise.
 */
enum wd_err
pki_jws_verify(const struct pki_jwk *k, enum pki_jws_alg alg,
               const uint8_t *input, size_t input_len, const uint8_t *sig,
               size_t sig_len)
{
    const struct alg_row *row = find_alg(alg);
    gnutls_datum_t data = { (unsigned char *)input, (unsigned)input_len };
    gnutls_datum_t value = { (unsigned char *)sig, (unsigned)sig_len };
    gnutls_datum_t der = { NULL, 0 };
    enum wd_err rc = WD_E_JWS_SIGNATURE;
    int ret;

    if (!pki_jwk_alg_fits(k, alg)) {
        log_info("event=jws_refused reason=\"alg %s is not the key's\"",
                 pki_jws_alg_name(alg));
        goto out;
    }
    if (input_len > MAX_SIGNING_INPUT) {
        log_info("event=jws_refused reason=\"signing input of %zu bytes\"",
                 input_len);
        rc = WD_E_TOO_LARGE;
        goto out;
    }
    if (sig_len != k->sig_len) {
        log_info("event=jws_refused alg=%s reason=\"signature of %zu bytes, "
                 "not %zu\"",
                 row->name, sig_len, k->sig_len);
        goto out;
    }
    if (k->kind == JWK_P256 || k->kind == JWK_P384) {
        /* RFC 7518 3.4: R||S, each half the length; GnuTLS verifies the
         * ECDSA-Sig-Value of RFC 3279 2.2.3 */
        gnutls_datum_t r = rs_integer(sig, sig_len / 2);
        gnutls_datum_t s = rs_integer(sig + sig_len / 2, sig_len / 2);

        ret = gnutls_encode_rs_value(&der, &r, &s);
        if (ret < 0) {
            log_err("event=jws_verify err=\"%s\"", gnutls_strerror(ret));
            rc = WD_E_INTERNAL;
            goto out;
        }
        value = der;
    }
    ret = gnutls_pubkey_verify_data2(k->pub, row->sign, 0, &data, &value);
    if (ret < 0) {
        log_info("event=jws_refused alg=%s err=\"%s\"", row->name,
                 gnutls_strerror(ret));
        goto out;
    }
    rc = WD_OK;
out:
    gnutls_free(der.data);
    return rc;
}

/* Copies the unsigned big-endian d into out[0..size), zeros in front.
 * False if d needs more than size bytes. */
static bool
left_pad(const gnutls_datum_t *d, uint8_t *out, size_t size)
{
    if (d->size > size) {
        return false;
    }
    memset(out, 0, size - d->size);
    if (d->size > 0) {
        memcpy(out + size - d->size, d->data, d->size);
    }
    return true;
}

/* The RSA, ECDSA or Ed25519 key pub as a JWK, through build_key. */
static enum wd_err
key_of_pubkey(gnutls_pubkey_t pub, struct pki_jwk **out)
{
    gnutls_datum_t a = { NULL, 0 };
    gnutls_datum_t b = { NULL, 0 };
    gnutls_ecc_curve_t ecc = GNUTLS_ECC_CURVE_INVALID;
    const struct curve_row *curve = NULL;
    uint8_t x[MAX_COORD];
    uint8_t y[MAX_COORD];
    enum wd_err rc = WD_E_UNSUPPORTED_KEY;
    int pk = gnutls_pubkey_get_pk_algorithm(pub, NULL);
    int ret;
    size_t i;

    if (pk == GNUTLS_PK_RSA) {
        ret = gnutls_pubkey_export_rsa_raw2(pub, &a, &b,
                                            GNUTLS_EXPORT_FLAG_NO_LZ);
        if (ret < 0) {
            log_err("event=jwk_from_cert err=\"%s\"", gnutls_strerror(ret));
            rc = WD_E_INTERNAL;
            goto out;
        }
        rc = build_key(NULL, a.data, a.size, b.data, b.size, out);
        goto out;
    }
    if (pk != GNUTLS_PK_ECDSA && pk != GNUTLS_PK_EDDSA_ED25519) {
        log_info("event=jwk_refused reason=\"certificate key %s not "
                 "accepted\"",
                 pk < 0 ? "unknown" : gnutls_pk_get_name(pk));
        goto out;
    }
    ret = gnutls_pubkey_export_ecc_raw2(pub, &ecc, &a, &b,
                                        GNUTLS_EXPORT_FLAG_NO_LZ);
    if (ret < 0) {
        log_err("event=jwk_from_cert err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    for (i = 0; i < N_CURVES; i++) {
        if (curves[i].curve == ecc) {
            curve = &curves[i];
        }
    }
    if (curve == NULL) {
        log_info("event=jwk_refused reason=\"certificate curve %s not "
                 "accepted\"",
                 gnutls_ecc_curve_get_name(ecc));
        goto out;
    }
    /* the export drops leading zeros; a JWK has the full size */
    if (!left_pad(&a, x, curve->size) ||
        (curve->kind != JWK_ED25519 && !left_pad(&b, y, curve->size))) {
        log_info("event=jwk_refused reason=\"certificate point too long\"");
        rc = WD_E_JWS_MALFORMED;
        goto out;
    }
    rc = build_key(curve, x, curve->size, curve->kind != JWK_ED25519 ? y : NULL,
                   curve->kind != JWK_ED25519 ? curve->size : 0, out);
out:
    gnutls_free(a.data);
    gnutls_free(b.data);
    return rc;
}

/*
 * The public key of the DER certificate der[0..len) as a JWK. Caller owns
 * *out; on failure it is untouched. WD_E_TOO_LARGE over WD_MAX_CSR_BYTES;
 * WD_E_JWS_MALFORMED for anything but exactly one DER certificate; for
 * its key, the answers of pki_jwk_import (WD_E_WEAK_KEY,
 * WD_E_UNSUPPORTED_KEY, ...). Neither the certificate's signature nor its
 * validity is looked at: the caller finds it in the store.
 */
enum wd_err
pki_jwk_from_cert(const uint8_t *der, size_t len, struct pki_jwk **out)
{
    struct pki_der_in in = { der, len };
    struct pki_der_in body;
    gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
    gnutls_x509_crt_t crt = NULL;
    gnutls_pubkey_t pub = NULL;
    enum wd_err rc = WD_E_JWS_MALFORMED;
    int ret;

    if (len > WD_MAX_CSR_BYTES) {
        log_info("event=jwk_refused reason=\"certificate of %zu bytes\"", len);
        return WD_E_TOO_LARGE;
    }
    /* one DER object, nothing after it */
    if (!pki_der_read(&in, PKI_DER_SEQUENCE, &body) || in.len != 0) {
        log_info("event=jwk_refused reason=\"not one DER certificate\"");
        return WD_E_JWS_MALFORMED;
    }
    if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&pub) < 0) {
        log_err("event=jwk_from_cert err=\"out of memory\"");
        rc = WD_E_INTERNAL;
        goto out;
    }
    ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    if (ret < 0) {
        log_info("event=jwk_refused reason=\"not a certificate\" err=\"%s\"",
                 gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_pubkey_import_x509(pub, crt, 0);
    if (ret < 0) {
        log_info("event=jwk_refused reason=\"certificate key\" err=\"%s\"",
                 gnutls_strerror(ret));
        rc = WD_E_UNSUPPORTED_KEY;
        goto out;
    }
    rc = key_of_pubkey(pub, out);
out:
    if (pub != NULL) {
        gnutls_pubkey_deinit(pub);
    }
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    return rc;
}
