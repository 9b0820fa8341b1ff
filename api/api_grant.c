/*
 * Who the caller is and what it may issue. srv_http.c asks
 * api_policy_role for the role of each verified client (admin, reader or
 * service, from the config's lists); the issue and renew handlers ask
 * api_grant_check whether a service may have the names of its CSR.
 * Config entries recognise a certificate by its stored row (CN, SANs,
 * fingerprint); name patterns are judged by api_pattern.c.
 */
#include "api_priv.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../server/base/xmalloc.h"

/* Frees what the config parser allocated; a zeroed policy is fine. */
void
api_policy_clear(struct api_policy *p)
{
    size_t i;
    size_t j;

    if (p == NULL) {
        return;
    }
    for (i = 0; i < p->n_grants; i++) {
        for (j = 0; j < p->grants[i].n_names; j++) {
            free(p->grants[i].names[j]);
        }
        free(p->grants[i].names);
    }
    free(p->grants);
    free(p->admins);
    free(p->readers);
    memset(p, 0, sizeof(*p));
}

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of two counted strings. */
static bool
same_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;

    if (alen != blen) {
        return false;
    }
    for (i = 0; i < alen; i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

/* Host names compare without case and without one trailing dot. */
static bool
same_host(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen > 0 && a[alen - 1] == '.') {
        alen--;
    }
    if (blen > 0 && b[blen - 1] == '.') {
        blen--;
    }
    return alen > 0 && same_nocase(a, alen, b, blen);
}

/*
 * Does the SAN column ("DNS:a.example, IP:10.0.0.1, URI:spiffe://x/y",
 * joined by api_record.c) hold a name of type (pki_san_type_name) equal
 * to value? Splitting on ", " is exact: DNS names and IP literals hold no
 * space, and pki_name.c admits emails and URIs of printable ASCII without
 * space only, so no value contains the separator.
 */
static bool
row_has_san(const char *sans, const char *type, const char *value,
            size_t value_len, bool host)
{
    size_t type_len = strlen(type);
    const char *item = sans;

    while (item != NULL && item[0] != '\0') {
        const char *next = strstr(item, ", ");
        size_t len = next != NULL ? (size_t)(next - item) : strlen(item);

        if (len > type_len && memcmp(item, type, type_len) == 0 &&
            item[type_len] == ':') {
            const char *v = item + type_len + 1;
            size_t vlen = len - type_len - 1;

            if (host ? same_host(v, vlen, value, value_len)
                     : (vlen == value_len && memcmp(v, value, vlen) == 0)) {
                return true;
            }
        }
        item = next != NULL ? next + 2 : NULL;
    }
    return false;
}

/*
 * True if m recognises row: by CN or fingerprint (case-insensitive), by
 * any DNS SAN (case-insensitive, one trailing dot ignored) or by any URI
 * SAN (exactly). False for a NULL row, an empty or unterminated value,
 * and a row without the field asked about.
 */
bool
api_match_identity(const struct api_match *m, const struct store_cert *row)
{
    size_t len;

    if (m == NULL || row == NULL) {
        return false;
    }
    len = strnlen(m->value, sizeof(m->value));
    if (len == 0 || len == sizeof(m->value)) {
        return false;
    }
    switch (m->kind) {
    case API_MATCH_CN:
        return row->cn != NULL &&
               same_nocase(row->cn, strlen(row->cn), m->value, len);
    case API_MATCH_DNS:
        return row->sans != NULL &&
               row_has_san(row->sans, pki_san_type_name(PKI_SAN_DNS), m->value,
                           len, true);
    case API_MATCH_URI:
        return row->sans != NULL &&
               row_has_san(row->sans, pki_san_type_name(PKI_SAN_URI), m->value,
                           len, false);
    case API_MATCH_FINGERPRINT:
        return row->fingerprint != NULL &&
               same_nocase(row->fingerprint, strlen(row->fingerprint), m->value,
                           len);
    }
    return false;
}

static void
copy_name(char *name, size_t name_size, const char *value)
{
    if (name != NULL && name_size > 0) {
        snprintf(name, name_size, "%s", value);
    }
}

/*
 * The role of the certificate row: API_ROLE_ADMIN if an admin entry
 * matches (the first one names it), else API_ROLE_READER likewise, else
 * API_ROLE_SERVICE named by its CN, or its serial when the CN is missing
 * or empty. A NULL row is a service named "unknown". name (may be NULL)
 * gets the name, truncated to name_size and NUL-terminated.
 */
enum api_role
api_policy_role(const struct api_policy *p, const struct store_cert *row,
                char *name, size_t name_size)
{
    size_t i;

    if (row == NULL) {
        copy_name(name, name_size, "unknown");
        return API_ROLE_SERVICE;
    }
    for (i = 0; p != NULL && i < p->n_admins; i++) {
        if (api_match_identity(&p->admins[i].match, row)) {
            copy_name(name, name_size, p->admins[i].name);
            return API_ROLE_ADMIN;
        }
    }
    for (i = 0; p != NULL && i < p->n_readers; i++) {
        if (api_match_identity(&p->readers[i].match, row)) {
            copy_name(name, name_size, p->readers[i].name);
            return API_ROLE_READER;
        }
    }
    if (row->cn != NULL && row->cn[0] != '\0') {
        copy_name(name, name_size, row->cn);
    } else if (row->serial[0] != '\0') {
        copy_name(name, name_size, row->serial);
    } else {
        copy_name(name, name_size, "unknown");
    }
    return API_ROLE_SERVICE;
}

/*
 * How a CN is judged: as an IP address when it is an IP literal (the CSR
 * intake turns such a CN into an IP SAN, and clients reading CNs compare
 * it as an address), else as a host name.
 */
static enum pki_san_type
cn_type(const char *cn)
{
    uint8_t ip[16];

    if (inet_pton(AF_INET, cn, ip) == 1 || inet_pton(AF_INET6, cn, ip) == 1) {
        return PKI_SAN_IP;
    }
    return PKI_SAN_DNS;
}

/*
 * Does some applicable grant cover name? *max_s gets the largest
 * max_validity_s among those that do, so the most generous grant counts.
 */
static bool
covered(const struct api_policy *p, const bool *applies, enum pki_san_type t,
        const char *name, uint64_t *max_s)
{
    bool found = false;
    size_t i;
    size_t j;

    *max_s = 0;
    for (i = 0; i < p->n_grants; i++) {
        const struct api_grant *g = &p->grants[i];

        if (!applies[i] || (found && g->max_validity_s <= *max_s)) {
            continue;
        }
        for (j = 0; j < g->n_names; j++) {
            if (api_pattern_matches(g->names[j], t, name)) {
                found = true;
                *max_s = g->max_validity_s;
                break;
            }
        }
    }
    return found;
}

/*
 * May caller, a service, issue csr with profile for validity_s seconds?
 * The grants that apply are those whose `who` recognises caller and that
 * list profile. Every name (the CN, then each SAN) must be covered by one
 * of them, and validity_s may not exceed, for any name, the largest
 * max_validity_s among the grants covering it. Returns WD_OK;
 * WD_E_FORBIDDEN when no grant applies (NULL caller or policy, a profile
 * a grant cannot hold); WD_E_NAME_NOT_ALLOWED when a name is not covered
 * or the CSR names nothing, the first such name copied to bad_name as
 * "DNS:x.other.internal" or "CN:..." (truncated, NUL-terminated; "" when
 * there is none); WD_E_BAD_VALIDITY when *validity_s is too long. A
 * *validity_s of 0 (none asked for) becomes the longest the grants allow.
 * bad_name may be NULL.
 */
enum wd_err
api_grant_check(const struct api_policy *p, const struct store_cert *caller,
                const struct pki_csr *csr, enum pki_profile profile,
                uint64_t *validity_s, char *bad_name, size_t bad_name_size)
{
    bool *applies = NULL;
    bool any = false;
    uint64_t limit = UINT64_MAX;
    uint64_t max_s;
    size_t n_names = 0;
    enum wd_err rc = WD_E_FORBIDDEN;
    size_t i;

    assert(csr != NULL);
    copy_name(bad_name, bad_name_size, "");
    if (p == NULL || caller == NULL || p->n_grants == 0 ||
        (unsigned)profile >= API_N_PROFILES) {
        goto out;
    }
    applies = xcalloc(p->n_grants, sizeof(*applies));
    for (i = 0; i < p->n_grants; i++) {
        applies[i] = p->grants[i].profiles[profile] &&
                     api_match_identity(&p->grants[i].who, caller);
        any = any || applies[i];
    }
    if (!any) {
        goto out;
    }
    rc = WD_E_NAME_NOT_ALLOWED;
    if (csr->cn != NULL && csr->cn[0] != '\0') {
        if (!covered(p, applies, cn_type(csr->cn), csr->cn, &max_s)) {
            if (bad_name != NULL && bad_name_size > 0) {
                snprintf(bad_name, bad_name_size, "CN:%s", csr->cn);
            }
            goto out;
        }
        limit = max_s < limit ? max_s : limit;
        n_names++;
    }
    for (i = 0; i < csr->n_sans; i++) {
        const struct pki_san *san = &csr->sans[i];

        if (!covered(p, applies, san->type, san->value, &max_s)) {
            if (bad_name != NULL && bad_name_size > 0) {
                snprintf(bad_name, bad_name_size, "%s:%s",
                         pki_san_type_name(san->type), san->value);
            }
            goto out;
        }
        limit = max_s < limit ? max_s : limit;
        n_names++;
    }
    if (n_names == 0) {
        goto out;
    }
    if (*validity_s == 0) {
        *validity_s = limit; /* none asked for: the most the grants allow */
    }
    rc = *validity_s <= limit ? WD_OK : WD_E_BAD_VALIDITY;
out:
    free(applies);
    return rc;
}
