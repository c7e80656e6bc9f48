/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Building blocks of the pair findings (sockets array, options evidence). */
#ifndef PW_DETECT_PAIR_COMMON_H
#define PW_DETECT_PAIR_COMMON_H

#include <netinet/in.h>
#include "detect_internal.h"
#include "journal.h"

static inline json_t *pair_sockets(const struct pair *p)
{
	json_t *arr = json_array();

	json_array_append_new(arr, pw_json_sock(p->a));
	json_array_append_new(arr, pw_json_sock(p->b));
	return arr;
}

/* Which options let the kernel accept the second socket. */
static inline const char *pair_enabler(const struct pair *p)
{
	uint8_t both = p->a->flags & p->b->flags;

	if (p->rel == REL_FAMILY_GAP)
		return "no option needed: the sockets are in different address families";
	if ((both & PW_F_REUSEPORT) && p->same_uid)
		return "SO_REUSEPORT on both sockets, same uid: one reuseport group";
	if ((both & PW_F_REUSEADDR) && p->a->key.proto == IPPROTO_UDP)
		return "SO_REUSEADDR on both UDP sockets";
	if ((both & PW_F_REUSEADDR) && (!p->a->listening || !p->b->listening))
		return "SO_REUSEADDR on both TCP sockets, bound before either listened";
	if (both & PW_F_REUSEPORT)
		return "SO_REUSEPORT on both sockets";
	if (both & PW_F_REUSEADDR)
		return "SO_REUSEADDR on both sockets";
	return "no sharing option on both sockets: the kernel let them coexist";
}

/* Evidence every pair finding carries. */
static inline json_t *pair_evidence(const struct pair *p, const char *vector)
{
	json_t *ev = json_object();
	json_t *opts = json_array();

	json_array_append_new(opts, detect__flags_evidence(p->a));
	json_array_append_new(opts, detect__flags_evidence(p->b));
	json_object_set_new(ev, "vector", json_string(vector));
	json_object_set_new(ev, "enabled_by", json_string(pair_enabler(p)));
	json_object_set_new(ev, "options", opts);
	json_object_set_new(ev, "addresses", detect__addresses(p->a, p->b));
	json_object_set_new(ev, "uids", json_pack("[I, I]", (json_int_t)p->a->owner.uid,
						  (json_int_t)p->b->owner.uid));
	json_object_set_new(ev, "first_bound", json_integer((json_int_t)p->a->cookie));
	return ev;
}

/* Raise (or re-assert) the pair incident @k on @p. */
static inline void pair_assert(struct detect *d, enum pw_finding_kind k, const struct pair *p,
			       json_t *(*evidence)(const struct pair *p))
{
	char dedup[PW_DEDUP_LEN];

	detect__dedup(dedup, k, &p->a->key, p->ha, p->hb, true);
	if (detect__seen(d, k, dedup))
		return;
	detect__raise(d, k, &p->a->key, dedup, p->ha, p->hb, pair_sockets(p), evidence(p), false);
}

#endif
