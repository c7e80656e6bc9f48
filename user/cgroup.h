/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PW_CGROUP_H
#define PW_CGROUP_H
#include <stddef.h>

/*
 * Find the cgroup v2 mount (from /proc/self/mounts); mount one at
 * /sys/fs/cgroup/unified when there is none. 0 or -errno.
 */
int pw_cgroup2_root(char *buf, size_t len);

/* Depth of @path below the cgroup v2 root (the root is 0), -EINVAL if not under it. */
int pw_cgroup_level(const char *path);

#endif
