/*
 * CRLs (RFC 5280 5): the intermediate's, rebuilt after each revocation
 * and on a timer, and the root's, signed with the offline key. The
 * TBSCertList is written in one streaming pass with pki_der.c, because
 * GnuTLS's own builder (gnutls_x509_crl_set_crt_serial) is quadratic in
 * the entry count and a CRL of a million entries must take well under
 * two seconds. The bytes are those GnuTLS would write for the same
 * entries, plus the entries' reason codes that it cannot write; the
 * signer signs them. GnuTLS reads CRLs back (pki_crl_read).
 */
#include "pki_priv.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/parse.h"
#include "../base/xmalloc.h"

/* RFC 5280 5.1.2.1: v2 (encoded 1), because the CRL has extensions. */
#define CRL_VERSION_V2 1

/* A serial as GnuTLS hands it out: the INTEGER's content, which has a
 * 0x00 in front of a set top bit. */
#define SERIAL_DER_MAX (PKI_SERIAL_MAX_BYTES + 1)

/* Pre-encoded OIDs: they are written once per entry. */
static const uint8_t oid_aki[] = { 0x55, 0x1d, 0x23 };        /* 2.5.29.35 */
static const uint8_t oid_crl_number[] = { 0x55, 0x1d, 0x14 }; /* 2.5.29.20 */
static const uint8_t oid_reason[] = { 0x55, 0x1d, 0x15 };     /* 2.5.29.21 */

/* RFC 5280 5.3.1 CRLReason; removeFromCRL and aACompromise come after. */
#define REASON_MAX 10
#define REASON_UNUSED 7

/*
 * crlEntryExtensions holding one non-critical reasonCode (RFC 5280
 * 5.3.1), the code's one octet to follow (every CRLReason is under 128).
 */
static const uint8_t reason_ext[] = {
    PKI_DER_SEQUENCE,     12,                   /* crlEntryExtensions */
    PKI_DER_SEQUENCE,     10,                   /* Extension */
    PKI_DER_OID,          3,  0x55, 0x1d, 0x15, /* reasonCode */
    PKI_DER_OCTET_STRING, 3,                    /* extnValue */
    PKI_DER_ENUMERATED,   1,                    /* the code follows */
};

/*
 * An entry is put together on the stack and appended whole: the
 * general writer's bookkeeping per element was a quarter of the build.
 * The longest is SEQUENCE { INTEGER (a sign octet and 20), GeneralizedTime,
 * the reasonCode }, 2 + 23 + 17 + 14 = 56 octets, so every length in it
 * is one octet.
 */
#define ENTRY_MAX                                                              \
    (2 + 2 + SERIAL_DER_MAX + PKI_DER_TIME_MAX + sizeof(reason_ext) + 1)

struct pki_crl_builder {
    const struct pki_signer *signer; /* the CA's, or own_signer */
    struct pki_signer *own_signer;   /* pki_crl_begin_with_key's */
    struct pki_der alg;              /* the signature AlgorithmIdentifier */
    struct pki_der head; /* TBSCertList from version to nextUpdate */
    struct pki_der tail; /* crlExtensions */
    struct pki_der body; /* the entries, then the whole CertificateList */
    size_t n_entries;
};

/* RFC 5280 5.3.1 names, and "caCompromise" as the API spells it. */
static const struct reason_row {
    enum pki_reason reason;
    const char *name;
    bool accepted; /* pki_reason_parse and pki_crl_add take it */
} reasons[] = {
    { PKI_REASON_UNSPECIFIED, "unspecified", true },
    { PKI_REASON_KEY_COMPROMISE, "keyCompromise", true },
    { PKI_REASON_CA_COMPROMISE, "cACompromise", true },
    { PKI_REASON_CA_COMPROMISE, "caCompromise", true },
    { PKI_REASON_AFFILIATION_CHANGED, "affiliationChanged", true },
    { PKI_REASON_SUPERSEDED, "superseded", true },
    { PKI_REASON_CESSATION_OF_OPERATION, "cessationOfOperation", true },
    /* a hold is a revocation that can be undone: PRODUCT has none */
    { PKI_REASON_CERTIFICATE_HOLD, "certificateHold", false },
    { PKI_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn", true },
};

#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

/*
 * Sets *out to the reason called name ("keyCompromise"). Returns false,
 * leaving *out alone, for NULL, an unknown name or certificateHold.
 */
bool
pki_reason_parse(const char *name, enum pki_reason *out)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; i < N_REASONS; i++) {
        if (reasons[i].accepted && strcmp(name, reasons[i].name) == 0) {
            *out = reasons[i].reason;
            return true;
        }
    }
    return false;
}

/* The RFC 5280 name of a reason code; "unspecified" for unknown codes. */
const char *
pki_reason_name(int reason)
{
    size_t i;

    for (i = 0; i < N_REASONS; i++) {
        if ((int)reasons[i].reason == reason) {
            return reasons[i].name;
        }
    }
    return "unspecified";
}

static bool
reason_accepted(int reason)
{
    size_t i;

    for (i = 0; i < N_REASONS; i++) {
        if ((int)reasons[i].reason == reason) {
            return reasons[i].accepted;
        }
    }
    return false;
}

/* Version, signature, issuer, thisUpdate, nextUpdate (RFC 5280 5.1.2). */
static enum wd_err
put_head(struct pki_crl_builder *b, gnutls_x509_crt_t issuer,
         const struct pki_crl_params *params)
{
    gnutls_datum_t dn = { NULL, 0 };
    const uint8_t *alg;
    size_t alg_len;
    enum wd_err rc;
    int ret;

    pki_der_uint(&b->head, PKI_DER_INTEGER, CRL_VERSION_V2);
    alg = pki_der_data(&b->alg, &alg_len);
    pki_der_raw(&b->head, alg, alg_len);
    /* RFC 5280 5.1.2.3: the issuer's subject byte for byte, so that
     * relying parties match names without re-encoding them */
    ret = gnutls_x509_crt_get_raw_dn(issuer, &dn);
    if (ret < 0) {
        log_err("event=crl_build what=issuer err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    pki_der_raw(&b->head, dn.data, dn.size);
    gnutls_free(dn.data);
    rc = pki_der_time(&b->head, params->this_update);
    if (rc == WD_OK) {
        rc = pki_der_time(&b->head, params->next_update);
    }
    return rc;
}

/*
 * crlExtensions [0] EXPLICIT: authorityKeyIdentifier (RFC 5280 5.2.1,
 * keyIdentifier only) and cRLNumber (5.2.3), both non-critical, in the
 * order GnuTLS writes them when set in this order.
 */
static void
put_extensions(struct pki_der *d, const uint8_t *ski, size_t ski_len,
               uint64_t number)
{
    size_t outer = pki_der_begin(d, PKI_DER_CONTEXT(0));
    size_t list = pki_der_begin(d, PKI_DER_SEQUENCE);
    size_t ext = pki_der_begin(d, PKI_DER_SEQUENCE);
    size_t value;
    size_t aki;

    pki_der_prim(d, PKI_DER_OID, oid_aki, sizeof(oid_aki));
    value = pki_der_begin(d, PKI_DER_OCTET_STRING);
    aki = pki_der_begin(d, PKI_DER_SEQUENCE);
    pki_der_prim(d, PKI_DER_CONTEXT_PRIM(0), ski, ski_len);
    pki_der_end(d, aki);
    pki_der_end(d, value);
    pki_der_end(d, ext);

    ext = pki_der_begin(d, PKI_DER_SEQUENCE);
    pki_der_prim(d, PKI_DER_OID, oid_crl_number, sizeof(oid_crl_number));
    value = pki_der_begin(d, PKI_DER_OCTET_STRING);
    pki_der_uint(d, PKI_DER_INTEGER, number);
    pki_der_end(d, value);
    pki_der_end(d, ext);
    pki_der_end(d, list);
    pki_der_end(d, outer);
}

/*
 * RFC 5280 5.2.1: the AKI names the issuer's SKI; an issuer without one
 * gets the key id we would have set (as pki_ca.c does for leaf AKIs).
 */
static enum wd_err
issuer_ski(gnutls_x509_crt_t issuer, uint8_t out[PKI_KEY_ID_MAX], size_t *len)
{
    unsigned critical = 0;
    int ret;

    *len = PKI_KEY_ID_MAX;
    ret = gnutls_x509_crt_get_subject_key_id(issuer, out, len, &critical);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        *len = PKI_KEY_ID_MAX;
        ret =
            gnutls_x509_crt_get_key_id(issuer, GNUTLS_KEYID_USE_SHA1, out, len);
    }
    if (ret < 0) {
        log_err("event=crl_build what=ski err=\"%s\"", gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    return WD_OK;
}

/* Everything but the entries, once b->signer is set. */
static enum wd_err
start(struct pki_crl_builder *b, gnutls_x509_crt_t issuer, const uint8_t *ski,
      size_t ski_len, const struct pki_crl_params *params)
{
    size_t head_len;
    enum wd_err rc;

    if (params->next_update <= params->this_update) {
        log_err("event=crl_build err=\"nextUpdate not after thisUpdate, "
                "RFC 5280 5.1.2.5\"");
        return WD_E_INTERNAL;
    }
    rc = pki_der_sig_algorithm(&b->alg, pki_signer_algorithm(b->signer));
    if (rc == WD_OK) {
        rc = put_head(b, issuer, params);
    }
    if (rc != WD_OK) {
        return rc;
    }
    put_extensions(&b->tail, ski, ski_len, params->number);
    pki_der_data(&b->head, &head_len);
    /* room in front for the head and three headers (entry list,
     * TBSCertList, CertificateList), so that no entry moves for them */
    pki_der_init(&b->body, head_len + 3 * PKI_DER_HEADER_MAX);
    return WD_OK;
}

/*
 * Starts the intermediate's CRL, signed by the CA's signer; ca must
 * outlive the builder. On success the caller owns *out (pki_crl_finish or
 * pki_crl_abort). WD_E_INTERNAL (logged) if next_update is not after
 * this_update or a time has no RFC 5280 form.
 */
enum wd_err
pki_crl_begin(const struct pki_ca *ca, const struct pki_crl_params *params,
              struct pki_crl_builder **out)
{
    struct pki_crl_builder *b = xcalloc(1, sizeof(*b));
    enum wd_err rc;

    b->signer = ca->signer;
    rc = start(b, ca->intermediate, ca->ski, ca->ski_len, params);
    if (rc != WD_OK) {
        goto out;
    }
    *out = b;
    b = NULL;
out:
    pki_crl_abort(b);
    return rc;
}

/*
 * Starts a CRL of the CA whose certificate and key are given as PEM (the
 * root's, with the offline key). The key goes into a signer of its own,
 * which checks that it is the certificate's and wipes it when the
 * builder is freed; the caller wipes its PEM. On success the caller owns
 * *out. WD_E_CONFIG (logged) for an unreadable certificate or key, or a
 * key of another certificate; otherwise as pki_crl_begin.
 */
enum wd_err
pki_crl_begin_with_key(const char *issuer_pem, const char *issuer_key_pem,
                       const struct pki_crl_params *params,
                       struct pki_crl_builder **out)
{
    struct pki_crl_builder *b = xcalloc(1, sizeof(*b));
    gnutls_x509_crt_t issuer = NULL;
    gnutls_datum_t der = { NULL, 0 };
    uint8_t ski[PKI_KEY_ID_MAX];
    size_t ski_len = 0;
    enum wd_err rc;
    int ret;

    rc = pki_crt_import_pem(issuer_pem, "crl_build", "issuer", &issuer);
    if (rc == WD_OK) {
        rc = issuer_ski(issuer, ski, &ski_len);
    }
    if (rc != WD_OK) {
        goto out;
    }
    ret = gnutls_x509_crt_export2(issuer, GNUTLS_X509_FMT_DER, &der);
    if (ret < 0) {
        log_err("event=crl_build what=issuer err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    rc = pki_signer_new(&(struct pki_key_src){ .pem = issuer_key_pem },
                        der.data, der.size, &b->own_signer);
    if (rc != WD_OK) {
        goto out;
    }
    b->signer = b->own_signer;
    rc = start(b, issuer, ski, ski_len, params);
    if (rc != WD_OK) {
        goto out;
    }
    *out = b;
    b = NULL;
out:
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(issuer);
    pki_crl_abort(b);
    return rc;
}

/*
 * Appends one revokedCertificates entry (RFC 5280 5.1.2.6): serial_hex as
 * stored, revoked_at in seconds UTC, and a reasonCode entry extension
 * (5.3.1, non-critical) when reason >= 0. Entries stay in the order
 * added. WD_E_BAD_SERIAL for a serial that is not 1 to 40 lowercase hex
 * digits or is zero, WD_E_BAD_REASON for certificateHold or a code that
 * is no pki_reason, WD_E_INTERNAL (logged) for a time without RFC 5280
 * form. A refused entry leaves the builder as it was.
 */
enum wd_err
pki_crl_add(struct pki_crl_builder *b, const char *serial_hex,
            time_t revoked_at, int reason)
{
    uint8_t serial[PKI_SERIAL_MAX_BYTES];
    size_t serial_len = 0;
    uint8_t e[ENTRY_MAX];
    size_t n = 2; /* after the entry's SEQUENCE header */
    size_t time_len = 0;
    size_t i = 0;

    if (!pki_serial_decode(serial_hex, serial, &serial_len)) {
        return WD_E_BAD_SERIAL;
    }
    if (reason >= 0 && !reason_accepted(reason)) {
        return WD_E_BAD_REASON;
    }
    /* X.690 8.3: the fewest octets, and a 0x00 in front of a set top bit
     * to keep it positive; a serial is never zero, so the loop ends */
    while (serial[i] == 0) {
        i++;
    }
    e[n++] = PKI_DER_INTEGER;
    e[n++] = (uint8_t)(serial_len - i + (serial[i] >> 7));
    if (serial[i] & 0x80) {
        e[n++] = 0;
    }
    memcpy(e + n, serial + i, serial_len - i);
    n += serial_len - i;
    if (pki_der_time_encode(revoked_at, e + n, &time_len) != WD_OK) {
        return WD_E_INTERNAL;
    }
    n += time_len;
    if (reason >= 0) {
        memcpy(e + n, reason_ext, sizeof(reason_ext));
        n += sizeof(reason_ext);
        e[n++] = (uint8_t)reason;
    }
    e[0] = PKI_DER_SEQUENCE;
    e[1] = (uint8_t)(n - 2);
    pki_der_raw(&b->body, e, n);
    b->n_entries++;
    return WD_OK;
}

/*
 * Completes the TBSCertList around the entries, signs it and wraps it
 * into a CertificateList (RFC 5280 5.1.1). On success *der (free()) and
 * *der_len hold the CRL; WD_E_INTERNAL (logged) if signing fails. b is
 * freed either way.
 */
enum wd_err
pki_crl_finish(struct pki_crl_builder *b, uint8_t **der, size_t *der_len)
{
    gnutls_datum_t tbs;
    gnutls_datum_t sig = { NULL, 0 };
    const uint8_t *p;
    size_t len;
    enum wd_err rc = WD_E_INTERNAL;

    /* RFC 5280 5.1.2.6: no list at all when nothing is revoked */
    if (b->n_entries > 0) {
        pki_der_wrap(&b->body, PKI_DER_SEQUENCE);
    }
    p = pki_der_data(&b->head, &len);
    pki_der_prepend(&b->body, p, len);
    p = pki_der_data(&b->tail, &len);
    pki_der_raw(&b->body, p, len);
    pki_der_wrap(&b->body, PKI_DER_SEQUENCE);

    p = pki_der_data(&b->body, &len);
    if (len > UINT_MAX) {
        log_err("event=crl_build err=\"TBSCertList over 4 GiB\"");
        goto out;
    }
    tbs.data = (unsigned char *)p;
    tbs.size = (unsigned)len;
    rc = pki_signer_sign_data(b->signer, &tbs, &sig);
    if (rc != WD_OK) {
        goto out;
    }
    p = pki_der_data(&b->alg, &len);
    pki_der_raw(&b->body, p, len);
    pki_der_bit_string(&b->body, sig.data, sig.size);
    pki_der_wrap(&b->body, PKI_DER_SEQUENCE);
    *der = pki_der_take(&b->body, der_len);
out:
    gnutls_free(sig.data);
    pki_crl_abort(b);
    return rc;
}

/* Frees b and a key it holds (wiped by GnuTLS); accepts NULL. */
void
pki_crl_abort(struct pki_crl_builder *b)
{
    if (b == NULL) {
        return;
    }
    pki_signer_free(b->own_signer);
    pki_der_clear(&b->alg);
    pki_der_clear(&b->head);
    pki_der_clear(&b->tail);
    pki_der_clear(&b->body);
    free(b);
}

/* One DER CRL; WD_E_CONFIG (logged) if GnuTLS cannot decode it. */
static enum wd_err
import_crl(const uint8_t *der, size_t len, gnutls_x509_crl_t *out)
{
    gnutls_x509_crl_t crl = NULL;
    gnutls_datum_t d;
    int ret;

    if (der == NULL || len > UINT_MAX) {
        log_err("event=crl_read err=\"no CRL or over 4 GiB\"");
        return WD_E_CONFIG;
    }
    ret = gnutls_x509_crl_init(&crl);
    if (ret >= 0) {
        d.data = (unsigned char *)der;
        d.size = (unsigned)len;
        ret = gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret < 0) {
        log_err("event=crl_read err=\"%s\"", gnutls_strerror(ret));
        gnutls_x509_crl_deinit(crl);
        return WD_E_CONFIG;
    }
    *out = crl;
    return WD_OK;
}

/*
 * The signature is issuer's, and issuer may sign CRLs (a CA with cRLSign,
 * RFC 5280 4.2.1.3). Dates are the caller's question: an expired root
 * CRL is read precisely to replace it. GnuTLS checks them whatever the
 * flags say and then adds GNUTLS_CERT_INVALID, so both go; the only other
 * lone INVALID it reports is an issuer keyUsage it cannot decode, in a
 * certificate that init made.
 */
static enum wd_err
verify(gnutls_x509_crl_t crl, gnutls_x509_crt_t issuer)
{
    const unsigned dates = GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE |
                           GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED;
    gnutls_datum_t text = { NULL, 0 };
    unsigned status = 0;
    int ret;

    ret = gnutls_x509_crl_verify(crl, &issuer, 1, 0, &status);
    if (ret < 0) {
        log_err("event=crl_read err=\"%s\"", gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    if ((status & dates) != 0) {
        status &= ~(dates | GNUTLS_CERT_INVALID);
    }
    if (status != 0) {
        ret = gnutls_certificate_verification_status_print(
            status, GNUTLS_CRT_X509, &text, 0);
        log_err("event=crl_read what=signature reason=\"%s\"",
                ret >= 0 ? (const char *)text.data : "unknown");
        gnutls_free(text.data);
        return WD_E_CONFIG;
    }
    return WD_OK;
}

/* cRLNumber (RFC 5280 5.2.3, required), thisUpdate, nextUpdate. */
static enum wd_err
read_header(gnutls_x509_crl_t crl, struct pki_crl_info *info)
{
    uint8_t num[SERIAL_DER_MAX];
    size_t num_len = sizeof(num);
    unsigned critical = 0;
    size_t i;
    int ret;

    ret = gnutls_x509_crl_get_number(crl, num, &num_len, &critical);
    if (ret < 0) {
        log_err("event=crl_read what=number err=\"%s\"", gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    for (i = 0; i < num_len && num[i] == 0; i++) {
    }
    if (num_len == 0 || (num[0] & 0x80) || num_len - i > sizeof(uint64_t)) {
        log_err("event=crl_read what=number err=\"negative or over 64 "
                "bits\"");
        return WD_E_CONFIG;
    }
    info->number = 0;
    for (; i < num_len; i++) {
        info->number = info->number << 8 | num[i];
    }
    info->this_update = gnutls_x509_crl_get_this_update(crl);
    info->next_update = gnutls_x509_crl_get_next_update(crl);
    if (info->this_update == (time_t)-1) {
        log_err("event=crl_read err=\"unreadable thisUpdate\"");
        return WD_E_CONFIG;
    }
    if (info->next_update == (time_t)-1) {
        info->next_update = 0; /* RFC 5280 5.1.2.5: absent */
    }
    return WD_OK;
}

/* Every entry's serial and revocation date, in the CRL's order. */
static enum wd_err
read_entries(gnutls_x509_crl_t crl, struct pki_crl_info *info)
{
    gnutls_x509_crl_iter_t iter = NULL;
    struct pki_crl_info_entry *e;
    uint8_t serial[SERIAL_DER_MAX];
    size_t serial_len;
    enum wd_err rc = WD_E_CONFIG;
    int count = gnutls_x509_crl_get_crt_count(crl);
    int ret = 0;

    if (count < 0) {
        log_err("event=crl_read err=\"%s\"", gnutls_strerror(count));
        return WD_E_CONFIG;
    }
    if (count > 0) {
        info->entries = xcalloc((size_t)count, sizeof(*info->entries));
    }
    for (info->n_entries = 0; info->n_entries < (size_t)count;
         info->n_entries++) {
        e = &info->entries[info->n_entries];
        serial_len = sizeof(serial);
        ret = gnutls_x509_crl_iter_crt_serial(crl, &iter, serial, &serial_len,
                                              &e->revoked_at);
        if (ret < 0) {
            log_err("event=crl_read what=entry err=\"%s\"",
                    gnutls_strerror(ret));
            goto out;
        }
        if (!pki_serial_hex(serial, serial_len, e->serial)) {
            log_err("event=crl_read err=\"serial over 20 octets, RFC 5280 "
                    "4.1.2.2\"");
            goto out;
        }
        e->reason = -1;
    }
    rc = WD_OK;
out:
    gnutls_x509_crl_iter_deinit(iter);
    return rc;
}

/* Past a Time (RFC 5280 4.1.2.5): UTCTime or GeneralizedTime. */
static bool
skip_time(struct pki_der_in *in)
{
    struct pki_der_in content;

    return pki_der_read(in, PKI_DER_UTC_TIME, &content) ||
           pki_der_read(in, PKI_DER_GENERALIZED_TIME, &content);
}

/* The reasonCode's ENUMERATED (RFC 5280 5.3.1), wrapped in extnValue. */
static bool
read_reason(struct pki_der_in value, int *reason)
{
    struct pki_der_in code;

    if (*reason >= 0 || !pki_der_read(&value, PKI_DER_ENUMERATED, &code) ||
        value.len != 0 || code.len != 1 || code.p[0] > REASON_MAX ||
        code.p[0] == REASON_UNUSED) {
        return false; /* a second one, or not a CRLReason */
    }
    *reason = code.p[0];
    return true;
}

/*
 * One entry off list: its serial must be e's (as GnuTLS read it), and its
 * reasonCode, if any, goes into e->reason. Other entry extensions are
 * skipped.
 */
static bool
read_entry(struct pki_der_in *list, struct pki_crl_info_entry *e)
{
    struct pki_der_in entry;
    struct pki_der_in serial;
    struct pki_der_in exts;
    struct pki_der_in ext;
    struct pki_der_in oid;
    struct pki_der_in critical;
    struct pki_der_in value;
    char hex[WD_MAX_SERIAL_HEX + 1];

    if (!pki_der_read(list, PKI_DER_SEQUENCE, &entry) ||
        !pki_der_read(&entry, PKI_DER_INTEGER, &serial) ||
        !pki_serial_hex(serial.p, serial.len, hex) ||
        strcmp(hex, e->serial) != 0 || !skip_time(&entry)) {
        return false;
    }
    if (entry.len == 0) {
        return true;
    }
    if (!pki_der_read(&entry, PKI_DER_SEQUENCE, &exts) || entry.len != 0) {
        return false;
    }
    while (exts.len > 0) {
        if (!pki_der_read(&exts, PKI_DER_SEQUENCE, &ext) ||
            !pki_der_read(&ext, PKI_DER_OID, &oid)) {
            return false;
        }
        if (pki_der_next_is(&ext, PKI_DER_BOOLEAN) &&
            !pki_der_read(&ext, PKI_DER_BOOLEAN, &critical)) {
            return false;
        }
        if (!pki_der_read(&ext, PKI_DER_OCTET_STRING, &value) || ext.len != 0) {
            return false;
        }
        if (oid.len == sizeof(oid_reason) &&
            memcmp(oid.p, oid_reason, sizeof(oid_reason)) == 0 &&
            !read_reason(value, &e->reason)) {
            return false;
        }
    }
    return true;
}

/*
 * The entries' reason codes, which GnuTLS does not hand out: a walk over
 * the DER it has already decoded and verified. Entries are matched by
 * position and serial, so the two readings cannot drift apart.
 */
static enum wd_err
read_reasons(const uint8_t *der, size_t len, struct pki_crl_info *info)
{
    struct pki_der_in in = { der, len };
    struct pki_der_in crl;
    struct pki_der_in tbs;
    struct pki_der_in list = { NULL, 0 };
    struct pki_der_in skip;
    size_t i;

    if (!pki_der_read(&in, PKI_DER_SEQUENCE, &crl) ||
        !pki_der_read(&crl, PKI_DER_SEQUENCE, &tbs) ||
        (pki_der_next_is(&tbs, PKI_DER_INTEGER) &&
         !pki_der_read(&tbs, PKI_DER_INTEGER, &skip)) ||
        !pki_der_read(&tbs, PKI_DER_SEQUENCE, &skip) ||
        !pki_der_read(&tbs, PKI_DER_SEQUENCE, &skip) || !skip_time(&tbs)) {
        goto bad;
    }
    (void)skip_time(&tbs); /* nextUpdate is optional */
    if (pki_der_next_is(&tbs, PKI_DER_SEQUENCE) &&
        !pki_der_read(&tbs, PKI_DER_SEQUENCE, &list)) {
        goto bad;
    }
    for (i = 0; i < info->n_entries; i++) {
        if (!read_entry(&list, &info->entries[i])) {
            goto bad;
        }
    }
    if (list.len != 0) {
        goto bad;
    }
    return WD_OK;
bad:
    log_err("event=crl_read err=\"entries do not decode as GnuTLS read "
            "them, RFC 5280 5.1.2.6\"");
    return WD_E_CONFIG;
}

/*
 * Decodes a DER CRL, verifies its signature against the certificate in
 * issuer_pem, and fills *out: number, thisUpdate, nextUpdate (0 when
 * absent) and every entry with its serial as stored, revocation date and
 * reason (-1 when absent). Dates are not checked. The caller releases
 * *out with pki_crl_info_clear. WD_E_CONFIG (logged) for a CRL that does
 * not decode, is not signed by issuer, or has no CRL number; *out is
 * written only on success. GnuTLS decodes in time quadratic in the entry
 * count (10,000 entries take a second, 20,000 seven): this is for the
 * root's short CRL, never the intermediate's.
 */
enum wd_err
pki_crl_read(const uint8_t *der, size_t len, const char *issuer_pem,
             struct pki_crl_info *out)
{
    gnutls_x509_crt_t issuer = NULL;
    gnutls_x509_crl_t crl = NULL;
    struct pki_crl_info info;
    enum wd_err rc;

    memset(&info, 0, sizeof(info));
    rc = pki_crt_import_pem(issuer_pem, "crl_read", "issuer", &issuer);
    if (rc == WD_OK) {
        rc = import_crl(der, len, &crl);
    }
    if (rc == WD_OK) {
        rc = verify(crl, issuer);
    }
    if (rc == WD_OK) {
        rc = read_header(crl, &info);
    }
    if (rc == WD_OK) {
        rc = read_entries(crl, &info);
    }
    if (rc == WD_OK) {
        rc = read_reasons(der, len, &info);
    }
    if (rc != WD_OK) {
        goto out;
    }
    *out = info;
    memset(&info, 0, sizeof(info));
out:
    pki_crl_info_clear(&info);
    gnutls_x509_crl_deinit(crl);
    gnutls_x509_crt_deinit(issuer);
    return rc;
}

/* Frees the entries and zeroes info; accepts NULL. */
void
pki_crl_info_clear(struct pki_crl_info *info)
{
    if (info == NULL) {
        return;
    }
    free(info->entries);
    memset(info, 0, sizeof(*info));
}
