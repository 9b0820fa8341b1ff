/*
 * ACME authorizations and challenges (RFC 8555 7.5): reading them,
 * deactivating an authorization, and a client's "ready" on a challenge,
 * which moves it to processing and hands a check to the validation pool
 * (api_acme_submit_fn). The pool records the outcome in the store; the
 * store moves the authorization and the order along.
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"

/* RFC 8555 8.2: how soon a client polling a processing challenge should
 * look again. */
#define CHALL_RETRY_AFTER_S "2"

/* The RFC 8555 8 challenge object. */
static json_t *
chall_json(const struct api_acme *a, const struct store_acme_challenge *c)
{
    char *url = api_acme_url(a, "chall", c->cid);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s}", "type",
                  store_acme_chall_type_str(c->type), "url", url, "status",
                  store_acme_status_str(c->status), "token", c->token);

    if (c->status == STORE_ACME_VALID && c->validated_at != 0) {
        json_object_set_new(doc, "validated", api_json_time(c->validated_at));
    }
    if (c->error != NULL) {
        json_t *err = json_loads(c->error, 0, NULL);

        if (err != NULL) {
            json_object_set_new(doc, "error", err);
        }
    }
    free(url);
    return doc;
}

/* The RFC 8555 7.1.4 authorization object at now. */
static json_t *
authz_json(const struct api_acme *a, const struct store_acme_authz *z,
           int64_t now)
{
    json_t *challs = json_array();
    json_t *doc;
    size_t i;

    for (i = 0; i < z->n_challenges; i++) {
        json_array_append_new(challs, chall_json(a, &z->challenges[i]));
    }
    doc = json_pack(
        "{s:{s:s, s:s}, s:s, s:o, s:o}", "identifier", "type",
        store_acme_ident_type_str(z->ident_type), "value", z->ident_value,
        "status", store_acme_status_str(api_acme_authz_status(z, now)),
        "expires", api_json_time(z->expires_at), "challenges", challs);
    if (z->wildcard) {
        json_object_set_new(doc, "wildcard", json_true());
    }
    return doc;
}

/*
 * POST /acme/authz/{aid} (RFC 8555 7.5, 7.5.2): POST-as-GET reads it;
 * {"status": "deactivated"} deactivates it.
 */
void
api_acme_authz_post(struct api_acme *a, const struct api_req *req,
                    const struct api_acme_jws *jws, const char *arg,
                    struct api_resp *resp)
{
    struct store_acme_authz *z = NULL;
    const char *status = NULL;
    json_error_t jerr;
    enum wd_err rc;

    rc = store_acme_authz_get(a->api->store, arg, &z);
    if (rc != WD_OK) {
        api_acme_problem_err(
            resp, rc, rc == WD_E_NOT_FOUND ? "no such authorization" : NULL);
        goto out;
    }
    if (!api_acme_owns(jws, z->account_id, resp)) {
        goto out;
    }
    if (!jws->post_as_get) {
        if (json_unpack_ex(jws->payload, &jerr, JSON_STRICT, "{s:s}", "status",
                           &status) != 0 ||
            strcmp(status, "deactivated") != 0) {
            api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                                  "an authorization update is {\"status\": "
                                  "\"deactivated\"}",
                                  NULL);
            goto out;
        }
        rc = store_acme_authz_set_status(a->api->store, arg,
                                         STORE_ACME_DEACTIVATED);
        if (rc == WD_OK) {
            store_acme_authz_free(z);
            z = NULL;
            rc = store_acme_authz_get(a->api->store, arg, &z);
        }
        if (rc != WD_OK) {
            api_acme_problem_err(resp, rc,
                                 rc == WD_E_CONFLICT
                                     ? "the authorization is past pending "
                                       "and valid"
                                     : NULL);
            goto out;
        }
    }
    api_json_send(resp, 200, authz_json(a, z, req->now));
out:
    store_acme_authz_free(z);
}

/* The check the validation pool runs for c of z, signed by jws's key. */
static void
submit(struct api_acme *a, const struct api_acme_jws *jws,
       const struct store_acme_authz *z, const struct store_acme_challenge *c)
{
    struct api_acme_check check = { 0 };

    snprintf(check.cid, sizeof(check.cid), "%s", c->cid);
    check.type = c->type;
    check.ident_type = z->ident_type;
    snprintf(check.identifier, sizeof(check.identifier), "%s", z->ident_value);
    snprintf(check.token, sizeof(check.token), "%s", c->token);
    /* RFC 8555 8.1: token "." base64url(JWK thumbprint) */
    snprintf(check.key_auth, sizeof(check.key_auth), "%s.%s", c->token,
             jws->account->thumbprint);
    a->submit(a->submit_ctx, &check);
}

/*
 * POST /acme/chall/{cid} (RFC 8555 7.5.1): {} asks for validation of a
 * pending challenge; POST-as-GET reads it. Either way the answer is the
 * challenge, with its authorization as Link rel="up".
 */
void
api_acme_chall_post(struct api_acme *a, const struct api_req *req,
                    const struct api_acme_jws *jws, const char *arg,
                    struct api_resp *resp)
{
    struct store_acme_challenge *c = NULL;
    struct store_acme_authz *z = NULL;
    char *up = NULL;
    enum wd_err rc;

    rc = store_acme_challenge_get(a->api->store, arg, &c);
    if (rc == WD_OK) {
        rc = store_acme_authz_get(a->api->store, c->aid, &z);
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc,
                             rc == WD_E_NOT_FOUND ? "no such challenge" : NULL);
        goto out;
    }
    if (!api_acme_owns(jws, z->account_id, resp)) {
        goto out;
    }
    if (!jws->post_as_get) {
        /* RFC 8555 7.5.1: the payload is an empty object */
        if (json_object_size(jws->payload) != 0) {
            api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                                  "a challenge response is {}", NULL);
            goto out;
        }
        if (c->status == STORE_ACME_PENDING) {
            rc = store_acme_challenge_set_processing(a->api->store, arg,
                                                     req->now);
            if (rc == WD_OK) {
                log_info("event=acme_challenge_ready cid=%s type=%s", arg,
                         store_acme_chall_type_str(c->type));
                submit(a, jws, z, c);
            } else if (rc != WD_E_CONFLICT) {
                /* a conflict: another request or expiry got there first,
                 * and the challenge as it is now is the answer */
                api_acme_problem_err(resp, rc, NULL);
                goto out;
            }
            store_acme_challenge_free(c);
            c = NULL;
            rc = store_acme_challenge_get(a->api->store, arg, &c);
            if (rc != WD_OK) {
                api_acme_problem_err(resp, rc, NULL);
                goto out;
            }
        }
    }
    api_json_send(resp, 200, chall_json(a, c));
    up = api_acme_url(a, "authz", z->aid);
    api_acme_link(resp, up, "up");
    if (c->status == STORE_ACME_PROCESSING) {
        api_resp_header(resp, "Retry-After", CHALL_RETRY_AFTER_S);
    }
out:
    free(up);
    store_acme_challenge_free(c);
    store_acme_authz_free(z);
}
