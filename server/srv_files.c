/*
 * The data dir's files: read whole with a size cap, create exclusively
 * with the right mode and fsync'd, so that a crash during init leaves
 * either a file with its full contents or no file.
 */
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/xmalloc.h"

/* dir/name; a NULL dir means name is a path of its own. */
static void
join(const char *dir, const char *name, char *out, size_t outsz)
{
    if (dir == NULL) {
        snprintf(out, outsz, "%s", name);
    } else {
        snprintf(out, outsz, "%s/%s", dir, name);
    }
}

/*
 * Read dir/name (or the path name when dir is NULL) whole, NUL-terminated,
 * at most max bytes. WD_E_IO if it is
 * missing, unreadable or larger. Caller frees *out.
 */
enum wd_err
srv_file_read(const char *dir, const char *name, size_t max, char **out,
              size_t *len)
{
    char path[4096];
    char *buf = NULL;
    size_t used = 0;
    int fd;
    enum wd_err rc = WD_E_IO;

    join(dir, name, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        log_err("event=file_read_failed path=%s err=\"%s\"", path,
                strerror(errno));
        return WD_E_IO;
    }
    buf = xmalloc(max + 1);
    for (;;) {
        ssize_t n = read(fd, buf + used, max + 1 - used);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            log_err("event=file_read_failed path=%s err=\"%s\"", path,
                    strerror(errno));
            goto out;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
        if (used > max) {
            log_err("event=file_read_failed path=%s reason=too_large", path);
            goto out;
        }
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    buf = NULL;
    rc = WD_OK;
out:
    free(buf);
    close(fd);
    return rc;
}

/*
 * Create dir/name with mode, write data and fsync it. Refuses to replace
 * an existing file (O_EXCL) or follow a symlink. WD_E_IO on failure, with
 * the partial file removed.
 */
enum wd_err
srv_file_create(const char *dir, const char *name, const void *data, size_t len,
                unsigned mode)
{
    char path[4096];
    const char *p = data;
    size_t done = 0;
    int fd;

    join(dir, name, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              (mode_t)mode);
    if (fd < 0) {
        log_err("event=file_create_failed path=%s err=\"%s\"", path,
                strerror(errno));
        return WD_E_IO;
    }
    /* the umask must not widen or narrow what we asked for */
    if (fchmod(fd, (mode_t)mode) != 0) {
        goto fail;
    }
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            goto fail;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) {
        goto fail;
    }
    close(fd);
    return WD_OK;
fail:
    log_err("event=file_create_failed path=%s err=\"%s\"", path,
            strerror(errno));
    close(fd);
    unlink(path);
    return WD_E_IO;
}

/* Does dir/name exist (as anything)? */
bool
srv_file_exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;

    join(dir, name, path, sizeof(path));
    return lstat(path, &st) == 0;
}

/* fsync the directory so newly created names survive a crash. */
enum wd_err
srv_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    enum wd_err rc = WD_OK;

    if (fd < 0 || fsync(fd) != 0) {
        log_err("event=dir_sync_failed path=%s err=\"%s\"", dir,
                strerror(errno));
        rc = WD_E_IO;
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/*
 * Replace dir/name atomically: write dir/name.tmp (fsync'd), rename it
 * over name, fsync the dir. A crash leaves the old file or the new one.
 */
enum wd_err
srv_file_replace(const char *dir, const char *name, const void *data,
                 size_t len, unsigned mode)
{
    char tmp_name[256];
    char tmp[4096];
    char path[4096];
    enum wd_err rc;

    snprintf(tmp_name, sizeof(tmp_name), "%s.tmp", name);
    join(dir, tmp_name, tmp, sizeof(tmp));
    join(dir, name, path, sizeof(path));
    unlink(tmp); /* a leftover of a crash mid-replace */
    rc = srv_file_create(dir, tmp_name, data, len, mode);
    if (rc != WD_OK) {
        return rc;
    }
    if (rename(tmp, path) != 0) {
        log_err("event=file_replace_failed path=%s err=\"%s\"", path,
                strerror(errno));
        unlink(tmp);
        return WD_E_IO;
    }
    return srv_dir_sync(dir);
}
