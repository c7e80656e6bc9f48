/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Decoding of ring-buffer and iterator records. The reader trusts nothing:
 * short, oversized and unknown records are rejected and counted per source.
 */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "portwarden_abi.h"

/* Index PW_SRC_MAX counts records whose source byte itself is invalid. */
struct pw_event_stats {
	uint64_t received[PW_SRC_MAX + 1];
	uint64_t rejected[PW_SRC_MAX + 1];
};

/* 0 and a copy in @out, or -EINVAL (counted in @stats). */
int events__decode(const void *data, size_t len, struct pw_event *out,
		   struct pw_event_stats *stats);

const char *events__type_name(unsigned int type);
const char *events__source_name(unsigned int source);

#endif
