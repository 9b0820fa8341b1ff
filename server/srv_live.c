/*
 * The part of warden.conf that SIGHUP reloads (admins, readers, grants,
 * profile bounds and the issuance limits) as an immutable snapshot with
 * a reference count. A request takes the current snapshot when it starts
 * and holds it to its end, so it sees one policy throughout; a reload
 * swaps in a new one for the requests that start after it, and the old
 * one is freed when its last request ends.
 */
#include "srv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

struct srv_live_cfg {
    atomic_uint refs;
    struct api_policy policy;
    struct api_cfg api; /* api.policy points at policy */
};

struct srv_live {
    /* guards cur between reading it and taking a reference: without it
     * a swap could free the snapshot in between */
    pthread_mutex_t lock;
    struct srv_live_cfg *cur;
};

/* A snapshot of cfg's reloadable keys; cfg's policy moves into it. */
static struct srv_live_cfg *
snapshot_new(struct srv_config *cfg)
{
    struct srv_live_cfg *c = xcalloc(1, sizeof(*c));

    atomic_init(&c->refs, 1);
    c->policy = cfg->policy;
    memset(&cfg->policy, 0, sizeof(cfg->policy));
    c->api.policy = &c->policy;
    c->api.max_sans = cfg->max_sans;
    c->api.default_validity_s = cfg->default_validity_s;
    c->api.max_validity_s = cfg->max_validity_s;
    c->api.expiring_window_s = cfg->expiring_window_s;
    return c;
}

/* The live config, starting with cfg's (whose policy it takes over). */
struct srv_live *
srv_live_new(struct srv_config *cfg)
{
    struct srv_live *l = xcalloc(1, sizeof(*l));

    pthread_mutex_init(&l->lock, NULL);
    l->cur = snapshot_new(cfg);
    return l;
}

/* Accepts NULL. Every snapshot taken must have been given back. */
void
srv_live_free(struct srv_live *l)
{
    if (l == NULL) {
        return;
    }
    srv_live_cfg_unref(l->cur);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* The current snapshot, with a reference for the caller. */
struct srv_live_cfg *
srv_live_cfg_ref(struct srv_live *l)
{
    struct srv_live_cfg *c;

    pthread_mutex_lock(&l->lock);
    c = l->cur;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&l->lock);
    return c;
}

/* Give a reference back; the last one frees the snapshot. NULL is fine. */
void
srv_live_cfg_unref(struct srv_live_cfg *c)
{
    if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1) {
        api_policy_clear(&c->policy);
        free(c);
    }
}

/* The API's view of a snapshot, valid while the reference is held. */
const struct api_cfg *
srv_live_cfg_api(const struct srv_live_cfg *c)
{
    return &c->api;
}

/* Make cfg's reloadable keys current (its policy moves in). */
void
srv_live_swap(struct srv_live *l, struct srv_config *cfg)
{
    struct srv_live_cfg *fresh = snapshot_new(cfg);
    struct srv_live_cfg *old;

    pthread_mutex_lock(&l->lock);
    old = l->cur;
    l->cur = fresh;
    pthread_mutex_unlock(&l->lock);
    srv_live_cfg_unref(old);
}
