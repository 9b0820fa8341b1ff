/*
 * The data dir's files: read whole with a size cap, create exclusively
 * with the right mode and fsync'd, so that a crash during init leaves
 * either a file with its full contents or no file. Secrets are read only
 * from files nobody else may access, in a dir nobody else may write.
 */
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
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

/* Read fd whole into *out (NUL-terminated), at most max bytes. */
static enum wd_err
read_fd(int fd, const char *path, size_t max, char **out, size_t *len)
{
    char *buf = xmalloc(max + 1);
    size_t used = 0;
    enum wd_err rc = WD_E_IO;

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
    if (buf != NULL) {
        gnutls_memset(buf, 0, used); /* it may have been a key */
    }
    free(buf);
    return rc;
}

/* Open dir/name for reading, never through a symlink; -1 (logged). */
static int
open_read(const char *dir, const char *name, char *path, size_t pathsz)
{
    int fd;

    join(dir, name, path, pathsz);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        log_err("event=file_read_failed path=%s err=\"%s\"", path,
                strerror(errno));
    }
    return fd;
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
    enum wd_err rc;
    int fd;

    fd = open_read(dir, name, path, sizeof(path));
    if (fd < 0) {
        return WD_E_IO;
    }
    rc = read_fd(fd, path, max, out, len);
    close(fd);
    return rc;
}

/*
 * srv_file_read for a secret (a private key, a passphrase): the opened
 * file itself (fstat, so no swap between check and read) must be a
 * regular file that neither group nor others may access. WD_E_KEY_UNPROTECTED
 * (logged, with the fix) if it is, WD_E_IO as srv_file_read. Caller wipes
 * and frees *out.
 */
enum wd_err
srv_file_read_secret(const char *dir, const char *name, size_t max, char **out,
                     size_t *len)
{
    char path[4096];
    struct stat st;
    enum wd_err rc;
    int fd;

    fd = open_read(dir, name, path, sizeof(path));
    if (fd < 0) {
        return WD_E_IO;
    }
    if (fstat(fd, &st) != 0) {
        log_err("event=file_read_failed path=%s err=\"%s\"", path,
                strerror(errno));
        rc = WD_E_IO;
    } else if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        log_err("event=key_file_unprotected path=%s mode=%04o "
                "reason=\"a secret must be a regular file that group and "
                "others cannot access; chmod 600 it\"",
                path, (unsigned)(st.st_mode & 07777));
        rc = WD_E_KEY_UNPROTECTED;
    } else {
        rc = read_fd(fd, path, max, out, len);
    }
    close(fd);
    return rc;
}

/*
 * Refuse a data dir that group or others may write to (they could swap
 * a key or the config), checked on the opened directory.
 * WD_E_KEY_UNPROTECTED (logged) if it is, WD_E_IO if it cannot be opened.
 */
enum wd_err
srv_dir_check(const char *dir)
{
    struct stat st;
    enum wd_err rc = WD_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        log_err("event=dir_open_failed path=%s err=\"%s\"", dir,
                strerror(errno));
        rc = WD_E_IO;
    } else if ((st.st_mode & 022) != 0) {
        log_err("event=data_dir_unprotected path=%s mode=%04o "
                "reason=\"group or others may write to the data dir; "
                "chmod 700 it\"",
                dir, (unsigned)(st.st_mode & 07777));
        rc = WD_E_KEY_UNPROTECTED;
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/*
 * Best effort: overwrite dir/name with zeros, fsync, then unlink it and
 * sync the dir. A journaling or copy-on-write file system or an SSD may
 * still hold the old blocks. WD_E_IO (logged) if it cannot be removed.
 */
enum wd_err
srv_file_wipe(const char *dir, const char *name)
{
    static const char zeros[4096];
    char path[4096];
    struct stat st;
    int fd;

    join(dir, name, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t done = 0;

        while (done < st.st_size) {
            size_t n = sizeof(zeros);
            ssize_t w;

            if ((off_t)n > st.st_size - done) {
                n = (size_t)(st.st_size - done);
            }
            w = write(fd, zeros, n);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                break;
            }
            done += w;
        }
        (void)fsync(fd);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (unlink(path) != 0) {
        log_err("event=file_wipe_failed path=%s err=\"%s\"", path,
                strerror(errno));
        return WD_E_IO;
    }
    return srv_dir_sync(dir);
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

/* Wipe a NUL-terminated secret (key PEM, passphrase) and free it. */
void
srv_secret_free(char *s)
{
    if (s != NULL) {
        gnutls_memset(s, 0, strlen(s));
    }
    free(s);
}
