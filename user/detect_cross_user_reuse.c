// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cross_user_reuse: two live sockets of different uids (sk_uid) on the same
 * address of one port: both receive its traffic (UDP with SO_REUSEADDR on
 * both: the socket bound last gets everything).
 */
#include "detect_pair_common.h"

static json_t *evidence(const struct pair *p)
{
	return pair_evidence(p, "shared_port");
}

bool detect_cross_user_reuse__pair(struct detect *d, const struct pair *p)
{
	if (p->same_uid || p->rel != REL_SAME)
		return false;
	pair_assert(d, PW_FK_CROSS_USER_REUSE, p, evidence);
	return true;
}
