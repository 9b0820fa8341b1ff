/*
 * From an issued certificate to its inventory row: the one mapping used by
 * the issue handler and by init (which records the daemon's and the
 * admin's own certificates).
 */
#include "api_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/xmalloc.h"

/* "DNS:a, IP:b": the store's searchable, displayable SAN column
 * (api_priv.h). Caller frees. */
char *
api_cert_sans_join(const struct pki_cert *cert)
{
    size_t cap = 1;
    size_t i;
    char *out;

    for (i = 0; i < cert->n_sans; i++) {
        cap += strlen(pki_san_type_name(cert->sans[i].type)) + 1 +
               strlen(cert->sans[i].value) + 2;
    }
    out = xmalloc(cap);
    out[0] = '\0';
    for (i = 0; i < cert->n_sans; i++) {
        if (i > 0) {
            strcat(out, ", ");
        }
        strcat(out, pki_san_type_name(cert->sans[i].type));
        strcat(out, ":");
        strcat(out, cert->sans[i].value);
    }
    return out;
}

/* Commit cert as an "issue" (api.h). */
enum wd_err
api_cert_record(struct store *st, const struct pki_cert *cert,
                const char *requester, time_t now)
{
    return api_cert_record_as(st, cert, requester, now, "issue", NULL);
}

/*
 * Commit cert with its audit event (action, detail) in one transaction;
 * WD_E_CONFLICT if the serial is taken. The row only borrows from cert.
 */
enum wd_err
api_cert_record_as(struct store *st, const struct pki_cert *cert,
                   const char *requester, time_t now, const char *action,
                   const char *detail)
{
    struct store_cert row = { 0 };
    char *requester_copy = xstrdup(requester);
    char *profile = xstrdup(pki_profile_name(cert->profile));
    enum wd_err rc;

    memcpy(row.serial, cert->serial, sizeof(row.serial));
    row.der = cert->der;
    row.der_len = cert->der_len;
    row.subject = cert->subject;
    row.cn = cert->cn;
    row.sans = api_cert_sans_join(cert);
    /* store_cert_insert only reads the row */
    row.key_type = (char *)cert->key_type;
    row.profile = profile;
    row.requester = requester_copy;
    row.fingerprint = (char *)cert->fingerprint;
    row.not_before = cert->not_before;
    row.not_after = cert->not_after;
    row.issued_at = now;
    rc = store_cert_insert_audited(st, &row, requester, action, detail);
    free(row.sans);
    free(profile);
    free(requester_copy);
    return rc;
}
