/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * reuseport_skew: a SO_REUSEPORT group whose members do not share the load
 * uniformly (a client steering the hash onto one worker, a starved worker).
 * Judged per group over the sliding window of rp_groups: enough samples,
 * the busiest member's count against the mean, and a chi-square test of the
 * counts against the uniform split. Tier A adds the sources that dominate
 * the busiest member as evidence.
 */
#ifndef PW_DETECT_REUSEPORT_SKEW_H
#define PW_DETECT_REUSEPORT_SKEW_H

#include <stdbool.h>
#include <stdint.h>
#include "findings.h"
#include "ledger.h"
#include "rp_groups.h"

/* Is @v skewed under @c? (Pure: the unit tests call it.) */
bool detect_reuseport_skew__judge(const struct rp_group_view *v, const struct rp_config *c);

/*
 * Raise a finding per skewed group, end those that balanced out, went quiet
 * or disappeared. @tier is the reuseport hook tier letter ('A', 'B', 'C' or '-').
 */
void detect_reuseport_skew__run(struct findings *fs, struct ledger *l, struct rp_groups *g,
				const struct rp_config *c, char tier, int64_t now_ns);

#endif
