/*
 * The certificate detail view: any DER X.509 certificate (a leaf we
 * issued, the root, the intermediate, a responder's) decoded into struct
 * pki_cert_info for the inventory page. Every extension is listed in the
 * order it appears; the known ones are rendered as text close to what
 * `openssl x509 -text` prints, the others and any that do not decode as
 * hex. People read all of it, so text taken from the certificate that
 * holds a NUL is refused rather than shown cut short.
 */
#include "pki_priv.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/log.h"
#include "../base/parse.h"
#include "../base/xmalloc.h"

/* Longest text shown for one extension. Ours are all far shorter; past
 * this a value (say a large unknown extension as hex) is cut and ends in
 * "...": the page only shows it, nothing parses it back. */
#define VALUE_MAX 4096

/* RFC 5280 4.2.2.1 access methods. */
#define OID_AD_OCSP "1.3.6.1.5.5.7.48.1"
#define OID_AD_CA_ISSUERS "1.3.6.1.5.5.7.48.2"
#define OID_AD_CA_REPOSITORY "1.3.6.1.5.5.7.48.5"
#define OID_AD_TIME_STAMPING "1.3.6.1.5.5.7.48.3"

/* RFC 6960 4.2.2.2.1 id-pkix-ocsp-nocheck; its value is a DER NULL. */
#define OID_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"

/* One extension's value as it is written; never more than VALUE_MAX. */
struct text {
    char buf[VALUE_MAX + 1];
    size_t len;
    bool cut; /* something did not fit */
};

/* How rendering one extension's value ended. */
enum render {
    RENDER_OK,
    RENDER_HEX, /* the value does not decode as its OID says: show hex */
    RENDER_NUL, /* a name in it holds a NUL: refuse the certificate */
};

static void
text_add(struct text *t, const char *s, size_t n)
{
    size_t room = VALUE_MAX - t->len;

    if (n > room) {
        n = room;
        t->cut = true;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void
text_str(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* Bytes from the certificate as text; RENDER_NUL if they hold a NUL. */
static enum render
text_cert(struct text *t, const void *s, size_t n)
{
    if (n == 0) {
        return RENDER_OK;
    }
    if (memchr(s, '\0', n) != NULL) {
        return RENDER_NUL;
    }
    text_add(t, s, n);
    return RENDER_OK;
}

/* The text as a string the caller frees, "..." ending a cut one. */
static char *
text_take(struct text *t)
{
    if (t->cut) {
        memcpy(t->buf + t->len - 3, "...", 3);
    }
    return xstrndup(t->buf, t->len);
}

/* Lowercase hex without separators, as fingerprints and serials read. */
static void
text_hex(struct text *t, const uint8_t *p, size_t n)
{
    char two[3];
    size_t i;

    for (i = 0; i < n && !t->cut; i++) {
        wd_hex_encode(p + i, 1, two);
        text_add(t, two, 2);
    }
}

/* "AB:CD:..." as openssl prints key identifiers. */
static void
text_key_id(struct text *t, const uint8_t *p, size_t n)
{
    char three[4];
    size_t i;

    for (i = 0; i < n && !t->cut; i++) {
        snprintf(three, sizeof(three), i + 1 < n ? "%02X:" : "%02X", p[i]);
        text_str(t, three);
    }
}

/*
 * An address (4 or 16 bytes) or, in name constraints, an address and
 * its mask (8 or 32 bytes) as "10.0.0.0/255.0.0.0"; hex for any other
 * length.
 */
static void
text_ip(struct text *t, const uint8_t *p, size_t n)
{
    char addr[INET6_ADDRSTRLEN];
    char mask[INET6_ADDRSTRLEN];
    bool ranged = n == 8 || n == 32;
    int af = (n == 4 || n == 8) ? AF_INET : AF_INET6;

    if ((n != 4 && n != 16 && !ranged) ||
        inet_ntop(af, p, addr, sizeof(addr)) == NULL ||
        (ranged && inet_ntop(af, p + n / 2, mask, sizeof(mask)) == NULL)) {
        text_hex(t, p, n);
        return;
    }
    text_str(t, addr);
    if (ranged) {
        text_str(t, "/");
        text_str(t, mask);
    }
}

/* One GeneralName (RFC 5280 4.2.1.6) as openssl writes it. */
static enum render
text_general_name(struct text *t, unsigned type, const gnutls_datum_t *d)
{
    switch (type) {
    case GNUTLS_SAN_DNSNAME:
        text_str(t, "DNS:");
        return text_cert(t, d->data, d->size);
    case GNUTLS_SAN_RFC822NAME:
        text_str(t, "email:");
        return text_cert(t, d->data, d->size);
    case GNUTLS_SAN_URI:
        text_str(t, "URI:");
        return text_cert(t, d->data, d->size);
    case GNUTLS_SAN_IPADDRESS:
        text_str(t, "IP:");
        text_ip(t, d->data, d->size);
        return RENDER_OK;
    case GNUTLS_SAN_DN: /* GnuTLS hands it over as RFC 4514 text */
        text_str(t, "DirName:");
        return text_cert(t, d->data, d->size);
    case GNUTLS_SAN_REGISTERED_ID:
        text_str(t, "RID:");
        return text_cert(t, d->data, d->size);
    default:
        text_str(t, "othername:<unsupported>");
        return RENDER_OK;
    }
}

/* RFC 5280 4.2.1.9: "CA:TRUE, pathlen:0", "CA:TRUE" or "CA:FALSE". */
static enum render
render_basic_constraints(const gnutls_datum_t *v, struct text *t)
{
    char buf[32];
    unsigned ca = 0;
    int pathlen = -1;

    if (gnutls_x509_ext_import_basic_constraints(v, &ca, &pathlen) < 0) {
        return RENDER_HEX;
    }
    text_str(t, ca ? "CA:TRUE" : "CA:FALSE");
    if (ca && pathlen >= 0) {
        snprintf(buf, sizeof(buf), ", pathlen:%d", pathlen);
        text_str(t, buf);
    }
    return RENDER_OK;
}

/* RFC 5280 4.2.1.3, bits in the order the RFC lists them. */
static const struct usage_row {
    unsigned bit;
    const char *name;
} usages[] = {
    { GNUTLS_KEY_DIGITAL_SIGNATURE, "digitalSignature" },
    { GNUTLS_KEY_NON_REPUDIATION, "nonRepudiation" },
    { GNUTLS_KEY_KEY_ENCIPHERMENT, "keyEncipherment" },
    { GNUTLS_KEY_DATA_ENCIPHERMENT, "dataEncipherment" },
    { GNUTLS_KEY_KEY_AGREEMENT, "keyAgreement" },
    { GNUTLS_KEY_KEY_CERT_SIGN, "keyCertSign" },
    { GNUTLS_KEY_CRL_SIGN, "cRLSign" },
    { GNUTLS_KEY_ENCIPHER_ONLY, "encipherOnly" },
    { GNUTLS_KEY_DECIPHER_ONLY, "decipherOnly" },
};

#define N_USAGES (sizeof(usages) / sizeof(usages[0]))

/* "digitalSignature, keyEncipherment". */
static enum render
render_key_usage(const gnutls_datum_t *v, struct text *t)
{
    unsigned bits = 0;
    bool first = true;
    size_t i;

    if (gnutls_x509_ext_import_key_usage(v, &bits) < 0) {
        return RENDER_HEX;
    }
    for (i = 0; i < N_USAGES; i++) {
        if (bits & usages[i].bit) {
            text_str(t, first ? "" : ", ");
            text_str(t, usages[i].name);
            first = false;
        }
    }
    return RENDER_OK;
}

/* RFC 5280 4.2.1.12 and the purposes GnuTLS knows. */
static const struct purpose_row {
    const char *oid;
    const char *name;
} purposes[] = {
    { GNUTLS_KP_TLS_WWW_SERVER, "serverAuth" },
    { GNUTLS_KP_TLS_WWW_CLIENT, "clientAuth" },
    { GNUTLS_KP_CODE_SIGNING, "codeSigning" },
    { GNUTLS_KP_EMAIL_PROTECTION, "emailProtection" },
    { GNUTLS_KP_TIME_STAMPING, "timeStamping" },
    { GNUTLS_KP_OCSP_SIGNING, "OCSPSigning" },
    { GNUTLS_KP_IPSEC_IKE, "ipsecIKE" },
    { GNUTLS_KP_MS_SMART_CARD_LOGON, "msSmartcardLogin" },
    { GNUTLS_KP_ANY, "anyExtendedKeyUsage" },
};

#define N_PURPOSES (sizeof(purposes) / sizeof(purposes[0]))

/* A purpose's name, or its OID when it has none here. */
static enum render
text_purpose(struct text *t, const gnutls_datum_t *oid)
{
    size_t i;

    for (i = 0; i < N_PURPOSES; i++) {
        if (strlen(purposes[i].oid) == oid->size &&
            memcmp(purposes[i].oid, oid->data, oid->size) == 0) {
            text_str(t, purposes[i].name);
            return RENDER_OK;
        }
    }
    return text_cert(t, oid->data, oid->size);
}

/* "serverAuth, clientAuth"; an unknown purpose as its OID. */
static enum render
render_key_purposes(const gnutls_datum_t *v, struct text *t)
{
    gnutls_x509_key_purposes_t kp = NULL;
    gnutls_datum_t oid;
    enum render r = RENDER_HEX;
    unsigned i;
    int ret;

    if (gnutls_x509_key_purpose_init(&kp) < 0 ||
        gnutls_x509_ext_import_key_purposes(v, kp, 0) < 0) {
        goto out;
    }
    r = RENDER_OK;
    for (i = 0; r == RENDER_OK; i++) {
        ret = gnutls_x509_key_purpose_get(kp, i, &oid);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            r = RENDER_HEX;
            break;
        }
        text_str(t, i == 0 ? "" : ", ");
        r = text_purpose(t, &oid);
    }
out:
    if (kp != NULL) {
        gnutls_x509_key_purpose_deinit(kp);
    }
    return r;
}

/* SAN and issuerAltName: "DNS:a.example, IP:10.0.0.1". */
static enum render
render_general_names(const gnutls_datum_t *v, struct text *t)
{
    gnutls_subject_alt_names_t names = NULL;
    gnutls_datum_t d;
    enum render r = RENDER_HEX;
    unsigned type;
    unsigned i;
    int ret;

    if (gnutls_subject_alt_names_init(&names) < 0 ||
        gnutls_x509_ext_import_subject_alt_names(v, names, 0) < 0) {
        goto out;
    }
    r = RENDER_OK;
    for (i = 0; r == RENDER_OK; i++) {
        ret = gnutls_subject_alt_names_get(names, i, &type, &d, NULL);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            r = RENDER_HEX;
            break;
        }
        text_str(t, i == 0 ? "" : ", ");
        r = text_general_name(t, type, &d);
    }
out:
    if (names != NULL) {
        gnutls_subject_alt_names_deinit(names);
    }
    return r;
}

/* RFC 5280 4.2.1.2: the key identifier as "AB:CD:...". */
static enum render
render_subject_key_id(const gnutls_datum_t *v, struct text *t)
{
    gnutls_datum_t id = { NULL, 0 };

    if (gnutls_x509_ext_import_subject_key_id(v, &id) < 0) {
        return RENDER_HEX;
    }
    text_key_id(t, id.data, id.size);
    gnutls_free(id.data);
    return RENDER_OK;
}

/* RFC 5280 4.2.1.1: the keyIdentifier; hex when only issuer and serial
 * identify the key. */
static enum render
render_authority_key_id(const gnutls_datum_t *v, struct text *t)
{
    gnutls_x509_aki_t aki = NULL;
    gnutls_datum_t id;
    enum render r = RENDER_HEX;

    if (gnutls_x509_aki_init(&aki) < 0 ||
        gnutls_x509_ext_import_authority_key_id(v, aki, 0) < 0 ||
        gnutls_x509_aki_get_id(aki, &id) < 0) {
        goto out;
    }
    text_key_id(t, id.data, id.size);
    r = RENDER_OK;
out:
    if (aki != NULL) {
        gnutls_x509_aki_deinit(aki);
    }
    return r;
}

/* RFC 5280 4.2.1.13 (and freshestCRL): "URI:http://.../crl". */
static enum render
render_crl_dist_points(const gnutls_datum_t *v, struct text *t)
{
    gnutls_x509_crl_dist_points_t dp = NULL;
    gnutls_datum_t d;
    enum render r = RENDER_HEX;
    unsigned type;
    unsigned reasons;
    unsigned i;
    int ret;

    if (gnutls_x509_crl_dist_points_init(&dp) < 0 ||
        gnutls_x509_ext_import_crl_dist_points(v, dp, 0) < 0) {
        goto out;
    }
    r = RENDER_OK;
    for (i = 0; r == RENDER_OK; i++) {
        ret = gnutls_x509_crl_dist_points_get(dp, i, &type, &d, &reasons);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            r = RENDER_HEX;
            break;
        }
        text_str(t, i == 0 ? "" : ", ");
        r = text_general_name(t, type, &d);
    }
out:
    if (dp != NULL) {
        gnutls_x509_crl_dist_points_deinit(dp);
    }
    return r;
}

/* An access method as openssl names it, else its OID. */
static enum render
text_access_method(struct text *t, const gnutls_datum_t *oid)
{
    static const struct purpose_row methods[] = {
        { OID_AD_OCSP, "OCSP" },
        { OID_AD_CA_ISSUERS, "CA Issuers" },
        { OID_AD_CA_REPOSITORY, "CA Repository" },
        { OID_AD_TIME_STAMPING, "Time Stamping" },
    };
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strlen(methods[i].oid) == oid->size &&
            memcmp(methods[i].oid, oid->data, oid->size) == 0) {
            text_str(t, methods[i].name);
            return RENDER_OK;
        }
    }
    return text_cert(t, oid->data, oid->size);
}

/* RFC 5280 4.2.2.1 and 4.2.2.2: "OCSP - URI:...; CA Issuers - URI:...". */
static enum render
render_info_access(const gnutls_datum_t *v, struct text *t)
{
    gnutls_x509_aia_t aia = NULL;
    gnutls_datum_t oid;
    gnutls_datum_t d;
    enum render r = RENDER_HEX;
    unsigned type;
    unsigned i;
    int ret;

    if (gnutls_x509_aia_init(&aia) < 0 ||
        gnutls_x509_ext_import_aia(v, aia, 0) < 0) {
        goto out;
    }
    r = RENDER_OK;
    for (i = 0; r == RENDER_OK; i++) {
        ret = gnutls_x509_aia_get(aia, i, &oid, &type, &d);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            r = RENDER_HEX;
            break;
        }
        text_str(t, i == 0 ? "" : "; ");
        r = text_access_method(t, &oid);
        if (r == RENDER_OK) {
            text_str(t, " - ");
            r = text_general_name(t, type, &d);
        }
    }
out:
    if (aia != NULL) {
        gnutls_x509_aia_deinit(aia);
    }
    return r;
}

/* RFC 5280 4.2.1.4: the policy OIDs, "2.23.140.1.2.1, ...". */
static enum render
render_policies(const gnutls_datum_t *v, struct text *t)
{
    gnutls_x509_policies_t policies = NULL;
    struct gnutls_x509_policy_st policy;
    enum render r = RENDER_HEX;
    unsigned i;
    int ret;

    if (gnutls_x509_policies_init(&policies) < 0 ||
        gnutls_x509_ext_import_policies(v, policies, 0) < 0) {
        goto out;
    }
    r = RENDER_OK;
    for (i = 0;; i++) {
        ret = gnutls_x509_policies_get(policies, i, &policy);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            r = RENDER_HEX;
            break;
        }
        text_str(t, i == 0 ? "" : ", ");
        text_str(t, policy.oid); /* dotted digits from the DER decoder */
    }
out:
    if (policies != NULL) {
        gnutls_x509_policies_deinit(policies);
    }
    return r;
}

/* One subtree list of name constraints: permitted or excluded. */
static enum render
text_subtrees(struct text *t, gnutls_x509_name_constraints_t nc, bool permitted)
{
    gnutls_datum_t d;
    enum render r = RENDER_OK;
    unsigned type;
    unsigned i;
    int ret;

    for (i = 0; r == RENDER_OK; i++) {
        ret = permitted
                  ? gnutls_x509_name_constraints_get_permitted(nc, i, &type, &d)
                  : gnutls_x509_name_constraints_get_excluded(nc, i, &type, &d);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            return RENDER_HEX;
        }
        if (i == 0) {
            text_str(t, t->len == 0 ? "" : "; ");
            text_str(t, permitted ? "Permitted: " : "Excluded: ");
        } else {
            text_str(t, ", ");
        }
        r = text_general_name(t, type, &d);
    }
    return r;
}

/* RFC 5280 4.2.1.10: "Permitted: DNS:example.com; Excluded: ...". */
static enum render
render_name_constraints(const gnutls_datum_t *v, struct text *t)
{
    gnutls_x509_name_constraints_t nc = NULL;
    enum render r = RENDER_HEX;

    if (gnutls_x509_name_constraints_init(&nc) < 0 ||
        gnutls_x509_ext_import_name_constraints(v, nc, 0) < 0) {
        goto out;
    }
    r = text_subtrees(t, nc, true);
    if (r == RENDER_OK) {
        r = text_subtrees(t, nc, false);
    }
out:
    if (nc != NULL) {
        gnutls_x509_name_constraints_deinit(nc);
    }
    return r;
}

/* RFC 6960 4.2.2.2.1: the extension says it all; its value is NULL. */
static enum render
render_ocsp_nocheck(const gnutls_datum_t *v, struct text *t)
{
    (void)t;
    if (v->size != 2 || v->data[0] != PKI_DER_NULL || v->data[1] != 0) {
        return RENDER_HEX;
    }
    return RENDER_OK;
}

/* The extensions we name; render NULL shows the value as hex. */
static const struct ext_row {
    const char *oid;
    const char *name;
    enum render (*render)(const gnutls_datum_t *v, struct text *t);
} ext_rows[] = {
    { "2.5.29.14", "subjectKeyIdentifier", render_subject_key_id },
    { "2.5.29.15", "keyUsage", render_key_usage },
    { "2.5.29.16", "privateKeyUsagePeriod", NULL },
    { PKI_OID_SAN, "subjectAltName", render_general_names },
    { "2.5.29.18", "issuerAltName", render_general_names },
    { "2.5.29.19", "basicConstraints", render_basic_constraints },
    { "2.5.29.30", "nameConstraints", render_name_constraints },
    { "2.5.29.31", "cRLDistributionPoints", render_crl_dist_points },
    { "2.5.29.32", "certificatePolicies", render_policies },
    { "2.5.29.33", "policyMappings", NULL },
    { "2.5.29.35", "authorityKeyIdentifier", render_authority_key_id },
    { "2.5.29.36", "policyConstraints", NULL },
    { "2.5.29.37", "extKeyUsage", render_key_purposes },
    { "2.5.29.46", "freshestCRL", render_crl_dist_points },
    { "2.5.29.54", "inhibitAnyPolicy", NULL },
    { "1.3.6.1.5.5.7.1.1", "authorityInfoAccess", render_info_access },
    { "1.3.6.1.5.5.7.1.11", "subjectInfoAccess", render_info_access },
    { "1.3.6.1.5.5.7.1.24", "tlsFeature", NULL },
    { OID_OCSP_NOCHECK, "ocspNoCheck", render_ocsp_nocheck },
    { "1.3.6.1.4.1.11129.2.4.2", "ctPrecertificateSCTs", NULL },
    { "1.3.6.1.4.1.11129.2.4.3", "ctPrecertificatePoison", NULL },
};

#define N_EXT_ROWS (sizeof(ext_rows) / sizeof(ext_rows[0]))

static const struct ext_row *
find_ext(const char *oid)
{
    size_t i;

    for (i = 0; i < N_EXT_ROWS; i++) {
        if (strcmp(ext_rows[i].oid, oid) == 0) {
            return &ext_rows[i];
        }
    }
    return NULL;
}

/*
 * The SANs as issuance and pki_cert_parse read them. Names those checks
 * refuse (an otherName, a DNS name with an underscore) leave the list
 * empty; the extension's text still shows them.
 */
static enum wd_err
read_sans(const gnutls_datum_t *v, struct pki_cert_info *info)
{
    enum wd_err rc;

    rc = pki_sans_decode(v, &info->sans, &info->n_sans);
    if (rc == WD_E_BAD_NAME || rc == WD_E_TOO_MANY_NAMES) {
        return WD_OK; /* logged by pki_sans_decode */
    }
    return rc;
}

/* ext->name from the table, else the OID ("..." ending a long one). */
static void
set_ext_name(struct pki_ext_info *ext, const struct ext_row *row)
{
    const char *name = row != NULL ? row->name : ext->oid;
    size_t n = strlen(name);

    if (n >= sizeof(ext->name)) {
        n = sizeof(ext->name) - 1;
        memcpy(ext->name, name, n - 3);
        memcpy(ext->name + n - 3, "...", 3);
    } else {
        memcpy(ext->name, name, n);
    }
    ext->name[n] = '\0';
}

/* Name and value of ext, whose oid and critical flag are set. */
static enum wd_err
render_ext(struct pki_ext_info *ext, const gnutls_datum_t *v)
{
    const struct ext_row *row = find_ext(ext->oid);
    struct text *t = xcalloc(1, sizeof(*t));
    enum render r = RENDER_HEX;
    enum wd_err rc = WD_OK;

    set_ext_name(ext, row);
    if (row != NULL && row->render != NULL) {
        r = row->render(v, t);
    }
    if (r == RENDER_NUL) {
        log_err("event=cert_info oid=%s err=\"a name holds a NUL\"", ext->oid);
        rc = WD_E_INTERNAL;
        goto out;
    }
    if (r == RENDER_HEX) {
        if (row != NULL && row->render != NULL) {
            log_warn("event=cert_info oid=%s err=\"undecodable %s, shown as "
                     "hex\"",
                     ext->oid, row->name);
        }
        t->len = 0;
        t->cut = false;
        text_hex(t, v->data, v->size);
    }
    ext->value = text_take(t);
out:
    free(t);
    return rc;
}

/* Every extension in order, and the SANs. */
static enum wd_err
read_extensions(gnutls_x509_crt_t crt, struct pki_cert_info *info)
{
    char oid[sizeof(info->exts->oid)];
    struct pki_ext_info *ext;
    gnutls_datum_t v = { NULL, 0 };
    enum wd_err rc;
    unsigned critical;
    size_t size;
    unsigned i;
    int ret;

    for (i = 0;; i++) {
        size = sizeof(oid);
        critical = 0;
        ret = gnutls_x509_crt_get_extension_info(crt, i, oid, &size, &critical);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            return WD_OK;
        }
        if (ret >= 0) {
            ret = gnutls_x509_crt_get_extension_data2(crt, i, &v);
        }
        if (ret < 0) {
            /* GNUTLS_E_SHORT_MEMORY_BUFFER: an OID of over 63 characters */
            log_err("event=cert_info what=extension index=%u err=\"%s\"", i,
                    gnutls_strerror(ret));
            return WD_E_INTERNAL;
        }
        info->exts =
            xrealloc(info->exts, (info->n_exts + 1) * sizeof(*info->exts));
        ext = &info->exts[info->n_exts++];
        memset(ext, 0, sizeof(*ext));
        memcpy(ext->oid, oid, sizeof(ext->oid));
        ext->critical = critical != 0;
        rc = render_ext(ext, &v);
        if (rc == WD_OK && strcmp(oid, PKI_OID_SAN) == 0 &&
            info->sans == NULL) {
            rc = read_sans(&v, info);
        }
        gnutls_free(v.data);
        v.data = NULL;
        if (rc != WD_OK) {
            return rc;
        }
    }
}

/* A DN as RFC 4514 text, "" when empty; subject or issuer. */
static enum wd_err
read_dn(gnutls_x509_crt_t crt, bool issuer, char **out)
{
    const char *what = issuer ? "issuer" : "subject";
    gnutls_datum_t d = { NULL, 0 };
    int ret;

    ret = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0)
                 : gnutls_x509_crt_get_dn3(crt, &d, 0);
    if (ret < 0 && ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        log_err("event=cert_info what=%s err=\"%s\"", what,
                gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    /* GnuTLS writes a value holding a NUL as "#" and hex (RFC 4514
     * 2.4); this keeps the promise should it ever not */
    if (d.size > 0 && memchr(d.data, '\0', d.size) != NULL) {
        log_err("event=cert_info what=%s err=\"the name holds a NUL\"", what);
        gnutls_free(d.data);
        return WD_E_INTERNAL;
    }
    *out = pki_datum_take_str(&d);
    return WD_OK;
}

/* Key algorithms by the names people know them by. */
static const struct pk_row {
    int pk; /* gnutls_pk_algorithm_t */
    const char *name;
} pks[] = {
    { GNUTLS_PK_RSA, "RSA" },
    { GNUTLS_PK_RSA_PSS, "RSA-PSS" },
    { GNUTLS_PK_DSA, "DSA" },
    { GNUTLS_PK_ECDSA, "ECDSA" },
    { GNUTLS_PK_EDDSA_ED25519, "Ed25519" },
    { GNUTLS_PK_EDDSA_ED448, "Ed448" },
    { GNUTLS_PK_ECDH_X25519, "X25519" },
    { GNUTLS_PK_ECDH_X448, "X448" },
};

/* ECDSA curves as NIST (FIPS 186-4 D.1.2) names them. */
static const struct curve_row {
    int curve; /* gnutls_ecc_curve_t */
    const char *name;
} curves[] = {
    { GNUTLS_ECC_CURVE_SECP192R1, "P-192" },
    { GNUTLS_ECC_CURVE_SECP224R1, "P-224" },
    { GNUTLS_ECC_CURVE_SECP256R1, "P-256" },
    { GNUTLS_ECC_CURVE_SECP384R1, "P-384" },
    { GNUTLS_ECC_CURVE_SECP521R1, "P-521" },
};

/* Key algorithm, size and curve; "unknown" and "" for what we cannot
 * name (the rest of the certificate is still worth showing). */
static void
read_key(gnutls_x509_crt_t crt, struct pki_cert_info *info)
{
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    gnutls_datum_t x = { NULL, 0 };
    gnutls_datum_t y = { NULL, 0 };
    const char *name = "unknown";
    unsigned bits = 0;
    size_t i;
    int pk;

    pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    for (i = 0; i < sizeof(pks) / sizeof(pks[0]); i++) {
        if (pks[i].pk == pk) {
            name = pks[i].name;
        }
    }
    snprintf(info->key_algorithm, sizeof(info->key_algorithm), "%s", name);
    info->key_bits = pk >= 0 ? bits : 0;
    /* EdDSA keys name their curve in the algorithm already */
    if (pk != GNUTLS_PK_ECDSA ||
        gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) < 0) {
        return;
    }
    gnutls_free(x.data);
    gnutls_free(y.data);
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (curves[i].curve == (int)curve) {
            snprintf(info->key_curve, sizeof(info->key_curve), "%s",
                     curves[i].name);
        }
    }
}

/* GnuTLS's name ("ECDSA-SHA256"), else the OID, else "unknown". */
static void
read_signature_algorithm(gnutls_x509_crt_t crt, struct pki_cert_info *info)
{
    char *out = info->signature_algorithm;
    size_t size = sizeof(info->signature_algorithm);
    int sign = gnutls_x509_crt_get_signature_algorithm(crt);
    const char *name = sign >= 0 ? gnutls_sign_get_name(sign) : NULL;

    if (name != NULL && strlen(name) < size) {
        memcpy(out, name, strlen(name) + 1);
        return;
    }
    if (gnutls_x509_crt_get_signature_oid(crt, out, &size) < 0) {
        memcpy(out, "unknown", sizeof("unknown"));
    }
}

/* Serial, version, validity, key and signature algorithm. */
static enum wd_err
read_basics(gnutls_x509_crt_t crt, struct pki_cert_info *info)
{
    enum wd_err rc;

    rc = pki_serial_get(crt, info->serial);
    if (rc != WD_OK) {
        return rc;
    }
    info->version = gnutls_x509_crt_get_version(crt);
    if (info->version < 0) {
        log_err("event=cert_info what=version err=\"%s\"",
                gnutls_strerror(info->version));
        return WD_E_INTERNAL;
    }
    info->not_before = gnutls_x509_crt_get_activation_time(crt);
    info->not_after = gnutls_x509_crt_get_expiration_time(crt);
    if (info->not_before == (time_t)-1 || info->not_after == (time_t)-1) {
        /* GnuTLS reads 99991231235959Z (RFC 5280 4.1.2.5) as -1 too */
        log_err("event=cert_info err=\"unreadable validity\"");
        return WD_E_INTERNAL;
    }
    read_key(crt, info);
    read_signature_algorithm(crt, info);
    return WD_OK;
}

/* SHA-256 and SHA-1 of the DER, lowercase hex. */
static enum wd_err
fingerprints(const uint8_t *der, size_t len, struct pki_cert_info *info)
{
    uint8_t sha1[20];
    enum wd_err rc;
    int ret;

    rc = pki_der_fingerprint(der, len, info->fingerprint_sha256);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_hash_fast(GNUTLS_DIG_SHA1, der, len, sha1);
    if (ret < 0) {
        log_err("event=cert_info what=sha1 err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    wd_hex_encode(sha1, sizeof(sha1), info->fingerprint_sha1);
    return WD_OK;
}

/*
 * Decodes one DER certificate, ours or not, for the detail view: subject
 * and issuer (RFC 4514), serial (as pki_serial_get writes it), version,
 * validity, key algorithm, size and curve, signature algorithm, the SANs
 * as pki_cert_parse reads them (empty if those checks refuse a name),
 * every extension in order with its text, and the SHA-256 and SHA-1
 * fingerprints. Caller owns *out (pki_cert_info_free). WD_E_INTERNAL
 * (logged) for bytes that are not exactly one DER certificate and for a
 * NUL in any text taken from it; *out is then untouched.
 */
enum wd_err
pki_cert_info_get(const uint8_t *der, size_t len, struct pki_cert_info **out)
{
    struct pki_cert_info *info = xcalloc(1, sizeof(*info));
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d;
    enum wd_err rc = WD_E_INTERNAL;
    int ret;

    if (der == NULL || len == 0 || len > UINT_MAX) {
        log_err("event=cert_info err=\"no certificate of %zu bytes\"", len);
        goto out;
    }
    ret = gnutls_x509_crt_init(&crt);
    if (ret >= 0) {
        d.data = (unsigned char *)der;
        d.size = (unsigned)len;
        /* GnuTLS refuses bytes after the certificate */
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret < 0) {
        log_err("event=cert_info err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    rc = read_dn(crt, false, &info->subject);
    if (rc == WD_OK) {
        rc = read_dn(crt, true, &info->issuer);
    }
    if (rc == WD_OK) {
        rc = read_basics(crt, info);
    }
    if (rc == WD_OK) {
        rc = read_extensions(crt, info);
    }
    if (rc == WD_OK) {
        rc = fingerprints(der, len, info);
    }
    if (rc != WD_OK) {
        goto out;
    }
    *out = info;
    info = NULL;
out:
    gnutls_x509_crt_deinit(crt);
    pki_cert_info_free(info);
    return rc;
}

/* Frees info and everything it holds; accepts NULL. */
void
pki_cert_info_free(struct pki_cert_info *info)
{
    size_t i;

    if (info == NULL) {
        return;
    }
    free(info->subject);
    free(info->issuer);
    pki_sans_free(info->sans, info->n_sans);
    for (i = 0; i < info->n_exts; i++) {
        free(info->exts[i].value);
    }
    free(info->exts);
    free(info);
}
