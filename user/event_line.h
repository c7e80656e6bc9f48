/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JSON line of one socket event (bind, close, listen, ...): the daemon's
 * hottest output, one or two per bind() on the host. event_json() builds it
 * with jansson; event_line() writes the very same bytes (a unit test holds
 * the two to that, field by field, strings included) without building a tree:
 * jansson's object building and dumping were 90% of the daemon's CPU per
 * event. Strings with bytes outside ASCII still go through jansson.
 */
#ifndef PW_EVENT_LINE_H
#define PW_EVENT_LINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "daemon.h"
#include "strbuf.h"

/* The event as a jansson object ("reconciled": true when @reconciled). */
json_t *event_json(const struct pw_ev *ev, bool reconciled);
/*
 * The same, compact and ASCII-only (JSON_COMPACT | JSON_ENSURE_ASCII), into
 * @b (reset first). False when @b ran out of memory.
 */
bool event_line(const struct pw_ev *ev, bool reconciled, struct pw_strbuf *b);

#endif
