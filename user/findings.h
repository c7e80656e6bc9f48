/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Findings: what the detectors conclude. One finding per incident: a
 * detector raises it under a dedup key (kind + port + the sockets involved)
 * and ends it when the condition stops; raising an active key again only
 * refreshes it. Every raise and end goes to the registered sinks (journal,
 * store, ...) and to the per kind/severity counters behind the metrics.
 */
#ifndef PW_FINDINGS_H
#define PW_FINDINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "ledger.h"

enum pw_finding_kind {
	PW_FK_CROSS_USER_REUSE,
	PW_FK_CROSS_WORKLOAD_REUSE,
	PW_FK_SHADOWING,
	PW_FK_LISTEN_RACE,
	PW_FK_TAKEOVER,
	PW_FK_BIND_CONFLICT,
	PW_FK_WILDCARD_EXPOSURE,
	PW_FK_REUSEPORT_SKEW,
	PW_FK_BIND_REFUSED,
	PW_FK_MAX,
};

enum pw_severity { PW_SEV_LOW, PW_SEV_MEDIUM, PW_SEV_HIGH, PW_SEV_CRITICAL, PW_SEV_MAX };

#define PW_DEDUP_LEN 160

struct pw_finding {
	uint64_t id;
	enum pw_finding_kind kind;
	enum pw_severity severity;
	struct pw_port_key key;
	char dedup[PW_DEDUP_LEN];
	int64_t start_ns; /* wall clock */
	int64_t last_ns;  /* last time the condition was seen */
	int64_t end_ns;	  /* 0 while active */
	bool one_shot;	  /* an event, not a state: ended as soon as raised */
	json_t *sockets;  /* array of socket objects (pw_json_sock) */
	json_t *evidence; /* object: options, delays, counts... */
	UT_hash_handle hh;
};

/* Called on raise (ended = false) and on end (ended = true). */
typedef void (*finding_sink_fn)(void *ctx, const struct pw_finding *f, bool ended);

struct findings;

struct findings *findings__new(void);
void findings__free(struct findings *fs);
int findings__add_sink(struct findings *fs, finding_sink_fn fn, void *ctx);

/*
 * Raise a finding. Steals @sockets and @evidence. Returns the new finding,
 * or NULL when the same dedup key is already active (it is refreshed).
 * One-shot findings (bind_conflict, bind_refused) are raised and ended at once
 * but still deduplicated within @one_shot_window_ns of the previous one.
 */
const struct pw_finding *findings__raise(struct findings *fs, enum pw_finding_kind kind,
					 const struct pw_port_key *key, const char *dedup,
					 json_t *sockets, json_t *evidence, int64_t now_ns,
					 bool one_shot);
/* End the active finding with @dedup (no-op if none). */
void findings__end(struct findings *fs, const char *dedup, int64_t now_ns);
bool findings__is_active(struct findings *fs, const char *dedup);
/* Visit active findings; @fn may call findings__end on the visited one. */
void findings__foreach_active(struct findings *fs, void (*fn)(void *ctx, struct pw_finding *f),
			      void *ctx);

uint64_t findings__total(const struct findings *fs, enum pw_finding_kind k, enum pw_severity s);
uint64_t findings__active(const struct findings *fs, enum pw_finding_kind k, enum pw_severity s);

const char *pw_finding_kind_name(enum pw_finding_kind k);
int pw_finding_kind_parse(const char *s, enum pw_finding_kind *ret);
enum pw_severity pw_finding_kind_severity(enum pw_finding_kind k);
const char *pw_severity_name(enum pw_severity s);

/* The JSON form of a finding ("type":"finding"), shared by journal, HTTP and store. */
json_t *pw_finding_json(const struct pw_finding *f, bool ended);

#endif
