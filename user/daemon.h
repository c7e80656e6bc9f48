/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon: the event loop that turns kernel records into ledger changes
 * and feeds every consumer (journal, detectors, store, metrics).
 * Lifecycle: open loader -> inventory -> loop (epoll over ring buffer,
 * signalfd, a tick timer) -> teardown in reverse.
 */
#ifndef PW_DAEMON_H
#define PW_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include "events.h"
#include "findings.h"
#include "http.h"
#include "journal.h"
#include "ledger.h"
#include "loader.h"
#include "rp_groups.h"
#include "metrics.h"
#include "pending_sweep.h"
#include "pw_config.h"
#include "store.h"

struct ring_buffer;

struct daemon_opts {
	struct loader_opts loader;
	const char *events_path; /* JSON lines; NULL = stdout */
	size_t max_socks;	 /* ledger bound */
	int poll_ms;		 /* ring-buffer poll period */
	bool quiet_existing;	 /* do not journal inventory sockets */
	struct rp_config rp;	 /* [reuseport], --reuseport */
	struct store_opts store; /* SQLite history (--db) */
	struct http_opts http;	 /* /metrics, /healthz, /ports, /findings */
	const char *config_path; /* --config FILE (re-read on SIGHUP) */
	int64_t reconcile_interval_ns; /* periodic reconcile; 0 = only after losses */
	bool reconcile_set;	       /* given on the command line */
	struct pw_enforce_config enforce; /* --enforce/--audit/--protect/--deny-* */
};

/* A decoded, enriched event as every consumer sees it. */
struct pw_ev {
	unsigned int type;   /* enum pw_rec_type */
	unsigned int source; /* enum pw_source */
	int64_t wall_ns;
	struct ledger_sock sock; /* snapshot; sock.owner is the acting task */
	int err;		 /* positive errno for failed/refused binds */
	bool err_inferred;	 /* tier B: errno deduced from the ledger */
	uint8_t detail;		 /* PW_REC_BIND_REFUSED: enum pw_enf_reason | PW_ENF_AUDITED */
};

struct daemon {
	struct daemon_opts opts;
	struct loader *loader;
	struct ledger *ledger;
	struct journal *journal;
	struct findings *findings;
	struct rp_groups *rp; /* reuseport groups and their balance */
	struct store *store;		/* SQLite history; NULL with --db none */
	struct pw_event_stats stats;
	uint64_t lost_seen[PW_SRC_MAX]; /* drops already acted on */
	uint64_t rejected_seen[PW_SRC_MAX + 1]; /* reader rejections already acted on */
	struct ring_buffer *rb;		/* drained before a reconcile pass */
	uint64_t reconciliations;
	uint64_t bind_attempts[2];	/* [0] tcp, [1] udp */
	struct metrics_state metrics;	/* counters only the event path sees */
	struct http *http;		/* NULL with --no-http */
	struct enforce *enforce;	/* NULL unless a policy is active */
	struct pw_enforce_config enforce_cfg; /* the live enforcement policy */
	int unpriv_port_start;
	int64_t started_ns;
	int64_t last_reconcile_ns; /* wall clock of the last reconcile pass */
	uint64_t unknown_closes;   /* close records of sockets the ledger never had */
	int rb_budget;		   /* records left in this drain pass */
	struct pw_config config; /* --config FILE (defaults without), replaced on SIGHUP */
	struct detect *detect;	 /* the finding detectors (detect.c) */
	struct pending_sweep *sweep; /* bind tier B's stale attempts (pending_sweep.c) */
	volatile bool stop;
};

int daemon__init(struct daemon *d, const struct daemon_opts *opts);
int daemon__run(struct daemon *d);
void daemon__fini(struct daemon *d);

/* daemon_detect.c: the config file and the detectors. */
/* Load --config into d->config (no start on any error) and apply [daemon]/[hooks]. */
int daemon__config_load(struct daemon *d);
/* Journal a reload outcome line @o (stolen), with @error when it failed. */
void daemon__journal_reload(struct daemon *d, json_t *o, const char *error);
/* daemon_config.c: [daemon]/[hooks] under the command line. */
void daemon_config__apply(const struct pw_daemon_config *c, struct daemon_opts *o);
int daemon__detect_init(struct daemon *d);
void daemon__detect_reload(struct daemon *d);
void daemon__detect_fini(struct daemon *d);

/* Mark-and-sweep the ledger against a fresh iterator pass. */
int daemon__reconcile(struct daemon *d, const char *why);

/* Turn a raw record into a pw_ev (owner enriched from /proc). */
void daemon__ev_from_record(const struct pw_event *rec, struct pw_ev *ev);

#endif
