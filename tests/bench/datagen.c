/*
 * datagen: fills the store of a data dir made by `warden init` with N real
 * certificates, M of them revoked, fast enough to benchmark the inventory,
 * the CRL and OCSP at a million rows (tests/bench/run).
 *
 * Each certificate is a genuine leaf of the dir's intermediate: one is
 * issued through Warden's own pki_cert_issue as a template, and every
 * other one is that template with its serial, validity, subject, key, SKI
 * and SAN swapped in, re-signed with the intermediate's key (GnuTLS). So
 * the extensions, issuer and URLs are byte for byte what the daemon
 * writes; the first certificate made is decoded with pki_cert_parse and
 * checked against the columns datagen writes for it. Subject keys come
 * from a pool of P-256 keys (a leaf's key plays no part in any figure).
 * CNs are svc-<i>.<team>.internal; not_after is spread over the next 400
 * days (about 1% already expired); the revoked ones are spread evenly
 * through the inventory with a mix of RFC 5280 reasons.
 *
 * Rows go into SQLite directly, bypassing the store (whose inserts commit
 * one row at a time, fsync'd): worker threads sign, one writer inserts
 * everything in one transaction with synchronous=OFF into the schema
 * `warden init` created, with the secondary indexes and the FTS triggers
 * set aside and rebuilt from their own SQL at the end (an INSERT that no
 * longer fits the schema fails with SQLite's message). A failure leaves
 * the store as it was. No audit events are written for these rows: the
 * audit log is a hash chain (store/store_audit.c) and the benchmarks do
 * not read it. Run it on the dir of a stopped daemon.
 *
 * Usage: datagen --dir D --certs N [--revoked M] [--threads T]
 * Prints one JSON line: certs, revoked, seconds, certs_per_s, the phases
 * (sign_insert_s, index_s: rebuilding what was set aside, checkpoint_s)
 * and db_bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../server/base/log.h"
#include "../../server/base/parse.h"
#include "../../server/base/xmalloc.h"
#include "../../server/pki/pki.h"

#define DAY_S (24 * 3600)
/* Rows a worker hands the writer at once. */
#define BATCH_ROWS 1000
/* Subject keys to cycle: enough that SKIs vary, cheap to make. */
#define KEY_POOL 64
#define CN_MAX 96

/* The teams in CNs: a q= search on one matches about 1 row in 12. */
static const char *const teams[] = {
    "payments", "search", "billing", "identity", "storage", "edge",
    "ml",       "ops",    "mail",    "data",     "mobile",  "infra",
};
#define N_TEAMS (sizeof(teams) / sizeof(teams[0]))

/* RFC 5280 5.3.1 reasons Warden accepts (never certificateHold). */
static const int reasons[] = { 0, 1, 3, 4, 5, 9, 1, 4 };
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

static const uint8_t oid_cn[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
static const uint8_t oid_ski[] = { 0x06, 0x03, 0x55, 0x1d, 0x0e };
static const uint8_t oid_san[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };

/* A growable byte buffer for DER. */
struct buf {
    uint8_t *p;
    size_t len;
    size_t cap;
};

/* A DER element inside a buffer we were given. */
struct tlv {
    const uint8_t *start; /* tag byte */
    size_t total;         /* tag, length and value */
    uint8_t tag;
    const uint8_t *val;
    size_t len;
};

/* What varies per certificate is rebuilt; the rest is the template's. */
struct tmpl {
    struct buf version;  /* [0] INTEGER 2 */
    struct buf sig_alg;  /* AlgorithmIdentifier, inside and outside TBS */
    struct buf issuer;   /* the intermediate's subject */
    struct buf exts_pre; /* extensions before SKI/SAN, raw, in order */
    struct buf exts_mid; /* between them */
    struct buf exts_end; /* after both */
    bool ski_first;      /* SKI comes before SAN in the template */
    gnutls_sign_algorithm_t sign_algo;
};

/* A subject key of the pool: its SubjectPublicKeyInfo and SKI. */
struct pool_key {
    gnutls_datum_t spki;
    uint8_t id[20];
    size_t id_len;
};

/* One row as the writer binds it. */
struct row {
    char serial[WD_MAX_SERIAL_HEX + 1];
    char cn[CN_MAX];
    char subject[CN_MAX + 3];
    char sans[CN_MAX + 4];
    char fingerprint[65];
    int64_t not_before;
    int64_t not_after;
    int64_t issued_at;
    int64_t revoked_at; /* 0 when valid */
    int reason;
    size_t der_off; /* into the batch's der buffer */
    size_t der_len;
};

struct batch {
    struct row rows[BATCH_ROWS];
    size_t n;
    struct buf der;
    bool ready;
};

/* What the workers and the writer share. */
struct job {
    const struct tmpl *t;
    const struct pool_key *keys;
    const char *key_pem; /* the intermediate's key, PEM */
    uint64_t n_certs;
    uint64_t n_revoked;
    int64_t now;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t next_batch; /* the next batch a worker claims */
    uint64_t write_next; /* the batch the writer waits for */
    uint64_t n_batches;
    struct batch *slots;
    size_t n_slots;
    bool failed;
};

_Noreturn static void
die(const char *what)
{
    fprintf(stderr, "datagen: %s\n", what);
    exit(1);
}

static void
buf_put(struct buf *b, const void *d, size_t n)
{
    if (n == 0) {
        return; /* an empty template part: d may be NULL */
    }
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

/* X.690 8.1.3: definite length, short or long form. */
static void
put_len(struct buf *b, size_t n)
{
    uint8_t l[5];
    size_t k = 0;

    if (n < 0x80) {
        l[k++] = (uint8_t)n;
    } else if (n < 0x100) {
        l[k++] = 0x81;
        l[k++] = (uint8_t)n;
    } else if (n < 0x10000) {
        l[k++] = 0x82;
        l[k++] = (uint8_t)(n >> 8);
        l[k++] = (uint8_t)n;
    } else {
        l[k++] = 0x83;
        l[k++] = (uint8_t)(n >> 16);
        l[k++] = (uint8_t)(n >> 8);
        l[k++] = (uint8_t)n;
    }
    buf_put(b, l, k);
}

static void
put_tlv(struct buf *b, uint8_t tag, const void *val, size_t len)
{
    buf_put(b, &tag, 1);
    put_len(b, len);
    buf_put(b, val, len);
}

/* Reads one element at *p (definite lengths up to 4 bytes); advances. */
static bool
tlv_read(const uint8_t **p, const uint8_t *end, struct tlv *out)
{
    const uint8_t *q = *p;
    size_t len = 0;

    if (end - q < 2) {
        return false;
    }
    out->start = q;
    out->tag = *q++;
    if (*q < 0x80) {
        len = *q++;
    } else {
        size_t k = *q++ & 0x7f;

        if (k == 0 || k > 4 || (size_t)(end - q) < k) {
            return false;
        }
        while (k-- > 0) {
            len = len << 8 | *q++;
        }
    }
    if ((size_t)(end - q) < len) {
        return false;
    }
    out->val = q;
    out->len = len;
    out->total = (size_t)(q - out->start) + len;
    *p = q + len;
    return true;
}

static bool
tlv_is_oid(const struct tlv *ext, const uint8_t *oid, size_t oid_len)
{
    /* Extension ::= SEQUENCE { extnID, critical?, extnValue } */
    return ext->len >= oid_len && memcmp(ext->val, oid, oid_len) == 0;
}

/*
 * Splits the template certificate into the parts every leaf shares and
 * notes where SKI and SAN sit among the extensions.
 */
static void
tmpl_split(const uint8_t *der, size_t len, struct tmpl *t)
{
    const uint8_t *p = der;
    const uint8_t *end = der + len;
    struct tlv cert, tbs, e, exts, seq;
    const uint8_t *tp, *tend, *xp, *xend;
    int seen = 0; /* SKI or SAN found so far */
    int i;

    if (!tlv_read(&p, end, &cert)) {
        die("template: not DER");
    }
    p = cert.val;
    if (!tlv_read(&p, cert.val + cert.len, &tbs)) {
        die("template: no TBSCertificate");
    }
    tp = tbs.val;
    tend = tbs.val + tbs.len;
    /* version, serial, signature, issuer, validity, subject, spki */
    for (i = 0; i < 7; i++) {
        if (!tlv_read(&tp, tend, &e)) {
            die("template: short TBSCertificate");
        }
        if (i == 0) {
            buf_put(&t->version, e.start, e.total);
        } else if (i == 2) {
            buf_put(&t->sig_alg, e.start, e.total);
        } else if (i == 3) {
            buf_put(&t->issuer, e.start, e.total);
        }
    }
    if (!tlv_read(&tp, tend, &exts) || exts.tag != 0xa3) {
        die("template: no extensions");
    }
    xp = exts.val;
    if (!tlv_read(&xp, exts.val + exts.len, &seq)) {
        die("template: bad extensions");
    }
    xp = seq.val;
    xend = seq.val + seq.len;
    while (xp < xend) {
        bool ski, san;

        if (!tlv_read(&xp, xend, &e)) {
            die("template: bad extension");
        }
        ski = tlv_is_oid(&e, oid_ski, sizeof(oid_ski));
        san = tlv_is_oid(&e, oid_san, sizeof(oid_san));
        if (ski || san) {
            if (seen == 0) {
                t->ski_first = ski;
            }
            seen++;
            continue;
        }
        buf_put(seen == 0   ? &t->exts_pre
                : seen == 1 ? &t->exts_mid
                            : &t->exts_end,
                e.start, e.total);
    }
    if (seen != 2) {
        die("template: expected one SKI and one SAN extension");
    }
}

/* UTCTime (RFC 5280 4.1.2.5.1: dates before 2050), YYMMDDHHMMSSZ. */
static void
put_time(struct buf *b, int64_t at)
{
    time_t tt = (time_t)at;
    struct tm tm;
    int f[6];
    char s[13];
    int i;

    gmtime_r(&tt, &tm);
    f[0] = tm.tm_year % 100;
    f[1] = tm.tm_mon + 1;
    f[2] = tm.tm_mday;
    f[3] = tm.tm_hour;
    f[4] = tm.tm_min;
    f[5] = tm.tm_sec;
    for (i = 0; i < 6; i++) {
        s[2 * i] = (char)('0' + f[i] / 10);
        s[2 * i + 1] = (char)('0' + f[i] % 10);
    }
    s[12] = 'Z';
    put_tlv(b, 0x17, s, sizeof(s));
}

/* Scratch buffers of one worker, reused for every certificate. */
struct scratch {
    struct buf tbs, body, exts, a, b, c, cert;
};

static void
scratch_free(struct scratch *s)
{
    free(s->tbs.p);
    free(s->body.p);
    free(s->exts.p);
    free(s->a.p);
    free(s->b.p);
    free(s->c.p);
    free(s->cert.p);
}

/* The SKI or SAN extension for this leaf, appended to out. */
static void
put_ext(struct scratch *s, struct buf *out, bool ski, const struct row *r,
        const struct pool_key *k)
{
    s->a.len = 0;
    s->b.len = 0;
    s->c.len = 0;
    if (ski) {
        buf_put(&s->c, oid_ski, sizeof(oid_ski));
        put_tlv(&s->a, 0x04, k->id, k->id_len);
    } else {
        buf_put(&s->c, oid_san, sizeof(oid_san));
        /* GeneralNames: one dNSName [2], the CN (PRODUCT: CN to SAN) */
        put_tlv(&s->b, 0x82, r->cn, strlen(r->cn));
        put_tlv(&s->a, 0x30, s->b.p, s->b.len);
    }
    put_tlv(&s->c, 0x04, s->a.p, s->a.len);
    put_tlv(out, 0x30, s->c.p, s->c.len);
}

/*
 * The DER of r's certificate in s->cert, signed by key: the template with
 * r's serial, validity, subject, SKI, SAN and key k.
 */
static void
cert_build(const struct tmpl *t, gnutls_privkey_t key, struct scratch *s,
           const struct row *r, const uint8_t *serial, size_t serial_len,
           const struct pool_key *k)
{
    gnutls_datum_t tbs, sig = { NULL, 0 };
    struct buf *exts = &s->exts;
    uint8_t zero = 0;
    int ret;

    s->body.len = 0;
    buf_put(&s->body, t->version.p, t->version.len);
    put_tlv(&s->body, 0x02, serial, serial_len);
    buf_put(&s->body, t->sig_alg.p, t->sig_alg.len);
    buf_put(&s->body, t->issuer.p, t->issuer.len);
    s->a.len = 0;
    put_time(&s->a, r->not_before);
    put_time(&s->a, r->not_after);
    put_tlv(&s->body, 0x30, s->a.p, s->a.len);
    /* Name: one RDN, CN as UTF8String */
    s->a.len = 0;
    s->b.len = 0;
    buf_put(&s->b, oid_cn, sizeof(oid_cn));
    put_tlv(&s->b, 0x0c, r->cn, strlen(r->cn));
    put_tlv(&s->a, 0x30, s->b.p, s->b.len);
    s->b.len = 0;
    put_tlv(&s->b, 0x31, s->a.p, s->a.len);
    put_tlv(&s->body, 0x30, s->b.p, s->b.len);
    buf_put(&s->body, k->spki.data, k->spki.size);
    /* extensions, in the template's order */
    exts->len = 0;
    buf_put(exts, t->exts_pre.p, t->exts_pre.len);
    put_ext(s, exts, t->ski_first, r, k);
    buf_put(exts, t->exts_mid.p, t->exts_mid.len);
    put_ext(s, exts, !t->ski_first, r, k);
    buf_put(exts, t->exts_end.p, t->exts_end.len);
    s->a.len = 0;
    put_tlv(&s->a, 0x30, exts->p, exts->len);
    put_tlv(&s->body, 0xa3, s->a.p, s->a.len);

    s->tbs.len = 0;
    put_tlv(&s->tbs, 0x30, s->body.p, s->body.len);
    tbs.data = s->tbs.p;
    tbs.size = (unsigned)s->tbs.len;
    ret = gnutls_privkey_sign_data2(key, t->sign_algo, 0, &tbs, &sig);
    if (ret < 0) {
        die(gnutls_strerror(ret));
    }
    s->body.len = 0;
    buf_put(&s->body, s->tbs.p, s->tbs.len);
    buf_put(&s->body, t->sig_alg.p, t->sig_alg.len);
    s->a.len = 0;
    buf_put(&s->a, &zero, 1); /* BIT STRING: no unused bits */
    buf_put(&s->a, sig.data, sig.size);
    put_tlv(&s->body, 0x03, s->a.p, s->a.len);
    gnutls_free(sig.data);
    s->cert.len = 0;
    put_tlv(&s->cert, 0x30, s->body.p, s->body.len);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: the dataset's layout is a function of the row index. */
static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Row i's names, times and revocation (everything but DER and serial). */
static void
row_plan(const struct job *j, uint64_t i, struct row *r)
{
    /* issued over the last 60 days, in id order */
    int64_t span = 60 * DAY_S;
    int64_t issued =
        j->now - span + (int64_t)((uint64_t)span * i / (j->n_certs + 1));
    /* expiring up to 400 days ahead; 1 in 80 already expired */
    int64_t ahead = (int64_t)(mix(i) % (400ULL * DAY_S));
    uint64_t lo = i * j->n_revoked / j->n_certs;
    uint64_t hi = (i + 1) * j->n_revoked / j->n_certs;

    if (mix(i ^ 0x5a5a) % 80 == 0) {
        ahead = -(int64_t)(mix(i ^ 0xa5) % (5 * DAY_S)) - 60;
    }
    snprintf(r->cn, sizeof(r->cn), "svc-%llu.%s.internal",
             (unsigned long long)i, teams[mix(i ^ 0x77) % N_TEAMS]);
    snprintf(r->subject, sizeof(r->subject), "CN=%s", r->cn);
    snprintf(r->sans, sizeof(r->sans), "DNS:%s", r->cn);
    r->issued_at = issued;
    r->not_before = issued - WD_BACKDATE_S;
    r->not_after = j->now + ahead;
    if (r->not_after <= issued + 3600) {
        r->not_after = issued + 3600;
    }
    r->revoked_at = 0;
    r->reason = 0;
    if (hi > lo) { /* M of N rows, evenly spread */
        r->revoked_at =
            issued + (int64_t)(mix(i ^ 0x3c) % (uint64_t)(j->now - issued));
        r->reason = reasons[mix(i ^ 0xc3) % N_REASONS];
    }
}

/* A fresh serial as pki_serial_new makes them; DER INTEGER bytes out. */
static void
serial_new(struct row *r, uint8_t der[17], size_t *der_len)
{
    uint8_t b[16];
    int ret;

    do {
        ret = gnutls_rnd(GNUTLS_RND_NONCE, b, sizeof(b));
        if (ret < 0) {
            die(gnutls_strerror(ret));
        }
    } while (b[0] == 0);
    wd_hex_encode(b, sizeof(b), r->serial);
    *der_len = 0;
    if (b[0] & 0x80) {
        der[(*der_len)++] = 0; /* X.690 8.3: positive */
    }
    memcpy(der + *der_len, b, sizeof(b));
    *der_len += sizeof(b);
}

static void
fingerprint(const uint8_t *der, size_t len, char out[65])
{
    uint8_t d[32];

    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, d) < 0) {
        die("sha256");
    }
    wd_hex_encode(d, sizeof(d), out);
}

static gnutls_privkey_t
key_load(const char *pem)
{
    gnutls_privkey_t key = NULL;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
    int ret;

    ret = gnutls_privkey_init(&key);
    if (ret >= 0) {
        ret = gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM, NULL,
                                             0);
    }
    if (ret < 0) {
        fprintf(stderr,
                "datagen: intermediate.key: %s (an encrypted or PKCS#11 "
                "key is not supported)\n",
                gnutls_strerror(ret));
        exit(1);
    }
    return key;
}

static void
fill_batch(struct job *j, gnutls_privkey_t key, struct scratch *s, uint64_t b,
           struct batch *out)
{
    uint64_t first = b * BATCH_ROWS;
    uint64_t i;

    out->n = 0;
    out->der.len = 0;
    for (i = first; i < j->n_certs && i < first + BATCH_ROWS; i++) {
        struct row *r = &out->rows[out->n++];
        uint8_t serial[17];
        size_t serial_len;

        row_plan(j, i, r);
        serial_new(r, serial, &serial_len);
        cert_build(j->t, key, s, r, serial, serial_len, &j->keys[i % KEY_POOL]);
        fingerprint(s->cert.p, s->cert.len, r->fingerprint);
        r->der_off = out->der.len;
        r->der_len = s->cert.len;
        buf_put(&out->der, s->cert.p, s->cert.len);
    }
}

static void *
worker(void *arg)
{
    struct job *j = arg;
    gnutls_privkey_t key = key_load(j->key_pem);
    struct scratch s = { 0 };
    uint64_t b;

    for (;;) {
        struct batch *slot;

        pthread_mutex_lock(&j->mu);
        b = j->next_batch++;
        while (!j->failed && b < j->n_batches &&
               b >= j->write_next + j->n_slots) {
            pthread_cond_wait(&j->cv, &j->mu);
        }
        pthread_mutex_unlock(&j->mu);
        if (j->failed || b >= j->n_batches) {
            break;
        }
        slot = &j->slots[b % j->n_slots];
        fill_batch(j, key, &s, b, slot);
        pthread_mutex_lock(&j->mu);
        slot->ready = true;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    scratch_free(&s);
    gnutls_privkey_deinit(key);
    return NULL;
}

static void
sql_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "datagen: %s: %s\n", sql, msg);
        exit(1);
    }
}

static const char insert_sql[] =
    "INSERT INTO certificates (serial, der, subject, cn, sans, key_type,"
    " profile, requester, fingerprint, not_before, not_after, issued_at,"
    " revoked_at, revoke_reason)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 'ecdsa-p256', 'server-client', 'admin',"
    " ?6, ?7, ?8, ?9, ?10, ?11)";

static void
insert_batch(sqlite3 *db, sqlite3_stmt *ins, const struct batch *bt)
{
    size_t k;

    for (k = 0; k < bt->n; k++) {
        const struct row *r = &bt->rows[k];

        sqlite3_bind_text(ins, 1, r->serial, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, bt->der.p + r->der_off, (int)r->der_len,
                          SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, r->subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, r->cn, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, r->sans, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, r->fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 7, r->not_before);
        sqlite3_bind_int64(ins, 8, r->not_after);
        sqlite3_bind_int64(ins, 9, r->issued_at);
        if (r->revoked_at != 0) {
            sqlite3_bind_int64(ins, 10, r->revoked_at);
            sqlite3_bind_int(ins, 11, r->reason);
        } else {
            sqlite3_bind_null(ins, 10);
            sqlite3_bind_null(ins, 11);
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "datagen: insert: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(ins);
    }
}

/* The names and SQL of the schema objects on certificates a bulk load
 * sets aside: secondary indexes, triggers (the FTS index feeds) and the
 * external-content FTS tables built from certificates. */
struct schema_obj {
    char type[16];
    char name[128];
    char *sql;
};

static size_t
schema_read(sqlite3 *db, struct schema_obj *out, size_t max)
{
    sqlite3_stmt *s = NULL;
    size_t n = 0;

    if (sqlite3_prepare_v2(db,
                           "SELECT type, name, sql FROM sqlite_master"
                           " WHERE sql IS NOT NULL AND (tbl_name ="
                           " 'certificates' AND type IN ('index', 'trigger')"
                           " OR (type = 'table' AND sql LIKE"
                           " '%content=''certificates''%'))"
                           " ORDER BY rowid",
                           -1, &s, NULL) != SQLITE_OK) {
        die(sqlite3_errmsg(db));
    }
    while (sqlite3_step(s) == SQLITE_ROW && n < max) {
        snprintf(out[n].type, sizeof(out[n].type), "%s",
                 (const char *)sqlite3_column_text(s, 0));
        snprintf(out[n].name, sizeof(out[n].name), "%s",
                 (const char *)sqlite3_column_text(s, 1));
        out[n].sql = xstrdup((const char *)sqlite3_column_text(s, 2));
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

/*
 * The writer: every batch in order, in one transaction (a failure leaves
 * the store as it was). Secondary indexes and the FTS triggers are set
 * aside during the load and rebuilt from their own SQL at the end, which
 * is several times faster than maintaining them row by row; the FTS
 * index is rebuilt from the table with its 'rebuild' command.
 */
static void
write_all(struct job *j, sqlite3 *db, double *index_s)
{
    sqlite3_stmt *ins = NULL;
    struct schema_obj objs[64];
    size_t n_objs, k;
    uint64_t b;
    char sql[512];

    sql_exec(db, "BEGIN IMMEDIATE");
    n_objs = schema_read(db, objs, sizeof(objs) / sizeof(objs[0]));
    for (k = 0; k < n_objs; k++) {
        if (strcmp(objs[k].type, "table") == 0) {
            continue; /* the FTS table stays; only its feed pauses */
        }
        if (snprintf(sql, sizeof(sql), "DROP %s \"%s\"", objs[k].type,
                     objs[k].name) >= (int)sizeof(sql)) {
            die("schema object name too long");
        }
        sql_exec(db, sql);
    }
    if (sqlite3_prepare_v2(db, insert_sql, -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr,
                "datagen: the store's schema has changed, update datagen: "
                "%s\n",
                sqlite3_errmsg(db));
        exit(1);
    }
    for (b = 0; b < j->n_batches; b++) {
        struct batch *slot = &j->slots[b % j->n_slots];

        pthread_mutex_lock(&j->mu);
        while (!slot->ready) {
            pthread_cond_wait(&j->cv, &j->mu);
        }
        pthread_mutex_unlock(&j->mu);
        insert_batch(db, ins, slot);
        pthread_mutex_lock(&j->mu);
        slot->ready = false;
        j->write_next = b + 1;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    sqlite3_finalize(ins);
    *index_s = now_s();
    for (k = 0; k < n_objs; k++) {
        if (strcmp(objs[k].type, "table") == 0) {
            if (snprintf(sql, sizeof(sql),
                         "INSERT INTO \"%s\" (\"%s\") VALUES ('rebuild')",
                         objs[k].name, objs[k].name) >= (int)sizeof(sql)) {
                die("schema object name too long");
            }
            sql_exec(db, sql);
        } else {
            sql_exec(db, objs[k].sql);
        }
        free(objs[k].sql);
    }
    /* the daemon's CRL worker watches this counter (store_cert_revoke) */
    snprintf(sql, sizeof(sql),
             "INSERT INTO meta (key, value) VALUES ('revocations', %llu)"
             " ON CONFLICT (key) DO UPDATE SET value = value + %llu",
             (unsigned long long)j->n_revoked,
             (unsigned long long)j->n_revoked);
    sql_exec(db, sql);
    sql_exec(db, "COMMIT");
    *index_s = now_s() - *index_s;
}

static char *
file_read(const char *dir, const char *name)
{
    char path[4096];
    FILE *f;
    char *data;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "datagen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        die("cannot size a data-dir file");
    }
    data = xmalloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        die("short read");
    }
    data[n] = '\0';
    fclose(f);
    return data;
}

/* public_url as serve derives it (srv_config_public_url). */
static void
public_url_read(const char *dir, char *out, size_t outsz)
{
    char path[4096];
    json_t *doc;
    const char *url = NULL;
    const char *listen = "127.0.0.1:8080";

    snprintf(path, sizeof(path), "%s/warden.conf", dir);
    doc = json_load_file(path, 0, NULL);
    if (doc == NULL) {
        die("cannot read warden.conf");
    }
    json_unpack(doc, "{s?s, s?s}", "public_url", &url, "public_listen",
                &listen);
    if (url != NULL && url[0] != '\0') {
        snprintf(out, outsz, "%s", url);
    } else {
        snprintf(out, outsz, "http://%s", listen);
    }
    json_decref(doc);
}

/* A CSR for the template, made with GnuTLS as any client would. */
static void
template_csr(gnutls_datum_t *der)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crq_t crq = NULL;
    const char *cn = "svc-template.ops.internal";
    int ret;

    ret = gnutls_x509_privkey_init(&key);
    if (ret >= 0) {
        ret = gnutls_x509_privkey_generate(
            key, GNUTLS_PK_ECDSA,
            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crq_init(&crq);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
                                            cn, (unsigned)strlen(cn));
    }
    if (ret >= 0) {
        ret = gnutls_x509_crq_set_key(crq, key);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der);
    }
    if (ret < 0) {
        die(gnutls_strerror(ret));
    }
    gnutls_x509_crq_deinit(crq);
    gnutls_x509_privkey_deinit(key);
}

/*
 * The template: one leaf issued by Warden's own pki_cert_issue from the
 * dir's CA, split into the parts every generated leaf shares.
 */
static void
template_make(const char *dir, const char *root, const char *inter,
              const char *key_pem, struct tmpl *t)
{
    char url[512];
    struct pki_ca *ca = NULL;
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    gnutls_datum_t csr_der = { NULL, 0 };
    gnutls_datum_t d;
    gnutls_x509_crt_t crt = NULL;
    int ret;

    public_url_read(dir, url, sizeof(url));
    if (pki_ca_load(&(struct pki_ca_cfg){ .root_pem = root,
                                          .intermediate_pem = inter,
                                          .intermediate_key_pem = key_pem,
                                          .public_url = url },
                    &ca) != WD_OK) {
        die("pki_ca_load failed (an encrypted or PKCS#11 key is not "
            "supported)");
    }
    template_csr(&csr_der);
    if (pki_csr_parse(csr_der.data, csr_der.size, &csr) != WD_OK ||
        pki_serial_new(serial) != WD_OK ||
        pki_cert_issue(ca,
                       &(struct pki_issue){
                           .csr = csr,
                           .profile = PKI_PROFILE_SERVER_CLIENT,
                           .serial = serial,
                           .validity_s = 90 * DAY_S,
                           .now = time(NULL),
                       },
                       &cert) != WD_OK) {
        die("issuing the template failed");
    }
    tmpl_split(cert->der, cert->der_len, t);
    d.data = cert->der;
    d.size = (unsigned)cert->der_len;
    ret = gnutls_x509_crt_init(&crt);
    if (ret >= 0) {
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_get_signature_algorithm(crt);
    }
    if (ret < 0) {
        die(gnutls_strerror(ret));
    }
    t->sign_algo = (gnutls_sign_algorithm_t)ret;
    gnutls_x509_crt_deinit(crt);
    gnutls_free(csr_der.data);
    pki_cert_free(cert);
    pki_csr_free(csr);
    pki_ca_free(ca);
}

static void
pool_make(struct pool_key *keys)
{
    size_t i;

    for (i = 0; i < KEY_POOL; i++) {
        gnutls_privkey_t priv = NULL;
        gnutls_pubkey_t pub = NULL;
        int ret;

        keys[i].id_len = sizeof(keys[i].id);
        ret = gnutls_privkey_init(&priv);
        if (ret >= 0) {
            ret = gnutls_privkey_generate(
                priv, GNUTLS_PK_ECDSA,
                GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
        }
        if (ret >= 0) {
            ret = gnutls_pubkey_init(&pub);
        }
        if (ret >= 0) {
            ret = gnutls_pubkey_import_privkey(pub, priv, 0, 0);
        }
        if (ret >= 0) {
            ret =
                gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &keys[i].spki);
        }
        /* the same key id pki_cert_issue writes */
        if (ret >= 0) {
            ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1,
                                           keys[i].id, &keys[i].id_len);
        }
        if (ret < 0) {
            die(gnutls_strerror(ret));
        }
        gnutls_pubkey_deinit(pub);
        gnutls_privkey_deinit(priv);
    }
}

/*
 * Makes row 0 once up front and checks it the way the daemon will read
 * it: pki_cert_parse agrees with the columns, and the signature verifies
 * against the intermediate. A splicing bug stops datagen here.
 */
static void
self_check(struct job *j, const char *inter_pem)
{
    gnutls_privkey_t key = key_load(j->key_pem);
    struct scratch s = { 0 };
    struct row r;
    uint8_t serial[17];
    size_t serial_len;
    char fp[65];
    struct pki_cert *cert = NULL;
    gnutls_x509_crt_t crt = NULL, issuer = NULL;
    gnutls_datum_t d;
    unsigned status = 1;
    int ret;

    row_plan(j, 0, &r);
    serial_new(&r, serial, &serial_len);
    cert_build(j->t, key, &s, &r, serial, serial_len, &j->keys[0]);
    fingerprint(s.cert.p, s.cert.len, fp);
    if (pki_cert_parse(s.cert.p, s.cert.len, &cert) != WD_OK) {
        die("self-check: pki_cert_parse refuses a generated certificate");
    }
    if (strcmp(cert->serial, r.serial) != 0 ||
        strcmp(cert->subject, r.subject) != 0 || cert->cn == NULL ||
        strcmp(cert->cn, r.cn) != 0 || cert->n_sans != 1 ||
        strcmp(cert->sans[0].value, r.cn) != 0 ||
        (int64_t)cert->not_before != r.not_before ||
        (int64_t)cert->not_after != r.not_after ||
        strcmp(cert->fingerprint, fp) != 0 ||
        strcmp(cert->key_type, "ecdsa-p256") != 0 ||
        cert->profile != PKI_PROFILE_SERVER_CLIENT) {
        fprintf(stderr, "datagen: self-check: decoded %s %s, wrote %s %s\n",
                cert->serial, cert->subject, r.serial, r.subject);
        exit(1);
    }
    ret = gnutls_x509_crt_init(&crt);
    d.data = s.cert.p;
    d.size = (unsigned)s.cert.len;
    if (ret >= 0) {
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_init(&issuer);
    }
    d.data = (unsigned char *)inter_pem;
    d.size = (unsigned)strlen(inter_pem);
    if (ret >= 0) {
        ret = gnutls_x509_crt_import(issuer, &d, GNUTLS_X509_FMT_PEM);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_verify(crt, &issuer, 1, 0, &status);
    }
    if (ret < 0 || status != 0) {
        die("self-check: the signature does not verify");
    }
    gnutls_x509_crt_deinit(issuer);
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
    scratch_free(&s);
    gnutls_privkey_deinit(key);
}

static long long
file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

_Noreturn static void
usage(void)
{
    fprintf(stderr, "usage: datagen --dir D --certs N [--revoked M] "
                    "[--threads T]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "certs", required_argument, NULL, 'n' },
        { "revoked", required_argument, NULL, 'm' },
        { "threads", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL;
    uint64_t n = 0, m = 0, threads = 0;
    struct tmpl t = { 0 };
    struct pool_key keys[KEY_POOL];
    struct job j = { 0 };
    pthread_t tids[64];
    char *root, *inter, *key_pem;
    char path[4096];
    sqlite3 *db = NULL;
    double t0, secs, t_load, index_s = 0, t_ckpt;
    uint64_t i;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            if (!wd_parse_u64(optarg, 1, 100000000, &n)) {
                usage();
            }
            break;
        case 'm':
            if (!wd_parse_u64(optarg, 0, 100000000, &m)) {
                usage();
            }
            break;
        case 't':
            if (!wd_parse_u64(optarg, 1, 64, &threads)) {
                usage();
            }
            break;
        default:
            usage();
        }
    }
    if (dir == NULL || n == 0 || m > n) {
        usage();
    }
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (uint64_t)cpus;
    }
    log_set_level(LOG_WARN);
    t0 = now_s();
    root = file_read(dir, "ca.crt");
    inter = file_read(dir, "intermediate.crt");
    key_pem = file_read(dir, "intermediate.key");
    template_make(dir, root, inter, key_pem, &t);
    pool_make(keys);

    j.t = &t;
    j.keys = keys;
    j.key_pem = key_pem;
    j.n_certs = n;
    j.n_revoked = m;
    j.now = (int64_t)time(NULL);
    j.n_batches = (n + BATCH_ROWS - 1) / BATCH_ROWS;
    j.n_slots = (size_t)threads * 3;
    j.slots = xcalloc(j.n_slots, sizeof(*j.slots));
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    self_check(&j, inter);

    snprintf(path, sizeof(path), "%s/warden.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "datagen: %s: %s (run `warden init --dir %s`)\n", path,
                sqlite3_errmsg(db), dir);
        exit(1);
    }
    sqlite3_busy_timeout(db, 5000);
    /* bulk load: no fsync until the end; WAL (the store's mode) stays */
    sql_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;");

    for (i = 0; i < threads; i++) {
        if (pthread_create(&tids[i], NULL, worker, &j) != 0) {
            die("pthread_create");
        }
    }
    t_load = now_s();
    write_all(&j, db, &index_s);
    t_load = now_s() - t_load - index_s;
    for (i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
    }
    /* one fsync'd checkpoint: the rows are on disk when we say so */
    t_ckpt = now_s();
    sql_exec(db, "PRAGMA synchronous = FULL; PRAGMA wal_checkpoint(TRUNCATE)");
    if (sqlite3_close(db) != SQLITE_OK) {
        die("sqlite3_close");
    }
    t_ckpt = now_s() - t_ckpt;
    secs = now_s() - t0;
    printf("{\"certs\": %llu, \"revoked\": %llu, \"seconds\": %.2f, "
           "\"certs_per_s\": %.0f, \"sign_insert_s\": %.2f, "
           "\"index_s\": %.2f, \"checkpoint_s\": %.2f, \"db_bytes\": %lld}\n",
           (unsigned long long)n, (unsigned long long)m, secs, (double)n / secs,
           t_load, index_s, t_ckpt,
           file_size(dir, "warden.db") + file_size(dir, "warden.db-wal"));

    for (i = 0; i < j.n_slots; i++) {
        free(j.slots[i].der.p);
    }
    free(j.slots);
    for (i = 0; i < KEY_POOL; i++) {
        gnutls_free(keys[i].spki.data);
    }
    free(t.version.p);
    free(t.sig_alg.p);
    free(t.issuer.p);
    free(t.exts_pre.p);
    free(t.exts_mid.p);
    free(t.exts_end.p);
    gnutls_memset(key_pem, 0, strlen(key_pem));
    free(key_pem);
    free(inter);
    free(root);
    return 0;
}
