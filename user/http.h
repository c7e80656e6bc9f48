/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The HTTP endpoint: /metrics (Prometheus text 0.0.4), /healthz, and JSON
 * views /ports and /findings. libmicrohttpd runs in external-select mode on
 * its epoll fd, which sits in the daemon's epoll: single-threaded, so the
 * handlers read the ledger without locks.
 *
 * The daemon must not be a port-hijack victim itself: it listens on loopback
 * by default, refuses a wildcard address unless told explicitly, and creates
 * its listener itself without SO_REUSEADDR / SO_REUSEPORT (so no socket of
 * another uid can join or shadow it). Every resource a client can grow is
 * bounded: connections (total and per IP), idle time, request memory.
 */
#ifndef PW_HTTP_H
#define PW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "config.h"
#include "findings.h"
#include "metrics.h"

#define PW_HTTP_DEFAULT_LISTEN "127.0.0.1:9742"
#define PW_HTTP_LISTEN_LEN 64

struct http_opts {
	char listen[PW_HTTP_LISTEN_LEN]; /* ADDR:PORT, [V6]:PORT; "" = default */
	bool allow_wildcard;		 /* needed for 0.0.0.0 / :: */
	bool disabled;			 /* --no-http */
	unsigned int max_conns;		 /* 0: 64 */
	unsigned int max_conns_per_ip;	 /* 0: max_conns / 2 */
	unsigned int timeout_s;		 /* idle connection timeout; 0: 10 s */
	size_t conn_memory;		 /* per-connection request memory; 0: 32 KiB */
	struct metrics_opts metrics;	 /* label caps */
};

struct http;
struct daemon;

/*
 * Parse "127.0.0.1:9742", "[::1]:9742". A wildcard address is -EPERM unless
 * @allow_wildcard. @err gets a message on error.
 */
int http__parse_listen(const char *s, bool allow_wildcard, struct sockaddr_storage *ret_sa,
		       socklen_t *ret_len, char *err, size_t errlen);

/*
 * Create the listener and the MHD daemon. If the address is in use (another
 * process, or TIME_WAIT connections of a previous run, which we do not
 * override with SO_REUSEADDR) the endpoint is retried on every http__tick().
 * Returns 0 (with *ret NULL when disabled) or -errno.
 */
int http__start(struct daemon *d, const struct http_opts *o, struct http **ret);
void http__stop(struct http *h);

/* Add MHD's epoll fd to @epfd, now and whenever the listener comes up later. */
int http__attach(struct http *h, int epfd);
/* Serve what is ready and expire idle connections (call each loop turn). */
void http__run(struct http *h);
/* The epoll timeout to use: @dflt_ms, or less when MHD has a deadline. */
int http__timeout_ms(struct http *h, int dflt_ms);
/* Periodic: retry a listener that could not bind yet. */
void http__tick(struct http *h);
/* "127.0.0.1:9742" once listening (the actual port if 0 was asked), "" before. */
const char *http__address(const struct http *h);

/* Remember ended findings for /findings (a findings sink). */
void http__finding_sink(void *ctx, const struct pw_finding *f, bool ended);

/* The [http] config section. @target is a struct http_opts. */
int http__config_section(void *target, const struct pw_config_line *l, char *err, size_t errlen);
/* "key=value" of [http] from the command line (--http); 0 or -EINVAL (message printed). */
int http_opts__parse_arg(struct http_opts *o, const char *arg);

#endif
