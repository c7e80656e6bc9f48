/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus metrics: the text exposition format 0.0.4 rendered from the
 * daemon's state at scrape time (the daemon is single-threaded, so the
 * ledger is read without locks). Every metric is rendered by a small
 * per-module function listed in metrics.c; a module joins with one line.
 *
 * Labels are bounded: no pid, address or free-form port label. Ports appear
 * only on shared ports and reuseport groups, capped to the top-K by value;
 * what a cap drops is counted in portwarden_series_dropped_total{metric}.
 */
#ifndef PW_METRICS_H
#define PW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define PW_METRICS_MAX_PORT_SERIES 256	 /* default cap per port-labelled metric */
#define PW_METRICS_MAX_GROUP_MEMBERS 32	 /* default member series per reuseport group */
#define PW_METRICS_CAP_LIMIT 100000	 /* largest cap the config accepts */

struct metrics_opts {
	unsigned int max_port_series;	/* 0: PW_METRICS_MAX_PORT_SERIES */
	unsigned int max_group_members; /* 0: PW_METRICS_MAX_GROUP_MEMBERS */
};

/* The errno label of bind failures takes only these values (bounded). */
enum pw_metrics_errno {
	PW_MERR_EADDRINUSE,
	PW_MERR_EACCES,
	PW_MERR_EPERM,
	PW_MERR_EINVAL,
	PW_MERR_EADDRNOTAVAIL,
	PW_MERR_OTHER,
	PW_MERR_MAX,
};

/* Metrics whose series a cap can drop (labels of portwarden_series_dropped_total). */
enum pw_metrics_capped {
	PW_MCAP_SHARED_PORT_OWNERS,
	PW_MCAP_RP_GROUP_MEMBERS,
	PW_MCAP_RP_MEMBER_SHARE,
	PW_MCAP_RP_IMBALANCE,
	PW_MCAP_MAX,
};

/* Counters only the event path sees; owned by the daemon (struct daemon.metrics). */
struct metrics_state {
	struct metrics_opts opts;
	uint64_t bind_failures[2][PW_MERR_MAX]; /* [0] tcp, [1] udp */
	uint64_t series_dropped[PW_MCAP_MAX];
	uint64_t scrapes;
	double last_scrape_seconds;
};

/*
 * One reuseport group as a reuseport model reports it. @hits are per-member
 * delivery counts (NULL when unknown: only the member count is exported).
 */
struct metrics_rp_group {
	uint8_t proto;
	uint16_t port;
	uint32_t members;
	const uint64_t *hits;
	uint32_t n_hits;
};

struct daemon;

void metrics__init(struct metrics_state *m, const struct metrics_opts *opts);
/* Count a failed bind (positive or negative errno). */
void metrics__count_bind_failure(struct metrics_state *m, uint8_t proto, int err);

/*
 * Render the exposition text of @d into a malloc'd, NUL-terminated buffer.
 * 0 or -ENOMEM. Updates the dropped-series counters and the scrape duration.
 */
int metrics__render(struct daemon *d, char **ret_buf, size_t *ret_len);

/* Content-Type of the rendered text. */
#define PW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
