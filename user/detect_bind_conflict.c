// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bind_conflict: a bind() that failed (EADDRINUSE / EACCES) on a port held
 * by another owner: a live socket of the ledger, or the leftover
 * (TIME_WAIT / FIN_WAIT2) of a service another owner released within the
 * takeover window. An event, not a state: raised and ended at once, and a
 * rebind loop within findings' one-shot window stays one finding.
 */
#include <errno.h>
#include <string.h>
#include "daemon.h"
#include "detect_internal.h"
#include "journal.h"
#include "util.h"

void detect_bind_conflict__failed(struct detect *d, const struct pw_ev *ev)
{
	const struct ledger_sock *a = &ev->sock, *holder = NULL;
	const struct released *rel = NULL;
	struct ledger_port *p;
	char dedup[PW_DEDUP_LEN];
	uint64_t ha, hh;
	json_t *e;

	if (ev->err != EADDRINUSE && ev->err != EACCES)
		return;
	p = ledger__port(d->ledger, &a->key);
	for (const struct ledger_sock *s = p ? p->socks : NULL; s; s = s->port_next) {
		if (s->cookie == a->cookie || owner__same_workload(&s->owner, &a->owner))
			continue;
		/* Prefer the holder whose address the attempt collided with. */
		if (detect__overlap(s, a)) {
			holder = s;
			break;
		}
		if (!holder)
			holder = s;
	}
	if (!holder) {
		rel = detect_takeover__find_released(d, a);
		if (!rel)
			return;
		holder = &rel->sock;
	}
	if (detect__share_allowed(d, &a->key, &holder->owner, &a->owner)) {
		d->stats.allowed++;
		return;
	}
	ha = detect__owner_hash(&a->owner);
	hh = detect__owner_hash(&holder->owner);
	detect__dedup(dedup, PW_FK_BIND_CONFLICT, &a->key, hh, ha, false);
	e = json_object();
	json_object_set_new(e, "vector", json_string(rel ? "bind_on_released_port" :
							    "bind_on_held_port"));
	json_object_set_new(e, "errno", json_string(pw_errno_name(ev->err)));
	json_object_set_new(e, "errno_inferred", json_boolean(ev->err_inferred));
	json_object_set_new(e, "held_by", json_string(rel ? "leftover of a released service "
							  "(TIME_WAIT/FIN_WAIT2)" :
							  "live socket"));
	if (rel)
		pw_json_set_time(e, "released_at", rel->released_ns);
	json_object_set_new(e, "options", json_pack("[o, o]", detect__flags_evidence(holder),
						    detect__flags_evidence(a)));
	json_object_set_new(e, "addresses", detect__addresses(holder, a));
	json_object_set_new(e, "uids", json_pack("[I, I]", (json_int_t)holder->owner.uid,
						 (json_int_t)a->owner.uid));
	json_object_set_new(e, "holder", json_integer((json_int_t)holder->cookie));
	json_object_set_new(e, "attempt", json_integer((json_int_t)a->cookie));
	detect__raise(d, PW_FK_BIND_CONFLICT, &a->key, dedup, hh, ha,
		      json_pack("[o, o]", pw_json_sock(holder), pw_json_sock(a)), e, true);
}
