/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A growable text buffer, for outputs built piece by piece (the /metrics
 * page, event lines). On out-of-memory it stops growing and says so in
 * `failed`: the caller drops the whole output, never a truncated one.
 */
#ifndef PW_STRBUF_H
#define PW_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct pw_strbuf {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory: the content is incomplete */
};

/* Room for @more bytes after len, plus a NUL. */
void pw_strbuf_grow(struct pw_strbuf *b, size_t more);
void pw_strbuf_printf(struct pw_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pw_strbuf_free(struct pw_strbuf *b);

/* Inline: the event-line writer appends a dozen pieces per line. Not NUL-terminated. */
static inline void pw_strbuf_put(struct pw_strbuf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap) {
		pw_strbuf_grow(b, n);
		if (b->failed)
			return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#endif
