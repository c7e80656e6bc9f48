// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `portwarden check`: kernel features and the hook tier chosen per family. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "cli.h"
#include "loader.h"
#include "log.h"

int cmd_check(int argc, char **argv)
{
	struct loader_opts lo = {};
	struct loader *l = NULL;
	struct utsname u;
	int err;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: portwarden check [--force-tier FAM=T ...]\n\n"
		       "Load and attach every hook family the way `run` would, print the tier\n"
		       "chosen per family and why better tiers were refused, then detach.\n\n"
		       "Examples:\n  portwarden check\n  portwarden check --force-tier bind=C\n");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force-tier") && i + 1 < argc &&
		    !pw_parse_force_tier(argv[i + 1], lo.forced)) {
			i++;
			continue;
		}
		pr_err("invalid argument '%s' (see 'portwarden check --help')\n", argv[i]);
		return 2;
	}
	uname(&u);
	printf("kernel: %s %s\n", u.release, u.machine);
	printf("btf: %s\n", access("/sys/kernel/btf/vmlinux", R_OK) ? "missing" : "yes");
	if (cli__require_bpf())
		return 1;
	loader__setup_libbpf_log();
	err = loader__open(&lo, &l);
	if (err)
		return 1;
	printf("cgroup: %s\n", loader__cgroup_path(l));
	for (int f = 0; f < PW_FAM_MAX; f++) {
		enum pw_tier t = loader__tier(l, f);

		printf("%-10s tier %c\n", pw_family_name_of(f), pw_tier_letter(t));
		for (int b = PW_TIER_A; b <= PW_TIER_C; b++) {
			if (t != PW_TIER_NONE && b >= (int)t)
				break;
			printf("  %c refused: %s\n", pw_tier_letter(b), loader__reason(l, f, b));
		}
	}
	loader__destroy(l);
	return 0;
}
