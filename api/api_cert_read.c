/*
 * Reading the inventory: GET /certificates (a filtered page, newest first,
 * keyset cursor) and GET /certificates/{serial} (one certificate with its
 * status, revocation and PEM).
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
    char cursor[24];
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
    next = json_null();
    if (list.next_cursor > 0) {
        snprintf(cursor, sizeof(cursor), "%" PRId64, list.next_cursor);
        json_decref(next);
        next = json_string(cursor);
    }
    api_json_send(resp, 200,
                  json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
    store_cert_list_free(&list);
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
    o = api_json_cert(row, req->now, api->cfg.expiring_window_s);
    json_object_set_new(o, "certificate", json_string(cert->pem));
    api_json_send(resp, 200, o);
out:
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
    }
    pki_cert_free(cert);
    store_cert_free(row);
}
