// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect_reuseport_skew.h"
#include "journal.h"
#include "util.h"

bool detect_reuseport_skew__judge(const struct rp_group_view *v, const struct rp_config *c)
{
	/* One member cannot be unbalanced; few samples say nothing. */
	if (v->n_members < 2 || v->samples < c->min_samples)
		return false;
	return v->imbalance >= c->max_mean_ratio && v->p_value < c->alpha;
}

static void dedup_of(const struct rp_group_view *v, char *buf, size_t len)
{
	char addr[64];

	pw_format_addr(v->key.family, v->key.addr, addr, sizeof(addr));
	snprintf(buf, len, "%s:%u:%s:%s:%u", pw_finding_kind_name(PW_FK_REUSEPORT_SKEW),
		 v->key.netns, pw_proto_name(v->key.proto), addr, v->key.port);
}

struct run_ctx {
	struct findings *fs;
	struct ledger *l;
	struct rp_groups *g;
	const struct rp_config *c;
	char tier;
	int64_t now;
	char (*skewed)[PW_DEDUP_LEN]; /* dedup keys raised or refreshed by this run */
	size_t n_skewed, cap_skewed;
};

static json_t *evidence_of(struct run_ctx *r, const struct rp_group_view *v)
{
	json_t *e = rp_group_json(v);
	size_t busiest = 0;

	if (!e)
		return NULL;
	for (size_t i = 1; i < v->n_members; i++)
		if (v->members[i].count > v->members[busiest].count)
			busiest = i;
	json_object_set_new(e, "df", json_integer((json_int_t)v->n_members - 1));
	json_object_set_new(e, "busiest_member", json_integer((json_int_t)busiest));
	json_object_set_new(e, "window_s", json_integer(r->c->window_s));
	json_object_set_new(e, "thresholds",
			    json_pack("{s:I, s:f, s:f}", "min_samples",
				      (json_int_t)r->c->min_samples, "max_mean_ratio",
				      r->c->max_mean_ratio, "alpha", r->c->alpha));
	json_object_set_new(e, "tier", json_sprintf("%c", r->tier));
	if (v->has_sources) {
		struct rp_source_view src[RP_MAX_SOURCES_SHOWN + 1];
		size_t n = rp_groups__dominant_sources(r->g, v->members[busiest].cookie, src,
						       RP_MAX_SOURCES_SHOWN + 1);

		json_object_set_new(e, "dominant_sources", rp_sources_json(src, n));
	}
	return e;
}

static void on_group(void *ctx, const struct rp_group_view *v)
{
	struct run_ctx *r = ctx;
	struct pw_port_key key = { .netns = v->key.netns, .port = v->key.port,
				   .proto = v->key.proto };
	char dedup[PW_DEDUP_LEN];
	json_t *socks;

	if (!detect_reuseport_skew__judge(v, r->c))
		return;
	dedup_of(v, dedup, sizeof(dedup));
	if (r->n_skewed == r->cap_skewed) {
		size_t cap = r->cap_skewed ? r->cap_skewed * 2 : 16;
		void *p = realloc(r->skewed, cap * sizeof(*r->skewed));

		if (!p)
			return;
		r->skewed = p;
		r->cap_skewed = cap;
	}
	memcpy(r->skewed[r->n_skewed++], dedup, PW_DEDUP_LEN);
	if (findings__is_active(r->fs, dedup)) {
		/* Refresh only: the evidence of the raise stays as it was. */
		findings__raise(r->fs, PW_FK_REUSEPORT_SKEW, &key, dedup, NULL, NULL, r->now,
				false);
		return;
	}
	socks = json_array();
	for (size_t i = 0; i < v->n_members; i++) {
		struct ledger_sock *s = ledger__find(r->l, v->members[i].cookie);

		if (s)
			json_array_append_new(socks, pw_json_sock(s));
	}
	findings__raise(r->fs, PW_FK_REUSEPORT_SKEW, &key, dedup, socks, evidence_of(r, v), r->now,
			false);
}

static void end_stale(void *ctx, struct pw_finding *f)
{
	struct run_ctx *r = ctx;

	if (f->kind != PW_FK_REUSEPORT_SKEW)
		return;
	for (size_t i = 0; i < r->n_skewed; i++)
		if (!strcmp(r->skewed[i], f->dedup))
			return;
	findings__end(r->fs, f->dedup, r->now);
}

void detect_reuseport_skew__run(struct findings *fs, struct ledger *l, struct rp_groups *g,
				const struct rp_config *c, char tier, int64_t now_ns)
{
	struct run_ctx r = { .fs = fs, .l = l, .g = g, .c = c, .tier = tier, .now = now_ns };

	rp_groups__foreach(g, on_group, &r);
	findings__foreach_active(fs, end_stale, &r);
	free(r.skewed);
}
