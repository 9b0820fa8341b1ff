/*
 * Readiness for systemd (Type=notify, sd_notify(3)): serve says READY=1
 * once both listeners accept connections and STOPPING=1 when a shutdown
 * begins, so `systemctl start` returns when the daemon can answer and
 * units ordered after it start on a CA that is really there. Without
 * $NOTIFY_SOCKET (a shell, a container) both calls do nothing.
 */
#include "srv.h"

#include <string.h>
#include <systemd/sd-daemon.h>

#include "base/log.h"

/* sd_notify returns < 0 (-errno) when the message could not be sent. */
static void
check(int ret, const char *what)
{
    if (ret < 0) {
        log_warn("event=sd_notify_failed state=%s err=\"%s\"", what,
                 strerror(-ret));
    }
}

/*
 * Tell the service manager that both listeners are up, with a status line
 * for `systemctl status`. A failure to send is logged, never fatal: the
 * daemon serves either way.
 */
void
srv_notify_ready(const char *api_listen, const char *public_listen)
{
    check(sd_notifyf(0,
                     "READY=1\nSTATUS=serving api=https://%s public=http://%s",
                     api_listen, public_listen),
          "ready");
}

/* Tell the service manager that a clean shutdown has begun. */
void
srv_notify_stopping(void)
{
    check(sd_notify(0, "STOPPING=1\nSTATUS=stopping"), "stopping");
}
