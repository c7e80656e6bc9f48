// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shadowing: another owner wins part of a port's traffic without sharing
 * its address: a specific address inside a wildcard holder's range (the
 * more specific socket wins the lookup), or the other address family of
 * the port (IPv4 service beside a stranger on [::] v6only, or the reverse).
 * TCP sockets that are not both listening yet are a listen race instead.
 */
#include <netinet/in.h>
#include <string.h>
#include "detect_pair_common.h"
#include "util.h"

static json_t *evidence(const struct pair *p)
{
	const char *vector = p->rel == REL_FAMILY_GAP ? "address_family_gap" :
							"specific_over_wildcard";
	json_t *ev = pair_evidence(p, vector);
	const struct ledger_sock *spec = ledger_sock_is_wildcard(p->a) ? p->b : p->a;

	if (p->rel == REL_SHADOW) {
		json_object_set_new(ev, "specific", json_integer((json_int_t)spec->cookie));
		json_object_set_new(ev, "wildcard",
				    json_integer((json_int_t)(spec == p->a ? p->b : p->a)->cookie));
	} else {
		const struct ledger_sock *v4 = p->a->family == AF_INET ? p->a : p->b;

		json_object_set_new(ev, "ipv4", json_integer((json_int_t)v4->cookie));
		json_object_set_new(ev, "ipv6",
				    json_integer((json_int_t)(v4 == p->a ? p->b : p->a)->cookie));
	}
	return ev;
}

bool detect_shadowing__pair(struct detect *d, const struct pair *p)
{
	if (p->rel == REL_SHADOW && p->a->key.proto == IPPROTO_TCP &&
	    detect__bound_before_listen(p))
		return false; /* a listen race: only one of them can listen */
	if (p->rel != REL_SHADOW && p->rel != REL_FAMILY_GAP)
		return false;
	pair_assert(d, PW_FK_SHADOWING, p, evidence);
	return true;
}
