/*
 * GET /api/v1/ca: what any client of this CA needs to trust and check it:
 * the chain, the root, the key type and the public URLs.
 */
#include "api_priv.h"

#include <stdio.h>

/* {chain, root, key_type, not_after, crl_url, ocsp_url, ca_issuers_url}. */
void
api_ca_get(struct api *api, const struct api_req *req, const char *arg,
           struct api_resp *resp)
{
    const char *base = pki_ca_public_url(api->ca);

    (void)arg;
    if (req->n_query > 0 || req->query_overflow) {
        api_error(resp, WD_E_BAD_QUERY, NULL);
        return;
    }
    api_json_send(resp, 200,
                  json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "chain",
                            pki_ca_chain_pem(api->ca), "root",
                            pki_ca_root_pem(api->ca), "key_type",
                            pki_ca_key_type(api->ca), "not_after",
                            api_json_time(pki_ca_not_after(api->ca)), "crl_url",
                            json_sprintf("%s/crl", base), "ocsp_url",
                            json_sprintf("%s/ocsp", base), "ca_issuers_url",
                            json_sprintf("%s/intermediate.crt", base)));
}
