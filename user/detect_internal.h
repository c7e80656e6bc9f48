/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the dispatcher (detect.c) and the per-kind modules (detect_<kind>.c). */
#ifndef PW_DETECT_INTERNAL_H
#define PW_DETECT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include "daemon.h"
#include "detect.h"

/* A scan compares at most this many sockets of one port pairwise. */
#define DETECT_MAX_SCAN 128
#define DETECT_MAX_INCIDENTS 65536
#define DETECT_MAX_DIRTY 65536

/* An active stateful finding and what keeps it alive. */
struct incident {
	char dedup[PW_DEDUP_LEN];
	struct pw_port_key key;
	enum pw_finding_kind kind;
	uint64_t gen;		/* scan generation that last saw it */
	int64_t unsupported_ns; /* when a scan stopped seeing it; 0 while seen */
	uint64_t owner[2];	/* owner hashes (takeover: [1] is the newcomer) */
	UT_hash_handle hh;
};

#define DETECT_REL_BUCKETS 256

/* A service that went away: a listened TCP socket or a UDP socket bound >= service_min_age. */
struct released {
	struct ledger_sock sock; /* snapshot (port links cleared) */
	uint64_t owner_hash;
	int64_t released_ns;
	bool used;
};

struct dirty_port {
	struct pw_port_key key;
	UT_hash_handle hh;
};

struct detect {
	struct ledger *ledger;
	struct findings *fs;
	const struct pw_config *cfg;
	struct incident *incidents;
	unsigned int n_incidents;
	/* per kind: lets a per-event lookup of one kind skip the whole table */
	unsigned int n_incidents_of[PW_FK_MAX];
	struct dirty_port *dirty;
	unsigned int n_dirty;
	bool all_dirty;
	uint64_t gen;
	struct released *rel; /* ring of cfg->detect.released_max */
	unsigned int rel_cap, rel_next;
	/*
	 * Used released entries per bucket of their port key: every bind and
	 * close asks "was this port released lately?", and scanning the whole
	 * ring for each (released_max entries) was a quarter of the daemon's
	 * CPU under a bind flood. A zero bucket answers no at once.
	 */
	unsigned int rel_per_bucket[DETECT_REL_BUCKETS];
	struct detect_stats stats;
	int64_t now_ns;	  /* time of the scan in progress */
	int64_t event_ns; /* time of the event being handled (0: none) */
};

/* How two sockets of one (netns, proto, port) relate. */
enum pair_rel {
	REL_DISJOINT,	/* same family, different specific addresses: no sharing */
	REL_SAME,	/* the same address (or both wildcards of overlapping families) */
	REL_SHADOW,	/* one specific address inside the other's wildcard */
	REL_FAMILY_GAP, /* different families that do not overlap (v4 vs v6only / ::1) */
};

struct pair {
	const struct ledger_sock *a, *b; /* a bound first */
	enum pair_rel rel;
	uint64_t ha, hb; /* owner hashes */
	bool same_uid;
};

/* ---- dispatcher helpers (detect.c) ---- */
bool detect__enabled(const struct detect *d, enum pw_finding_kind k);
uint64_t detect__owner_hash(const struct pw_owner *o);
enum pair_rel detect__relation(const struct ledger_sock *a, const struct ledger_sock *b);
bool detect__overlap(const struct ledger_sock *a, const struct ledger_sock *b);
bool detect__share_allowed(const struct detect *d, const struct pw_port_key *key,
			   const struct pw_owner *a, const struct pw_owner *b);
bool detect__wildcard_allowed(const struct detect *d, const struct ledger_sock *s);
/* "kind:netns:proto:port:h1:h2" with the hashes ordered (or not, @ordered). */
void detect__dedup(char *buf, enum pw_finding_kind k, const struct pw_port_key *key, uint64_t h1,
		   uint64_t h2, bool ordered);
/*
 * Re-assert a stateful incident seen by the current scan. Returns true when
 * it is already active (nothing to build); false when the caller must build
 * sockets + evidence and call detect__raise.
 */
bool detect__seen(struct detect *d, enum pw_finding_kind k, const char *dedup);
void detect__raise(struct detect *d, enum pw_finding_kind k, const struct pw_port_key *key,
		   const char *dedup, uint64_t h0, uint64_t h1, json_t *sockets, json_t *evidence,
		   bool one_shot);
/* Active incidents of @kind on @key (takeover keeps its own alive). */
void detect__foreach_incident(struct detect *d, const struct pw_port_key *key,
			      enum pw_finding_kind kind,
			      void (*fn)(struct detect *d, struct incident *inc, void *ctx), void *ctx);
json_t *detect__flags_evidence(const struct ledger_sock *s);
json_t *detect__addresses(const struct ledger_sock *a, const struct ledger_sock *b);

/*
 * TCP: both sockets were bound before either listened (the kernel only
 * lets two owners' sockets onto one address that way). The first listen()
 * wins and the other fails, so this stays true after the race is decided.
 */
static inline bool detect__bound_before_listen(const struct pair *p)
{
	int64_t last_bind = p->a->bound_ns > p->b->bound_ns ? p->a->bound_ns : p->b->bound_ns;

	if (p->a->listening && p->a->listen_ns && p->a->listen_ns < last_bind)
		return false;
	if (p->b->listening && p->b->listen_ns && p->b->listen_ns < last_bind)
		return false;
	return true;
}

/* ---- per-kind modules: pair claimers, tried in this order ---- */
bool detect_shadowing__pair(struct detect *d, const struct pair *p);
bool detect_listen_race__pair(struct detect *d, const struct pair *p);
bool detect_cross_user_reuse__pair(struct detect *d, const struct pair *p);
bool detect_cross_workload_reuse__pair(struct detect *d, const struct pair *p);

/* ---- per-socket and event modules ---- */
void detect_wildcard_exposure__sock(struct detect *d, const struct ledger_sock *s);
void detect_takeover__released(struct detect *d, const struct ledger_sock *s);
void detect_takeover__port(struct detect *d, const struct ledger_port *p);
void detect_takeover__expire(struct detect *d);
const struct released *detect_takeover__find_released(struct detect *d,
						      const struct ledger_sock *attempt);
void detect_bind_conflict__failed(struct detect *d, const struct pw_ev *ev);

#endif
