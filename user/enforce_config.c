// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The enforcement policy as written: `[enforce]` switches, `[protect]` rules
 * and the same from the command line (`--protect 8443/tcp=uid:1001`). Every
 * owner is resolved here to what the kernel compares (uid, cgroup id and
 * depth, executable inode and device), so a policy that names a missing
 * cgroup or executable is rejected whole instead of protecting nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "cgroup.h"
#include "enforce.h"
#include "pw_config.h"
#include "util.h"

#define CGROUP2_MAGIC 0x63677270

void enforce_config__defaults(struct pw_enforce_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = -1;
	c->deny_cross_uid = -1;
	c->deny_shadowing = -1;
}

void enforce_config__free(struct pw_enforce_config *c)
{
	if (!c)
		return;
	free(c->rules);
	enforce_config__defaults(c);
}

/* deny_* switches are tri-state ints (-1: not given, so the command line can tell). */
static int parse_switch(const char *s, int *ret)
{
	bool b;

	if (pw_parse_bool(s, &b))
		return -EINVAL;
	*ret = b;
	return 0;
}

int enforce__parse_mode(const char *s, int *ret_mode)
{
	if (!strcmp(s, "off"))
		*ret_mode = PW_ENF_OFF;
	else if (!strcmp(s, "audit"))
		*ret_mode = PW_ENF_AUDIT;
	else if (!strcmp(s, "enforce"))
		*ret_mode = PW_ENF_ENFORCE;
	else
		return -EINVAL;
	return 0;
}

/* "PORT[/PROTO]", "ADDR:PORT[/PROTO]", "[ADDR6]:PORT[/PROTO]". */
static int parse_target(const char *s, struct pw_enf_rule *r, char *err, size_t errlen)
{
	char buf[128], *port = buf, *slash;
	long v;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "port '%s' is too long", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (pw_parse_proto(slash + 1, &r->proto)) {
			snprintf(err, errlen, "unknown protocol '%s' in '%s' (tcp or udp)", slash + 1,
				 s);
			return -EINVAL;
		}
	}
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end || end[1] != ':') {
			snprintf(err, errlen, "expected [IPV6]:PORT in '%s'", s);
			return -EINVAL;
		}
		*end = '\0';
		port = end + 2;
		if (pw_parse_addr(buf + 1, &r->family, r->addr) || r->family != AF_INET6) {
			snprintf(err, errlen, "invalid IPv6 address '%s' in '%s'", buf + 1, s);
			return -EINVAL;
		}
	} else if (strchr(buf, ':')) {
		char *colon = strrchr(buf, ':');

		*colon = '\0';
		port = colon + 1;
		if (pw_parse_addr(buf, &r->family, r->addr) || r->family != AF_INET) {
			snprintf(err, errlen, "invalid IPv4 address '%s' in '%s' (IPv6: [ADDR]:PORT)",
				 buf, s);
			return -EINVAL;
		}
	}
	if (pw_parse_long(port, 1, 65535, &v)) {
		snprintf(err, errlen, "invalid port '%s' in '%s' (1 to 65535)", port, s);
		return -EINVAL;
	}
	r->port = (uint16_t)v;
	/* The wildcard address is "any address", the same as no address. */
	if (r->family && pw_addr_is_wildcard(r->family, r->addr)) {
		r->family = 0;
		memset(r->addr, 0, sizeof(r->addr));
	}
	return 0;
}

/*
 * The device the BPF side compares: exe_file->f_inode->i_sb->s_dev, in the
 * kernel's MKDEV encoding. stat()'s st_dev is not always that: overlayfs
 * reports a per-layer pseudo device for a lower-layer file when its layers
 * are on different file systems (measured in the 6.1 guest: st_dev 0:26,
 * s_dev 0:24), and btrfs a per-subvolume one. mountinfo's MAJ:MIN is the
 * superblock's s_dev, so look up the mount that holds @fd (fdinfo's mnt_id).
 * Falls back to @st_dev when /proc cannot tell.
 */
static uint64_t exe_sb_dev(int fd, dev_t st_dev)
{
	unsigned int maj = major(st_dev), mnr = minor(st_dev), a, b;
	char path[64], line[4096];
	int mnt_id = -1, id;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &mnt_id) == 1)
			break;
	if (f)
		fclose(f);
	f = mnt_id < 0 ? NULL : fopen("/proc/self/mountinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %*d %u:%u", &id, &a, &b) == 3 && id == mnt_id) {
			maj = a;
			mnr = b;
			break;
		}
	}
	if (f)
		fclose(f);
	return ((uint64_t)maj << 20) | mnr;
}

static int parse_owner(const char *s, struct pw_enf_owner *o, char *err, size_t errlen)
{
	struct stat st;
	long v;

	memset(o, 0, sizeof(*o));
	if (!strncmp(s, "uid:", 4)) {
		struct passwd *pw;

		o->type = PW_ENF_O_UID;
		if (!pw_parse_long(s + 4, 0, 4294967294L, &v)) {
			o->uid = (uint32_t)v;
		} else if ((pw = getpwnam(s + 4))) {
			o->uid = pw->pw_uid;
		} else {
			snprintf(err, errlen, "unknown user '%s'", s + 4);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(s, "cgroup:", 7)) {
		char path[4096];
		struct statfs sf;
		int level;

		/* Absolute, or relative to the cgroup v2 root. */
		if (s[7] == '/' && !stat(s + 7, &st)) {
			snprintf(path, sizeof(path), "%s", s + 7);
		} else {
			char root[256];

			if (pw_cgroup2_root(root, sizeof(root))) {
				snprintf(err, errlen, "no cgroup v2 mount for '%s'", s);
				return -EINVAL;
			}
			snprintf(path, sizeof(path), "%s/%s", root, s + 7 + (s[7] == '/'));
		}
		if (stat(path, &st) || !S_ISDIR(st.st_mode) || statfs(path, &sf) ||
		    sf.f_type != CGROUP2_MAGIC) {
			snprintf(err, errlen, "'%s' is not a cgroup v2 directory", s + 7);
			return -EINVAL;
		}
		level = pw_cgroup_level(path);
		if (level < 0 || level > 255) {
			snprintf(err, errlen, "'%s' is not below the cgroup v2 root", s + 7);
			return -EINVAL;
		}
		o->type = PW_ENF_O_CGROUP;
		o->level = (uint8_t)level;
		o->id = st.st_ino; /* a cgroup v2 directory's inode is its cgroup id */
		return 0;
	}
	if (!strncmp(s, "exe:", 4)) {
		int fd = s[4] == '/' ? open(s + 4, O_PATH | O_CLOEXEC) : -1;

		if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "'%s' is not an existing executable (absolute path)",
				 s + 4);
			if (fd >= 0)
				close(fd);
			return -EINVAL;
		}
		o->type = PW_ENF_O_EXE;
		o->id = st.st_ino;
		/* The kernel's dev_t (MKDEV), not glibc's encoding. */
		o->dev = exe_sb_dev(fd, st.st_dev);
		close(fd);
		return 0;
	}
	snprintf(err, errlen, "unknown owner '%s' (uid:N|NAME, cgroup:PATH, exe:PATH)", s);
	return -EINVAL;
}

struct owner_item_ctx {
	struct pw_enf_rule *rule;
	const char *target;
	char *err;
	size_t errlen;
};

static int owner_item(void *ctx, const char *item)
{
	struct owner_item_ctx *c = ctx;
	struct pw_enf_rule *r = c->rule;
	int rc;

	if (r->n_owners >= PW_ENF_MAX_OWNERS) {
		snprintf(c->err, c->errlen, "more than %d owners for '%s'", PW_ENF_MAX_OWNERS,
			 c->target);
		return -EINVAL;
	}
	rc = parse_owner(item, &r->owners[r->n_owners], c->err, c->errlen);
	if (!rc)
		r->n_owners++;
	return rc;
}

int enforce_config__parse_rule(const char *target, const char *owners, struct pw_enf_rule *r,
			       char *err, size_t errlen)
{
	struct owner_item_ctx ic = { .rule = r, .target = target, .err = err, .errlen = errlen };
	int rc;

	memset(r, 0, sizeof(*r));
	rc = parse_target(target, r, err, errlen);
	if (rc)
		return rc;
	rc = pw_foreach_item(owners, owner_item, &ic);
	if (rc)
		return rc;
	if (!r->n_owners) {
		snprintf(err, errlen, "no owner for '%s' (uid:N, cgroup:PATH or exe:PATH)", target);
		return -EINVAL;
	}
	snprintf(r->text, sizeof(r->text), "%s=%s", target, owners);
	return 0;
}

static bool same_target(const struct pw_enf_rule *a, const struct pw_enf_rule *b)
{
	return a->port == b->port && a->proto == b->proto && a->family == b->family &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* Add one rule (both protocols when it names none); owners of a repeated target merge. */
int enforce_config__add_rule(struct pw_enforce_config *c, const struct pw_enf_rule *in,
			     char *err, size_t errlen)
{
	for (int i = 0; i < 2; i++) {
		struct pw_enf_rule r = *in, *dst = NULL;

		if (!in->proto)
			r.proto = i ? IPPROTO_UDP : IPPROTO_TCP;
		else if (i)
			break;
		for (size_t j = 0; j < c->n_rules; j++)
			if (same_target(&c->rules[j], &r))
				dst = &c->rules[j];
		if (dst) {
			if (dst->n_owners + r.n_owners > PW_ENF_MAX_OWNERS) {
				snprintf(err, errlen, "more than %d owners for '%s'",
					 PW_ENF_MAX_OWNERS, in->text);
				return -EINVAL;
			}
			memcpy(&dst->owners[dst->n_owners], r.owners,
			       r.n_owners * sizeof(r.owners[0]));
			dst->n_owners += r.n_owners;
			continue;
		}
		if (c->n_rules >= PW_ENF_MAX_POLICY) {
			snprintf(err, errlen, "more than %d protected ports", PW_ENF_MAX_POLICY);
			return -EINVAL;
		}
		dst = realloc(c->rules, (c->n_rules + 1) * sizeof(*dst));
		if (!dst)
			return -ENOMEM;
		c->rules = dst;
		c->rules[c->n_rules++] = r;
	}
	return 0;
}

int enforce_config__add_protect(struct pw_enforce_config *c, const char *spec, char *err,
				size_t errlen)
{
	const char *eq = strchr(spec, '=');
	struct pw_enf_rule r;
	char target[128];
	int rc;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(target)) {
		snprintf(err, errlen, "expected PORT[/PROTO]=OWNER[,OWNER...], got '%s'", spec);
		return -EINVAL;
	}
	snprintf(target, sizeof(target), "%.*s", (int)(eq - spec), spec);
	rc = enforce_config__parse_rule(target, eq + 1, &r, err, errlen);
	return rc ? rc : enforce_config__add_rule(c, &r, err, errlen);
}

int enforce_config__section(void *target, const struct pw_config_line *l, char *err,
			    size_t errlen)
{
	struct pw_enforce_config *c = target;

	if (!strcmp(l->key, "mode")) {
		if (enforce__parse_mode(l->value, &c->mode))
			return config__error(l, err, errlen,
					     "mode must be off, audit or enforce, not '%s'",
					     l->value);
	} else if (!strcmp(l->key, "deny_cross_uid")) {
		if (parse_switch(l->value, &c->deny_cross_uid))
			return config__error(l, err, errlen, "deny_cross_uid: expected yes or no");
	} else if (!strcmp(l->key, "deny_shadowing")) {
		if (parse_switch(l->value, &c->deny_shadowing))
			return config__error(l, err, errlen, "deny_shadowing: expected yes or no");
	} else if (!strcmp(l->key, "pin")) {
		if (l->value[0] != '/' || strlen(l->value) >= sizeof(c->pin_path))
			return config__error(l, err, errlen, "pin: expected an absolute path");
		snprintf(c->pin_path, sizeof(c->pin_path), "%s", l->value);
	} else {
		return config__error(l, err, errlen,
				     "unknown key '%s' in [enforce] (mode, deny_cross_uid, "
				     "deny_shadowing, pin)",
				     l->key);
	}
	return 0;
}

int protect_config__section(void *target, const struct pw_config_line *l, char *err,
			    size_t errlen)
{
	struct pw_enforce_config *c = target;
	char msg[PW_CONFIG_ERR_LEN];
	struct pw_enf_rule r;
	int rc;

	rc = enforce_config__parse_rule(l->key, l->value, &r, msg, sizeof(msg));
	if (!rc)
		rc = enforce_config__add_rule(c, &r, msg, sizeof(msg));
	if (rc)
		return config__error(l, err, errlen, "%s", msg);
	return 0;
}

int enforce_config__merge(struct pw_enforce_config *dst, const struct pw_enforce_config *over,
			  char *err, size_t errlen)
{
	if (over->mode >= 0)
		dst->mode = over->mode;
	if (over->deny_cross_uid >= 0)
		dst->deny_cross_uid = over->deny_cross_uid;
	if (over->deny_shadowing >= 0)
		dst->deny_shadowing = over->deny_shadowing;
	if (over->pin_path[0])
		snprintf(dst->pin_path, sizeof(dst->pin_path), "%s", over->pin_path);
	for (size_t i = 0; i < over->n_rules; i++) {
		int rc = enforce_config__add_rule(dst, &over->rules[i], err, errlen);

		if (rc)
			return rc;
	}
	return 0;
}

bool enforce_config__active(const struct pw_enforce_config *c)
{
	return c->mode == PW_ENF_AUDIT || c->mode == PW_ENF_ENFORCE;
}
