/*
 * Unit tests of the ACME store (store/store_acme*.c): accounts and their
 * key rollover, EAB keys bound once, orders written whole with their
 * authorizations and challenges, the RFC 8555 7.1.6 state machines and
 * what follows from each move, finalization into the inventory, single-use
 * nonces, the cleanup of what expired, migration 6 on an older database,
 * and values that look like SQL staying values. Real SQLite: ":memory:"
 * for the state machines, a file where threads race or a plain connection
 * looks behind the store's back.
 */
#include "support.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
#include "store_fixture.h"

/* A fixed clock: seconds, UTC. */
#define T0 1700000000
#define HOUR 3600
#define DAY (24 * HOUR)

#define ID_BUF (STORE_ACME_ID_MAX + 1)
#define TP_BUF (STORE_ACME_THUMBPRINT_LEN + 1)

#define FX_AUTHZS 3
#define FX_CHALLS 2

#define THREADS 8

static const char jwk_a[] = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"a\","
                            "\"y\":\"b\"}";
static const char jwk_b[] = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"c\","
                            "\"y\":\"d\"}";

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

/* A thumbprint: 43 times c. */
static const char *
tp(char *buf, char c)
{
    memset(buf, c, STORE_ACME_THUMBPRINT_LEN);
    buf[STORE_ACME_THUMBPRINT_LEN] = '\0';
    return buf;
}

/* Create the account kid with the key whose thumbprint is 43 times key,
 * at T0, bound to eab_kid (or not); its id into *id. */
static enum wd_err
account_new(struct store *st, const char *kid, char key, const char *eab_kid,
            int64_t *id)
{
    struct store_acme_account a = { 0 };
    char t[TP_BUF];

    a.kid = (char *)kid;
    a.jwk = (char *)jwk_a;
    a.thumbprint = (char *)tp(t, key);
    a.contact = "[\"mailto:ops@example.com\"]";
    a.eab_kid = (char *)eab_kid;
    a.created_at = T0;
    return store_acme_account_insert(st, &a, id);
}

/* An order and everything it points to, in one place. */
struct order_fx {
    struct store_acme_order o;
    struct store_acme_authz z[FX_AUTHZS];
    struct store_acme_challenge c[FX_AUTHZS][FX_CHALLS];
    char oid[ID_BUF];
    char aid[FX_AUTHZS][ID_BUF];
    char cid[FX_AUTHZS][FX_CHALLS][ID_BUF];
    char token[FX_AUTHZS][FX_CHALLS][ID_BUF];
    char value[FX_AUTHZS][64];
};

/*
 * The order tag of account_id for n DNS names n<i>.tag.example, each
 * with an http-01 and a dns-01 challenge; created at T0, expiring an hour
 * later, its authorizations two hours later.
 */
static struct store_acme_order *
order_fill(struct order_fx *fx, const char *tag, int64_t account_id, size_t n)
{
    size_t i;
    size_t j;

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->oid, ID_BUF, "order-%s-00000000", tag);
    fx->o.oid = fx->oid;
    fx->o.account_id = account_id;
    fx->o.expires_at = T0 + HOUR;
    fx->o.created_at = T0;
    fx->o.authzs = fx->z;
    fx->o.n_authzs = n;
    for (i = 0; i < n; i++) {
        snprintf(fx->aid[i], ID_BUF, "authz-%s-%zu-000000", tag, i);
        snprintf(fx->value[i], sizeof(fx->value[i]), "n%zu.%s.example", i, tag);
        fx->z[i].aid = fx->aid[i];
        fx->z[i].ident_type = STORE_ACME_IDENT_DNS;
        fx->z[i].ident_value = fx->value[i];
        fx->z[i].expires_at = T0 + 2 * HOUR;
        fx->z[i].challenges = fx->c[i];
        fx->z[i].n_challenges = FX_CHALLS;
        for (j = 0; j < FX_CHALLS; j++) {
            snprintf(fx->cid[i][j], ID_BUF, "chall-%s-%zu-%zu-00000", tag, i,
                     j);
            snprintf(fx->token[i][j], ID_BUF, "token-%s-%zu-%zu-0000000000000",
                     tag, i, j);
            fx->c[i][j].cid = fx->cid[i][j];
            fx->c[i][j].type = j == 0 ? STORE_ACME_HTTP_01 : STORE_ACME_DNS_01;
            fx->c[i][j].token = fx->token[i][j];
        }
    }
    return &fx->o;
}

/* Validate the http-01 challenge of every authorization of fx at T0 + 60:
 * the order becomes ready. */
static void
order_make_ready(struct store *st, const struct order_fx *fx)
{
    size_t i;

    for (i = 0; i < fx->o.n_authzs; i++) {
        assert_wd_err(
            store_acme_challenge_set_processing(st, fx->cid[i][0], T0 + 30),
            WD_OK);
        assert_wd_err(store_acme_challenge_set_result(
                          st, fx->cid[i][0], STORE_ACME_VALID, NULL, T0 + 60),
                      WD_OK);
    }
}

static enum store_acme_status
order_status(struct store *st, const char *oid)
{
    struct store_acme_order *o = NULL;
    enum store_acme_status s;

    assert_wd_err(store_acme_order_get(st, oid, &o), WD_OK);
    s = o->status;
    store_acme_order_free(o);
    return s;
}

static enum store_acme_status
authz_status(struct store *st, const char *aid)
{
    struct store_acme_authz *z = NULL;
    enum store_acme_status s;

    assert_wd_err(store_acme_authz_get(st, aid, &z), WD_OK);
    s = z->status;
    store_acme_authz_free(z);
    return s;
}

static enum store_acme_status
chall_status(struct store *st, const char *cid)
{
    struct store_acme_challenge *c = NULL;
    enum store_acme_status s;

    assert_wd_err(store_acme_challenge_get(st, cid, &c), WD_OK);
    s = c->status;
    store_acme_challenge_free(c);
    return s;
}

static enum store_acme_status
account_status(struct store *st, const char *kid)
{
    struct store_acme_account *a = NULL;
    enum store_acme_status s;

    assert_wd_err(store_acme_account_get_by_kid(st, kid, &a), WD_OK);
    s = a->status;
    store_acme_account_free(a);
    return s;
}

static int64_t
audit_count(struct store *st)
{
    int64_t n = -1;

    assert_wd_err(store_audit_count(st, NULL, &n), WD_OK);
    return n;
}

/* The newest audit event by actor, lent from *l (the caller frees l). */
static const struct store_audit_row *
audit_newest(struct store *st, const char *actor, struct store_audit_list *l)
{
    struct store_audit_query q = { .actor = actor, .limit = 1 };

    assert_wd_err(store_audit_list(st, &q, l), WD_OK);
    assert_int_equal(l->n, 1);
    return &l->items[0];
}

static void
cert_fill(struct store_cert *c, const char *serial)
{
    store_fixture_cert_fill(c, serial, "n0.a.example");
    c->der = der_bytes;
    c->der_len = sizeof(der_bytes);
    c->subject = "CN=n0.a.example";
    c->sans = "DNS:n0.a.example";
    c->fingerprint = "00";
    c->requester = "not-the-account"; /* the store puts the account there */
    c->not_before = T0;
    c->not_after = T0 + 90 * DAY;
    c->issued_at = T0 + 120;
}

static void
test_store_acme_names_are_rfc_8555s(void **state)
{
    (void)state;
    assert_string_equal(store_acme_status_str(STORE_ACME_PENDING), "pending");
    assert_string_equal(store_acme_status_str(STORE_ACME_READY), "ready");
    assert_string_equal(store_acme_status_str(STORE_ACME_PROCESSING),
                        "processing");
    assert_string_equal(store_acme_status_str(STORE_ACME_VALID), "valid");
    assert_string_equal(store_acme_status_str(STORE_ACME_INVALID), "invalid");
    assert_string_equal(store_acme_status_str(STORE_ACME_DEACTIVATED),
                        "deactivated");
    assert_string_equal(store_acme_status_str(STORE_ACME_EXPIRED), "expired");
    assert_string_equal(store_acme_status_str(STORE_ACME_REVOKED), "revoked");
    assert_null(store_acme_status_str((enum store_acme_status)99));
    assert_string_equal(store_acme_ident_type_str(STORE_ACME_IDENT_DNS), "dns");
    assert_string_equal(store_acme_ident_type_str(STORE_ACME_IDENT_IP), "ip");
    assert_null(store_acme_ident_type_str((enum store_acme_ident_type)2));
    assert_string_equal(store_acme_chall_type_str(STORE_ACME_HTTP_01),
                        "http-01");
    assert_string_equal(store_acme_chall_type_str(STORE_ACME_TLS_ALPN_01),
                        "tls-alpn-01");
    assert_string_equal(store_acme_chall_type_str(STORE_ACME_DNS_01), "dns-01");
    assert_null(store_acme_chall_type_str((enum store_acme_chall_type)3));
}

static void
test_store_acme_free_functions_accept_null(void **state)
{
    struct store_acme_order_list ol = { 0 };
    struct store_acme_challenge_list cl = { 0 };

    (void)state;
    store_acme_account_free(NULL);
    store_acme_order_free(NULL);
    store_acme_authz_free(NULL);
    store_acme_challenge_free(NULL);
    store_acme_eab_key_free(NULL);
    store_acme_order_list_free(NULL);
    store_acme_order_list_free(&ol);
    store_acme_challenge_list_free(NULL);
    store_acme_challenge_list_free(&cl);
}

static void
test_store_acme_account_insert_then_get_by_kid_and_thumbprint(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;
    struct store_audit_list l = { 0 };
    const struct store_audit_row *ev;
    int64_t id = 0;
    char t[TP_BUF];

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_true(id > 0);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "alice-kid-000000", &a),
                  WD_OK);
    assert_int_equal(a->id, id);
    assert_string_equal(a->kid, "alice-kid-000000");
    assert_string_equal(a->jwk, jwk_a);
    assert_string_equal(a->thumbprint, tp(t, 'A'));
    assert_int_equal(a->status, STORE_ACME_VALID);
    assert_string_equal(a->contact, "[\"mailto:ops@example.com\"]");
    assert_null(a->eab_kid);
    assert_int_equal(a->created_at, T0);
    store_acme_account_free(a);
    a = NULL;

    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, t, &a), WD_OK);
    assert_int_equal(a->id, id);
    store_acme_account_free(a);

    /* the audit log names the account as the actor */
    ev = audit_newest(f->st, "acme:alice-kid-000000", &l);
    assert_string_equal(ev->action, "acme-account-new");
    assert_string_equal(ev->outcome, "ok");
    assert_int_equal(ev->at, T0);
    assert_non_null(strstr(ev->detail, t));
    store_audit_list_free(&l);
}

static void
test_store_acme_account_get_by_id_finds_the_account_or_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;
    int64_t id = 0;
    char t[TP_BUF];

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_account_get_by_id(f->st, id, &a), WD_OK);
    assert_int_equal(a->id, id);
    assert_string_equal(a->kid, "alice-kid-000000");
    assert_string_equal(a->thumbprint, tp(t, 'A'));
    assert_int_equal(a->status, STORE_ACME_VALID);
    store_acme_account_free(a);
    a = NULL;

    assert_wd_err(store_acme_account_get_by_id(f->st, id + 1, &a),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_account_get_by_id(f->st, -1, &a), WD_E_NOT_FOUND);
    assert_null(a);
    assert_wd_err(store_acme_account_get_by_id(f->st, id, NULL), WD_E_INTERNAL);
}

static void
test_store_acme_account_insert_refuses_a_key_or_kid_taken(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;
    int64_t events;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, NULL),
                  WD_OK);
    events = audit_count(f->st);
    /* RFC 8555 7.3.1: one key, one account */
    assert_wd_err(account_new(f->st, "bob-kid-00000000", 'A', NULL, NULL),
                  WD_E_CONFLICT);
    assert_wd_err(account_new(f->st, "alice-kid-000000", 'B', NULL, NULL),
                  WD_E_CONFLICT);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "bob-kid-00000000", &a),
                  WD_E_NOT_FOUND);
    assert_null(a);
    assert_int_equal(audit_count(f->st), events);
}

static void
test_store_acme_account_insert_refuses_malformed_fields(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account a = { 0 };
    char t[TP_BUF];
    char long_contact[STORE_ACME_CONTACT_MAX + 2];

    a.kid = "alice-kid-000000";
    a.jwk = (char *)jwk_a;
    a.thumbprint = (char *)tp(t, 'A');
    a.created_at = T0;

    a.kid = "short";
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    a.kid = "alice.kid.000000"; /* '.' is not base64url */
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    a.kid = "alice-kid-000000";
    a.thumbprint = "AAAA";
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    a.thumbprint = t;
    a.contact = "[\"mailto:a@b\"]\n";
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    memset(long_contact, 'x', sizeof(long_contact) - 1);
    long_contact[sizeof(long_contact) - 1] = '\0';
    a.contact = long_contact;
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    a.contact = NULL;
    a.jwk = "";
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    a.jwk = (char *)jwk_a;
    a.created_at = 0;
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_E_INTERNAL);
    assert_wd_err(store_acme_account_insert(NULL, &a, NULL), WD_E_INTERNAL);
    assert_wd_err(store_acme_account_insert(f->st, NULL, NULL), WD_E_INTERNAL);
    /* and with every field right, it goes in */
    a.created_at = T0;
    assert_wd_err(store_acme_account_insert(f->st, &a, NULL), WD_OK);
}

static void
test_store_acme_account_get_finds_nothing_for_hostile_keys(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, NULL),
                  WD_OK);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "x' OR '1'='1", &a),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "", &a), WD_E_NOT_FOUND);
    assert_wd_err(
        store_acme_account_get_by_kid(
            f->st, "alice-kid-000000alice-kid-000000alice-kid-000000x", &a),
        WD_E_NOT_FOUND);
    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, "%", &a),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "bob-kid-00000000", &a),
                  WD_E_NOT_FOUND);
    assert_null(a);
    assert_wd_err(store_acme_account_get_by_kid(f->st, NULL, &a),
                  WD_E_INTERNAL);
    /* ids from URLs name nothing in the writes either */
    assert_wd_err(store_acme_account_deactivate(f->st, "x' OR '1'='1", T0),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_order_finalize_begin(f->st, "../../etc", T0),
                  WD_E_NOT_FOUND);
    assert_wd_err(
        store_acme_authz_set_status(f->st, "%00", STORE_ACME_DEACTIVATED),
        WD_E_NOT_FOUND);
    assert_wd_err(
        store_acme_challenge_set_result(f->st, "*", STORE_ACME_VALID, NULL, T0),
        WD_E_NOT_FOUND);
    assert_int_equal(account_status(f->st, "alice-kid-000000"),
                     STORE_ACME_VALID);
}

static void
test_store_acme_account_update_contact_only_while_valid(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, NULL),
                  WD_OK);
    assert_wd_err(
        store_acme_account_update_contact(f->st, "alice-kid-000000",
                                          "[\"mailto:new@example.com\"]"),
        WD_OK);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "alice-kid-000000", &a),
                  WD_OK);
    assert_string_equal(a->contact, "[\"mailto:new@example.com\"]");
    store_acme_account_free(a);
    a = NULL;
    assert_wd_err(
        store_acme_account_update_contact(f->st, "alice-kid-000000", NULL),
        WD_OK);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "alice-kid-000000", &a),
                  WD_OK);
    assert_null(a->contact);
    store_acme_account_free(a);

    assert_wd_err(
        store_acme_account_update_contact(f->st, "bob-kid-00000000", NULL),
        WD_E_NOT_FOUND);
    assert_wd_err(store_acme_account_deactivate(f->st, "alice-kid-000000", T0),
                  WD_OK);
    assert_wd_err(
        store_acme_account_update_contact(f->st, "alice-kid-000000", "[]"),
        WD_E_CONFLICT);
}

static void
test_store_acme_account_deactivate_cancels_pending_orders(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_list l = { 0 };
    struct order_fx pending;
    struct order_fx processing;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&pending, "p", id, 2)),
        WD_OK);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&processing, "q", id, 1)),
        WD_OK);
    order_make_ready(f->st, &processing);
    assert_wd_err(store_acme_order_finalize_begin(f->st, processing.oid, T0),
                  WD_OK);

    assert_wd_err(
        store_acme_account_deactivate(f->st, "alice-kid-000000", T0 + 5),
        WD_OK);
    assert_int_equal(account_status(f->st, "alice-kid-000000"),
                     STORE_ACME_DEACTIVATED);
    /* RFC 8555 7.3.6: pending operations are cancelled ... */
    assert_int_equal(order_status(f->st, pending.oid), STORE_ACME_INVALID);
    assert_int_equal(authz_status(f->st, pending.aid[0]),
                     STORE_ACME_DEACTIVATED);
    assert_int_equal(authz_status(f->st, pending.aid[1]),
                     STORE_ACME_DEACTIVATED);
    /* ... a finalization under way completes, its authorization kept */
    assert_int_equal(order_status(f->st, processing.oid),
                     STORE_ACME_PROCESSING);
    assert_int_equal(authz_status(f->st, processing.aid[0]), STORE_ACME_VALID);
    assert_string_equal(
        audit_newest(f->st, "acme:alice-kid-000000", &l)->action,
        "acme-account-deactivate");
    store_audit_list_free(&l);

    /* once only, and a deactivated account orders nothing */
    assert_wd_err(
        store_acme_account_deactivate(f->st, "alice-kid-000000", T0 + 6),
        WD_E_CONFLICT);
    assert_wd_err(store_acme_account_deactivate(f->st, "bob-kid-00000000", T0),
                  WD_E_NOT_FOUND);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&pending, "r", id, 1)),
        WD_E_CONFLICT);
}

static void
test_store_acme_account_key_change_replaces_the_key(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;
    struct store_audit_list l = { 0 };
    const struct store_audit_row *ev;
    char old_tp[TP_BUF];
    char new_tp[TP_BUF];

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, NULL),
                  WD_OK);
    assert_wd_err(store_acme_account_key_change(f->st, "alice-kid-000000",
                                                tp(old_tp, 'A'), jwk_b,
                                                tp(new_tp, 'B'), T0 + 10),
                  WD_OK);
    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, new_tp, &a),
                  WD_OK);
    assert_string_equal(a->kid, "alice-kid-000000");
    assert_string_equal(a->jwk, jwk_b);
    store_acme_account_free(a);
    a = NULL;
    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, old_tp, &a),
                  WD_E_NOT_FOUND);
    ev = audit_newest(f->st, "acme:alice-kid-000000", &l);
    assert_string_equal(ev->action, "acme-key-change");
    assert_non_null(strstr(ev->detail, new_tp));
    assert_non_null(strstr(ev->detail, old_tp));
    store_audit_list_free(&l);
}

static void
test_store_acme_account_key_change_refuses_a_key_in_use(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;
    char ta[TP_BUF];
    char tb[TP_BUF];
    char tc[TP_BUF];
    int64_t events;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, NULL),
                  WD_OK);
    assert_wd_err(account_new(f->st, "bob-kid-00000000", 'B', NULL, NULL),
                  WD_OK);
    events = audit_count(f->st);
    tp(ta, 'A');
    tp(tb, 'B');
    tp(tc, 'C');
    /* RFC 8555 7.3.5: the new key belongs to another account */
    assert_wd_err(store_acme_account_key_change(f->st, "alice-kid-000000", ta,
                                                jwk_b, tb, T0),
                  WD_E_CONFLICT);
    /* ... or to this one */
    assert_wd_err(store_acme_account_key_change(f->st, "alice-kid-000000", ta,
                                                jwk_a, ta, T0),
                  WD_E_CONFLICT);
    /* the key changed since the request was checked against it */
    assert_wd_err(store_acme_account_key_change(f->st, "alice-kid-000000", tc,
                                                jwk_b, tc, T0),
                  WD_E_CONFLICT);
    assert_wd_err(store_acme_account_key_change(f->st, "carol-kid-000000", tc,
                                                jwk_b, tc, T0),
                  WD_E_NOT_FOUND);
    assert_int_equal(audit_count(f->st), events);
    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, ta, &a), WD_OK);
    assert_string_equal(a->kid, "alice-kid-000000");
    store_acme_account_free(a);

    /* a deactivated account keeps its key */
    assert_wd_err(store_acme_account_deactivate(f->st, "alice-kid-000000", T0),
                  WD_OK);
    assert_wd_err(store_acme_account_key_change(f->st, "alice-kid-000000", ta,
                                                jwk_b, tc, T0),
                  WD_E_CONFLICT);
}

static void
test_store_acme_eab_key_binds_one_account_only(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_eab_key k = { 0 };
    struct store_acme_eab_key *got = NULL;
    struct store_acme_account *a = NULL;
    struct store_audit_list l = { 0 };
    uint8_t key[32];
    size_t i;

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (uint8_t)(i * 7 + 1);
    }
    k.kid = "eab-key-00000001";
    k.hmac_key = key;
    k.hmac_key_len = sizeof(key);
    k.created_by = "admin";
    k.created_at = T0;
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_OK);
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_E_CONFLICT);
    assert_wd_err(store_acme_eab_get(f->st, "eab-key-00000001", &got), WD_OK);
    assert_int_equal(got->hmac_key_len, sizeof(key));
    assert_memory_equal(got->hmac_key, key, sizeof(key));
    assert_string_equal(got->created_by, "admin");
    assert_int_equal(got->created_at, T0);
    assert_null(got->used_by);
    store_acme_eab_key_free(got);
    got = NULL;
    /* the admin's event names the key, never its bytes */
    assert_string_equal(audit_newest(f->st, "admin", &l)->detail,
                        "eab eab-key-00000001");
    store_audit_list_free(&l);

    assert_wd_err(
        account_new(f->st, "alice-kid-000000", 'A', "eab-key-00000001", NULL),
        WD_OK);
    assert_wd_err(store_acme_eab_get(f->st, "eab-key-00000001", &got), WD_OK);
    assert_string_equal(got->used_by, "alice-kid-000000");
    store_acme_eab_key_free(got);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "alice-kid-000000", &a),
                  WD_OK);
    assert_string_equal(a->eab_kid, "eab-key-00000001");
    store_acme_account_free(a);
    a = NULL;

    /* RFC 8555 7.3.4: one key, one account; the refused account is not
     * made, and an unknown key binds nothing */
    assert_wd_err(
        account_new(f->st, "bob-kid-00000000", 'B', "eab-key-00000001", NULL),
        WD_E_FORBIDDEN);
    assert_wd_err(
        account_new(f->st, "bob-kid-00000000", 'B', "eab-key-00000002", NULL),
        WD_E_NOT_FOUND);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "bob-kid-00000000", &a),
                  WD_E_NOT_FOUND);
    /* a key already in use by an account refuses the account, and leaves
     * the EAB key unspent */
    k.kid = "eab-key-00000003";
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_OK);
    assert_wd_err(
        account_new(f->st, "carol-kid-000000", 'A', "eab-key-00000003", NULL),
        WD_E_CONFLICT);
    assert_wd_err(store_acme_eab_get(f->st, "eab-key-00000003", &got), WD_OK);
    assert_null(got->used_by);
    store_acme_eab_key_free(got);
}

static void
test_store_acme_eab_insert_refuses_weak_keys_and_get_hostile_kids(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_eab_key k = { 0 };
    struct store_acme_eab_key *got = NULL;
    uint8_t key[STORE_ACME_EAB_KEY_MAX + 1] = { 1 };

    k.kid = "eab-key-00000001";
    k.hmac_key = key;
    k.created_by = "admin";
    k.created_at = T0;
    k.hmac_key_len = STORE_ACME_EAB_KEY_MIN - 1; /* RFC 7518 3.2 */
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_E_INTERNAL);
    k.hmac_key_len = STORE_ACME_EAB_KEY_MAX + 1;
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_E_INTERNAL);
    k.hmac_key_len = STORE_ACME_EAB_KEY_MAX;
    k.created_by = "";
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_E_INTERNAL);
    k.created_by = "admin";
    assert_wd_err(store_acme_eab_insert(f->st, &k), WD_OK);
    assert_wd_err(store_acme_eab_get(f->st, "eab' OR 1=1 --", &got),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_eab_get(f->st, "eab-key-00000009", &got),
                  WD_E_NOT_FOUND);
    assert_null(got);
}

static void
test_store_acme_order_insert_then_get_with_authzs_and_challenges(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order *o = NULL;
    struct store_acme_authz *z = NULL;
    struct store_acme_challenge *c = NULL;
    struct order_fx fx;
    int64_t id = 0;
    size_t i;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    order_fill(&fx, "a", id, 3);
    fx.z[2].wildcard = true; /* "*.n2.a.example" */
    fx.o.not_after = T0 + 30 * DAY;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_OK);

    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_OK);
    assert_true(o->id > 0);
    assert_string_equal(o->oid, fx.oid);
    assert_int_equal(o->account_id, id);
    assert_int_equal(o->status, STORE_ACME_PENDING);
    assert_int_equal(o->expires_at, T0 + HOUR);
    assert_int_equal(o->not_before, 0);
    assert_int_equal(o->not_after, T0 + 30 * DAY);
    assert_null(o->error);
    assert_string_equal(o->certificate_serial, "");
    assert_int_equal(o->created_at, T0);
    assert_int_equal(o->n_authzs, 3);
    for (i = 0; i < 3; i++) {
        /* in the order the client listed them */
        assert_string_equal(o->authzs[i].aid, fx.aid[i]);
        assert_string_equal(o->authzs[i].ident_value, fx.value[i]);
        assert_int_equal(o->authzs[i].ident_type, STORE_ACME_IDENT_DNS);
        assert_int_equal(o->authzs[i].status, STORE_ACME_PENDING);
        assert_int_equal(o->authzs[i].order_id, o->id);
        assert_int_equal(o->authzs[i].account_id, id);
        assert_int_equal(o->authzs[i].n_challenges, 0);
    }
    assert_false(o->authzs[0].wildcard);
    assert_true(o->authzs[2].wildcard);
    store_acme_order_free(o);

    assert_wd_err(store_acme_authz_get(f->st, fx.aid[1], &z), WD_OK);
    assert_string_equal(z->ident_value, "n1.a.example");
    assert_int_equal(z->expires_at, T0 + 2 * HOUR);
    assert_int_equal(z->account_id, id);
    assert_int_equal(z->n_challenges, 2);
    assert_string_equal(z->challenges[0].cid, fx.cid[1][0]);
    assert_int_equal(z->challenges[0].type, STORE_ACME_HTTP_01);
    assert_string_equal(z->challenges[0].token, fx.token[1][0]);
    assert_string_equal(z->challenges[0].aid, fx.aid[1]);
    assert_int_equal(z->challenges[1].type, STORE_ACME_DNS_01);
    assert_int_equal(z->challenges[1].status, STORE_ACME_PENDING);
    assert_int_equal(z->challenges[1].attempts, 0);
    assert_int_equal(z->challenges[1].validated_at, 0);
    assert_null(z->challenges[1].error);
    store_acme_authz_free(z);

    assert_wd_err(store_acme_challenge_get(f->st, fx.cid[2][1], &c), WD_OK);
    assert_string_equal(c->aid, fx.aid[2]);
    assert_string_equal(c->token, fx.token[2][1]);
    assert_int_equal(c->type, STORE_ACME_DNS_01);
    store_acme_challenge_free(c);
}

static void
test_store_acme_order_insert_is_all_or_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order *o = NULL;
    struct store_acme_authz *z = NULL;
    struct order_fx fx;
    int64_t id = 0;
    int64_t n = -1;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    /* the same identifier twice: the last authorization fails, and the
     * order and its first two authorizations go with it */
    order_fill(&fx, "a", id, 3);
    fx.z[2].ident_value = fx.value[0];
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_CONFLICT);
    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_E_NOT_FOUND);
    assert_wd_err(store_acme_authz_get(f->st, fx.aid[0], &z), WD_E_NOT_FOUND);
    assert_wd_err(store_acme_order_count_since(f->st, id, 0, &n), WD_OK);
    assert_int_equal(n, 0);
    /* a challenge type twice in one authorization */
    order_fill(&fx, "a", id, 1);
    fx.c[0][1].type = STORE_ACME_HTTP_01;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_CONFLICT);
    /* an id used before */
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 1)),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_CONFLICT);
    assert_wd_err(store_acme_order_count_since(f->st, id, 0, &n), WD_OK);
    assert_int_equal(n, 1);
}

static void
test_store_acme_order_insert_refuses_a_missing_account(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order *o = NULL;
    struct order_fx fx;

    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", 42, 1)),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_E_NOT_FOUND);
}

static void
test_store_acme_foreign_keys_hold_behind_the_stores_back(void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(db, "PRAGMA foreign_keys = ON");
    /* an order of a missing account, an authorization of a missing order,
     * a valid order naming a certificate never issued */
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO acme_orders (oid, account_id, status,"
                     " expires_at, created_at) VALUES ('o', 42, 'pending', 1,"
                     " 1)",
                     NULL, NULL, NULL),
        SQLITE_CONSTRAINT);
    assert_int_equal(sqlite3_extended_errcode(db),
                     SQLITE_CONSTRAINT_FOREIGNKEY);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO acme_authzs (aid, order_id, identifier_type,"
                     " identifier_value, wildcard, status, expires_at)"
                     " VALUES ('z', 42, 'dns', 'a.example', 0, 'pending', 1)",
                     NULL, NULL, NULL),
        SQLITE_CONSTRAINT);
    store_fixture_raw_exec(
        db, "INSERT INTO acme_accounts (kid, jwk, thumbprint, status,"
            " created_at) VALUES ('k', '{}', 't', 'valid', 1);"
            "INSERT INTO acme_orders (oid, account_id, status, expires_at,"
            " created_at) VALUES ('o', 1, 'pending', 1, 1);");
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE acme_orders SET status = 'valid',"
                                  " certificate_serial = '0a' WHERE oid = 'o'",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    /* and a status RFC 8555 does not have */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE acme_orders SET status = 'done'"
                                  " WHERE oid = 'o'",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    sqlite3_close(db);
}

static void
test_store_acme_order_get_refuses_more_authzs_than_an_order_can_have(
    void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order *o = NULL;
    struct order_fx fx;
    int64_t id = 0;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 1)),
                  WD_OK);
    /* written behind the store's back: one authorization too many */
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(
        db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
            " WHERE i < 100) INSERT INTO acme_authzs (aid, order_id,"
            " identifier_type, identifier_value, wildcard, status,"
            " expires_at) SELECT 'extra-' || i, 1, 'dns', i || '.example', 0,"
            " 'pending', 1 FROM n");
    sqlite3_close(db);
    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_E_INTERNAL);
    assert_null(o);
}

static void
test_store_acme_order_insert_refuses_malformed_orders(void **state)
{
    struct store_fixture *f = *state;
    struct order_fx fx;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    order_fill(&fx, "a", id, 1);
    fx.z[0].expires_at = fx.o.expires_at - 1; /* dies under a live order */
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.z[0].ident_type = STORE_ACME_IDENT_IP;
    fx.z[0].wildcard = true; /* RFC 8555 7.1.3: wildcards are DNS names */
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.o.n_authzs = 0;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.o.n_authzs = STORE_ACME_MAX_IDENTIFIERS + 1;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.z[0].ident_value = "a b.example";
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.c[0][0].token = "token-too-short"; /* RFC 8555 8.1: 128 bits */
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.c[0][0].type = (enum store_acme_chall_type)7;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.o.not_before = T0 + DAY;
    fx.o.not_after = T0;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    order_fill(&fx, "a", id, 1);
    fx.z[0].n_challenges = 0;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_E_INTERNAL);
    assert_wd_err(store_acme_order_insert(f->st, NULL), WD_E_INTERNAL);
}

static void
test_store_acme_values_that_look_like_sql_stay_values(void **state)
{
    struct store_fixture *f = *state;
    static const char hostile_contact[] =
        "[\"mailto:a'); DROP TABLE acme_accounts; --@example.com\"]";
    static const char hostile_name[] = "x');DROP/**/TABLE/**/acme_orders;--";
    struct store_acme_account *a = NULL;
    struct store_acme_order *o = NULL;
    struct order_fx fx;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_account_update_contact(f->st, "alice-kid-000000",
                                                    hostile_contact),
                  WD_OK);
    order_fill(&fx, "a", id, 1);
    fx.z[0].ident_value = (char *)hostile_name;
    assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_OK);
    assert_wd_err(store_acme_order_finalize_fail(f->st, fx.oid,
                                                 "{\"detail\":\"'; --\"}", T0),
                  WD_E_CONFLICT); /* not processing: answered, not run */

    /* every table still there, every value as written */
    assert_wd_err(store_acme_account_get_by_kid(f->st, "alice-kid-000000", &a),
                  WD_OK);
    assert_string_equal(a->contact, hostile_contact);
    store_acme_account_free(a);
    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_OK);
    assert_string_equal(o->authzs[0].ident_value, hostile_name);
    store_acme_order_free(o);
}

static void
test_store_acme_order_list_by_account_pages_newest_first(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order_list l = { 0 };
    struct order_fx fx;
    int64_t alice = 0;
    int64_t bob = 0;
    char tag[8];
    char seen[64] = "";
    int64_t cursor = 0;
    int i;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &alice),
                  WD_OK);
    assert_wd_err(account_new(f->st, "bob-kid-00000000", 'B', NULL, &bob),
                  WD_OK);
    for (i = 1; i <= 5; i++) {
        snprintf(tag, sizeof(tag), "a%d", i);
        assert_wd_err(
            store_acme_order_insert(f->st, order_fill(&fx, tag, alice, 1)),
            WD_OK);
        snprintf(tag, sizeof(tag), "b%d", i);
        assert_wd_err(
            store_acme_order_insert(f->st, order_fill(&fx, tag, bob, 1)),
            WD_OK);
    }
    do {
        size_t j;

        assert_wd_err(
            store_acme_order_list_by_account(f->st, alice, 2, cursor, &l),
            WD_OK);
        for (j = 0; j < l.n; j++) {
            assert_int_equal(l.items[j].account_id, alice);
            assert_int_equal(l.items[j].n_authzs, 0);
            /* "order-a5-00000000": the digit names it */
            strncat(seen, l.items[j].oid + 7, 1);
        }
        strcat(seen, "|");
        cursor = l.next_cursor;
        store_acme_order_list_free(&l);
    } while (cursor != 0);
    assert_string_equal(seen, "54|32|1|");

    assert_wd_err(store_acme_order_list_by_account(f->st, 999, 10, 0, &l),
                  WD_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.next_cursor, 0);
    store_acme_order_list_free(&l);
    assert_wd_err(store_acme_order_list_by_account(f->st, alice, 0, 0, &l),
                  WD_E_BAD_QUERY);
    assert_wd_err(store_acme_order_list_by_account(
                      f->st, alice, WD_LIST_LIMIT_MAX + 1, 0, &l),
                  WD_E_BAD_QUERY);
    assert_wd_err(store_acme_order_list_by_account(f->st, alice, 1, -1, &l),
                  WD_E_BAD_CURSOR);
    assert_null(l.items);
}

static void
test_store_acme_order_count_since_counts_one_accounts_recent_orders(
    void **state)
{
    struct store_fixture *f = *state;
    struct order_fx fx;
    int64_t alice = 0;
    int64_t bob = 0;
    int64_t n = -1;
    char tag[8];
    int i;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &alice),
                  WD_OK);
    assert_wd_err(account_new(f->st, "bob-kid-00000000", 'B', NULL, &bob),
                  WD_OK);
    for (i = 0; i < 6; i++) {
        snprintf(tag, sizeof(tag), "a%d", i);
        order_fill(&fx, tag, alice, 1);
        fx.o.created_at = T0 + i * HOUR;
        fx.o.expires_at = fx.z[0].expires_at = T0 + 10 * HOUR;
        assert_wd_err(store_acme_order_insert(f->st, &fx.o), WD_OK);
    }
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "b", bob, 1)),
                  WD_OK);
    assert_wd_err(store_acme_order_count_since(f->st, alice, T0, &n), WD_OK);
    assert_int_equal(n, 6);
    assert_wd_err(store_acme_order_count_since(f->st, alice, T0 + 3 * HOUR, &n),
                  WD_OK);
    assert_int_equal(n, 3);
    assert_wd_err(store_acme_order_count_since(f->st, alice, T0 + 6 * HOUR, &n),
                  WD_OK);
    assert_int_equal(n, 0);
    assert_wd_err(store_acme_order_count_since(f->st, bob, 0, &n), WD_OK);
    assert_int_equal(n, 1);
}

static void
test_store_acme_challenge_validation_makes_the_order_ready(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_challenge *c = NULL;
    struct store_acme_challenge_list due = { 0 };
    struct order_fx fx;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 2)),
                  WD_OK);
    /* RFC 8555 7.5.1: once; a second request finds it processing */
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[0][0], T0 + 10),
        WD_OK);
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[0][0], T0 + 11),
        WD_E_CONFLICT);
    assert_int_equal(chall_status(f->st, fx.cid[0][0]), STORE_ACME_PROCESSING);

    /* the validator finds it due, retries it later, then it succeeds */
    assert_wd_err(store_acme_challenge_list_due(f->st, T0 + 10, 10, &due),
                  WD_OK);
    assert_int_equal(due.n, 1);
    assert_string_equal(due.items[0].cid, fx.cid[0][0]);
    assert_string_equal(due.items[0].token, fx.token[0][0]);
    store_acme_challenge_list_free(&due);
    assert_wd_err(store_acme_challenge_retry(f->st, fx.cid[0][0], T0 + 40,
                                             "{\"type\":\"connection\"}"),
                  WD_OK);
    assert_wd_err(store_acme_challenge_list_due(f->st, T0 + 39, 10, &due),
                  WD_OK);
    assert_int_equal(due.n, 0);
    store_acme_challenge_list_free(&due);
    assert_wd_err(store_acme_challenge_list_due(f->st, T0 + 40, 10, &due),
                  WD_OK);
    assert_int_equal(due.n, 1);
    assert_int_equal(due.items[0].attempts, 1);
    assert_string_equal(due.items[0].error, "{\"type\":\"connection\"}");
    store_acme_challenge_list_free(&due);

    assert_wd_err(store_acme_challenge_set_result(
                      f->st, fx.cid[0][0], STORE_ACME_VALID, NULL, T0 + 41),
                  WD_OK);
    assert_wd_err(store_acme_challenge_get(f->st, fx.cid[0][0], &c), WD_OK);
    assert_int_equal(c->status, STORE_ACME_VALID);
    assert_int_equal(c->validated_at, T0 + 41);
    assert_int_equal(c->attempts, 2);
    assert_int_equal(c->next_attempt_at, 0);
    assert_null(c->error);
    store_acme_challenge_free(c);
    assert_int_equal(authz_status(f->st, fx.aid[0]), STORE_ACME_VALID);
    /* one of two authorizations: the order still waits */
    assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_PENDING);

    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[1][1], T0 + 50),
        WD_OK);
    assert_wd_err(store_acme_challenge_set_result(
                      f->st, fx.cid[1][1], STORE_ACME_VALID, NULL, T0 + 51),
                  WD_OK);
    assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_READY);
    /* the other challenge of a valid authorization is not worth starting */
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[1][0], T0 + 52),
        WD_E_CONFLICT);
    assert_wd_err(store_acme_challenge_set_result(
                      f->st, fx.cid[1][1], STORE_ACME_INVALID, NULL, T0 + 53),
                  WD_E_CONFLICT);
}

static void
test_store_acme_challenge_failure_invalidates_authz_and_order(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_challenge *c = NULL;
    struct order_fx fx;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 2)),
                  WD_OK);
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[1][0], T0 + 10),
        WD_OK);
    assert_wd_err(store_acme_challenge_set_result(
                      f->st, fx.cid[1][0], STORE_ACME_INVALID,
                      "{\"type\":\"urn:ietf:params:acme:error:unauthorized\"}",
                      T0 + 11),
                  WD_OK);
    assert_wd_err(store_acme_challenge_get(f->st, fx.cid[1][0], &c), WD_OK);
    assert_int_equal(c->status, STORE_ACME_INVALID);
    assert_int_equal(c->validated_at, 0);
    assert_string_equal(
        c->error, "{\"type\":\"urn:ietf:params:acme:error:unauthorized\"}");
    store_acme_challenge_free(c);
    assert_int_equal(authz_status(f->st, fx.aid[1]), STORE_ACME_INVALID);
    assert_int_equal(authz_status(f->st, fx.aid[0]), STORE_ACME_PENDING);
    assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_INVALID);
}

static void
test_store_acme_challenge_moves_refuse_what_they_cannot_do(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_challenge_list due = { 0 };
    struct order_fx fx;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 1)),
                  WD_OK);
    /* not processing yet */
    assert_wd_err(store_acme_challenge_set_result(f->st, fx.cid[0][0],
                                                  STORE_ACME_VALID, NULL, T0),
                  WD_E_CONFLICT);
    assert_wd_err(store_acme_challenge_retry(f->st, fx.cid[0][0], T0, NULL),
                  WD_E_CONFLICT);
    /* its authorization expired (two hours after T0) */
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[0][0], T0 + 2 * HOUR),
        WD_E_CONFLICT);
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, "chall-x-0-0-00000", T0),
        WD_E_NOT_FOUND);
    assert_wd_err(store_acme_challenge_set_processing(f->st, "x'--", T0),
                  WD_E_NOT_FOUND);
    /* a result is valid or invalid, nothing else */
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, fx.cid[0][0], T0 + 10),
        WD_OK);
    assert_wd_err(store_acme_challenge_set_result(f->st, fx.cid[0][0],
                                                  STORE_ACME_PENDING, NULL, T0),
                  WD_E_INTERNAL);
    assert_wd_err(store_acme_challenge_list_due(f->st, T0, 0, &due),
                  WD_E_BAD_QUERY);
    /* validated after its authorization expired: the challenge says so,
     * the authorization stays for the cleanup to expire */
    assert_wd_err(store_acme_challenge_set_result(f->st, fx.cid[0][0],
                                                  STORE_ACME_VALID, NULL,
                                                  T0 + 2 * HOUR),
                  WD_OK);
    assert_int_equal(authz_status(f->st, fx.aid[0]), STORE_ACME_PENDING);
    assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_PENDING);
}

static void
test_store_acme_authz_set_status_follows_rfc_8555(void **state)
{
    struct store_fixture *f = *state;
    struct order_fx a;
    struct order_fx b;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&a, "a", id, 2)),
                  WD_OK);
    /* RFC 8555 7.5.2: deactivating one ends its order */
    assert_wd_err(
        store_acme_authz_set_status(f->st, a.aid[0], STORE_ACME_DEACTIVATED),
        WD_OK);
    assert_int_equal(authz_status(f->st, a.aid[0]), STORE_ACME_DEACTIVATED);
    assert_int_equal(order_status(f->st, a.oid), STORE_ACME_INVALID);
    assert_wd_err(
        store_acme_authz_set_status(f->st, a.aid[0], STORE_ACME_DEACTIVATED),
        WD_E_CONFLICT);
    /* revoked only from valid */
    assert_wd_err(
        store_acme_authz_set_status(f->st, a.aid[1], STORE_ACME_REVOKED),
        WD_E_CONFLICT);
    assert_wd_err(
        store_acme_authz_set_status(f->st, a.aid[1], STORE_ACME_INVALID),
        WD_OK);
    /* valid and expired come from challenges and the cleanup */
    assert_wd_err(
        store_acme_authz_set_status(f->st, a.aid[1], STORE_ACME_VALID),
        WD_E_INTERNAL);
    assert_wd_err(
        store_acme_authz_set_status(f->st, a.aid[1], STORE_ACME_EXPIRED),
        WD_E_INTERNAL);
    assert_wd_err(store_acme_authz_set_status(f->st, "authz-x-0-000000",
                                              STORE_ACME_DEACTIVATED),
                  WD_E_NOT_FOUND);

    /* a ready order loses its readiness with a revoked authorization */
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&b, "b", id, 1)),
                  WD_OK);
    order_make_ready(f->st, &b);
    assert_int_equal(order_status(f->st, b.oid), STORE_ACME_READY);
    assert_wd_err(
        store_acme_authz_set_status(f->st, b.aid[0], STORE_ACME_REVOKED),
        WD_OK);
    assert_int_equal(order_status(f->st, b.oid), STORE_ACME_INVALID);
}

static void
test_store_acme_finalize_issues_into_the_inventory(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order *o = NULL;
    struct store_cert *got = NULL;
    struct store_audit_list l = { 0 };
    const struct store_audit_row *ev;
    struct store_cert c;
    struct order_fx fx;
    int64_t bad = -1;
    int64_t checked = 0;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 1)),
                  WD_OK);
    /* RFC 8555 7.4: orderNotReady */
    assert_wd_err(store_acme_order_finalize_begin(f->st, fx.oid, T0),
                  WD_E_CONFLICT);
    order_make_ready(f->st, &fx);
    assert_wd_err(store_acme_order_finalize_begin(f->st, fx.oid, T0 + 100),
                  WD_OK);
    assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_PROCESSING);
    assert_wd_err(store_acme_order_finalize_begin(f->st, fx.oid, T0 + 100),
                  WD_E_CONFLICT);

    cert_fill(&c, "0a1b");
    assert_wd_err(store_acme_order_finalize_done(f->st, fx.oid, &c), WD_OK);
    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_OK);
    assert_int_equal(o->status, STORE_ACME_VALID);
    assert_string_equal(o->certificate_serial, "0a1b");
    store_acme_order_free(o);
    /* an ordinary inventory entry, requested by the account */
    assert_wd_err(store_cert_get(f->st, "0a1b", &got), WD_OK);
    assert_string_equal(got->requester, "acme:alice-kid-000000");
    assert_memory_equal(got->der, der_bytes, sizeof(der_bytes));
    store_cert_free(got);
    ev = audit_newest(f->st, "acme:alice-kid-000000", &l);
    assert_string_equal(ev->action, "issue");
    assert_string_equal(ev->serial, "0a1b");
    assert_string_equal(ev->detail, "acme order order-a-00000000");
    store_audit_list_free(&l);
    /* the chain holds across ACME events */
    assert_wd_err(store_audit_verify(f->st, &bad, &checked), WD_OK);
    assert_int_equal(bad, 0);

    /* once */
    cert_fill(&c, "0a1c");
    assert_wd_err(store_acme_order_finalize_done(f->st, fx.oid, &c),
                  WD_E_CONFLICT);
    assert_wd_err(store_cert_get(f->st, "0a1c", &got), WD_E_NOT_FOUND);
    assert_wd_err(
        store_acme_order_finalize_fail(f->st, fx.oid, "{\"type\":\"x\"}", T0),
        WD_E_CONFLICT);
    assert_wd_err(store_acme_order_finalize_done(f->st, "order-x-00000000", &c),
                  WD_E_NOT_FOUND);
}

static void
test_store_acme_finalize_done_with_a_serial_taken_changes_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct order_fx fx;
    int64_t id = 0;
    int64_t events;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    cert_fill(&c, "0a1b");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 1)),
                  WD_OK);
    order_make_ready(f->st, &fx);
    assert_wd_err(store_acme_order_finalize_begin(f->st, fx.oid, T0), WD_OK);
    events = audit_count(f->st);
    assert_wd_err(store_acme_order_finalize_done(f->st, fx.oid, &c),
                  WD_E_CONFLICT);
    assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_PROCESSING);
    assert_int_equal(audit_count(f->st), events);
    /* an incomplete certificate is a bug */
    c.der = NULL;
    assert_wd_err(store_acme_order_finalize_done(f->st, fx.oid, &c),
                  WD_E_INTERNAL);
}

static void
test_store_acme_finalize_fail_makes_the_order_invalid(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_order *o = NULL;
    struct store_audit_list l = { 0 };
    const struct store_audit_row *ev;
    struct order_fx fx;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_order_insert(f->st, order_fill(&fx, "a", id, 1)),
                  WD_OK);
    order_make_ready(f->st, &fx);
    /* expired while ready: too late to finalize */
    assert_wd_err(store_acme_order_finalize_begin(f->st, fx.oid, T0 + HOUR),
                  WD_E_CONFLICT);
    assert_wd_err(store_acme_order_finalize_begin(f->st, fx.oid, T0 + 100),
                  WD_OK);
    assert_wd_err(store_acme_order_finalize_fail(
                      f->st, fx.oid, "{\"type\":\"serverInternal\"}", T0 + 101),
                  WD_OK);
    assert_wd_err(store_acme_order_get(f->st, fx.oid, &o), WD_OK);
    assert_int_equal(o->status, STORE_ACME_INVALID);
    assert_string_equal(o->error, "{\"type\":\"serverInternal\"}");
    assert_string_equal(o->certificate_serial, "");
    store_acme_order_free(o);
    ev = audit_newest(f->st, "acme:alice-kid-000000", &l);
    assert_string_equal(ev->action, "acme-finalize");
    assert_string_equal(ev->outcome, "invalid");
    assert_null(ev->serial);
    store_audit_list_free(&l);
    assert_wd_err(store_acme_order_finalize_fail(f->st, fx.oid, NULL, T0),
                  WD_E_INTERNAL);
}

static void
test_store_acme_nonce_is_taken_once(void **state)
{
    struct store_fixture *f = *state;
    bool fresh = false;

    assert_wd_err(store_acme_nonce_insert(f->st, "nonce-0000000001", T0 + 60),
                  WD_OK);
    assert_wd_err(store_acme_nonce_insert(f->st, "nonce-0000000001", T0 + 60),
                  WD_E_CONFLICT);
    assert_wd_err(
        store_acme_nonce_take(f->st, "nonce-0000000001", T0 + 59, &fresh),
        WD_OK);
    assert_true(fresh);
    assert_wd_err(
        store_acme_nonce_take(f->st, "nonce-0000000001", T0 + 59, &fresh),
        WD_OK);
    assert_false(fresh);

    /* expired: not fresh, and spent all the same */
    assert_wd_err(store_acme_nonce_insert(f->st, "nonce-0000000002", T0 + 60),
                  WD_OK);
    fresh = true;
    assert_wd_err(
        store_acme_nonce_take(f->st, "nonce-0000000002", T0 + 60, &fresh),
        WD_OK);
    assert_false(fresh);

    /* unknown, or not one of ours at all */
    fresh = true;
    assert_wd_err(store_acme_nonce_take(f->st, "nonce-0000000009", T0, &fresh),
                  WD_OK);
    assert_false(fresh);
    fresh = true;
    assert_wd_err(store_acme_nonce_take(f->st, "' OR 1=1 --", T0, &fresh),
                  WD_OK);
    assert_false(fresh);
    assert_wd_err(store_acme_nonce_insert(f->st, "short", T0 + 60),
                  WD_E_INTERNAL);
}

/* Threads released together on a barrier call one store function on the
 * same object. */
struct race {
    struct store *st;
    pthread_barrier_t *start;
    const char *key;
};

enum race_op {
    RACE_FINALIZE,
    RACE_NONCE,
    RACE_PROCESSING,
};

struct racer {
    struct race *r;
    enum race_op op;
    enum wd_err err;
    bool fresh;
};

static void *
race_run(void *arg)
{
    struct racer *w = arg;

    pthread_barrier_wait(w->r->start);
    switch (w->op) {
    case RACE_FINALIZE:
        w->err = store_acme_order_finalize_begin(w->r->st, w->r->key, T0);
        break;
    case RACE_NONCE:
        w->err = store_acme_nonce_take(w->r->st, w->r->key, T0, &w->fresh);
        break;
    case RACE_PROCESSING:
        w->err =
            store_acme_challenge_set_processing(w->r->st, w->r->key, T0 + 10);
        break;
    }
    return NULL;
}

/* THREADS threads do op on key at once; the number that won. */
static int
race(struct store *st, enum race_op op, const char *key)
{
    pthread_barrier_t start;
    struct race r = { .st = st, .start = &start, .key = key };
    struct racer w[THREADS];
    pthread_t t[THREADS];
    int won = 0;
    int i;

    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (i = 0; i < THREADS; i++) {
        w[i] = (struct racer){ .r = &r, .op = op };
        assert_int_equal(pthread_create(&t[i], NULL, race_run, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (op == RACE_NONCE) {
            assert_wd_err(w[i].err, WD_OK);
            won += w[i].fresh ? 1 : 0;
        } else if (w[i].err == WD_OK) {
            won++;
        } else {
            assert_wd_err(w[i].err, WD_E_CONFLICT);
        }
    }
    pthread_barrier_destroy(&start);
    return won;
}

static void
test_store_acme_concurrent_finalizations_one_wins(void **state)
{
    struct store_fixture *f = *state;
    struct order_fx fx;
    int64_t id = 0;
    char tag[8];
    int i;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    for (i = 0; i < 10; i++) {
        snprintf(tag, sizeof(tag), "a%d", i);
        assert_wd_err(
            store_acme_order_insert(f->st, order_fill(&fx, tag, id, 1)), WD_OK);
        /* the validation itself raced too: one request starts it */
        assert_int_equal(race(f->st, RACE_PROCESSING, fx.cid[0][0]), 1);
        assert_wd_err(store_acme_challenge_set_result(
                          f->st, fx.cid[0][0], STORE_ACME_VALID, NULL, T0 + 20),
                      WD_OK);
        assert_int_equal(race(f->st, RACE_FINALIZE, fx.oid), 1);
        assert_int_equal(order_status(f->st, fx.oid), STORE_ACME_PROCESSING);
    }
}

static void
test_store_acme_concurrent_nonce_takes_one_sees_it(void **state)
{
    struct store_fixture *f = *state;
    char nonce[ID_BUF];
    int i;

    for (i = 0; i < 20; i++) {
        snprintf(nonce, sizeof(nonce), "nonce-race-%05d", i);
        assert_wd_err(store_acme_nonce_insert(f->st, nonce, T0 + 60), WD_OK);
        assert_int_equal(race(f->st, RACE_NONCE, nonce), 1);
    }
}

struct key_racer {
    struct store *st;
    pthread_barrier_t *start;
    const char *kid;
    char old_tp[TP_BUF];
    enum wd_err err;
};

static void *
key_change_run(void *arg)
{
    struct key_racer *k = arg;
    char new_tp[TP_BUF];

    pthread_barrier_wait(k->start);
    k->err = store_acme_account_key_change(k->st, k->kid, k->old_tp, jwk_b,
                                           tp(new_tp, 'Z'), T0);
    return NULL;
}

static void
test_store_acme_concurrent_rollovers_to_one_key_one_wins(void **state)
{
    struct store_fixture *f = *state;
    static const char *const kids[] = { "alice-kid-000000",
                                        "bob-kid-00000000" };
    struct store_acme_account *a = NULL;
    struct key_racer k[2];
    pthread_barrier_t start;
    pthread_t t[2];
    char z[TP_BUF];
    int i;

    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    for (i = 0; i < 2; i++) {
        assert_wd_err(account_new(f->st, kids[i], (char)('A' + i), NULL, NULL),
                      WD_OK);
        k[i] =
            (struct key_racer){ .st = f->st, .start = &start, .kid = kids[i] };
        tp(k[i].old_tp, (char)('A' + i));
    }
    for (i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, key_change_run, &k[i]), 0);
    }
    for (i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    pthread_barrier_destroy(&start);
    /* exactly one rolled over; the other kept its key */
    assert_true((k[0].err == WD_OK) != (k[1].err == WD_OK));
    i = k[0].err == WD_OK ? 1 : 0;
    assert_wd_err(k[i].err, WD_E_CONFLICT);
    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, tp(z, 'Z'), &a),
                  WD_OK);
    assert_string_equal(a->kid, kids[1 - i]);
    store_acme_account_free(a);
    a = NULL;
    assert_wd_err(store_acme_account_get_by_thumbprint(f->st, k[i].old_tp, &a),
                  WD_OK);
    assert_string_equal(a->kid, kids[i]);
    store_acme_account_free(a);
}

static void
test_store_acme_cleanup_expires_and_deletes_what_it_should(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_cleanup n = { 0 };
    struct store_acme_challenge_list due = { 0 };
    struct store_acme_order *o = NULL;
    struct store_acme_authz *z = NULL;
    struct store_acme_challenge *c = NULL;
    struct order_fx pending;
    struct order_fx ready;
    struct order_fx processing;
    struct order_fx valid;
    struct order_fx validating;
    struct store_cert cert;
    bool fresh = false;
    int64_t id = 0;

    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, &id),
                  WD_OK);
    assert_wd_err(store_acme_nonce_insert(f->st, "nonce-0000000001", T0 + 10),
                  WD_OK);
    assert_wd_err(
        store_acme_nonce_insert(f->st, "nonce-0000000002", T0 + 3 * HOUR),
        WD_OK);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&pending, "p", id, 1)),
        WD_OK);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&ready, "r", id, 1)), WD_OK);
    order_make_ready(f->st, &ready);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&processing, "s", id, 1)),
        WD_OK);
    order_make_ready(f->st, &processing);
    assert_wd_err(store_acme_order_finalize_begin(f->st, processing.oid, T0),
                  WD_OK);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&valid, "v", id, 1)), WD_OK);
    order_make_ready(f->st, &valid);
    assert_wd_err(store_acme_order_finalize_begin(f->st, valid.oid, T0), WD_OK);
    cert_fill(&cert, "0a1b");
    assert_wd_err(store_acme_order_finalize_done(f->st, valid.oid, &cert),
                  WD_OK);
    assert_wd_err(
        store_acme_order_insert(f->st, order_fill(&validating, "w", id, 1)),
        WD_OK);
    assert_wd_err(store_acme_challenge_set_processing(
                      f->st, validating.cid[0][0], T0 + 10),
                  WD_OK);

    /* before anything expires, nothing but the first nonce goes */
    assert_wd_err(store_acme_cleanup(f->st, T0 + 10, &n), WD_OK);
    assert_int_equal(n.nonces_deleted, 1);
    assert_int_equal(n.orders_invalidated + n.authzs_expired +
                         n.challenges_invalidated + n.orders_deleted,
                     0);
    assert_false(n.more);

    /* the orders expire at T0 + 1 h: pending and ready ones are invalid,
     * the processing one gets its grace, the valid one stays */
    assert_wd_err(store_acme_cleanup(f->st, T0 + HOUR, &n), WD_OK);
    assert_int_equal(n.orders_invalidated, 3); /* pending, ready, validating */
    assert_int_equal(n.nonces_deleted, 0);
    assert_int_equal(order_status(f->st, pending.oid), STORE_ACME_INVALID);
    assert_int_equal(order_status(f->st, ready.oid), STORE_ACME_INVALID);
    assert_int_equal(order_status(f->st, processing.oid),
                     STORE_ACME_PROCESSING);
    assert_int_equal(order_status(f->st, valid.oid), STORE_ACME_VALID);

    /* the authorizations expire at T0 + 2 h, and the challenge being
     * validated has nothing left to prove; the grace ends too */
    assert_wd_err(store_acme_cleanup(f->st, T0 + 2 * HOUR, &n), WD_OK);
    assert_int_equal(n.orders_invalidated, 1);
    assert_int_equal(n.authzs_expired, 5); /* pending, and valid ones */
    assert_int_equal(n.challenges_invalidated, 1);
    assert_int_equal(order_status(f->st, processing.oid), STORE_ACME_INVALID);
    assert_int_equal(authz_status(f->st, pending.aid[0]), STORE_ACME_EXPIRED);
    assert_int_equal(authz_status(f->st, valid.aid[0]), STORE_ACME_EXPIRED);
    assert_int_equal(chall_status(f->st, validating.cid[0][0]),
                     STORE_ACME_INVALID);
    assert_wd_err(store_acme_challenge_list_due(f->st, T0 + 3 * HOUR, 10, &due),
                  WD_OK);
    assert_int_equal(due.n, 0);
    store_acme_challenge_list_free(&due);

    /* 30 days after expiry the invalid orders go, with their
     * authorizations and challenges; the valid one, its certificate and
     * the account stay */
    assert_wd_err(
        store_acme_cleanup(f->st,
                           T0 + HOUR + STORE_ACME_INVALID_RETENTION_S - 1, &n),
        WD_OK);
    assert_int_equal(n.orders_deleted, 0);
    assert_int_equal(n.nonces_deleted, 1);
    assert_wd_err(store_acme_cleanup(
                      f->st, T0 + HOUR + STORE_ACME_INVALID_RETENTION_S, &n),
                  WD_OK);
    assert_int_equal(n.orders_deleted, 4);
    assert_wd_err(store_acme_order_get(f->st, pending.oid, &o), WD_E_NOT_FOUND);
    assert_wd_err(store_acme_authz_get(f->st, pending.aid[0], &z),
                  WD_E_NOT_FOUND);
    assert_wd_err(store_acme_challenge_get(f->st, pending.cid[0][1], &c),
                  WD_E_NOT_FOUND);
    assert_int_equal(order_status(f->st, valid.oid), STORE_ACME_VALID);
    assert_int_equal(authz_status(f->st, valid.aid[0]), STORE_ACME_EXPIRED);
    assert_int_equal(account_status(f->st, "alice-kid-000000"),
                     STORE_ACME_VALID);
    assert_wd_err(store_acme_nonce_take(f->st, "nonce-0000000002", T0, &fresh),
                  WD_OK);
    assert_false(fresh); /* deleted as expired */

    /* and then there is nothing left to do */
    assert_wd_err(store_acme_cleanup(f->st, T0 + 400 * DAY, &n), WD_OK);
    assert_int_equal(n.nonces_deleted + n.orders_invalidated +
                         n.authzs_expired + n.challenges_invalidated +
                         n.orders_deleted,
                     0);
}

static void
test_store_acme_cleanup_works_in_batches(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_cleanup n = { 0 };
    char nonce[ID_BUF];
    int i;

    for (i = 0; i < STORE_ACME_CLEANUP_BATCH + 1; i++) {
        snprintf(nonce, sizeof(nonce), "nonce-batch-%05d", i);
        assert_wd_err(store_acme_nonce_insert(f->st, nonce, T0), WD_OK);
    }
    assert_wd_err(store_acme_cleanup(f->st, T0, &n), WD_OK);
    assert_int_equal(n.nonces_deleted, STORE_ACME_CLEANUP_BATCH);
    assert_true(n.more);
    assert_wd_err(store_acme_cleanup(f->st, T0, &n), WD_OK);
    assert_int_equal(n.nonces_deleted, 1);
    assert_false(n.more);
    assert_wd_err(store_acme_cleanup(f->st, 0, &n), WD_E_INTERNAL);
}

static void
test_store_acme_migration_6_upgrades_a_version_5_database(void **state)
{
    struct store_fixture *f = *state;
    struct store_acme_account *a = NULL;
    struct store_cert c;
    sqlite3 *db;

    /* a version 5 database with a certificate in it */
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    cert_fill(&c, "0a");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    store_close(f->st);
    f->st = NULL;
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(db, STORE_FIXTURE_UNDO_6 "PRAGMA user_version = 5");
    assert_int_equal(store_fixture_raw_int(db, "SELECT count(*) FROM"
                                               " sqlite_schema WHERE name"
                                               " GLOB 'acme_*'"),
                     0);
    sqlite3_close(db);

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(store_fixture_raw_int(db, "PRAGMA user_version"), 8);
    assert_int_equal(store_fixture_raw_int(db, "SELECT count(*) FROM"
                                               " sqlite_schema WHERE"
                                               " type = 'table' AND name"
                                               " GLOB 'acme_*'"),
                     6);
    /* every lookup the protocol makes has its index */
    assert_int_equal(store_fixture_raw_int(db, "SELECT count(*) FROM"
                                               " sqlite_schema WHERE"
                                               " type = 'index' AND name IN"
                                               " ('acme_orders_account',"
                                               " 'acme_orders_account_created',"
                                               " 'acme_orders_expiry',"
                                               " 'acme_authzs_expiry',"
                                               " 'acme_challenges_due',"
                                               " 'acme_nonces_expiry')"),
                     6);
    assert_int_equal(store_fixture_raw_int(db, "SELECT count(*) FROM"
                                               " certificates"),
                     1);
    sqlite3_close(db);
    /* and the tables work */
    assert_wd_err(account_new(f->st, "alice-kid-000000", 'A', NULL, NULL),
                  WD_OK);
    assert_wd_err(store_acme_account_get_by_kid(f->st, "alice-kid-000000", &a),
                  WD_OK);
    store_acme_account_free(a);
}

/* The plan SQLite picks for sql on db, its steps joined by "; ". */
static const char *
plan(sqlite3 *db, const char *sql, char *buf, size_t len)
{
    char q[1024];
    sqlite3_stmt *s = NULL;

    snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
    buf[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW) {
        strncat(buf, (const char *)sqlite3_column_text(s, 3),
                len - strlen(buf) - 3);
        strcat(buf, "; ");
    }
    sqlite3_finalize(s);
    return buf;
}

/* The shapes of the lookups in store_acme*.c, against migration 6's
 * indexes. */
static void
test_store_acme_lookups_read_indexes_not_tables(void **state)
{
    struct store_fixture *f = *state;
    static const char *const queries[] = {
        "SELECT * FROM acme_orders WHERE account_id = 1 AND id < 9"
        " ORDER BY id DESC LIMIT 3",
        "SELECT count(*) FROM acme_orders WHERE account_id = 1"
        " AND created_at >= 5",
        "SELECT id FROM acme_orders WHERE status IN ('pending', 'ready')"
        " AND expires_at <= 5",
        "SELECT id FROM acme_authzs WHERE status IN ('pending', 'valid')"
        " AND expires_at <= 5",
        "SELECT * FROM acme_authzs WHERE order_id = 1",
        "SELECT * FROM acme_challenges WHERE authz_id = 1",
        /* without statistics SQLite would start these three from every
         * pending authorization; the store steers them */
        "SELECT c.id FROM acme_challenges c INDEXED BY acme_challenges_due"
        " JOIN acme_authzs z ON z.id = c.authz_id"
        " WHERE c.status = 'processing' AND c.next_attempt_at <= 5"
        " AND z.status = 'pending' ORDER BY c.next_attempt_at, c.id",
        "UPDATE acme_authzs SET status = 'deactivated'"
        " WHERE +status = 'pending' AND order_id IN (SELECT id FROM"
        " acme_orders WHERE account_id = 1 AND status IN ('pending',"
        " 'ready'))",
        "UPDATE acme_challenges SET status = 'processing' WHERE cid = 'c'"
        " AND status = 'pending' AND EXISTS (SELECT 1 FROM acme_authzs z"
        " WHERE z.id = acme_challenges.authz_id AND z.status = 'pending'"
        " AND z.expires_at > 5)",
        "SELECT nonce FROM acme_nonces WHERE expires_at <= 5",
        "SELECT * FROM acme_accounts WHERE thumbprint = 'x'",
    };
    char buf[1024];
    sqlite3 *db;
    size_t i;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        /* one range of one index, in the order asked for: no scan of a
         * table or an index, no sort */
        plan(db, queries[i], buf, sizeof(buf));
        if (strstr(buf, "SEARCH") == NULL || strstr(buf, "SCAN") != NULL ||
            strstr(buf, "TEMP B-TREE") != NULL) {
            fail_msg("%s: %s", queries[i], buf);
        }
    }
    sqlite3_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_acme_names_are_rfc_8555s),
        cmocka_unit_test(test_store_acme_free_functions_accept_null),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_insert_then_get_by_kid_and_thumbprint,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_get_by_id_finds_the_account_or_nothing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_insert_refuses_a_key_or_kid_taken,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_insert_refuses_malformed_fields,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_get_finds_nothing_for_hostile_keys,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_update_contact_only_while_valid,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_deactivate_cancels_pending_orders,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_key_change_replaces_the_key,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_account_key_change_refuses_a_key_in_use,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_eab_key_binds_one_account_only,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_eab_insert_refuses_weak_keys_and_get_hostile_kids,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_insert_then_get_with_authzs_and_challenges,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_insert_is_all_or_nothing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_insert_refuses_a_missing_account,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_foreign_keys_hold_behind_the_stores_back,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_get_refuses_more_authzs_than_an_order_can_have,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_insert_refuses_malformed_orders,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_values_that_look_like_sql_stay_values,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_list_by_account_pages_newest_first,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_order_count_since_counts_one_accounts_recent_orders,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_challenge_validation_makes_the_order_ready,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_challenge_failure_invalidates_authz_and_order,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_challenge_moves_refuse_what_they_cannot_do,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_authz_set_status_follows_rfc_8555,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_finalize_issues_into_the_inventory,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_finalize_done_with_a_serial_taken_changes_nothing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_finalize_fail_makes_the_order_invalid,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(test_store_acme_nonce_is_taken_once,
                                        store_fixture_setup_memory,
                                        store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_concurrent_finalizations_one_wins,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_acme_concurrent_nonce_takes_one_sees_it,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_acme_concurrent_rollovers_to_one_key_one_wins,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_acme_cleanup_expires_and_deletes_what_it_should,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_cleanup_works_in_batches,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_acme_migration_6_upgrades_a_version_5_database,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_acme_lookups_read_indexes_not_tables,
            store_fixture_setup_file, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
