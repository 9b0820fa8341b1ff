/*
 * ACME request authentication (RFC 8555 6.2 to 6.4): every POST is a
 * flattened JWS (RFC 7515 7.2.2) whose protected header names the
 * algorithm, a nonce we handed out, the URL it was sent to, and either
 * the account (kid) or, for newAccount and revokeCert, the key itself
 * (jwk). Checks run in the order Boulder uses, so a client sees the same
 * problem for the same fault: media type, JWS shape, algorithm, nonce,
 * URL, key, signature, payload. pki_jws.c does the cryptography; here is
 * the JSON and the protocol around it.
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* RFC 7517 4 and RFC 7518 6: the members a public JWK may carry. The
 * metadata ones (alg, use, kid, key_ops, ext) are allowed and ignored. */
static const char *const jwk_public[] = { "kty", "crv", "x",      "y",
                                          "n",   "e",   "alg",    "use",
                                          "kid", "ext", "key_ops" };

/* RFC 7518 6.2.2, 6.3.2, 6.4: members that only a private key has. */
static const char *const jwk_private[] = { "d",  "p",  "q",   "dp",
                                           "dq", "qi", "oth", "k" };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool
in_list(const char *const *list, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(list[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Member key of obj as a string; NULL when absent. *bad is set when it is
 * there but not a string. */
static const char *
member_str(const json_t *obj, const char *key, bool *bad)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        return NULL;
    }
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* A public key from a JWK object (api_acme_priv.h). */
enum wd_err
api_acme_jwk_parse(const json_t *jwk, struct pki_jwk **out)
{
    struct pki_jwk_parts parts = { 0 };
    const char *key;
    json_t *value;
    bool bad = false;

    if (!json_is_object(jwk)) {
        return WD_E_JWS_MALFORMED;
    }
    json_object_foreach((json_t *)jwk, key, value)
    {
        if (in_list(jwk_private, N_OF(jwk_private), key)) {
            log_info("event=jwk_refused reason=\"private key member %s\"", key);
            return WD_E_JWS_MALFORMED;
        }
        if (!in_list(jwk_public, N_OF(jwk_public), key)) {
            return WD_E_JWS_MALFORMED;
        }
    }
    parts.kty = member_str(jwk, "kty", &bad);
    parts.crv = member_str(jwk, "crv", &bad);
    parts.x = member_str(jwk, "x", &bad);
    parts.y = member_str(jwk, "y", &bad);
    parts.n = member_str(jwk, "n", &bad);
    parts.e = member_str(jwk, "e", &bad);
    if (bad) {
        return WD_E_JWS_MALFORMED;
    }
    return pki_jwk_import(&parts, out);
}

/* A public key from JWK text, e.g. an account's stored canonical JWK. */
enum wd_err
api_acme_jwk_parse_text(const char *text, struct pki_jwk **out)
{
    json_error_t jerr;
    json_t *jwk = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    enum wd_err rc = api_acme_jwk_parse(jwk, out);

    json_decref(jwk);
    return rc;
}

/* Split a flattened JWS (api_acme_priv.h). */
enum wd_err
api_acme_flat_parse(const json_t *obj, struct api_acme_flat *out)
{
    struct api_acme_flat f = { 0 };
    json_error_t jerr;
    uint8_t *header = NULL;
    size_t header_len = 0;
    enum wd_err rc = WD_E_JWS_MALFORMED;

    /* RFC 8555 6.2: the flattened serialization only, nothing unprotected */
    if (obj == NULL ||
        json_unpack_ex((json_t *)obj, &jerr, JSON_STRICT, "{s:s, s:s, s:s}",
                       "protected", &f.protected, "payload", &f.payload,
                       "signature", &f.signature) != 0) {
        goto out;
    }
    rc = pki_b64url_decode(f.protected, strlen(f.protected), &header,
                           &header_len);
    if (rc != WD_OK) {
        goto out;
    }
    f.header = json_loadb((const char *)header, header_len,
                          JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(f.header)) {
        rc = WD_E_JWS_MALFORMED;
        goto out;
    }
    rc =
        pki_b64url_decode(f.signature, strlen(f.signature), &f.sig, &f.sig_len);
    if (rc != WD_OK) {
        goto out;
    }
    *out = f;
    memset(&f, 0, sizeof(f)); /* the caller owns it now */
out:
    free(header);
    api_acme_flat_clear(&f);
    return rc;
}

/* Releases what f owns; f may be all zeros. */
void
api_acme_flat_clear(struct api_acme_flat *f)
{
    json_decref(f->header);
    free(f->sig);
    memset(f, 0, sizeof(*f));
}

/* RFC 7515 5.2 step 8: ASCII(protected || '.' || payload). */
char *
api_acme_flat_input(const struct api_acme_flat *f, size_t *len)
{
    size_t plen = strlen(f->protected);
    size_t dlen = strlen(f->payload);
    char *input = xmalloc(plen + 1 + dlen + 1);

    memcpy(input, f->protected, plen);
    input[plen] = '.';
    memcpy(input + plen + 1, f->payload, dlen);
    input[plen + 1 + dlen] = '\0';
    *len = plen + 1 + dlen;
    return input;
}

/* Releases what j owns; j may be all zeros. */
void
api_acme_jws_clear(struct api_acme_jws *j)
{
    json_decref(j->payload);
    pki_jwk_free(j->jwk);
    store_acme_account_free(j->account);
    memset(j, 0, sizeof(*j));
}

/* The problem for a key pki_jwk_import or the JWK parse refused. */
static void
send_key_problem(struct api_resp *resp, enum wd_err rc)
{
    if (rc == WD_E_WEAK_KEY || rc == WD_E_UNSUPPORTED_KEY) {
        api_acme_problem_send(resp, API_ACME_P_BAD_PUBLIC_KEY, 0,
                              wd_err_str(rc), NULL);
    } else if (rc == WD_E_JWS_MALFORMED) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the jwk is not a public JSON Web Key", NULL);
    } else {
        api_acme_problem_err(resp, rc, NULL);
    }
}

/* RFC 8555 6.2: refused with badSignatureAlgorithm, listing ours. */
static void
send_bad_alg(struct api_resp *resp, const char *detail)
{
    json_t *doc;
    char *text;

    api_acme_problem_send(resp, API_ACME_P_BAD_SIGNATURE_ALGORITHM, 0, detail,
                          NULL);
    doc = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
    if (doc == NULL) {
        return;
    }
    json_object_set_new(
        doc, "algorithms",
        json_pack("[s, s, s, s]", "RS256", "ES256", "ES384", "EdDSA"));
    text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (text != NULL) {
        api_resp_drop_body(resp);
        resp->body = (uint8_t *)text;
        resp->body_len = strlen(text);
    }
}

/*
 * The account a kid names: base_url "/acme/acct/" id, stored and valid.
 * On WD_OK the caller owns *out; otherwise resp holds the problem.
 */
static enum wd_err
account_of_kid(struct api_acme *a, const char *kid,
               struct store_acme_account **out, struct api_resp *resp)
{
    char *prefix = api_acme_url(a, "acct", "");
    size_t plen = strlen(prefix);
    struct store_acme_account *acct = NULL;
    enum wd_err rc;

    if (strncmp(kid, prefix, plen) != 0) {
        api_acme_problem_send(resp, API_ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
                              "kid is not an account URL of this server", NULL);
        rc = WD_E_NOT_FOUND;
        goto out;
    }
    rc = store_acme_account_get_by_kid(a->api->store, kid + plen, &acct);
    if (rc == WD_E_NOT_FOUND) {
        api_acme_problem_send(resp, API_ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
                              "no account has this kid", NULL);
        goto out;
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    if (acct->status != STORE_ACME_VALID) {
        /* RFC 8555 7.3.6: a deactivated account gets 401 */
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 401,
                              "the account is not valid", NULL);
        rc = WD_E_FORBIDDEN;
        goto out;
    }
    *out = acct;
    acct = NULL;
out:
    store_acme_account_free(acct);
    free(prefix);
    return rc;
}

/* The request's URL as the client must have signed it. */
static void
request_url(const struct api_acme *a, const struct api_req *req, char *out,
            size_t outsz)
{
    snprintf(out, outsz, "%s%s", a->base_url, req->path);
}

/*
 * The header checks of RFC 8555 6.2 to 6.4 on f, in Boulder's order:
 * exactly the members we know, alg, nonce, url, one of jwk or kid as
 * need says. Fills out->url, out->jwk or out->account; resp on failure.
 */
static enum wd_err
check_header(struct api_acme *a, const struct api_req *req,
             const struct api_acme_flat *f, enum api_acme_key need,
             enum pki_jws_alg *alg, struct api_acme_jws *out,
             struct api_resp *resp)
{
    const char *alg_name = NULL;
    const char *nonce = NULL;
    const char *url = NULL;
    const char *kid = NULL;
    json_t *jwk = NULL;
    json_error_t jerr;
    char want[WD_MAX_URL];
    bool fresh = false;
    enum wd_err rc;

    /* RFC 8555 6.2: these members and no others (no "crit", no x5c,
     * no unprotected key) */
    if (json_unpack_ex(f->header, &jerr, JSON_STRICT,
                       "{s:s, s?s, s?s, s?s, s?o}", "alg", &alg_name, "nonce",
                       &nonce, "url", &url, "kid", &kid, "jwk", &jwk) != 0) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the protected header holds alg, nonce, url "
                              "and jwk or kid, as strings, nothing else",
                              NULL);
        return WD_E_JWS_MALFORMED;
    }
    if (!pki_jws_alg_parse(alg_name, alg)) {
        send_bad_alg(resp, "alg is not one of RS256, ES256, ES384, EdDSA");
        return WD_E_JWS_SIGNATURE;
    }
    /* RFC 8555 6.5: every JWS carries a nonce of ours, used once */
    if (nonce == NULL) {
        api_acme_problem_send(resp, API_ACME_P_BAD_NONCE, 0,
                              "the protected header has no nonce", NULL);
        return WD_E_JWS_MALFORMED;
    }
    rc = store_acme_nonce_take(a->api->store, nonce, req->now, &fresh);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        return rc;
    }
    if (!fresh) {
        api_acme_problem_send(resp, API_ACME_P_BAD_NONCE, 0,
                              "the nonce is unknown, used or expired", NULL);
        return WD_E_JWS_MALFORMED;
    }
    /* RFC 8555 6.4: the url the client meant is the one it reached */
    request_url(a, req, want, sizeof(want));
    if (url == NULL || strcmp(url, want) != 0 || req->n_query > 0 ||
        req->query_overflow) {
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                              "the url in the protected header is not the "
                              "request's",
                              NULL);
        return WD_E_FORBIDDEN;
    }
    snprintf(out->url, sizeof(out->url), "%s", url);
    /* RFC 8555 6.2: exactly one of jwk and kid */
    if ((jwk == NULL) == (kid == NULL)) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the protected header names exactly one of "
                              "jwk and kid",
                              NULL);
        return WD_E_JWS_MALFORMED;
    }
    if (jwk != NULL && need == API_ACME_KEY_KID) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "this resource takes a kid, not a jwk", NULL);
        return WD_E_JWS_MALFORMED;
    }
    if (kid != NULL && need == API_ACME_KEY_JWK) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "this resource takes a jwk, not a kid", NULL);
        return WD_E_JWS_MALFORMED;
    }
    if (jwk != NULL) {
        rc = api_acme_jwk_parse(jwk, &out->jwk);
        if (rc != WD_OK) {
            send_key_problem(resp, rc);
        }
        return rc;
    }
    rc = account_of_kid(a, kid, &out->account, resp);
    if (rc != WD_OK) {
        return rc;
    }
    rc = api_acme_jwk_parse_text(out->account->jwk, &out->jwk);
    if (rc != WD_OK) {
        log_err("event=acme_bug reason=\"stored account key unusable\"");
        api_acme_problem_err(resp, WD_E_INTERNAL, NULL);
        rc = WD_E_INTERNAL;
    }
    return rc;
}

/* The decoded payload: "" for POST-as-GET, else one JSON object. */
static enum wd_err
decode_payload(const struct api_acme_flat *f, struct api_acme_jws *out,
               struct api_resp *resp)
{
    json_error_t jerr;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    enum wd_err rc;

    if (f->payload[0] == '\0') {
        out->post_as_get = true; /* RFC 8555 6.3 */
        return WD_OK;
    }
    rc = pki_b64url_decode(f->payload, strlen(f->payload), &raw, &raw_len);
    if (rc == WD_OK) {
        out->payload = json_loadb((const char *)raw, raw_len,
                                  JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(out->payload)) {
            json_decref(out->payload);
            out->payload = NULL;
            rc = WD_E_JWS_MALFORMED;
        }
    }
    free(raw);
    if (rc != WD_OK) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the payload is not a base64url JSON object",
                              NULL);
    }
    return rc;
}

/* Authenticate one ACME POST (api_acme_priv.h). */
enum wd_err
api_acme_jws_check(struct api_acme *a, const struct api_req *req,
                   enum api_acme_key need, struct api_acme_jws *out,
                   struct api_resp *resp)
{
    struct api_acme_jws j = { 0 };
    struct api_acme_flat f = { 0 };
    enum pki_jws_alg alg = PKI_JWS_ES256;
    json_error_t jerr;
    json_t *doc = NULL;
    char type[96];
    char *input = NULL;
    size_t input_len = 0;
    enum wd_err rc;

    /* RFC 8555 6.2: application/jose+json, or 415 */
    api_media_type(req->content_type, type, sizeof(type));
    if (strcmp(type, "application/jose+json") != 0) {
        rc = WD_E_MEDIA_TYPE;
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 415,
                              "the Content-Type must be "
                              "application/jose+json",
                              NULL);
        goto out;
    }
    doc = json_loadb((const char *)req->body, req->body_len,
                     JSON_REJECT_DUPLICATES, &jerr);
    rc = api_acme_flat_parse(doc, &f);
    if (rc != WD_OK) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the body is not a flattened JWS of "
                              "protected, payload and signature",
                              NULL);
        goto out;
    }
    rc = check_header(a, req, &f, need, &alg, &j, resp);
    if (rc != WD_OK) {
        goto out;
    }
    if (!pki_jwk_alg_fits(j.jwk, alg)) {
        rc = WD_E_JWS_SIGNATURE;
        send_bad_alg(resp, "alg is not the algorithm of this key");
        goto out;
    }
    input = api_acme_flat_input(&f, &input_len);
    rc = pki_jws_verify(j.jwk, alg, (const uint8_t *)input, input_len, f.sig,
                        f.sig_len);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc,
                             rc == WD_E_JWS_SIGNATURE
                                 ? "the JWS signature does not verify"
                                 : NULL);
        goto out;
    }
    rc = decode_payload(&f, &j, resp);
    if (rc != WD_OK) {
        goto out;
    }
    *out = j;
    memset(&j, 0, sizeof(j)); /* the caller owns it now */
out:
    free(input);
    api_acme_flat_clear(&f);
    json_decref(doc);
    api_acme_jws_clear(&j);
    return rc;
}
