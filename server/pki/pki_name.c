/*
 * Names: the checks every DNS name, IP address, email address and URI
 * passes before it enters a certificate, and the conversion of
 * subjectAltName extensions (RFC 5280 4.2.1.6) to and from struct pki_san.
 * The CSR intake, issuance, pki_cert_parse and init all go through here,
 * so a name is judged the same way wherever it comes from.
 */
#include "pki_priv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/* Longest IP literal we try to parse: a full IPv6 with an IPv4 tail. */
#define IP_TEXT_MAX 64

/* "DNS", "IP", "email" or "URI", as openssl and the API spell them. */
const char *
pki_san_type_name(enum pki_san_type t)
{
    switch (t) {
    case PKI_SAN_DNS:
        return "DNS";
    case PKI_SAN_IP:
        return "IP";
    case PKI_SAN_EMAIL:
        return "email";
    case PKI_SAN_URI:
        return "URI";
    }
    return "unknown";
}

static bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* One label of a host name: 1-63 letters, digits and inner hyphens
 * (RFC 1035 2.3.1, RFC 1123 2.1 allows a leading digit). */
static bool
label_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > WD_MAX_DNS_LABEL) {
        return false;
    }
    if (s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

static bool
all_digits(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* A host name of len bytes; a "*." left-most label only if wildcard_ok. */
static bool
dns_ok(const char *s, size_t len, bool wildcard_ok)
{
    size_t start = 0;
    size_t labels = 0;
    size_t i;

    if (s == NULL || len == 0 || len > WD_MAX_DNS_NAME) {
        return false;
    }
    if (wildcard_ok && len >= 2 && s[0] == '*' && s[1] == '.') {
        start = 2;
    }
    for (i = start; i <= len; i++) {
        if (i < len && s[i] != '.') {
            continue;
        }
        /* an empty label ("a..b", ".a", "a.") fails here */
        if (!label_ok(s + start, i - start)) {
            return false;
        }
        labels++;
        if (i == len && all_digits(s + start, i - start)) {
            return false; /* RFC 1123 2.1: no numeric top label */
        }
        start = i + 1;
    }
    /* a wildcard stands for one label under a name with at least two */
    if (s[0] == '*' && labels < 2) {
        return false;
    }
    return true;
}

/*
 * True if s (len bytes, need not end in a NUL) is a host name we
 * put in a certificate: 1-253 bytes of dot-separated labels, each 1-63
 * ASCII letters, digits or inner hyphens (no underscore), no empty label,
 * no trailing dot (names in certificates are absolute already), a top
 * label that is not all digits (so no IPv4 literal passes as a name), and
 * optionally "*" as the whole left-most label followed by at least two
 * labels (no wildcard for a whole top-level domain, as the CA/Browser
 * Forum Baseline Requirements 3.2.2.6 ask of public CAs).
 * Upper case passes; callers store the lower-case form.
 */
bool
pki_name_is_dns(const char *s, size_t len)
{
    return dns_ok(s, len, true);
}

/* True if all len bytes of s are printable ASCII, space included. */
bool
pki_name_is_printable(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* Printable ASCII without space: what a mailbox or URI may hold. */
static bool
graphic(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* local@domain, one "@", a host name after it (RFC 5280 4.2.1.6). */
static bool
email_ok(const char *s, size_t len)
{
    const char *at;

    if (len == 0 || len > WD_MAX_EMAIL || !graphic(s, len)) {
        return false;
    }
    at = memchr(s, '@', len);
    if (at == NULL || at == s ||
        memchr(at + 1, '@', len - 1 - (size_t)(at - s)) != NULL) {
        return false;
    }
    return dns_ok(at + 1, len - 1 - (size_t)(at - s), false);
}

/* An absolute URI: a scheme (RFC 3986 3.1), ":" and something after it. */
static bool
uri_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > WD_MAX_URI || !graphic(s, len)) {
        return false;
    }
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        return false;
    }
    for (i = 1; i < len && s[i] != ':'; i++) {
        if (!is_alnum(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.') {
            return false;
        }
    }
    return i + 1 < len; /* the ":" was found and is not the last byte */
}

static char *
lower_dup(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t i;

    for (i = 0; i < len; i++) {
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    }
    out[len] = '\0';
    return out;
}

/* 4 or 16 bytes of address into text; false for any other length. */
static bool
ip_text(const uint8_t *ip, size_t len, char out[INET6_ADDRSTRLEN])
{
    if (len == 4) {
        return inet_ntop(AF_INET, ip, out, INET6_ADDRSTRLEN) != NULL;
    }
    if (len == 16) {
        return inet_ntop(AF_INET6, ip, out, INET6_ADDRSTRLEN) != NULL;
    }
    return false;
}

/* Text to 4 or 16 bytes; returns the length, 0 if s is no IP literal. */
static size_t
ip_bytes(const char *s, size_t len, uint8_t out[16])
{
    char buf[IP_TEXT_MAX];

    if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL) {
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, out) == 1) {
        return 4;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        return 16;
    }
    return 0;
}

/*
 * Turns a host as people write it (a CN, a name given to init) into a SAN:
 * an IP literal becomes an IP SAN in canonical text, a host name
 * (pki_name_is_dns) a DNS SAN in lower case. WD_E_BAD_NAME for anything
 * else. On success the caller owns out->value.
 */
enum wd_err
pki_san_from_host(const char *host, size_t len, struct pki_san *out)
{
    uint8_t ip[16];
    char text[INET6_ADDRSTRLEN];
    size_t ip_len = ip_bytes(host, len, ip);

    if (ip_len != 0 && ip_text(ip, ip_len, text)) {
        out->type = PKI_SAN_IP;
        out->value = xstrdup(text);
        return WD_OK;
    }
    if (pki_name_is_dns(host, len)) {
        out->type = PKI_SAN_DNS;
        out->value = lower_dup(host, len);
        return WD_OK;
    }
    return WD_E_BAD_NAME;
}

/* One GeneralName as GnuTLS decoded it into out, or WD_E_BAD_NAME. */
static enum wd_err
san_from_general_name(unsigned type, const gnutls_datum_t *d,
                      struct pki_san *out)
{
    const char *s = (const char *)d->data;
    char text[INET6_ADDRSTRLEN];

    switch (type) {
    case GNUTLS_SAN_DNSNAME:
        if (!pki_name_is_dns(s, d->size)) {
            return WD_E_BAD_NAME;
        }
        out->type = PKI_SAN_DNS;
        out->value = lower_dup(s, d->size);
        return WD_OK;
    case GNUTLS_SAN_IPADDRESS:
        if (!ip_text(d->data, d->size, text)) {
            return WD_E_BAD_NAME;
        }
        out->type = PKI_SAN_IP;
        out->value = xstrdup(text);
        return WD_OK;
    case GNUTLS_SAN_RFC822NAME:
        if (!email_ok(s, d->size)) {
            return WD_E_BAD_NAME;
        }
        out->type = PKI_SAN_EMAIL;
        out->value = xstrndup(s, d->size);
        return WD_OK;
    case GNUTLS_SAN_URI:
        if (!uri_ok(s, d->size)) {
            return WD_E_BAD_NAME;
        }
        out->type = PKI_SAN_URI;
        out->value = xstrndup(s, d->size);
        return WD_OK;
    default: /* otherName, directoryName, registeredID, ... */
        return WD_E_BAD_NAME;
    }
}

/*
 * Decodes the value of a subjectAltName extension (ext) and checks every
 * name: DNS names as pki_name_is_dns (stored lower-case), IP addresses of
 * 4 or 16 bytes (stored as text), email addresses and URIs of printable
 * ASCII; any other kind of name is refused. WD_E_BAD_NAME for a bad or
 * undecodable name or an empty list (RFC 5280 4.2.1.6: at least one),
 * WD_E_TOO_MANY_NAMES past WD_MAX_SANS. On success the caller owns *out
 * (pki_sans_free with *n_out); on failure both are untouched.
 */
enum wd_err
pki_sans_decode(const gnutls_datum_t *ext, struct pki_san **out, size_t *n_out)
{
    gnutls_subject_alt_names_t names = NULL;
    struct pki_san *sans = NULL;
    size_t n = 0;
    gnutls_datum_t d;
    char quoted[LOG_QUOTE_BUF];
    enum wd_err rc = WD_E_INTERNAL;
    unsigned type;
    unsigned i;
    int ret;

    ret = gnutls_subject_alt_names_init(&names);
    if (ret < 0) {
        log_err("event=sans_decode err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_x509_ext_import_subject_alt_names(ext, names, 0);
    if (ret < 0) {
        log_info("event=name_refused reason=\"undecodable subjectAltName\" "
                 "err=\"%s\"",
                 gnutls_strerror(ret));
        rc = WD_E_BAD_NAME;
        goto out;
    }
    for (i = 0;; i++) {
        ret = gnutls_subject_alt_names_get(names, i, &type, &d, NULL);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            log_info("event=name_refused err=\"%s\"", gnutls_strerror(ret));
            rc = WD_E_BAD_NAME;
            goto out;
        }
        if (n == WD_MAX_SANS) {
            log_info("event=name_refused reason=\"more than %d SANs\"",
                     WD_MAX_SANS);
            rc = WD_E_TOO_MANY_NAMES;
            goto out;
        }
        sans = xrealloc(sans, (n + 1) * sizeof(*sans));
        rc = san_from_general_name(type, &d, &sans[n]);
        if (rc != WD_OK) {
            log_info("event=name_refused kind=%u value=%s", type,
                     log_quote((const char *)d.data, d.size, quoted));
            goto out;
        }
        n++;
    }
    if (n == 0) {
        log_info("event=name_refused reason=\"empty subjectAltName, "
                 "RFC 5280 4.2.1.6\"");
        rc = WD_E_BAD_NAME;
        goto out;
    }
    *out = sans;
    *n_out = n;
    sans = NULL;
    n = 0;
    rc = WD_OK;
out:
    pki_sans_free(sans, n);
    if (names != NULL) {
        gnutls_subject_alt_names_deinit(names);
    }
    return rc;
}

/*
 * Encodes n checked names as the DER value of a subjectAltName extension.
 * On success the caller owns out->data (gnutls_free); WD_E_INTERNAL if
 * GnuTLS refuses, WD_E_BAD_NAME for an IP value that is no IP literal.
 */
enum wd_err
pki_sans_encode(const struct pki_san *sans, size_t n, gnutls_datum_t *out)
{
    gnutls_subject_alt_names_t names = NULL;
    enum wd_err rc = WD_E_INTERNAL;
    gnutls_datum_t d;
    uint8_t ip[16];
    unsigned type;
    size_t i;
    int ret;

    ret = gnutls_subject_alt_names_init(&names);
    if (ret < 0) {
        log_err("event=sans_encode err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    for (i = 0; i < n; i++) {
        d.data = (unsigned char *)sans[i].value;
        d.size = (unsigned)strlen(sans[i].value);
        switch (sans[i].type) {
        case PKI_SAN_DNS:
            type = GNUTLS_SAN_DNSNAME;
            break;
        case PKI_SAN_IP:
            type = GNUTLS_SAN_IPADDRESS;
            d.size = (unsigned)ip_bytes(sans[i].value, d.size, ip);
            d.data = ip;
            if (d.size == 0) {
                rc = WD_E_BAD_NAME;
                goto out;
            }
            break;
        case PKI_SAN_EMAIL:
            type = GNUTLS_SAN_RFC822NAME;
            break;
        case PKI_SAN_URI:
        default:
            type = GNUTLS_SAN_URI;
            break;
        }
        ret = gnutls_subject_alt_names_set(names, type, &d, NULL);
        if (ret < 0) {
            log_err("event=sans_encode err=\"%s\"", gnutls_strerror(ret));
            goto out;
        }
    }
    ret = gnutls_x509_ext_export_subject_alt_names(names, out);
    if (ret < 0) {
        log_err("event=sans_encode err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    rc = WD_OK;
out:
    if (names != NULL) {
        gnutls_subject_alt_names_deinit(names);
    }
    return rc;
}

/* Frees n names and the array; accepts NULL. */
void
pki_sans_free(struct pki_san *sans, size_t n)
{
    size_t i;

    if (sans == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(sans[i].value);
    }
    free(sans);
}
