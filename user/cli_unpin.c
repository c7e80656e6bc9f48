// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `portwarden unpin DIR`: end pinned (persistent) enforcement. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "enforce.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: portwarden unpin DIR\n"
		   "\n"
		   "Remove the enforcement links that 'portwarden run --pin DIR' left in bpffs, so\n"
		   "binds are no longer refused once no daemon holds them. DIR is removed if empty.\n"
		   "\n"
		   "Examples:\n"
		   "  portwarden unpin /sys/fs/bpf/portwarden\n");
}

int cmd_unpin(int argc, char **argv)
{
	unsigned int n;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	err = enforce__unpin(argv[1], &n);
	if (err) {
		fprintf(stderr, "Error: failed to unpin '%s': %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("removed %u pinned enforcement link%s from %s\n", n, n == 1 ? "" : "s", argv[1]);
	return 0;
}
