/*
 * CSR intake: the first code that sees a certificate signing request from
 * the network. It turns untrusted bytes into a struct pki_csr that
 * issuance can rely on: exactly one PEM block or DER object, a key we sign
 * for, a self-signature that verifies, a subject without surprises, and
 * names that passed pki_name.c. Of the requested extensions only the
 * subjectAltName is read; everything else a request asks for (CA:TRUE
 * included) is never looked at again.
 */
#include "pki_priv.h"

#include <libtasn1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

static const char *const pem_labels[] = {
    "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST", /* Netscape's name, still written by some */
};

/* Real requests carry a few attributes and ask for a handful of
 * extensions; GnuTLS decodes the whole list again for each one we look
 * at, so the counts are bounded before that work adds up. */
#define MAX_REQ_ATTRIBUTES 16
#define MAX_REQ_EXTENSIONS 64

/* RFC 5280 appendix A.1: ub-common-name. */
#define MAX_CN 64

/* ASN.1 universal tags of the strings a DN holds (X.680 8.4). */
enum {
    TAG_UTF8 = 12,
    TAG_NUMERIC = 18,
    TAG_PRINTABLE = 19,
    TAG_TELETEX = 20,
    TAG_IA5 = 22,
    TAG_VISIBLE = 26,
    TAG_UNIVERSAL = 28,
    TAG_BMP = 30,
};

static bool
is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Where needle starts in hay, or NULL (memmem is not POSIX). */
static const uint8_t *
find(const uint8_t *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    size_t i;

    for (i = 0; n <= hay_len && i <= hay_len - n; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* X.690 10.1: one SEQUENCE with a definite length that ends at len. */
static bool
one_der_object(const uint8_t *der, size_t len)
{
    long content;
    int len_len = 0;

    if (len < 2 || der[0] != 0x30) {
        return false;
    }
    content = asn1_get_length_der(der + 1, (int)(len - 1), &len_len);
    return content >= 0 && (size_t)content == len - 1 - (size_t)len_len;
}

/*
 * One PEM block with a CSR label and nothing but whitespace around it,
 * base64 that decodes, and one DER object inside. On success the caller
 * owns der->data (gnutls_free).
 */
static enum wd_err
decode_pem(const uint8_t *pem, size_t len, gnutls_datum_t *der)
{
    char begin[64];
    char end[64];
    const uint8_t *body = NULL;
    const uint8_t *stop;
    gnutls_datum_t b64;
    size_t i;
    int ret;

    for (i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++) {
        snprintf(begin, sizeof(begin), "-----BEGIN %s-----", pem_labels[i]);
        snprintf(end, sizeof(end), "-----END %s-----", pem_labels[i]);
        if (len >= strlen(begin) && memcmp(pem, begin, strlen(begin)) == 0) {
            body = pem + strlen(begin);
            break;
        }
    }
    if (body == NULL) {
        log_info("event=csr_refused reason=\"not a CSR PEM label\"");
        return WD_E_CSR_SYNTAX;
    }
    stop = find(body, len - (size_t)(body - pem), end);
    if (stop == NULL) {
        log_info("event=csr_refused reason=\"no PEM end line\"");
        return WD_E_CSR_SYNTAX;
    }
    for (i = (size_t)(stop - pem) + strlen(end); i < len; i++) {
        if (!is_space(pem[i])) {
            log_info("event=csr_refused reason=\"data after the PEM "
                     "block\"");
            return WD_E_CSR_SYNTAX;
        }
    }
    b64.data = (unsigned char *)body;
    b64.size = (unsigned)(stop - body);
    ret = gnutls_base64_decode2(&b64, der);
    if (ret < 0) {
        log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
        return WD_E_CSR_SYNTAX;
    }
    if (!one_der_object(der->data, der->size)) {
        log_info("event=csr_refused reason=\"PEM body is not one DER "
                 "object\"");
        gnutls_free(der->data);
        der->data = NULL;
        return WD_E_CSR_SYNTAX;
    }
    return WD_OK;
}

/*
 * Finds the one DER request in buf: PEM if it starts (after whitespace)
 * with "-----BEGIN", DER otherwise. der is set to the bytes to import;
 * for PEM they live in *pem_der, which the caller frees (gnutls_free).
 */
static enum wd_err
decode_one(const uint8_t *buf, size_t len, gnutls_datum_t *pem_der,
           gnutls_datum_t *der)
{
    size_t i = 0;
    enum wd_err rc;

    if (buf == NULL || len == 0 || len > WD_MAX_CSR_BYTES) {
        log_info("event=csr_refused reason=\"empty or over %d bytes\"",
                 WD_MAX_CSR_BYTES);
        return WD_E_CSR_SYNTAX;
    }
    while (i < len && is_space(buf[i])) {
        i++;
    }
    if (len - i >= 10 && memcmp(buf + i, "-----BEGIN", 10) == 0) {
        rc = decode_pem(buf + i, len - i, pem_der);
        *der = *pem_der;
        return rc;
    }
    if (!one_der_object(buf, len)) {
        log_info("event=csr_refused reason=\"not one DER object\"");
        return WD_E_CSR_SYNTAX;
    }
    der->data = (unsigned char *)buf;
    der->size = (unsigned)len;
    return WD_OK;
}

/*
 * The key is one we sign for; GnuTLS not knowing its curve counts too. On
 * WD_OK *out is the key, for the self-signature (caller deinits).
 */
static enum wd_err
check_key(gnutls_x509_crq_t crq, char key_type[PKI_KEY_TYPE_MAX],
          gnutls_pubkey_t *out)
{
    gnutls_pubkey_t pub = NULL;
    enum wd_err rc = WD_E_INTERNAL;
    int ret;

    ret = gnutls_pubkey_init(&pub);
    if (ret < 0) {
        log_err("event=csr_key err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_pubkey_import_x509_crq(pub, crq, 0);
    if (ret == GNUTLS_E_ECC_UNSUPPORTED_CURVE ||
        ret == GNUTLS_E_UNKNOWN_PK_ALGORITHM ||
        ret == GNUTLS_E_UNIMPLEMENTED_FEATURE) {
        log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_UNSUPPORTED_KEY;
        goto out;
    }
    if (ret < 0) {
        log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_CSR_SYNTAX;
        goto out;
    }
    rc = pki_key_type(pub, key_type);
    if (rc == WD_OK) {
        *out = pub;
        pub = NULL;
    }
out:
    gnutls_pubkey_deinit(pub);
    return rc;
}

/*
 * RFC 2986 4.2: the signature over the CertificationRequestInfo exactly as
 * sent, checked with pub, the key check_key read from it. The same check
 * as gnutls_x509_crq_verify without its second reading of the key and its
 * re-encoding of the signed part. RSA-PSS, whose parameters that call
 * reads from the request, still goes through it.
 */
static enum wd_err
check_signature(gnutls_x509_crq_t crq, const struct pki_csr *csr,
                gnutls_pubkey_t pub)
{
    struct pki_der_in info;
    struct pki_der_in sig;
    gnutls_datum_t data;
    gnutls_datum_t value;
    int algo;
    int ret;

    algo = gnutls_x509_crq_get_signature_algorithm(crq);
    if (algo > 0 && gnutls_sign_get_pk_algorithm(
                        (gnutls_sign_algorithm_t)algo) == GNUTLS_PK_RSA_PSS) {
        ret = gnutls_x509_crq_verify(crq, 0);
    } else if (algo <= 0) {
        ret = GNUTLS_E_UNKNOWN_ALGORITHM;
    } else if (!pki_der_signed_parts(csr->der, csr->der_len, &info, &sig)) {
        ret = GNUTLS_E_ASN1_DER_ERROR;
    } else {
        data.data = (unsigned char *)info.p;
        data.size = (unsigned)info.len;
        value.data = (unsigned char *)sig.p;
        value.size = (unsigned)sig.len;
        ret = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)algo, 0,
                                         &data, &value);
    }
    if (ret < 0) {
        log_info("event=csr_refused reason=\"self-signature\" err=\"%s\"",
                 gnutls_strerror(ret));
        return WD_E_CSR_SIGNATURE;
    }
    return WD_OK;
}

/* A NUL in a string value: software comparing C strings would stop at
 * it (the NUL-prefix attack on names). Values that are no strings are no
 * names and are not judged here. */
static bool
value_has_nul(const gnutls_x509_ava_st *ava)
{
    size_t width;
    size_t i;
    size_t k;

    switch (ava->value_tag) {
    case TAG_UTF8:
    case TAG_NUMERIC:
    case TAG_PRINTABLE:
    case TAG_TELETEX:
    case TAG_IA5:
    case TAG_VISIBLE:
        width = 1;
        break;
    case TAG_BMP:
        width = 2;
        break;
    case TAG_UNIVERSAL:
        width = 4;
        break;
    default:
        return false;
    }
    if (ava->value.size % width != 0) {
        return true; /* a torn code unit: as bad as a NUL */
    }
    for (i = 0; i < ava->value.size; i += width) {
        for (k = 0; k < width && ava->value.data[i + k] == 0; k++) {
        }
        if (k == width) {
            return true;
        }
    }
    return false;
}

static bool
is_oid(const gnutls_datum_t *oid, const char *want)
{
    size_t n = strlen(want);

    return oid->size >= n && memcmp(oid->data, want, n) == 0 &&
           (oid->size == n || oid->data[n] == '\0');
}

/* The CN: one at most, an 8-bit string type, 1-64 printable ASCII. */
static enum wd_err
take_cn(const gnutls_x509_ava_st *ava, char **cn)
{
    char quoted[LOG_QUOTE_BUF];
    unsigned long tag = ava->value_tag;

    if (*cn != NULL) {
        log_info("event=name_refused reason=\"more than one CN\"");
        return WD_E_BAD_NAME;
    }
    if ((tag != TAG_UTF8 && tag != TAG_PRINTABLE && tag != TAG_TELETEX &&
         tag != TAG_IA5 && tag != TAG_VISIBLE) ||
        ava->value.size == 0 || ava->value.size > MAX_CN ||
        !pki_name_is_printable((const char *)ava->value.data,
                               ava->value.size)) {
        log_info(
            "event=name_refused what=CN value=%s",
            log_quote((const char *)ava->value.data, ava->value.size, quoted));
        return WD_E_BAD_NAME;
    }
    *cn = xstrndup((const char *)ava->value.data, ava->value.size);
    return WD_OK;
}

/*
 * The subject as RFC 4514 text, each attribute free of NULs, and the CN.
 * GnuTLS only exposes a request's DN piecewise as text, where a NUL
 * would show up hex-encoded, so the raw values are read from the Name's
 * own bytes in the request (pki_subject_and_key), imported as a DN.
 */
static enum wd_err
read_subject(gnutls_x509_crq_t crq, struct pki_csr *csr)
{
    gnutls_x509_dn_t dn = NULL;
    struct pki_der_in subject;
    struct pki_der_in spki;
    gnutls_datum_t raw;
    gnutls_x509_ava_st ava;
    gnutls_datum_t text = { NULL, 0 };
    enum wd_err rc = WD_E_BAD_NAME;
    int irdn;
    int iava;
    int ret;

    ret = gnutls_x509_crq_get_dn3(crq, &text, 0);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        text.data = NULL;
        text.size = 0;
    } else if (ret < 0) {
        log_info("event=name_refused what=subject err=\"%s\"",
                 gnutls_strerror(ret));
        goto out;
    }
    if (text.size > WD_MAX_SUBJECT ||
        (text.data != NULL && strlen((char *)text.data) != text.size)) {
        log_info("event=name_refused what=subject reason=\"over %d bytes "
                 "or a NUL\"",
                 WD_MAX_SUBJECT);
        goto out;
    }
    /* the Name as the request carries it, which the leaf copies; GnuTLS
     * read it as strict DER, so a failure here is a shape we do not
     * take */
    if (!pki_subject_and_key(csr->der, csr->der_len, false, &subject, &spki)) {
        log_info("event=csr_refused reason=\"not shaped as PKCS#10\"");
        rc = WD_E_CSR_SYNTAX;
        goto out;
    }
    raw.data = (unsigned char *)subject.p;
    raw.size = (unsigned)subject.len;
    ret = gnutls_x509_dn_init(&dn);
    if (ret >= 0) {
        ret = gnutls_x509_dn_import(dn, &raw);
    }
    if (ret < 0) {
        log_err("event=csr_subject err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    for (irdn = 0;; irdn++) {
        for (iava = 0;; iava++) {
            ret = gnutls_x509_dn_get_rdn_ava(dn, irdn, iava, &ava);
            if (ret == GNUTLS_E_ASN1_ELEMENT_NOT_FOUND) {
                break; /* past the last AVA of this RDN, or the last RDN */
            }
            if (ret < 0) {
                log_info("event=name_refused what=subject err=\"%s\"",
                         gnutls_strerror(ret));
                goto out;
            }
            if (value_has_nul(&ava)) {
                log_info("event=name_refused what=subject reason=\"a NUL "
                         "in an attribute\"");
                goto out;
            }
            if (is_oid(&ava.oid, GNUTLS_OID_X520_COMMON_NAME) &&
                take_cn(&ava, &csr->cn) != WD_OK) {
                goto out;
            }
        }
        if (iava == 0) {
            break;
        }
    }
    csr->subject = pki_datum_take_str(&text);
    rc = WD_OK;
out:
    gnutls_free(text.data);
    if (dn != NULL) {
        gnutls_x509_dn_deinit(dn);
    }
    return rc;
}

/* At most one extensionRequest attribute, holding one value. */
static enum wd_err
check_attributes(gnutls_x509_crq_t crq)
{
    char oid[128];
    size_t size;
    unsigned found = 0;
    unsigned i;
    int ret;

    for (i = 0; i < MAX_REQ_ATTRIBUTES; i++) {
        size = sizeof(oid);
        ret = gnutls_x509_crq_get_attribute_info(crq, i, oid, &size);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
            continue; /* an OID too long to be extensionRequest */
        }
        if (ret < 0) {
            log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
            return WD_E_CSR_SYNTAX;
        }
        if (strcmp(oid, PKI_OID_EXTENSION_REQUEST) == 0) {
            found++;
        }
    }
    if (i == MAX_REQ_ATTRIBUTES) {
        log_info("event=csr_refused reason=\"over %d attributes\"",
                 MAX_REQ_ATTRIBUTES);
        return WD_E_CSR_SYNTAX;
    }
    if (found == 1) {
        /* a second value in the attribute's SET would be read by nobody */
        size = 0;
        ret = gnutls_x509_crq_get_attribute_by_oid(
            crq, PKI_OID_EXTENSION_REQUEST, 1, NULL, &size);
        if (ret >= 0 || ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
            found++;
        }
    }
    if (found > 1) {
        log_info("event=csr_refused reason=\"more than one extension "
                 "request\"");
        return WD_E_CSR_SYNTAX;
    }
    return WD_OK;
}

/*
 * The names of the subjectAltName extension, if the request asks for one.
 * A second subjectAltName is a malformed request, WD_E_CSR_SYNTAX (RFC
 * 5280 4.2: an extension appears at most once), not a bad name: which of
 * the two lists was meant cannot be known.
 */
static enum wd_err
read_sans(gnutls_x509_crq_t crq, struct pki_csr *csr)
{
    char oid[128];
    size_t size;
    unsigned critical;
    gnutls_datum_t ext = { NULL, 0 };
    int san_index = -1;
    enum wd_err rc;
    unsigned i;
    int ret;

    for (i = 0; i < MAX_REQ_EXTENSIONS; i++) {
        size = sizeof(oid);
        ret = gnutls_x509_crq_get_extension_info(crq, i, oid, &size, &critical);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
            continue; /* an OID too long to be subjectAltName */
        }
        if (ret < 0) {
            log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
            return WD_E_CSR_SYNTAX;
        }
        if (strcmp(oid, PKI_OID_SAN) != 0) {
            continue; /* ignored, never copied */
        }
        if (san_index >= 0) {
            log_info("event=csr_refused reason=\"two subjectAltName "
                     "extensions, RFC 5280 4.2\"");
            return WD_E_CSR_SYNTAX;
        }
        san_index = (int)i;
    }
    if (i == MAX_REQ_EXTENSIONS) {
        log_info("event=csr_refused reason=\"over %d extensions\"",
                 MAX_REQ_EXTENSIONS);
        return WD_E_CSR_SYNTAX;
    }
    if (san_index < 0) {
        return WD_OK;
    }
    ret = gnutls_x509_crq_get_extension_data2(crq, (unsigned)san_index, &ext);
    if (ret < 0) {
        log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
        return WD_E_CSR_SYNTAX;
    }
    rc = pki_sans_decode(&ext, &csr->sans, &csr->n_sans);
    gnutls_free(ext.data);
    return rc;
}

/*
 * PRODUCT: a CN that is a host name (or an IP literal) and no SAN becomes
 * a SAN, since clients match names against SANs only (RFC 6125 6.4.4).
 * Without a SAN or a CN the request names nothing.
 */
static enum wd_err
apply_cn_rule(struct pki_csr *csr)
{
    struct pki_san san;

    if (csr->n_sans > 0) {
        return WD_OK;
    }
    if (csr->cn == NULL) {
        log_info("event=csr_refused reason=\"neither a SAN nor a CN\"");
        return WD_E_NO_NAMES;
    }
    if (pki_san_from_host(csr->cn, strlen(csr->cn), &san) == WD_OK) {
        csr->sans = xmalloc(sizeof(*csr->sans));
        csr->sans[0] = san;
        csr->n_sans = 1;
    }
    return WD_OK;
}

/*
 * Decode one CSR (PEM or DER) and check what issuance relies on: one
 * object and nothing trailing, the key (pki_key_type), the self-signature,
 * the subject (at most WD_MAX_SUBJECT bytes of RFC 4514 text, no NUL in
 * any attribute, at most one CN of printable ASCII) and the SANs
 * (pki_sans_decode; one subjectAltName extension at most), then the
 * CN-to-SAN rule. On success the caller owns *out (pki_csr_free); on
 * failure *out is untouched and the reason is returned, logged at info.
 */
enum wd_err
pki_csr_parse(const uint8_t *buf, size_t len, struct pki_csr **out)
{
    struct pki_csr *csr = xcalloc(1, sizeof(*csr));
    gnutls_x509_crq_t crq = NULL;
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t pem_der = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    enum wd_err rc;
    int ret;

    rc = decode_one(buf, len, &pem_der, &der);
    if (rc != WD_OK) {
        goto out;
    }
    ret = gnutls_x509_crq_init(&crq);
    if (ret < 0) {
        log_err("event=csr_parse err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    ret = gnutls_x509_crq_import(crq, &der, GNUTLS_X509_FMT_DER);
    if (ret < 0) {
        log_info("event=csr_refused err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_CSR_SYNTAX;
        goto out;
    }
    csr->der = xmemdup(der.data, der.size);
    csr->der_len = der.size;
    /* the key first: GnuTLS cannot verify a key it cannot read */
    rc = check_key(crq, csr->key_type, &pub);
    if (rc == WD_OK) {
        rc = check_signature(crq, csr, pub);
    }
    if (rc != WD_OK) {
        goto out;
    }
    rc = read_subject(crq, csr);
    if (rc != WD_OK) {
        goto out;
    }
    rc = check_attributes(crq);
    if (rc != WD_OK) {
        goto out;
    }
    rc = read_sans(crq, csr);
    if (rc != WD_OK) {
        goto out;
    }
    rc = apply_cn_rule(csr);
    if (rc != WD_OK) {
        goto out;
    }
    *out = csr;
    csr = NULL;
out:
    gnutls_pubkey_deinit(pub);
    gnutls_x509_crq_deinit(crq); /* issuance reads csr->der */
    gnutls_free(pem_der.data);
    pki_csr_free(csr);
    return rc;
}

/* Frees csr and everything it holds; accepts NULL. */
void
pki_csr_free(struct pki_csr *csr)
{
    if (csr == NULL) {
        return;
    }
    free(csr->subject);
    free(csr->cn);
    pki_sans_free(csr->sans, csr->n_sans);
    free(csr->der);
    free(csr);
}
