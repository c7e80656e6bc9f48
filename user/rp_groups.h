/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The reuseport group model: which ledger sockets form a SO_REUSEPORT group
 * (same netns, protocol, port, family and bound address, SO_REUSEPORT set,
 * TCP listening), and how many connections or datagrams each member received
 * over a sliding window. The counts come from the per-CPU maps of
 * bpf/reuseport.bpf.c, read once per daemon tick; the kernel side never
 * touches the ring buffer per packet.
 */
#ifndef PW_RP_GROUPS_H
#define PW_RP_GROUPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "ledger.h"

/* Thresholds and knobs: `[reuseport]` in the config file, `--reuseport KEY=VALUE`. */
struct rp_config {
	unsigned int window_s;		  /* sliding window (window = 10 buckets) */
	uint64_t min_samples;		  /* deliveries per group in the window before judging */
	double max_mean_ratio;		  /* the busiest member vs the mean */
	double alpha;			  /* chi-square p-value below which shares are not uniform */
	double source_share;		  /* tier A: share of a member's load that "dominates" */
	unsigned int journal_interval_s;  /* at most one reuseport_group line per group per ... */
	double journal_delta;		  /* ... and only when a share moved by this much */
	unsigned int max_groups;	  /* bound of the group table (overflow counted) */
};

#define RP_BUCKETS 10
#define RP_MAX_SOURCES_SHOWN 3

void rp_config__defaults(struct rp_config *c);
/* One `key = value` of [reuseport] (config_section_fn); also used by --reuseport. */
int rp_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
/* "key=value" from the command line: 0 or -EINVAL with @err filled. */
int rp_config__parse_arg(struct rp_config *c, const char *arg, char *err, size_t errlen);

struct rp_group_key {
	uint32_t netns;
	uint16_t port;
	uint8_t proto;
	uint8_t family;
	uint8_t addr[16];
};

/* A member's view for detectors, the journal and metrics. */
struct rp_member_view {
	uint64_t cookie;
	uint64_t count; /* deliveries in the window */
	double share;	/* count / group samples; 0 without samples */
	uint32_t uid, tgid;
	char comm[16];
};

struct rp_group_view {
	struct rp_group_key key;
	size_t n_members;
	const struct rp_member_view *members; /* sorted by cookie (stable member index) */
	uint64_t samples;		      /* window total */
	double imbalance;		      /* max/mean; 0 without samples */
	double chi2, p_value;		      /* uniformity test; p 1 without samples */
	bool has_sources;		      /* tier A source counts exist for this group */
};

/* One source of a member's load (tier A). */
struct rp_source_view {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port; /* 0: every port of the address */
	uint64_t count;
	double share; /* of the member's window count */
};

struct rp_groups_stats {
	uint64_t ticks;
	uint64_t unattributed;	  /* deliveries to sockets outside the ledger's groups */
	uint64_t groups_dropped;  /* groups not tracked: max_groups reached */
	uint64_t sources_dropped; /* tier A sources not tracked: table full */
	uint64_t read_errors;	  /* failed map reads */
	uint64_t misses[8];	  /* enum pw_rp_miss, summed over CPUs (BPF side) */
};

struct rp_groups;

struct rp_groups *rp_groups__new(const struct rp_config *c);
void rp_groups__free(struct rp_groups *g);
/* Map fds of the reuseport object (-1: no tier loaded; groups still built, no counts). */
void rp_groups__set_maps(struct rp_groups *g, int hits_fd, int sources_fd, int misses_fd);

/* Rebuild membership from @l, read the counters, advance the window. 0 or -errno. */
int rp_groups__tick(struct rp_groups *g, struct ledger *l, int64_t mono_ns);
/* Membership only (portwarden ports without a daemon). */
void rp_groups__refresh(struct rp_groups *g, struct ledger *l);
/* Add @n deliveries to member @cookie (tests; the tick does this from the maps). */
int rp_groups__add(struct rp_groups *g, uint64_t cookie, uint64_t n);

/* Visit every group with its current statistics. */
typedef void (*rp_group_fn)(void *ctx, const struct rp_group_view *v);
void rp_groups__foreach(struct rp_groups *g, rp_group_fn fn, void *ctx);
size_t rp_groups__count(const struct rp_groups *g);
const struct rp_groups_stats *rp_groups__stats(const struct rp_groups *g);

/*
 * Tier A: the sources carrying most of member @cookie's window load: the top
 * address (port 0) if it alone reaches source_share, then the top
 * (address, port) pairs while they add up to source_share (at most
 * RP_MAX_SOURCES_SHOWN). Returns how many were written to @out.
 */
size_t rp_groups__dominant_sources(struct rp_groups *g, uint64_t cookie,
				   struct rp_source_view *out, size_t max);

/* Upper tail of the chi-square distribution: P(X >= @x) with @df degrees of freedom. */
double rp_chi2_sf(double x, unsigned int df);
json_t *rp_sources_json(const struct rp_source_view *s, size_t n);

/* JSON of a group ({"netns","proto","addr","port","members","samples",...}). */
json_t *rp_group_json(const struct rp_group_view *v);
/* {"type":"reuseport_group",...} lines for groups whose shares moved (rate-bounded). */
void rp_groups__journal(struct rp_groups *g, void (*emit)(void *ctx, json_t *o), void *ctx,
			int64_t mono_ns);

#endif
