// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `portwarden ports`: the live owner table, without the daemon: one
 * iterator pass over the kernel's TCP and UDP tables plus /proc for owners.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "events.h"
#include "daemon.h"
#include "inventory.h"
#include "log.h"
#include "ports_view.h"
#include "util.h"

struct collect {
	struct ledger *ledger;
	struct inventory_procs *procs;
	struct pw_event_stats stats;
};

static void on_record(void *ctx, const void *data, size_t len)
{
	struct collect *c = ctx;
	struct pw_event rec;
	struct pw_ev ev;

	if (events__decode(data, len, &rec, &c->stats))
		return;
	inventory__owner_of(c->procs, rec.sock.ino, &rec.task);
	daemon__ev_from_record(&rec, &ev);
	ev.sock.bound_ns = 0; /* unknown for sockets we did not see bind */
	ledger__upsert(c->ledger, &ev.sock, NULL);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: portwarden ports [--json] [--netns INUM] [--port P] [--proto tcp|udp]\n"
		   "\n"
		   "List every TCP listener and bound UDP socket with its owner, read from the\n"
		   "kernel by BPF iterators (no daemon needed). Owners of sockets come from\n"
		   "/proc/PID/fd; FLAGS shows SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY, group.\n"
		   "\n"
		   "Examples:\n"
		   "  portwarden ports\n"
		   "  portwarden ports --json --port 53 --proto udp\n"
		   "  portwarden ports --netns $(stat -Lc %%i /proc/$PID/ns/net)\n");
}

int cmd_ports(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },   { "netns", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' }, { "proto", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },   {},
	};
	struct loader_opts lo = { .inventory_only = true };
	struct ports_filter f = {};
	struct collect c = {};
	struct loader *l = NULL;
	bool json = false;
	int ch, err, rc = 1;
	long v;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'n':
			if (pw_parse_long(optarg, 1, 0xffffffffL, &v)) {
				pr_err("invalid --netns '%s': a namespace inode number\n", optarg);
				return 2;
			}
			f.netns = (uint32_t)v;
			break;
		case 'p':
			if (pw_parse_long(optarg, 1, 65535, &v)) {
				pr_err("invalid --port '%s': 1 to 65535\n", optarg);
				return 2;
			}
			f.port = (uint16_t)v;
			break;
		case 'P':
			if (pw_parse_proto(optarg, &f.proto)) {
				pr_err("invalid --proto '%s': tcp or udp\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			pr_err("unknown or incomplete option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (cli__require_bpf())
		return 1;
	loader__setup_libbpf_log();
	err = loader__open(&lo, &l);
	if (err)
		return 1;
	c.ledger = ledger__new(100000000);
	c.procs = inventory__scan_procs();
	err = c.ledger ? loader__inventory(l, on_record, &c) : -ENOMEM;
	if (err) {
		pr_err("failed to read the socket tables: %s\n", strerror(-err));
		goto cleanup;
	}
	if (json) {
		json_t *o = ports_view__json(c.ledger, &f);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		ports_view__table(stdout, c.ledger, &f);
	}
	rc = 0;
cleanup:
	inventory__procs_free(c.procs);
	ledger__free(c.ledger);
	loader__destroy(l);
	return rc;
}
