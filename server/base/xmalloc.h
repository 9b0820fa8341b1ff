/*
 * Allocation that never returns NULL. Inputs are bounded (limits.h), so
 * running out of memory means a broken host: log and abort, and rely on
 * the store surviving a crash at any instant.
 */
#ifndef WD_XMALLOC_H
#define WD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

#endif
