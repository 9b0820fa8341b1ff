/*
 * ACME accounts (RFC 8555 7.3): newAccount (with External Account
 * Binding, api_acme_eab.c), the account resource (read, contact update,
 * deactivation), its orders list, and key rollover. An account is its
 * key: the store finds it by the key's RFC 7638 thumbprint, and every
 * later request names it by its URL (kid).
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* A person or a team; more addresses are a mailing list's job. */
#define MAX_CONTACTS 4

/* RFC 5321 4.5.3.1.1: a local part of at most 64 octets. */
#define MAX_LOCAL_PART 64

/* The RFC 8555 7.1.2 account object (api_acme_priv.h). */
json_t *
api_acme_account_json(const struct api_acme *a,
                      const struct store_acme_account *acct)
{
    char *orders = api_acme_url(a, "acct", acct->kid);
    size_t len = strlen(orders) + sizeof("/orders");
    char *url = xmalloc(len);
    json_t *doc;

    snprintf(url, len, "%s/orders", orders);
    doc = json_pack("{s:s, s:s}", "status", store_acme_status_str(acct->status),
                    "orders", url);
    if (acct->contact != NULL) {
        json_t *contact = json_loads(acct->contact, 0, NULL);

        if (contact != NULL) {
            json_object_set_new(doc, "contact", contact);
        }
    }
    free(orders);
    free(url);
    return doc;
}

/* The local part of a mailto: address we accept: RFC 5322 dot-atom
 * characters only (no quoting, no percent-encoding). */
static bool
local_part_ok(const char *s, size_t len)
{
    static const char extra[] = ".!#$&'*+/=^_`{|}~-";
    size_t i;

    if (len == 0 || len > MAX_LOCAL_PART) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr(extra, c) != NULL)) {
            return false;
        }
    }
    return true;
}

/*
 * RFC 8555 7.3: contact is an array of mailto: URLs, each one address
 * without hfields. On WD_OK *text is the JSON to store (NULL for none);
 * otherwise resp holds invalidContact or unsupportedContact.
 */
static enum wd_err
contact_parse(const json_t *contact, char **text, struct api_resp *resp)
{
    size_t i;
    json_t *v;

    *text = NULL;
    if (contact == NULL ||
        (json_is_array(contact) && json_array_size(contact) == 0)) {
        return WD_OK;
    }
    if (!json_is_array(contact) || json_array_size(contact) > MAX_CONTACTS) {
        api_acme_problem_send(resp, API_ACME_P_INVALID_CONTACT, 0,
                              "contact is an array of at most 4 mailto: URLs",
                              NULL);
        return WD_E_JSON_FIELDS;
    }
    json_array_foreach(contact, i, v)
    {
        const char *s = json_string_value(v);
        const char *addr;
        const char *at;

        if (s == NULL) {
            api_acme_problem_send(resp, API_ACME_P_INVALID_CONTACT, 0,
                                  "each contact is a string", NULL);
            return WD_E_JSON_FIELDS;
        }
        if (strncasecmp(s, "mailto:", 7) != 0) {
            api_acme_problem_send(resp, API_ACME_P_UNSUPPORTED_CONTACT, 0,
                                  "only mailto: contacts are supported", NULL);
            return WD_E_JSON_FIELDS;
        }
        addr = s + 7;
        at = strchr(addr, '@');
        if (at == NULL || strlen(addr) > WD_MAX_EMAIL ||
            !local_part_ok(addr, (size_t)(at - addr)) || at[1] == '*' ||
            !pki_name_is_dns(at + 1, strlen(at + 1))) {
            /* RFC 8555 7.3: one address, no hfields ("?", ",") */
            api_acme_problem_send(resp, API_ACME_P_INVALID_CONTACT, 0,
                                  "a contact is mailto: and one email "
                                  "address, without hfields",
                                  NULL);
            return WD_E_JSON_FIELDS;
        }
    }
    *text = json_dumps(contact, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (*text == NULL || strlen(*text) > STORE_ACME_CONTACT_MAX) {
        free(*text);
        *text = NULL;
        api_acme_problem_send(resp, API_ACME_P_INVALID_CONTACT, 0,
                              "contact is too long", NULL);
        return WD_E_TOO_LARGE;
    }
    return WD_OK;
}

/* 200 (or 201) with the account, its URL in Location. */
static void
send_account(struct api_acme *a, const struct store_acme_account *acct,
             int status, struct api_resp *resp)
{
    char *url = api_acme_url(a, "acct", acct->kid);

    api_acme_send(resp, status, api_acme_account_json(a, acct), url);
    free(url);
}

/* RFC 8555 7.3.1: the account of an existing key, 200 with its URL. */
static void
send_existing(struct api_acme *a, struct store_acme_account *acct,
              struct api_resp *resp)
{
    if (acct->status != STORE_ACME_VALID) {
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 401,
                              "the account of this key is deactivated", NULL);
        return;
    }
    send_account(a, acct, 200, resp);
}

/*
 * POST /acme/new-account (RFC 8555 7.3): 201 with a new account, or 200
 * with the key's existing one; onlyReturnExisting never creates one.
 */
void
api_acme_account_new(struct api_acme *a, const struct api_req *req,
                     const struct api_acme_jws *jws, const char *arg,
                     struct api_resp *resp)
{
    struct store_acme_account *acct = NULL;
    struct store_acme_account row = { 0 };
    json_t *contact = NULL;
    json_t *eab = NULL;
    json_t *ignored = NULL;
    const char *status = NULL;
    int tos = 0;
    int only_existing = 0;
    char thumb[PKI_JWK_THUMBPRINT_LEN + 1];
    char kid[STORE_ACME_ID_MAX + 1];
    char eab_kid[STORE_ACME_ID_MAX + 1] = "";
    char *contact_text = NULL;
    json_error_t jerr;
    enum wd_err rc;

    (void)arg;
    /* RFC 8555 7.3: "orders" and "status" of a client are ignored */
    if (jws->post_as_get ||
        json_unpack_ex(jws->payload, &jerr, JSON_STRICT,
                       "{s?o, s?b, s?b, s?o, s?o, s?s}", "contact", &contact,
                       "termsOfServiceAgreed", &tos, "onlyReturnExisting",
                       &only_existing, "externalAccountBinding", &eab, "orders",
                       &ignored, "status", &status) != 0) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "newAccount takes contact, "
                              "termsOfServiceAgreed, onlyReturnExisting and "
                              "externalAccountBinding",
                              NULL);
        goto out;
    }
    rc = pki_jwk_thumbprint(jws->jwk, thumb);
    if (rc == WD_OK) {
        rc = store_acme_account_get_by_thumbprint(a->api->store, thumb, &acct);
    }
    if (rc == WD_OK) {
        send_existing(a, acct, resp);
        goto out;
    }
    if (rc != WD_E_NOT_FOUND) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    if (only_existing) {
        api_acme_problem_send(resp, API_ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
                              "no account has this key", NULL);
        goto out;
    }
    if (contact_parse(contact, &contact_text, resp) != WD_OK) {
        goto out;
    }
    if (eab != NULL) {
        if (api_acme_eab_check(a, eab, jws->jwk, jws->url, eab_kid, resp) !=
            WD_OK) {
            goto out;
        }
    } else if (a->eab_required) {
        api_acme_problem_send(resp, API_ACME_P_EXTERNAL_ACCOUNT_REQUIRED, 0,
                              "this server requires an External Account "
                              "Binding",
                              NULL);
        goto out;
    }
    rc = api_acme_id_new(kid);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    row.kid = kid;
    row.jwk = pki_jwk_canonical(jws->jwk);
    row.thumbprint = thumb;
    row.contact = contact_text;
    row.eab_kid = eab_kid[0] != '\0' ? eab_kid : NULL;
    row.created_at = req->now;
    rc = store_acme_account_insert(a->api->store, &row, NULL);
    free(row.jwk);
    if (rc == WD_E_CONFLICT && store_acme_account_get_by_thumbprint(
                                   a->api->store, thumb, &acct) == WD_OK) {
        send_existing(a, acct, resp); /* made by a concurrent request */
        goto out;
    }
    if (rc == WD_E_NOT_FOUND || rc == WD_E_FORBIDDEN) {
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                              "the External Account Binding key is unknown "
                              "or bound to another account",
                              NULL);
        goto out;
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    rc = store_acme_account_get_by_kid(a->api->store, kid, &acct);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    log_info("event=acme_account_new kid=%s eab=%s", kid,
             eab_kid[0] != '\0' ? eab_kid : "-");
    send_account(a, acct, 201, resp);
out:
    free(contact_text);
    store_acme_account_free(acct);
}

/* The account in the path must be the one that signed. */
static bool
own_account(const struct api_acme_jws *jws, const char *arg,
            struct api_resp *resp)
{
    if (arg != NULL && strcmp(jws->account->kid, arg) == 0) {
        return true;
    }
    api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                          "the account URL is not the signer's", NULL);
    return false;
}

/*
 * POST /acme/acct/{kid} (RFC 8555 7.3.2, 7.3.6): POST-as-GET reads the
 * account; {"contact"} replaces it; {"status": "deactivated"} ends it.
 */
void
api_acme_account_post(struct api_acme *a, const struct api_req *req,
                      const struct api_acme_jws *jws, const char *arg,
                      struct api_resp *resp)
{
    struct store_acme_account *acct = NULL;
    json_t *contact = NULL;
    json_t *ignored = NULL;
    const char *status = NULL;
    int tos = 0;
    char *contact_text = NULL;
    json_error_t jerr;
    enum wd_err rc = WD_OK;

    if (!own_account(jws, arg, resp)) {
        return;
    }
    if (!jws->post_as_get) {
        if (json_unpack_ex(jws->payload, &jerr, JSON_STRICT,
                           "{s?o, s?s, s?b, s?o}", "contact", &contact,
                           "status", &status, "termsOfServiceAgreed", &tos,
                           "orders", &ignored) != 0 ||
            (status != NULL && strcmp(status, "deactivated") != 0)) {
            api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                                  "an account update takes contact, or "
                                  "status \"deactivated\"",
                                  NULL);
            goto out;
        }
        if (contact != NULL) {
            if (contact_parse(contact, &contact_text, resp) != WD_OK) {
                goto out;
            }
            rc = store_acme_account_update_contact(a->api->store, arg,
                                                   contact_text);
        }
        if (rc == WD_OK && status != NULL) {
            rc = store_acme_account_deactivate(a->api->store, arg, req->now);
            log_info("event=acme_account_deactivated kid=%s", arg);
        }
        if (rc != WD_OK) {
            api_acme_problem_err(resp, rc, NULL);
            goto out;
        }
    }
    rc = store_acme_account_get_by_kid(a->api->store, arg, &acct);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    send_account(a, acct, 200, resp);
out:
    free(contact_text);
    store_acme_account_free(acct);
}

/*
 * POST-as-GET /acme/acct/{kid}/orders (RFC 8555 7.1.2.1): the URLs of
 * the account's newest orders, up to WD_LIST_LIMIT_MAX.
 */
void
api_acme_account_orders(struct api_acme *a, const struct api_req *req,
                        const struct api_acme_jws *jws, const char *arg,
                        struct api_resp *resp)
{
    struct store_acme_order_list l = { 0 };
    json_t *urls;
    size_t i;
    enum wd_err rc;

    (void)req;
    if (!own_account(jws, arg, resp)) {
        return;
    }
    if (!jws->post_as_get) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the orders list is read with POST-as-GET", NULL);
        return;
    }
    rc = store_acme_order_list_by_account(a->api->store, jws->account->id,
                                          WD_LIST_LIMIT_MAX, 0, &l);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        return;
    }
    urls = json_array();
    for (i = 0; i < l.n; i++) {
        char *url = api_acme_url(a, "order", l.items[i].oid);

        json_array_append_new(urls, json_string(url));
        free(url);
    }
    store_acme_order_list_free(&l);
    api_json_send(resp, 200, json_pack("{s:o}", "orders", urls));
}

/*
 * The inner JWS of a key change (RFC 8555 7.3.5): signed by the new key
 * it carries as jwk, no nonce, url as the outer's; its payload names the
 * account and its current key. On WD_OK the caller owns *new_key.
 */
static enum wd_err
inner_check(struct api_acme *a, const struct api_acme_jws *jws,
            struct pki_jwk **new_key, struct api_resp *resp)
{
    struct api_acme_flat f = { 0 };
    struct pki_jwk *key = NULL;
    struct pki_jwk *old = NULL;
    enum pki_jws_alg alg = PKI_JWS_ES256;
    const char *alg_name = NULL;
    const char *url = NULL;
    const char *account = NULL;
    json_t *jwk = NULL;
    json_t *old_jwk = NULL;
    json_t *payload = NULL;
    json_error_t jerr;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    char *input = NULL;
    size_t input_len = 0;
    char *acct_url = api_acme_url(a, "acct", jws->account->kid);
    enum wd_err rc;

    rc = api_acme_flat_parse(jws->payload, &f);
    if (rc == WD_OK &&
        json_unpack_ex(f.header, &jerr, JSON_STRICT, "{s:s, s:s, s:o}", "alg",
                       &alg_name, "url", &url, "jwk", &jwk) != 0) {
        rc = WD_E_JWS_MALFORMED;
    }
    if (rc != WD_OK) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the payload is a JWS whose header holds alg, "
                              "url and jwk only",
                              NULL);
        goto out;
    }
    if (!pki_jws_alg_parse(alg_name, &alg)) {
        rc = WD_E_JWS_SIGNATURE;
        api_acme_problem_send(resp, API_ACME_P_BAD_SIGNATURE_ALGORITHM, 0,
                              "the inner JWS's alg is not supported", NULL);
        goto out;
    }
    if (strcmp(url, jws->url) != 0) {
        rc = WD_E_JWS_MALFORMED;
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the inner JWS's url is not the outer's", NULL);
        goto out;
    }
    rc = api_acme_jwk_parse(jwk, &key);
    if (rc != WD_OK) {
        api_acme_problem_send(resp,
                              rc == WD_E_JWS_MALFORMED
                                  ? API_ACME_P_MALFORMED
                                  : API_ACME_P_BAD_PUBLIC_KEY,
                              0, "the new key is not acceptable", NULL);
        goto out;
    }
    input = api_acme_flat_input(&f, &input_len);
    rc = pki_jws_verify(key, alg, (const uint8_t *)input, input_len, f.sig,
                        f.sig_len);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc,
                             "the inner JWS's signature does not verify");
        goto out;
    }
    rc = pki_b64url_decode(f.payload, strlen(f.payload), &raw, &raw_len);
    if (rc == WD_OK) {
        payload = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES,
                             &jerr);
        if (payload == NULL ||
            json_unpack_ex(payload, &jerr, JSON_STRICT, "{s:s, s:o}", "account",
                           &account, "oldKey", &old_jwk) != 0) {
            rc = WD_E_JWS_MALFORMED;
        }
    }
    if (rc != WD_OK) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "the inner payload holds account and oldKey",
                              NULL);
        goto out;
    }
    if (strcmp(account, acct_url) != 0 ||
        api_acme_jwk_parse(old_jwk, &old) != WD_OK ||
        !pki_jwk_equal(old, jws->jwk)) {
        rc = WD_E_FORBIDDEN;
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                              "account and oldKey are not the signer's", NULL);
        goto out;
    }
    *new_key = key;
    key = NULL;
out:
    free(acct_url);
    free(input);
    free(raw);
    json_decref(payload);
    pki_jwk_free(old);
    pki_jwk_free(key);
    api_acme_flat_clear(&f);
    return rc;
}

/*
 * POST /acme/key-change (RFC 8555 7.3.5): the account's key becomes the
 * inner JWS's. 409 with the Location of the account that already has it.
 */
void
api_acme_account_key_change(struct api_acme *a, const struct api_req *req,
                            const struct api_acme_jws *jws, const char *arg,
                            struct api_resp *resp)
{
    struct store_acme_account *acct = NULL;
    struct pki_jwk *key = NULL;
    char thumb[PKI_JWK_THUMBPRINT_LEN + 1];
    char *canonical = NULL;
    enum wd_err rc;

    (void)arg;
    if (jws->post_as_get) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "keyChange carries a JWS as payload", NULL);
        return;
    }
    if (inner_check(a, jws, &key, resp) != WD_OK) {
        return;
    }
    canonical = pki_jwk_canonical(key);
    rc = pki_jwk_thumbprint(key, thumb);
    if (rc == WD_OK) {
        rc = store_acme_account_key_change(a->api->store, jws->account->kid,
                                           jws->account->thumbprint, canonical,
                                           thumb, req->now);
    }
    if (rc == WD_E_CONFLICT && store_acme_account_get_by_thumbprint(
                                   a->api->store, thumb, &acct) == WD_OK) {
        char *url = api_acme_url(a, "acct", acct->kid);

        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 409,
                              "the new key belongs to an account already",
                              NULL);
        api_resp_header(resp, "Location", url);
        free(url);
        goto out;
    }
    if (rc == WD_OK) {
        rc = store_acme_account_get_by_kid(a->api->store, jws->account->kid,
                                           &acct);
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    log_info("event=acme_key_change kid=%s", acct->kid);
    send_account(a, acct, 200, resp);
out:
    free(canonical);
    pki_jwk_free(key);
    store_acme_account_free(acct);
}
