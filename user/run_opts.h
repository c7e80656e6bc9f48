/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `portwarden run` flags -> daemon options (separate so tests can call it). */
#ifndef PW_RUN_OPTS_H
#define PW_RUN_OPTS_H

#include "daemon.h"

/* 0, PW_OPTS_HELP when --help was given, or -EINVAL (message printed). */
#define PW_OPTS_HELP 1
int run_opts__parse(int argc, char **argv, struct daemon_opts *o);
void run_opts__usage(FILE *f);

#endif
