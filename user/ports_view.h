/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Rendering of the ledger by port: `portwarden ports` and the HTTP /ports view. */
#ifndef PW_PORTS_VIEW_H
#define PW_PORTS_VIEW_H

#include <jansson.h>
#include <stdio.h>
#include "ledger.h"

struct ports_filter {
	uint32_t netns; /* 0: all */
	uint16_t port;	/* 0: all */
	uint8_t proto;	/* 0: all */
};

/* {"ports":[{"netns","proto","port","owners","sockets":[...]}]} sorted by key. */
json_t *ports_view__json(struct ledger *l, const struct ports_filter *f);
void ports_view__table(FILE *out, struct ledger *l, const struct ports_filter *f);

#endif
