/*
 * api/api_acme*.c, the ACME server (RFC 8555), driven through
 * api_acme_handle with a real CA (pki_ca_create), a real SQLite store on
 * :memory: and account keys made here with GnuTLS, whose JWS bodies are
 * built as clients build them. The validation pool is this file's
 * submit(): it records the check, and a test plays the validator by
 * calling store_acme_challenge_set_result, the store's own API.
 */
#include "support.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../api/api_acme_priv.h"

#define BASE "https://acme.test:8443"

static const char *const allow[] = { "example.internal", "10.0.0.0/8" };

struct key {
    gnutls_privkey_t priv;
    const char *alg; /* "ES256" or "RS256" */
    json_t *jwk;
    char *kid; /* the account URL, once registered */
};

struct fixture {
    struct pki_ca_new made;
    struct pki_ca *ca;
    struct store *st;
    struct api api;
    struct api_acme *acme;
    struct api_acme_cfg cfg;
    struct api_acme_check last; /* the last check submitted */
    int n_submitted;
    struct key es;  /* ES256 account key */
    struct key rsa; /* RS256 account key */
};

static void
submit(void *ctx, const struct api_acme_check *c)
{
    struct fixture *f = ctx;

    f->last = *c;
    f->n_submitted++;
}

/* The base64url of a datum, left-padded with zeros to size (0 = as is). */
static json_t *
b64_padded(const gnutls_datum_t *d, size_t size)
{
    uint8_t buf[1024];
    char *text;
    json_t *s;
    size_t len = size != 0 ? size : d->size;

    assert_true(d->size <= len && len <= sizeof(buf));
    memset(buf, 0, len - d->size);
    memcpy(buf + len - d->size, d->data, d->size);
    text = pki_b64url_encode(buf, len);
    s = json_string(text);
    free(text);
    return s;
}

static void
key_make(struct key *k, bool rsa)
{
    gnutls_datum_t a = { NULL, 0 };
    gnutls_datum_t b = { NULL, 0 };
    gnutls_ecc_curve_t curve;

    assert_int_equal(gnutls_privkey_init(&k->priv), 0);
    if (rsa) {
        assert_int_equal(
            gnutls_privkey_generate(k->priv, GNUTLS_PK_RSA, 2048, 0), 0);
        assert_int_equal(gnutls_privkey_export_rsa_raw2(
                             k->priv, &a, &b, NULL, NULL, NULL, NULL, NULL,
                             NULL, GNUTLS_EXPORT_FLAG_NO_LZ),
                         0);
        k->alg = "RS256";
        k->jwk = json_pack("{s:s, s:o, s:o}", "kty", "RSA", "n",
                           b64_padded(&a, 0), "e", b64_padded(&b, 0));
    } else {
        assert_int_equal(gnutls_privkey_generate(
                             k->priv, GNUTLS_PK_ECDSA,
                             GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
                             0),
                         0);
        assert_int_equal(
            gnutls_privkey_export_ecc_raw2(k->priv, &curve, &a, &b, NULL,
                                           GNUTLS_EXPORT_FLAG_NO_LZ),
            0);
        k->alg = "ES256";
        k->jwk = json_pack("{s:s, s:s, s:o, s:o}", "kty", "EC", "crv", "P-256",
                           "x", b64_padded(&a, 32), "y", b64_padded(&b, 32));
    }
    gnutls_free(a.data);
    gnutls_free(b.data);
}

static void
key_free(struct key *k)
{
    gnutls_privkey_deinit(k->priv);
    json_decref(k->jwk);
    free(k->kid);
    memset(k, 0, sizeof(*k));
}

/* An R or S of at most 32 significant bytes into out[0..32). */
static void
rs_put(uint8_t *out, const gnutls_datum_t *d)
{
    const uint8_t *p = d->data;
    size_t n = d->size;

    while (n > 32 && p[0] == 0) {
        p++;
        n--;
    }
    assert_true(n <= 32);
    memcpy(out + 32 - n, p, n);
}

/* The JWS signature of input by k, as RFC 7518 3.3 and 3.4 have it. */
static char *
sign(const struct key *k, const char *input)
{
    gnutls_datum_t data = { (unsigned char *)input, (unsigned)strlen(input) };
    gnutls_datum_t sig = { NULL, 0 };
    gnutls_datum_t r = { NULL, 0 };
    gnutls_datum_t s = { NULL, 0 };
    uint8_t rs[64];
    char *out;

    if (strcmp(k->alg, "RS256") == 0) {
        assert_int_equal(gnutls_privkey_sign_data2(
                             k->priv, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig),
                         0);
        out = pki_b64url_encode(sig.data, sig.size);
    } else {
        assert_int_equal(gnutls_privkey_sign_data2(
                             k->priv, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig),
                         0);
        assert_int_equal(gnutls_decode_rs_value(&sig, &r, &s), 0);
        /* DER integers may carry a leading zero or be short */
        memset(rs, 0, sizeof(rs));
        rs_put(rs, &r);
        rs_put(rs + 32, &s);
        gnutls_free(r.data);
        gnutls_free(s.data);
        out = pki_b64url_encode(rs, sizeof(rs));
    }
    gnutls_free(sig.data);
    return out;
}

/* obj as compact JSON text (reference stolen); caller frees. */
static char *
dump(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);

    json_decref(obj);
    assert_non_null(text);
    return text;
}

/* A flattened JWS of header and payload (NULL = "", POST-as-GET) by k. */
static char *
jws_text(const struct key *k, json_t *header, const char *payload)
{
    char *h = json_dumps(header, JSON_COMPACT);
    char *h64 = pki_b64url_encode((const uint8_t *)h, strlen(h));
    char *p64 = payload != NULL ? pki_b64url_encode((const uint8_t *)payload,
                                                    strlen(payload))
                                : strdup("");
    size_t len = strlen(h64) + strlen(p64) + 2;
    char *input = malloc(len);
    char *sig;
    char *body;

    snprintf(input, len, "%s.%s", h64, p64);
    sig = sign(k, input);
    body = dump(json_pack("{s:s, s:s, s:s}", "protected", h64, "payload", p64,
                          "signature", sig));
    free(h);
    free(h64);
    free(p64);
    free(input);
    free(sig);
    json_decref(header);
    return body;
}

static const char *
header_of(const struct api_resp *resp, const char *name)
{
    size_t i;

    for (i = 0; i < resp->n_headers; i++) {
        if (strcmp(resp->headers[i].name, name) == 0) {
            return resp->headers[i].value;
        }
    }
    return NULL;
}

/* Run one request; the parsed JSON body (NULL if not JSON). */
static json_t *
call(struct fixture *f, const char *method, const char *path, const char *ctype,
     const char *body, struct api_resp *resp)
{
    struct api_req req = {
        .method = method,
        .path = path,
        .content_type = ctype,
        .body = (const uint8_t *)body,
        .body_len = body != NULL ? strlen(body) : 0,
        .now = time(NULL),
    };

    api_resp_clear(resp);
    api_acme_handle(f->acme, &req, resp);
    return json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
}

static char *
nonce(struct fixture *f)
{
    struct api_resp resp = { 0 };
    char *n;

    json_decref(call(f, "HEAD", "/acme/new-nonce", NULL, NULL, &resp));
    assert_int_equal(resp.status, 200);
    n = strdup(header_of(&resp, "Replay-Nonce"));
    api_resp_clear(&resp);
    return n;
}

/* The header a client sends: alg, nonce, url, and kid or else jwk. */
static json_t *
header(struct fixture *f, const struct key *k, const char *path,
       const char *nonce_value)
{
    char url[512];
    char *n = nonce_value != NULL ? strdup(nonce_value) : nonce(f);
    json_t *h;

    snprintf(url, sizeof(url), BASE "%s", path);
    h = json_pack("{s:s, s:s, s:s}", "alg", k->alg, "nonce", n, "url", url);
    if (k->kid != NULL) {
        json_object_set_new(h, "kid", json_string(k->kid));
    } else {
        json_object_set(h, "jwk", k->jwk);
    }
    free(n);
    return h;
}

/* A signed POST of payload (NULL = POST-as-GET) by k to path. */
static json_t *
post(struct fixture *f, const struct key *k, const char *path,
     const char *payload, struct api_resp *resp)
{
    char *body = jws_text(k, header(f, k, path, NULL), payload);
    json_t *doc = call(f, "POST", path, "application/jose+json", body, resp);

    assert_non_null(header_of(resp, "Replay-Nonce"));
    free(body);
    return doc;
}

static const char *
problem_type(const json_t *doc)
{
    return json_string_value(json_object_get(doc, "type"));
}

/* Register k (once) and keep its account URL in k->kid. */
static void
register_key(struct fixture *f, struct key *k)
{
    struct api_resp resp = { 0 };

    if (k->kid != NULL) {
        return;
    }
    json_decref(post(f, k, "/acme/new-account",
                     "{\"termsOfServiceAgreed\":true,"
                     "\"contact\":[\"mailto:ops@example.internal\"]}",
                     &resp));
    assert_true(resp.status == 201 || resp.status == 200);
    k->kid = strdup(header_of(&resp, "Location"));
    api_resp_clear(&resp);
}

static int
setup(void **state)
{
    static const char *const hosts[] = { "localhost" };
    struct fixture *f = calloc(1, sizeof(*f));
    struct pki_ca_new_opts opts = {
        .name = "ACME Test",
        .keygen = PKI_KEYGEN_ECDSA_P256,
        .hosts = hosts,
        .n_hosts = 1,
        .public_url = "http://pub.example:8080",
        .now = time(NULL),
    };
    struct pki_ca_cfg cfg = { 0 };

    assert_wd_err(pki_ca_create(&opts, &f->made), WD_OK);
    cfg.root_pem = f->made.root_pem;
    cfg.intermediate_pem = f->made.intermediate_pem;
    cfg.intermediate_key_pem = f->made.intermediate_key_pem;
    cfg.public_url = opts.public_url;
    assert_wd_err(pki_ca_load(&cfg, &f->ca), WD_OK);
    assert_wd_err(store_open(":memory:", &f->st), WD_OK);
    f->api.store = f->st;
    f->api.ca = f->ca;
    f->cfg.base_url = BASE;
    f->cfg.allow = allow;
    f->cfg.n_allow = 2;
    f->cfg.order_lifetime_s = 3600;
    f->cfg.cert_validity_s = 30 * 86400;
    assert_wd_err(api_acme_new(&f->api, &f->cfg, submit, f, &f->acme), WD_OK);
    key_make(&f->es, false);
    key_make(&f->rsa, true);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    api_acme_free(f->acme);
    key_free(&f->es);
    key_free(&f->rsa);
    store_close(f->st);
    pki_ca_free(f->ca);
    pki_ca_new_clear(&f->made);
    free(f);
    return 0;
}

static void
test_api_acme_directory_lists_the_resources_and_the_eab_policy(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    json_t *doc = call(f, "GET", "/acme/directory", NULL, NULL, &resp);

    assert_int_equal(resp.status, 200);
    assert_string_equal(json_string_value(json_object_get(doc, "newNonce")),
                        BASE "/acme/new-nonce");
    assert_string_equal(json_string_value(json_object_get(doc, "newAccount")),
                        BASE "/acme/new-account");
    assert_string_equal(json_string_value(json_object_get(doc, "keyChange")),
                        BASE "/acme/key-change");
    assert_true(json_is_false(json_object_get(json_object_get(doc, "meta"),
                                              "externalAccountRequired")));
    assert_string_equal(header_of(&resp, "Link"),
                        "<" BASE "/acme/directory>;rel=\"index\"");
    json_decref(doc);
    json_decref(call(f, "POST", "/acme/directory", NULL, NULL, &resp));
    assert_int_equal(resp.status, 405);
    assert_string_equal(resp.content_type, "application/problem+json");
    json_decref(call(f, "GET", "/acme/nothing", NULL, NULL, &resp));
    assert_int_equal(resp.status, 404);
    api_resp_clear(&resp);
}

static void
test_api_acme_new_nonce_head_200_get_204_not_cached(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };

    json_decref(call(f, "HEAD", "/acme/new-nonce", NULL, NULL, &resp));
    assert_int_equal(resp.status, 200);
    assert_non_null(header_of(&resp, "Replay-Nonce"));
    assert_string_equal(header_of(&resp, "Cache-Control"), "no-store");
    json_decref(call(f, "GET", "/acme/new-nonce", NULL, NULL, &resp));
    assert_int_equal(resp.status, 204);
    assert_int_equal(strlen(header_of(&resp, "Replay-Nonce")), 22);
    api_resp_clear(&resp);
}

static void
test_api_acme_new_account_201_then_200_for_the_same_key(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct key k = { 0 };
    char *first;
    json_t *doc;

    key_make(&k, false);
    doc = post(f, &k, "/acme/new-account", "{\"onlyReturnExisting\":true}",
               &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:accountDoesNotExist");
    json_decref(doc);
    doc = post(f, &k, "/acme/new-account",
               "{\"contact\":[\"mailto:a@example.internal\"],"
               "\"termsOfServiceAgreed\":true}",
               &resp);
    assert_int_equal(resp.status, 201);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "valid");
    first = strdup(header_of(&resp, "Location"));
    assert_non_null(strstr(first, BASE "/acme/acct/"));
    json_decref(doc);
    doc = post(f, &k, "/acme/new-account", "{}", &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(header_of(&resp, "Location"), first);
    json_decref(doc);
    doc = post(f, &k, "/acme/new-account", "{\"onlyReturnExisting\":true}",
               &resp);
    assert_int_equal(resp.status, 200);
    json_decref(doc);
    doc = post(f, &k, "/acme/new-account", "{\"contact\":[\"tel:+1555\"]}",
               &resp);
    assert_int_equal(resp.status, 200); /* existing: contact not looked at */
    json_decref(doc);
    /* an RSA key and a bad contact */
    doc =
        post(f, &f->rsa, "/acme/new-account",
             "{\"contact\":[\"mailto:a@example.internal?subject=x\"]}", &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:invalidContact");
    json_decref(doc);
    register_key(f, &f->rsa);
    free(first);
    key_free(&k);
    api_resp_clear(&resp);
}

static void
test_api_acme_refuses_bad_signature_replayed_nonce_and_wrong_url(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    char *n = nonce(f);
    char *body;
    char *p;
    json_t *doc;

    register_key(f, &f->es);
    /* a signature that does not verify: malformed (RFC 8555 has no
     * badSignature; Boulder calls it malformed) */
    body = jws_text(&f->es, header(f, &f->es, "/acme/new-order", NULL),
                    "{\"identifiers\":[{\"type\":\"dns\","
                    "\"value\":\"a.example.internal\"}]}");
    p = strstr(body, "\"signature\":\"") + strlen("\"signature\":\"");
    *p = *p == 'A' ? 'B' : 'A';
    doc = call(f, "POST", "/acme/new-order", "application/jose+json", body,
               &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:malformed");
    json_decref(doc);
    free(body);
    /* the nonce used twice: badNonce, and a fresh one to retry with */
    body = jws_text(&f->es, header(f, &f->es, "/acme/acct/x", n), NULL);
    json_decref(
        call(f, "POST", "/acme/acct/x", "application/jose+json", body, &resp));
    doc = call(f, "POST", "/acme/acct/x", "application/jose+json", body, &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:badNonce");
    assert_non_null(header_of(&resp, "Replay-Nonce"));
    assert_string_not_equal(header_of(&resp, "Replay-Nonce"), n);
    json_decref(doc);
    free(body);
    /* signed for another URL */
    body = jws_text(&f->es, header(f, &f->es, "/acme/new-order", NULL), "{}");
    doc = call(f, "POST", "/acme/new-account", "application/jose+json", body,
               &resp);
    assert_int_equal(resp.status, 403);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:unauthorized");
    json_decref(doc);
    /* the wrong media type */
    doc = call(f, "POST", "/acme/new-order", "application/json", body, &resp);
    assert_int_equal(resp.status, 415);
    json_decref(doc);
    free(body);
    /* alg none */
    body = jws_text(&f->es,
                    json_pack("{s:s, s:s, s:s, s:s}", "alg", "none", "nonce",
                              "AAAAAAAAAAAAAAAAAAAAAA", "url",
                              BASE "/acme/new-order", "kid", f->es.kid),
                    "{}");
    doc = call(f, "POST", "/acme/new-order", "application/jose+json", body,
               &resp);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:badSignatureAlgorithm");
    assert_true(json_is_array(json_object_get(doc, "algorithms")));
    json_decref(doc);
    free(body);
    free(n);
    api_resp_clear(&resp);
}

static void
test_api_acme_new_order_outside_policy_is_rejected_identifier(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    json_t *doc;

    register_key(f, &f->es);
    doc = post(f, &f->es, "/acme/new-order",
               "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example."
               "internal\"},{\"type\":\"dns\",\"value\":\"evil.example\"},"
               "{\"type\":\"ip\",\"value\":\"192.0.2.1\"}]}",
               &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:rejectedIdentifier");
    assert_int_equal(json_array_size(json_object_get(doc, "subproblems")), 2);
    json_decref(doc);
    doc = post(f, &f->es, "/acme/new-order",
               "{\"identifiers\":[{\"type\":\"email\",\"value\":\"a@b\"}]}",
               &resp);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:unsupportedIdentifier");
    json_decref(doc);
    /* an identifier at a label boundary only */
    doc = post(f, &f->es, "/acme/new-order",
               "{\"identifiers\":[{\"type\":\"dns\","
               "\"value\":\"badexample.internal\"}]}",
               &resp);
    assert_int_equal(resp.status, 400);
    json_decref(doc);
    api_resp_clear(&resp);
}

/* The challenge types of the first authorization of the order in doc,
 * sorted by their order in the authorization, joined by ",". */
static void
authz_types(struct fixture *f, json_t *order, char *out, size_t outsz)
{
    struct api_resp resp = { 0 };
    const char *url = json_string_value(
        json_array_get(json_object_get(order, "authorizations"), 0));
    json_t *authz;
    json_t *ch;
    size_t i;

    assert_non_null(url);
    authz = post(f, &f->es, url + strlen(BASE), "", &resp);
    assert_int_equal(resp.status, 200);
    out[0] = '\0';
    json_array_foreach(json_object_get(authz, "challenges"), i, ch)
    {
        snprintf(out + strlen(out), outsz - strlen(out), "%s%s",
                 i > 0 ? "," : "",
                 json_string_value(json_object_get(ch, "type")));
    }
    json_decref(authz);
    api_resp_clear(&resp);
}

static void
test_api_acme_ip_and_wildcard_orders_get_the_challenges_that_fit(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    char types[64];
    json_t *doc;

    register_key(f, &f->es);
    /* RFC 8738: an IP inside an allowed range, validated without DNS */
    doc = post(f, &f->es, "/acme/new-order",
               "{\"identifiers\":[{\"type\":\"ip\",\"value\":\"10.1.2.3\"}]}",
               &resp);
    assert_int_equal(resp.status, 201);
    authz_types(f, doc, types, sizeof(types));
    assert_null(strstr(types, "dns-01"));
    assert_non_null(strstr(types, "http-01"));
    json_decref(doc);
    /* RFC 8555 7.1.3: a wildcard is proven by dns-01 only */
    doc = post(f, &f->es, "/acme/new-order",
               "{\"identifiers\":[{\"type\":\"dns\","
               "\"value\":\"*.w.example.internal\"}]}",
               &resp);
    assert_int_equal(resp.status, 201);
    authz_types(f, doc, types, sizeof(types));
    assert_string_equal(types, "dns-01");
    json_decref(doc);
    api_resp_clear(&resp);
}

static void
test_api_acme_orders_beyond_the_hourly_limit_are_rate_limited(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct api_acme *limited = NULL;
    struct api_acme *normal = f->acme;
    struct key fresh = { 0 }; /* an account with no orders yet */
    json_t *doc;
    int i;

    key_make(&fresh, false);
    register_key(f, &fresh);
    f->cfg.orders_per_hour = 2;
    assert_wd_err(api_acme_new(&f->api, &f->cfg, submit, f, &limited), WD_OK);
    f->acme = limited;
    for (i = 0; i < 3; i++) {
        doc = post(f, &fresh, "/acme/new-order",
                   "{\"identifiers\":[{\"type\":\"dns\","
                   "\"value\":\"rl.example.internal\"}]}",
                   &resp);
        if (i < 2) {
            assert_int_equal(resp.status, 201);
        } else {
            assert_int_equal(resp.status, 429);
            assert_string_equal(problem_type(doc),
                                "urn:ietf:params:acme:error:rateLimited");
            assert_non_null(header_of(&resp, "Retry-After"));
        }
        json_decref(doc);
    }
    f->acme = normal;
    f->cfg.orders_per_hour = 0;
    api_acme_free(limited);
    key_free(&fresh);
    api_resp_clear(&resp);
}

/* A CSR for names (DNS) with a fresh ECDSA key, DER; *key keeps the key. */
static char *
csr_for(const char *const *names, size_t n, gnutls_privkey_t *key)
{
    gnutls_x509_crq_t crq;
    gnutls_datum_t der = { NULL, 0 };
    char *out;
    size_t i;

    assert_int_equal(gnutls_privkey_init(key), 0);
    assert_int_equal(gnutls_privkey_generate(
                         *key, GNUTLS_PK_ECDSA,
                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    assert_int_equal(gnutls_x509_crq_init(&crq), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(gnutls_x509_crq_set_subject_alt_name(
                             crq, GNUTLS_SAN_DNSNAME, names[i],
                             (unsigned)strlen(names[i]),
                             i == 0 ? GNUTLS_FSAN_SET : GNUTLS_FSAN_APPEND),
                         0);
    }
    {
        gnutls_pubkey_t pub;

        assert_int_equal(gnutls_pubkey_init(&pub), 0);
        assert_int_equal(gnutls_pubkey_import_privkey(pub, *key, 0, 0), 0);
        assert_int_equal(gnutls_x509_crq_set_pubkey(crq, pub), 0);
        gnutls_pubkey_deinit(pub);
    }
    assert_int_equal(
        gnutls_x509_crq_privkey_sign(crq, *key, GNUTLS_DIG_SHA256, 0), 0);
    assert_int_equal(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der),
                     0);
    out = pki_b64url_encode(der.data, der.size);
    gnutls_free(der.data);
    gnutls_x509_crq_deinit(crq);
    return out;
}

/* An order for names, every http-01 challenge answered and marked valid
 * by the test's validator: the order URL, ready. */
static char *
ready_order(struct fixture *f, struct key *k, const char *const *names,
            size_t n)
{
    struct api_resp resp = { 0 };
    json_t *ids = json_array();
    char *payload;
    char *order_url;
    json_t *doc;
    size_t i;

    for (i = 0; i < n; i++) {
        json_array_append_new(
            ids, json_pack("{s:s, s:s}", "type", "dns", "value", names[i]));
    }
    payload = dump(json_pack("{s:o}", "identifiers", ids));
    doc = post(f, k, "/acme/new-order", payload, &resp);
    assert_int_equal(resp.status, 201);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "pending");
    order_url = strdup(header_of(&resp, "Location"));
    for (i = 0; i < json_array_size(json_object_get(doc, "authorizations"));
         i++) {
        const char *aurl = json_string_value(
            json_array_get(json_object_get(doc, "authorizations"), i));
        const char *apath = aurl + strlen(BASE);
        json_t *authz = post(f, k, apath, NULL, &resp);
        json_t *challs = json_object_get(authz, "challenges");
        json_t *ch;
        const char *curl = NULL;
        const char *token = NULL;
        char want[256];
        char thumb[PKI_JWK_THUMBPRINT_LEN + 1];
        struct pki_jwk *jwk = NULL;
        size_t j;
        json_t *answer;

        assert_int_equal(resp.status, 200);
        json_array_foreach(challs, j, ch)
        {
            if (strcmp(json_string_value(json_object_get(ch, "type")),
                       "http-01") == 0) {
                curl = json_string_value(json_object_get(ch, "url"));
                token = json_string_value(json_object_get(ch, "token"));
            }
        }
        assert_non_null(curl);
        answer = post(f, k, curl + strlen(BASE), "{}", &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(
            json_string_value(json_object_get(answer, "status")), "processing");
        assert_non_null(strstr(header_of(&resp, "Link"), "rel=\"up\""));
        /* the check carries the key authorization of RFC 8555 8.1 */
        assert_wd_err(api_acme_jwk_parse(k->jwk, &jwk), WD_OK);
        assert_wd_err(pki_jwk_thumbprint(jwk, thumb), WD_OK);
        snprintf(want, sizeof(want), "%s.%s", token, thumb);
        assert_string_equal(f->last.key_auth, want);
        assert_int_equal(f->last.type, STORE_ACME_HTTP_01);
        assert_wd_err(store_acme_challenge_set_result(f->st, f->last.cid,
                                                      STORE_ACME_VALID, NULL,
                                                      time(NULL)),
                      WD_OK);
        pki_jwk_free(jwk);
        json_decref(answer);
        json_decref(authz);
    }
    json_decref(doc);
    doc = post(f, k, order_url + strlen(BASE), NULL, &resp);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "ready");
    json_decref(doc);
    free(payload);
    api_resp_clear(&resp);
    return order_url;
}

/* A finalize of order_url with a CSR for names; the response body. */
static json_t *
finalize(struct fixture *f, struct key *k, const char *order_url,
         const char *const *names, size_t n, gnutls_privkey_t *cert_key,
         struct api_resp *resp)
{
    char path[512];
    char *csr = csr_for(names, n, cert_key);
    char *payload;
    json_t *doc;

    snprintf(path, sizeof(path), "%s/finalize", order_url + strlen(BASE));
    payload = dump(json_pack("{s:s}", "csr", csr));
    doc = post(f, k, path, payload, resp);
    free(payload);
    free(csr);
    return doc;
}

/* Verify the PEM chain against the CA's root with GnuTLS. */
static void
verify_chain(struct fixture *f, const uint8_t *pem, size_t len)
{
    gnutls_x509_trust_list_t tl;
    gnutls_x509_crt_t *list = NULL;
    unsigned n = 0;
    unsigned status = 1;
    unsigned i;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
    gnutls_datum_t root = { (unsigned char *)f->made.root_pem,
                            (unsigned)strlen(f->made.root_pem) };

    assert_int_equal(
        gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0), 0);
    assert_int_equal(n, 2); /* leaf and intermediate */
    assert_int_equal(gnutls_x509_trust_list_init(&tl, 0), 0);
    assert_true(gnutls_x509_trust_list_add_trust_mem(
                    tl, &root, NULL, GNUTLS_X509_FMT_PEM, 0, 0) == 1);
    assert_int_equal(
        gnutls_x509_trust_list_verify_crt(tl, list, n, 0, &status, NULL), 0);
    assert_int_equal(status, 0);
    gnutls_x509_trust_list_deinit(tl, 1);
    for (i = 0; i < n; i++) {
        gnutls_x509_crt_deinit(list[i]);
    }
    gnutls_free(list);
}

static void
test_api_acme_full_flow_issues_a_certificate_that_chains(void **state)
{
    static const char *const names[] = { "www.example.internal",
                                         "api.example.internal" };
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    gnutls_privkey_t cert_key = NULL;
    char *order_url;
    char path[512];
    const char *cert_url;
    json_t *doc;
    json_t *list;

    register_key(f, &f->es);
    order_url = ready_order(f, &f->es, names, 2);
    doc = finalize(f, &f->es, order_url, names, 2, &cert_key, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "valid");
    cert_url = json_string_value(json_object_get(doc, "certificate"));
    assert_non_null(cert_url);
    snprintf(path, sizeof(path), "%s", cert_url + strlen(BASE));
    json_decref(doc);
    json_decref(post(f, &f->es, path, NULL, &resp));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/pem-certificate-chain");
    verify_chain(f, resp.body, resp.body_len);
    /* another account may not download it */
    register_key(f, &f->rsa);
    doc = post(f, &f->rsa, path, NULL, &resp);
    assert_int_equal(resp.status, 403);
    json_decref(doc);
    /* finalizing twice: not ready any more */
    gnutls_privkey_deinit(cert_key);
    doc = finalize(f, &f->es, order_url, names, 2, &cert_key, &resp);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:orderNotReady");
    json_decref(doc);
    /* the account lists the order */
    snprintf(path, sizeof(path), "%s/orders", f->es.kid + strlen(BASE));
    doc = post(f, &f->es, path, NULL, &resp);
    assert_int_equal(resp.status, 200);
    list = json_object_get(doc, "orders");
    assert_true(json_array_size(list) >= 1);
    json_decref(doc);
    gnutls_privkey_deinit(cert_key);
    free(order_url);
    api_resp_clear(&resp);
}

static void
test_api_acme_finalize_with_an_extra_name_is_bad_csr(void **state)
{
    static const char *const names[] = { "one.example.internal" };
    static const char *const extra[] = { "one.example.internal",
                                         "two.example.internal" };
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    gnutls_privkey_t cert_key = NULL;
    char *order_url;
    json_t *doc;

    register_key(f, &f->es);
    order_url = ready_order(f, &f->es, names, 1);
    doc = finalize(f, &f->es, order_url, extra, 2, &cert_key, &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(problem_type(doc), "urn:ietf:params:acme:error:badCSR");
    json_decref(doc);
    gnutls_privkey_deinit(cert_key);
    /* the order is still ready: a right CSR is issued */
    doc = finalize(f, &f->es, order_url, names, 1, &cert_key, &resp);
    assert_int_equal(resp.status, 200);
    json_decref(doc);
    gnutls_privkey_deinit(cert_key);
    free(order_url);
    api_resp_clear(&resp);
}

/* The DER of the certificate an order issued, base64url. */
static char *
cert_b64(struct fixture *f, struct key *k, const char *order_url)
{
    struct api_resp resp = { 0 };
    struct store_acme_order *o = NULL;
    struct store_cert *row = NULL;
    const char *oid = strrchr(order_url, '/') + 1;
    char *out;

    (void)k;
    assert_wd_err(store_acme_order_get(f->st, oid, &o), WD_OK);
    assert_wd_err(store_cert_get(f->st, o->certificate_serial, &row), WD_OK);
    out = pki_b64url_encode(row->der, row->der_len);
    store_cert_free(row);
    store_acme_order_free(o);
    api_resp_clear(&resp);
    return out;
}

/* A key struct for a certificate's own key (revokeCert by jwk). */
static void
key_of_priv(struct key *k, gnutls_privkey_t priv)
{
    gnutls_datum_t a = { NULL, 0 };
    gnutls_datum_t b = { NULL, 0 };
    gnutls_ecc_curve_t curve;

    k->priv = priv;
    k->alg = "ES256";
    assert_int_equal(gnutls_privkey_export_ecc_raw2(priv, &curve, &a, &b, NULL,
                                                    GNUTLS_EXPORT_FLAG_NO_LZ),
                     0);
    k->jwk = json_pack("{s:s, s:s, s:o, s:o}", "kty", "EC", "crv", "P-256", "x",
                       b64_padded(&a, 32), "y", b64_padded(&b, 32));
    gnutls_free(a.data);
    gnutls_free(b.data);
}

static void
test_api_acme_revoke_by_the_account_and_by_the_certificate_key(void **state)
{
    static const char *const names[] = { "rev.example.internal" };
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    gnutls_privkey_t cert_key = NULL;
    struct key by_cert = { 0 };
    char *order_url;
    char *der;
    char *payload;
    json_t *doc;
    struct store_cert_state st;
    struct pki_cert *parsed = NULL;
    uint8_t *raw;
    size_t raw_len;

    register_key(f, &f->es);
    register_key(f, &f->rsa);
    /* by the account */
    order_url = ready_order(f, &f->es, names, 1);
    json_decref(finalize(f, &f->es, order_url, names, 1, &cert_key, &resp));
    assert_int_equal(resp.status, 200);
    der = cert_b64(f, &f->es, order_url);
    payload = dump(json_pack("{s:s, s:i}", "certificate", der, "reason", 6));
    doc = post(f, &f->es, "/acme/revoke-cert", payload, &resp);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:badRevocationReason");
    json_decref(doc);
    free(payload);
    payload = dump(json_pack("{s:s}", "certificate", der));
    doc = post(f, &f->rsa, "/acme/revoke-cert", payload, &resp);
    assert_int_equal(resp.status, 403); /* another account */
    json_decref(doc);
    json_decref(post(f, &f->es, "/acme/revoke-cert", payload, &resp));
    assert_int_equal(resp.status, 200);
    assert_wd_err(pki_b64url_decode(der, strlen(der), &raw, &raw_len), WD_OK);
    assert_wd_err(pki_cert_parse(raw, raw_len, &parsed), WD_OK);
    assert_wd_err(store_cert_state_get(f->st, parsed->serial, &st), WD_OK);
    assert_true(st.revoked_at != 0);
    doc = post(f, &f->es, "/acme/revoke-cert", payload, &resp);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:alreadyRevoked");
    json_decref(doc);
    pki_cert_free(parsed);
    free(raw);
    free(payload);
    free(der);
    free(order_url);
    gnutls_privkey_deinit(cert_key);
    /* by the certificate's own key, a JWS with jwk */
    order_url = ready_order(f, &f->es, names, 1);
    json_decref(finalize(f, &f->es, order_url, names, 1, &cert_key, &resp));
    der = cert_b64(f, &f->es, order_url);
    key_of_priv(&by_cert, cert_key);
    payload = dump(json_pack("{s:s, s:i}", "certificate", der, "reason", 1));
    json_decref(post(f, &by_cert, "/acme/revoke-cert", payload, &resp));
    assert_int_equal(resp.status, 200);
    key_free(&by_cert); /* deinits cert_key */
    free(payload);
    free(der);
    free(order_url);
    api_resp_clear(&resp);
}

/* An externalAccountBinding for k under EAB key (kid, hmac). */
static json_t *
eab_for(const struct key *k, const char *kid, const uint8_t *hmac,
        size_t hmac_len)
{
    char *h = dump(json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", kid,
                             "url", BASE "/acme/new-account"));
    char *p = json_dumps(k->jwk, JSON_COMPACT);
    char *h64 = pki_b64url_encode((const uint8_t *)h, strlen(h));
    char *p64 = pki_b64url_encode((const uint8_t *)p, strlen(p));
    char input[4096];
    uint8_t mac[32];
    char *s64;
    json_t *out;

    snprintf(input, sizeof(input), "%s.%s", h64, p64);
    assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, hmac, hmac_len, input,
                                      strlen(input), mac),
                     0);
    s64 = pki_b64url_encode(mac, sizeof(mac));
    out = json_pack("{s:s, s:s, s:s}", "protected", h64, "payload", p64,
                    "signature", s64);
    free(h);
    free(p);
    free(h64);
    free(p64);
    free(s64);
    return out;
}

static void
test_api_acme_eab_required_given_missing_or_wrong(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct api_identity admin = { .role = API_ROLE_ADMIN };
    struct api_req req = {
        .method = "POST",
        .path = "/api/v1/acme/eab",
        .who = &admin,
        .now = time(NULL),
    };
    struct key k = { 0 };
    const char *kid;
    uint8_t *hmac = NULL;
    size_t hmac_len = 0;
    uint8_t wrong[32] = { 1 };
    char *payload;
    json_t *doc;
    json_t *issued;

    snprintf(admin.name, sizeof(admin.name), "admin");
    api_handle(&f->api, &req, &resp);
    assert_int_equal(resp.status, 201);
    issued = json_loadb((const char *)resp.body, resp.body_len, 0, NULL);
    kid = json_string_value(json_object_get(issued, "kid"));
    assert_wd_err(pki_b64url_decode(
                      json_string_value(json_object_get(issued, "hmac_key")),
                      43, &hmac, &hmac_len),
                  WD_OK);
    assert_int_equal(hmac_len, 32);
    f->acme->eab_required = true;
    key_make(&k, false);
    doc = post(f, &k, "/acme/new-account", "{\"termsOfServiceAgreed\":true}",
               &resp);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:externalAccountRequired");
    json_decref(doc);
    payload = dump(json_pack("{s:o}", "externalAccountBinding",
                             eab_for(&k, kid, wrong, sizeof(wrong))));
    doc = post(f, &k, "/acme/new-account", payload, &resp);
    assert_int_equal(resp.status, 403);
    assert_string_equal(problem_type(doc),
                        "urn:ietf:params:acme:error:unauthorized");
    json_decref(doc);
    free(payload);
    payload = dump(json_pack("{s:o}", "externalAccountBinding",
                             eab_for(&k, kid, hmac, hmac_len)));
    doc = post(f, &k, "/acme/new-account", payload, &resp);
    assert_int_equal(resp.status, 201);
    json_decref(doc);
    free(payload);
    /* the key is spent: another account may not use it */
    key_free(&k);
    key_make(&k, false);
    payload = dump(json_pack("{s:o}", "externalAccountBinding",
                             eab_for(&k, kid, hmac, hmac_len)));
    doc = post(f, &k, "/acme/new-account", payload, &resp);
    assert_int_equal(resp.status, 403);
    json_decref(doc);
    free(payload);
    f->acme->eab_required = false;
    key_free(&k);
    free(hmac);
    json_decref(issued);
    api_resp_clear(&resp);
}

static void
test_api_acme_key_change_moves_the_account_to_the_new_key(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct key old = { 0 };
    struct key neu = { 0 };
    char *inner;
    char *payload;
    json_t *doc;

    key_make(&old, false);
    key_make(&neu, false);
    register_key(f, &old);
    /* inner JWS: new key, jwk, no nonce, url as the outer's */
    payload =
        dump(json_pack("{s:s, s:O}", "account", old.kid, "oldKey", old.jwk));
    inner = jws_text(&neu,
                     json_pack("{s:s, s:O, s:s}", "alg", "ES256", "jwk",
                               neu.jwk, "url", BASE "/acme/key-change"),
                     payload);
    doc = post(f, &old, "/acme/key-change", inner, &resp);
    assert_int_equal(resp.status, 200);
    json_decref(doc);
    /* the old key no longer signs for the account */
    doc = post(f, &old, old.kid + strlen(BASE), NULL, &resp);
    assert_int_equal(resp.status, 400);
    json_decref(doc);
    neu.kid = strdup(old.kid);
    doc = post(f, &neu, neu.kid + strlen(BASE), NULL, &resp);
    assert_int_equal(resp.status, 200);
    json_decref(doc);
    /* a new key that has an account already: 409 with its URL */
    register_key(f, &f->rsa);
    free(payload);
    free(inner);
    payload =
        dump(json_pack("{s:s, s:O}", "account", neu.kid, "oldKey", neu.jwk));
    inner = jws_text(&f->rsa,
                     json_pack("{s:s, s:O, s:s}", "alg", "RS256", "jwk",
                               f->rsa.jwk, "url", BASE "/acme/key-change"),
                     payload);
    doc = post(f, &neu, "/acme/key-change", inner, &resp);
    assert_int_equal(resp.status, 409);
    assert_string_equal(header_of(&resp, "Location"), f->rsa.kid);
    json_decref(doc);
    free(payload);
    free(inner);
    key_free(&old);
    key_free(&neu);
    api_resp_clear(&resp);
}

static void
test_api_acme_deactivated_account_gets_401(void **state)
{
    struct fixture *f = *state;
    struct api_resp resp = { 0 };
    struct key k = { 0 };
    json_t *doc;

    key_make(&k, false);
    register_key(f, &k);
    doc = post(f, &k, k.kid + strlen(BASE), "{\"status\":\"deactivated\"}",
               &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "deactivated");
    json_decref(doc);
    doc = post(f, &k, "/acme/new-order",
               "{\"identifiers\":[{\"type\":\"dns\","
               "\"value\":\"x.example.internal\"}]}",
               &resp);
    assert_int_equal(resp.status, 401);
    json_decref(doc);
    key_free(&k);
    api_resp_clear(&resp);
}

static void
test_api_acme_every_wd_err_has_a_problem_row(void **state)
{
    int e;
    int status = 0;

    (void)state;
    for (e = WD_E_INTERNAL; e < WD_E__COUNT; e++) {
        enum api_acme_problem p = api_acme_problem_of((enum wd_err)e, &status);

        /* a value without a row is serverInternal 500: only real 5xx are */
        if (status == 500) {
            assert_int_equal(p, API_ACME_P_SERVER_INTERNAL);
        }
        assert_true(status >= 400 && status < 600);
    }
    assert_int_equal(api_acme_problem_of(WD_E_JWS_SIGNATURE, &status),
                     API_ACME_P_MALFORMED);
    assert_int_equal(api_acme_problem_of(WD_E_BAD_NAME, &status),
                     API_ACME_P_BAD_CSR);
    assert_int_equal(status, 400);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_api_acme_directory_lists_the_resources_and_the_eab_policy),
        cmocka_unit_test(test_api_acme_new_nonce_head_200_get_204_not_cached),
        cmocka_unit_test(
            test_api_acme_new_account_201_then_200_for_the_same_key),
        cmocka_unit_test(
            test_api_acme_refuses_bad_signature_replayed_nonce_and_wrong_url),
        cmocka_unit_test(
            test_api_acme_new_order_outside_policy_is_rejected_identifier),
        cmocka_unit_test(
            test_api_acme_full_flow_issues_a_certificate_that_chains),
        cmocka_unit_test(test_api_acme_finalize_with_an_extra_name_is_bad_csr),
        cmocka_unit_test(
            test_api_acme_revoke_by_the_account_and_by_the_certificate_key),
        cmocka_unit_test(test_api_acme_eab_required_given_missing_or_wrong),
        cmocka_unit_test(
            test_api_acme_key_change_moves_the_account_to_the_new_key),
        cmocka_unit_test(test_api_acme_deactivated_account_gets_401),
        cmocka_unit_test(test_api_acme_every_wd_err_has_a_problem_row),
        cmocka_unit_test(
            test_api_acme_ip_and_wildcard_orders_get_the_challenges_that_fit),
        cmocka_unit_test(
            test_api_acme_orders_beyond_the_hourly_limit_are_rate_limited),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
