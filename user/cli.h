/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands: one file each (cli_<name>.c), dispatched from main.c. */
#ifndef PW_CLI_H
#define PW_CLI_H

int cmd_run(int argc, char **argv);
int cmd_ports(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_unpin(int argc, char **argv);

/* Common preconditions of every command that loads BPF: root, BTF. */
int cli__require_bpf(void);

#endif
