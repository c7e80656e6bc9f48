// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "sockd.h"

enum { OP_SOCKET, OP_BIND, OP_LISTEN, OP_CONNECT, OP_ACCEPT, OP_SHUTDOWN, OP_CLOSE };

struct sockd_req {
	int op, h, family, type;
	int reuseaddr, reuseport, v6only;
	uint16_t port;
	char addr[64];
};

static int fill_addr(int family, const char *addr, uint16_t port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (addr[0] && inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			return EINVAL;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (addr[0] && inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			return EINVAL;
		*len = sizeof(*a);
	}
	return 0;
}

static int sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return AF_INET;
	return ss.ss_family;
}

static int serve(const struct sockd_req *r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, err;

	switch (r->op) {
	case OP_SOCKET:
		fd = socket(r->family, r->type, 0);
		if (fd < 0)
			return -errno;
		if (r->reuseaddr)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (r->reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (r->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ r->v6only }, sizeof(int));
		return fd;
	case OP_BIND:
		err = fill_addr(sock_family(r->h), r->addr, r->port, &ss, &len);
		if (!err && bind(r->h, (struct sockaddr *)&ss, len))
			err = errno;
		return err;
	case OP_LISTEN:
		return listen(r->h, 64) ? errno : 0;
	case OP_CONNECT:
		err = fill_addr(sock_family(r->h), r->addr, r->port, &ss, &len);
		if (!err && connect(r->h, (struct sockaddr *)&ss, len))
			err = errno;
		return err;
	case OP_ACCEPT:
		fd = accept(r->h, NULL, NULL);
		return fd < 0 ? -errno : fd;
	case OP_SHUTDOWN:
		return shutdown(r->h, SHUT_WR) ? errno : 0;
	case OP_CLOSE:
		return close(r->h) ? errno : 0;
	}
	return EINVAL;
}

static void worker(int fd, uid_t uid, const char *cgroup, const char *comm)
{
	struct rlimit rl;
	struct sockd_req r;

	/* Drop inherited fds: another worker's end of its pipe would keep it alive. */
	for (int i = 3; i < 1024; i++)
		if (i != fd)
			close(i);
	/* Hold many sockets: soft limit up to the hard one (no privilege needed). */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (cgroup) {
		char path[300], pid[32];
		int c;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		snprintf(pid, sizeof(pid), "%d", getpid());
		c = open(path, O_WRONLY | O_CLOEXEC);
		if (c < 0 || write(c, pid, strlen(pid)) < 0)
			_exit(90);
		close(c);
	}
	if (comm)
		prctl(PR_SET_NAME, comm);
	if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		_exit(92);
	while (read(fd, &r, sizeof(r)) == sizeof(r)) {
		int ret = serve(&r);

		if (write(fd, &ret, sizeof(ret)) != sizeof(ret))
			break;
	}
	_exit(0);
}

void sockd_start(struct sockd *w, uid_t uid, const char *cgroup, const char *comm)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		pw_fail(__FILE__, __LINE__, "socketpair: %s", strerror(errno));
	fflush(stdout);
	w->pid = fork();
	if (w->pid < 0)
		pw_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (w->pid == 0) {
		close(sv[0]);
		worker(sv[1], uid, cgroup, comm);
	}
	close(sv[1]);
	w->fd = sv[0];
	w->uid = uid;
}

void sockd_stop(struct sockd *w)
{
	int status;

	if (w->pid <= 0)
		return;
	close(w->fd);
	waitpid(w->pid, &status, 0);
	w->pid = 0;
}

static int call(struct sockd *w, struct sockd_req *r)
{
	int ret;

	if (write(w->fd, r, sizeof(*r)) != sizeof(*r) || read(w->fd, &ret, sizeof(ret)) != sizeof(ret))
		pw_fail(__FILE__, __LINE__, "socket worker (uid %u) died", w->uid);
	return ret;
}

int sockd_socket(struct sockd *w, int family, int type, bool reuseaddr, bool reuseport,
		 bool v6only)
{
	struct sockd_req r = { .op = OP_SOCKET, .family = family, .type = type,
			       .reuseaddr = reuseaddr, .reuseport = reuseport, .v6only = v6only };

	return call(w, &r);
}

static int addr_op(struct sockd *w, int op, int h, const char *addr, uint16_t port)
{
	struct sockd_req r = { .op = op, .h = h, .port = port };

	if (addr)
		snprintf(r.addr, sizeof(r.addr), "%s", addr);
	return call(w, &r);
}

int sockd_bind(struct sockd *w, int h, const char *addr, uint16_t port)
{
	return addr_op(w, OP_BIND, h, addr, port);
}

int sockd_connect(struct sockd *w, int h, const char *addr, uint16_t port)
{
	return addr_op(w, OP_CONNECT, h, addr, port);
}

static int h_op(struct sockd *w, int op, int h)
{
	struct sockd_req r = { .op = op, .h = h };

	return call(w, &r);
}

int sockd_listen(struct sockd *w, int h)
{
	return h_op(w, OP_LISTEN, h);
}

int sockd_accept(struct sockd *w, int h)
{
	return h_op(w, OP_ACCEPT, h);
}

int sockd_shutdown(struct sockd *w, int h)
{
	return h_op(w, OP_SHUTDOWN, h);
}

int sockd_close(struct sockd *w, int h)
{
	return h_op(w, OP_CLOSE, h);
}
