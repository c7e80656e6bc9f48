// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's side of the config file and the detectors: the file is read
 * whole at start (any error: the daemon does not start) and on SIGHUP (any
 * error: the running config stays, and the error is logged and journaled).
 */
#include <errno.h>
#include <string.h>
#include "daemon.h"
#include "detect.h"
#include "journal.h"
#include "log.h"
#include "util.h"

void daemon__journal_reload(struct daemon *d, json_t *o, const char *error)
{
	if (!o)
		return;
	if (error)
		json_object_set_new(o, "error", json_string(error));
	pw_json_set_time(o, "time", pw_now_wall_ns());
	journal__emit(d->journal, o);
	journal__flush(d->journal); /* an operator waiting on a reload sees it now */
}

int daemon__config_load(struct daemon *d)
{
	char err[PW_CONFIG_ERR_LEN] = "";
	int rc;

	pw_config__init(&d->config);
	if (d->opts.config_path) {
		rc = pw_config__load(d->opts.config_path, &d->config, err, sizeof(err));
		if (rc) {
			pr_err("failed to load config '%s': %s\n", d->opts.config_path,
			       err[0] ? err : strerror(-rc));
			return rc;
		}
	}
	daemon_config__apply(&d->config.daemon, &d->opts);
	return 0;
}

int daemon__detect_init(struct daemon *d)
{
	d->detect = detect__new(d->ledger, d->findings, &d->config);
	if (!d->detect)
		return -ENOMEM;
	ledger__set_observer(d->ledger, detect__ledger_observer, d->detect);
	return 0;
}

static void journal_reload(struct daemon *d, bool ok, const char *error)
{
	json_t *o = json_pack("{s:s, s:b, s:s}", "type", "config_reload", "ok", ok, "file",
			      d->opts.config_path ? d->opts.config_path : "");

	daemon__journal_reload(d, o, error);
}

void daemon__detect_reload(struct daemon *d)
{
	char err[PW_CONFIG_ERR_LEN] = "";
	struct pw_config next, old;
	int rc;

	if (!d->opts.config_path)
		return;
	rc = pw_config__load(d->opts.config_path, &next, err, sizeof(err));
	if (rc) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		pr_err("config reload failed, the previous config stays: %s\n", err);
		journal_reload(d, false, err);
		return;
	}
	old = d->config;
	d->config = next;
	detect__set_config(d->detect, &d->config);
	pw_config__free(&old);
	pr_info("config reloaded from '%s'\n", d->opts.config_path);
	journal_reload(d, true, NULL);
}

void daemon__detect_fini(struct daemon *d)
{
	detect__free(d->detect);
	d->detect = NULL;
	pw_config__free(&d->config);
}
