// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* portwarden: who binds which port, and port hijacking as it happens. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "run the daemon: capture binds, keep the ledger, raise findings" },
	{ "ports", cmd_ports, "show the live owners of every bound TCP/UDP port" },
	{ "history", cmd_history, "who held a port when, bind attempts and findings, from the SQLite history" },
	{ "check", cmd_check, "show kernel features and the hook tier chosen per family" },
	{ "unpin", cmd_unpin, "end pinned enforcement (portwarden run --pin DIR)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: portwarden COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'portwarden COMMAND --help' for a command's options and examples.\n"
		   "\nExamples:\n"
		   "  portwarden run --events /var/log/portwarden/events.jsonl\n"
		   "  portwarden ports --json\n"
		   "  portwarden check\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("portwarden %s\n", PW_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "Error: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
