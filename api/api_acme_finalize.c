/*
 * ACME finalization and certificate download (RFC 8555 7.4, 7.4.2): a
 * ready order's CSR, whose names must be exactly the order's identifiers,
 * is signed like any issuance (a signing slot, a fresh serial) and
 * committed with the order in one transaction before the answer, so a
 * certificate a client can download is always in the inventory. The
 * issuance is synchronous: the answer is the order, valid.
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* A serial collision of 128 random bits is never expected; bound retries. */
#define SERIAL_TRIES 3

/* Is the SAN s one of the order's identifiers? */
static bool
in_order(const struct store_acme_order *o, const struct pki_san *s)
{
    size_t i;

    for (i = 0; i < o->n_authzs; i++) {
        const struct store_acme_authz *z = &o->authzs[i];
        const char *v = s->value;

        if (s->type == PKI_SAN_DNS && z->ident_type == STORE_ACME_IDENT_DNS) {
            if (z->wildcard != (v[0] == '*')) {
                continue;
            }
            if (strcmp(z->wildcard ? v + 2 : v, z->ident_value) == 0) {
                return true;
            }
        } else if (s->type == PKI_SAN_IP &&
                   z->ident_type == STORE_ACME_IDENT_IP &&
                   strcmp(v, z->ident_value) == 0) {
            return true;
        }
    }
    return false;
}

/* Does the CSR name the identifier z? */
static bool
in_csr(const struct pki_csr *csr, const struct store_acme_authz *z)
{
    size_t i;

    for (i = 0; i < csr->n_sans; i++) {
        const char *v = csr->sans[i].value;

        if (z->ident_type == STORE_ACME_IDENT_DNS &&
            csr->sans[i].type == PKI_SAN_DNS && z->wildcard == (v[0] == '*') &&
            strcmp(z->wildcard ? v + 2 : v, z->ident_value) == 0) {
            return true;
        }
        if (z->ident_type == STORE_ACME_IDENT_IP &&
            csr->sans[i].type == PKI_SAN_IP && strcmp(v, z->ident_value) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * RFC 8555 7.4: the CSR asks for exactly the order's identifiers: every
 * SAN is one, every one is a SAN, and a CN, if any, is one of them.
 * NULL if so, else why not.
 */
static const char *
names_match(const struct store_acme_order *o, const struct pki_csr *csr)
{
    size_t i;

    for (i = 0; i < csr->n_sans; i++) {
        if (!in_order(o, &csr->sans[i])) {
            return "the CSR names an identifier the order does not have";
        }
    }
    for (i = 0; i < o->n_authzs; i++) {
        if (!in_csr(csr, &o->authzs[i])) {
            return "the CSR lacks an identifier of the order";
        }
    }
    if (csr->cn != NULL) {
        struct pki_san cn = { PKI_SAN_DNS, csr->cn };
        bool ok = false;

        for (i = 0; i < csr->n_sans && !ok; i++) {
            ok = strcasecmp(csr->sans[i].value, csr->cn) == 0;
        }
        if (!ok && !in_order(o, &cn)) {
            return "the CSR's CN is not one of the order's identifiers";
        }
    }
    return NULL;
}

/* The certificate's inventory row, borrowing from cert. Caller frees
 * row->sans and row->profile. */
static void
row_fill(const struct pki_cert *cert, int64_t now, struct store_cert *row)
{
    memset(row, 0, sizeof(*row));
    memcpy(row->serial, cert->serial, sizeof(row->serial));
    row->der = cert->der;
    row->der_len = cert->der_len;
    row->subject = cert->subject;
    row->cn = cert->cn;
    row->sans = api_cert_sans_join(cert);
    /* the store only reads the row */
    row->key_type = (char *)cert->key_type;
    row->profile = xstrdup(pki_profile_name(cert->profile));
    row->requester = (char *)"acme"; /* the store puts the account here */
    row->fingerprint = (char *)cert->fingerprint;
    row->not_before = cert->not_before;
    row->not_after = cert->not_after;
    row->issued_at = now;
}

/*
 * Sign csr for order o (processing) and commit it with the order, with
 * a fresh serial each try. WD_OK once the order is valid.
 */
static enum wd_err
issue(struct api_acme *a, const struct api_req *req,
      const struct store_acme_order *o, const struct pki_csr *csr)
{
    struct pki_cert *cert = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    uint64_t validity = a->cert_validity_s;
    enum wd_err rc = WD_E_CONFLICT;
    int tries;

    if (o->not_after != 0) {
        if (o->not_after <= (int64_t)req->now) {
            return WD_E_BAD_VALIDITY;
        }
        if ((uint64_t)(o->not_after - req->now) < validity) {
            validity = (uint64_t)(o->not_after - req->now);
        }
    }
    for (tries = 0; tries < SERIAL_TRIES && rc == WD_E_CONFLICT; tries++) {
        struct pki_issue is = {
            .csr = csr,
            .profile = PKI_PROFILE_SERVER,
            .serial = serial,
            .validity_s = validity,
            .now = req->now,
        };
        struct store_cert row;

        pki_cert_free(cert);
        cert = NULL;
        rc = pki_serial_new(serial);
        if (rc != WD_OK) {
            break;
        }
        rc = api_sign_begin(a->api);
        if (rc != WD_OK) {
            break;
        }
        rc = pki_cert_issue(a->api->ca, &is, &cert);
        api_sign_end(a->api);
        if (rc != WD_OK) {
            break;
        }
        row_fill(cert, req->now, &row);
        rc = store_acme_order_finalize_done(a->api->store, o->oid, &row);
        free(row.sans);
        free(row.profile);
        if (rc == WD_E_CONFLICT) {
            log_warn("event=serial_collision serial=%s", cert->serial);
        }
    }
    if (rc == WD_OK) {
        log_info("event=issued serial=%s profile=server acme_order=%s "
                 "not_after=%lld",
                 cert->serial, o->oid, (long long)cert->not_after);
        api_metrics_issued(a->api, PKI_PROFILE_SERVER, false);
    }
    pki_cert_free(cert);
    return rc;
}

/* The CSR of a finalize payload {"csr": base64url DER}. */
static enum wd_err
csr_parse(const struct api_acme_jws *jws, struct pki_csr **out,
          struct api_resp *resp)
{
    const char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    uint8_t *der = NULL;
    size_t der_len = 0;
    enum wd_err rc;

    if (jws->post_as_get || json_unpack_ex(jws->payload, &jerr, JSON_STRICT,
                                           "{s:s%}", "csr", &text, &len) != 0) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "finalize takes {\"csr\": base64url DER}", NULL);
        return WD_E_JSON_FIELDS;
    }
    rc = pki_b64url_decode(text, len, &der, &der_len);
    if (rc != WD_OK) {
        api_acme_problem_send(resp, API_ACME_P_BAD_CSR, 0,
                              "csr is not base64url", NULL);
        return rc;
    }
    if (der_len > WD_MAX_CSR_BYTES) {
        rc = WD_E_TOO_LARGE;
        api_acme_problem_send(resp, API_ACME_P_BAD_CSR, 0, "csr is too large",
                              NULL);
    } else {
        rc = pki_csr_parse(der, der_len, out);
        if (rc != WD_OK) {
            api_acme_problem_send(resp, API_ACME_P_BAD_CSR, 0, wd_err_str(rc),
                                  NULL);
        }
    }
    free(der);
    return rc;
}

/*
 * POST /acme/order/{oid}/finalize (RFC 8555 7.4): a ready order and a CSR
 * for exactly its identifiers give a certificate; the answer is the
 * order, valid, with its certificate URL.
 */
void
api_acme_order_finalize(struct api_acme *a, const struct api_req *req,
                        const struct api_acme_jws *jws, const char *arg,
                        struct api_resp *resp)
{
    struct store_acme_order *o = NULL;
    struct pki_csr *csr = NULL;
    const char *why;
    char *problem = NULL;
    enum wd_err rc;

    rc = store_acme_order_get(a->api->store, arg, &o);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc,
                             rc == WD_E_NOT_FOUND ? "no such order" : NULL);
        goto out;
    }
    if (!api_acme_owns(jws, o->account_id, resp)) {
        goto out;
    }
    if (api_acme_order_status(o, req->now) != STORE_ACME_READY) {
        api_acme_problem_send(resp, API_ACME_P_ORDER_NOT_READY, 0,
                              "the order is not ready", NULL);
        goto out;
    }
    if (csr_parse(jws, &csr, resp) != WD_OK) {
        goto out;
    }
    why = names_match(o, csr);
    if (why != NULL) {
        api_acme_problem_send(resp, API_ACME_P_BAD_CSR, 0, why, NULL);
        goto out;
    }
    rc = store_acme_order_finalize_begin(a->api->store, arg, req->now);
    if (rc != WD_OK) {
        if (rc == WD_E_CONFLICT) {
            api_acme_problem_send(resp, API_ACME_P_ORDER_NOT_READY, 0,
                                  "the order is not ready", NULL);
        } else {
            api_acme_problem_err(resp, rc, NULL);
        }
        goto out;
    }
    rc = issue(a, req, o, csr);
    if (rc != WD_OK) {
        /* the order cannot go back to ready: RFC 8555 7.1.6 ends it */
        problem = api_acme_problem_text(API_ACME_P_SERVER_INTERNAL,
                                        "the certificate could not be issued");
        if (store_acme_order_finalize_fail(a->api->store, arg, problem,
                                           req->now) != WD_OK) {
            log_err("event=acme_finalize_fail_lost oid=%s", arg);
        }
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    store_acme_order_free(o);
    o = NULL;
    rc = store_acme_order_get(a->api->store, arg, &o);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    api_acme_order_send(a, o, 200, req->now, resp);
out:
    free(problem);
    pki_csr_free(csr);
    store_acme_order_free(o);
}

/*
 * POST-as-GET /acme/cert/{oid} (RFC 8555 7.4.2): the certificate of a
 * valid order of this account as application/pem-certificate-chain, the
 * leaf then the intermediate.
 */
void
api_acme_cert_get(struct api_acme *a, const struct api_req *req,
                  const struct api_acme_jws *jws, const char *arg,
                  struct api_resp *resp)
{
    struct store_acme_order *o = NULL;
    struct store_cert *row = NULL;
    char *pem = NULL;
    char *chain = NULL;
    size_t len = 0;
    enum wd_err rc;

    (void)req;
    if (!jws->post_as_get) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "a certificate is read with POST-as-GET", NULL);
        return;
    }
    rc = store_acme_order_get(a->api->store, arg, &o);
    if (rc != WD_OK) {
        api_acme_problem_err(
            resp, rc, rc == WD_E_NOT_FOUND ? "no such certificate" : NULL);
        goto out;
    }
    if (!api_acme_owns(jws, o->account_id, resp)) {
        goto out;
    }
    if (o->status != STORE_ACME_VALID || o->certificate_serial[0] == '\0') {
        api_acme_problem_err(resp, WD_E_NOT_FOUND, "no such certificate");
        goto out;
    }
    rc = store_cert_get(a->api->store, o->certificate_serial, &row);
    if (rc == WD_OK) {
        rc = pki_der_to_pem("CERTIFICATE", row->der, row->der_len, &pem);
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    chain = api_leaf_chain(a->api->ca, pem, &len);
    api_text_send(resp, 200, "application/pem-certificate-chain", chain, len);
out:
    free(chain);
    free(pem);
    store_cert_free(row);
    store_acme_order_free(o);
}
