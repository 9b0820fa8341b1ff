/*
 * The inventory counts /metrics shows, kept off the scrape's path.
 * Counting a million certificates reads about a million index entries
 * (0.2 s here), and /metrics is answered on a thread of the public
 * listener's pool, whose other connections (OCSP clients) would wait that
 * long. So a scrape takes the counts already made; when they are older than
 * the cache's max age it asks the cache's own thread for new ones and
 * answers with those it has meanwhile (stale while revalidating). Only a
 * scrape that finds nothing counted yet waits for a count.
 */
#include "api_priv.h"

#include <pthread.h>
#include <stdlib.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

struct api_stats_cache {
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* to the thread: a count is wanted, or stop */
    pthread_cond_t counted; /* from the thread: a count ended */
    struct store *store;    /* borrowed */
    int64_t window_s;       /* the counts' "expiring" window */
    int64_t max_age_s;
    pthread_t thread;
    bool started;
    bool wanted;   /* a count at want_now is asked for */
    bool counting; /* the thread is counting, without the lock */
    bool stopping;
    int64_t want_now;
    uint64_t generation; /* counts ended, successful or not */
    enum wd_err last_err;
    bool have;  /* stats holds a count */
    int64_t at; /* the clock that count was made for */
    struct store_cert_stats stats;
};

/* Counts of st, which must outlive the cache. */
struct api_stats_cache *
api_stats_cache_new(struct store *st, int64_t window_s, int64_t max_age_s)
{
    struct api_stats_cache *c = xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->counted, NULL);
    c->store = st;
    c->window_s = window_s;
    c->max_age_s = max_age_s;
    return c;
}

/* Stops the thread, once it ends the count it may be in. */
void
api_stats_cache_free(struct api_stats_cache *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->started) {
        pthread_join(c->thread, NULL);
    }
    pthread_cond_destroy(&c->counted);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void *
count_loop(void *arg)
{
    struct api_stats_cache *c = arg;

    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        struct store_cert_stats s;
        enum wd_err err;
        int64_t now;

        if (!c->wanted) {
            pthread_cond_wait(&c->wake, &c->lock);
            continue;
        }
        c->wanted = false;
        c->counting = true;
        now = c->want_now;
        pthread_mutex_unlock(&c->lock);
        err = store_cert_stats_get(c->store, now, c->window_s, &s);
        pthread_mutex_lock(&c->lock);
        c->counting = false;
        c->last_err = err;
        if (err == WD_OK) {
            c->stats = s;
            c->at = now;
            c->have = true;
        }
        c->generation++;
        pthread_cond_broadcast(&c->counted);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static bool
fresh(const struct api_stats_cache *c, int64_t now)
{
    return c->have && now >= c->at && now - c->at < c->max_age_s;
}

/*
 * The counts at about now: at most max age old, or, while a recount runs,
 * the last ones made. Waits only when none were made yet (and then
 * returns the first count's error if it failed).
 */
enum wd_err
api_stats_cache_get(struct api_stats_cache *c, int64_t now,
                    struct store_cert_stats *out)
{
    enum wd_err err = WD_OK;

    pthread_mutex_lock(&c->lock);
    if (!c->started) {
        c->started = pthread_create(&c->thread, NULL, count_loop, c) == 0;
        if (!c->started) {
            pthread_mutex_unlock(&c->lock);
            log_err("event=stats_thread_failed");
            return store_cert_stats_get(c->store, now, c->window_s, out);
        }
    }
    if (!fresh(c, now) && !c->counting && !c->wanted) {
        c->wanted = true;
        c->want_now = now;
        pthread_cond_signal(&c->wake);
    }
    if (!c->have) {
        uint64_t gen = c->generation;

        while (c->generation == gen) {
            pthread_cond_wait(&c->counted, &c->lock);
        }
        err = c->last_err;
    }
    if (c->have) {
        *out = c->stats;
        err = WD_OK;
    }
    pthread_mutex_unlock(&c->lock);
    return err;
}
