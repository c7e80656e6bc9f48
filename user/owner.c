// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>
#include "owner.h"

/*
 * A bind storm from one process must not read /proc once per bind: cache the
 * lookups per tgid for a few seconds, bounded.
 */
#define CACHE_MAX 4096
#define CACHE_TTL_NS (5ull * 1000000000)

struct owner_cache {
	uint32_t tgid;
	uint64_t at_ns;
	char exe[PW_EXE_LEN];
	char cgroup[PW_CGROUP_LEN];
	UT_hash_handle hh;
};

static struct owner_cache *cache;
static unsigned int cache_n;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void owner__flush_cache(void)
{
	struct owner_cache *c, *tmp;

	HASH_ITER(hh, cache, c, tmp) {
		HASH_DEL(cache, c);
		free(c);
	}
	cache_n = 0;
}

static void read_exe(uint32_t tgid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void read_cgroup(uint32_t tgid, char *buf, size_t len)
{
	char path[64], line[PW_CGROUP_LEN + 8];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cgroup", tgid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* The cgroup v2 line is "0::/path". */
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%.*s", (int)(len - 1), line + 3);
			break;
		}
	}
	fclose(f);
}

static bool is_hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

void owner__container_from_cgroup(const char *cg, char *buf, size_t len)
{
	const char *p;

	buf[0] = '\0';
	if (!cg)
		return;
	/* docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, /docker/<id> */
	for (p = cg; *p; p++) {
		if (is_hex_run(p, 64) && (p == cg || !isxdigit((unsigned char)p[-1])) &&
		    !isxdigit((unsigned char)p[64])) {
			snprintf(buf, len, "%.64s", p);
			return;
		}
	}
	/* Kubernetes pod without a container id: ...pod<uid>... (uid with - or _) */
	p = strstr(cg, "pod");
	while (p) {
		const char *u = p + 3;
		size_t n = 0;

		while (u[n] && (isxdigit((unsigned char)u[n]) || u[n] == '-' || u[n] == '_'))
			n++;
		if (n == 36) {
			char uid[37];

			memcpy(uid, u, 36);
			uid[36] = '\0';
			for (int i = 0; i < 36; i++)
				if (uid[i] == '_')
					uid[i] = '-';
			snprintf(buf, len, "pod:%s", uid);
			return;
		}
		p = strstr(p + 3, "pod");
	}
}

void owner__enrich(struct pw_owner *o)
{
	uint64_t now = mono_ns();
	struct owner_cache *c;

	if (!o->tgid)
		return;
	HASH_FIND(hh, cache, &o->tgid, sizeof(o->tgid), c);
	if (c && now - c->at_ns > CACHE_TTL_NS) {
		HASH_DEL(cache, c);
		free(c);
		cache_n--;
		c = NULL;
	}
	if (!c) {
		if (cache_n >= CACHE_MAX)
			owner__flush_cache();
		c = calloc(1, sizeof(*c));
		if (!c)
			return;
		c->tgid = o->tgid;
		c->at_ns = now;
		read_exe(o->tgid, c->exe, sizeof(c->exe));
		read_cgroup(o->tgid, c->cgroup, sizeof(c->cgroup));
		HASH_ADD(hh, cache, tgid, sizeof(c->tgid), c);
		cache_n++;
	}
	snprintf(o->exe, sizeof(o->exe), "%s", c->exe);
	snprintf(o->cgroup, sizeof(o->cgroup), "%s", c->cgroup);
	owner__container_from_cgroup(o->cgroup, o->container, sizeof(o->container));
}

bool owner__same_workload(const struct pw_owner *a, const struct pw_owner *b)
{
	if (a->uid != b->uid)
		return false;
	if (a->cgroup_id && b->cgroup_id && a->cgroup_id != b->cgroup_id)
		return false;
	if (a->cgroup[0] && b->cgroup[0] && strcmp(a->cgroup, b->cgroup))
		return false;
	if (a->exe[0] && b->exe[0] && strcmp(a->exe, b->exe))
		return false;
	return true;
}
