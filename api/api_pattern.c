/*
 * Grant name patterns: does one pattern of a grant in warden.conf cover
 * one name a CSR asks for? api_grant.c asks this for every name of a
 * request; the rules live here so they read in one place. The name's type
 * picks the rules, and a pattern that looks like another type never
 * matches: a DNS pattern never covers an IP address, an IP range never
 * covers a host name, and so on. Anything unclear is refused, since a
 * match here puts a name into a certificate.
 */
#include "api_priv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Longest IP literal we parse: a full IPv6 address with an IPv4 tail. */
#define IP_TEXT_MAX 64

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

/* strlen(s) without one trailing dot: "a.example." is "a.example". */
static size_t
len_without_dot(const char *s)
{
    size_t len = strlen(s);

    return (len > 0 && s[len - 1] == '.') ? len - 1 : len;
}

/* An IP literal of len bytes into 4 or 16 bytes; 0 if it is none. */
static size_t
ip_parse(const char *s, size_t len, uint8_t out[16])
{
    char buf[IP_TEXT_MAX];

    if (len == 0 || len >= sizeof(buf)) {
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
 * "10.0.0.0/8", "fd00::/8" or a plain address (a /32 or /128) into the
 * address, its length (4 or 16) and the prefix length in bits. The prefix
 * is 1 to 3 decimal digits without a leading zero, at most 32 or 128;
 * anything else is no range at all.
 */
static bool
cidr_parse(const char *pattern, uint8_t addr[16], size_t *addr_len,
           unsigned *bits)
{
    const char *slash = strchr(pattern, '/');
    size_t alen = slash != NULL ? (size_t)(slash - pattern) : strlen(pattern);
    unsigned v = 0;
    size_t i;

    *addr_len = ip_parse(pattern, alen, addr);
    if (*addr_len == 0) {
        return false;
    }
    if (slash == NULL) {
        *bits = (unsigned)*addr_len * 8;
        return true;
    }
    for (i = 1; slash[i] != '\0'; i++) {
        if (slash[i] < '0' || slash[i] > '9' || i > 3 ||
            (i == 2 && slash[1] == '0')) {
            return false;
        }
        v = v * 10 + (unsigned)(slash[i] - '0');
    }
    if (i == 1 || v > *addr_len * 8) {
        return false; /* "10.0.0.0/" or "/33" */
    }
    *bits = v;
    return true;
}

/* Do the first bits bits of a and b agree? */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8;
    unsigned rest = bits % 8;
    uint8_t mask;

    if (memcmp(a, b, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/*
 * An address or CIDR range covers an address of the same family only: a
 * v4 range never covers a v6 name, v4-mapped ones included. Host bits set
 * in the pattern ("10.1.2.3/8") are ignored, as the prefix says.
 */
static bool
ip_matches(const char *pattern, const char *name)
{
    uint8_t want[16];
    uint8_t got[16];
    size_t want_len;
    unsigned bits;

    if (!cidr_parse(pattern, want, &want_len, &bits)) {
        return false;
    }
    if (ip_parse(name, strlen(name), got) != want_len) {
        return false;
    }
    return prefix_equal(want, got, bits);
}

/*
 * A pattern meant for host names: no "@" (email), no ":" (URI, IPv6), no
 * "/" (CIDR), and no IPv4 literal.
 */
static bool
dns_looking(const char *pattern, size_t len)
{
    uint8_t ip[16];

    return len > 0 && memchr(pattern, '@', len) == NULL &&
           memchr(pattern, ':', len) == NULL &&
           memchr(pattern, '/', len) == NULL && ip_parse(pattern, len, ip) == 0;
}

/*
 * Exact (case-insensitive, one trailing dot ignored on each side), or
 * "*.suffix": exactly one more non-empty left-most label than the suffix,
 * in a valid host name. The wildcard stands for a label, never for a '*':
 * a name asking for "*.svc.internal" itself is covered by that identical
 * pattern only (the exact rule), not by "*.internal". A bare "*" covers
 * nothing: granting every name takes an admin.
 */
static bool
dns_matches(const char *pattern, const char *name)
{
    size_t plen = len_without_dot(pattern);
    size_t nlen = len_without_dot(name);
    const char *suffix = pattern + 1; /* ".svc.internal" of "*.svc..." */
    size_t slen;
    size_t label;

    if (!dns_looking(pattern, plen) || nlen == 0 ||
        (plen == 1 && pattern[0] == '*')) {
        return false;
    }
    if (same_nocase(pattern, plen, name, nlen)) {
        return true;
    }
    slen = plen - 1;
    if (plen < 3 || pattern[0] != '*' || pattern[1] != '.' ||
        memchr(suffix, '*', slen) != NULL) {
        return false;
    }
    if (nlen <= slen || memchr(name, '*', nlen) != NULL ||
        !pki_name_is_dns(name, nlen)) {
        return false;
    }
    label = nlen - slen;
    if (memchr(name, '.', label) != NULL) {
        return false; /* "a.b.svc.internal": one label only */
    }
    return same_nocase(name + label, slen, suffix, slen);
}

/*
 * Exact ("ops@example.com": the local part as written, the domain in any
 * case) or "*@example.com" (any non-empty local part at that domain).
 */
static bool
email_matches(const char *pattern, const char *name)
{
    const char *pat_at = strchr(pattern, '@');
    const char *at = strchr(name, '@');
    size_t pat_local;

    if (pat_at == NULL || pat_at == pattern || pat_at[1] == '\0' ||
        strchr(pat_at + 1, '@') != NULL) {
        return false;
    }
    if (at == NULL || at == name || strchr(at + 1, '@') != NULL) {
        return false;
    }
    if (!same_nocase(pat_at + 1, strlen(pat_at + 1), at + 1, strlen(at + 1))) {
        return false;
    }
    pat_local = (size_t)(pat_at - pattern);
    if (pat_local == 1 && pattern[0] == '*') {
        return true;
    }
    return pat_local == (size_t)(at - name) &&
           memcmp(pattern, name, pat_local) == 0;
}

/* Does s (len bytes) start with a URI scheme and its ":" (RFC 3986 3.1)? */
static bool
has_scheme(const char *s, size_t len)
{
    size_t i;

    if (len == 0 ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        return false;
    }
    for (i = 1; i < len && s[i] != ':'; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
              s[i] == '.')) {
            return false;
        }
    }
    return i < len;
}

/*
 * Could a relying party read the part of a URI after a granted prefix as
 * leaving it? True for a "." or ".." path segment (RFC 3986 5.2.4 removes
 * them), an encoded dot ("%2e") and a backslash (which WHATWG URL parsers
 * take for "/").
 */
static bool
escapes_prefix(const char *uri, size_t prefix_len)
{
    const char *rest = uri + prefix_len;
    const char *seg = uri;
    const char *p;

    if (strchr(rest, '\\') != NULL) {
        return true;
    }
    for (p = rest; p[0] != '\0'; p++) {
        if (p[0] == '%' && p[1] == '2' && lower(p[2]) == 'e') {
            return true;
        }
    }
    for (p = uri;; p++) {
        if (*p == '/' || *p == '?' || *p == '#' || *p == '\0') {
            size_t n = (size_t)(p - seg);

            if ((n == 1 && seg[0] == '.') ||
                (n == 2 && seg[0] == '.' && seg[1] == '.')) {
                return true;
            }
            if (*p != '/') {
                return false; /* the query and fragment are no path */
            }
            seg = p + 1;
        }
    }
}

/*
 * Exact (byte for byte), or a prefix followed by "*": the prefix holds at
 * least a scheme (such as "spiffe://internal/ns/prod/"), and the name
 * adds at least one byte that does not climb out of it. Patterns that are
 * IP ranges are not URI patterns, even where they parse as one
 * ("fd00::/8").
 */
static bool
uri_matches(const char *pattern, const char *name)
{
    size_t plen = strlen(pattern);
    uint8_t addr[16];
    size_t addr_len;
    unsigned bits;

    if (!has_scheme(pattern, plen) ||
        cidr_parse(pattern, addr, &addr_len, &bits)) {
        return false;
    }
    if (strcmp(pattern, name) == 0) {
        return true;
    }
    if (pattern[plen - 1] != '*' || !has_scheme(pattern, plen - 1)) {
        return false;
    }
    return strlen(name) > plen - 1 && memcmp(name, pattern, plen - 1) == 0 &&
           !escapes_prefix(name, plen - 1);
}

/*
 * True if pattern, one name of a grant, covers name, a SAN of type t or a
 * CN (checked as PKI_SAN_DNS, or as PKI_SAN_IP when it is an IP literal):
 * DNS names exactly or by one left-most wildcard label, IP addresses by
 * address or CIDR range of the same family, email addresses exactly or by
 * "*@domain", URIs exactly or by a prefix ending in "*". False for NULL,
 * an empty or bare "*" pattern, a malformed range ("/33", "/x"), and a
 * pattern that looks like another type of name.
 */
bool
api_pattern_matches(const char *pattern, enum pki_san_type t, const char *name)
{
    if (pattern == NULL || name == NULL || pattern[0] == '\0' ||
        name[0] == '\0') {
        return false;
    }
    switch (t) {
    case PKI_SAN_DNS:
        return dns_matches(pattern, name);
    case PKI_SAN_IP:
        return ip_matches(pattern, name);
    case PKI_SAN_EMAIL:
        return email_matches(pattern, name);
    case PKI_SAN_URI:
        return uri_matches(pattern, name);
    }
    return false;
}
