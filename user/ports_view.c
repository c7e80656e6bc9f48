// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "journal.h"
#include "ports_view.h"
#include "util.h"

static int cmp_port(const void *a, const void *b)
{
	const struct ledger_port *x = *(struct ledger_port *const *)a;
	const struct ledger_port *y = *(struct ledger_port *const *)b;

	if (x->key.netns != y->key.netns)
		return x->key.netns < y->key.netns ? -1 : 1;
	if (x->key.proto != y->key.proto)
		return x->key.proto < y->key.proto ? -1 : 1;
	return (int)x->key.port - (int)y->key.port;
}

static bool match(const struct ledger_port *p, const struct ports_filter *f)
{
	return (!f->netns || p->key.netns == f->netns) && (!f->port || p->key.port == f->port) &&
	       (!f->proto || p->key.proto == f->proto);
}

/* Ports matching @f, sorted; caller frees. */
static struct ledger_port **sorted_ports(struct ledger *l, const struct ports_filter *f,
					 size_t *ret_n)
{
	size_t n = 0, cap = HASH_COUNT(l->ports);
	struct ledger_port **v = calloc(cap ? cap : 1, sizeof(*v));
	struct ledger_port *p, *tmp;

	if (!v)
		return NULL;
	HASH_ITER(hh, l->ports, p, tmp)
		if (match(p, f))
			v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_port);
	*ret_n = n;
	return v;
}

/* Distinct socket uids on a port: more than one means cross-user sharing. */
static unsigned int distinct_uids(const struct ledger_port *p)
{
	unsigned int n = 0;

	for (struct ledger_sock *s = p->socks; s; s = s->port_next) {
		bool seen = false;

		for (struct ledger_sock *t = p->socks; t != s; t = t->port_next)
			seen |= t->owner.uid == s->owner.uid;
		n += !seen;
	}
	return n;
}

json_t *ports_view__json(struct ledger *l, const struct ports_filter *f)
{
	json_t *arr = json_array();
	struct ledger_port **v;
	size_t n = 0;

	v = sorted_ports(l, f, &n);
	for (size_t i = 0; v && i < n; i++) {
		json_t *socks = json_array();

		for (struct ledger_sock *s = v[i]->socks; s; s = s->port_next)
			json_array_append_new(socks, pw_json_sock(s));
		json_array_append_new(arr, json_pack("{s:I, s:s, s:i, s:i, s:o}", "netns",
						     (json_int_t)v[i]->key.netns, "proto",
						     pw_proto_name(v[i]->key.proto), "port",
						     (int)v[i]->key.port, "uids",
						     (int)distinct_uids(v[i]), "sockets", socks));
	}
	free(v);
	return json_pack("{s:o}", "ports", arr);
}

static void flags_text(uint8_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", flags & PW_F_REUSEADDR ? "A" : "-",
		 flags & PW_F_REUSEPORT ? "P" : "-", flags & PW_F_V6ONLY ? "6" : "-",
		 flags & PW_F_GROUP ? "G" : "-");
}

void ports_view__table(FILE *out, struct ledger *l, const struct ports_filter *f)
{
	struct ledger_port **v;
	size_t n = 0;

	v = sorted_ports(l, f, &n);
	fprintf(out, "%-5s %-10s %-40s %-9s %-5s %6s %7s %-15s %s\n", "PROTO", "NETNS",
		"LOCAL", "STATE", "FLAGS", "UID", "PID", "COMM", "EXE");
	for (size_t i = 0; v && i < n; i++) {
		for (struct ledger_sock *s = v[i]->socks; s; s = s->port_next) {
			char addr[PW_ADDRSTRLEN], local[64], fl[8];

			pw_format_addr(s->family, s->addr, addr, sizeof(addr));
			snprintf(local, sizeof(local), s->family == 10 ? "[%s]:%u" : "%s:%u", addr,
				 s->key.port);
			flags_text(s->flags, fl, sizeof(fl));
			fprintf(out, "%-5s %-10u %-40s %-9s %-5s %6u %7u %-15s %s\n",
				pw_proto_name(s->key.proto), s->key.netns, local,
				s->listening ? "LISTEN" : "BOUND", fl, s->owner.uid, s->owner.tgid,
				s->owner.comm[0] ? s->owner.comm : "-",
				s->owner.exe[0] ? s->owner.exe : "-");
		}
	}
	fprintf(out, "FLAGS: A=SO_REUSEADDR P=SO_REUSEPORT 6=IPV6_V6ONLY G=in a reuseport group\n");
	free(v);
}
