/*
 * Key types: the names init accepts for the keys it generates, the names
 * we give the keys found in CSRs and certificates, and which of those keys
 * we sign for. The signature hash follows the signing key, so that an
 * ECDSA signature is never weaker than its curve. Generated keys leave as
 * PKCS#8 PEM, with GnuTLS's copy wiped.
 */
#include "pki_priv.h"

#include <stdio.h>
#include <string.h>

#include "../base/log.h"

static const struct keygen_row {
    enum pki_keygen kg;
    const char *name;
    gnutls_pk_algorithm_t pk;
    unsigned bits; /* GnuTLS's bits argument: modulus size or curve */
} keygens[] = {
    { PKI_KEYGEN_ECDSA_P256, "ecdsa-p256", GNUTLS_PK_ECDSA,
      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) },
    { PKI_KEYGEN_ECDSA_P384, "ecdsa-p384", GNUTLS_PK_ECDSA,
      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1) },
    { PKI_KEYGEN_RSA_2048, "rsa-2048", GNUTLS_PK_RSA, 2048 },
    { PKI_KEYGEN_RSA_3072, "rsa-3072", GNUTLS_PK_RSA, 3072 },
    { PKI_KEYGEN_RSA_4096, "rsa-4096", GNUTLS_PK_RSA, 4096 },
    { PKI_KEYGEN_ED25519, "ed25519", GNUTLS_PK_EDDSA_ED25519,
      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519) },
};

#define N_KEYGENS (sizeof(keygens) / sizeof(keygens[0]))

static const struct keygen_row *
find_keygen(enum pki_keygen kg)
{
    size_t i;

    for (i = 0; i < N_KEYGENS; i++) {
        if (keygens[i].kg == kg) {
            return &keygens[i];
        }
    }
    return NULL;
}

/*
 * Sets *out to the key type called name ("ecdsa-p256", "rsa-3072", ...).
 * Returns false, leaving *out alone, for NULL or any other name.
 */
bool
pki_keygen_parse(const char *name, enum pki_keygen *out)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; i < N_KEYGENS; i++) {
        if (strcmp(name, keygens[i].name) == 0) {
            *out = keygens[i].kg;
            return true;
        }
    }
    return false;
}

/* The name of kg as pki_keygen_parse reads it; "unknown" for no type. */
const char *
pki_keygen_name(enum pki_keygen kg)
{
    const struct keygen_row *row = find_keygen(kg);

    return row != NULL ? row->name : "unknown";
}

/*
 * Generates a fresh key of type kg from GnuTLS's key-grade random source.
 * On success the caller owns *out (gnutls_x509_privkey_deinit, after
 * which GnuTLS has wiped it); WD_E_INTERNAL on failure.
 */
enum wd_err
pki_key_generate(enum pki_keygen kg, gnutls_x509_privkey_t *out)
{
    const struct keygen_row *row = find_keygen(kg);
    gnutls_x509_privkey_t key = NULL;
    enum wd_err rc = WD_E_INTERNAL;
    int ret;

    if (row == NULL) {
        log_err("event=key_generate err=\"unknown key type %d\"", (int)kg);
        goto out;
    }
    ret = gnutls_x509_privkey_init(&key);
    if (ret < 0) {
        log_err("event=key_generate err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_x509_privkey_generate(key, row->pk, row->bits, 0);
    if (ret < 0) {
        log_err("event=key_generate type=%s err=\"%s\"", row->name,
                gnutls_strerror(ret));
        goto out;
    }
    *out = key;
    key = NULL;
    rc = WD_OK;
out:
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    return rc;
}

/*
 * Exports key as unencrypted PKCS#8 PEM into *out, which the caller owns
 * (wipe it, then free; whoever writes it to disk uses mode 0600). GnuTLS's
 * copy is wiped. WD_E_INTERNAL, logged as "event=<event>
 * what=export_key", if GnuTLS fails; *out is written only on success.
 */
enum wd_err
pki_key_export_pem(gnutls_x509_privkey_t key, const char *event, char **out)
{
    gnutls_datum_t d = { NULL, 0 };
    int ret;

    ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
                                            GNUTLS_PKCS_PLAIN, &d);
    if (ret < 0) {
        log_err("event=%s what=export_key err=\"%s\"", event,
                gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    *out = pki_datum_take_str(&d); /* wipes GnuTLS's copy */
    return WD_OK;
}

static enum wd_err
ecdsa_type(gnutls_pubkey_t pub, char out[PKI_KEY_TYPE_MAX])
{
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    int ret;

    ret = gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0);
    if (ret < 0) {
        log_info("event=key_refused err=\"%s\"", gnutls_strerror(ret));
        return WD_E_UNSUPPORTED_KEY;
    }
    switch (curve) {
    case GNUTLS_ECC_CURVE_SECP256R1:
        snprintf(out, PKI_KEY_TYPE_MAX, "ecdsa-p256");
        return WD_OK;
    case GNUTLS_ECC_CURVE_SECP384R1:
        snprintf(out, PKI_KEY_TYPE_MAX, "ecdsa-p384");
        return WD_OK;
    case GNUTLS_ECC_CURVE_SECP521R1:
        snprintf(out, PKI_KEY_TYPE_MAX, "ecdsa-p521");
        return WD_OK;
    default:
        log_info("event=key_refused reason=\"curve %s not accepted\"",
                 gnutls_ecc_curve_get_name(curve));
        return WD_E_UNSUPPORTED_KEY;
    }
}

/*
 * Names the key pub ("ecdsa-p256", "rsa-2048", "ed25519") into out if we
 * sign for it: RSA of WD_MIN_RSA_BITS..WD_MAX_RSA_BITS, ECDSA on P-256,
 * P-384 or P-521, Ed25519. WD_E_WEAK_KEY for a smaller RSA modulus,
 * WD_E_UNSUPPORTED_KEY for anything else (DSA, RSA-PSS, Ed448, other
 * curves, a larger modulus). out is written only on success.
 */
enum wd_err
pki_key_type(gnutls_pubkey_t pub, char out[PKI_KEY_TYPE_MAX])
{
    unsigned bits = 0;
    int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);

    switch (pk) {
    case GNUTLS_PK_RSA:
        if (bits < WD_MIN_RSA_BITS) {
            log_info("event=key_refused reason=\"RSA modulus of %u bits\"",
                     bits);
            return WD_E_WEAK_KEY;
        }
        if (bits > WD_MAX_RSA_BITS) {
            log_info("event=key_refused reason=\"RSA modulus of %u bits\"",
                     bits);
            return WD_E_UNSUPPORTED_KEY;
        }
        snprintf(out, PKI_KEY_TYPE_MAX, "rsa-%u", bits);
        return WD_OK;
    case GNUTLS_PK_ECDSA:
        return ecdsa_type(pub, out);
    case GNUTLS_PK_EDDSA_ED25519:
        snprintf(out, PKI_KEY_TYPE_MAX, "ed25519");
        return WD_OK;
    default:
        log_info("event=key_refused reason=\"algorithm %s not accepted\"",
                 pk < 0 ? gnutls_strerror(pk)
                        : gnutls_pk_get_name((gnutls_pk_algorithm_t)pk));
        return WD_E_UNSUPPORTED_KEY;
    }
}

/*
 * The hash a signature by the private half of pub uses: SHA-256 for RSA
 * and P-256, SHA-384 for P-384, SHA-512 for P-521, and for Ed25519 what
 * GnuTLS prefers (EdDSA hashes internally; GnuTLS wants SHA-512 named).
 * WD_E_INTERNAL for a key we never sign with.
 */
enum wd_err
pki_key_digest(gnutls_pubkey_t pub, gnutls_digest_algorithm_t *out)
{
    char type[PKI_KEY_TYPE_MAX];
    int ret;

    if (pki_key_type(pub, type) != WD_OK) {
        log_err("event=key_digest err=\"signing key type not accepted\"");
        return WD_E_INTERNAL;
    }
    if (strcmp(type, "ecdsa-p384") == 0) {
        *out = GNUTLS_DIG_SHA384;
    } else if (strcmp(type, "ecdsa-p521") == 0) {
        *out = GNUTLS_DIG_SHA512;
    } else if (strcmp(type, "ed25519") == 0) {
        ret = gnutls_pubkey_get_preferred_hash_algorithm(pub, out, NULL);
        if (ret < 0) {
            log_err("event=key_digest err=\"%s\"", gnutls_strerror(ret));
            return WD_E_INTERNAL;
        }
    } else {
        *out = GNUTLS_DIG_SHA256;
    }
    return WD_OK;
}
