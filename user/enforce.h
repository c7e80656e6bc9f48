/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Enforcement (issue #7): exclusive ports. The policy (pw_config.h,
 * struct pw_enforce_config) is parsed and resolved in enforce_config.c; this
 * module writes it to the kernel's `policy`/`settings` maps (swapped as a
 * whole on reload), pins the links when asked, and turns every refusal the
 * kernel reports into a `bind_refused` finding and a counter.
 */
#ifndef PW_ENFORCE_H
#define PW_ENFORCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "findings.h"
#include "ledger.h"
#include "loader.h"
#include "pw_config.h"

/* ---- the policy as written (enforce_config.c) ---------------------------- */

/* "off" | "audit" | "enforce" -> enum pw_enf_mode. */
int enforce__parse_mode(const char *s, int *ret_mode);
/* "8443/tcp" + "uid:1001, exe:/usr/sbin/nginx" -> a resolved rule. */
int enforce_config__parse_rule(const char *target, const char *owners, struct pw_enf_rule *ret,
			       char *err, size_t errlen);
/* Add a rule (a rule without protocol is added for tcp and udp; owners merge). */
int enforce_config__add_rule(struct pw_enforce_config *c, const struct pw_enf_rule *r,
			     char *err, size_t errlen);
/* `--protect PORT[/PROTO]=OWNER[,OWNER]` */
int enforce_config__add_protect(struct pw_enforce_config *c, const char *spec, char *err,
				size_t errlen);
/* @over's settings win over @dst's (command line over file); rules are added. */
int enforce_config__merge(struct pw_enforce_config *dst, const struct pw_enforce_config *over,
			  char *err, size_t errlen);
/* Mode audit or enforce. */
bool enforce_config__active(const struct pw_enforce_config *c);

/* ---- in the kernel (enforce.c) --------------------------------------------- */

struct enforce;

/*
 * Write @c into the loaded enforcement family's maps and, if c->pin_path is
 * set, pin its links there (bpffs, mounted if absent). 0 or -errno.
 */
int enforce__open(struct loader *l, const struct pw_enforce_config *c, struct enforce **ret);
void enforce__free(struct enforce *e);

/*
 * Replace the live policy with @c as one unit: all rules are written under
 * the spare generation, then the settings word flips. On any error the old
 * policy stays live and -errno is returned.
 */
int enforce__apply(struct enforce *e, const struct pw_enforce_config *c);

/*
 * A PW_REC_BIND_REFUSED event: raise the `bind_refused` finding (binder's
 * identity in `sockets`, mode/reason/policy in `evidence`), count it, and
 * drop the refused socket from @ledger (the capture hooks saw its bind
 * before post_bind refused it).
 */
void enforce__on_refused(struct enforce *e, struct findings *fs, struct ledger *ledger,
			 const struct ledger_sock *binder, uint8_t detail, int64_t wall_ns);
/* Adds "mode", "reason" and "refused" to a bind_refused event line. */
void enforce__annotate_event(json_t *o, uint8_t detail);

const char *enforce__reason_name(unsigned int reason);
const char *enforce__mode_name(unsigned int mode);

/* Metrics: portwarden_bind_refused_total{mode="audit"|"enforce"}. NULL-safe. */
uint64_t enforce__refused_total(const struct enforce *e, unsigned int mode);
/* Holder tracking misses (enum pw_enf_stat), summed over CPUs. */
uint64_t enforce__stat(const struct enforce *e, unsigned int stat);
/* The live mode (enum pw_enf_mode), PW_ENF_OFF when @e is NULL. */
unsigned int enforce__mode(const struct enforce *e);
uint64_t enforce__reloads(const struct enforce *e, bool failed);
void enforce__count_reload(struct enforce *e, bool failed);

/* ---- the daemon's side (daemon_enforce.c) -------------------------------- */

struct daemon;
struct pw_ev;

/* Before loader__open: effective policy (config + command line); sets loader.enforce. */
int daemon__enforce_prepare(struct daemon *d);
/* After loader__open: write the policy, pin if asked. */
int daemon__enforce_start(struct daemon *d);
/* SIGHUP: re-read; the live policy changes only if everything validates. */
void daemon__enforce_reload(struct daemon *d);
/* A PW_REC_BIND_REFUSED event (see enforce__on_refused). */
void daemon__enforce_event(struct daemon *d, struct pw_ev *ev);
void daemon__enforce_stop(struct daemon *d);

/* Remove pinned enforcement links under @dir (`portwarden unpin`). */
int enforce__unpin(const char *dir, unsigned int *ret_removed);

#endif
