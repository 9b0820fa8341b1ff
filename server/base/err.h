/*
 * One vocabulary of failure reasons for every module. Parsers and checks
 * return the reason they failed; api/api_error.c maps each reason to an HTTP
 * status and a JSON error code in one table, and the CLI prints
 * wd_err_str(). Adding a value means adding its row there (a unit test
 * walks the enum to prove it).
 */
#ifndef WD_ERR_H
#define WD_ERR_H

enum wd_err {
    WD_OK = 0,
    WD_E_INTERNAL,            /* a bug or library failure; cause logged */
    WD_E_CSR_SYNTAX,          /* not exactly one PEM or DER request */
    WD_E_CSR_SIGNATURE,       /* the request's self-signature does not verify */
    WD_E_WEAK_KEY,            /* an allowed algorithm, but too small */
    WD_E_UNSUPPORTED_KEY,     /* an algorithm, curve or size we never sign */
    WD_E_BAD_NAME,            /* a subject or SAN that is not a valid name */
    WD_E_NO_NAMES,            /* neither a SAN nor a usable CN */
    WD_E_TOO_MANY_NAMES,      /* more SANs than WD_MAX_SANS */
    WD_E_JSON_SYNTAX,         /* body is not one well-formed JSON object */
    WD_E_JSON_FIELDS,         /* unknown, missing or wrongly typed member */
    WD_E_BAD_PROFILE,         /* not server, client or server-client */
    WD_E_BAD_VALIDITY,        /* not a duration, or outside the bounds */
    WD_E_BAD_SERIAL,          /* not 1 to 40 lowercase hex digits */
    WD_E_BAD_QUERY,           /* unknown query parameter or bad value */
    WD_E_BAD_CURSOR,          /* a pagination cursor we did not hand out */
    WD_E_NOT_FOUND,           /* no such route or object */
    WD_E_METHOD,              /* route exists, method does not */
    WD_E_MEDIA_TYPE,          /* Content-Type we do not read */
    WD_E_NOT_ACCEPTABLE,      /* Accept names nothing we produce */
    WD_E_LENGTH_REQUIRED,     /* a body without Content-Length */
    WD_E_TOO_LARGE,           /* body over the route's limit */
    WD_E_CLIENT_CERT_MISSING, /* API listener: no client certificate */
    WD_E_CLIENT_CERT_INVALID, /* foreign, expired or otherwise unusable */
    WD_E_FORBIDDEN,           /* authenticated, but the role may not do this */
    WD_E_CROSS_ORIGIN,        /* a browser's write sent from another origin */
    WD_E_NAME_NOT_ALLOWED,    /* a name outside the caller's grants */
    WD_E_ALREADY_REVOKED,
    WD_E_BAD_REASON,      /* not an RFC 5280 reason we accept */
    WD_E_OCSP_MALFORMED,  /* not one well-formed OCSP request */
    WD_E_CONFLICT,        /* a unique key (serial) already exists */
    WD_E_CA_EXISTS,       /* init on a directory that holds a CA */
    WD_E_NO_CA,           /* serve on a directory with a partial CA */
    WD_E_CONFIG,          /* warden.conf is unreadable or invalid */
    WD_E_IO,              /* a file could not be read or written */
    WD_E_UNAVAILABLE,     /* store busy or shutting down; retry */
    WD_E_KEY_UNPROTECTED, /* a key file or the data dir is open to others */
    WD_E_JWS_MALFORMED,   /* not a well-formed JWS, JWK or base64url */
    WD_E_JWS_SIGNATURE,   /* a JWS signature that does not verify */
    WD_E__COUNT           /* not an error: the number of values */
};

/* A fixed sentence for err, safe to show to a client; never NULL. */
const char *wd_err_str(enum wd_err err);

#endif
