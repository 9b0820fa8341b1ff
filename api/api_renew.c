/*
 * POST /api/v1/renew: a caller renews the certificate it presents. The
 * new certificate keeps the subject, SANs and profile; it keeps the key
 * too unless the body carries a CSR for a new one, whose names must then
 * be exactly the presented certificate's. Validity is the profile's
 * default, or the body's "validity" within the profile's maximum.
 */
#include "api_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/xmalloc.h"

/* The longest validity a body may name before the profile bound. */
#define RENEW_MAX_VALIDITY_S (100ULL * 366 * 86400)
#define RENEW_SERIAL_TRIES 3

struct renew_args {
    const uint8_t *csr; /* NULL: keep the key */
    size_t csr_len;
    uint64_t validity_s; /* 0: the profile's default */
};

/* Body: empty, a raw CSR, or JSON {"csr"?, "validity"?}. */
static enum wd_err
parse_body(const struct api_req *req, struct renew_args *args, json_t **doc)
{
    char type[96];
    json_error_t jerr;
    const char *csr = NULL;
    size_t csr_len = 0;
    const char *validity = NULL;

    memset(args, 0, sizeof(*args));
    if (req->body_len == 0) {
        return WD_OK;
    }
    api_media_type(req->content_type, type, sizeof(type));
    if (strcmp(type, "application/json") != 0) {
        args->csr = req->body; /* PEM or DER, as for issuance */
        args->csr_len = req->body_len;
        return WD_OK;
    }
    *doc = json_loadb((const char *)req->body, req->body_len,
                      JSON_REJECT_DUPLICATES, &jerr);
    if (*doc == NULL) {
        return WD_E_JSON_SYNTAX;
    }
    if (json_unpack_ex(*doc, &jerr, JSON_STRICT, "{s?s%, s?s}", "csr", &csr,
                       &csr_len, "validity", &validity) != 0) {
        return WD_E_JSON_FIELDS;
    }
    if (validity != NULL &&
        !wd_parse_duration(validity, RENEW_MAX_VALIDITY_S, &args->validity_s)) {
        return WD_E_BAD_VALIDITY;
    }
    args->csr = (const uint8_t *)csr;
    args->csr_len = csr_len;
    return WD_OK;
}

/* Is "TYPE:value" one of the ", "-joined SANs of the stored row? */
static bool
has_san(const char *joined, const char *type, const char *value)
{
    size_t tlen = strlen(type);
    size_t vlen = strlen(value);
    const char *p = joined;

    while (p != NULL && *p != '\0') {
        const char *end = strstr(p, ", ");
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (len == tlen + 1 + vlen && strncmp(p, type, tlen) == 0 &&
            p[tlen] == ':' && strncmp(p + tlen + 1, value, vlen) == 0) {
            return true;
        }
        p = end != NULL ? end + 2 : NULL;
    }
    return false;
}

static size_t
count_sans(const char *joined)
{
    size_t n = 0;
    const char *p = joined;

    if (joined == NULL || joined[0] == '\0') {
        return 0;
    }
    for (n = 1; (p = strstr(p, ", ")) != NULL; p += 2) {
        n++;
    }
    return n;
}

/* A rekey CSR must name exactly what the presented certificate names. */
static bool
same_names(const struct pki_csr *csr, const struct store_cert *row)
{
    size_t i;

    if ((csr->cn == NULL) != (row->cn == NULL) ||
        (csr->cn != NULL && strcmp(csr->cn, row->cn) != 0) ||
        csr->n_sans != count_sans(row->sans)) {
        return false;
    }
    for (i = 0; i < csr->n_sans; i++) {
        if (!has_san(row->sans, pki_san_type_name(csr->sans[i].type),
                     csr->sans[i].value)) {
            return false;
        }
    }
    return true;
}

/* Sign (same key or the CSR's) and commit with a "renew" audit event. */
static enum wd_err
renew_and_store(struct api *api, const struct api_req *req,
                const struct pki_csr *csr, enum pki_profile profile,
                uint64_t validity_s, struct pki_cert **out)
{
    const struct store_cert *old = req->who->row;
    struct pki_cert *cert = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    char detail[80];
    enum wd_err rc = WD_E_CONFLICT;
    int tries;

    snprintf(detail, sizeof(detail), "renews %s%s", old->serial,
             csr != NULL ? " with a new key" : "");
    for (tries = 0; tries < RENEW_SERIAL_TRIES && rc == WD_E_CONFLICT;
         tries++) {
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
        if (csr != NULL) {
            struct pki_issue issue = {
                .csr = csr,
                .profile = profile,
                .serial = serial,
                .validity_s = validity_s,
                .now = req->now,
            };

            rc = pki_cert_issue(api->ca, &issue, &cert);
        } else {
            rc = pki_cert_renew(api->ca, old->der, old->der_len, profile,
                                serial, validity_s, req->now, &cert);
        }
        api_sign_end(api);
        if (rc == WD_OK) {
            rc = api_cert_record_as(api->store, cert, req->who->name, req->now,
                                    "renew", detail);
        }
    }
    if (rc == WD_OK) {
        *out = cert;
        cert = NULL;
    }
    pki_cert_free(cert);
    return rc;
}

/* POST /renew: 201 with the new certificate, as for issuance. */
void
api_renew(struct api *api, const struct api_req *req, const char *arg,
          struct api_resp *resp)
{
    const struct store_cert *old = req->who->row;
    struct renew_args args;
    struct api_profile_policy bounds;
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    json_t *doc = NULL;
    enum pki_profile profile;
    char location[80];
    bool pem = false;
    enum wd_err rc;

    (void)arg;
    if (req->n_query > 0 || req->query_overflow) {
        rc = WD_E_BAD_QUERY;
        goto out;
    }
    if (old == NULL || !pki_profile_parse(old->profile, &profile)) {
        /* e.g. our own OCSP responder: not something a caller renews */
        rc = WD_E_FORBIDDEN;
        goto out;
    }
    rc = api_accept_pem(req->accept, &pem);
    if (rc == WD_OK) {
        rc = parse_body(req, &args, &doc);
    }
    if (rc != WD_OK) {
        goto out;
    }
    bounds = api_profile_bounds(&api->cfg, profile);
    if (args.validity_s == 0) {
        args.validity_s = bounds.default_validity_s;
    }
    if (args.validity_s > bounds.max_validity_s) {
        rc = WD_E_BAD_VALIDITY;
        goto out;
    }
    if (args.csr != NULL) {
        rc = pki_csr_parse(args.csr, args.csr_len, &csr);
        if (rc == WD_OK && !same_names(csr, old)) {
            rc = WD_E_NAME_NOT_ALLOWED;
        }
        if (rc != WD_OK) {
            goto out;
        }
    }
    rc = renew_and_store(api, req, csr, profile, args.validity_s, &cert);
    if (rc != WD_OK) {
        goto out;
    }
    log_info("event=renewed serial=%s from=%s", cert->serial, old->serial);
    api_metrics_issued(api, cert->profile, true);
    api_send_issued(api, cert, pem, resp);
    snprintf(location, sizeof(location), "/api/v1/certificates/%s",
             cert->serial);
    api_resp_header(resp, "Location", location);
out:
    if (rc != WD_OK) {
        api_error(resp, rc,
                  rc == WD_E_NAME_NOT_ALLOWED
                      ? "a renewal CSR must name exactly the names of the "
                        "certificate being renewed"
                      : NULL);
    }
    pki_cert_free(cert);
    pki_csr_free(csr);
    json_decref(doc);
}
