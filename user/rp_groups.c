// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <uthash.h>
#include "journal.h"
#include "portwarden_abi.h"
#include "rp_groups.h"
#include "util.h"

/* Totals already seen per BPF hits entry: the tick turns them into deltas. */
struct rp_prev {
	uint64_t cookie;
	uint64_t total;
	bool seen;
	UT_hash_handle hh;
};

struct rp_member {
	uint64_t cookie;
	struct rp_group *group;
	uint64_t b[RP_BUCKETS];
	uint32_t uid, tgid;
	char comm[16];
	double last_share; /* as last journaled */
	bool seen;
	UT_hash_handle hh; /* rp_groups.members, by cookie */
};

struct rp_group {
	struct rp_group_key key;
	struct rp_member **m;
	size_t n, cap;
	struct rp_member_view *views;
	size_t last_n; /* members as last journaled */
	int64_t last_emit_ns;
	bool has_sources;
	UT_hash_handle hh;
};

/* Tier A: window counts per (member, source). */
struct rp_src {
	struct pw_rp_src_key key;
	uint64_t total; /* BPF total already seen */
	uint64_t b[RP_BUCKETS];
	bool seen;
	UT_hash_handle hh;
};

struct rp_groups {
	struct rp_config cfg;
	struct rp_group *groups;
	struct rp_member *members;
	struct rp_prev *prev;
	struct rp_src *srcs;
	size_t n_groups, n_srcs;
	int hits_fd, sources_fd, misses_fd;
	int64_t epoch; /* current bucket number (monotonic seconds / bucket length) */
	unsigned int cur;
	struct rp_groups_stats st;
};

void rp_config__defaults(struct rp_config *c)
{
	*c = (struct rp_config){
		.window_s = 60,
		.min_samples = 1000,
		.max_mean_ratio = 1.5,
		.alpha = 0.001,
		.source_share = 0.8,
		.journal_interval_s = 10,
		.journal_delta = 0.05,
		.max_groups = 4096,
	};
}

int rp_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct rp_config *c = target;
	double d;
	long v;

	if (!strcmp(l->key, "window")) {
		if (pw_parse_long(l->value, 1, 3600, &v))
			return config__error(l, err, errlen, "window: seconds from 1 to 3600");
		c->window_s = (unsigned int)v;
	} else if (!strcmp(l->key, "min_samples")) {
		if (pw_parse_long(l->value, 1, 1000000000L, &v))
			return config__error(l, err, errlen, "min_samples: 1 to 1000000000");
		c->min_samples = (uint64_t)v;
	} else if (!strcmp(l->key, "max_mean_ratio")) {
		if (pw_parse_double(l->value, 1.0, 1e6, &d))
			return config__error(l, err, errlen, "max_mean_ratio: a number >= 1");
		c->max_mean_ratio = d;
	} else if (!strcmp(l->key, "alpha")) {
		if (pw_parse_double(l->value, 1e-300, 1.0, &d))
			return config__error(l, err, errlen, "alpha: a p-value in (0, 1]");
		c->alpha = d;
	} else if (!strcmp(l->key, "source_share")) {
		if (pw_parse_double(l->value, 0.01, 1.0, &d))
			return config__error(l, err, errlen, "source_share: 0.01 to 1");
		c->source_share = d;
	} else if (!strcmp(l->key, "journal_interval")) {
		if (pw_parse_long(l->value, 1, 86400, &v))
			return config__error(l, err, errlen, "journal_interval: 1 to 86400 s");
		c->journal_interval_s = (unsigned int)v;
	} else if (!strcmp(l->key, "journal_delta")) {
		if (pw_parse_double(l->value, 0.0, 1.0, &d))
			return config__error(l, err, errlen, "journal_delta: 0 to 1");
		c->journal_delta = d;
	} else if (!strcmp(l->key, "max_groups")) {
		if (pw_parse_long(l->value, 1, 1000000, &v))
			return config__error(l, err, errlen, "max_groups: 1 to 1000000");
		c->max_groups = (unsigned int)v;
	} else {
		return config__error(l, err, errlen,
				     "unknown key '%s' in [reuseport] (window, min_samples, "
				     "max_mean_ratio, alpha, source_share, journal_interval, "
				     "journal_delta, max_groups)",
				     l->key);
	}
	return 0;
}

int rp_config__parse_arg(struct rp_config *c, const char *arg, char *err, size_t errlen)
{
	char key[64];
	const char *eq = strchr(arg, '=');
	struct pw_config_line l = { .file = "--reuseport", .section = "reuseport" };

	if (!eq || (size_t)(eq - arg) >= sizeof(key)) {
		snprintf(err, errlen, "--reuseport '%s': expected KEY=VALUE", arg);
		return -EINVAL;
	}
	memcpy(key, arg, eq - arg);
	key[eq - arg] = '\0';
	l.key = key;
	l.value = eq + 1;
	return rp_config__section(c, &l, err, errlen);
}

struct rp_groups *rp_groups__new(const struct rp_config *c)
{
	struct rp_groups *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	if (c)
		g->cfg = *c;
	else
		rp_config__defaults(&g->cfg);
	g->hits_fd = g->sources_fd = g->misses_fd = -1;
	g->epoch = -1;
	return g;
}

static void member_free(struct rp_groups *g, struct rp_member *m)
{
	HASH_DEL(g->members, m);
	free(m);
}

static void group_free(struct rp_groups *g, struct rp_group *grp)
{
	for (size_t i = 0; i < grp->n; i++)
		member_free(g, grp->m[i]);
	HASH_DEL(g->groups, grp);
	g->n_groups--;
	free(grp->m);
	free(grp->views);
	free(grp);
}

void rp_groups__free(struct rp_groups *g)
{
	struct rp_group *grp, *gt;
	struct rp_prev *p, *pt;
	struct rp_src *s, *st;

	if (!g)
		return;
	HASH_ITER(hh, g->groups, grp, gt)
		group_free(g, grp);
	HASH_ITER(hh, g->prev, p, pt) {
		HASH_DEL(g->prev, p);
		free(p);
	}
	HASH_ITER(hh, g->srcs, s, st) {
		HASH_DEL(g->srcs, s);
		free(s);
	}
	free(g);
}

void rp_groups__set_maps(struct rp_groups *g, int hits_fd, int sources_fd, int misses_fd)
{
	g->hits_fd = hits_fd;
	g->sources_fd = sources_fd;
	g->misses_fd = misses_fd;
}

static bool eligible(const struct ledger_sock *s)
{
	if (!(s->flags & (PW_F_REUSEPORT | PW_F_GROUP)))
		return false;
	/* A TCP socket joins its group at listen(); UDP at bind(). */
	return s->key.proto == IPPROTO_UDP || s->listening;
}

static void key_of(const struct ledger_sock *s, struct rp_group_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = s->key.netns;
	k->port = s->key.port;
	k->proto = s->key.proto;
	k->family = s->family;
	memcpy(k->addr, s->addr, sizeof(k->addr));
}

static int cmp_member(const void *a, const void *b)
{
	const struct rp_member *x = *(struct rp_member *const *)a;
	const struct rp_member *y = *(struct rp_member *const *)b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static struct rp_member *member_add(struct rp_groups *g, const struct ledger_sock *s)
{
	struct rp_group_key k;
	struct rp_group *grp;
	struct rp_member *m;

	key_of(s, &k);
	HASH_FIND(hh, g->groups, &k, sizeof(k), grp);
	if (!grp) {
		if (g->n_groups >= g->cfg.max_groups) {
			g->st.groups_dropped++;
			return NULL;
		}
		grp = calloc(1, sizeof(*grp));
		if (!grp)
			return NULL;
		grp->key = k;
		HASH_ADD(hh, g->groups, key, sizeof(grp->key), grp);
		g->n_groups++;
	}
	if (grp->n == grp->cap) {
		size_t cap = grp->cap ? grp->cap * 2 : 4;
		struct rp_member **v = realloc(grp->m, cap * sizeof(*v));

		if (!v)
			return NULL;
		grp->m = v;
		grp->cap = cap;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cookie = s->cookie;
	m->group = grp;
	grp->m[grp->n++] = m;
	qsort(grp->m, grp->n, sizeof(*grp->m), cmp_member);
	HASH_ADD(hh, g->members, cookie, sizeof(m->cookie), m);
	return m;
}

static void member_remove(struct rp_groups *g, struct rp_member *m)
{
	struct rp_group *grp = m->group;

	for (size_t i = 0; i < grp->n; i++) {
		if (grp->m[i] == m) {
			memmove(&grp->m[i], &grp->m[i + 1], (grp->n - i - 1) * sizeof(*grp->m));
			grp->n--;
			break;
		}
	}
	member_free(g, m);
	if (!grp->n)
		group_free(g, grp);
}

void rp_groups__refresh(struct rp_groups *g, struct ledger *l)
{
	struct rp_member *m, *mt;
	struct ledger_sock *s, *st;

	HASH_ITER(hh, g->members, m, mt)
		m->seen = false;
	HASH_ITER(hh, l->socks, s, st) {
		if (!eligible(s))
			continue;
		HASH_FIND(hh, g->members, &s->cookie, sizeof(s->cookie), m);
		if (m) {
			struct rp_group_key k;

			key_of(s, &k);
			/* Rebound elsewhere (cookies are never reused): start over. */
			if (memcmp(&k, &m->group->key, sizeof(k))) {
				member_remove(g, m);
				m = NULL;
			}
		}
		if (!m)
			m = member_add(g, s);
		if (!m)
			continue;
		m->seen = true;
		m->uid = s->owner.uid;
		m->tgid = s->owner.tgid;
		memcpy(m->comm, s->owner.comm, sizeof(m->comm));
		m->comm[sizeof(m->comm) - 1] = '\0';
	}
	HASH_ITER(hh, g->members, m, mt)
		if (!m->seen)
			member_remove(g, m);
}

int rp_groups__add(struct rp_groups *g, uint64_t cookie, uint64_t n)
{
	struct rp_member *m;

	HASH_FIND(hh, g->members, &cookie, sizeof(cookie), m);
	if (!m) {
		g->st.unattributed += n;
		return -ENOENT;
	}
	m->b[g->cur] += n;
	return 0;
}

/* Move to the bucket of @mono_ns, clearing the buckets it passes. */
static void advance(struct rp_groups *g, int64_t mono_ns)
{
	unsigned int bucket_s = g->cfg.window_s / RP_BUCKETS ? g->cfg.window_s / RP_BUCKETS : 1;
	int64_t epoch = mono_ns / 1000000000LL / bucket_s;
	struct rp_member *m, *mt;
	struct rp_src *s, *st;

	if (g->epoch < 0) {
		g->epoch = epoch;
		return;
	}
	for (int i = 0; g->epoch < epoch && i < RP_BUCKETS; i++) {
		g->cur = (g->cur + 1) % RP_BUCKETS;
		HASH_ITER(hh, g->members, m, mt)
			m->b[g->cur] = 0;
		HASH_ITER(hh, g->srcs, s, st)
			s->b[g->cur] = 0;
		g->epoch++;
	}
	g->epoch = epoch;
}

typedef void (*entry_fn)(struct rp_groups *g, const void *key, uint64_t total);

/* Read every entry of a per-CPU hash of u64 counters, summing the CPUs. */
static int read_percpu_map(struct rp_groups *g, int fd, size_t key_size, entry_fn fn)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t batch = 256, count;
	uint64_t in_tok = 0, out_tok = 0;
	bool first = true;
	void *keys = NULL;
	uint64_t *vals = NULL;
	int err = 0;

	if (ncpu <= 0)
		return -EINVAL;
	for (;;) {
		if (!keys) {
			keys = malloc(batch * key_size);
			vals = malloc((size_t)batch * ncpu * sizeof(*vals));
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		count = batch;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_tok, &out_tok, keys, vals, &count,
					   NULL);
		if (err && errno == ENOSPC && batch < 65536) {
			/* A hash bucket holds more entries than the batch: grow it. */
			batch *= 4;
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			continue;
		}
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (uint32_t i = 0; i < count; i++) {
			uint64_t sum = 0;

			for (int c = 0; c < ncpu; c++)
				sum += vals[(size_t)i * ncpu + c];
			fn(g, (char *)keys + i * key_size, sum);
		}
		if (err) { /* ENOENT: that was the last batch */
			err = 0;
			break;
		}
		in_tok = out_tok;
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}

static void on_hit(struct rp_groups *g, const void *key, uint64_t total)
{
	const struct pw_rp_key *k = key;
	struct rp_prev *p;
	uint64_t delta;

	HASH_FIND(hh, g->prev, &k->cookie, sizeof(k->cookie), p);
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return;
		p->cookie = k->cookie;
		HASH_ADD(hh, g->prev, cookie, sizeof(p->cookie), p);
	}
	/* A smaller total: the LRU evicted and recreated the entry. */
	delta = total >= p->total ? total - p->total : total;
	p->total = total;
	p->seen = true;
	if (delta)
		rp_groups__add(g, k->cookie, delta);
}

static void on_source(struct rp_groups *g, const void *key, uint64_t total)
{
	const struct pw_rp_src_key *k = key;
	struct rp_src *s;
	uint64_t delta;

	HASH_FIND(hh, g->srcs, k, sizeof(*k), s);
	if (!s) {
		if (g->n_srcs >= PW_RP_MAX_SOURCES) {
			g->st.sources_dropped++;
			return;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->key = *k;
		HASH_ADD(hh, g->srcs, key, sizeof(s->key), s);
		g->n_srcs++;
	}
	delta = total >= s->total ? total - s->total : total;
	s->total = total;
	s->seen = true;
	s->b[g->cur] += delta;
}

static uint64_t window_sum(const uint64_t *b)
{
	uint64_t n = 0;

	for (int i = 0; i < RP_BUCKETS; i++)
		n += b[i];
	return n;
}

/* Forget entries the kernel dropped once their window has passed. */
static void sweep(struct rp_groups *g)
{
	struct rp_prev *p, *pt;
	struct rp_src *s, *st;

	HASH_ITER(hh, g->prev, p, pt) {
		if (!p->seen) {
			HASH_DEL(g->prev, p);
			free(p);
		} else {
			p->seen = false;
		}
	}
	HASH_ITER(hh, g->srcs, s, st) {
		if (!s->seen && !window_sum(s->b)) {
			HASH_DEL(g->srcs, s);
			g->n_srcs--;
			free(s);
		} else {
			s->seen = false;
		}
	}
}

static void read_misses(struct rp_groups *g)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (g->misses_fd < 0 || ncpu <= 0)
		return;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (uint32_t i = 0; i < PW_RP_MISS_MAX && i < 8; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(g->misses_fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		g->st.misses[i] = sum;
	}
	free(vals);
}

int rp_groups__tick(struct rp_groups *g, struct ledger *l, int64_t mono_ns)
{
	int err = 0, e;

	g->st.ticks++;
	advance(g, mono_ns);
	rp_groups__refresh(g, l);
	if (g->hits_fd >= 0) {
		e = read_percpu_map(g, g->hits_fd, sizeof(struct pw_rp_key), on_hit);
		if (e) {
			g->st.read_errors++;
			err = e;
		}
	}
	if (g->sources_fd >= 0) {
		e = read_percpu_map(g, g->sources_fd, sizeof(struct pw_rp_src_key), on_source);
		if (e) {
			g->st.read_errors++;
			err = err ? err : e;
		}
	}
	if (g->hits_fd >= 0 && !err)
		sweep(g);
	read_misses(g);
	return err;
}

/* Upper tail of the regularized gamma function Q(a, x) (Numerical Recipes 6.2). */
static double gamma_q(double a, double x)
{
	double gln = lgamma(a);

	if (x <= 0)
		return 1.0;
	if (x < a + 1) {
		double sum = 1.0 / a, del = sum, ap = a;

		for (int n = 0; n < 1000; n++) {
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * 1e-15)
				break;
		}
		return 1.0 - sum * exp(-x + a * log(x) - gln);
	} else {
		double b = x + 1 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;

		for (int i = 1; i < 1000; i++) {
			double an = -i * (i - a), del;

			b += 2;
			d = an * d + b;
			if (fabs(d) < 1e-300)
				d = 1e-300;
			c = b + an / c;
			if (fabs(c) < 1e-300)
				c = 1e-300;
			d = 1.0 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1.0) < 1e-15)
				break;
		}
		return exp(-x + a * log(x) - gln) * h;
	}
}

double rp_chi2_sf(double x, unsigned int df)
{
	if (!df)
		return 1.0;
	return gamma_q(df / 2.0, x / 2.0);
}

static void group_view(struct rp_groups *g, struct rp_group *grp, struct rp_group_view *v)
{
	struct rp_member_view *mv;
	uint64_t max = 0, n = 0;

	memset(v, 0, sizeof(*v));
	mv = realloc(grp->views, (grp->n ? grp->n : 1) * sizeof(*mv));
	if (!mv)
		return;
	grp->views = mv;
	v->key = grp->key;
	v->members = mv;
	v->n_members = grp->n;
	for (size_t i = 0; i < grp->n; i++) {
		struct rp_member *m = grp->m[i];

		mv[i] = (struct rp_member_view){ .cookie = m->cookie, .count = window_sum(m->b),
						 .uid = m->uid, .tgid = m->tgid };
		memcpy(mv[i].comm, m->comm, sizeof(mv[i].comm));
		n += mv[i].count;
		if (mv[i].count > max)
			max = mv[i].count;
	}
	v->samples = n;
	v->p_value = 1.0;
	if (!n || !grp->n)
		return;
	{
		double e = (double)n / grp->n, chi2 = 0;

		for (size_t i = 0; i < grp->n; i++) {
			double d = mv[i].count - e;

			mv[i].share = (double)mv[i].count / n;
			chi2 += d * d / e;
		}
		v->chi2 = chi2;
		v->p_value = rp_chi2_sf(chi2, grp->n - 1);
		v->imbalance = max / e;
	}
	if (g->n_srcs) {
		struct rp_src *s, *st;

		HASH_ITER(hh, g->srcs, s, st) {
			struct rp_member *m;

			HASH_FIND(hh, g->members, &s->key.cookie, sizeof(s->key.cookie), m);
			if (m && m->group == grp) {
				v->has_sources = true;
				break;
			}
		}
	}
}

void rp_groups__foreach(struct rp_groups *g, rp_group_fn fn, void *ctx)
{
	struct rp_group *grp, *gt;

	HASH_ITER(hh, g->groups, grp, gt) {
		struct rp_group_view v;

		group_view(g, grp, &v);
		if (v.members)
			fn(ctx, &v);
	}
}

size_t rp_groups__count(const struct rp_groups *g)
{
	return g->n_groups;
}

const struct rp_groups_stats *rp_groups__stats(const struct rp_groups *g)
{
	return &g->st;
}

static int cmp_src_desc(const void *a, const void *b)
{
	const struct rp_source_view *x = a, *y = b;

	return x->count > y->count ? -1 : x->count < y->count;
}

size_t rp_groups__dominant_sources(struct rp_groups *g, uint64_t cookie,
				   struct rp_source_view *out, size_t max)
{
	struct rp_source_view *all = NULL, *addrs = NULL;
	size_t n = 0, n_addrs = 0, w = 0;
	uint64_t total = 0;
	struct rp_member *m;
	struct rp_src *s, *st;
	double acc = 0;

	HASH_FIND(hh, g->members, &cookie, sizeof(cookie), m);
	if (!m || !max || !g->n_srcs)
		return 0;
	total = window_sum(m->b);
	all = calloc(g->n_srcs, sizeof(*all));
	addrs = calloc(g->n_srcs, sizeof(*addrs));
	if (!total || !all || !addrs)
		goto out;
	HASH_ITER(hh, g->srcs, s, st) {
		uint64_t c = window_sum(s->b);
		size_t j;

		if (s->key.cookie != cookie || !c)
			continue;
		all[n++] = (struct rp_source_view){ .family = s->key.family, .port = s->key.sport,
						    .count = c };
		memcpy(all[n - 1].addr, s->key.saddr, sizeof(all[n - 1].addr));
		for (j = 0; j < n_addrs; j++)
			if (addrs[j].family == s->key.family &&
			    !memcmp(addrs[j].addr, s->key.saddr, sizeof(addrs[j].addr)))
				break;
		if (j == n_addrs) {
			addrs[n_addrs] = all[n - 1];
			addrs[n_addrs++].count = 0;
			addrs[j].port = 0;
		}
		addrs[j].count += c;
	}
	qsort(all, n, sizeof(*all), cmp_src_desc);
	qsort(addrs, n_addrs, sizeof(*addrs), cmp_src_desc);
	if (n_addrs && (double)addrs[0].count / total >= g->cfg.source_share) {
		out[w] = addrs[0];
		out[w++].share = (double)addrs[0].count / total;
	}
	/* A few ports carrying the load: report them only if they add up. */
	for (size_t i = 0; i < n && i < RP_MAX_SOURCES_SHOWN; i++)
		acc += (double)all[i].count / total;
	if (acc >= g->cfg.source_share) {
		acc = 0;
		for (size_t i = 0; i < n && i < RP_MAX_SOURCES_SHOWN && w < max; i++) {
			if (acc >= g->cfg.source_share)
				break;
			out[w] = all[i];
			out[w].share = (double)all[i].count / total;
			acc += out[w++].share;
		}
	}
out:
	free(all);
	free(addrs);
	return w;
}

static json_t *src_json(const struct rp_source_view *s)
{
	char addr[64];

	pw_format_addr(s->family, s->addr, addr, sizeof(addr));
	return s->port ? json_pack("{s:s, s:i, s:I, s:f}", "addr", addr, "port", (int)s->port,
				   "count", (json_int_t)s->count, "share", s->share)
		       : json_pack("{s:s, s:I, s:f}", "addr", addr, "count",
				   (json_int_t)s->count, "share", s->share);
}

json_t *rp_sources_json(const struct rp_source_view *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, src_json(&s[i]));
	return a;
}

/* Rounded for humans and for stable JSON (no 0.30000000000000004). */
static double round4(double x)
{
	return round(x * 10000) / 10000;
}

json_t *rp_group_json(const struct rp_group_view *v)
{
	json_t *members = json_array();
	char addr[64];

	pw_format_addr(v->key.family, v->key.addr, addr, sizeof(addr));
	for (size_t i = 0; i < v->n_members; i++) {
		const struct rp_member_view *m = &v->members[i];

		json_array_append_new(members,
				      json_pack("{s:i, s:I, s:I, s:f, s:i, s:i, s:s}", "member",
						(int)i, "cookie", (json_int_t)m->cookie, "count",
						(json_int_t)m->count, "share", round4(m->share),
						"uid", (int)m->uid, "tgid", (int)m->tgid, "comm",
						m->comm));
	}
	return json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:I, s:f, s:f, s:f, s:o}", "netns",
			 (json_int_t)v->key.netns, "proto", pw_proto_name(v->key.proto), "family",
			 pw_family_name(v->key.family), "addr", addr, "port", (int)v->key.port,
			 "members", (int)v->n_members, "samples", (json_int_t)v->samples,
			 "imbalance_ratio", round4(v->imbalance), "chi2", round4(v->chi2),
			 "p_value", v->p_value, "shares", members);
}

struct journal_ctx {
	struct rp_groups *g;
	void (*emit)(void *ctx, json_t *o);
	void *ctx;
	int64_t now;
};

static void journal_group(void *ctx, const struct rp_group_view *v)
{
	struct journal_ctx *c = ctx;
	struct rp_group *grp;
	bool moved = false;
	json_t *o;

	HASH_FIND(hh, c->g->groups, &v->key, sizeof(v->key), grp);
	if (!grp || (grp->last_emit_ns &&
		     c->now - grp->last_emit_ns < (int64_t)c->g->cfg.journal_interval_s * 1000000000LL))
		return;
	if (v->samples >= c->g->cfg.min_samples)
		for (size_t i = 0; i < grp->n; i++)
			moved |= fabs(v->members[i].share - grp->m[i]->last_share) >=
				 c->g->cfg.journal_delta;
	if (!moved && grp->n == grp->last_n)
		return;
	o = json_pack("{s:s}", "type", "reuseport_group");
	if (!o)
		return;
	json_object_update_new(o, rp_group_json(v));
	pw_json_set_time(o, "time", pw_now_wall_ns());
	c->emit(c->ctx, o);
	grp->last_emit_ns = c->now;
	grp->last_n = grp->n;
	for (size_t i = 0; i < grp->n; i++)
		grp->m[i]->last_share = v->members[i].share;
}

void rp_groups__journal(struct rp_groups *g, void (*emit)(void *ctx, json_t *o), void *ctx,
			int64_t mono_ns)
{
	struct journal_ctx c = { .g = g, .emit = emit, .ctx = ctx, .now = mono_ns };

	rp_groups__foreach(g, journal_group, &c);
}
