/*
 * External Account Binding (RFC 8555 7.3.4): an admin asks the mTLS API
 * for a key (POST /api/v1/acme/eab), hands kid and HMAC key to whoever
 * runs the ACME client, and that client's newAccount carries a JWS over
 * its account key, MACed with HS256. The store binds each EAB key to one
 * account, in the account's own transaction.
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"

/* RFC 7518 3.2: an HS256 key of the hash's size. */
#define EAB_KEY_BYTES 32

/* The MAC of f by key verifies? */
static enum wd_err
mac_check(const struct store_acme_eab_key *key, const struct api_acme_flat *f)
{
    size_t input_len = 0;
    char *input = api_acme_flat_input(f, &input_len);
    enum wd_err rc;

    rc = pki_hmac_sha256_verify(key->hmac_key, key->hmac_key_len, input,
                                input_len, f->sig, f->sig_len);
    free(input);
    return rc;
}

/* The EAB JWS of a newAccount (api_acme_priv.h). */
enum wd_err
api_acme_eab_check(struct api_acme *a, const json_t *eab,
                   const struct pki_jwk *jwk, const char *url, char *kid,
                   struct api_resp *resp)
{
    struct api_acme_flat f = { 0 };
    struct store_acme_eab_key *key = NULL;
    struct pki_jwk *bound = NULL;
    const char *alg = NULL;
    const char *eab_kid = NULL;
    const char *eab_url = NULL;
    json_t *payload = NULL;
    json_error_t jerr;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    enum wd_err rc;

    /* RFC 8555 7.3.4: alg a MAC, kid the EAB key, url newAccount's; no
     * nonce */
    rc = api_acme_flat_parse(eab, &f);
    if (rc == WD_OK &&
        json_unpack_ex(f.header, &jerr, JSON_STRICT, "{s:s, s:s, s:s}", "alg",
                       &alg, "kid", &eab_kid, "url", &eab_url) != 0) {
        rc = WD_E_JWS_MALFORMED;
    }
    if (rc == WD_OK) {
        rc = pki_b64url_decode(f.payload, strlen(f.payload), &raw, &raw_len);
    }
    if (rc == WD_OK) {
        payload = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES,
                             &jerr);
        rc = api_acme_jwk_parse(payload, &bound);
    }
    if (rc != WD_OK) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "externalAccountBinding is a JWS with alg, kid "
                              "and url over the account's JWK",
                              NULL);
        goto out;
    }
    if (strcmp(alg, "HS256") != 0) {
        rc = WD_E_JWS_SIGNATURE;
        api_acme_problem_send(resp, API_ACME_P_BAD_SIGNATURE_ALGORITHM, 0,
                              "externalAccountBinding is signed with HS256",
                              NULL);
        goto out;
    }
    if (strcmp(eab_url, url) != 0 || !pki_jwk_equal(bound, jwk)) {
        rc = WD_E_FORBIDDEN;
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                              "externalAccountBinding is not over this "
                              "request's url and key",
                              NULL);
        goto out;
    }
    rc = store_acme_eab_get(a->api->store, eab_kid, &key);
    if (rc == WD_OK && key->used_by != NULL) {
        rc = WD_E_FORBIDDEN;
    }
    if (rc == WD_OK) {
        rc = mac_check(key, &f);
    }
    if (rc == WD_E_NOT_FOUND || rc == WD_E_FORBIDDEN ||
        rc == WD_E_JWS_SIGNATURE) {
        log_info("event=acme_eab_refused reason=\"%s\"",
                 rc == WD_E_JWS_SIGNATURE ? "bad MAC" : "unknown or used key");
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                              "the External Account Binding does not verify",
                              NULL);
        goto out;
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    snprintf(kid, STORE_ACME_ID_MAX + 1, "%s", key->kid);
out:
    store_acme_eab_key_free(key);
    pki_jwk_free(bound);
    json_decref(payload);
    free(raw);
    api_acme_flat_clear(&f);
    return rc;
}

/*
 * POST /api/v1/acme/eab (admins, api_route.c): a new EAB key, 201
 * {"kid", "hmac_key"} with the key in base64url, the one time it is
 * shown. The store audits who made it, never the key.
 */
void
api_acme_eab_new(struct api *api, const struct api_req *req, const char *arg,
                 struct api_resp *resp)
{
    struct store_acme_eab_key k = { 0 };
    uint8_t secret[EAB_KEY_BYTES];
    char kid[STORE_ACME_ID_MAX + 1];
    char *text = NULL;
    enum wd_err rc;

    (void)arg;
    if (req->n_query > 0 || req->query_overflow) {
        api_error(resp, WD_E_BAD_QUERY, NULL);
        return;
    }
    rc = api_acme_id_new(kid);
    if (rc != WD_OK) {
        goto out;
    }
    rc = pki_random(secret, sizeof(secret), PKI_RANDOM_KEY);
    if (rc != WD_OK) {
        goto out;
    }
    k.kid = kid;
    k.hmac_key = secret;
    k.hmac_key_len = sizeof(secret);
    k.created_by = (char *)req->who->name; /* only read by the store */
    k.created_at = req->now;
    rc = store_acme_eab_insert(api->store, &k);
    if (rc != WD_OK) {
        goto out;
    }
    text = pki_b64url_encode(secret, sizeof(secret));
    log_info("event=acme_eab_new kid=%s", kid);
    api_json_send(resp, 201,
                  json_pack("{s:s, s:s}", "kid", kid, "hmac_key", text));
    pki_wipe(text, strlen(text));
out:
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
    }
    free(text);
    pki_wipe(secret, sizeof(secret));
}
