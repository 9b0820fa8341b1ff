/*
 * Revocation publishing as one unit for the server: the CRL (api_crl.c)
 * and OCSP (api_ocsp.c) start and stop together.
 */
#include "api_priv.h"

/* Start OCSP first: the CRL worker may flush its cache. */
enum wd_err
api_revocation_start(struct api *api, const struct api_revocation_cfg *cfg,
                     struct pki_ocsp_responder *r, const uint8_t *root_crl,
                     size_t root_len)
{
    enum wd_err rc;

    rc = api_ocsp_start(api, cfg, r);
    if (rc != WD_OK) {
        return rc;
    }
    rc = api_crl_start(api, cfg, root_crl, root_len);
    if (rc != WD_OK) {
        api_ocsp_stop(api);
    }
    return rc;
}

/* Stop the CRL worker, then drop the OCSP state. */
void
api_revocation_stop(struct api *api)
{
    api_crl_stop(api);
    api_ocsp_stop(api);
}
