// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The [daemon] and [hooks] sections: the daemon's own knobs. Command-line
 * flags win over the file; the file wins over the embedded defaults.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "log.h"
#include "pw_config.h"
#include "util.h"

int daemon_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct pw_daemon_config *c = target;
	int64_t secs;
	long v;

	if (!strcmp(l->key, "events")) {
		if (!*l->value)
			return config__error(l, err, errlen, "events needs a path or '-'");
		free(c->events);
		c->events = strdup(l->value);
		return c->events ? 0 : -ENOMEM;
	}
	if (!strcmp(l->key, "poll_ms")) {
		if (pw_parse_long(l->value, 1, 10000, &v))
			return config__error(l, err, errlen, "poll_ms: 1 to 10000, got '%s'",
					     l->value);
		c->poll_ms = (int)v;
		return 0;
	}
	if (!strcmp(l->key, "max_sockets")) {
		if (pw_parse_long(l->value, 1, 100000000, &v))
			return config__error(l, err, errlen, "max_sockets: 1 to 100000000, got '%s'",
					     l->value);
		c->max_sockets = (size_t)v;
		return 0;
	}
	if (!strcmp(l->key, "ringbuf_size")) {
		if (pw_parse_long(l->value, 4096, 1L << 30, &v) || (v & (v - 1)))
			return config__error(l, err, errlen,
					     "ringbuf_size: a power of two from 4096 to 1073741824, "
					     "got '%s'",
					     l->value);
		c->ringbuf_bytes = (uint32_t)v;
		return 0;
	}
	if (!strcmp(l->key, "reconcile_interval")) {
		if (pw_parse_duration(l->value, &secs))
			return config__error(l, err, errlen,
					     "reconcile_interval: a duration (0 = off, 90s, 5m), "
					     "got '%s'",
					     l->value);
		c->reconcile_interval_ns = secs * 1000000000;
		c->reconcile_set = true;
		return 0;
	}
	if (!strcmp(l->key, "quiet_existing")) {
		if (pw_parse_bool(l->value, &c->quiet_existing))
			return config__error(l, err, errlen, "quiet_existing: yes or no, got '%s'",
					     l->value);
		return 0;
	}
	if (!strcmp(l->key, "log_level")) {
		static const char *const names[] = { "error", "warn", "info", "debug" };

		for (int i = 0; i < 4; i++) {
			if (!strcmp(l->value, names[i])) {
				c->log_level = i + 1;
				return 0;
			}
		}
		return config__error(l, err, errlen,
				     "log_level: error, warn, info or debug, got '%s'", l->value);
	}
	return config__error(l, err, errlen, "unknown key '%s' in [daemon]", l->key);
}

int hooks_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct pw_daemon_config *c = target;
	char spec[64];

	if (!strcmp(l->value, "auto"))
		return 0;
	snprintf(spec, sizeof(spec), "%s=%s", l->key, l->value);
	if (pw_parse_force_tier(spec, c->hooks))
		return config__error(l, err, errlen,
				     "'%s = %s': expected a hook family (bind, lifecycle, inventory, "
				     "reuseport) = auto, A, B or C",
				     l->key, l->value);
	return 0;
}

void daemon_config__defaults(struct pw_daemon_config *c)
{
	memset(c, 0, sizeof(*c));
	c->reconcile_interval_ns = PW_DEFAULT_RECONCILE_NS;
}

void daemon_config__free(struct pw_daemon_config *c)
{
	free(c->events);
	c->events = NULL;
}

void daemon_config__apply(const struct pw_daemon_config *c, struct daemon_opts *o)
{
	if (!o->events_path && c->events)
		o->events_path = c->events;
	if (!o->poll_ms)
		o->poll_ms = c->poll_ms;
	if (!o->max_socks)
		o->max_socks = c->max_sockets;
	if (!o->loader.ringbuf_bytes)
		o->loader.ringbuf_bytes = c->ringbuf_bytes;
	if (!o->reconcile_set) {
		o->reconcile_interval_ns = c->reconcile_interval_ns;
		o->reconcile_set = true;
	}
	o->quiet_existing |= c->quiet_existing;
	if (c->log_level && pw_log_level != PW_LOG_DEBUG)
		pw_log_level = (enum pw_log_level)(c->log_level - 1);
	for (int f = 0; f < PW_FAM_MAX; f++)
		if (o->loader.forced[f] == PW_TIER_NONE)
			o->loader.forced[f] = c->hooks[f];
}
