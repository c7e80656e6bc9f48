// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event_line.h"
#include "events.h"
#include "journal.h"
#include "util.h"

json_t *event_json(const struct pw_ev *ev, bool reconciled)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "type", "event", "event",
			      events__type_name(ev->type), "source",
			      events__source_name(ev->source), "socket", pw_json_sock(&ev->sock));

	if (!o)
		return NULL;
	pw_json_set_time(o, "time", ev->wall_ns);
	if (ev->type == PW_REC_BIND_FAILED || ev->type == PW_REC_BIND_REFUSED) {
		json_object_set_new(o, "errno", json_string(pw_errno_name(ev->err)));
		json_object_set_new(o, "errno_inferred", json_boolean(ev->err_inferred));
	}
	if (reconciled)
		json_object_set_new(o, "reconciled", json_true());
	return o;
}

/* ---- the direct writer ---- */

static void sb_lit(struct pw_strbuf *b, const char *s)
{
	pw_strbuf_put(b, s, strlen(s));
}

/* "%lld" without printf's machinery (a dozen integers per line). */
static void sb_int(struct pw_strbuf *b, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	pw_strbuf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Outside ASCII: \uXXXX pairs or, not UTF-8, \xNN text: jansson's, whole. */
static void sb_str_jansson(struct pw_strbuf *b, const char *s)
{
	json_t *j = pw_json_text(s);
	size_t n = j ? json_dumpb(j, NULL, 0, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : 0;

	if (n && b->len + n >= b->cap)
		pw_strbuf_grow(b, n);
	if (!b->failed && n &&
	    json_dumpb(j, b->p + b->len, n, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) == n)
		b->len += n;
	else
		b->failed = true;
	json_decref(j);
}

/* A JSON string as jansson dumps it with JSON_ENSURE_ASCII (see its dump.c). */
static void sb_str(struct pw_strbuf *b, const char *s)
{
	size_t start = b->len;
	const char *orig = s, *run = s;

	pw_strbuf_put(b, "\"", 1);
	for (;; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		const char *e;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			continue;
		pw_strbuf_put(b, run, (size_t)(s - run));
		run = s + 1;
		if (!c)
			break;
		if (c >= 0x80) {
			b->len = start;
			sb_str_jansson(b, orig);
			return;
		}
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			e = esc;
		}
		sb_lit(b, e);
	}
	pw_strbuf_put(b, "\"", 1);
}

static void sb_key(struct pw_strbuf *b, const char *key)
{
	pw_strbuf_put(b, ",\"", 2);
	sb_lit(b, key);
	pw_strbuf_put(b, "\":", 2);
}

static void sb_time(struct pw_strbuf *b, int64_t ns)
{
	char t[48];

	pw_format_time(ns, t, sizeof(t));
	sb_str(b, t);
}

static void sb_bool(struct pw_strbuf *b, bool v)
{
	sb_lit(b, v ? "true" : "false");
}

static void sb_sock(struct pw_strbuf *b, const struct ledger_sock *s)
{
	const struct pw_owner *o = &s->owner;
	char addr[PW_ADDRSTRLEN];

	pw_format_addr(s->family, s->addr, addr, sizeof(addr));
	sb_lit(b, "{\"cookie\":");
	sb_int(b, (long long)s->cookie);
	sb_key(b, "netns");
	sb_int(b, s->key.netns);
	sb_key(b, "proto");
	sb_str(b, pw_proto_name(s->key.proto));
	sb_key(b, "family");
	sb_str(b, pw_family_name(s->family));
	sb_key(b, "addr");
	sb_str(b, addr);
	sb_key(b, "port");
	sb_int(b, s->key.port);
	sb_key(b, "state");
	sb_str(b, s->listening ? "listening" : "bound");
	sb_lit(b, ",\"flags\":{\"reuseaddr\":");
	sb_bool(b, s->flags & PW_F_REUSEADDR);
	sb_key(b, "reuseport");
	sb_bool(b, s->flags & PW_F_REUSEPORT);
	sb_key(b, "v6only");
	sb_bool(b, s->flags & PW_F_V6ONLY);
	sb_key(b, "reuseport_group");
	sb_bool(b, s->flags & PW_F_GROUP);
	sb_lit(b, "},\"owner\":{\"uid\":");
	sb_int(b, o->uid);
	sb_key(b, "pid");
	sb_int(b, o->pid);
	sb_key(b, "tgid");
	sb_int(b, o->tgid);
	sb_key(b, "euid");
	sb_int(b, o->euid);
	sb_key(b, "comm");
	sb_str(b, o->comm);
	sb_key(b, "exe");
	sb_str(b, o->exe);
	sb_key(b, "cgroup_id");
	sb_int(b, (long long)o->cgroup_id);
	sb_key(b, "cgroup");
	sb_str(b, o->cgroup);
	sb_key(b, "container");
	sb_str(b, o->container);
	pw_strbuf_put(b, "}", 1);
	if (s->bound_ns) {
		sb_key(b, "bound_at");
		sb_time(b, s->bound_ns);
	}
	pw_strbuf_put(b, "}", 1);
}

bool event_line(const struct pw_ev *ev, bool reconciled, struct pw_strbuf *b)
{
	b->len = 0;
	b->failed = false;
	sb_lit(b, "{\"type\":\"event\",\"event\":");
	sb_str(b, events__type_name(ev->type));
	sb_key(b, "source");
	sb_str(b, events__source_name(ev->source));
	sb_key(b, "socket");
	sb_sock(b, &ev->sock);
	sb_key(b, "time");
	sb_time(b, ev->wall_ns);
	if (ev->type == PW_REC_BIND_FAILED || ev->type == PW_REC_BIND_REFUSED) {
		sb_key(b, "errno");
		sb_str(b, pw_errno_name(ev->err));
		sb_key(b, "errno_inferred");
		sb_bool(b, ev->err_inferred);
	}
	if (reconciled)
		sb_lit(b, ",\"reconciled\":true");
	pw_strbuf_put(b, "}", 1);
	pw_strbuf_put(b, "", 1); /* the NUL, not counted */
	if (!b->failed)
		b->len--;
	return !b->failed;
}
