// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The `[section]` table of the config file and the load/free of the whole
 * struct pw_config. A module adds one line to each of: the table, init, free.
 */
#include <stddef.h>
#include <string.h>
#include "pw_config.h"

const struct config_section pw_config_sections[] = {
	{ "daemon", daemon_config__section, offsetof(struct pw_config, daemon) },
	{ "hooks", hooks_config__section, offsetof(struct pw_config, daemon) },
	{ "detect", detect_config__section, offsetof(struct pw_config, detect) },
	{ "allow", allow_config__section, offsetof(struct pw_config, allow) },
	{ "reuseport", rp_config__section, offsetof(struct pw_config, reuseport) },
	{ "enforce", enforce_config__section, offsetof(struct pw_config, enforce) },
	{ "protect", protect_config__section, offsetof(struct pw_config, enforce) },
	{ "store", store_config__section, offsetof(struct pw_config, store) },
	{ "http", http__config_section, offsetof(struct pw_config, http) },
	{},
};

void pw_config__init(struct pw_config *c)
{
	memset(c, 0, sizeof(*c));
	daemon_config__defaults(&c->daemon);
	detect_config__defaults(&c->detect);
	rp_config__defaults(&c->reuseport);
	enforce_config__defaults(&c->enforce);
}

void pw_config__free(struct pw_config *c)
{
	if (!c)
		return;
	daemon_config__free(&c->daemon);
	allow_config__free(&c->allow);
	store_config__free(&c->store);
	enforce_config__free(&c->enforce);
	pw_config__init(c);
}

int pw_config__load_string(const char *text, const char *name, struct pw_config *ret, char *err,
			   size_t errlen)
{
	int rc;

	pw_config__init(ret);
	rc = config__parse_string(text, name, pw_config_sections, ret, err, errlen);
	if (rc)
		pw_config__free(ret);
	return rc;
}

int pw_config__load(const char *path, struct pw_config *ret, char *err, size_t errlen)
{
	int rc;

	pw_config__init(ret);
	rc = config__parse_file(path, pw_config_sections, ret, err, errlen);
	if (rc)
		pw_config__free(ret);
	return rc;
}
