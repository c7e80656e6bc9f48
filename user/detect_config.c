// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The [detect] (thresholds, takeover window, disabled kinds) and [allow]
 * (expected wildcard listeners and expected sharing) config sections.
 * Every value is validated here; the message names the line.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"
#include "pw_config.h"
#include "util.h"

#define NS_PER_MS 1000000ll
#define NS_PER_S 1000000000ll
/* Bounds on what a config file can grow. */
#define MAX_WILDCARD 4096
#define MAX_SHARE 4096
#define MAX_SHARE_OWNERS 64

void detect_config__defaults(struct pw_detect_config *c)
{
	memset(c, 0, sizeof(*c));
	c->takeover_window_ns = 60 * NS_PER_S;
	c->service_min_age_ns = 1 * NS_PER_S;
	c->end_grace_ns = 2 * NS_PER_S;
	c->released_max = 4096;
}

/* "250ms", "90", "90s", "5m", "2h", "7d" -> nanoseconds. */
static int parse_duration_ns(const char *s, int64_t *ret_ns)
{
	size_t n = strlen(s);
	char num[32];
	int64_t secs;
	long ms;

	if (n > 2 && !strcmp(s + n - 2, "ms") && n - 2 < sizeof(num)) {
		memcpy(num, s, n - 2);
		num[n - 2] = '\0';
		if (pw_parse_long(num, 0, 100L * 365 * 86400 * 1000, &ms))
			return -EINVAL;
		*ret_ns = (int64_t)ms * NS_PER_MS;
		return 0;
	}
	if (pw_parse_duration(s, &secs))
		return -EINVAL;
	*ret_ns = secs * NS_PER_S;
	return 0;
}

struct item_ctx {
	const struct pw_config_line *l;
	char *err;
	size_t errlen;
	void *target;
	void *extra;
};

static int disable_item(void *ctx, const char *item)
{
	struct item_ctx *c = ctx;
	struct pw_detect_config *d = c->target;
	enum pw_finding_kind k;

	if (pw_finding_kind_parse(item, &k))
		return config__error(c->l, c->err, c->errlen,
				     "unknown finding kind '%s' in 'disable' (kinds: cross_user_reuse, "
				     "cross_workload_reuse, shadowing, listen_race, takeover, "
				     "bind_conflict, wildcard_exposure, reuseport_skew)",
				     item);
	d->disabled |= 1u << k;
	return 0;
}

int detect_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct pw_detect_config *d = target;
	struct item_ctx ic = { .l = l, .err = err, .errlen = errlen, .target = d };
	int64_t ns;
	long v;

	if (!strcmp(l->key, "takeover_window") || !strcmp(l->key, "service_min_age") ||
	    !strcmp(l->key, "end_grace")) {
		if (parse_duration_ns(l->value, &ns) || ns > 7 * 86400 * NS_PER_S)
			return config__error(l, err, errlen,
					     "invalid %s '%s': a duration such as 500ms, 60s, 5m "
					     "(at most 7d)",
					     l->key, l->value);
		if (!strcmp(l->key, "takeover_window"))
			d->takeover_window_ns = ns;
		else if (!strcmp(l->key, "service_min_age"))
			d->service_min_age_ns = ns;
		else
			d->end_grace_ns = ns;
		return 0;
	}
	if (!strcmp(l->key, "released_max")) {
		if (pw_parse_long(l->value, 1, 1000000, &v))
			return config__error(l, err, errlen,
					     "invalid released_max '%s': 1 to 1000000", l->value);
		d->released_max = (unsigned int)v;
		return 0;
	}
	if (!strcmp(l->key, "disable")) {
		d->disabled = 0; /* the last 'disable' line is the list */
		return pw_foreach_item(l->value, disable_item, &ic);
	}
	return config__error(l, err, errlen,
			     "unknown key '%s' in [detect] (keys: takeover_window, service_min_age, "
			     "end_grace, released_max, disable; reuseport_skew thresholds are in "
			     "[reuseport])",
			     l->key);
}

/* ---- [allow] ------------------------------------------------------------ */

static int parse_owner_match(const char *s, struct pw_owner_match *ret)
{
	static const struct {
		const char *prefix;
		enum pw_owner_match_kind kind;
	} kinds[] = {
		{ "uid:", PW_OM_UID },		 { "exe:", PW_OM_EXE },
		{ "cgroup:", PW_OM_CGROUP },	 { "container:", PW_OM_CONTAINER },
		{ "comm:", PW_OM_COMM },
	};
	long uid;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		const char *v = s + n;

		if (strncmp(s, kinds[i].prefix, n))
			continue;
		ret->kind = kinds[i].kind;
		if (ret->kind == PW_OM_UID) {
			if (pw_parse_long(v, 0, 4294967294L, &uid))
				return -EINVAL;
			ret->uid = (uint32_t)uid;
			return 0;
		}
		if (!*v || strlen(v) >= 256 || strpbrk(v, " \t"))
			return -EINVAL;
		if (ret->kind == PW_OM_COMM && strlen(v) > 15)
			return -EINVAL;
		ret->text = strdup(v);
		return ret->text ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

/* "53", "53/udp", "*", "* /udp" (any port). */
static int parse_port_or_any(const char *s, uint16_t *ret_port, uint8_t *ret_proto)
{
	if (!strcmp(s, "*")) {
		*ret_port = 0;
		*ret_proto = 0;
		return 0;
	}
	if (!strncmp(s, "*/", 2)) {
		*ret_port = 0;
		return pw_parse_proto(s + 2, ret_proto);
	}
	return pw_parse_port_proto(s, ret_port, ret_proto);
}

static int wildcard_item(void *ctx, const char *item)
{
	struct item_ctx *c = ctx;
	struct pw_allow_config *a = c->target;
	struct pw_allow_wildcard w = {};
	void *n;

	if (a->n_wildcard >= MAX_WILDCARD)
		return config__error(c->l, c->err, c->errlen, "more than %d wildcard entries",
				     MAX_WILDCARD);
	if (strchr(item, ':')) {
		if (parse_owner_match(item, &w.owner))
			return config__error(c->l, c->err, c->errlen,
					     "invalid owner '%s': uid:N, exe:PATH, cgroup:PREFIX, "
					     "container:ID or comm:NAME",
					     item);
		w.by_owner = true;
	} else if (parse_port_or_any(item, &w.port, &w.proto)) {
		return config__error(c->l, c->err, c->errlen,
				     "invalid wildcard entry '%s': PORT, PORT/tcp, PORT/udp, * or an "
				     "owner (uid:N, exe:PATH, cgroup:PREFIX, container:ID, comm:NAME)",
				     item);
	}
	n = realloc(a->wildcard, (a->n_wildcard + 1) * sizeof(*a->wildcard));
	if (!n) {
		free(w.owner.text);
		return -ENOMEM;
	}
	a->wildcard = n;
	a->wildcard[a->n_wildcard++] = w;
	return 0;
}

static int share_owner_item(void *ctx, const char *item)
{
	struct item_ctx *c = ctx;
	struct pw_allow_share *r = c->extra;
	struct pw_owner_match m;
	void *n;

	if (!strcmp(item, "*"))
		return 0; /* anyone: an empty list */
	if (r->n_owners >= MAX_SHARE_OWNERS)
		return config__error(c->l, c->err, c->errlen, "more than %d owners in one rule",
				     MAX_SHARE_OWNERS);
	if (parse_owner_match(item, &m))
		return config__error(c->l, c->err, c->errlen,
				     "invalid owner '%s': uid:N, exe:PATH, cgroup:PREFIX, "
				     "container:ID, comm:NAME or *",
				     item);
	n = realloc(r->owners, (r->n_owners + 1) * sizeof(*r->owners));
	if (!n) {
		free(m.text);
		return -ENOMEM;
	}
	r->owners = n;
	r->owners[r->n_owners++] = m;
	return 0;
}

static void owner_match_free(struct pw_owner_match *m)
{
	free(m->text);
	m->text = NULL;
}

static void share_free(struct pw_allow_share *r)
{
	for (size_t i = 0; i < r->n_owners; i++)
		owner_match_free(&r->owners[i]);
	free(r->owners);
	r->owners = NULL;
	r->n_owners = 0;
}

static int share_rule(struct pw_allow_config *a, const struct pw_config_line *l, char *err,
		      size_t errlen, uint16_t port, uint8_t proto, const char *owners)
{
	struct pw_allow_share r = { .port = port, .proto = proto };
	struct item_ctx ic = { .l = l, .err = err, .errlen = errlen, .target = a, .extra = &r };
	void *n;
	int rc;

	if (a->n_share >= MAX_SHARE)
		return config__error(l, err, errlen, "more than %d sharing rules", MAX_SHARE);
	rc = owners ? pw_foreach_item(owners, share_owner_item, &ic) : 0;
	if (!rc && owners && !r.n_owners && !strchr(owners, '*'))
		rc = config__error(l, err, errlen, "empty owner list (use * for anyone)");
	if (rc) {
		share_free(&r);
		return rc;
	}
	n = realloc(a->share, (a->n_share + 1) * sizeof(*a->share));
	if (!n) {
		share_free(&r);
		return -ENOMEM;
	}
	a->share = n;
	a->share[a->n_share++] = r;
	return 0;
}

static int share_port_item(void *ctx, const char *item)
{
	struct item_ctx *c = ctx;
	uint16_t port;
	uint8_t proto;

	if (parse_port_or_any(item, &port, &proto))
		return config__error(c->l, c->err, c->errlen,
				     "invalid port '%s' in 'share': PORT, PORT/tcp, PORT/udp or *",
				     item);
	return share_rule(c->target, c->l, c->err, c->errlen, port, proto, NULL);
}

int allow_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct pw_allow_config *a = target;
	struct item_ctx ic = { .l = l, .err = err, .errlen = errlen, .target = a };
	uint16_t port;
	uint8_t proto;

	if (!strcmp(l->key, "wildcard"))
		return pw_foreach_item(l->value, wildcard_item, &ic);
	if (!strcmp(l->key, "share"))
		return pw_foreach_item(l->value, share_port_item, &ic);
	if (!parse_port_or_any(l->key, &port, &proto))
		return share_rule(a, l, err, errlen, port, proto, l->value);
	return config__error(l, err, errlen,
			     "unknown key '%s' in [allow] (keys: wildcard, share, or PORT/PROTO = "
			     "owner, owner...)",
			     l->key);
}

void allow_config__free(struct pw_allow_config *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_wildcard; i++)
		owner_match_free(&a->wildcard[i].owner);
	free(a->wildcard);
	for (size_t i = 0; i < a->n_share; i++)
		share_free(&a->share[i]);
	free(a->share);
	memset(a, 0, sizeof(*a));
}
