// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "journal.h"
#include "log.h"
#include "util.h"

struct journal {
	FILE *f;
	bool own;
	uint64_t lines, failures;
};

int journal__open(const char *path, struct journal **ret)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	if (!path || !strcmp(path, "-")) {
		j->f = stdout;
	} else {
		j->f = fopen(path, "ae");
		if (!j->f) {
			int err = -errno;

			free(j);
			return err;
		}
		j->own = true;
	}
	setvbuf(j->f, NULL, _IOLBF, 0);
	*ret = j;
	return 0;
}

void journal__close(struct journal *j)
{
	if (!j)
		return;
	if (j->own)
		fclose(j->f);
	else
		fflush(j->f);
	free(j);
}

void journal__emit(struct journal *j, json_t *obj)
{
	char *s;

	if (!obj)
		return;
	s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (!j || !s || fprintf(j->f, "%s\n", s) < 0) {
		if (j)
			j->failures++;
	} else {
		j->lines++;
	}
	free(s);
}

void journal__flush(struct journal *j)
{
	if (j && fflush(j->f))
		j->failures++;
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
