// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "enforce.h"
#include "journal.h"
#include "log.h"

#define BPF_FS_MAGIC_NR 0xcafe4a11

struct enforce {
	struct loader *loader;
	int policy_fd, settings_fd, stats_fd;
	unsigned int gen;  /* live policy generation (0/1) */
	unsigned int mode; /* live enum pw_enf_mode */
	uint64_t refused[PW_ENF_ENFORCE + 1];
	uint64_t reloads, reload_failures;
};

static const char *const reason_names[] = {
	[PW_ENF_R_PROTECTED] = "protected_port",
	[PW_ENF_R_CROSS_UID] = "cross_uid",
	[PW_ENF_R_SHADOWING] = "shadowing",
};

const char *enforce__reason_name(unsigned int reason)
{
	return reason < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[reason] ?
		       reason_names[reason] :
		       "unknown";
}

const char *enforce__mode_name(unsigned int mode)
{
	return mode == PW_ENF_AUDIT ? "audit" : mode == PW_ENF_ENFORCE ? "enforce" : "off";
}

/* Delete every policy entry of generation @gen (left over, or the old one). */
static int clear_gen(int fd, uint8_t gen)
{
	struct pw_enf_pkey key, next, batch[256];
	size_t n;

	do {
		void *prev = NULL;

		n = 0;
		while (n < 256 && !bpf_map_get_next_key(fd, prev, &next)) {
			if (next.gen == gen)
				batch[n++] = next;
			key = next;
			prev = &key;
		}
		for (size_t i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, &batch[i]) && errno != ENOENT)
				return -errno;
	} while (n == 256);
	return 0;
}

static uint64_t settings_word(const struct pw_enforce_config *c, unsigned int gen)
{
	uint64_t s = c->mode > 0 ? (uint64_t)c->mode : PW_ENF_OFF;

	if (c->deny_cross_uid > 0)
		s |= PW_ENF_S_CROSS_UID;
	if (c->deny_shadowing > 0)
		s |= PW_ENF_S_SHADOWING;
	if (gen)
		s |= PW_ENF_S_GEN;
	return s;
}

int enforce__apply(struct enforce *e, const struct pw_enforce_config *c)
{
	unsigned int next = !e->gen;
	uint32_t zero = 0;
	uint64_t word;
	int err;

	/* Spare generation: empty it (a failed apply may have left entries). */
	err = clear_gen(e->policy_fd, next);
	if (err)
		return err;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct pw_enf_rule *r = &c->rules[i];
		struct pw_enf_pkey k = { .port = r->port, .proto = r->proto, .family = r->family,
					 .gen = next };
		struct pw_enf_policy v = { .n_owners = r->n_owners };

		memcpy(k.addr, r->addr, sizeof(k.addr));
		memcpy(v.owners, r->owners, r->n_owners * sizeof(v.owners[0]));
		if (bpf_map_update_elem(e->policy_fd, &k, &v, BPF_ANY)) {
			err = -errno;
			clear_gen(e->policy_fd, next);
			return err;
		}
	}
	/* One 64-bit store: the programs see the old policy or the new one. */
	word = settings_word(c, next);
	if (bpf_map_update_elem(e->settings_fd, &zero, &word, BPF_ANY)) {
		err = -errno;
		clear_gen(e->policy_fd, next);
		return err;
	}
	e->gen = next;
	e->mode = c->mode > 0 ? (unsigned int)c->mode : PW_ENF_OFF;
	err = clear_gen(e->policy_fd, !next);
	if (err)
		pr_warn("failed to remove the previous enforcement policy: %s\n", strerror(-err));
	return 0;
}

/* Make sure @dir exists on a bpffs, mounting one where needed. */
static int prepare_pin_dir(const char *dir)
{
	struct statfs sf;
	char parent[256], *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EINVAL;
	*slash = '\0';
	if (mkdir(parent, 0700) && errno != EEXIST)
		return -errno;
	if (statfs(parent, &sf))
		return -errno;
	if (sf.f_type != BPF_FS_MAGIC_NR && mount("bpf", parent, "bpf", 0, "mode=0700"))
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (statfs(dir, &sf))
		return -errno;
	return sf.f_type == BPF_FS_MAGIC_NR ? 0 : -ENOTSUP;
}

/*
 * Sockets bound before the hooks were attached (this is a start or a
 * restart) become holders, so the deny switches see the services already
 * running. New binds are holders already: the hooks are attached.
 */
static void seed_holders(struct loader *l)
{
	unsigned long n;
	int err = loader__enforce_seed(l, &n);

	if (!err)
		pr_info("enforcement: %lu sockets bound before it loaded are holders\n", n);
	else if (err == -EOPNOTSUPP)
		pr_warn("enforcement: sockets bound before it loaded are not holders: their "
			"iterator did not load (%s)\n",
			loader__reason(l, PW_FAM_ENFORCE, PW_TIER_A));
	else
		pr_warn("enforcement: sockets bound before it loaded are not holders: %s\n",
			strerror(-err));
}

int enforce__open(struct loader *l, const struct pw_enforce_config *c, struct enforce **ret)
{
	struct enforce *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return -ENOMEM;
	e->loader = l;
	e->policy_fd = loader__map_fd(l, PW_FAM_ENFORCE, "policy");
	e->settings_fd = loader__map_fd(l, PW_FAM_ENFORCE, "settings");
	e->stats_fd = loader__map_fd(l, PW_FAM_ENFORCE, "enf_stats");
	if (e->policy_fd < 0 || e->settings_fd < 0 || e->stats_fd < 0) {
		pr_err("failed to find the enforcement maps: the enforce family is not loaded\n");
		err = -ENOENT;
		goto cleanup;
	}
	/* The settings start at zero: generation 0 is live, so write generation 1. */
	err = enforce__apply(e, c);
	if (err) {
		pr_err("failed to write the enforcement policy: %s\n", strerror(-err));
		goto cleanup;
	}
	seed_holders(l);
	if (c->pin_path[0]) {
		err = prepare_pin_dir(c->pin_path);
		if (!err)
			err = loader__pin_links(l, PW_FAM_ENFORCE, c->pin_path);
		if (err) {
			pr_err("failed to pin the enforcement links in '%s': %s\n", c->pin_path,
			       strerror(-err));
			goto cleanup;
		}
		pr_info("enforcement pinned in %s: it stays after the daemon exits "
			"(remove with 'portwarden unpin %s')\n",
			c->pin_path, c->pin_path);
	}
	pr_info("enforcement: mode %s, %zu rules%s%s\n", enforce__mode_name(e->mode), c->n_rules,
		c->deny_cross_uid > 0 ? ", deny cross-uid sharing" : "",
		c->deny_shadowing > 0 ? ", deny shadowing" : "");
	*ret = e;
	return 0;
cleanup:
	free(e);
	return err;
}

void enforce__free(struct enforce *e)
{
	free(e);
}

void enforce__annotate_event(json_t *o, uint8_t detail)
{
	bool audit = detail & PW_ENF_AUDITED;

	if (!o)
		return;
	json_object_set_new(o, "mode", json_string(audit ? "audit" : "enforce"));
	json_object_set_new(o, "reason", json_string(enforce__reason_name(detail & 0x7f)));
	json_object_set_new(o, "refused", json_boolean(!audit));
}

void enforce__on_refused(struct enforce *e, struct findings *fs, struct ledger *ledger,
			 const struct ledger_sock *binder, uint8_t detail, int64_t wall_ns)
{
	bool audit = detail & PW_ENF_AUDITED;
	unsigned int reason = detail & 0x7f;
	char dedup[PW_DEDUP_LEN];
	json_t *socks, *evidence;

	if (e)
		e->refused[audit ? PW_ENF_AUDIT : PW_ENF_ENFORCE]++;
	/* post_bind refusals come after the capture hook reported the bind. */
	if (!audit && ledger)
		ledger__remove(ledger, binder->cookie);
	if (!fs)
		return;
	snprintf(dedup, sizeof(dedup), "bind_refused/%u/%u/%u/%u/%llu/%u", binder->key.netns,
		 binder->key.proto, binder->key.port, binder->owner.uid,
		 (unsigned long long)binder->owner.cgroup_id, reason);
	socks = json_array();
	json_array_append_new(socks, pw_json_sock(binder));
	evidence = json_pack("{s:s, s:s, s:b}", "mode", audit ? "audit" : "enforce", "reason",
			     enforce__reason_name(reason), "refused", !audit);
	findings__raise(fs, PW_FK_BIND_REFUSED, &binder->key, dedup, socks, evidence, wall_ns,
			true);
}

uint64_t enforce__refused_total(const struct enforce *e, unsigned int mode)
{
	return e && mode <= PW_ENF_ENFORCE ? e->refused[mode] : 0;
}

uint64_t enforce__stat(const struct enforce *e, unsigned int stat)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals, sum = 0;

	if (!e || ncpu <= 0 || stat >= PW_ENF_ST_MAX)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(e->stats_fd, &stat, vals))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

unsigned int enforce__mode(const struct enforce *e)
{
	return e ? e->mode : PW_ENF_OFF;
}

uint64_t enforce__reloads(const struct enforce *e, bool failed)
{
	return e ? (failed ? e->reload_failures : e->reloads) : 0;
}

void enforce__count_reload(struct enforce *e, bool failed)
{
	if (e)
		*(failed ? &e->reload_failures : &e->reloads) += 1;
}

int enforce__unpin(const char *dir, unsigned int *ret_removed)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);
	int err = 0;

	*ret_removed = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "cg_enf_", 7))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0)) {
			err = -errno;
			break;
		}
		n++;
	}
	closedir(d);
	if (!err && rmdir(dir) && errno != ENOTEMPTY)
		err = -errno;
	*ret_removed = n;
	return err;
}
