// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The `[store]` section of the config file: where the history lives and how much it keeps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pw_config.h"
#include "store.h"
#include "util.h"

int store_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct pw_store_config *c = target;
	int64_t secs;
	long v;

	if (!strcmp(l->key, "db")) {
		char *p;

		if (!*l->value)
			return config__error(l, err, errlen, "db: expected a path or 'none'");
		p = strdup(l->value);
		if (!p)
			return -ENOMEM;
		free(c->db);
		c->db = p;
	} else if (!strcmp(l->key, "retention")) {
		if (pw_parse_duration(l->value, &secs) || secs <= 0)
			return config__error(l, err, errlen,
					     "retention: expected a duration such as 30d or 12h, "
					     "got '%s'",
					     l->value);
		c->retention_secs = secs;
	} else if (!strcmp(l->key, "max_rows")) {
		if (pw_parse_long(l->value, 100, 1000000000L, &v))
			return config__error(l, err, errlen,
					     "max_rows: expected 100 to 1000000000, got '%s'",
					     l->value);
		c->max_rows = (uint64_t)v;
	} else if (!strcmp(l->key, "max_bytes")) {
		if (pw_parse_long(l->value, 65536, 1L << 50, &v))
			return config__error(l, err, errlen,
					     "max_bytes: expected 65536 to 2^50 bytes, got '%s'",
					     l->value);
		c->max_bytes = (uint64_t)v;
	} else {
		return config__error(l, err, errlen,
				     "unknown key '%s' in [store] (db, retention, max_rows, "
				     "max_bytes)",
				     l->key);
	}
	return 0;
}

void store_config__free(struct pw_store_config *c)
{
	if (!c)
		return;
	free(c->db);
	memset(c, 0, sizeof(*c));
}

void store_config__apply(const struct pw_store_config *c, struct store_opts *o)
{
	/* Command-line options win over the file. */
	if (!o->path)
		o->path = c->db;
	if (!o->retention_secs)
		o->retention_secs = c->retention_secs;
	if (!o->max_rows)
		o->max_rows = c->max_rows;
	if (!o->max_bytes)
		o->max_bytes = c->max_bytes;
}
