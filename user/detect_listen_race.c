// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * listen_race: two owners' TCP sockets bound to overlapping addresses of
 * one port before either listens (SO_REUSEADDR on both allows it across
 * uids). The first to listen() wins; the loser's listen() fails with
 * EADDRINUSE, which no cgroup hook sees (the state tracepoint shows it as
 * CLOSE->LISTEN->CLOSE). Active while both sockets live. A socket that
 * joins a port where the other already listens is not a race (the kernel
 * checked it against the listener): the other claimers judge it.
 */
#include <netinet/in.h>
#include "detect_pair_common.h"

static json_t *evidence(const struct pair *p)
{
	json_t *ev = pair_evidence(p, "bound_before_listen");
	json_t *listening = json_array();

	if (p->a->listening)
		json_array_append_new(listening, json_integer((json_int_t)p->a->cookie));
	if (p->b->listening)
		json_array_append_new(listening, json_integer((json_int_t)p->b->cookie));
	json_object_set_new(ev, "listening", listening);
	return ev;
}

bool detect_listen_race__pair(struct detect *d, const struct pair *p)
{
	if (p->a->key.proto != IPPROTO_TCP || (p->rel != REL_SAME && p->rel != REL_SHADOW))
		return false;
	if (!detect__bound_before_listen(p))
		return false;
	pair_assert(d, PW_FK_LISTEN_RACE, p, evidence);
	return true;
}
