// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <unistd.h>
#include "cli.h"
#include "log.h"

int cli__require_bpf(void)
{
	if (geteuid() != 0) {
		pr_err("portwarden needs root (or CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and "
		       "CAP_SYS_ADMIN) to load its BPF programs\n");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("the kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing): "
		       "portwarden needs CONFIG_DEBUG_INFO_BTF=y\n");
		return -ENOENT;
	}
	return 0;
}
