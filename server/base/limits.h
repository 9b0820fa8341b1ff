/*
 * Every bound on untrusted input, with the reason for its value. Code that
 * reads from the network checks against these before it reads.
 */
#ifndef WD_LIMITS_H
#define WD_LIMITS_H

/* A CSR with a few dozen names is under 8 KiB; 64 KiB leaves room for
 * RSA-8192 and long SAN lists while keeping a request's memory trivial. */
#define WD_MAX_CSR_BYTES (64 * 1024)

/* Bodies of routes that take no CSR (revoke reasons, small JSON). */
#define WD_MAX_SMALL_BODY_BYTES (4 * 1024)

/* Certificates for hundreds of names are an operational smell; 100 covers
 * every real multi-name service while bounding issuance work. */
#define WD_MAX_SANS 100

/* RFC 1035: 253 characters in a DNS name, 63 in a label. */
#define WD_MAX_DNS_NAME 253
#define WD_MAX_DNS_LABEL 63

/* URIs (spiffe://...) and email addresses: generous, bounded. */
#define WD_MAX_URI 2048
#define WD_MAX_EMAIL 320

/* A subject DN rendered as text; longer subjects are refused. */
#define WD_MAX_SUBJECT 1024

/* RSA moduli we accept, in bits. */
#define WD_MIN_RSA_BITS 2048
#define WD_MAX_RSA_BITS 8192

/* RFC 5280 4.1.2.2: at most 20 octets, so at most 40 hex digits. */
#define WD_MAX_SERIAL_HEX 40

/* Inventory pages: 1000 rows of JSON is a few hundred KiB at most. */
#define WD_LIST_LIMIT_MAX 1000
#define WD_LIST_LIMIT_DEFAULT 100

/* The q search term: longer than any CN, SAN or serial is meaningless. */
#define WD_MAX_QUERY_TERM 256

/* Request path and query string, as received. */
#define WD_MAX_URL 4096

/* JSON nesting jansson will follow in request bodies. */
#define WD_MAX_JSON_DEPTH 16

/* Connections served at once on each listener; idle ones time out. */
#define WD_MAX_CONNECTIONS 512
#define WD_CONNECTION_TIMEOUT_S 30

/* Grace for clients with slow clocks (PRODUCT: not_before = now - 5 min). */
#define WD_BACKDATE_S (5 * 60)

#endif
