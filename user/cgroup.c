// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "cgroup.h"
#include "log.h"

int pw_cgroup2_root(char *buf, size_t len)
{
	static const char fallback[] = "/sys/fs/cgroup/unified";
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "re");

	if (f) {
		while ((m = getmntent(f))) {
			if (!strcmp(m->mnt_type, "cgroup2")) {
				snprintf(buf, len, "%s", m->mnt_dir);
				endmntent(f);
				return 0;
			}
		}
		endmntent(f);
	}
	mkdir(fallback, 0755);
	if (mount("cgroup2", fallback, "cgroup2", 0, NULL))
		return -errno;
	pr_info("mounted cgroup2 at %s\n", fallback);
	snprintf(buf, len, "%s", fallback);
	return 0;
}

int pw_cgroup_level(const char *path)
{
	char root[256], real[4096];
	const char *rel;
	size_t n;
	int level = 0;

	if (pw_cgroup2_root(root, sizeof(root)) || !realpath(path, real))
		return -EINVAL;
	n = strlen(root);
	if (strncmp(real, root, n) || (real[n] && real[n] != '/'))
		return -EINVAL;
	for (rel = real + n; *rel; rel++)
		if (*rel == '/' && rel[1] && rel[1] != '/')
			level++;
	return level;
}
