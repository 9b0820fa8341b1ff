/*
 * The root's CRL (root.crl): signed by init while the root key is at hand
 * and re-signed by `warden root-crl` with the offline key, e.g. after an
 * intermediate is revoked. The daemon only serves it (/root.crl and
 * /crls.pem) and reloads it on SIGHUP.
 */
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* A root CRL with many thousands of entries would be a different CA. */
#define ROOT_CRL_MAX_BYTES (4 * 1024 * 1024)

enum wd_err
srv_root_crl_sign(const char *dir, struct store *st, const char *root_pem,
                  const char *root_key_pem,
                  const struct srv_root_revocation *add, size_t n_add,
                  uint64_t validity_s, time_t now, uint64_t *number)
{
    struct pki_crl_info old = { 0 };
    struct pki_crl_builder *b = NULL;
    struct pki_crl_params params;
    char *old_der = NULL;
    size_t old_len = 0;
    uint8_t *der = NULL;
    size_t der_len = 0;
    int64_t n;
    size_t i;
    enum wd_err rc = WD_OK;

    if (srv_file_exists(dir, SRV_FILE_ROOT_CRL)) {
        rc = srv_file_read(dir, SRV_FILE_ROOT_CRL, ROOT_CRL_MAX_BYTES, &old_der,
                           &old_len);
        if (rc == WD_OK) {
            rc =
                pki_crl_read((const uint8_t *)old_der, old_len, root_pem, &old);
        }
        if (rc != WD_OK) {
            goto out;
        }
    }
    rc = store_counter_next(st, "root_crl_number", &n);
    if (rc != WD_OK) {
        goto out;
    }
    params.number = (uint64_t)n;
    params.this_update = now;
    params.next_update = now + (time_t)validity_s;
    rc = pki_crl_begin_with_key(root_pem, root_key_pem, &params, &b);
    for (i = 0; rc == WD_OK && i < old.n_entries; i++) {
        rc = pki_crl_add(b, old.entries[i].serial, old.entries[i].revoked_at,
                         old.entries[i].reason);
    }
    for (i = 0; rc == WD_OK && i < n_add; i++) {
        rc = pki_crl_add(b, add[i].serial, now, add[i].reason);
    }
    if (rc != WD_OK) {
        goto out;
    }
    rc = pki_crl_finish(b, &der, &der_len);
    b = NULL;
    if (rc == WD_OK) {
        rc = srv_file_replace(dir, SRV_FILE_ROOT_CRL, der, der_len, 0644);
    }
    if (rc == WD_OK) {
        *number = params.number;
        log_info("event=root_crl_signed number=%llu entries=%zu",
                 (unsigned long long)params.number, old.n_entries + n_add);
    }
out:
    pki_crl_abort(b);
    pki_crl_info_clear(&old);
    free(old_der);
    free(der);
    return rc;
}
