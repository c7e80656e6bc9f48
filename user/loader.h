/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Open, probe, load and attach the BPF objects. Every hook family compiles
 * all its tiers; for each family the loader tries the best tier first and
 * keeps the first one that loads and attaches, remembering why the better
 * ones were refused (`portwarden check`, portwarden_hook_tier_info).
 */
#ifndef PW_LOADER_H
#define PW_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum pw_family {
	PW_FAM_BIND,
	PW_FAM_LIFECYCLE,
	PW_FAM_INVENTORY,
	PW_FAM_REUSEPORT,
	PW_FAM_ENFORCE, /* loaded only when a policy is active (loader_opts.enforce) */
	PW_FAM_MAX
};
enum pw_tier { PW_TIER_NONE = 0, PW_TIER_A = 1, PW_TIER_B = 2, PW_TIER_C = 3 };

#define PW_REASON_LEN 200

struct loader_opts {
	enum pw_tier forced[PW_FAM_MAX]; /* PW_TIER_NONE: choose the best */
	const char *cgroup_path;	 /* attach point of cgroup hooks; NULL: the v2 root */
	uint32_t ringbuf_bytes;		 /* 0: default */
	bool inventory_only;		 /* just the iterators (portwarden ports) */
	bool enforce;			 /* load the enforcement family (refuses binds) */
};

struct loader;

const char *pw_family_name_of(enum pw_family f);
char pw_tier_letter(enum pw_tier t);
/* "bind=B" -> forced tier; -EINVAL on a bad family or tier. */
int pw_parse_force_tier(const char *s, enum pw_tier forced[PW_FAM_MAX]);

int loader__open(const struct loader_opts *opts, struct loader **ret);
void loader__destroy(struct loader *l);

enum pw_tier loader__tier(const struct loader *l, enum pw_family f);
/* Why tiers better than the chosen one (or all, for NONE) were refused. */
const char *loader__reason(const struct loader *l, enum pw_family f, enum pw_tier t);
const char *loader__cgroup_path(const struct loader *l);

int loader__events_fd(const struct loader *l);
/* Tier B's open bind attempts (struct pw_pending_bind by thread id); -1 if none. */
int loader__pending_fd(const struct loader *l);
/* fd of map @name in the object of family @f, or -ENOENT when it did not load. */
int loader__map_fd(const struct loader *l, enum pw_family f, const char *name);

/*
 * Pin the links of family @f in bpffs directory @dir as <dir>/<program>, each
 * replacing an earlier pin, so the attachment outlives the process. 0 or -errno.
 */
int loader__pin_links(struct loader *l, enum pw_family f, const char *dir);
/* Load and attach family @f now if it is not loaded (a reload turned it on). 0 or -errno. */
int loader__enable(struct loader *l, enum pw_family f);

/* Sum of the per-CPU reserve failures for @source. */
uint64_t loader__drops(const struct loader *l, unsigned int source);

/*
 * Run the TCP and UDP iterators; @cb gets each raw record. 0 or -errno.
 */
typedef void (*loader_record_fn)(void *ctx, const void *rec, size_t len);
int loader__inventory(struct loader *l, loader_record_fn cb, void *ctx);
/*
 * Walk the sockets the hooks marked bound in `sk_state` that the table
 * iterators cannot see (bound-only and connected TCP sockets); same records.
 * Sockets with no storage (tier C, or bound before the daemon) are absent.
 */
int loader__tracked(struct loader *l, loader_record_fn cb, void *ctx);

/*
 * Make the bound sockets that predate the enforcement hooks holders (enforce
 * tier A's enf_seed); @ret_seeded: how many. -EOPNOTSUPP at tier B.
 */
int loader__enforce_seed(struct loader *l, unsigned long *ret_seeded);

/* Installed once: routes libbpf's messages to our log (debug level). */
void loader__setup_libbpf_log(void);

#endif
