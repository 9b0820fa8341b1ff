/*
 * A bound on concurrent signings: every private-key operation a request
 * triggers (issuance, renewal, live OCSP) takes a slot first, so a burst
 * of requests queues here instead of piling threads onto two cores. A
 * request that cannot get a slot in time gets 503, not an unbounded wait;
 * one on the public listener does not wait at all.
 * The time a slot is held is what /metrics reports as signing latency.
 */
#include "api_priv.h"

#include <errno.h>
#include <time.h>

#include "../server/base/log.h"

/* Longest a request waits for a signing slot. */
#define SIGN_WAIT_S 10

/* When this thread took its slot. begin and end always run on one thread
 * around one key operation, so the start rides here rather than through
 * every caller. */
static _Thread_local struct timespec slot_taken;

/*
 * api_sign_begin for a caller that must not wait: a thread of the public
 * listener's pool serves many connections (cached OCSP answers, the CRL)
 * between requests, and waiting here would stall them all. A busy signer
 * is WD_E_UNAVAILABLE at once (OCSP answers tryLater).
 */
enum wd_err
api_sign_try_begin(struct api *api)
{
    int ret;

    if (api->sign_slots != NULL) {
        while ((ret = sem_trywait(api->sign_slots)) != 0 && errno == EINTR) {
        }
        if (ret != 0) {
            log_debug("event=signing_busy wait_s=0");
            return WD_E_UNAVAILABLE;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &slot_taken);
    return WD_OK;
}

/* Take a signing slot (none configured: no bound). */
enum wd_err
api_sign_begin(struct api *api)
{
    struct timespec until;

    if (api->sign_slots == NULL) {
        clock_gettime(CLOCK_MONOTONIC, &slot_taken);
        return WD_OK;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SIGN_WAIT_S;
    while (sem_timedwait(api->sign_slots, &until) != 0) {
        if (errno != EINTR) {
            log_warn("event=signing_busy wait_s=%d", SIGN_WAIT_S);
            return WD_E_UNAVAILABLE;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &slot_taken);
    return WD_OK;
}

/* Give the slot back. */
void
api_sign_end(struct api *api)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    api_metrics_signed(api,
                       (uint64_t)((now.tv_sec - slot_taken.tv_sec) * 1000000L +
                                  (now.tv_nsec - slot_taken.tv_nsec) / 1000L));
    if (api->sign_slots != NULL) {
        sem_post(api->sign_slots);
    }
}
