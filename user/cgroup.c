// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
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
