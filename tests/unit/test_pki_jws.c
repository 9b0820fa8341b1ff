/*
 * Unit tests for server/pki/pki_jws.c and server/pki/pki_b64url.c: JWKs,
 * RFC 7638 thumbprints and JWS signatures for ACME, against vectors made
 * by another implementation (tests/data/jws/make-vectors.sh: openssl
 * signs, python3 computes thumbprints) and the examples of RFC 7515,
 * RFC 7638 and RFC 8037. One throwaway CA issues the certificates that
 * pki_jwk_from_cert reads.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://ca.example.test:8080"
#define DAY_S (24 * 3600)

/* Lines of one vector file: "name value", or "sig ALG INPUT SIG". */
#define MAX_LINES 32

struct sig {
    enum pki_jws_alg alg;
    const char *input; /* protected "." payload */
    uint8_t *sig;      /* decoded */
    size_t sig_len;
};

struct vec {
    uint8_t *buf;
    const char *name[MAX_LINES];
    const char *value[MAX_LINES];
    size_t n;
    struct sig sigs[MAX_LINES];
    size_t n_sigs;
};

struct fixtures {
    struct pki_ca_new made;
    struct pki_ca *ca;
    time_t now;
};

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->now = time(NULL);
    if (pki_fixture_ca_make("JWS Test", PKI_KEYGEN_ECDSA_P256, PUBLIC_URL,
                            f->now, &f->made, &f->ca) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    pki_fixture_ca_free(&f->made, f->ca);
    free(f);
    return 0;
}

/* Splits s at the first space: s keeps the head, the tail is returned. */
static char *
split(char *s)
{
    char *sp = strchr(s, ' ');

    assert_non_null(sp);
    *sp = '\0';
    return sp + 1;
}

/* Reads tests/data/jws/<file> into v (vec_free releases it). */
static void
vec_load(const char *file, struct vec *v)
{
    char path[256];
    size_t len = 0;
    char *line;
    char *next;

    memset(v, 0, sizeof(*v));
    snprintf(path, sizeof(path), "jws/%s", file);
    v->buf = test_read_file(path, &len);
    assert_non_null(v->buf);
    for (line = (char *)v->buf; *line != '\0'; line = next) {
        next = strchr(line, '\n');
        assert_non_null(next);
        *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        assert_true(v->n < MAX_LINES);
        v->name[v->n] = line;
        v->value[v->n] = split(line);
        if (strcmp(line, "sig") == 0) {
            struct sig *s = &v->sigs[v->n_sigs++];
            char *alg = (char *)v->value[v->n];
            char *input = split(alg);
            char *sig = split(input);

            assert_true(pki_jws_alg_parse(alg, &s->alg));
            s->input = input;
            assert_wd_err(
                pki_b64url_decode(sig, strlen(sig), &s->sig, &s->sig_len),
                WD_OK);
        }
        v->n++;
    }
}

static void
vec_free(struct vec *v)
{
    size_t i;

    for (i = 0; i < v->n_sigs; i++) {
        free(v->sigs[i].sig);
    }
    free(v->buf);
}

/* The value of the first line called name, or NULL. */
static const char *
vec_get(const struct vec *v, const char *name)
{
    size_t i;

    for (i = 0; i < v->n; i++) {
        if (strcmp(v->name[i], name) == 0) {
            return v->value[i];
        }
    }
    return NULL;
}

static struct pki_jwk_parts
vec_parts(const struct vec *v)
{
    struct pki_jwk_parts p;

    p.kty = vec_get(v, "kty");
    p.crv = vec_get(v, "crv");
    p.x = vec_get(v, "x");
    p.y = vec_get(v, "y");
    p.n = vec_get(v, "n");
    p.e = vec_get(v, "e");
    return p;
}

/* The key of a vector file, which must import. */
static struct pki_jwk *
vec_key(const struct vec *v)
{
    struct pki_jwk_parts p = vec_parts(v);
    struct pki_jwk *k = NULL;

    assert_wd_err(pki_jwk_import(&p, &k), WD_OK);
    assert_non_null(k);
    return k;
}

/* What pki_jwk_import answers for the key of a vector file. */
static enum wd_err
vec_import_err(const char *file)
{
    struct vec v;
    struct pki_jwk_parts p;
    struct pki_jwk *k = NULL;
    enum wd_err rc;

    vec_load(file, &v);
    p = vec_parts(&v);
    rc = pki_jwk_import(&p, &k);
    assert_true((rc == WD_OK) == (k != NULL));
    pki_jwk_free(k);
    vec_free(&v);
    return rc;
}

static enum wd_err
verify(const struct pki_jwk *k, const struct sig *s)
{
    return pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                          strlen(s->input), s->sig, s->sig_len);
}

/* Every signature of file verifies with the file's key. */
static void
assert_all_verify(const char *file, size_t want_sigs)
{
    struct vec v;
    struct pki_jwk *k;
    size_t i;

    vec_load(file, &v);
    assert_int_equal(v.n_sigs, want_sigs);
    k = vec_key(&v);
    for (i = 0; i < v.n_sigs; i++) {
        assert_true(pki_jwk_alg_fits(k, v.sigs[i].alg));
        assert_wd_err(verify(k, &v.sigs[i]), WD_OK);
    }
    pki_jwk_free(k);
    vec_free(&v);
}

/* base64url of s decoded, re-encoded after edit(bytes, &len). */
static char *
recode(const char *s, void (*edit)(uint8_t *, size_t *))
{
    uint8_t *raw = NULL;
    size_t len = 0;
    uint8_t *buf;
    char *out;

    assert_wd_err(pki_b64url_decode(s, strlen(s), &raw, &len), WD_OK);
    buf = calloc(1, len + 2);
    assert_non_null(buf);
    memcpy(buf, raw, len);
    edit(buf, &len);
    out = pki_b64url_encode(buf, len);
    free(buf);
    free(raw);
    return out;
}

static void
flip_last_bit(uint8_t *p, size_t *len)
{
    p[*len - 1] ^= 1;
}

static void
prepend_zero(uint8_t *p, size_t *len)
{
    memmove(p + 1, p, *len);
    p[0] = 0;
    (*len)++;
}

static void
drop_first(uint8_t *p, size_t *len)
{
    memmove(p, p + 1, *len - 1);
    (*len)--;
}

static void
all_ones(uint8_t *p, size_t *len)
{
    memset(p, 0xff, *len);
}

static void
clear_last_bit(uint8_t *p, size_t *len)
{
    p[*len - 1] &= 0xfe;
}

/* What pki_jwk_import answers for parts p. */
static enum wd_err
import_err(const struct pki_jwk_parts *p)
{
    struct pki_jwk *k = NULL;
    enum wd_err rc = pki_jwk_import(p, &k);

    assert_true((rc == WD_OK) == (k != NULL));
    pki_jwk_free(k);
    return rc;
}

/* ---- base64url ---- */

static void
assert_decodes(const char *s, const char *want, size_t want_len)
{
    uint8_t *out = NULL;
    size_t len = 99;

    assert_wd_err(pki_b64url_decode(s, strlen(s), &out, &len), WD_OK);
    assert_non_null(out);
    assert_int_equal(len, want_len);
    if (want_len > 0) {
        assert_memory_equal(out, want, want_len);
    }
    free(out);
}

static void
assert_refused(const char *s, size_t len, enum wd_err want)
{
    uint8_t *out = NULL;
    size_t out_len = 99;

    assert_wd_err(pki_b64url_decode(s, len, &out, &out_len), want);
    assert_null(out);
    assert_int_equal(out_len, 99);
}

static void
test_pki_b64url_decodes_the_rfc_4648_examples(void **state)
{
    (void)state;
    /* RFC 4648 10, unpadded; and the two characters base64url changes */
    assert_decodes("", "", 0);
    assert_decodes("Zg", "f", 1);
    assert_decodes("Zm8", "fo", 2);
    assert_decodes("Zm9v", "foo", 3);
    assert_decodes("Zm9vYg", "foob", 4);
    assert_decodes("Zm9vYmE", "fooba", 5);
    assert_decodes("Zm9vYmFy", "foobar", 6);
    assert_decodes("-_8", "\xfb\xff", 2);
}

static void
test_pki_b64url_decode_takes_empty_as_no_bytes(void **state)
{
    uint8_t *out = NULL;
    size_t len = 99;

    (void)state;
    /* RFC 8555 6.3: a POST-as-GET has the empty payload "" */
    assert_wd_err(pki_b64url_decode("", 0, &out, &len), WD_OK);
    assert_non_null(out);
    assert_int_equal(len, 0);
    free(out);
}

static void
test_pki_b64url_decode_refuses_padding_and_foreign_characters(void **state)
{
    (void)state;
    assert_refused("Zg==", 4, WD_E_JWS_MALFORMED);
    assert_refused("Zm8=", 4, WD_E_JWS_MALFORMED);
    assert_refused("Zg=", 3, WD_E_JWS_MALFORMED);
    assert_refused("+_8", 3, WD_E_JWS_MALFORMED); /* standard base64 */
    assert_refused("-/8", 3, WD_E_JWS_MALFORMED);
    assert_refused("Zm9v Yg", 7, WD_E_JWS_MALFORMED);
    assert_refused("Zm9v\nYg", 7, WD_E_JWS_MALFORMED);
    assert_refused("Zm9vYg\r", 7, WD_E_JWS_MALFORMED);
    assert_refused("Zm9v.Yg", 7, WD_E_JWS_MALFORMED);
    assert_refused("Zm9\0", 4, WD_E_JWS_MALFORMED); /* a NUL inside len */
    assert_refused("Zm9v\xc3\xa9", 6, WD_E_JWS_MALFORMED);
}

static void
test_pki_b64url_decode_refuses_a_length_of_4k_plus_1(void **state)
{
    (void)state;
    assert_refused("Z", 1, WD_E_JWS_MALFORMED);
    assert_refused("Zm9vY", 5, WD_E_JWS_MALFORMED);
}

static void
test_pki_b64url_decode_refuses_non_zero_trailing_bits(void **state)
{
    (void)state;
    /* "Zg" is the one spelling of "f": 'h' sets a bit past the byte */
    assert_refused("Zh", 2, WD_E_JWS_MALFORMED);
    assert_refused("Zv", 2, WD_E_JWS_MALFORMED);
    /* "Zm8" is the one spelling of "fo": '9' sets a bit past it */
    assert_refused("Zm9", 3, WD_E_JWS_MALFORMED);
    assert_refused("Zm_", 3, WD_E_JWS_MALFORMED);
}

static void
test_pki_b64url_decode_refuses_more_than_the_limit(void **state)
{
    size_t len = PKI_B64URL_MAX_TEXT;
    char *big = malloc(len + 1);
    uint8_t *out = NULL;
    size_t out_len = 0;

    (void)state;
    assert_non_null(big);
    memset(big, 'A', len + 1);
    assert_wd_err(pki_b64url_decode(big, len, &out, &out_len), WD_OK);
    assert_int_equal(out_len, len / 4 * 3);
    free(out);
    assert_refused(big, len + 1, WD_E_TOO_LARGE);
    free(big);
}

static void
test_pki_b64url_round_trips_every_length(void **state)
{
    uint8_t data[67];
    size_t len;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 37 + 251);
    }
    for (len = 0; len <= sizeof(data); len++) {
        char *s = pki_b64url_encode(data, len);
        uint8_t *back = NULL;
        size_t back_len = 0;

        assert_non_null(s);
        assert_int_equal(strlen(s), (len * 4 + 2) / 3);
        assert_null(strpbrk(s, "=+/"));
        assert_wd_err(pki_b64url_decode(s, strlen(s), &back, &back_len), WD_OK);
        assert_int_equal(back_len, len);
        if (len > 0) {
            assert_memory_equal(back, data, len);
        }
        free(back);
        free(s);
    }
}

/* ---- algorithms ---- */

static void
test_pki_jws_alg_parse_takes_the_four_and_refuses_none_and_hmac(void **state)
{
    static const char *const good[] = { "RS256", "ES256", "ES384", "EdDSA" };
    static const char *const bad[] = { "none",  "None",    "HS256", "HS384",
                                       "HS512", "rs256",   "ES512", "PS256",
                                       "RS384", "Ed25519", "",      "RS256 " };
    enum pki_jws_alg alg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(pki_jws_alg_parse(good[i], &alg));
        assert_string_equal(pki_jws_alg_name(alg), good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        alg = PKI_JWS_ES384;
        assert_false(pki_jws_alg_parse(bad[i], &alg));
        assert_int_equal(alg, PKI_JWS_ES384);
    }
    assert_false(pki_jws_alg_parse(NULL, &alg));
    assert_string_equal(pki_jws_alg_name((enum pki_jws_alg)42), "unknown");
}

static void
test_pki_jwk_alg_fits_pairs_each_key_with_its_alg(void **state)
{
    static const char *const files[] = { "rs256-2048.txt", "es256.txt",
                                         "es384.txt", "eddsa.txt" };
    static const enum pki_jws_alg algs[] = { PKI_JWS_RS256, PKI_JWS_ES256,
                                             PKI_JWS_ES384, PKI_JWS_EDDSA };
    size_t i;
    size_t j;

    (void)state;
    for (i = 0; i < 4; i++) {
        struct vec v;
        struct pki_jwk *k;

        vec_load(files[i], &v);
        k = vec_key(&v);
        for (j = 0; j < 4; j++) {
            assert_int_equal(pki_jwk_alg_fits(k, algs[j]), i == j);
        }
        assert_false(pki_jwk_alg_fits(k, (enum pki_jws_alg)42));
        pki_jwk_free(k);
        vec_free(&v);
    }
    assert_false(pki_jwk_alg_fits(NULL, PKI_JWS_RS256));
}

/* ---- verification ---- */

static void
test_pki_jws_verify_accepts_the_rfc_examples(void **state)
{
    (void)state;
    assert_all_verify("rfc7515-a2-rs256.txt", 1);
    assert_all_verify("rfc7515-a3-es256.txt", 1);
    assert_all_verify("rfc8037-a4-eddsa.txt", 1);
}

static void
test_pki_jws_verify_accepts_openssl_signatures_of_each_alg(void **state)
{
    (void)state;
    assert_all_verify("rs256-2048.txt", 4);
    assert_all_verify("rs256-4096.txt", 4);
    assert_all_verify("rs256-2048-e3.txt", 4);
    assert_all_verify("eddsa.txt", 4);
    /* with an R, then an S, that starts with a zero byte */
    assert_all_verify("es256.txt", 6);
    assert_all_verify("es384.txt", 6);
}

static void
test_pki_jws_verify_refuses_a_flipped_bit(void **state)
{
    static const char *const files[] = {
        "rfc7515-a2-rs256.txt",
        "rfc7515-a3-es256.txt",
        "rfc8037-a4-eddsa.txt",
        "rs256-2048.txt",
        "es256.txt",
        "es384.txt",
        "eddsa.txt",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct vec v;
        struct pki_jwk *k;
        const struct sig *s;
        size_t len;
        size_t at[3];
        size_t j;

        vec_load(files[i], &v);
        k = vec_key(&v);
        s = &v.sigs[0];
        len = strlen(s->input);
        at[0] = 0;
        at[1] = len / 2;
        at[2] = len - 1;
        for (j = 0; j < 3; j++) {
            char *input = strdup(s->input);

            assert_non_null(input);
            input[at[j]] ^= 0x01;
            assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)input, len,
                                         s->sig, s->sig_len),
                          WD_E_JWS_SIGNATURE);
            free(input);
        }
        at[0] = 0;
        at[1] = s->sig_len / 2;
        at[2] = s->sig_len - 1;
        for (j = 0; j < 3; j++) {
            uint8_t *sig = malloc(s->sig_len);

            assert_non_null(sig);
            memcpy(sig, s->sig, s->sig_len);
            sig[at[j]] ^= 0x80;
            assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                                         len, sig, s->sig_len),
                          WD_E_JWS_SIGNATURE);
            free(sig);
        }
        /* one byte short of the input: a truncated payload */
        assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                                     len - 1, s->sig, s->sig_len),
                      WD_E_JWS_SIGNATURE);
        pki_jwk_free(k);
        vec_free(&v);
    }
}

static void
test_pki_jws_verify_refuses_an_alg_that_is_not_the_keys(void **state)
{
    struct vec es256;
    struct vec rs256;
    struct pki_jwk *ec;
    struct pki_jwk *rsa;
    const struct sig *s;

    (void)state;
    vec_load("es256.txt", &es256);
    vec_load("rs256-2048.txt", &rs256);
    ec = vec_key(&es256);
    rsa = vec_key(&rs256);
    s = &es256.sigs[0];
    /* an ES256 signature checked as ES384, EdDSA or RS256 */
    assert_wd_err(pki_jws_verify(ec, PKI_JWS_ES384, (const uint8_t *)s->input,
                                 strlen(s->input), s->sig, s->sig_len),
                  WD_E_JWS_SIGNATURE);
    assert_wd_err(pki_jws_verify(ec, PKI_JWS_EDDSA, (const uint8_t *)s->input,
                                 strlen(s->input), s->sig, s->sig_len),
                  WD_E_JWS_SIGNATURE);
    assert_wd_err(pki_jws_verify(ec, PKI_JWS_RS256, (const uint8_t *)s->input,
                                 strlen(s->input), s->sig, s->sig_len),
                  WD_E_JWS_SIGNATURE);
    /* the right signature, the wrong key */
    assert_wd_err(pki_jws_verify(rsa, PKI_JWS_ES256, (const uint8_t *)s->input,
                                 strlen(s->input), s->sig, s->sig_len),
                  WD_E_JWS_SIGNATURE);
    assert_wd_err(pki_jws_verify(NULL, PKI_JWS_ES256, (const uint8_t *)s->input,
                                 strlen(s->input), s->sig, s->sig_len),
                  WD_E_JWS_SIGNATURE);
    s = &rs256.sigs[0];
    assert_wd_err(pki_jws_verify(rsa, PKI_JWS_ES256, (const uint8_t *)s->input,
                                 strlen(s->input), s->sig, s->sig_len),
                  WD_E_JWS_SIGNATURE);
    pki_jwk_free(ec);
    pki_jwk_free(rsa);
    vec_free(&es256);
    vec_free(&rs256);
}

/* pki_jws_verify on the first signature of file, cut or padded to len
 * bytes (zeros appended, or the first bytes dropped). */
static enum wd_err
verify_resized(const char *file, size_t len, bool drop_front)
{
    struct vec v;
    struct pki_jwk *k;
    const struct sig *s;
    uint8_t *sig = calloc(1, len + 1);
    enum wd_err rc;

    assert_non_null(sig);
    vec_load(file, &v);
    k = vec_key(&v);
    s = &v.sigs[0];
    if (drop_front && len < s->sig_len) {
        memcpy(sig, s->sig + (s->sig_len - len), len);
    } else {
        memcpy(sig, s->sig, len < s->sig_len ? len : s->sig_len);
    }
    rc = pki_jws_verify(k, s->alg, (const uint8_t *)s->input, strlen(s->input),
                        sig, len);
    pki_jwk_free(k);
    vec_free(&v);
    free(sig);
    return rc;
}

static void
test_pki_jws_verify_refuses_a_signature_of_the_wrong_length(void **state)
{
    (void)state;
    /* RFC 7518 3.4: R||S is exactly 64 (ES256) or 96 (ES384) bytes; a
     * DER signature (about 70 or 102) or a stripped zero is refused */
    assert_wd_err(verify_resized("es256.txt", 64, false), WD_OK);
    assert_wd_err(verify_resized("es256.txt", 63, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("es256.txt", 65, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("es256.txt", 70, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("es256.txt", 0, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("es384.txt", 96, false), WD_OK);
    assert_wd_err(verify_resized("es384.txt", 64, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("es384.txt", 95, true), WD_E_JWS_SIGNATURE);
    /* RFC 8037 3.1: 64 bytes; RFC 8017 8.2.2: exactly the modulus's */
    assert_wd_err(verify_resized("eddsa.txt", 63, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("eddsa.txt", 65, false), WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("rs256-2048.txt", 255, true),
                  WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("rs256-2048.txt", 257, false),
                  WD_E_JWS_SIGNATURE);
    assert_wd_err(verify_resized("rs256-2048.txt", 0, false),
                  WD_E_JWS_SIGNATURE);
}

static void
test_pki_jws_verify_refuses_zero_or_all_ones_r_and_s(void **state)
{
    struct vec v;
    struct pki_jwk *k;
    const struct sig *s;
    uint8_t sig[96];

    (void)state;
    vec_load("es256.txt", &v);
    k = vec_key(&v);
    s = &v.sigs[0];
    memset(sig, 0, sizeof(sig));
    assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                                 strlen(s->input), sig, 64),
                  WD_E_JWS_SIGNATURE);
    memset(sig, 0xff, sizeof(sig));
    assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                                 strlen(s->input), sig, 64),
                  WD_E_JWS_SIGNATURE);
    /* R kept, S zero */
    memcpy(sig, s->sig, 32);
    memset(sig + 32, 0, 32);
    assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                                 strlen(s->input), sig, 64),
                  WD_E_JWS_SIGNATURE);
    pki_jwk_free(k);
    vec_free(&v);
}

static void
test_pki_jws_verify_refuses_an_input_over_the_limit(void **state)
{
    struct vec v;
    struct pki_jwk *k;
    const struct sig *s;

    (void)state;
    vec_load("eddsa.txt", &v);
    k = vec_key(&v);
    s = &v.sigs[0];
    /* the length is checked before a byte is read */
    assert_wd_err(pki_jws_verify(k, s->alg, (const uint8_t *)s->input,
                                 2 * (size_t)PKI_B64URL_MAX_TEXT + 2, s->sig,
                                 s->sig_len),
                  WD_E_TOO_LARGE);
    pki_jwk_free(k);
    vec_free(&v);
}

/* ---- keys ---- */

static void
test_pki_jwk_import_refuses_rsa_under_2048_bits(void **state)
{
    (void)state;
    assert_wd_err(vec_import_err("rsa-1024-weak.txt"), WD_E_WEAK_KEY);
}

static void
test_pki_jwk_import_refuses_oct_and_other_key_types(void **state)
{
    struct pki_jwk_parts p = { 0 };

    (void)state;
    /* a symmetric key is no account key (RFC 7518 6.4) */
    p.kty = "oct";
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    p.kty = "rsa";
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    p.kty = "";
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    p.kty = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    assert_wd_err(import_err(NULL), WD_E_JWS_MALFORMED);
}

static void
test_pki_jwk_import_refuses_curves_we_do_not_take(void **state)
{
    struct vec v;
    struct pki_jwk_parts p;

    (void)state;
    assert_wd_err(vec_import_err("ec-p521-unsupported.txt"),
                  WD_E_UNSUPPORTED_KEY);
    assert_wd_err(vec_import_err("ed448-unsupported.txt"),
                  WD_E_UNSUPPORTED_KEY);
    vec_load("es256.txt", &v);
    p = vec_parts(&v);
    p.crv = "secp256k1";
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    p.crv = "p-256";
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    p.crv = "Ed25519"; /* an OKP curve under kty EC */
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    p.crv = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    vec_free(&v);
    vec_load("eddsa.txt", &v);
    p = vec_parts(&v);
    p.crv = "X25519"; /* a key-agreement key (RFC 8037 2) */
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    vec_free(&v);
}

static void
test_pki_jwk_import_refuses_a_point_off_the_curve(void **state)
{
    static const char *const files[] = { "es256.txt", "es384.txt",
                                         "rfc7515-a3-es256.txt" };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct vec v;
        struct pki_jwk_parts p;
        char *bad;

        vec_load(files[i], &v);
        p = vec_parts(&v);
        assert_wd_err(import_err(&p), WD_OK);
        bad = recode(p.y, flip_last_bit);
        p.y = bad;
        assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
        free(bad);
        /* coordinates beyond the field prime */
        p = vec_parts(&v);
        bad = recode(p.x, all_ones);
        p.x = bad;
        assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
        p.y = bad;
        assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
        free(bad);
        vec_free(&v);
    }
}

static void
test_pki_jwk_import_refuses_coordinates_of_the_wrong_size(void **state)
{
    static const char *const files[] = { "es256.txt", "es384.txt",
                                         "eddsa.txt" };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct vec v;
        struct pki_jwk_parts p;
        char *bad;

        /* RFC 7518 6.2.1.2: the full size, leading zeros included */
        vec_load(files[i], &v);
        p = vec_parts(&v);
        bad = recode(p.x, prepend_zero);
        p.x = bad;
        assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
        free(bad);
        p = vec_parts(&v);
        bad = recode(p.x, drop_first);
        p.x = bad;
        assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
        free(bad);
        vec_free(&v);
    }
}

static void
test_pki_jwk_import_refuses_missing_and_stray_members(void **state)
{
    struct vec rsa;
    struct vec ec;
    struct vec okp;
    struct pki_jwk_parts p;

    (void)state;
    vec_load("rs256-2048.txt", &rsa);
    vec_load("es256.txt", &ec);
    vec_load("eddsa.txt", &okp);
    p = vec_parts(&rsa);
    p.e = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&rsa);
    p.n = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&rsa);
    p.n = "";
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&rsa);
    p.e = "AQAB=";
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&rsa);
    p.crv = "P-256";
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&rsa);
    p.x = vec_get(&ec, "x");
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);

    p = vec_parts(&ec);
    p.y = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&ec);
    p.x = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&ec);
    p.n = vec_get(&rsa, "n");
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&ec);
    p.e = "AQAB";
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);

    p = vec_parts(&okp);
    p.y = vec_get(&ec, "y");
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&okp);
    p.x = NULL;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p = vec_parts(&okp);
    p.x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="; /* padded */
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    vec_free(&rsa);
    vec_free(&ec);
    vec_free(&okp);
}

static void
test_pki_jwk_import_refuses_rsa_numbers_that_make_no_key(void **state)
{
    struct vec v;
    struct pki_jwk_parts p;
    char *bad;
    char *big;
    size_t big_len = (8192 + 8) / 6 + 2;

    (void)state;
    vec_load("rs256-2048.txt", &v);
    /* RFC 7518 6.3.1.1: no leading zero octets */
    p = vec_parts(&v);
    bad = recode(p.n, prepend_zero);
    p.n = bad;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    free(bad);
    p = vec_parts(&v);
    p.e = "AAEAAQ"; /* 65537 with a zero in front */
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    /* an even modulus, or e even, 1 or over 32 bits */
    p = vec_parts(&v);
    bad = recode(p.n, clear_last_bit);
    p.n = bad;
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    free(bad);
    p = vec_parts(&v);
    p.e = "AQAA"; /* 65536 */
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p.e = "AQ"; /* 1 */
    assert_wd_err(import_err(&p), WD_E_JWS_MALFORMED);
    p.e = "Aw"; /* 3 */
    assert_wd_err(import_err(&p), WD_OK);
    p.e = "AQAAAAE"; /* 2^32 + 1 */
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    /* a modulus over WD_MAX_RSA_BITS, refused on its length alone */
    big = malloc(big_len + 1);
    assert_non_null(big);
    memset(big, '_', big_len);
    big[big_len] = '\0';
    p = vec_parts(&v);
    p.n = big;
    assert_wd_err(import_err(&p), WD_E_UNSUPPORTED_KEY);
    free(big);
    vec_free(&v);
}

/* ---- thumbprints and comparison ---- */

static void
test_pki_jwk_thumbprint_matches_rfc_7638(void **state)
{
    struct vec v;
    struct pki_jwk *k;
    char tp[PKI_JWK_THUMBPRINT_LEN + 1];

    (void)state;
    vec_load("rfc7638-thumbprint.txt", &v);
    k = vec_key(&v);
    assert_wd_err(pki_jwk_thumbprint(k, tp), WD_OK);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    pki_jwk_free(k);
    vec_free(&v);
    /* RFC 8037 A.3 */
    vec_load("rfc8037-a4-eddsa.txt", &v);
    k = vec_key(&v);
    assert_wd_err(pki_jwk_thumbprint(k, tp), WD_OK);
    assert_string_equal(tp, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    pki_jwk_free(k);
    vec_free(&v);
}

static void
test_pki_jwk_thumbprint_and_canonical_match_python(void **state)
{
    static const char *const files[] = {
        "rfc7515-a2-rs256.txt",
        "rfc7515-a3-es256.txt",
        "rfc8037-a4-eddsa.txt",
        "rfc7638-thumbprint.txt",
        "rs256-2048.txt",
        "rs256-4096.txt",
        "rs256-2048-e3.txt",
        "es256.txt",
        "es384.txt",
        "eddsa.txt",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct vec v;
        struct pki_jwk *k;
        char tp[PKI_JWK_THUMBPRINT_LEN + 1];
        char *canonical;

        vec_load(files[i], &v);
        k = vec_key(&v);
        assert_wd_err(pki_jwk_thumbprint(k, tp), WD_OK);
        assert_int_equal(strlen(tp), PKI_JWK_THUMBPRINT_LEN);
        assert_string_equal(tp, vec_get(&v, "thumbprint"));
        canonical = pki_jwk_canonical(k);
        assert_string_equal(canonical, vec_get(&v, "canonical"));
        free(canonical);
        pki_jwk_free(k);
        vec_free(&v);
    }
}

static void
test_pki_jwk_equal_compares_keys(void **state)
{
    struct vec a;
    struct vec b;
    struct pki_jwk *a1;
    struct pki_jwk *a2;
    struct pki_jwk *other;

    (void)state;
    vec_load("es256.txt", &a);
    vec_load("rfc7515-a3-es256.txt", &b);
    a1 = vec_key(&a);
    a2 = vec_key(&a);
    other = vec_key(&b);
    assert_true(pki_jwk_equal(a1, a2));
    assert_false(pki_jwk_equal(a1, other));
    assert_false(pki_jwk_equal(a1, NULL));
    assert_false(pki_jwk_equal(NULL, NULL));
    pki_jwk_free(a1);
    pki_jwk_free(a2);
    pki_jwk_free(other);
    pki_jwk_free(NULL);
    vec_free(&a);
    vec_free(&b);
}

/* ---- keys of certificates ---- */

/* A certificate of the CA for the CSR tests/data/<csr>. */
static struct pki_cert *
issue(const struct fixtures *f, const char *csr_file)
{
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    struct pki_issue req;
    size_t len = 0;
    uint8_t *buf = test_read_file(csr_file, &len);

    assert_non_null(buf);
    assert_wd_err(pki_csr_parse(buf, len, &csr), WD_OK);
    free(buf);
    assert_wd_err(pki_serial_new(serial), WD_OK);
    req.csr = csr;
    req.profile = PKI_PROFILE_SERVER;
    req.serial = serial;
    req.validity_s = 90 * DAY_S;
    req.now = f->now;
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    pki_csr_free(csr);
    return cert;
}

static void
test_pki_jwk_from_cert_equals_the_jwk_of_the_same_key(void **state)
{
    static const char *const csrs[] = { "csr-ecdsa-p256", "csr-ecdsa-p384",
                                        "csr-rsa-2048", "csr-ed25519" };
    const struct fixtures *f = *state;
    size_t i;

    for (i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++) {
        char name[64];
        struct vec v;
        struct pki_cert *cert;
        struct pki_jwk *from_jwk;
        struct pki_jwk *from_cert = NULL;
        char tp1[PKI_JWK_THUMBPRINT_LEN + 1];
        char tp2[PKI_JWK_THUMBPRINT_LEN + 1];

        snprintf(name, sizeof(name), "%s.pem", csrs[i]);
        cert = issue(f, name);
        snprintf(name, sizeof(name), "jwk-of-%s.txt", csrs[i]);
        vec_load(name, &v);
        from_jwk = vec_key(&v);
        assert_wd_err(pki_jwk_from_cert(cert->der, cert->der_len, &from_cert),
                      WD_OK);
        assert_true(pki_jwk_equal(from_jwk, from_cert));
        assert_wd_err(pki_jwk_thumbprint(from_jwk, tp1), WD_OK);
        assert_wd_err(pki_jwk_thumbprint(from_cert, tp2), WD_OK);
        assert_string_equal(tp1, tp2);
        assert_string_equal(tp1, vec_get(&v, "thumbprint"));
        pki_jwk_free(from_jwk);
        pki_jwk_free(from_cert);
        pki_cert_free(cert);
        vec_free(&v);
    }
}

static void
test_pki_jwk_from_cert_pads_ec_coordinates_to_their_full_size(void **state)
{
    static const char *const names[] = { "ec-p256-x-leading-zero",
                                         "ec-p256-y-leading-zero" };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char name[64];
        struct vec v;
        struct pki_jwk *from_jwk;
        struct pki_jwk *from_cert = NULL;
        size_t len = 0;
        uint8_t *der;
        char *canonical;

        snprintf(name, sizeof(name), "jws/cert-%s.der", names[i]);
        der = test_read_file(name, &len);
        assert_non_null(der);
        snprintf(name, sizeof(name), "jwk-of-cert-%s.txt", names[i]);
        vec_load(name, &v);
        from_jwk = vec_key(&v);
        assert_wd_err(pki_jwk_from_cert(der, len, &from_cert), WD_OK);
        assert_true(pki_jwk_equal(from_jwk, from_cert));
        canonical = pki_jwk_canonical(from_cert);
        assert_string_equal(canonical, vec_get(&v, "canonical"));
        free(canonical);
        pki_jwk_free(from_jwk);
        pki_jwk_free(from_cert);
        vec_free(&v);
        free(der);
    }
}

static enum wd_err
from_cert_err(const uint8_t *der, size_t len)
{
    struct pki_jwk *k = NULL;
    enum wd_err rc = pki_jwk_from_cert(der, len, &k);

    assert_true((rc == WD_OK) == (k != NULL));
    pki_jwk_free(k);
    return rc;
}

static void
test_pki_jwk_from_cert_refuses_what_is_not_one_certificate(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert = issue(f, "csr-ecdsa-p256.pem");
    uint8_t *longer = malloc(cert->der_len + 1);
    uint8_t not_cert[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

    assert_non_null(longer);
    memcpy(longer, cert->der, cert->der_len);
    longer[cert->der_len] = 0;
    assert_wd_err(from_cert_err(longer, cert->der_len + 1), WD_E_JWS_MALFORMED);
    assert_wd_err(from_cert_err(cert->der, cert->der_len - 1),
                  WD_E_JWS_MALFORMED);
    assert_wd_err(from_cert_err(cert->der, 0), WD_E_JWS_MALFORMED);
    assert_wd_err(from_cert_err(not_cert, sizeof(not_cert)),
                  WD_E_JWS_MALFORMED);
    assert_wd_err(from_cert_err(cert->der, WD_MAX_CSR_BYTES + 1),
                  WD_E_TOO_LARGE);
    free(longer);
    pki_cert_free(cert);
}

static void
test_pki_jwk_from_cert_refuses_keys_we_do_not_take(void **state)
{
    const struct fixtures *f = *state;
    struct pki_cert *cert = issue(f, "csr-ecdsa-p521.pem");
    size_t len = 0;
    uint8_t *der;

    assert_wd_err(from_cert_err(cert->der, cert->der_len),
                  WD_E_UNSUPPORTED_KEY);
    pki_cert_free(cert);
    der = test_read_file("jws/cert-rsa-1024-weak.der", &len);
    assert_non_null(der);
    assert_wd_err(from_cert_err(der, len), WD_E_WEAK_KEY);
    free(der);
    der = test_read_file("jws/cert-ed448-unsupported.der", &len);
    assert_non_null(der);
    assert_wd_err(from_cert_err(der, len), WD_E_UNSUPPORTED_KEY);
    free(der);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_b64url_decodes_the_rfc_4648_examples),
        cmocka_unit_test(test_pki_b64url_decode_takes_empty_as_no_bytes),
        cmocka_unit_test(
            test_pki_b64url_decode_refuses_padding_and_foreign_characters),
        cmocka_unit_test(test_pki_b64url_decode_refuses_a_length_of_4k_plus_1),
        cmocka_unit_test(test_pki_b64url_decode_refuses_non_zero_trailing_bits),
        cmocka_unit_test(test_pki_b64url_decode_refuses_more_than_the_limit),
        cmocka_unit_test(test_pki_b64url_round_trips_every_length),
        cmocka_unit_test(
            test_pki_jws_alg_parse_takes_the_four_and_refuses_none_and_hmac),
        cmocka_unit_test(test_pki_jwk_alg_fits_pairs_each_key_with_its_alg),
        cmocka_unit_test(test_pki_jws_verify_accepts_the_rfc_examples),
        cmocka_unit_test(
            test_pki_jws_verify_accepts_openssl_signatures_of_each_alg),
        cmocka_unit_test(test_pki_jws_verify_refuses_a_flipped_bit),
        cmocka_unit_test(
            test_pki_jws_verify_refuses_an_alg_that_is_not_the_keys),
        cmocka_unit_test(
            test_pki_jws_verify_refuses_a_signature_of_the_wrong_length),
        cmocka_unit_test(test_pki_jws_verify_refuses_zero_or_all_ones_r_and_s),
        cmocka_unit_test(test_pki_jws_verify_refuses_an_input_over_the_limit),
        cmocka_unit_test(test_pki_jwk_import_refuses_rsa_under_2048_bits),
        cmocka_unit_test(test_pki_jwk_import_refuses_oct_and_other_key_types),
        cmocka_unit_test(test_pki_jwk_import_refuses_curves_we_do_not_take),
        cmocka_unit_test(test_pki_jwk_import_refuses_a_point_off_the_curve),
        cmocka_unit_test(
            test_pki_jwk_import_refuses_coordinates_of_the_wrong_size),
        cmocka_unit_test(test_pki_jwk_import_refuses_missing_and_stray_members),
        cmocka_unit_test(
            test_pki_jwk_import_refuses_rsa_numbers_that_make_no_key),
        cmocka_unit_test(test_pki_jwk_thumbprint_matches_rfc_7638),
        cmocka_unit_test(test_pki_jwk_thumbprint_and_canonical_match_python),
        cmocka_unit_test(test_pki_jwk_equal_compares_keys),
        cmocka_unit_test(test_pki_jwk_from_cert_equals_the_jwk_of_the_same_key),
        cmocka_unit_test(
            test_pki_jwk_from_cert_pads_ec_coordinates_to_their_full_size),
        cmocka_unit_test(
            test_pki_jwk_from_cert_refuses_what_is_not_one_certificate),
        cmocka_unit_test(test_pki_jwk_from_cert_refuses_keys_we_do_not_take),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
