/*
 * Profiles: what an issued certificate may be used for, written as its
 * extended key usage (RFC 5280 4.2.1.12) and read back from it. The API
 * names profiles in requests; issuance sets the EKU; pki_cert_parse and
 * the inventory read it.
 */
#include "pki_priv.h"

#include <string.h>

#include "../base/log.h"

static const struct profile_row {
    enum pki_profile profile;
    const char *name;
    bool server; /* id-kp-serverAuth */
    bool client; /* id-kp-clientAuth */
} profiles[] = {
    { PKI_PROFILE_SERVER, "server", true, false },
    { PKI_PROFILE_CLIENT, "client", false, true },
    { PKI_PROFILE_SERVER_CLIENT, "server-client", true, true },
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static const struct profile_row *
find_profile(enum pki_profile p)
{
    size_t i;

    for (i = 0; i < N_PROFILES; i++) {
        if (profiles[i].profile == p) {
            return &profiles[i];
        }
    }
    return NULL;
}

/*
 * The purposes a leaf of profile p carries in its EKU: id-kp-serverAuth
 * (*server) and id-kp-clientAuth (*client). False, with neither set, for
 * a profile a request may not ask for (ocsp-signing included).
 */
bool
pki_profile_purposes(enum pki_profile p, bool *server, bool *client)
{
    const struct profile_row *row = find_profile(p);

    *server = row != NULL && row->server;
    *client = row != NULL && row->client;
    return row != NULL;
}

/*
 * Sets *out to the profile called name ("server", "client",
 * "server-client"): the profiles a request may ask for. Returns false,
 * leaving *out alone, for anything else ("ocsp-signing" included).
 */
bool
pki_profile_parse(const char *name, enum pki_profile *out)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; i < N_PROFILES; i++) {
        if (strcmp(name, profiles[i].name) == 0) {
            *out = profiles[i].profile;
            return true;
        }
    }
    return false;
}

/* The name of p as pki_profile_parse reads it; "unknown" for no profile. */
const char *
pki_profile_name(enum pki_profile p)
{
    const struct profile_row *row = find_profile(p);

    if (p == PKI_PROFILE_OCSP_SIGNING) {
        return "ocsp-signing";
    }
    return row != NULL ? row->name : "unknown";
}

/*
 * The profile crt's EKU amounts to: serverAuth alone is server, clientAuth
 * alone is client, OCSPSigning alone is ocsp-signing, both (or neither,
 * which allows any use) server-client.
 */
enum pki_profile
pki_profile_of_crt(gnutls_x509_crt_t crt)
{
    char oid[128];
    size_t size;
    bool server = false;
    bool client = false;
    bool ocsp = false;
    unsigned i;
    int ret;

    for (i = 0;; i++) {
        size = sizeof(oid);
        ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL);
        if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
            continue; /* an OID too long to be one of ours */
        }
        if (ret < 0) {
            break; /* the end, or no usable EKU */
        }
        if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0) {
            server = true;
        } else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0) {
            client = true;
        } else if (strcmp(oid, GNUTLS_KP_OCSP_SIGNING) == 0) {
            ocsp = true;
        }
    }
    if (ocsp && !server && !client) {
        return PKI_PROFILE_OCSP_SIGNING;
    }
    if (server && !client) {
        return PKI_PROFILE_SERVER;
    }
    if (client && !server) {
        return PKI_PROFILE_CLIENT;
    }
    return PKI_PROFILE_SERVER_CLIENT;
}
