/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A socket worker: a forked process running as a real uid (and optionally in
 * a cgroup) that creates, binds, listens, connects, accepts and closes
 * sockets on request, step by step. Detector tests use it to order binds and
 * listens across owners and to hold many sockets in one process.
 */
#ifndef PW_SOCKD_H
#define PW_SOCKD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sockd {
	pid_t pid;
	int fd; /* request/response socket */
	uid_t uid;
};

/* @cgroup NULL: stay in the test's cgroup. @comm NULL: keep the name. */
void sockd_start(struct sockd *w, uid_t uid, const char *cgroup, const char *comm);
void sockd_stop(struct sockd *w);

/* A handle (>= 0) or -errno. */
int sockd_socket(struct sockd *w, int family, int type, bool reuseaddr, bool reuseport,
		 bool v6only);
/* 0 or a positive errno. @addr NULL: the family's wildcard. */
int sockd_bind(struct sockd *w, int h, const char *addr, uint16_t port);
int sockd_listen(struct sockd *w, int h);
int sockd_connect(struct sockd *w, int h, const char *addr, uint16_t port);
/* A handle for the accepted connection, or -errno. */
int sockd_accept(struct sockd *w, int h);
/* shutdown(SHUT_WR) then keep the socket (FIN_WAIT2 when the peer stays). */
int sockd_shutdown(struct sockd *w, int h);
int sockd_close(struct sockd *w, int h);

#endif
