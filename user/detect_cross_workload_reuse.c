// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cross_workload_reuse: the same uid, but another workload (cgroup /
 * container / executable) on the same address of one port: typically a
 * stranger joining a SO_REUSEPORT group, which the kernel allows to any
 * process of the group's uid. A server's own workers are one workload.
 */
#include <string.h>
#include "detect_pair_common.h"

static json_t *evidence(const struct pair *p)
{
	json_t *ev = pair_evidence(p, "reuseport_join");
	json_t *differs = json_array();
	const struct pw_owner *a = &p->a->owner, *b = &p->b->owner;

	if (strcmp(a->cgroup, b->cgroup) || a->cgroup_id != b->cgroup_id)
		json_array_append_new(differs, json_string("cgroup"));
	if (strcmp(a->container, b->container))
		json_array_append_new(differs, json_string("container"));
	if (strcmp(a->exe, b->exe))
		json_array_append_new(differs, json_string("exe"));
	json_object_set_new(ev, "differs", differs);
	return ev;
}

bool detect_cross_workload_reuse__pair(struct detect *d, const struct pair *p)
{
	if (!p->same_uid || p->rel != REL_SAME)
		return false;
	pair_assert(d, PW_FK_CROSS_WORKLOAD_REUSE, p, evidence);
	return true;
}
