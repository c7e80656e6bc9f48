// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * takeover: a port released by owner A is bound by another owner B within
 * takeover_window (default 60 s) of the release. Only real services are
 * remembered as released (a TCP socket that listened, a UDP socket bound at
 * least service_min_age), so bind-and-close probes own nothing. The same
 * owner binding again (a restart) forgets the release. The finding stays
 * active while B holds a socket on the port.
 */
#include <netinet/in.h>
#include <string.h>
#include "detect_internal.h"
#include "journal.h"
#include "util.h"

/* Event timestamps and processing time differ slightly: tolerate it. */
#define ORDER_SLACK_NS (100ll * 1000000)

static bool is_service(const struct detect *d, const struct ledger_sock *s)
{
	if (s->key.proto == IPPROTO_TCP)
		return s->listening || s->listen_ns;
	/*
	 * A UDP socket's age is known only from its close event. A removal
	 * without one (a reconcile after lost events) happens whenever the
	 * daemon catches up, which made every short-lived socket of a bind
	 * flood look like a service (thousands of bogus releases, each
	 * scanned on every later bind).
	 */
	if (!d->event_ns)
		return false;
	return d->now_ns - s->bound_ns >= d->cfg->detect.service_min_age_ns;
}

static unsigned int *rel_bucket(struct detect *d, const struct pw_port_key *k)
{
	uint32_t h = k->netns * 2654435761u ^ (uint32_t)k->port * 40503u ^ k->proto;

	return &d->rel_per_bucket[(h ^ h >> 16) % DETECT_REL_BUCKETS];
}

/* Could any used released entry have key @k? (No false negatives.) */
static bool rel_maybe(struct detect *d, const struct pw_port_key *k)
{
	return *rel_bucket(d, k) != 0;
}

static void rel_forget(struct detect *d, struct released *r)
{
	if (!r->used)
		return;
	r->used = false;
	--*rel_bucket(d, &r->sock.key);
}

void detect_takeover__released(struct detect *d, const struct ledger_sock *s)
{
	struct released *r;

	if (!d->rel_cap || !is_service(d, s))
		return;
	r = &d->rel[d->rel_next];
	d->rel_next = (d->rel_next + 1) % d->rel_cap;
	if (r->used)
		d->stats.released_evicted++;
	rel_forget(d, r);
	memset(r, 0, sizeof(*r));
	r->sock = *s;
	r->sock.port = NULL;
	r->sock.port_prev = r->sock.port_next = NULL;
	memset(&r->sock.hh, 0, sizeof(r->sock.hh));
	r->owner_hash = detect__owner_hash(&s->owner);
	r->released_ns = d->now_ns;
	r->used = true;
	++*rel_bucket(d, &r->sock.key);
}

void detect_takeover__expire(struct detect *d)
{
	for (unsigned int i = 0; i < d->rel_cap; i++) {
		struct released *r = &d->rel[i];

		if (r->used && d->now_ns - r->released_ns > d->cfg->detect.takeover_window_ns)
			rel_forget(d, r);
	}
}

static bool within_window(const struct detect *d, const struct released *r, int64_t t)
{
	return t >= r->released_ns - ORDER_SLACK_NS &&
	       t - r->released_ns <= d->cfg->detect.takeover_window_ns;
}

const struct released *detect_takeover__find_released(struct detect *d,
						      const struct ledger_sock *attempt)
{
	const struct released *best = NULL;

	if (!rel_maybe(d, &attempt->key))
		return NULL;
	for (unsigned int i = 0; i < d->rel_cap; i++) {
		const struct released *r = &d->rel[i];

		if (!r->used || memcmp(&r->sock.key, &attempt->key, sizeof(attempt->key)) ||
		    !within_window(d, r, d->now_ns) ||
		    owner__same_workload(&r->sock.owner, &attempt->owner) ||
		    !detect__overlap(&r->sock, attempt))
			continue;
		if (!best || r->released_ns > best->released_ns)
			best = r;
	}
	return best;
}

static void raise_takeover(struct detect *d, const struct released *r, const struct ledger_sock *s,
			   uint64_t hs)
{
	char dedup[PW_DEDUP_LEN];
	int64_t delay = s->bound_ns - r->released_ns;
	json_t *ev, *socks;

	detect__dedup(dedup, PW_FK_TAKEOVER, &s->key, r->owner_hash, hs, false);
	if (detect__seen(d, PW_FK_TAKEOVER, dedup))
		return;
	ev = json_object();
	json_object_set_new(ev, "vector", json_string("bind_after_release"));
	json_object_set_new(ev, "after_release_ms", json_integer(delay > 0 ? delay / 1000000 : 0));
	json_object_set_new(ev, "takeover_window_ms",
			    json_integer(d->cfg->detect.takeover_window_ns / 1000000));
	pw_json_set_time(ev, "released_at", r->released_ns);
	json_object_set_new(ev, "released_was",
			    json_string(r->sock.key.proto == IPPROTO_TCP ? "tcp listener" :
									   "udp service"));
	json_object_set_new(ev, "options", json_pack("[o, o]", detect__flags_evidence(&r->sock),
						     detect__flags_evidence(s)));
	json_object_set_new(ev, "addresses", detect__addresses(&r->sock, s));
	json_object_set_new(ev, "uids", json_pack("[I, I]", (json_int_t)r->sock.owner.uid,
						  (json_int_t)s->owner.uid));
	json_object_set_new(ev, "previous", json_integer((json_int_t)r->sock.cookie));
	socks = json_pack("[o, o]", pw_json_sock(&r->sock), pw_json_sock(s));
	detect__raise(d, PW_FK_TAKEOVER, &s->key, dedup, r->owner_hash, hs, socks, ev, false);
}

struct keep_ctx {
	const struct ledger_port *p;
};

/* A takeover stays active while the newcomer holds a socket on the port. */
static void keep_alive(struct detect *d, struct incident *inc, void *ctx)
{
	const struct ledger_port *p = ((struct keep_ctx *)ctx)->p;

	for (const struct ledger_sock *s = p->socks; s; s = s->port_next) {
		if (detect__owner_hash(&s->owner) == inc->owner[1]) {
			detect__seen(d, PW_FK_TAKEOVER, inc->dedup);
			return;
		}
	}
}

void detect_takeover__port(struct detect *d, const struct ledger_port *p)
{
	struct keep_ctx kc = { .p = p };

	for (const struct ledger_sock *s = p->socks; s && rel_maybe(d, &p->key); s = s->port_next) {
		uint64_t hs = 0;

		for (unsigned int i = 0; i < d->rel_cap; i++) {
			struct released *r = &d->rel[i];

			if (!r->used || memcmp(&r->sock.key, &p->key, sizeof(p->key)) ||
			    !within_window(d, r, s->bound_ns))
				continue;
			if (owner__same_workload(&r->sock.owner, &s->owner)) {
				/* The owner is back (a restart): nothing to take over. */
				if (s->bound_ns >= r->released_ns - ORDER_SLACK_NS)
					rel_forget(d, r);
				continue;
			}
			if (!detect__overlap(&r->sock, s) ||
			    detect__share_allowed(d, &p->key, &r->sock.owner, &s->owner))
				continue;
			if (!hs)
				hs = detect__owner_hash(&s->owner);
			raise_takeover(d, r, s, hs);
		}
	}
	detect__foreach_incident(d, &p->key, PW_FK_TAKEOVER, keep_alive, &kc);
}
