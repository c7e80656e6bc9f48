// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #9: event loss is counted, never silent, and heals. Several processes
 * (real uids) flood binds into a daemon whose ring buffer is 4 KiB and drained
 * once a second, so it overflows. Then:
 *   - `loss` lines report reserve failures (not zero);
 *   - a `reconcile` line follows, and the corrections it made appear in the
 *     stream as `reconciled` events;
 *   - replaying the stream for our netns gives exactly the sockets that
 *     `portwarden ports --json` (the iterators) sees, which are exactly the
 *     sockets the flooders kept alive;
 *   - after the flooders exit (a second burst, of closes), the replayed view
 *     of the netns becomes empty again.
 * Only UDP sockets and TCP listeners are used: the iterators cannot see
 * bound-only TCP sockets, so the reconcile cannot verify those.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define WORKERS 4
#define ROUNDS 30
#define PER_ROUND 40 /* sockets of each protocol per round */
#define KEEP_EVERY 8
#define MAX_KEPT (ROUNDS * PER_ROUND * 2 / KEEP_EVERY + 2)

struct kept {
	uint16_t port;
	uint8_t proto;
	uint8_t pad;
};

struct worker {
	pid_t pid;
	int ctl; /* closing it makes the worker close everything and exit */
	int n_kept;
	struct kept kept[MAX_KEPT];
};

static int bind_one(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || (type == SOCK_STREAM && listen(fd, 4))) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

/* Child: flood, keep every KEEP_EVERY-th socket, report them, hold. */
static void worker_main(uid_t uid, int res_fd, int ctl_fd)
{
	static struct kept kept[MAX_KEPT];
	static int fds[MAX_KEPT];
	int n = 0, seq = 0;
	char c;

	prctl(PR_SET_NAME, "pw-flood");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(92);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < PER_ROUND * 2; i++) {
			int type = i & 1 ? SOCK_STREAM : SOCK_DGRAM;
			int fd = bind_one(type);

			if (fd < 0)
				_exit(93);
			if (seq++ % KEEP_EVERY || n >= MAX_KEPT) {
				close(fd);
				continue;
			}
			kept[n].port = port_of(fd);
			kept[n].proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
			fds[n++] = fd;
		}
	}
	if (write(res_fd, &n, sizeof(n)) != sizeof(n) ||
	    write(res_fd, kept, n * sizeof(kept[0])) != (ssize_t)(n * sizeof(kept[0])))
		_exit(94);
	close(res_fd);
	while (read(ctl_fd, &c, 1) > 0)
		;
	for (int i = 0; i < n; i++)
		close(fds[i]);
	_exit(0);
}

static void read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r <= 0)
			pw_fail(__FILE__, __LINE__, "worker result: %s", r ? strerror(errno) : "EOF");
		got += r;
	}
}

static void workers_start(struct worker *w)
{
	for (int i = 0; i < WORKERS; i++) {
		int res[2], ctl[2];

		if (pipe(res) || pipe(ctl))
			pw_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
		w[i].pid = fork();
		if (w[i].pid < 0)
			pw_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
		if (w[i].pid == 0) {
			close(res[0]);
			close(ctl[1]);
			for (int j = 0; j < i; j++)
				close(w[j].ctl);
			worker_main(1001 + i, res[1], ctl[0]);
		}
		close(res[1]);
		close(ctl[0]);
		w[i].ctl = ctl[1];
		/* Collected after all started, so that the floods overlap. */
		w[i].n_kept = res[0];
	}
	for (int i = 0; i < WORKERS; i++) {
		int fd = w[i].n_kept;

		read_all(fd, &w[i].n_kept, sizeof(w[i].n_kept));
		if (w[i].n_kept < 0 || w[i].n_kept > MAX_KEPT)
			pw_fail(__FILE__, __LINE__, "worker %d kept %d sockets", i, w[i].n_kept);
		read_all(fd, w[i].kept, w[i].n_kept * sizeof(w[i].kept[0]));
		close(fd);
	}
}

static void workers_stop(struct worker *w)
{
	for (int i = 0; i < WORKERS; i++) {
		int status = 0;

		close(w[i].ctl);
		waitpid(w[i].pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			pw_fail(__FILE__, __LINE__, "worker %d failed (status 0x%x)", i, status);
	}
}

/* "tcp/1234" -> count, for comparing multisets of ports. */
static void count_key(json_t *set, const char *proto, long port)
{
	const char *k = pw_fmt("%s/%ld", proto, port);

	json_object_set_new(set, k, json_integer(json_integer_value(json_object_get(set, k)) + 1));
}

static json_t *truth_from_workers(const struct worker *w)
{
	json_t *set = json_object();

	for (int i = 0; i < WORKERS; i++)
		for (int j = 0; j < w[i].n_kept; j++)
			count_key(set, w[i].kept[j].proto == IPPROTO_TCP ? "tcp" : "udp",
				  w[i].kept[j].port);
	return set;
}

/*
 * The iterators' view: `ports --json --netns`, keyed by cookie -> "proto/port/state";
 * @ports_set counts "proto/port" of the sockets not held by @skip_pid (the
 * daemon runs in the netns too, with its metrics listener).
 */
static json_t *truth_from_inventory(uint32_t ns, json_t *ports_set, pid_t skip_pid)
{
	json_t *ports = pw_ports_json(ns), *by_cookie = json_object(), *p, *s;
	size_t i, j;

	json_array_foreach(json_object_get(ports, "ports"), i, p) {
		json_array_foreach(json_object_get(p, "sockets"), j, s) {
			const char *proto = json_string_value(json_object_get(p, "proto"));
			long port = json_integer_value(json_object_get(p, "port"));

			if (json_integer_value(json_object_get(json_object_get(s, "owner"),
							       "tgid")) != skip_pid)
				count_key(ports_set, proto, port);
			json_object_set_new(by_cookie,
					    pw_fmt("%lld", (long long)json_integer_value(
								   json_object_get(s, "cookie"))),
					    json_string(pw_fmt("%s/%ld/%s", proto, port,
							       json_string_value(json_object_get(
								       s, "state")))));
		}
	}
	json_decref(ports);
	return by_cookie;
}

/*
 * The daemon's view of @ns as a consumer of its stream sees it: replay every
 * event line (bind, listen, existing, close, reconciled corrections).
 */
static json_t *replay(struct pw_daemon *d, uint32_t ns, size_t *ret_reconciled)
{
	json_t *view = json_object(), *o;
	size_t i;

	*ret_reconciled = 0;
	pw_daemon_poll(d);
	json_array_foreach(d->lines, i, o) {
		json_t *s = json_object_get(o, "socket");
		const char *ev = json_string_value(json_object_get(o, "event"));
		const char *cookie;

		if (!ev || json_integer_value(json_object_get(s, "netns")) != ns)
			continue;
		cookie = pw_fmt("%lld", (long long)json_integer_value(json_object_get(s, "cookie")));
		if (json_is_true(json_object_get(o, "reconciled")))
			(*ret_reconciled)++;
		if (!strcmp(ev, "bind") || !strcmp(ev, "listen") || !strcmp(ev, "existing"))
			json_object_set_new(
				view, cookie,
				json_string(pw_fmt(
					"%s/%lld/%s", json_string_value(json_object_get(s, "proto")),
					(long long)json_integer_value(json_object_get(s, "port")),
					json_string_value(json_object_get(s, "state")))));
		else if (!strcmp(ev, "close"))
			json_object_del(view, cookie);
		else if (!strcmp(ev, "unlisten") && json_object_get(view, cookie))
			json_object_set_new(
				view, cookie,
				json_string(pw_fmt(
					"%s/%lld/bound", json_string_value(json_object_get(s, "proto")),
					(long long)json_integer_value(json_object_get(s, "port")))));
	}
	return view;
}

static uint64_t total_lost(struct pw_daemon *d)
{
	uint64_t n = 0;
	json_t *o;
	size_t i;

	pw_daemon_poll(d);
	json_array_foreach(d->lines, i, o)
		if (pw_json_match(o, (const char *[]){ "type=loss", NULL }))
			n += json_integer_value(json_object_get(o, "lost"));
	return n;
}

/* Poll until the replayed view equals @want (or 15 s); returns the last diff size. */
static size_t wait_view(struct pw_daemon *d, uint32_t ns, json_t *want, size_t *ret_reconciled)
{
	size_t diff = 0;

	for (int tries = 0; tries < 60; tries++) {
		json_t *view = replay(d, ns, ret_reconciled);

		diff = json_equal(view, want) ? 0 : 1 + json_object_size(view);
		if (diff) {
			const char *k;
			json_t *v;
			size_t missing = 0, extra = 0;

			json_object_foreach(want, k, v)
				missing += !json_equal(json_object_get(view, k), v);
			json_object_foreach(view, k, v) {
				extra += !json_object_get(want, k);
				if (tries == 59 && !json_object_get(want, k) && extra < 5)
					printf("# extra: %s %s\n", k, json_string_value(v));
			}
			if (tries == 59)
				printf("# view: %zu sockets, %zu missing or wrong, %zu extra\n",
				       json_object_size(view), missing, extra);
		}
		json_decref(view);
		if (!diff)
			break;
		usleep(250000);
	}
	return diff;
}

static void flood_overflows_then_reconciles(void)
{
	uint32_t ns = pw_netns_new();
	const char *extra[] = { "--ringbuf-size", "4096", "--poll-ms", "1000", NULL };
	static struct worker w[WORKERS];
	json_t *kept, *inv_ports = json_object(), *inv;
	static struct pw_daemon d; /* static: the harness's exit cleanup may use it */
	size_t reconciled = 0, kept_total = 0;

	pw_daemon_start(&d, extra);
	workers_start(w);
	for (int i = 0; i < WORKERS; i++)
		kept_total += w[i].n_kept;
	ASSERT_TRUE(kept_total > 0);

	/* The inventory is the truth, and it matches what the flooders hold. */
	kept = truth_from_workers(w);
	inv = truth_from_inventory(ns, inv_ports, d.pid);
	ASSERT_TRUE(json_equal(kept, inv_ports));

	/* Loss is counted, not silent... */
	ASSERT_NOT_NULL(pw_daemon_wait(&d, 5000, "type=loss", "kind=reserve", NULL));
	ASSERT_TRUE(total_lost(&d) > 0);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, 5000, "type=reconcile", "reason=ring buffer loss", NULL));
	/* ...and healed: the stream's view becomes exactly the inventory. */
	ASSERT_EQ(wait_view(&d, ns, inv, &reconciled), 0);
	printf("# kept %zu sockets, lost %llu records, %zu reconciled events in the netns\n",
	       kept_total, (unsigned long long)total_lost(&d), reconciled);
	ASSERT_TRUE(reconciled > 0);

	/* The closing burst: the view of the netns must empty again. */
	workers_stop(w);
	json_decref(inv);
	json_object_clear(inv_ports);
	inv = truth_from_inventory(ns, inv_ports, d.pid);
	ASSERT_EQ(json_object_size(inv_ports), 0);
	ASSERT_EQ(wait_view(&d, ns, inv, &reconciled), 0);

	pw_daemon_stop(&d);
	json_decref(inv);
	json_decref(kept);
	json_decref(inv_ports);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(flood_overflows_then_reconciles),
	};

	return pw_test_main(argc, argv, "loss", tests, sizeof(tests) / sizeof(tests[0]));
}
