/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The store: forensic history in SQLite (WAL). Socket lifetimes, every bind
 * attempt (failed ones too) and findings with their start and end, so that
 * "who held 0.0.0.0:53/udp at 03:12, and who tried to bind it?" can be
 * answered after the fact, also after the daemon restarted.
 *
 * The event loop only enqueues into a bounded queue (a full queue drops and
 * counts); a writer thread commits one transaction per batch. When the disk
 * is full, the database read-only or unreadable, the writer keeps its batch,
 * counts the failure, and retries with a bounded back-off (reopening the
 * file when needed), so the daemon keeps serving metrics and findings and
 * history resumes when the cause goes away. Schema: README.md ("History").
 */
#ifndef PW_STORE_H
#define PW_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "findings.h"
#include "ledger.h"

#define PW_STORE_DEFAULT_PATH "/var/lib/portwarden/history.db"
#define PW_STORE_SCHEMA_VERSION 1
/* 'PWD1': marks a file as a portwarden history database. */
#define PW_STORE_APPLICATION_ID 0x50574431

struct pw_ev;

struct store_opts {
	const char *path;	/* NULL: PW_STORE_DEFAULT_PATH; "none": no history */
	int64_t retention_secs; /* closed rows older than this are deleted; 0: 30 days */
	uint64_t max_rows;	/* per table; 0: 1000000 */
	uint64_t max_bytes;	/* database size; 0: 1 GiB */
	unsigned int queue_len; /* records between event loop and writer; 0: 16384 */
	int flush_ms;		/* commit period; 0: 150 */
};

/*
 * Counters for the metrics exporter. Names map to
 *   rows_written    -> portwarden_store_rows_written_total
 *   write_failures  -> portwarden_store_write_failures_total
 *   queue_dropped   -> portwarden_store_queue_dropped_total
 *   rows_rejected   -> portwarden_store_rows_rejected_total (bad record, skipped)
 *   retention_deleted -> portwarden_store_retention_deleted_total
 *   queue_len / queue_cap -> portwarden_store_queue_length / _capacity (gauges)
 *   healthy         -> portwarden_store_up (gauge, 0/1)
 */
struct store_stats {
	uint64_t rows_written;
	uint64_t write_failures;
	uint64_t queue_dropped;
	uint64_t rows_rejected;
	uint64_t retention_deleted;
	uint64_t batches;
	unsigned int queue_len, queue_cap;
	bool healthy;	      /* last write (or open) succeeded */
	char last_error[256]; /* "" when healthy */
};

struct store;

/*
 * Start the writer for @o. Failing to open or write the database is not an
 * error here (it is logged, counted and retried); only bad options or no
 * memory are. *ret is NULL when history is disabled ("none").
 */
int store__open(const struct store_opts *o, struct store **ret);
/* Commit what is queued (waits up to a few seconds), mark the run stopped, free. */
void store__close(struct store *s);

/* Event loop side: cheap, never blocks on the database. NULL store = no-op. */
void store__event(struct store *s, const struct pw_ev *ev);
/* A findings sink (findings__add_sink(fs, store__finding_sink, store)). */
void store__finding_sink(void *ctx, const struct pw_finding *f, bool ended);
/*
 * Reconcile the history with the live sockets in @l (start-up inventory or a
 * re-sync): open lifetimes of sockets that are gone (or from another boot)
 * get an unknown end "not later than" @now_ns (and not before the last time
 * a daemon was known alive); live sockets missing from the history are added.
 */
int store__reconcile(struct store *s, const struct ledger *l, int64_t now_ns);
/* Queue a retention pass now (the writer also runs one periodically). */
int store__retention(struct store *s, int64_t now_ns);
/* Wait until everything queued so far is committed; -ETIMEDOUT or -EIO (failing). */
int store__flush(struct store *s, int timeout_ms);

void store__get_stats(struct store *s, struct store_stats *ret);
const char *store__path(const struct store *s);
/*
 * A {"type":"store", ...} JSON line when the store's health changed since
 * the last call (write failures started or stopped), else NULL.
 */
json_t *store__status_change(struct store *s);

/* Fill what @o leaves unset from the config file's [store] section (store_config.c). */
struct pw_store_config;
void store_config__apply(const struct pw_store_config *c, struct store_opts *o);

/*
 * Open an existing history read-only (the CLI). Checks it is a portwarden
 * database of a schema this binary knows. Returns 0 or -errno with @err set.
 */
struct sqlite3;
int store__open_readonly(const char *path, struct sqlite3 **ret, char *err, size_t errlen);

#endif
