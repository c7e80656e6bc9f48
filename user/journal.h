/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JSON-lines stream: one object per line, to stdout or a file, for
 * security agents and log shippers. Schema in README.md ("JSON stream").
 */
#ifndef PW_JOURNAL_H
#define PW_JOURNAL_H

#include <jansson.h>
#include <stdint.h>
#include "ledger.h"
#include "portwarden_abi.h"

struct journal;

/* path NULL or "-": stdout. */
int journal__open(const char *path, struct journal **ret);
void journal__close(struct journal *j);
/* Writes and frees @obj (a complete line). Write failures are counted. */
void journal__emit(struct journal *j, json_t *obj);
/* A line already encoded (one JSON object, no newline); NULL counts as a failure. */
void journal__emit_text(struct journal *j, const char *line, size_t n);
void journal__flush(struct journal *j);
uint64_t journal__lines(const struct journal *j);
uint64_t journal__failures(const struct journal *j);

/* Builders shared by every JSON output (events, findings, /ports, ports --json). */
json_t *pw_json_owner(const struct pw_owner *o);
json_t *pw_json_flags(uint8_t flags);
json_t *pw_json_sock(const struct ledger_sock *s);
/* json_string(), or with bytes outside ASCII as \\xNN when @s is not UTF-8. */
json_t *pw_json_text(const char *s);
void pw_json_set_time(json_t *obj, const char *key, int64_t wall_ns);

#endif
