// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "journal.h"
#include "log.h"
#include "util.h"

/*
 * Lines are gathered in our own buffer and written with write(2) once per
 * loop pass (journal__flush) or when the buffer fills. Line-buffered stdio
 * made one write per event, the daemon's largest cost under a bind flood.
 * Our own buffer, not stdio's, so that a failed write is counted exactly:
 * every line in the buffer at that moment is lost and added to failures.
 */
#define JOURNAL_BUF (256u << 10)

struct journal {
	FILE *f;
	int fd;
	bool own;
	char *buf, *line; /* pending output; scratch for one dumped line */
	size_t len, line_cap;
	uint64_t pending; /* lines in buf */
	uint64_t lines, failures;
};

int journal__open(const char *path, struct journal **ret)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->buf = malloc(JOURNAL_BUF);
	j->line_cap = 4096;
	j->line = malloc(j->line_cap);
	if (!j->buf || !j->line) {
		journal__close(j);
		return -ENOMEM;
	}
	if (!path || !strcmp(path, "-")) {
		j->f = stdout;
	} else {
		j->f = fopen(path, "ae");
		if (!j->f) {
			int err = -errno;

			journal__close(j);
			return err;
		}
		j->own = true;
	}
	j->fd = fileno(j->f);
	*ret = j;
	return 0;
}

void journal__close(struct journal *j)
{
	if (!j)
		return;
	journal__flush(j);
	if (j->own)
		fclose(j->f);
	free(j->buf);
	free(j->line);
	free(j);
}

void journal__flush(struct journal *j)
{
	size_t off = 0;

	if (!j || !j->len)
		return;
	fflush(j->f); /* anything written to the same FILE goes first */
	while (off < j->len) {
		ssize_t n = write(j->fd, j->buf + off, j->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Lines already written in full are not lost. */
			uint64_t done = 0;

			for (size_t i = 0; i < off; i++)
				done += j->buf[i] == '\n';
			j->failures += j->pending - done;
			j->lines -= j->pending - done;
			break;
		}
		off += (size_t)n;
	}
	j->len = 0;
	j->pending = 0;
}

/* Dump @obj into j->line (growing it); the length, or 0 on failure. */
static size_t dump_line(struct journal *j, const json_t *obj)
{
	size_t n = json_dumpb(obj, j->line, j->line_cap, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (n >= j->line_cap && n) {
		char *bigger = realloc(j->line, n + 1);

		if (!bigger)
			return 0;
		j->line = bigger;
		j->line_cap = n + 1;
		n = json_dumpb(obj, j->line, j->line_cap, JSON_COMPACT | JSON_ENSURE_ASCII);
	}
	return n < j->line_cap ? n : 0;
}

/* Append @n bytes of one line (no newline) and count it. */
static void append_line(struct journal *j, const char *line, size_t n)
{
	if (j->len + n + 1 > JOURNAL_BUF)
		journal__flush(j);
	if (n + 1 > JOURNAL_BUF) {
		/* A line larger than the buffer: write it alone. */
		char *big = malloc(n + 1);
		struct journal one = *j;

		if (!big) {
			j->failures++;
			return;
		}
		memcpy(big, line, n);
		big[n] = '\n';
		one.buf = big;
		one.len = n + 1;
		one.pending = 1;
		one.lines = one.failures = 0;
		journal__flush(&one);
		free(big);
		j->lines += 1 - one.failures;
		j->failures += one.failures;
		return;
	}
	memcpy(j->buf + j->len, line, n);
	j->buf[j->len + n] = '\n';
	j->len += n + 1;
	j->pending++;
	j->lines++;
}

void journal__emit(struct journal *j, json_t *obj)
{
	size_t n;

	if (!obj)
		return;
	if (!j) {
		json_decref(obj);
		return;
	}
	n = dump_line(j, obj);
	json_decref(obj);
	if (!n) {
		j->failures++;
		return;
	}
	append_line(j, j->line, n);
}

void journal__emit_text(struct journal *j, const char *line, size_t n)
{
	if (!j)
		return;
	if (!line) {
		j->failures++;
		return;
	}
	append_line(j, line, n);
}

uint64_t journal__lines(const struct journal *j)
{
	return j ? j->lines : 0;
}

uint64_t journal__failures(const struct journal *j)
{
	return j ? j->failures : 0;
}

void pw_json_set_time(json_t *obj, const char *key, int64_t wall_ns)
{
	char buf[48];

	pw_format_time(wall_ns, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}

/*
 * A JSON string for text the owner controls (comm, exe path, cgroup): any
 * process can name itself with bytes that are not UTF-8, which jansson
 * refuses; without this the whole event would be dropped, an easy way to
 * hide a bind. Bytes outside ASCII are then written as \xNN.
 */
json_t *pw_json_text(const char *s)
{
	json_t *j = json_string(s);
	char buf[4 * 4096 + 1];
	size_t n = 0;

	if (j)
		return j;
	for (; *s && n + 5 < sizeof(buf); s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80 || c < 0x20)
			n += snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return json_string(buf);
}

json_t *pw_json_owner(const struct pw_owner *o)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o, s:o}", "uid",
			 (json_int_t)o->uid, "pid", (json_int_t)o->pid, "tgid", (json_int_t)o->tgid,
			 "euid", (json_int_t)o->euid, "comm", pw_json_text(o->comm), "exe",
			 pw_json_text(o->exe), "cgroup_id", (json_int_t)o->cgroup_id, "cgroup",
			 pw_json_text(o->cgroup), "container", pw_json_text(o->container));
}

json_t *pw_json_flags(uint8_t flags)
{
	return json_pack("{s:b, s:b, s:b, s:b}", "reuseaddr", !!(flags & PW_F_REUSEADDR),
			 "reuseport", !!(flags & PW_F_REUSEPORT), "v6only", !!(flags & PW_F_V6ONLY),
			 "reuseport_group", !!(flags & PW_F_GROUP));
}

json_t *pw_json_sock(const struct ledger_sock *s)
{
	char addr[PW_ADDRSTRLEN];
	json_t *o;

	pw_format_addr(s->family, s->addr, addr, sizeof(addr));
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:o, s:o}", "cookie",
		      (json_int_t)s->cookie, "netns", (json_int_t)s->key.netns, "proto",
		      pw_proto_name(s->key.proto), "family", pw_family_name(s->family), "addr", addr,
		      "port", (int)s->key.port, "state", s->listening ? "listening" : "bound",
		      "flags", pw_json_flags(s->flags), "owner", pw_json_owner(&s->owner));
	if (o && s->bound_ns)
		pw_json_set_time(o, "bound_at", s->bound_ns);
	return o;
}
