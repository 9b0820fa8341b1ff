/*
 * POST /api/v1/certificates: turn a CSR into a signed, stored certificate.
 * Issuance commits
 * the certificate to the store before the response exists: a certificate
 * handed out that the store does not hold would be a security incident.
 */
#include "api_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/limits.h"
#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/xmalloc.h"

/* Longest validity a request may name before the profile bound: 100y. */
#define API_MAX_VALIDITY_S (100ULL * 366 * 86400)

/* A serial collision of 128 random bits is never expected; bound retries. */
#define ISSUE_SERIAL_TRIES 3

/* What an issuance request asked for, parsed from the body. */
struct issue_args {
    const uint8_t *csr;
    size_t csr_len;
    enum pki_profile profile;
    uint64_t validity_s;
    bool validity_given;
};

/* Media types under which a body is the CSR itself (PEM or DER). */
static bool
is_raw_csr_type(const char *type)
{
    static const char *const raw[] = {
        "",                                  /* no Content-Type at all */
        "application/x-www-form-urlencoded", /* curl --data-binary */
        "application/pkcs10",
        "application/x-pem-file",
        "application/octet-stream",
        "text/plain",
    };
    size_t i;

    for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        if (strcmp(type, raw[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Parse the JSON form {"csr", "profile"?, "validity"?}: duplicates and
 * unknown members refused. On WD_OK *root holds the document the CSR
 * points into; the caller releases it.
 */
static enum wd_err
parse_json_body(const struct api_req *req, struct issue_args *args,
                json_t **root)
{
    json_error_t jerr;
    json_t *doc;
    const char *csr = NULL;
    const char *profile = NULL;
    const char *validity = NULL;
    size_t csr_len = 0;
    enum wd_err rc = WD_OK;

    doc = json_loadb((const char *)req->body, req->body_len,
                     JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        return WD_E_JSON_SYNTAX;
    }
    if (json_unpack_ex(doc, &jerr, JSON_STRICT, "{s:s%, s?s, s?s}", "csr", &csr,
                       &csr_len, "profile", &profile, "validity",
                       &validity) != 0) {
        rc = WD_E_JSON_FIELDS;
        goto out;
    }
    if (profile != NULL && !pki_profile_parse(profile, &args->profile)) {
        rc = WD_E_BAD_PROFILE;
        goto out;
    }
    if (validity != NULL) {
        /* bounded here by the largest; the profile's bound comes later */
        if (!wd_parse_duration(validity, API_MAX_VALIDITY_S,
                               &args->validity_s)) {
            rc = WD_E_BAD_VALIDITY;
            goto out;
        }
        args->validity_given = true;
    }
    args->csr = (const uint8_t *)csr;
    args->csr_len = csr_len;
    *root = doc;
    doc = NULL;
out:
    json_decref(doc);
    return rc;
}

/*
 * Sign with a fresh serial and commit; retries with a new serial if the
 * store already holds one (never expected at 128 bits). On WD_OK the
 * certificate is durable and the caller owns *out.
 */
static enum wd_err
issue_and_store(struct api *api, const struct api_req *req,
                const struct pki_csr *csr, const struct issue_args *args,
                struct pki_cert **out)
{
    struct pki_cert *cert = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    enum wd_err rc = WD_E_CONFLICT;
    int tries;

    for (tries = 0; tries < ISSUE_SERIAL_TRIES && rc == WD_E_CONFLICT;
         tries++) {
        struct pki_issue issue = {
            .csr = csr,
            .profile = args->profile,
            .serial = serial,
            .validity_s = args->validity_s,
            .now = req->now,
        };

        pki_cert_free(cert);
        cert = NULL;
        rc = pki_serial_new(serial);
        if (rc != WD_OK) {
            break;
        }
        rc = api_sign_begin(api);
        if (rc != WD_OK) {
            break;
        }
        rc = pki_cert_issue(api->ca, &issue, &cert);
        api_sign_end(api);
        if (rc != WD_OK) {
            break;
        }
        rc = api_cert_record(api->store, cert, req->who->name, req->now);
        if (rc == WD_E_CONFLICT) {
            log_warn("event=serial_collision serial=%s", cert->serial);
        }
    }
    if (rc == WD_OK) {
        *out = cert;
        cert = NULL;
    }
    pki_cert_free(cert);
    return rc;
}

/* The 201 body: JSON, or the PEM chain leaf first when asked for. */
void
api_send_issued(struct api *api, const struct pki_cert *cert, bool pem,
                struct api_resp *resp)
{
    size_t len;
    char *chain = api_leaf_chain(api->ca, cert->pem, &len);
    json_t *sans;
    size_t i;

    if (pem) {
        api_text_send(resp, 201, "application/pem-certificate-chain", chain,
                      len);
        free(chain);
        return;
    }
    sans = json_array();
    for (i = 0; i < cert->n_sans; i++) {
        json_array_append_new(
            sans, json_sprintf("%s:%s", pki_san_type_name(cert->sans[i].type),
                               cert->sans[i].value));
    }
    api_json_send(
        resp, 201,
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:o, s:s, s:s}", "serial",
                  cert->serial, "certificate", cert->pem, "chain", chain,
                  "not_before", api_json_time(cert->not_before), "not_after",
                  api_json_time(cert->not_after), "subject", cert->subject,
                  "sans", sans, "profile", pki_profile_name(cert->profile),
                  "key_type", cert->key_type));
    free(chain);
}

/* Default and maximum validity of profile: the config's "profiles". */
struct api_profile_policy
api_profile_bounds(const struct api_cfg *cfg, enum pki_profile profile)
{
    struct api_profile_policy b = {
        .default_validity_s = cfg->default_validity_s,
        .max_validity_s = cfg->max_validity_s,
    };

    if (cfg->policy != NULL && (unsigned)profile < API_N_PROFILES) {
        b = cfg->policy->profiles[profile];
    }
    return b;
}

/*
 * POST /certificates: a PEM or DER CSR as the body, or JSON
 * {"csr", "profile", "validity"}. 201 once the certificate is committed.
 */
void
api_cert_issue(struct api *api, const struct api_req *req, const char *arg,
               struct api_resp *resp)
{
    struct issue_args args = {
        .profile = PKI_PROFILE_SERVER_CLIENT,
    };
    struct api_profile_policy bounds;
    char bad_name[300] = "";
    char message[400] = "";
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    json_t *doc = NULL;
    char type[96];
    char location[80];
    bool pem = false;
    enum wd_err rc;

    (void)arg;
    if (req->n_query > 0 || req->query_overflow) {
        rc = WD_E_BAD_QUERY;
        goto out;
    }
    rc = api_accept_pem(req->accept, &pem);
    if (rc != WD_OK) {
        goto out;
    }
    api_media_type(req->content_type, type, sizeof(type));
    if (strcmp(type, "application/json") == 0) {
        rc = parse_json_body(req, &args, &doc);
    } else if (is_raw_csr_type(type)) {
        args.csr = req->body;
        args.csr_len = req->body_len;
    } else {
        rc = WD_E_MEDIA_TYPE;
    }
    if (rc != WD_OK) {
        goto out;
    }
    bounds = api_profile_bounds(&api->cfg, args.profile);
    if (!args.validity_given) {
        args.validity_s = bounds.default_validity_s;
    }
    if (args.validity_s > bounds.max_validity_s) {
        rc = WD_E_BAD_VALIDITY;
        goto out;
    }
    rc = pki_csr_parse(args.csr, args.csr_len, &csr);
    if (rc != WD_OK) {
        goto out;
    }
    if (api->cfg.max_sans > 0 && csr->n_sans > api->cfg.max_sans) {
        rc = WD_E_TOO_MANY_NAMES; /* the operator's limit, below pki's */
        goto out;
    }
    if (req->who->role != API_ROLE_ADMIN) {
        /* PRODUCT: a grant covering all names, or nothing is issued */
        uint64_t granted = args.validity_given ? args.validity_s : 0;

        rc = api_grant_check(api->cfg.policy, req->who->row, csr, args.profile,
                             &granted, bad_name, sizeof(bad_name));
        if (rc == WD_OK && !args.validity_given && granted < args.validity_s) {
            args.validity_s = granted; /* the profile default, clipped */
        }
        if (rc == WD_E_NAME_NOT_ALLOWED) {
            snprintf(message, sizeof(message),
                     "%s is outside what this identity may request", bad_name);
        } else if (rc == WD_E_FORBIDDEN) {
            /* PRODUCT: names outside a grant get name_not_allowed */
            rc = WD_E_NAME_NOT_ALLOWED;
            snprintf(message, sizeof(message),
                     "no grant lets this identity request certificates "
                     "with profile %s",
                     pki_profile_name(args.profile));
        }
    }
    if (rc != WD_OK) {
        goto out;
    }
    rc = issue_and_store(api, req, csr, &args, &cert);
    if (rc != WD_OK) {
        goto out;
    }
    log_info("event=issued serial=%s profile=%s not_after=%lld", cert->serial,
             pki_profile_name(cert->profile), (long long)cert->not_after);
    api_metrics_issued(api, cert->profile, false);
    api_send_issued(api, cert, pem, resp);
    snprintf(location, sizeof(location), "/api/v1/certificates/%s",
             cert->serial);
    api_resp_header(resp, "Location", location);
out:
    if (rc != WD_OK) {
        api_error(resp, rc, message[0] != '\0' ? message : NULL);
    }
    pki_cert_free(cert);
    pki_csr_free(csr);
    json_decref(doc);
}
