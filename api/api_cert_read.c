/*
 * Reading the inventory: GET /certificates (a filtered page, newest first
 * or by expiry, keyset cursor) and GET /certificates/{serial} (one
 * certificate with its status, revocation, PEM and decoded fields).
 */
#include "api_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/parse.h"
#include "../server/base/xmalloc.h"

/* GET /certificates: {items: [...], next_cursor: "..." | null}. */
void
api_cert_list(struct api *api, const struct api_req *req, const char *arg,
              struct api_resp *resp)
{
    struct store_query q;
    struct store_cert_list list = { 0 };
    json_t *items;
    json_t *next;
    char cursor[API_CURSOR_MAX];
    enum wd_err rc;
    size_t i;

    (void)arg;
    rc = api_query_parse(req, &api->cfg, &q);
    if (rc == WD_OK) {
        rc = store_cert_list(api->store, &q, &list);
    }
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
        return;
    }
    items = json_array();
    for (i = 0; i < list.n; i++) {
        json_array_append_new(items, api_json_cert(&list.items[i], req->now,
                                                   api->cfg.expiring_window_s));
    }
    api_query_cursor(&q, &list, cursor, sizeof(cursor));
    next = cursor[0] != '\0' ? json_string(cursor) : json_null();
    api_json_send(resp, 200,
                  json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
    store_cert_list_free(&list);
}

/* The certificate as a person reads it (the page's detail view). */
static json_t *
decoded_json(const struct pki_cert_info *info)
{
    json_t *sans = json_array();
    json_t *exts = json_array();
    json_t *key;
    size_t i;

    for (i = 0; i < info->n_sans; i++) {
        const char *type = pki_san_type_name(info->sans[i].type);
        size_t len = strlen(type) + 1 + strlen(info->sans[i].value) + 1;
        char *one = xmalloc(len);

        snprintf(one, len, "%s:%s", type, info->sans[i].value);
        json_array_append_new(sans, api_json_text(one));
        free(one);
    }
    for (i = 0; i < info->n_exts; i++) {
        const struct pki_ext_info *e = &info->exts[i];

        json_array_append_new(exts,
                              json_pack("{s:s, s:s, s:b, s:s}", "oid", e->oid,
                                        "name", e->name, "critical",
                                        e->critical, "value", e->value));
    }
    key = json_pack("{s:s, s:I}", "algorithm", info->key_algorithm, "bits",
                    (json_int_t)info->key_bits);
    json_object_set_new(key, "curve",
                        info->key_curve[0] != '\0'
                            ? json_string(info->key_curve)
                            : json_null());
    return json_pack(
        "{s:i, s:o, s:o, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:s, s:s}",
        "version", info->version, "subject", api_json_text(info->subject),
        "issuer", api_json_text(info->issuer), "serial", info->serial,
        "not_before", api_json_time(info->not_before), "not_after",
        api_json_time(info->not_after), "key", key, "signature_algorithm",
        info->signature_algorithm, "sans", sans, "extensions", exts,
        "fingerprint_sha256", info->fingerprint_sha256, "fingerprint_sha1",
        info->fingerprint_sha1);
}

/*
 * GET /certificates/{serial}: the row as JSON plus "certificate" (PEM), or
 * the PEM chain (leaf, intermediate) with Accept:
 * application/pem-certificate-chain.
 */
void
api_cert_get(struct api *api, const struct api_req *req, const char *arg,
             struct api_resp *resp)
{
    struct store_cert *row = NULL;
    struct pki_cert *cert = NULL;
    struct pki_cert_info *info = NULL;
    json_t *o;
    bool pem = false;
    enum wd_err rc;

    if (req->n_query > 0 || req->query_overflow) {
        rc = WD_E_BAD_QUERY;
        goto out;
    }
    if (arg == NULL || !wd_serial_is_valid(arg, strlen(arg))) {
        rc = WD_E_BAD_SERIAL;
        goto out;
    }
    rc = api_accept_pem(req->accept, &pem);
    if (rc != WD_OK) {
        goto out;
    }
    rc = store_cert_get(api->store, arg, &row);
    if (rc != WD_OK) {
        goto out;
    }
    rc = pki_cert_parse(row->der, row->der_len, &cert);
    if (rc != WD_OK) {
        goto out;
    }
    if (pem) {
        size_t len;
        char *body = api_leaf_chain(api->ca, cert->pem, &len);

        api_text_send(resp, 200, "application/pem-certificate-chain", body,
                      len);
        free(body);
        goto out;
    }
    rc = pki_cert_info_get(row->der, row->der_len, &info);
    if (rc != WD_OK) {
        goto out;
    }
    o = api_json_cert(row, req->now, api->cfg.expiring_window_s);
    json_object_set_new(o, "certificate", json_string(cert->pem));
    json_object_set_new(o, "decoded", decoded_json(info));
    api_json_send(resp, 200, o);
out:
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
    }
    pki_cert_info_free(info);
    pki_cert_free(cert);
    store_cert_free(row);
}
