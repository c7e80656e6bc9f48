// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>
#include "ledger.h"

struct ledger *ledger__new(size_t max_socks)
{
	struct ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->max_socks = max_socks ? max_socks : 1;
	return l;
}

void ledger__set_observer(struct ledger *l, ledger_observer_fn fn, void *ctx)
{
	l->observer = fn;
	l->observer_ctx = ctx;
}

static void notify(struct ledger *l, enum ledger_change c, const struct ledger_sock *s)
{
	if (l->observer)
		l->observer(l->observer_ctx, c, s);
}

static struct ledger_port *port_get(struct ledger *l, const struct pw_port_key *key)
{
	struct ledger_port *p = ledger__port(l, key);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = *key;
	HASH_ADD(hh, l->ports, key, sizeof(p->key), p);
	return p;
}

static void port_unlink(struct ledger *l, struct ledger_sock *s)
{
	struct ledger_port *p = s->port;

	if (!p)
		return;
	DL_DELETE2(p->socks, s, port_prev, port_next);
	s->port = NULL;
	if (--p->n_socks == 0) {
		HASH_DELETE(hh, l->ports, p);
		free(p);
	}
}

static int port_link(struct ledger *l, struct ledger_sock *s)
{
	struct ledger_port *p = port_get(l, &s->key);

	if (!p)
		return -ENOMEM;
	DL_APPEND2(p->socks, s, port_prev, port_next);
	p->n_socks++;
	s->port = p;
	return 0;
}

static void sock_free(struct ledger *l, struct ledger_sock *s)
{
	notify(l, LEDGER_REMOVED, s);
	port_unlink(l, s);
	HASH_DELETE(hh, l->socks, s);
	l->n_socks--;
	free(s);
}

struct ledger_sock *ledger__find(struct ledger *l, uint64_t cookie)
{
	struct ledger_sock *s;

	HASH_FIND(hh, l->socks, &cookie, sizeof(cookie), s);
	return s;
}

struct ledger_port *ledger__port(struct ledger *l, const struct pw_port_key *key)
{
	struct ledger_port *p;
	struct pw_port_key k = *key;

	k.pad = 0;
	HASH_FIND(hh, l->ports, &k, sizeof(k), p);
	return p;
}

int ledger__upsert(struct ledger *l, const struct ledger_sock *in, struct ledger_sock **ret_sock)
{
	struct ledger_sock *s = ledger__find(l, in->cookie);
	bool created = !s;
	int err;

	if (created) {
		/* Bounded: evict the oldest socket to make room. */
		if (l->n_socks >= l->max_socks && l->socks) {
			sock_free(l, l->socks);
			l->evictions++;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->cookie = in->cookie;
		HASH_ADD(hh, l->socks, cookie, sizeof(s->cookie), s);
		l->n_socks++;
	} else if (memcmp(&s->key, &in->key, sizeof(s->key))) {
		port_unlink(l, s);
	}
	/*
	 * A refresh (an inventory pass seeing a known socket) must not move its
	 * bind and listen times to the time of the pass: detectors order binds
	 * and listens by them.
	 */
	if (created || !s->port || !s->bound_ns)
		s->bound_ns = in->bound_ns;
	if (!in->listening)
		s->listen_ns = 0;
	else if (!s->listening || !s->listen_ns)
		s->listen_ns = in->listen_ns;
	s->key = in->key;
	s->key.pad = 0;
	s->family = in->family;
	s->flags = in->flags;
	memcpy(s->addr, in->addr, sizeof(s->addr));
	s->listening = in->listening;
	s->owner = in->owner;
	if (!s->port) {
		err = port_link(l, s);
		if (err) {
			HASH_DELETE(hh, l->socks, s);
			l->n_socks--;
			free(s);
			return err;
		}
	}
	notify(l, created ? LEDGER_ADDED : LEDGER_UPDATED, s);
	if (ret_sock)
		*ret_sock = s;
	return created ? 1 : 0;
}

int ledger__set_listening(struct ledger *l, uint64_t cookie, bool listening, int64_t when_ns)
{
	struct ledger_sock *s = ledger__find(l, cookie);

	if (!s)
		return -ENOENT;
	if (s->listening == listening)
		return 0;
	s->listening = listening;
	s->listen_ns = listening ? when_ns : 0;
	notify(l, LEDGER_UPDATED, s);
	return 0;
}

int ledger__remove(struct ledger *l, uint64_t cookie)
{
	struct ledger_sock *s = ledger__find(l, cookie);

	if (!s)
		return -ENOENT;
	sock_free(l, s);
	return 0;
}

void ledger__free(struct ledger *l)
{
	struct ledger_sock *s, *tmp;

	if (!l)
		return;
	l->observer = NULL;
	HASH_ITER(hh, l->socks, s, tmp)
		sock_free(l, s);
	free(l);
}
