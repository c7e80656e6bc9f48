/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who owns a socket: the socket's uid (what the kernel compares) plus the
 * process that bound it and its workload (executable, cgroup, container).
 * Executable and cgroup come from /proc while the process still exists.
 */
#ifndef PW_OWNER_H
#define PW_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#define PW_EXE_LEN 256
#define PW_CGROUP_LEN 256
#define PW_CONTAINER_LEN 72

struct pw_owner {
	uint32_t uid; /* sk_uid */
	uint32_t pid, tgid, euid;
	uint64_t cgroup_id;
	char comm[16];
	char exe[PW_EXE_LEN];		  /* "" when unknown */
	char cgroup[PW_CGROUP_LEN];	  /* cgroup v2 path, "" when unknown */
	char container[PW_CONTAINER_LEN]; /* container id or "pod:<uid>", "" if none */
};

/* Fill exe, cgroup and container for owner->tgid from /proc (cached). */
void owner__enrich(struct pw_owner *o);
/* Parse a container id or Kubernetes pod uid out of a cgroup path. */
void owner__container_from_cgroup(const char *cgroup, char *buf, size_t len);
/* Same workload: same uid, and same cgroup and executable where known. */
bool owner__same_workload(const struct pw_owner *a, const struct pw_owner *b);
/* Drop cached /proc lookups (tests, SIGHUP). */
void owner__flush_cache(void);

#endif
