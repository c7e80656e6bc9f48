/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's whole configuration: one sub-struct per module, each filled by
 * that module's `[section]` handler (table in config_sections.c). A load
 * fills a fresh struct and only a complete, valid file replaces the running
 * one (start-up and SIGHUP), so the daemon never runs on a half-read policy.
 */
#ifndef PW_PW_CONFIG_H
#define PW_PW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "loader.h"
#include "http.h"
#include "rp_groups.h"
#include "portwarden_abi.h"

/* ---- [detect] (detect_config.c) ---------------------------------------- */

struct pw_detect_config {
	int64_t takeover_window_ns;  /* release -> foreign bind within this is a takeover */
	int64_t service_min_age_ns;  /* a UDP socket bound this long is a service */
	int64_t end_grace_ns;	     /* sharing must stay gone this long to end a finding */
	unsigned int released_max;   /* bound of the "recently released services" memory */
	uint32_t disabled;	     /* bit (1u << enum pw_finding_kind): kind switched off */
};

/* ---- [allow] (detect_config.c) ----------------------------------------- */

enum pw_owner_match_kind { PW_OM_UID, PW_OM_EXE, PW_OM_CGROUP, PW_OM_CONTAINER, PW_OM_COMM };

/* uid:N | exe:PATH | cgroup:PREFIX | container:ID | comm:NAME */
struct pw_owner_match {
	uint8_t kind; /* enum pw_owner_match_kind */
	uint32_t uid;
	char *text;
};

/* A listener on the wildcard that is expected: by port or by owner. */
struct pw_allow_wildcard {
	uint16_t port; /* 0: any (by_owner) */
	uint8_t proto; /* 0: both */
	bool by_owner;
	struct pw_owner_match owner;
};

/* Sharing on a port that is expected between owners matching the list (empty: anyone). */
struct pw_allow_share {
	uint16_t port; /* 0: any port */
	uint8_t proto; /* 0: both */
	size_t n_owners;
	struct pw_owner_match *owners;
};

struct pw_allow_config {
	struct pw_allow_wildcard *wildcard;
	size_t n_wildcard;
	struct pw_allow_share *share;
	size_t n_share;
};

/* ---- [enforce] and [protect] (enforce_config.c) ------------------------ */

/* One protected port (and optionally address): the owners allowed to bind it. */
struct pw_enf_rule {
	uint16_t port;
	uint8_t proto;	/* IPPROTO_TCP / IPPROTO_UDP */
	uint8_t family; /* 0: any address; AF_INET / AF_INET6: only @addr */
	uint8_t addr[16];
	unsigned int n_owners;
	struct pw_enf_owner owners[PW_ENF_MAX_OWNERS];
	char text[256]; /* "8443/tcp=uid:1001,exe:/usr/sbin/nginx", for logs */
};

struct pw_enforce_config {
	int mode;	    /* enum pw_enf_mode; -1: not set by this source */
	int deny_cross_uid; /* -1 unset, 0, 1 */
	int deny_shadowing; /* -1 unset, 0, 1 */
	char pin_path[256]; /* "": links die with the daemon (fail-safe) */
	struct pw_enf_rule *rules;
	size_t n_rules;
};

/* ---- [store] (store_config.c) ------------------------------------------ */

/* The SQLite history; 0 / NULL: the store's embedded default. */
struct pw_store_config {
	char *db;		/* database path; "none" disables the history */
	int64_t retention_secs; /* closed rows older than this are deleted */
	uint64_t max_rows;	/* per table */
	uint64_t max_bytes;	/* database size */
};

/* ---- the whole file ----------------------------------------------------- */

/* ---- [daemon] and [hooks] (daemon_config.c) ------------------------------- */

/* Re-check the ledger against the kernel this often, even without losses. */
#define PW_DEFAULT_RECONCILE_NS (300ll * 1000000000)

struct pw_daemon_config {
	char *events;		       /* JSON lines path ('-' = stdout) */
	int poll_ms;		       /* 0: built-in */
	size_t max_sockets;	       /* 0: built-in */
	uint32_t ringbuf_bytes;	       /* 0: built-in */
	int64_t reconcile_interval_ns; /* 0: only after losses */
	bool reconcile_set;
	bool quiet_existing;
	int log_level;			  /* 0: unset, else enum pw_log_level + 1 */
	enum pw_tier hooks[PW_FAM_MAX]; /* [hooks]: NONE = auto */
};

int daemon_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
int hooks_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
void daemon_config__defaults(struct pw_daemon_config *c);
void daemon_config__free(struct pw_daemon_config *c);

struct pw_config {
	struct pw_daemon_config daemon;
	struct pw_detect_config detect;
	struct pw_allow_config allow;
	struct pw_store_config store;
	struct rp_config reuseport; /* [reuseport] (rp_groups.c) */
	struct pw_enforce_config enforce;
	struct http_opts http; /* [http] (http.c) */
};

/* The section table: one line per module ({ name, handler, offsetof(struct pw_config, x) }). */
extern const struct config_section pw_config_sections[];

/* Embedded defaults (every module). */
void pw_config__init(struct pw_config *c);
/* Frees what the handlers allocated; accepts NULL. Leaves defaults behind. */
void pw_config__free(struct pw_config *c);
/*
 * Parse @path into @ret (initialised here). On error @ret holds only the
 * defaults, @err names "file:line: what" and -errno is returned: the caller
 * keeps its previous config.
 */
int pw_config__load(const char *path, struct pw_config *ret, char *err, size_t errlen);
int pw_config__load_string(const char *text, const char *name, struct pw_config *ret, char *err,
			   size_t errlen);

/* Per-module hooks used by the table above. */
int store_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
void store_config__free(struct pw_store_config *c);
int detect_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
void detect_config__defaults(struct pw_detect_config *c);
int allow_config__section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
void allow_config__free(struct pw_allow_config *c);
int enforce_config__section(void *target, const struct pw_config_line *l, char *err,
			    size_t errlen);
int protect_config__section(void *target, const struct pw_config_line *l, char *err,
			    size_t errlen);
void enforce_config__defaults(struct pw_enforce_config *c);
void enforce_config__free(struct pw_enforce_config *c);

#endif
