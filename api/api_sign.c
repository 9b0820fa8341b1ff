/*
 * A bound on concurrent signings: every private-key operation a request
 * triggers (issuance, renewal, live OCSP) takes a slot first, so a burst
 * of requests queues here instead of piling threads onto two cores. A
 * request that cannot get a slot in time gets 503, not an unbounded wait.
 */
#include "api_priv.h"

#include <errno.h>
#include <time.h>

#include "../server/base/log.h"

/* Longest a request waits for a signing slot. */
#define SIGN_WAIT_S 10

/* Take a signing slot (none configured: no bound). */
enum wd_err
api_sign_begin(struct api *api)
{
    struct timespec until;

    if (api->sign_slots == NULL) {
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
    return WD_OK;
}

/* Give the slot back. */
void
api_sign_end(struct api *api)
{
    if (api->sign_slots != NULL) {
        sem_post(api->sign_slots);
    }
}
