// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * wildcard_exposure: a TCP listener or a bound UDP socket on 0.0.0.0 / ::
 * that [allow] wildcard does not list (by port or by owner). Active while
 * the socket lives.
 */
#include <netinet/in.h>
#include "detect_internal.h"
#include "journal.h"

void detect_wildcard_exposure__sock(struct detect *d, const struct ledger_sock *s)
{
	char dedup[PW_DEDUP_LEN];
	uint64_t h;
	json_t *ev;

	if (!ledger_sock_is_wildcard(s) || (s->key.proto == IPPROTO_TCP && !s->listening))
		return;
	if (detect__wildcard_allowed(d, s))
		return;
	h = detect__owner_hash(&s->owner);
	detect__dedup(dedup, PW_FK_WILDCARD_EXPOSURE, &s->key, h, 0, false);
	if (detect__seen(d, PW_FK_WILDCARD_EXPOSURE, dedup))
		return;
	ev = json_object();
	json_object_set_new(ev, "vector", json_string("wildcard_listener"));
	json_object_set_new(ev, "addresses", detect__addresses(s, NULL));
	json_object_set_new(ev, "options", json_pack("[o]", detect__flags_evidence(s)));
	detect__raise(d, PW_FK_WILDCARD_EXPOSURE, &s->key, dedup, h, 0,
		      json_pack("[o]", pw_json_sock(s)), ev, false);
}
