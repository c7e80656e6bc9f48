/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Detectors: turn ledger changes, failed binds and time into findings
 * (DESIGN §4). One module per finding kind (detect_<kind>.c); this is the
 * dispatcher. Ledger changes mark their port dirty; every event and every
 * tick re-scans the dirty ports: each scan re-asserts the incidents it still
 * sees, and an incident not seen for end_grace is ended ("ended" record), so
 * a rebind loop stays one finding.
 */
#ifndef PW_DETECT_H
#define PW_DETECT_H

#include <stdint.h>
#include "findings.h"
#include "ledger.h"
#include "pw_config.h"

struct pw_ev;
struct detect;

/* Losses and bounds, for the metrics. */
struct detect_stats {
	uint64_t scans;		     /* port scans */
	uint64_t incidents_dropped;  /* incident table full */
	uint64_t released_evicted;   /* "recently released" memory full */
	uint64_t pairs_truncated;    /* ports with more sockets than a scan compares */
	uint64_t allowed;	     /* findings suppressed by [allow] */
};

/* @cfg is borrowed: keep it alive, or call detect__set_config with the new one. */
struct detect *detect__new(struct ledger *l, struct findings *fs, const struct pw_config *cfg);
void detect__free(struct detect *d);
/* A new config (SIGHUP): every port is re-scanned against it. */
void detect__set_config(struct detect *d, const struct pw_config *cfg);

/* The ledger observer (daemon.c installs it). */
void detect__ledger_observer(void *ctx, enum ledger_change change, const struct ledger_sock *s);
/* Before the ledger takes @ev into account (times ledger removals). */
void detect__begin_event(struct detect *d, const struct pw_ev *ev);
/* After the ledger took @ev into account. */
void detect__on_event(struct detect *d, const struct pw_ev *ev);
/* Once a second: end incidents gone for end_grace, expire released services. */
void detect__tick(struct detect *d, int64_t now_ns);
/* Scan the dirty ports now (after inventory, reconcile). */
void detect__flush(struct detect *d, int64_t now_ns);

const struct detect_stats *detect__stats(const struct detect *d);

#endif
