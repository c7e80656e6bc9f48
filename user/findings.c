// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"
#include "journal.h"
#include "util.h"

#define MAX_SINKS 8
/* A repeated one-shot finding (e.g. a rebind loop) within this window is one incident. */
#define ONE_SHOT_WINDOW_NS (10ll * 1000000000)
/* Ended findings are remembered this long for one-shot dedup, then dropped. */
#define MAX_REMEMBERED 4096

struct sink {
	finding_sink_fn fn;
	void *ctx;
};

struct findings {
	struct pw_finding *by_dedup;
	struct sink sinks[MAX_SINKS];
	int n_sinks;
	uint64_t next_id;
	unsigned int n_ended;
	uint64_t total[PW_FK_MAX][PW_SEV_MAX];
	uint64_t active[PW_FK_MAX][PW_SEV_MAX];
};

static const char *const kind_names[PW_FK_MAX] = {
	[PW_FK_CROSS_USER_REUSE] = "cross_user_reuse",
	[PW_FK_CROSS_WORKLOAD_REUSE] = "cross_workload_reuse",
	[PW_FK_SHADOWING] = "shadowing",
	[PW_FK_LISTEN_RACE] = "listen_race",
	[PW_FK_TAKEOVER] = "takeover",
	[PW_FK_BIND_CONFLICT] = "bind_conflict",
	[PW_FK_WILDCARD_EXPOSURE] = "wildcard_exposure",
	[PW_FK_REUSEPORT_SKEW] = "reuseport_skew",
	[PW_FK_BIND_REFUSED] = "bind_refused",
};

static const enum pw_severity kind_severity[PW_FK_MAX] = {
	[PW_FK_CROSS_USER_REUSE] = PW_SEV_CRITICAL, [PW_FK_CROSS_WORKLOAD_REUSE] = PW_SEV_HIGH,
	[PW_FK_SHADOWING] = PW_SEV_HIGH,	    [PW_FK_LISTEN_RACE] = PW_SEV_HIGH,
	[PW_FK_TAKEOVER] = PW_SEV_HIGH,		    [PW_FK_BIND_CONFLICT] = PW_SEV_MEDIUM,
	[PW_FK_WILDCARD_EXPOSURE] = PW_SEV_LOW,	    [PW_FK_REUSEPORT_SKEW] = PW_SEV_MEDIUM,
	[PW_FK_BIND_REFUSED] = PW_SEV_HIGH,
};

static const char *const severity_names[PW_SEV_MAX] = { "low", "medium", "high", "critical" };

const char *pw_finding_kind_name(enum pw_finding_kind k)
{
	return k < PW_FK_MAX ? kind_names[k] : "unknown";
}

int pw_finding_kind_parse(const char *s, enum pw_finding_kind *ret)
{
	for (int k = 0; k < PW_FK_MAX; k++) {
		if (!strcmp(s, kind_names[k])) {
			*ret = (enum pw_finding_kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

enum pw_severity pw_finding_kind_severity(enum pw_finding_kind k)
{
	return k < PW_FK_MAX ? kind_severity[k] : PW_SEV_LOW;
}

const char *pw_severity_name(enum pw_severity s)
{
	return s < PW_SEV_MAX ? severity_names[s] : "unknown";
}

struct findings *findings__new(void)
{
	struct findings *fs = calloc(1, sizeof(*fs));

	if (fs)
		fs->next_id = 1;
	return fs;
}

static void finding_free(struct pw_finding *f)
{
	json_decref(f->sockets);
	json_decref(f->evidence);
	free(f);
}

void findings__free(struct findings *fs)
{
	struct pw_finding *f, *tmp;

	if (!fs)
		return;
	HASH_ITER(hh, fs->by_dedup, f, tmp) {
		HASH_DEL(fs->by_dedup, f);
		finding_free(f);
	}
	free(fs);
}

int findings__add_sink(struct findings *fs, finding_sink_fn fn, void *ctx)
{
	if (fs->n_sinks >= MAX_SINKS)
		return -E2BIG;
	fs->sinks[fs->n_sinks].fn = fn;
	fs->sinks[fs->n_sinks++].ctx = ctx;
	return 0;
}

static void notify(struct findings *fs, const struct pw_finding *f, bool ended)
{
	for (int i = 0; i < fs->n_sinks; i++)
		fs->sinks[i].fn(fs->sinks[i].ctx, f, ended);
}

static struct pw_finding *find(struct findings *fs, const char *dedup)
{
	struct pw_finding *f;

	HASH_FIND_STR(fs->by_dedup, dedup, f);
	return f;
}

/* Forget the oldest ended findings when too many are remembered. */
static void prune_ended(struct findings *fs)
{
	struct pw_finding *f, *tmp;

	if (fs->n_ended < MAX_REMEMBERED)
		return;
	HASH_ITER(hh, fs->by_dedup, f, tmp) {
		if (f->end_ns) {
			HASH_DEL(fs->by_dedup, f);
			finding_free(f);
			if (--fs->n_ended < MAX_REMEMBERED / 2)
				break;
		}
	}
}

static void end_finding(struct findings *fs, struct pw_finding *f, int64_t now_ns)
{
	f->end_ns = now_ns;
	fs->active[f->kind][f->severity]--;
	fs->n_ended++;
	notify(fs, f, true);
}

const struct pw_finding *findings__raise(struct findings *fs, enum pw_finding_kind kind,
					 const struct pw_port_key *key, const char *dedup,
					 json_t *sockets, json_t *evidence, int64_t now_ns,
					 bool one_shot)
{
	struct pw_finding *f = find(fs, dedup);

	if (f && (!f->end_ns || (f->one_shot && now_ns - f->last_ns < ONE_SHOT_WINDOW_NS))) {
		f->last_ns = now_ns;
		json_decref(sockets);
		json_decref(evidence);
		return NULL;
	}
	if (f) {
		/* An ended incident that recurs: a new finding under the same key. */
		HASH_DEL(fs->by_dedup, f);
		fs->n_ended--;
		finding_free(f);
	}
	prune_ended(fs);
	f = calloc(1, sizeof(*f));
	if (!f) {
		json_decref(sockets);
		json_decref(evidence);
		return NULL;
	}
	f->id = fs->next_id++;
	f->kind = kind;
	f->severity = pw_finding_kind_severity(kind);
	f->key = *key;
	snprintf(f->dedup, sizeof(f->dedup), "%s", dedup);
	f->start_ns = f->last_ns = now_ns;
	f->one_shot = one_shot;
	f->sockets = sockets ? sockets : json_array();
	f->evidence = evidence ? evidence : json_object();
	HASH_ADD_STR(fs->by_dedup, dedup, f);
	fs->total[kind][f->severity]++;
	fs->active[kind][f->severity]++;
	notify(fs, f, false);
	if (one_shot)
		end_finding(fs, f, now_ns);
	return f;
}

void findings__end(struct findings *fs, const char *dedup, int64_t now_ns)
{
	struct pw_finding *f = find(fs, dedup);

	if (f && !f->end_ns)
		end_finding(fs, f, now_ns);
}

bool findings__is_active(struct findings *fs, const char *dedup)
{
	struct pw_finding *f = find(fs, dedup);

	return f && !f->end_ns;
}

void findings__foreach_active(struct findings *fs, void (*fn)(void *ctx, struct pw_finding *f),
			      void *ctx)
{
	struct pw_finding *f, *tmp;

	HASH_ITER(hh, fs->by_dedup, f, tmp)
		if (!f->end_ns)
			fn(ctx, f);
}

uint64_t findings__total(const struct findings *fs, enum pw_finding_kind k, enum pw_severity s)
{
	return fs->total[k][s];
}

uint64_t findings__active(const struct findings *fs, enum pw_finding_kind k, enum pw_severity s)
{
	return fs->active[k][s];
}

json_t *pw_finding_json(const struct pw_finding *f, bool ended)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:i, s:O, s:O}", "type",
			      "finding", "id", (json_int_t)f->id, "status",
			      ended ? "ended" : "active", "kind", pw_finding_kind_name(f->kind),
			      "severity", pw_severity_name(f->severity), "netns",
			      (json_int_t)f->key.netns, "proto", pw_proto_name(f->key.proto),
			      "port", (int)f->key.port, "sockets", f->sockets, "evidence",
			      f->evidence);

	if (!o)
		return NULL;
	pw_json_set_time(o, "time", ended ? f->end_ns : f->start_ns);
	pw_json_set_time(o, "started_at", f->start_ns);
	if (ended)
		pw_json_set_time(o, "ended_at", f->end_ns);
	return o;
}
