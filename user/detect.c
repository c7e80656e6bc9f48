// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The detector dispatcher. A ledger change marks its (netns, proto, port)
 * dirty; a scan of a dirty port compares its sockets pairwise (owners that
 * are the same workload are skipped: a server's own workers, a socket passed
 * or inherited within one owner) and lets the per-kind modules claim each
 * pair, then runs the per-socket modules. Each scan re-asserts what it still
 * sees; an incident no scan has seen for end_grace is ended, so one incident
 * is one finding however often its sockets are re-created.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "detect_internal.h"
#include "journal.h"
#include "util.h"

struct detect *detect__new(struct ledger *l, struct findings *fs, const struct pw_config *cfg)
{
	struct detect *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ledger = l;
	d->fs = fs;
	d->cfg = cfg;
	d->rel_cap = cfg->detect.released_max;
	d->rel = calloc(d->rel_cap, sizeof(*d->rel));
	if (!d->rel) {
		free(d);
		return NULL;
	}
	return d;
}

static void dirty_clear(struct detect *d)
{
	struct dirty_port *p, *tmp;

	HASH_ITER(hh, d->dirty, p, tmp) {
		HASH_DEL(d->dirty, p);
		free(p);
	}
	d->n_dirty = 0;
	d->all_dirty = false;
}

void detect__free(struct detect *d)
{
	struct incident *i, *tmp;

	if (!d)
		return;
	HASH_ITER(hh, d->incidents, i, tmp) {
		HASH_DEL(d->incidents, i);
		free(i);
	}
	dirty_clear(d);
	free(d->rel);
	free(d);
}

const struct detect_stats *detect__stats(const struct detect *d)
{
	return &d->stats;
}

bool detect__enabled(const struct detect *d, enum pw_finding_kind k)
{
	return !(d->cfg->detect.disabled & (1u << k));
}

/* ---- owners, addresses, allow-lists ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The workload: uid (sk_uid), cgroup path and executable (DESIGN §2). */
uint64_t detect__owner_hash(const struct pw_owner *o)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv(h, &o->uid, sizeof(o->uid));
	h = fnv(h, o->cgroup, strlen(o->cgroup) + 1);
	h = fnv(h, o->exe, strlen(o->exe) + 1);
	return h;
}

static bool is_loopback(const struct ledger_sock *s)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (s->family == AF_INET)
		return s->addr[0] == 127;
	return !memcmp(s->addr, lo6, 16);
}

enum pair_rel detect__relation(const struct ledger_sock *a, const struct ledger_sock *b)
{
	bool aw = ledger_sock_is_wildcard(a), bw = ledger_sock_is_wildcard(b);
	const struct ledger_sock *v4, *v6;

	if (a->family == b->family) {
		if (aw && bw)
			return REL_SAME;
		if (aw != bw)
			return REL_SHADOW;
		/* IPv4: only the first 4 bytes are the address (the rest is not always zero). */
		return memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) ? REL_DISJOINT :
										 REL_SAME;
	}
	v4 = a->family == AF_INET ? a : b;
	v6 = a->family == AF_INET ? b : a;
	/* A dual-stack [::] also holds every IPv4 address. */
	if (ledger_sock_is_wildcard(v6) && !(v6->flags & PW_F_V6ONLY))
		return ledger_sock_is_wildcard(v4) ? REL_SAME : REL_SHADOW;
	if (pw_addr_is_v4mapped(v6->family, v6->addr)) {
		if (ledger_sock_is_wildcard(v4))
			return REL_SHADOW;
		return memcmp(v4->addr, v6->addr + 12, 4) ? REL_DISJOINT : REL_SAME;
	}
	/*
	 * The families do not overlap: one owner gets IPv4, the other IPv6.
	 * That splits a service when one side is a wildcard, or both are the
	 * host's loopback ("localhost" resolves to either).
	 */
	if (ledger_sock_is_wildcard(v4) || ledger_sock_is_wildcard(v6) ||
	    (is_loopback(v4) && is_loopback(v6)))
		return REL_FAMILY_GAP;
	return REL_DISJOINT;
}

bool detect__overlap(const struct ledger_sock *a, const struct ledger_sock *b)
{
	enum pair_rel r = detect__relation(a, b);

	return r == REL_SAME || r == REL_SHADOW;
}

static bool owner_matches(const struct pw_owner_match *m, const struct pw_owner *o)
{
	switch (m->kind) {
	case PW_OM_UID:
		return o->uid == m->uid;
	case PW_OM_EXE:
		return !strcmp(o->exe, m->text);
	case PW_OM_CGROUP:
		return !strncmp(o->cgroup, m->text, strlen(m->text));
	case PW_OM_CONTAINER:
		return o->container[0] && !strcmp(o->container, m->text);
	case PW_OM_COMM:
		return !strcmp(o->comm, m->text);
	default:
		return false;
	}
}

static bool port_matches(uint16_t port, uint8_t proto, const struct pw_port_key *key)
{
	return (!port || port == key->port) && (!proto || proto == key->proto);
}

bool detect__share_allowed(const struct detect *d, const struct pw_port_key *key,
			   const struct pw_owner *a, const struct pw_owner *b)
{
	const struct pw_allow_config *al = &d->cfg->allow;

	for (size_t i = 0; i < al->n_share; i++) {
		const struct pw_allow_share *r = &al->share[i];
		bool ma = !r->n_owners, mb = !r->n_owners;

		if (!port_matches(r->port, r->proto, key))
			continue;
		for (size_t j = 0; j < r->n_owners; j++) {
			ma = ma || owner_matches(&r->owners[j], a);
			mb = mb || owner_matches(&r->owners[j], b);
		}
		if (ma && mb)
			return true;
	}
	return false;
}

bool detect__wildcard_allowed(const struct detect *d, const struct ledger_sock *s)
{
	const struct pw_allow_config *al = &d->cfg->allow;

	for (size_t i = 0; i < al->n_wildcard; i++) {
		const struct pw_allow_wildcard *w = &al->wildcard[i];

		if (w->by_owner ? owner_matches(&w->owner, &s->owner) :
				  port_matches(w->port, w->proto, &s->key))
			return true;
	}
	return false;
}

void detect__dedup(char *buf, enum pw_finding_kind k, const struct pw_port_key *key, uint64_t h1,
		   uint64_t h2, bool ordered)
{
	if (ordered && h1 > h2) {
		uint64_t t = h1;

		h1 = h2;
		h2 = t;
	}
	snprintf(buf, PW_DEDUP_LEN, "%s:%u:%s:%u:%016llx:%016llx", pw_finding_kind_name(k),
		 key->netns, pw_proto_name(key->proto), key->port, (unsigned long long)h1,
		 (unsigned long long)h2);
}

json_t *detect__flags_evidence(const struct ledger_sock *s)
{
	json_t *o = pw_json_flags(s->flags);

	if (o)
		json_object_set_new(o, "cookie", json_integer((json_int_t)s->cookie));
	return o;
}

json_t *detect__addresses(const struct ledger_sock *a, const struct ledger_sock *b)
{
	char buf[PW_ADDRSTRLEN];
	json_t *arr = json_array();

	pw_format_addr(a->family, a->addr, buf, sizeof(buf));
	json_array_append_new(arr, json_string(buf));
	if (b) {
		pw_format_addr(b->family, b->addr, buf, sizeof(buf));
		json_array_append_new(arr, json_string(buf));
	}
	return arr;
}

/* ---- incidents ---- */

static struct incident *incident_find(struct detect *d, const char *dedup)
{
	struct incident *i;

	HASH_FIND_STR(d->incidents, dedup, i);
	return i;
}

bool detect__seen(struct detect *d, enum pw_finding_kind k, const char *dedup)
{
	struct incident *i;

	if (!detect__enabled(d, k))
		return true;
	i = incident_find(d, dedup);
	if (!i || !findings__is_active(d->fs, dedup))
		return false;
	i->gen = d->gen;
	i->unsupported_ns = 0;
	return true;
}

void detect__raise(struct detect *d, enum pw_finding_kind k, const struct pw_port_key *key,
		   const char *dedup, uint64_t h0, uint64_t h1, json_t *sockets, json_t *evidence,
		   bool one_shot)
{
	struct incident *i;

	if (!detect__enabled(d, k)) {
		json_decref(sockets);
		json_decref(evidence);
		return;
	}
	pw_json_set_time(evidence, "detected_at", d->now_ns);
	findings__raise(d->fs, k, key, dedup, sockets, evidence, d->now_ns, one_shot);
	if (one_shot)
		return;
	i = incident_find(d, dedup);
	if (!i) {
		if (d->n_incidents >= DETECT_MAX_INCIDENTS) {
			d->stats.incidents_dropped++;
			return;
		}
		i = calloc(1, sizeof(*i));
		if (!i) {
			d->stats.incidents_dropped++;
			return;
		}
		snprintf(i->dedup, sizeof(i->dedup), "%s", dedup);
		HASH_ADD_STR(d->incidents, dedup, i);
		d->n_incidents++;
		d->n_incidents_of[k]++;
	}
	i->key = *key;
	i->kind = k;
	i->owner[0] = h0;
	i->owner[1] = h1;
	i->gen = d->gen;
	i->unsupported_ns = 0;
}

void detect__foreach_incident(struct detect *d, const struct pw_port_key *key,
			      enum pw_finding_kind kind,
			      void (*fn)(struct detect *d, struct incident *inc, void *ctx), void *ctx)
{
	struct incident *i, *tmp;

	if (!d->n_incidents_of[kind])
		return;
	HASH_ITER(hh, d->incidents, i, tmp)
		if (i->kind == kind && !memcmp(&i->key, key, sizeof(*key)))
			fn(d, i, ctx);
}

static void incident_end(struct detect *d, struct incident *i, int64_t now_ns)
{
	findings__end(d->fs, i->dedup, now_ns);
	HASH_DEL(d->incidents, i);
	d->n_incidents--;
	d->n_incidents_of[i->kind]--;
	free(i);
}

/* ---- scans ---- */

typedef bool (*pair_fn)(struct detect *d, const struct pair *p);

/* Most specific first: a pair is one incident of one kind. */
static const pair_fn pair_claimers[] = {
	detect_shadowing__pair,
	detect_listen_race__pair,
	detect_cross_user_reuse__pair,
	detect_cross_workload_reuse__pair,
};

static void scan_pair(struct detect *d, const struct ledger_sock *x, const struct ledger_sock *y)
{
	struct pair p;

	if (owner__same_workload(&x->owner, &y->owner))
		return;
	p.rel = detect__relation(x, y);
	if (p.rel == REL_DISJOINT)
		return;
	if (detect__share_allowed(d, &x->key, &x->owner, &y->owner)) {
		d->stats.allowed++;
		return;
	}
	/* a is the socket bound first (the incumbent). */
	p.a = x->bound_ns <= y->bound_ns ? x : y;
	p.b = p.a == x ? y : x;
	p.ha = detect__owner_hash(&p.a->owner);
	p.hb = detect__owner_hash(&p.b->owner);
	p.same_uid = x->owner.uid == y->owner.uid;
	for (size_t k = 0; k < sizeof(pair_claimers) / sizeof(pair_claimers[0]); k++)
		if (pair_claimers[k](d, &p))
			return;
}

static void scan_port(struct detect *d, const struct pw_port_key *key)
{
	const struct ledger_sock *socks[DETECT_MAX_SCAN];
	struct ledger_port *p = ledger__port(d->ledger, key);
	struct incident *i, *tmp;
	unsigned int n = 0;

	d->gen++;
	d->stats.scans++;
	if (p) {
		for (struct ledger_sock *s = p->socks; s; s = s->port_next) {
			if (n == DETECT_MAX_SCAN) {
				d->stats.pairs_truncated++;
				break;
			}
			socks[n++] = s;
		}
		for (unsigned int a = 0; a < n; a++)
			for (unsigned int b = a + 1; b < n; b++)
				scan_pair(d, socks[a], socks[b]);
		for (unsigned int a = 0; a < n; a++)
			detect_wildcard_exposure__sock(d, socks[a]);
		detect_takeover__port(d, p);
	}
	/* What this scan did not see again has stopped (pending end_grace). */
	HASH_ITER(hh, d->incidents, i, tmp) {
		if (memcmp(&i->key, key, sizeof(*key)))
			continue;
		if (i->gen != d->gen && !i->unsupported_ns)
			i->unsupported_ns = d->now_ns;
	}
}

static void mark_dirty(struct detect *d, const struct pw_port_key *key)
{
	struct dirty_port *p;
	struct pw_port_key k = *key;

	if (d->all_dirty)
		return;
	k.pad = 0;
	HASH_FIND(hh, d->dirty, &k, sizeof(k), p);
	if (p)
		return;
	if (d->n_dirty >= DETECT_MAX_DIRTY) {
		d->all_dirty = true;
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		d->all_dirty = true;
		return;
	}
	p->key = k;
	HASH_ADD(hh, d->dirty, key, sizeof(p->key), p);
	d->n_dirty++;
}

void detect__flush(struct detect *d, int64_t now_ns)
{
	struct dirty_port *p, *tmp;

	d->now_ns = now_ns;
	if (d->all_dirty) {
		struct ledger_port *lp, *ltmp;
		struct incident *i, *itmp;

		/* Every port with sockets or with incidents. */
		d->all_dirty = false;
		HASH_ITER(hh, d->ledger->ports, lp, ltmp)
			mark_dirty(d, &lp->key);
		HASH_ITER(hh, d->incidents, i, itmp)
			mark_dirty(d, &i->key);
	}
	HASH_ITER(hh, d->dirty, p, tmp) {
		HASH_DEL(d->dirty, p);
		d->n_dirty--;
		scan_port(d, &p->key);
		free(p);
	}
}

void detect__ledger_observer(void *ctx, enum ledger_change change, const struct ledger_sock *s)
{
	struct detect *d = ctx;

	mark_dirty(d, &s->key);
	if (change == LEDGER_REMOVED) {
		d->now_ns = d->event_ns ? d->event_ns : pw_now_wall_ns();
		detect_takeover__released(d, s);
	}
}

void detect__begin_event(struct detect *d, const struct pw_ev *ev)
{
	d->event_ns = ev->wall_ns;
}

void detect__on_event(struct detect *d, const struct pw_ev *ev)
{
	detect__flush(d, ev->wall_ns);
	if (ev->type == PW_REC_BIND_FAILED)
		detect_bind_conflict__failed(d, ev);
	d->event_ns = 0;
}

void detect__tick(struct detect *d, int64_t now_ns)
{
	struct incident *i, *tmp;

	d->event_ns = 0;
	detect__flush(d, now_ns);
	HASH_ITER(hh, d->incidents, i, tmp) {
		if (i->unsupported_ns && now_ns - i->unsupported_ns >= d->cfg->detect.end_grace_ns)
			incident_end(d, i, now_ns);
	}
	detect_takeover__expire(d);
}

void detect__set_config(struct detect *d, const struct pw_config *cfg)
{
	struct released *rel;

	d->cfg = cfg;
	if (cfg->detect.released_max != d->rel_cap) {
		/* Resizing forgets the released services; counted as evictions. */
		rel = calloc(cfg->detect.released_max, sizeof(*rel));
		if (rel) {
			for (unsigned int i = 0; i < d->rel_cap; i++)
				d->stats.released_evicted += d->rel[i].used;
			free(d->rel);
			d->rel = rel;
			d->rel_cap = cfg->detect.released_max;
			d->rel_next = 0;
			memset(d->rel_per_bucket, 0, sizeof(d->rel_per_bucket));
		}
	}
	d->all_dirty = true;
}
