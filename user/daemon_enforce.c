// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's side of enforcement: the effective policy is the config
 * file's [enforce]/[protect] with the command line on top; it is loaded at
 * start and again on SIGHUP, and a reload replaces the live policy only when
 * the whole file validates (every section, not just ours).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "daemon.h"
#include "enforce.h"
#include "journal.h"
#include "log.h"
#include "util.h"

/* Config file (if any) + command line -> @ret. 0 or -errno with @err set. */
static int effective_policy(const struct daemon *d, struct pw_enforce_config *ret, char *err,
			    size_t errlen)
{
	struct pw_config cfg;
	int rc;

	enforce_config__defaults(ret);
	if (d->opts.config_path) {
		rc = pw_config__load(d->opts.config_path, &cfg, err, errlen);
		if (rc)
			return rc;
		rc = enforce_config__merge(ret, &cfg.enforce, err, errlen);
		pw_config__free(&cfg);
		if (rc)
			goto fail;
	}
	rc = enforce_config__merge(ret, &d->opts.enforce, err, errlen);
	if (rc)
		goto fail;
	if (ret->mode < 0 && (ret->n_rules || ret->deny_cross_uid > 0 || ret->deny_shadowing > 0)) {
		snprintf(err, errlen, "an enforcement policy needs a mode: [enforce] mode = "
				      "audit|enforce|off, or --audit / --enforce");
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	enforce_config__free(ret);
	return rc;
}

int daemon__enforce_prepare(struct daemon *d)
{
	char err[PW_CONFIG_ERR_LEN] = "";
	int rc = effective_policy(d, &d->enforce_cfg, err, sizeof(err));

	if (rc) {
		pr_err("failed to load the enforcement policy: %s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	d->opts.loader.enforce = enforce_config__active(&d->enforce_cfg);
	return 0;
}

int daemon__enforce_start(struct daemon *d)
{
	if (!d->opts.loader.enforce)
		return 0;
	return enforce__open(d->loader, &d->enforce_cfg, &d->enforce);
}

static void journal_reload(struct daemon *d, bool ok, const char *error)
{
	json_t *o = json_pack("{s:s, s:b, s:s, s:I, s:b, s:b}", "type", "enforce_reload", "ok", ok,
			      "mode", enforce__mode_name(enforce__mode(d->enforce)), "rules",
			      (json_int_t)d->enforce_cfg.n_rules, "deny_cross_uid",
			      d->enforce_cfg.deny_cross_uid > 0, "deny_shadowing",
			      d->enforce_cfg.deny_shadowing > 0);

	daemon__journal_reload(d, o, error);
}

void daemon__enforce_reload(struct daemon *d)
{
	struct pw_enforce_config next;
	char err[PW_CONFIG_ERR_LEN] = "";
	int rc;

	rc = effective_policy(d, &next, err, sizeof(err));
	if (!rc && enforce_config__active(&next) && !d->enforce) {
		/* Turned on by this reload: load the hooks now. */
		rc = loader__enable(d->loader, PW_FAM_ENFORCE);
		if (!rc)
			rc = enforce__open(d->loader, &next, &d->enforce);
		if (rc)
			snprintf(err, sizeof(err), "failed to load the enforcement hooks: %s",
				 strerror(-rc));
	} else if (!rc && d->enforce) {
		rc = enforce__apply(d->enforce, &next);
		if (rc)
			snprintf(err, sizeof(err), "failed to write the policy maps: %s",
				 strerror(-rc));
	}
	if (rc) {
		enforce_config__free(&next);
		enforce__count_reload(d->enforce, true);
		pr_err("enforcement reload failed, the previous policy stays: %s\n", err);
		journal_reload(d, false, err);
		return;
	}
	enforce_config__free(&d->enforce_cfg);
	d->enforce_cfg = next;
	enforce__count_reload(d->enforce, false);
	pr_info("enforcement policy reloaded: mode %s, %zu rules\n",
		enforce__mode_name(enforce__mode(d->enforce)), d->enforce_cfg.n_rules);
	journal_reload(d, true, NULL);
}

void daemon__enforce_event(struct daemon *d, struct pw_ev *ev)
{
	enforce__on_refused(d->enforce, d->findings, d->ledger, &ev->sock, ev->detail,
			    ev->wall_ns);
}

void daemon__enforce_stop(struct daemon *d)
{
	enforce__free(d->enforce);
	d->enforce = NULL;
	enforce_config__free(&d->enforce_cfg);
}
