// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #4: portwarden sees how each SO_REUSEPORT group balances. A UDP group
 * of 4 sockets and a real nginx with `reuseport` and 4 workers, in a private
 * netns; load from many source ports stays quiet, load from one fixed source
 * port (the hash lands on one member) raises reuseport_skew.
 * The reuseport tier is $PW_RP_TIER, else $PW_TIER (A and C: Debian 6.1 VM).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define WAIT_MS 8000
#define MEMBERS 4
#define UDP_DATAGRAMS 2000
#define TCP_CONNS 1200

static char rp_tier(void)
{
	const char *t = getenv("PW_RP_TIER");

	return t && *t ? t[0] : pw_test_tier();
}

static void daemon_start(struct pw_daemon *d)
{
	static char tier[32];
	/*
	 * journal_delta=0: a reuseport_group line every tick, not only when a
	 * share moves. A balanced group's shares stay put while its samples
	 * grow, so a sender slower than a tick (TCG: 2000 datagrams take ~10 s)
	 * left the last line with the count of the first second.
	 */
	const char *extra[] = { "--force-tier", tier, "--reuseport", "journal_interval=1",
				"--reuseport", "journal_delta=0", "--reuseport", "min_samples=400",
				NULL };

	snprintf(tier, sizeof(tier), "reuseport=%c", rp_tier());
	pw_daemon_start(d, extra);
	if (!pw_daemon_count(d, "type=ready", pw_fmt("tiers.reuseport=%c", rp_tier()), NULL))
		pw_skip("reuseport tier %c does not load on this kernel", rp_tier());
}

/* ---- UDP group: one process holding 4 members and reading them all ---- */

struct udp_group {
	pid_t pid;
	int ctl; /* closing it stops the reader */
};

static void udp_group_start(uint16_t port, struct udp_group *g)
{
	int ready[2], ctl[2];
	char c;

	ASSERT_EQ(pipe(ready), 0);
	ASSERT_EQ(pipe(ctl), 0);
	g->pid = fork();
	ASSERT_TRUE(g->pid >= 0);
	if (!g->pid) {
		struct pollfd pfd[MEMBERS + 1];
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		char buf[256];

		close(ready[0]);
		close(ctl[1]);
		if (setresgid(1001, 1001, 1001) || setresuid(1001, 1001, 1001))
			_exit(1);
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		for (int i = 0; i < MEMBERS; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;
			int rcv = 1 << 20;

			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
				_exit(2);
			pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
		pfd[MEMBERS] = (struct pollfd){ .fd = ctl[0], .events = POLLIN };
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		for (;;) {
			if (poll(pfd, MEMBERS + 1, 1000) < 0)
				_exit(4);
			if (pfd[MEMBERS].revents)
				_exit(0);
			for (int i = 0; i < MEMBERS; i++)
				while (recv(pfd[i].fd, buf, sizeof(buf), 0) > 0)
					;
		}
	}
	close(ready[1]);
	close(ctl[0]);
	g->ctl = ctl[1];
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

static void udp_group_stop(struct udp_group *g)
{
	int status = 0;

	close(g->ctl);
	waitpid(g->pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* @sport 0: a new socket (a new ephemeral source port) per datagram. */
static void udp_send(uint16_t port, uint16_t sport, int n)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(sport) };
	int fd = -1, one = 1;

	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &src.sin_addr);
	for (int i = 0; i < n; i++) {
		if (fd < 0) {
			fd = socket(AF_INET, SOCK_DGRAM, 0);
			ASSERT_TRUE(fd >= 0);
			if (sport) {
				setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
				ASSERT_EQ(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
			}
		}
		ASSERT_EQ(sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
		if (!sport) {
			close(fd);
			fd = -1;
		}
		/* Let the reader keep up: a dropped datagram is never received. */
		if (i % 200 == 199)
			usleep(5000);
	}
	if (fd >= 0)
		close(fd);
}

/* The reuseport_group line for @port once it counted at least @samples. */
static json_t *wait_group(struct pw_daemon *d, uint32_t ns, const char *proto, uint16_t port,
			  long samples)
{
	json_t *last = NULL;
	char *s;

	for (int waited = 0; waited < WAIT_MS; waited += 250) {
		json_t *line;
		size_t i;

		pw_daemon_poll(d);
		json_array_foreach(d->lines, i, line) {
			if (!pw_json_match(line, (const char *[]){ "type=reuseport_group",
								   pw_fmt("netns=%u", ns),
								   pw_fmt("proto=%s", proto),
								   pw_fmt("port=%u", port), NULL }))
				continue;
			last = line;
			if (json_integer_value(json_object_get(line, "members")) == MEMBERS &&
			    json_integer_value(json_object_get(line, "samples")) >= samples)
				return line;
		}
		usleep(250000);
	}
	/* The diagnosis: what the group model last said about the port. */
	s = last ? json_dumps(last, JSON_COMPACT) : NULL;
	printf("# no group of %d with %ld samples; last: %s\n", MEMBERS, samples, s ? s : "none");
	free(s);
	return NULL;
}

static size_t skew_findings(struct pw_daemon *d, uint32_t ns, uint16_t port)
{
	pw_daemon_poll(d);
	return pw_daemon_count(d, "type=finding", "kind=reuseport_skew", "status=active",
			       pw_fmt("netns=%u", ns), pw_fmt("port=%u", port), NULL);
}

static double max_share(json_t *group)
{
	json_t *m;
	double max = 0;
	size_t i;

	json_array_foreach(json_object_get(group, "shares"), i, m) {
		double s = json_real_value(json_object_get(m, "share"));

		if (s > max)
			max = s;
	}
	return max;
}

/*
 * Tier A: the busiest member's load is the sender's own address and port
 * (the packet's source, read from the skb), carrying all of it.
 */
static void assert_dominant_source(json_t *ev, const char *addr, uint16_t sport)
{
	json_t *srcs = json_object_get(ev, "dominant_sources"), *src;
	bool found = false;
	size_t i;

	ASSERT_TRUE(json_array_size(srcs) > 0);
	json_array_foreach(srcs, i, src) {
		json_t *port = json_object_get(src, "port");
		double share = json_real_value(json_object_get(src, "share"));

		/* Every entry is the sender: its address, or its address and port. */
		ASSERT_STREQ(json_string_value(json_object_get(src, "addr")), addr);
		ASSERT_TRUE(share > 0.99);
		if (port) {
			ASSERT_EQ(json_integer_value(port), sport);
			found = true;
		}
	}
	ASSERT_TRUE(found);
}

static void udp_group_many_source_ports_balanced(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct udp_group g;
	struct pw_daemon d;
	json_t *grp;

	daemon_start(&d);
	udp_group_start(port, &g);
	udp_send(port, 0, UDP_DATAGRAMS);
	grp = wait_group(&d, ns, "udp", port, UDP_DATAGRAMS * 9 / 10);
	ASSERT_NOT_NULL(grp);
	/* 4 members, ~500 each: the busiest far below the 1.5 x mean threshold. */
	ASSERT_TRUE(max_share(grp) < 0.35);
	ASSERT_TRUE(json_real_value(json_object_get(grp, "imbalance_ratio")) < 1.3);
	sleep(2); /* two more ticks for the detector */
	ASSERT_EQ(skew_findings(&d, ns, port), 0);
	udp_group_stop(&g);
	pw_daemon_stop(&d);
}

static void udp_group_fixed_source_port_skewed(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	uint16_t sport = pw_free_port(IPPROTO_UDP);
	struct udp_group g;
	struct pw_daemon d;
	json_t *f, *ev;

	daemon_start(&d);
	udp_group_start(port, &g);
	udp_send(port, sport, UDP_DATAGRAMS);
	f = pw_daemon_wait(&d, WAIT_MS, "type=finding", "kind=reuseport_skew", "status=active",
			   pw_fmt("netns=%u", ns), "proto=udp", pw_fmt("port=%u", port), NULL);
	ASSERT_NOT_NULL(f);
	ev = json_object_get(f, "evidence");
	ASSERT_TRUE(pw_json_match(ev, (const char *[]){ pw_fmt("members=%d", MEMBERS),
						       "addr=127.0.0.1", NULL }));
	/* One 4-tuple, one hash: one member gets everything. */
	ASSERT_TRUE(max_share(ev) > 0.99);
	ASSERT_TRUE(json_real_value(json_object_get(ev, "imbalance_ratio")) > 3.9);
	ASSERT_TRUE(json_real_value(json_object_get(ev, "p_value")) < 1e-6);
	ASSERT_EQ(json_array_size(json_object_get(f, "sockets")), MEMBERS);
	ASSERT_TRUE(pw_json_match(ev, (const char *[]){ pw_fmt("tier=%c", rp_tier()), NULL }));
	if (rp_tier() == 'A')
		assert_dominant_source(ev, "127.0.0.1", sport);
	else /* B counts deliveries per member, C the chosen member: no source. */
		ASSERT_NULL(json_object_get(ev, "dominant_sources"));
	udp_group_stop(&g);
	pw_daemon_stop(&d);
}

/* ---- TCP group: real nginx, 4 workers, `listen ... reuseport` ---------- */

struct nginx {
	pid_t pid;
	char dir[64];
};

static void nginx_start(uint16_t port, struct nginx *n)
{
	char conf[256];
	FILE *f;

	if (access("/usr/sbin/nginx", X_OK))
		pw_skip("nginx is not installed (/usr/sbin/nginx; apt-get install nginx-light)");
	snprintf(n->dir, sizeof(n->dir), "/tmp/pw-rp-nginx-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(n->dir));
	chmod(n->dir, 0755);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", n->dir);
	f = fopen(conf, "w");
	ASSERT_NOT_NULL(f);
	fprintf(f,
		"worker_processes %d;\n"
		"daemon off;\n"
		"pid %s/nginx.pid;\n"
		"error_log %s/error.log;\n"
		"events { worker_connections 1024; }\n"
		"http {\n"
		"  access_log off;\n"
		"  client_body_temp_path %s;\n"
		"  server { listen 127.0.0.1:%u reuseport; location / { return 204; } }\n"
		"}\n",
		MEMBERS, n->dir, n->dir, n->dir, port);
	fclose(f);
	n->pid = fork();
	ASSERT_TRUE(n->pid >= 0);
	if (!n->pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		execl("/usr/sbin/nginx", "nginx", "-p", n->dir, "-c", conf, (char *)NULL);
		_exit(127);
	}
}

static void nginx_stop(struct nginx *n)
{
	kill(n->pid, SIGTERM);
	waitpid(n->pid, NULL, 0);
	pw_run_capture(pw_fmt("rm -rf %s", n->dir), &(int){ 0 });
}

/* Connect and RST-close @n times; @sport 0: a new ephemeral source port each. */
static void tcp_connect_many(uint16_t port, uint16_t sport, int n)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(sport) };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int ok = 0;

	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &src.sin_addr);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

		ASSERT_TRUE(fd >= 0);
		if (sport) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			ASSERT_EQ(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
		}
		ok += !connect(fd, (struct sockaddr *)&dst, sizeof(dst));
		/* RST, no TIME_WAIT: the same 4-tuple can connect again at once. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	ASSERT_TRUE(ok >= n * 9 / 10);
}

static void nginx_wait_ready(struct pw_daemon *d, uint32_t ns, uint16_t port)
{
	for (int waited = 0; waited < WAIT_MS; waited += 100) {
		pw_daemon_poll(d);
		if (pw_daemon_count(d, "event=listen", pw_fmt("socket.netns=%u", ns),
				    pw_fmt("socket.port=%u", port), NULL) >= MEMBERS)
			break;
		usleep(100000);
	}
	ASSERT_EQ(pw_daemon_count(d, "event=listen", pw_fmt("socket.netns=%u", ns),
				  pw_fmt("socket.port=%u", port), "socket.flags.reuseport=true",
				  "socket.owner.comm=nginx", NULL),
		  MEMBERS);
	usleep(300000); /* workers up */
}

static void nginx_many_clients_balanced(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_daemon d;
	struct nginx n;
	json_t *grp;

	daemon_start(&d);
	nginx_start(port, &n);
	nginx_wait_ready(&d, ns, port);
	tcp_connect_many(port, 0, TCP_CONNS);
	grp = wait_group(&d, ns, "tcp", port, TCP_CONNS * 9 / 10);
	ASSERT_NOT_NULL(grp);
	ASSERT_TRUE(max_share(grp) < 0.35);
	sleep(2);
	ASSERT_EQ(skew_findings(&d, ns, port), 0);
	nginx_stop(&n);
	pw_daemon_stop(&d);
}

static void nginx_pinned_source_port_skewed(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	uint16_t sport = pw_free_port(IPPROTO_TCP);
	struct pw_daemon d;
	struct nginx n;
	json_t *f, *ev;

	daemon_start(&d);
	nginx_start(port, &n);
	nginx_wait_ready(&d, ns, port);
	tcp_connect_many(port, sport, TCP_CONNS);
	f = pw_daemon_wait(&d, WAIT_MS, "type=finding", "kind=reuseport_skew", "status=active",
			   pw_fmt("netns=%u", ns), "proto=tcp", pw_fmt("port=%u", port), NULL);
	ASSERT_NOT_NULL(f);
	ev = json_object_get(f, "evidence");
	ASSERT_TRUE(pw_json_match(ev, (const char *[]){ pw_fmt("members=%d", MEMBERS), NULL }));
	ASSERT_TRUE(max_share(ev) > 0.95);
	ASSERT_TRUE(json_real_value(json_object_get(ev, "p_value")) < 1e-6);
	ASSERT_TRUE(pw_json_match(ev, (const char *[]){ pw_fmt("tier=%c", rp_tier()), NULL }));
	if (rp_tier() == 'A')
		assert_dominant_source(ev, "127.0.0.1", sport);
	else
		ASSERT_NULL(json_object_get(ev, "dominant_sources"));
	nginx_stop(&n);
	pw_daemon_stop(&d);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(udp_group_many_source_ports_balanced),
		PW_TEST(udp_group_fixed_source_port_skewed),
		PW_TEST(nginx_many_clients_balanced),
		PW_TEST(nginx_pinned_source_port_skewed),
	};

	return pw_test_main(argc, argv, "reuseport", tests, sizeof(tests) / sizeof(tests[0]));
}
