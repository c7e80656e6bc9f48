// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "pending_sweep.h"

/* Attempts reported by the sweep, until the kernel reports them too or they age out. */
#define SWEPT_MAX 4096
#define BATCH 256

struct swept {
	struct {
		uint32_t tid;
		uint32_t pad;
		uint64_t ts_ns;
	} key;
	UT_hash_handle hh;
};

struct pending_sweep {
	struct swept *set; /* insertion order is uthash's: oldest first */
	unsigned int n;
};

struct pending_sweep *pending_sweep__new(void)
{
	return calloc(1, sizeof(struct pending_sweep));
}

void pending_sweep__free(struct pending_sweep *ps)
{
	struct swept *s, *tmp;

	if (!ps)
		return;
	HASH_ITER(hh, ps->set, s, tmp) {
		HASH_DEL(ps->set, s);
		free(s);
	}
	free(ps);
}

static struct swept *find(struct pending_sweep *ps, uint32_t tid, uint64_t ts)
{
	struct swept probe = { 0 }, *s;

	probe.key.tid = tid;
	probe.key.ts_ns = ts;
	HASH_FIND(hh, ps->set, &probe.key, sizeof(probe.key), s);
	return s;
}

static void remember(struct pending_sweep *ps, uint32_t tid, uint64_t ts)
{
	struct swept *s;

	if (ps->n >= SWEPT_MAX) {
		/* The oldest: its thread has long bound again or gone. */
		s = ps->set;
		HASH_DEL(ps->set, s);
		free(s);
		ps->n--;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	s->key.tid = tid;
	s->key.ts_ns = ts;
	HASH_ADD(hh, ps->set, key, sizeof(s->key), s);
	ps->n++;
}

bool pending_sweep__claimed(struct pending_sweep *ps, const struct pw_event *rec)
{
	struct swept *s;

	if (!ps || rec->hdr.type != PW_REC_BIND_FAILED || rec->err_kind != PW_ERR_UNKNOWN)
		return false;
	s = find(ps, rec->task.pid, rec->hdr.ts_ns);
	if (!s)
		return false;
	HASH_DEL(ps->set, s);
	free(s);
	ps->n--;
	return true;
}

/*
 * The BPF side writes a slot in place, field by field; read a stale-looking
 * slot again and trust it only if both reads agree.
 */
static bool stable(int fd, uint32_t tid, const struct pw_pending_bind *seen)
{
	struct pw_pending_bind again;

	return !bpf_map_lookup_elem(fd, &tid, &again) && !memcmp(&again, seen, sizeof(again));
}

unsigned int pending_sweep__run(struct pending_sweep *ps, int fd, uint64_t now_boot_ns,
				void (*report)(void *ctx, const struct pw_event *rec), void *ctx)
{
	static uint32_t keys[BATCH];
	static struct pw_pending_bind vals[BATCH];
	uint32_t out_batch = 0;
	unsigned int reported = 0;
	bool first = true, done = false;

	if (!ps || fd < 0)
		return 0;
	while (!done) {
		__u32 count = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &out_batch, &out_batch, keys,
					       vals, &count, NULL);

		first = false;
		if (err) {
			if (errno != ENOENT)
				break;
			done = true; /* ENOENT: this was the last batch */
		}
		for (__u32 i = 0; i < count; i++) {
			const struct pw_pending_bind *p = &vals[i];
			struct pw_event rec;

			if (p->state != PW_PENDING_OPEN || p->ts_ns > now_boot_ns ||
			    now_boot_ns - p->ts_ns < PENDING_SWEEP_AGE_NS ||
			    find(ps, keys[i], p->ts_ns) || !stable(fd, keys[i], p))
				continue;
			memset(&rec, 0, sizeof(rec));
			rec.hdr.type = PW_REC_BIND_FAILED;
			rec.hdr.size = sizeof(rec);
			rec.hdr.source = PW_SRC_CGROUP_BIND;
			rec.hdr.ts_ns = p->ts_ns;
			rec.sock = p->sock;
			rec.task = p->task;
			rec.err_kind = PW_ERR_UNKNOWN;
			remember(ps, keys[i], p->ts_ns);
			report(ctx, &rec);
			reported++;
		}
	}
	return reported;
}
