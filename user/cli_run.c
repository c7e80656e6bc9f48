// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "daemon.h"
#include "log.h"
#include "run_opts.h"

int cmd_run(int argc, char **argv)
{
	struct daemon_opts opts;
	struct daemon d;
	int err;

	err = run_opts__parse(argc, argv, &opts);
	if (err == PW_OPTS_HELP) {
		run_opts__usage(stdout);
		return 0;
	}
	if (err)
		return 2;
	if (cli__require_bpf())
		return 1;
	loader__setup_libbpf_log();
	err = daemon__init(&d, &opts);
	if (!err)
		err = daemon__run(&d);
	daemon__fini(&d);
	return err ? 1 : 0;
}
