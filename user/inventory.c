// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>
#include "inventory.h"

struct ino_owner {
	uint64_t ino;
	uint32_t tgid, uid, euid;
	char comm[PW_COMM_LEN];
	UT_hash_handle hh;
};

struct inventory_procs {
	struct ino_owner *by_ino;
};

static void read_status(uint32_t pid, struct ino_owner *o)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Name:", 5))
			sscanf(line + 5, " %15s", o->comm);
		else if (!strncmp(line, "Uid:", 4))
			sscanf(line + 4, " %u %u", &o->uid, &o->euid);
	}
	fclose(f);
}

static void scan_pid(struct inventory_procs *p, uint32_t pid)
{
	char path[64], link[64], fdpath[300];
	struct dirent *de;
	struct ino_owner proto = { .tgid = pid };
	bool have_status = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long long ino;
		struct ino_owner *o;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%.255s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		HASH_FIND(hh, p->by_ino, &(uint64_t){ ino }, sizeof(uint64_t), o);
		if (o)
			continue; /* first (lowest pid) holder wins: usually the parent */
		if (!have_status) {
			read_status(pid, &proto);
			have_status = true;
		}
		o = malloc(sizeof(*o));
		if (!o)
			break;
		*o = proto;
		o->ino = ino;
		HASH_ADD(hh, p->by_ino, ino, sizeof(o->ino), o);
	}
	closedir(d);
}

static int cmp_pid(const void *a, const void *b)
{
	return (int)(*(const uint32_t *)a > *(const uint32_t *)b) -
	       (int)(*(const uint32_t *)a < *(const uint32_t *)b);
}

struct inventory_procs *inventory__scan_procs(void)
{
	struct inventory_procs *p = calloc(1, sizeof(*p));
	uint32_t *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (!p)
		return NULL;
	d = opendir("/proc");
	if (!d)
		return p;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			uint32_t *np = realloc(pids, (cap = cap ? cap * 2 : 1024) * sizeof(*pids));

			if (!np)
				break;
			pids = np;
		}
		pids[n++] = (uint32_t)strtoul(de->d_name, NULL, 10);
	}
	closedir(d);
	qsort(pids, n, sizeof(*pids), cmp_pid);
	for (size_t i = 0; i < n; i++)
		scan_pid(p, pids[i]);
	free(pids);
	return p;
}

void inventory__procs_free(struct inventory_procs *p)
{
	struct ino_owner *o, *tmp;

	if (!p)
		return;
	HASH_ITER(hh, p->by_ino, o, tmp) {
		HASH_DEL(p->by_ino, o);
		free(o);
	}
	free(p);
}

void inventory__owner_of(const struct inventory_procs *p, uint64_t ino, struct pw_task_rec *t)
{
	struct ino_owner *o;

	if (!p || !ino)
		return;
	HASH_FIND(hh, p->by_ino, &ino, sizeof(ino), o);
	if (!o)
		return;
	t->pid = t->tgid = o->tgid;
	t->uid = o->uid;
	t->euid = o->euid;
	memcpy(t->comm, o->comm, sizeof(t->comm));
}
