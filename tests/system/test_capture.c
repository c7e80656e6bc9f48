// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #2: every bind, failed bind, listen and close is captured with the
 * right owner, options and addresses, in the JSON events and in
 * `portwarden ports --json`. Real uids, private netns, real daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"

#define WAIT_MS 5000

/* The socket on @port owned by @uid in `ports --json`, or NULL. */
static json_t *ports_find(json_t *ports, const char *proto, uint16_t port, uid_t uid,
			  int *ret_count)
{
	json_t *p, *s, *found = NULL;
	size_t i, j;

	*ret_count = 0;
	json_array_foreach(json_object_get(ports, "ports"), i, p) {
		if (json_integer_value(json_object_get(p, "port")) != port ||
		    strcmp(json_string_value(json_object_get(p, "proto")), proto))
			continue;
		json_array_foreach(json_object_get(p, "sockets"), j, s) {
			(*ret_count)++;
			if (json_integer_value(json_object_get(json_object_get(s, "owner"), "uid")) ==
			    uid)
				found = s;
		}
	}
	return found;
}

static void expect_bind_event(struct pw_daemon *d, uint32_t ns, const char *proto, uint16_t port,
			      const struct pw_holder *h, uid_t uid, const char *family,
			      const char *addr)
{
	json_t *e = pw_daemon_wait(d, WAIT_MS, "type=event", "event=bind",
				   pw_fmt("socket.netns=%u", ns), pw_fmt("socket.proto=%s", proto),
				   pw_fmt("socket.port=%u", port),
				   pw_fmt("socket.owner.tgid=%d", h->pid), NULL);

	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ pw_fmt("socket.owner.uid=%u", uid),
						       pw_fmt("socket.owner.euid=%u", uid),
						       pw_fmt("socket.family=%s", family),
						       pw_fmt("socket.addr=%s", addr),
						       "socket.owner.comm=pw-holder", NULL }));
}

static void tcp_listener_ipv4(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder h;
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_STREAM,
				  .addr = "127.0.0.1", .port = port, .listen = true,
				  .comm = "pw-holder" };
	json_t *ports, *sock;
	int n;

	pw_daemon_start(&d, NULL);
	pw_holder_spawn(&s, &h);
	ASSERT_EQ(h.bind_err, 0);
	expect_bind_event(&d, ns, "tcp", port, &h, 1001, "ipv4", "127.0.0.1");
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       "socket.state=listening", "socket.owner.uid=1001", NULL));
	ports = pw_ports_json(ns);
	sock = ports_find(ports, "tcp", port, 1001, &n);
	ASSERT_NOT_NULL(sock);
	ASSERT_EQ(n, 1);
	ASSERT_TRUE(pw_json_match(sock, (const char *[]){ "state=listening", "addr=127.0.0.1",
							  pw_fmt("owner.tgid=%d", h.pid),
							  "owner.comm=pw-holder",
							  "flags.reuseaddr=false", NULL }));
	json_decref(ports);
	pw_holder_release(&h);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.port=%u", port),
				       "socket.owner.uid=1001", NULL));
	pw_daemon_stop(&d);
}

static void tcp_dual_stack_ipv6_listener(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder h;
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_sock_spec s = { .uid = 1002, .family = AF_INET6, .type = SOCK_STREAM,
				  .port = port, .listen = true, .comm = "pw-holder" };
	json_t *ports, *sock;
	int n;

	pw_daemon_start(&d, NULL);
	pw_holder_spawn(&s, &h);
	ASSERT_EQ(h.bind_err, 0);
	expect_bind_event(&d, ns, "tcp", port, &h, 1002, "ipv6", "::");
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind", pw_fmt("socket.port=%u", port),
				       "socket.flags.v6only=false", NULL));
	ports = pw_ports_json(ns);
	sock = ports_find(ports, "tcp", port, 1002, &n);
	ASSERT_NOT_NULL(sock);
	ASSERT_TRUE(pw_json_match(sock, (const char *[]){ "family=ipv6", "addr=::",
							  "flags.v6only=false", "state=listening",
							  NULL }));
	json_decref(ports);
	pw_holder_release(&h);
	pw_daemon_stop(&d);
}

static void udp_reuseaddr_shared_by_two_uids(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder a, b;
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = port, .reuseaddr = true, .comm = "pw-holder" };
	json_t *ports;
	int n;

	pw_daemon_start(&d, NULL);
	pw_holder_spawn(&s, &a);
	s.uid = 1002;
	pw_holder_spawn(&s, &b);
	ASSERT_EQ(a.bind_err, 0);
	ASSERT_EQ(b.bind_err, 0);
	expect_bind_event(&d, ns, "udp", port, &a, 1001, "ipv4", "0.0.0.0");
	expect_bind_event(&d, ns, "udp", port, &b, 1002, "ipv4", "0.0.0.0");
	ASSERT_EQ(pw_daemon_count(&d, "event=bind", pw_fmt("socket.port=%u", port),
				  "socket.flags.reuseaddr=true", NULL), 2);
	ports = pw_ports_json(ns);
	ASSERT_NOT_NULL(ports_find(ports, "udp", port, 1001, &n));
	ASSERT_EQ(n, 2);
	ASSERT_NOT_NULL(ports_find(ports, "udp", port, 1002, &n));
	json_decref(ports);
	pw_holder_release(&a);
	pw_holder_release(&b);
	pw_daemon_stop(&d);
}

static void tcp_reuseport_pair(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder a, b;
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_STREAM,
				  .port = port, .reuseport = true, .listen = true,
				  .comm = "pw-holder" };
	json_t *ports, *sock;
	int n;

	pw_daemon_start(&d, NULL);
	pw_holder_spawn(&s, &a);
	pw_holder_spawn(&s, &b);
	ASSERT_EQ(a.bind_err, 0);
	ASSERT_EQ(b.bind_err, 0);
	expect_bind_event(&d, ns, "tcp", port, &a, 1001, "ipv4", "0.0.0.0");
	expect_bind_event(&d, ns, "tcp", port, &b, 1001, "ipv4", "0.0.0.0");
	ASSERT_EQ(pw_daemon_count(&d, "event=bind", pw_fmt("socket.port=%u", port),
				  "socket.flags.reuseport=true", NULL), 2);
	ports = pw_ports_json(ns);
	sock = ports_find(ports, "tcp", port, 1001, &n);
	ASSERT_EQ(n, 2);
	ASSERT_TRUE(pw_json_match(sock, (const char *[]){ "flags.reuseport=true",
							  "flags.reuseport_group=true",
							  "state=listening", NULL }));
	json_decref(ports);
	pw_holder_release(&a);
	pw_holder_release(&b);
	pw_daemon_stop(&d);
}

static void failed_bind_eaddrinuse(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder owner, rogue;
	pid_t rogue_pid;
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_STREAM,
				  .port = port, .listen = true, .comm = "pw-holder" };
	json_t *e;

	pw_daemon_start(&d, NULL);
	pw_holder_spawn(&s, &owner);
	ASSERT_EQ(owner.bind_err, 0);
	s.uid = 1002;
	s.addr = "127.0.0.1";
	pw_holder_spawn(&s, &rogue);
	ASSERT_EQ(rogue.bind_err, EADDRINUSE);
	rogue_pid = rogue.pid;
	pw_holder_release(&rogue);
	e = pw_daemon_wait(&d, WAIT_MS, "event=bind_failed", pw_fmt("socket.netns=%u", ns),
			   pw_fmt("socket.port=%u", port), NULL);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ "errno=EADDRINUSE", "socket.owner.uid=1002",
						       pw_fmt("socket.owner.tgid=%d", rogue_pid),
						       "socket.addr=127.0.0.1", NULL }));
	/* Tiers A and C know the errno; tier B deduces it from the ledger. */
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ pw_test_tier() == 'B' ?
						       "errno_inferred=true" : "errno_inferred=false",
						       NULL }));
	pw_holder_release(&owner);
	pw_daemon_stop(&d);
}

/*
 * The rogue keeps its failed socket open and never binds again: at tier B
 * nothing in the kernel settles the attempt, so the daemon's sweep of open
 * attempts must report it (within about two seconds), not the close.
 */
static void failed_bind_reported_while_socket_open(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder owner, rogue;
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = port, .comm = "pw-holder" };
	json_t *e;

	pw_daemon_start(&d, NULL);
	pw_holder_spawn(&s, &owner);
	ASSERT_EQ(owner.bind_err, 0);
	s.uid = 1002;
	s.comm = "pw-rogue";
	pw_holder_spawn(&s, &rogue);
	ASSERT_EQ(rogue.bind_err, EADDRINUSE);
	e = pw_daemon_wait(&d, WAIT_MS, "event=bind_failed", pw_fmt("socket.netns=%u", ns),
			   pw_fmt("socket.port=%u", port), NULL);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ "errno=EADDRINUSE", "socket.owner.uid=1002",
						       "socket.owner.comm=pw-rogue",
						       pw_fmt("socket.owner.tgid=%d", rogue.pid),
						       NULL }));
	/* Its close later is not a second failure. */
	pw_holder_release(&rogue);
	pw_holder_release(&owner);
	usleep(1500 * 1000);
	pw_daemon_poll(&d);
	ASSERT_EQ(pw_daemon_count(&d, "event=bind_failed", pw_fmt("socket.netns=%u", ns),
				  pw_fmt("socket.port=%u", port), NULL),
		  1);
	pw_daemon_stop(&d);
}

static void socket_from_before_start(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder h;
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = 1002, .family = AF_INET6, .type = SOCK_DGRAM,
				  .addr = "::1", .port = port, .v6only = true,
				  .comm = "pw-holder" };
	json_t *ports, *sock, *e;
	pid_t holder_pid;
	int n;

	pw_holder_spawn(&s, &h);
	ASSERT_EQ(h.bind_err, 0);
	pw_daemon_start(&d, NULL);
	ports = pw_ports_json(ns);
	sock = ports_find(ports, "udp", port, 1002, &n);
	ASSERT_NOT_NULL(sock);
	ASSERT_TRUE(pw_json_match(sock, (const char *[]){ "addr=::1", "flags.v6only=true",
							  pw_fmt("owner.tgid=%d", h.pid),
							  "owner.comm=pw-holder", NULL }));
	json_decref(ports);
	/* The daemon learned it from its start-up inventory: it sees the close. */
	holder_pid = h.pid;
	pw_holder_release(&h);
	e = pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.netns=%u", ns),
			   pw_fmt("socket.port=%u", port), NULL);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ "socket.owner.uid=1002", "socket.addr=::1",
						       pw_fmt("socket.owner.tgid=%d", holder_pid),
						       NULL }));
	pw_daemon_stop(&d);
}

/* A TCP socket bound (never listened) before the daemon started: iter/tcp cannot see it. */
static void tcp_bound_only_from_before_start(void)
{
	uint32_t ns = pw_netns_new();
	struct pw_daemon d;
	struct pw_holder h;
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_STREAM,
				  .addr = "127.0.0.1", .port = port, .comm = "pw-holder" };
	pid_t holder_pid;
	json_t *e;

	pw_holder_spawn(&s, &h);
	ASSERT_EQ(h.bind_err, 0);
	pw_daemon_start(&d, NULL);
	holder_pid = h.pid;
	pw_holder_release(&h);
	/* Its close is reported with its owner: the start-up inventory found it. */
	e = pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.netns=%u", ns),
			   pw_fmt("socket.port=%u", port), NULL);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ "socket.proto=tcp", "socket.state=bound",
						       "socket.owner.uid=1001", "socket.addr=127.0.0.1",
						       pw_fmt("socket.owner.tgid=%d", holder_pid),
						       NULL }));
	pw_daemon_stop(&d);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(tcp_listener_ipv4),
		PW_TEST(tcp_dual_stack_ipv6_listener),
		PW_TEST(udp_reuseaddr_shared_by_two_uids),
		PW_TEST(tcp_reuseport_pair),
		PW_TEST(failed_bind_eaddrinuse),
		PW_TEST(failed_bind_reported_while_socket_open),
		PW_TEST(socket_from_before_start),
		PW_TEST(tcp_bound_only_from_before_start),
	};

	return pw_test_main(argc, argv, "capture", tests, sizeof(tests) / sizeof(tests[0]));
}
