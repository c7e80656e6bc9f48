// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus exposition of the daemon's state. Conventions (prometheus.io
 * "metric and label naming", "writing exporters"): prefix portwarden_,
 * counters end in _total, base units (seconds), one HELP and TYPE per family
 * with all its samples together, label sets known up front exported at 0 so
 * that increase() sees the first event, and no unbounded label.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include "daemon.h"
#include "detect.h"
#include "journal.h"
#include "metrics.h"
#include "rp_groups.h"
#include "strbuf.h"
#include "util.h"

/* A label value: backslash, double quote and newline are escaped (format 0.0.4). */
static void mb_label_value(struct pw_strbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			pw_strbuf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			pw_strbuf_printf(b, "\\n");
		else
			pw_strbuf_printf(b, "%c", *v);
	}
}

static void mb_family(struct pw_strbuf *b, const char *name, const char *type, const char *help)
{
	pw_strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one unlabelled sample: its HELP, TYPE and value. */
static void mb_single(struct pw_strbuf *b, const char *name, const char *type, const char *help,
		      uint64_t value)
{
	mb_family(b, name, type, help);
	pw_strbuf_printf(b, "%s %" PRIu64 "\n", name, value);
}

static void mb_counter(struct pw_strbuf *b, const char *name, const char *help, uint64_t value)
{
	mb_single(b, name, "counter", help, value);
}

static const char *proto_label(int i)
{
	return i ? "udp" : "tcp";
}

static int proto_index(uint8_t proto)
{
	return proto == IPPROTO_UDP;
}

/* ---- bind failures (the event path counts, the scrape renders) -------- */

static const char *const merr_names[PW_MERR_MAX] = {
	[PW_MERR_EADDRINUSE] = "EADDRINUSE", [PW_MERR_EACCES] = "EACCES",
	[PW_MERR_EPERM] = "EPERM",	     [PW_MERR_EINVAL] = "EINVAL",
	[PW_MERR_EADDRNOTAVAIL] = "EADDRNOTAVAIL", [PW_MERR_OTHER] = "other",
};

static enum pw_metrics_errno merr_of(int err)
{
	switch (err < 0 ? -err : err) {
	case EADDRINUSE: return PW_MERR_EADDRINUSE;
	case EACCES: return PW_MERR_EACCES;
	case EPERM: return PW_MERR_EPERM;
	case EINVAL: return PW_MERR_EINVAL;
	case EADDRNOTAVAIL: return PW_MERR_EADDRNOTAVAIL;
	default: return PW_MERR_OTHER;
	}
}

void metrics__init(struct metrics_state *m, const struct metrics_opts *opts)
{
	memset(m, 0, sizeof(*m));
	if (opts)
		m->opts = *opts;
	if (!m->opts.max_port_series)
		m->opts.max_port_series = PW_METRICS_MAX_PORT_SERIES;
	if (!m->opts.max_group_members)
		m->opts.max_group_members = PW_METRICS_MAX_GROUP_MEMBERS;
}

void metrics__count_bind_failure(struct metrics_state *m, uint8_t proto, int err)
{
	m->bind_failures[proto_index(proto)][merr_of(err)]++;
}

static const char *const cap_names[PW_MCAP_MAX] = {
	[PW_MCAP_SHARED_PORT_OWNERS] = "portwarden_shared_port_owners",
	[PW_MCAP_RP_GROUP_MEMBERS] = "portwarden_reuseport_group_members",
	[PW_MCAP_RP_MEMBER_SHARE] = "portwarden_reuseport_member_share",
	[PW_MCAP_RP_IMBALANCE] = "portwarden_reuseport_imbalance_ratio",
};

/* ---- port-labelled series: merge across netns, keep the top K ---------- */

struct port_series {
	uint8_t proto;
	uint16_t port;
	double val;
	const struct metrics_rp_group *group; /* reuseport only */
};

static int cmp_by_key(const void *a, const void *b)
{
	const struct port_series *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (int)x->port - (int)y->port;
}

static int cmp_by_val_desc(const void *a, const void *b)
{
	const struct port_series *x = a, *y = b;

	if (x->val != y->val)
		return x->val > y->val ? -1 : 1;
	return cmp_by_key(a, b);
}

/*
 * The label set has no netns: one (proto, port) in several namespaces is one
 * series, the largest value. Then keep the @cap largest, sorted by key.
 * Returns the new count; *ret_dropped gets what the cap dropped.
 */
static size_t port_series_cap(struct port_series *v, size_t n, size_t cap, uint64_t *ret_dropped)
{
	size_t out = 0;

	qsort(v, n, sizeof(*v), cmp_by_key);
	for (size_t i = 0; i < n; i++) {
		if (out && !cmp_by_key(&v[out - 1], &v[i])) {
			if (v[i].val > v[out - 1].val)
				v[out - 1] = v[i];
			continue;
		}
		v[out++] = v[i];
	}
	*ret_dropped = 0;
	if (out > cap) {
		qsort(v, out, sizeof(*v), cmp_by_val_desc);
		*ret_dropped = out - cap;
		out = cap;
	}
	qsort(v, out, sizeof(*v), cmp_by_key);
	return out;
}

/* ---- renderers: one per module ----------------------------------------- */

static void render_build(struct pw_strbuf *b, struct daemon *d)
{
	struct utsname u;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	mb_family(b, "portwarden_build_info", "gauge",
		  "Build and kernel of the running portwarden (always 1).");
	pw_strbuf_printf(b, "portwarden_build_info{version=\"");
	mb_label_value(b, PW_VERSION);
	pw_strbuf_printf(b, "\",kernel=\"");
	mb_label_value(b, u.release);
	pw_strbuf_printf(b, "\"} 1\n");
}

static void render_tiers(struct pw_strbuf *b, struct daemon *d)
{
	mb_family(b, "portwarden_hook_tier_info", "gauge",
		  "Tier chosen per hook family (A best, none: no tier loaded); always 1.");
	if (!d->loader)
		return;
	for (int f = 0; f < PW_FAM_MAX; f++) {
		enum pw_tier t = loader__tier(d->loader, f);

		if (t == PW_TIER_NONE)
			pw_strbuf_printf(b, "portwarden_hook_tier_info{family=\"%s\",tier=\"none\"} 1\n",
				  pw_family_name_of(f));
		else
			pw_strbuf_printf(b, "portwarden_hook_tier_info{family=\"%s\",tier=\"%c\"} 1\n",
				  pw_family_name_of(f), pw_tier_letter(t));
	}
}

static void render_sockets(struct pw_strbuf *b, struct daemon *d)
{
	uint64_t n[2][2][2] = {}; /* proto, family, listening */
	struct ledger_sock *s, *tmp;

	HASH_ITER(hh, d->ledger->socks, s, tmp)
		n[proto_index(s->key.proto)][s->family == AF_INET6][s->listening]++;
	mb_family(b, "portwarden_sockets", "gauge",
		  "Sockets in the ledger by protocol, address family and state.");
	for (int p = 0; p < 2; p++)
		for (int f = 0; f < 2; f++)
			for (int l = 0; l < 2; l++)
				pw_strbuf_printf(b,
					  "portwarden_sockets{proto=\"%s\",family=\"%s\","
					  "state=\"%s\"} %" PRIu64 "\n",
					  proto_label(p), f ? "ipv6" : "ipv4",
					  l ? "listening" : "bound", n[p][f][l]);
}

static void render_binds(struct pw_strbuf *b, struct daemon *d)
{
	mb_family(b, "portwarden_bind_attempts_total", "counter",
		  "bind() calls seen on inet sockets, successful or not.");
	for (int p = 0; p < 2; p++)
		pw_strbuf_printf(b, "portwarden_bind_attempts_total{proto=\"%s\"} %" PRIu64 "\n",
			  proto_label(p), d->bind_attempts[p]);
	mb_family(b, "portwarden_bind_failures_total", "counter",
		  "Failed bind() calls by errno (inferred from the ledger on tier B).");
	for (int p = 0; p < 2; p++)
		for (int e = 0; e < PW_MERR_MAX; e++)
			pw_strbuf_printf(b,
				  "portwarden_bind_failures_total{proto=\"%s\",errno=\"%s\"} "
				  "%" PRIu64 "\n",
				  proto_label(p), merr_names[e], d->metrics.bind_failures[p][e]);
}

/* Every kind at its own severity from start-up; other pairs once non-zero. */
static void render_findings_family(struct pw_strbuf *b, struct daemon *d, const char *name,
				   uint64_t (*get)(const struct findings *, enum pw_finding_kind,
						   enum pw_severity))
{
	for (int k = 0; k < PW_FK_MAX; k++) {
		for (int s = 0; s < PW_SEV_MAX; s++) {
			uint64_t v = get(d->findings, k, s);

			if (!v && (enum pw_severity)s != pw_finding_kind_severity(k))
				continue;
			pw_strbuf_printf(b, "%s{kind=\"%s\",severity=\"%s\"} %" PRIu64 "\n", name,
				  pw_finding_kind_name(k), pw_severity_name(s), v);
		}
	}
}

static void render_findings(struct pw_strbuf *b, struct daemon *d)
{
	mb_family(b, "portwarden_findings_total", "counter",
		  "Findings raised by kind and severity.");
	render_findings_family(b, d, "portwarden_findings_total", findings__total);
	mb_family(b, "portwarden_findings_active", "gauge",
		  "Findings currently active by kind and severity.");
	render_findings_family(b, d, "portwarden_findings_active", findings__active);
}

/* Distinct workloads (owner__same_workload) on a port; counting stops at @max. */
static unsigned int port_owners(const struct ledger_port *p, unsigned int max)
{
	const struct pw_owner *reps[64];
	unsigned int n = 0;

	if (max > 64)
		max = 64;
	for (struct ledger_sock *s = p->socks; s && n < max; s = s->port_next) {
		unsigned int i;

		for (i = 0; i < n; i++)
			if (owner__same_workload(reps[i], &s->owner))
				break;
		if (i == n)
			reps[n++] = &s->owner;
	}
	return n;
}

static void render_shared_ports(struct pw_strbuf *b, struct daemon *d)
{
	struct ledger_port *p, *tmp;
	struct port_series *v;
	const struct pw_enforce_config *watched = &d->enforce_cfg;
	size_t n = 0, cap = HASH_COUNT(d->ledger->ports) + watched->n_rules;
	uint64_t dropped;

	mb_family(b, "portwarden_shared_port_owners", "gauge",
		  "Distinct owners (uid, cgroup, executable) of ports held by more than one, and of "
		  "protected ports (0: unheld); top-K by owners, the largest over network namespaces.");
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v) {
		b->failed = true;
		return;
	}
	HASH_ITER(hh, d->ledger->ports, p, tmp) {
		unsigned int owners = port_owners(p, 64);
		bool protected = false;

		for (size_t r = 0; r < watched->n_rules && !protected; r++)
			protected = watched->rules[r].port == p->key.port &&
				    watched->rules[r].proto == p->key.proto;
		if (owners > 1 || protected)
			v[n++] = (struct port_series){ p->key.proto, p->key.port, owners, NULL };
	}
	/* Protected ports are watched even when nobody holds them (merged: max wins). */
	for (size_t r = 0; r < watched->n_rules; r++)
		v[n++] = (struct port_series){ watched->rules[r].proto, watched->rules[r].port, 0,
					       NULL };
	n = port_series_cap(v, n, d->metrics.opts.max_port_series, &dropped);
	d->metrics.series_dropped[PW_MCAP_SHARED_PORT_OWNERS] += dropped;
	for (size_t i = 0; i < n; i++)
		pw_strbuf_printf(b, "portwarden_shared_port_owners{proto=\"%s\",port=\"%u\"} %.0f\n",
			  pw_proto_name(v[i].proto), v[i].port, v[i].val);
	free(v);
}

/* Groups of the reuseport model (rp_groups.c) with their window counts. */
struct rp_collect {
	struct metrics_rp_group *g;
	uint64_t *hits; /* one array for every group's members */
	size_t n, cap, n_hits, cap_hits;
};

static void rp_collect_one(void *ctx, const struct rp_group_view *v)
{
	struct rp_collect *c = ctx;
	uint64_t *hits = NULL;

	if (c->n == c->cap || c->n_hits + v->n_members > c->cap_hits)
		return; /* the model grew since counting: the next scrape sees it */
	if (v->samples) {
		hits = c->hits + c->n_hits;
		for (size_t i = 0; i < v->n_members; i++)
			hits[i] = v->members[i].count;
		c->n_hits += v->n_members;
	}
	c->g[c->n++] = (struct metrics_rp_group){ .proto = v->key.proto,
						  .port = v->key.port,
						  .members = (uint32_t)v->n_members,
						  .hits = hits,
						  .n_hits = hits ? (uint32_t)v->n_members : 0 };
}

static void rp_count(void *ctx, const struct rp_group_view *v)
{
	struct rp_collect *c = ctx;

	c->cap++;
	c->cap_hits += v->n_members;
}

/*
 * Reuseport groups: from the reuseport model when the daemon has one (members
 * in a reuseport group with their delivery counts, member index = the model's
 * stable order), else from the ledger (sockets flagged PW_F_GROUP per port,
 * shares unknown). @ret_hits is freed by the caller with @ret.
 */
static size_t collect_rp_groups(struct daemon *d, struct metrics_rp_group **ret,
				uint64_t **ret_hits)
{
	struct ledger_port *p, *tmp;
	struct metrics_rp_group *g;
	size_t n = 0, cap = HASH_COUNT(d->ledger->ports);

	*ret_hits = NULL;
	if (d->rp) {
		struct rp_collect c = {};

		rp_groups__foreach(d->rp, rp_count, &c);
		c.g = calloc(c.cap ? c.cap : 1, sizeof(*c.g));
		c.hits = calloc(c.cap_hits ? c.cap_hits : 1, sizeof(*c.hits));
		if (!c.g || !c.hits) {
			free(c.g);
			free(c.hits);
			return 0;
		}
		rp_groups__foreach(d->rp, rp_collect_one, &c);
		*ret = c.g;
		*ret_hits = c.hits;
		return c.n;
	}
	g = calloc(cap ? cap : 1, sizeof(*g));
	if (!g)
		return 0;
	HASH_ITER(hh, d->ledger->ports, p, tmp) {
		uint32_t members = 0;

		for (struct ledger_sock *s = p->socks; s; s = s->port_next)
			members += !!(s->flags & PW_F_GROUP);
		if (members)
			g[n++] = (struct metrics_rp_group){ .proto = p->key.proto,
							    .port = p->key.port,
							    .members = members };
	}
	*ret = g;
	return n;
}

struct member_hit {
	uint32_t idx;
	uint64_t hits;
};

static int cmp_member_desc(const void *a, const void *b)
{
	const struct member_hit *x = a, *y = b;

	if (x->hits != y->hits)
		return x->hits > y->hits ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_member_idx(const void *a, const void *b)
{
	const struct member_hit *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint64_t group_hits(const struct metrics_rp_group *g)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; g->hits && i < g->n_hits; i++)
		sum += g->hits[i];
	return sum;
}

static void render_rp_shares(struct pw_strbuf *b, struct daemon *d, const struct port_series *v,
			     size_t n)
{
	unsigned int max_members = d->metrics.opts.max_group_members;

	for (size_t i = 0; i < n; i++) {
		const struct metrics_rp_group *g = v[i].group;
		uint64_t sum = group_hits(g);
		struct member_hit *m;
		uint32_t k;

		if (!sum)
			continue;
		m = calloc(g->n_hits, sizeof(*m));
		if (!m) {
			b->failed = true;
			return;
		}
		for (uint32_t j = 0; j < g->n_hits; j++)
			m[j] = (struct member_hit){ j, g->hits[j] };
		/* The busiest members keep their series; the rest are counted. */
		qsort(m, g->n_hits, sizeof(*m), cmp_member_desc);
		k = g->n_hits < max_members ? g->n_hits : max_members;
		d->metrics.series_dropped[PW_MCAP_RP_MEMBER_SHARE] += g->n_hits - k;
		qsort(m, k, sizeof(*m), cmp_member_idx);
		for (uint32_t j = 0; j < k; j++)
			pw_strbuf_printf(b,
				  "portwarden_reuseport_member_share{proto=\"%s\",port=\"%u\","
				  "member=\"%u\"} %.6f\n",
				  pw_proto_name(g->proto), g->port, m[j].idx,
				  (double)m[j].hits / (double)sum);
		free(m);
	}
}

static void render_reuseport(struct pw_strbuf *b, struct daemon *d)
{
	struct metrics_rp_group *g = NULL;
	uint64_t *hits = NULL;
	struct port_series *v;
	size_t n, ng;
	uint64_t dropped;

	mb_family(b, "portwarden_reuseport_group_members", "gauge",
		  "Members of SO_REUSEPORT groups (top-K groups by size).");
	ng = collect_rp_groups(d, &g, &hits);
	v = calloc(ng ? ng : 1, sizeof(*v));
	if (!v) {
		free(hits);
		free(g);
		b->failed = true;
		return;
	}
	for (size_t i = 0; i < ng; i++)
		v[i] = (struct port_series){ g[i].proto, g[i].port, g[i].members, &g[i] };
	n = port_series_cap(v, ng, d->metrics.opts.max_port_series, &dropped);
	d->metrics.series_dropped[PW_MCAP_RP_GROUP_MEMBERS] += dropped;
	for (size_t i = 0; i < n; i++)
		pw_strbuf_printf(b, "portwarden_reuseport_group_members{proto=\"%s\",port=\"%u\"} %.0f\n",
			  pw_proto_name(v[i].proto), v[i].port, v[i].val);

	mb_family(b, "portwarden_reuseport_member_share", "gauge",
		  "Share of a reuseport group's deliveries per member index (0..1).");
	render_rp_shares(b, d, v, n);

	/* Imbalance: max/mean member deliveries, top-K groups by the ratio. */
	mb_family(b, "portwarden_reuseport_imbalance_ratio", "gauge",
		  "Largest member share over the mean share of a reuseport group (1 = uniform).");
	ng = 0;
	for (size_t i = 0; i < n; i++) {
		const struct metrics_rp_group *grp = v[i].group;
		uint64_t sum = group_hits(grp), max = 0;

		if (!sum)
			continue;
		for (uint32_t j = 0; j < grp->n_hits; j++)
			max = grp->hits[j] > max ? grp->hits[j] : max;
		v[ng++] = (struct port_series){ grp->proto, grp->port,
						(double)max * grp->n_hits / (double)sum, grp };
	}
	n = port_series_cap(v, ng, d->metrics.opts.max_port_series, &dropped);
	d->metrics.series_dropped[PW_MCAP_RP_IMBALANCE] += dropped;
	for (size_t i = 0; i < n; i++)
		pw_strbuf_printf(b,
			  "portwarden_reuseport_imbalance_ratio{proto=\"%s\",port=\"%u\"} %.6f\n",
			  pw_proto_name(v[i].proto), v[i].port, v[i].val);
	free(v);
	free(hits);
	free(g);
}

static void render_events(struct pw_strbuf *b, struct daemon *d)
{
	mb_family(b, "portwarden_events_total", "counter",
		  "Kernel records decoded, per source program.");
	for (unsigned int s = 0; s < PW_SRC_MAX; s++)
		pw_strbuf_printf(b, "portwarden_events_total{source=\"%s\"} %" PRIu64 "\n",
			  events__source_name(s), d->stats.received[s]);
	mb_family(b, "portwarden_events_lost_total", "counter",
		  "Kernel records lost because the ring buffer was full, per source program.");
	for (unsigned int s = 0; s < PW_SRC_MAX; s++)
		pw_strbuf_printf(b, "portwarden_events_lost_total{source=\"%s\"} %" PRIu64 "\n",
			  events__source_name(s), d->loader ? loader__drops(d->loader, s) : 0);
	mb_family(b, "portwarden_events_rejected_total", "counter",
		  "Kernel records rejected as short, oversized or of unknown type, per source.");
	for (unsigned int s = 0; s <= PW_SRC_MAX; s++)
		pw_strbuf_printf(b, "portwarden_events_rejected_total{source=\"%s\"} %" PRIu64 "\n",
			  events__source_name(s), d->stats.rejected[s]);
}

static void render_ledger(struct pw_strbuf *b, struct daemon *d)
{
	mb_counter(b, "portwarden_ledger_evictions_total",
		   "Sockets evicted from the full ledger (oldest first).",
		   d->ledger->evictions);
	mb_counter(b, "portwarden_reconciliations_total",
		   "Re-synchronisations of the ledger with a fresh iterator pass.",
		   d->reconciliations);
	if (d->detect) {
		const struct detect_stats *ds = detect__stats(d->detect);

		mb_counter(b, "portwarden_detect_incidents_dropped_total",
			   "Findings not tracked for their end: the incident table was full.",
			   ds->incidents_dropped);
		mb_counter(b, "portwarden_detect_released_evicted_total",
			   "Released services forgotten before the takeover window ended (memory full).",
			   ds->released_evicted);
		mb_counter(b, "portwarden_detect_scans_truncated_total",
			   "Port scans that compared only the first sockets of a crowded port.",
			   ds->pairs_truncated);
		mb_counter(b, "portwarden_detect_allowed_total",
			   "Sharings or conflicts not reported because [allow] expects them.",
			   ds->allowed);
	}
}

static void render_journal(struct pw_strbuf *b, struct daemon *d)
{
	mb_counter(b, "portwarden_journal_lines_total",
		   "JSON lines written to the event stream (--events).",
		   journal__lines(d->journal));
	mb_counter(b, "portwarden_journal_lines_lost_total",
		   "JSON lines that could not be encoded or written (full disk, closed pipe).",
		   journal__failures(d->journal));
}

static void render_store(struct pw_strbuf *b, struct daemon *d)
{
	struct store_stats st;

	/* No store (--db none): every counter is 0. */
	store__get_stats(d->store, &st);
	mb_counter(b, "portwarden_store_write_failures_total",
		   "SQLite history batch writes that failed (disk full, read-only, I/O); retried.",
		   st.write_failures);
	mb_counter(b, "portwarden_store_queue_dropped_total",
		   "History records dropped because the writer's queue was full.",
		   st.queue_dropped);
	mb_counter(b, "portwarden_store_rows_written_total",
		   "History rows inserted or updated in committed batches.",
		   st.rows_written);
	mb_counter(b, "portwarden_store_rows_rejected_total",
		   "History records the database refused (skipped).",
		   st.rows_rejected);
	mb_counter(b, "portwarden_store_retention_deleted_total",
		   "History rows deleted by retention (age, rows, bytes).",
		   st.retention_deleted);
	mb_single(b, "portwarden_store_queue_length", "gauge",
		  "History records waiting for the writer.", st.queue_len);
	mb_single(b, "portwarden_store_up", "gauge",
		  "1 while the history database is writable (or disabled), 0 while writes fail.",
		  d->store ? (uint64_t)st.healthy : 1);
}

/* Reuseport accounting gaps: every selection that could not be counted. */
static void render_rp_losses(struct pw_strbuf *b, struct daemon *d)
{
	static const char *const miss_names[PW_RP_MISS_MAX] = {
		[PW_RP_MISS_NO_COOKIE] = "no_cookie",
		[PW_RP_MISS_HITS_FULL] = "hits_map_full",
		[PW_RP_MISS_SOURCES_FULL] = "sources_map_full",
		[PW_RP_MISS_NO_SOURCE] = "no_source",
	};
	const struct rp_groups_stats *st = d->rp ? rp_groups__stats(d->rp) : NULL;

	mb_family(b, "portwarden_reuseport_selections_lost_total", "counter",
		  "Reuseport selections or deliveries the BPF counters could not record, by reason.");
	for (int m = 0; m < PW_RP_MISS_MAX; m++)
		pw_strbuf_printf(b, "portwarden_reuseport_selections_lost_total{reason=\"%s\"} %" PRIu64
			     "\n",
			  miss_names[m], st ? st->misses[m] : 0);
	mb_counter(b, "portwarden_reuseport_unattributed_total",
		   "Deliveries counted for sockets outside the ledger's reuseport groups.",
		   st ? st->unattributed : 0);
	mb_counter(b, "portwarden_reuseport_groups_dropped_total",
		   "Reuseport groups not tracked because max_groups was reached.",
		   st ? st->groups_dropped : 0);
	mb_counter(b, "portwarden_reuseport_sources_dropped_total",
		   "Tier A source addresses not tracked because the source table was full.",
		   st ? st->sources_dropped : 0);
	mb_counter(b, "portwarden_reuseport_read_errors_total",
		   "Failed reads of the reuseport counter maps.",
		   st ? st->read_errors : 0);
	mb_counter(b, "portwarden_close_unknown_total",
		   "Close records of sockets the ledger never had (their bind was lost).",
		   d->unknown_closes);
}

/* ---- the table: a module adds its renderer here ------------------------- */

typedef void (*render_fn)(struct pw_strbuf *b, struct daemon *d);

static const render_fn renderers[] = {
	render_build,	     render_tiers,     render_sockets, render_binds,
	render_findings,     render_shared_ports, render_reuseport, render_events,
	render_ledger,	     render_journal,	render_store,	render_rp_losses,
};

static void render_dropped(struct pw_strbuf *b, struct daemon *d)
{
	mb_family(b, "portwarden_series_dropped_total", "counter",
		  "Series left out of a scrape by a label cap, per metric.");
	for (int c = 0; c < PW_MCAP_MAX; c++)
		pw_strbuf_printf(b, "portwarden_series_dropped_total{metric=\"%s\"} %" PRIu64 "\n",
			  cap_names[c], d->metrics.series_dropped[c]);
}

static double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int metrics__render(struct daemon *d, char **ret_buf, size_t *ret_len)
{
	struct pw_strbuf b = {};
	double t0 = mono_seconds();

	pw_strbuf_grow(&b, 16384);
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		renderers[i](&b, d);
	/* Last: the caps applied above have counted what they dropped. */
	render_dropped(&b, d);
	d->metrics.last_scrape_seconds = mono_seconds() - t0;
	d->metrics.scrapes++;
	mb_family(&b, "portwarden_scrape_duration_seconds", "gauge",
		  "Time spent rendering this scrape.");
	pw_strbuf_printf(&b, "portwarden_scrape_duration_seconds %.9f\n", d->metrics.last_scrape_seconds);
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	*ret_buf = b.p;
	*ret_len = b.len;
	return 0;
}
