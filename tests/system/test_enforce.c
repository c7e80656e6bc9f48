// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #7: exclusive ports. The enforcement hooks attach to a test cgroup
 * only (never the root: other suites run concurrently), the holders join it,
 * and every bind is a real bind() by a real uid in a private netns.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define WAIT_MS 5000
#define OWNER 1001
#define ROGUE 1002

/* Bind once as @uid in @cg and report bind()'s errno (the holder is released). */
static int try_bind(const char *cg, uid_t uid, int family, int type, const char *addr,
		    uint16_t port, bool reuseaddr)
{
	struct pw_sock_spec s = { .uid = uid, .family = family, .type = type, .addr = addr,
				  .port = port, .reuseaddr = reuseaddr, .cgroup = cg,
				  .comm = "pw-enf" };
	struct pw_holder h;
	int err;

	pw_holder_spawn(&s, &h);
	err = h.bind_err;
	pw_holder_release(&h);
	return err;
}

static void start(struct pw_daemon *d, const char *cg, const char *const *policy)
{
	const char *argv[32];
	int n = 0;

	argv[n++] = "--cgroup";
	argv[n++] = cg;
	argv[n++] = "--no-http";
	argv[n++] = "--db";
	argv[n++] = "none";
	for (; policy && *policy && n < 31; policy++)
		argv[n++] = *policy;
	argv[n] = NULL;
	pw_daemon_start(d, argv);
}

static void expect_refused(struct pw_daemon *d, uint32_t ns, const char *proto, uint16_t port,
			   uid_t uid, const char *mode, const char *reason)
{
	json_t *e = pw_daemon_wait(d, WAIT_MS, "type=event", "event=bind_refused",
				   pw_fmt("socket.netns=%u", ns), pw_fmt("socket.proto=%s", proto),
				   pw_fmt("socket.port=%u", port), pw_fmt("socket.owner.uid=%u", uid),
				   pw_fmt("mode=%s", mode), NULL);

	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(e, (const char *[]){ "source=enforce", pw_fmt("reason=%s", reason),
						       "socket.owner.comm=pw-enf", NULL }));
	e = pw_daemon_wait(d, WAIT_MS, "type=finding", "kind=bind_refused",
			   pw_fmt("netns=%u", ns), pw_fmt("port=%u", port),
			   pw_fmt("evidence.mode=%s", mode), NULL);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(pw_json_match(json_array_get(json_object_get(e, "sockets"), 0),
				  (const char *[]){ pw_fmt("owner.uid=%u", uid), NULL }));
}

/* One family/protocol: the rogue is refused, the owner binds, the owner restarts. */
static void protected_case(int family, int type, const char *addr)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	int proto = type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	const char *pname = proto == IPPROTO_UDP ? "udp" : "tcp";
	uint16_t port = pw_free_port(proto);
	struct pw_daemon d;

	/* Without enforcement the rogue could take the port. */
	ASSERT_EQ(try_bind(cg, ROGUE, family, type, addr, port, false), 0);
	start(&d, cg, (const char *[]){ "--enforce", "--protect",
					pw_fmt("%u/%s=uid:%u", port, pname, OWNER), NULL });
	ASSERT_EQ(try_bind(cg, ROGUE, family, type, addr, port, false), EPERM);
	expect_refused(&d, ns, pname, port, ROGUE, "enforce", "protected_port");
	/* The owner binds, and again after a restart on its own port. */
	ASSERT_EQ(try_bind(cg, OWNER, family, type, addr, port, true), 0);
	ASSERT_EQ(try_bind(cg, OWNER, family, type, addr, port, true), 0);
	/* Root is not the owner either: the policy names who may bind. */
	ASSERT_EQ(try_bind(cg, 0, family, type, addr, port, false), EPERM);
	pw_daemon_stop(&d);
}

static void protected_tcp_ipv4(void)
{
	protected_case(AF_INET, SOCK_STREAM, "127.0.0.1");
}

static void protected_tcp_ipv6(void)
{
	protected_case(AF_INET6, SOCK_STREAM, NULL);
}

static void protected_udp_ipv4(void)
{
	protected_case(AF_INET, SOCK_DGRAM, NULL);
}

static void protected_udp_ipv6(void)
{
	protected_case(AF_INET6, SOCK_DGRAM, "::1");
}

/* The owner holds the port; a rogue on the same port is refused, not just EADDRINUSE. */
static void protected_port_held_by_owner(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = OWNER, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = port, .reuseaddr = true, .cgroup = cg, .comm = "pw-enf" };
	struct pw_daemon d;
	struct pw_holder owner;

	start(&d, cg, (const char *[]){ "--enforce", "--protect",
					pw_fmt("%u/udp=uid:%u", port, OWNER), NULL });
	pw_holder_spawn(&s, &owner);
	ASSERT_EQ(owner.bind_err, 0);
	/* UDP SO_REUSEADDR on both: the kernel would let the rogue share it. */
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, true), EPERM);
	expect_refused(&d, ns, "udp", port, ROGUE, "enforce", "protected_port");
	pw_holder_release(&owner);
	pw_daemon_stop(&d);
}

/* --deny-cross-uid refuses the UDP SO_REUSEADDR sharing the kernel allows across uids. */
static void deny_cross_uid_udp_reuseaddr(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = OWNER, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = port, .reuseaddr = true, .cgroup = cg, .comm = "pw-enf" };
	struct pw_holder a, b, same;
	struct pw_daemon d;

	/* First establish that the kernel itself permits it here. */
	pw_holder_spawn(&s, &a);
	ASSERT_EQ(a.bind_err, 0);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, true), 0);
	pw_holder_release(&a);

	start(&d, cg, (const char *[]){ "--enforce", "--deny-cross-uid", NULL });
	pw_holder_spawn(&s, &a);
	ASSERT_EQ(a.bind_err, 0);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, true), EPERM);
	expect_refused(&d, ns, "udp", port, ROGUE, "enforce", "cross_uid");
	/* Same uid may share (a second worker); IPv6 dual-stack also collides. */
	pw_holder_spawn(&s, &same);
	ASSERT_EQ(same.bind_err, 0);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET6, SOCK_DGRAM, NULL, port, true), EPERM);
	/* Once every holder of uid 1001 is gone the port is free for anyone. */
	pw_holder_release(&same);
	pw_holder_release(&a);
	s.uid = ROGUE;
	pw_holder_spawn(&s, &b);
	ASSERT_EQ(b.bind_err, 0);
	pw_holder_release(&b);
	pw_daemon_stop(&d);
}

/* --deny-shadowing: a specific address over another owner's wildcard. */
static void deny_shadowing_udp(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = OWNER, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = port, .reuseaddr = true, .cgroup = cg, .comm = "pw-enf" };
	struct pw_holder a;
	struct pw_daemon d;

	start(&d, cg, (const char *[]){ "--enforce", "--deny-shadowing", NULL });
	pw_holder_spawn(&s, &a);
	ASSERT_EQ(a.bind_err, 0);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, "127.0.0.1", port, true), EPERM);
	expect_refused(&d, ns, "udp", port, ROGUE, "enforce", "shadowing");
	/* Another wildcard socket does not shadow (that is cross-uid sharing, not asked). */
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, true), 0);
	pw_holder_release(&a);
	pw_daemon_stop(&d);
}

/*
 * Sockets bound before the daemon started are holders too (enf_seed), so the
 * deny switches protect the services already running: a stranger is refused,
 * the holder's own identity (uid, cgroup, executable) is recognized when it
 * adds an address, and once it is gone the port is free again (no holder is
 * left behind). Without the seeding the rogue's first bind succeeds.
 */
static void deny_switches_cover_sockets_older_than_daemon(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct pw_sock_spec s = { .uid = OWNER, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = port, .reuseaddr = true, .cgroup = cg, .comm = "pw-enf" };
	struct pw_holder owner;
	struct pw_daemon d;

	pw_holder_spawn(&s, &owner);
	ASSERT_EQ(owner.bind_err, 0);
	start(&d, cg, (const char *[]){ "--enforce", "--deny-cross-uid", "--deny-shadowing", NULL });
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, true), EPERM);
	expect_refused(&d, ns, "udp", port, ROGUE, "enforce", "cross_uid");
	/* Its owner (same uid, cgroup and binary) may add a specific address. */
	ASSERT_EQ(try_bind(cg, OWNER, AF_INET, SOCK_DGRAM, "127.0.0.1", port, true), 0);
	pw_holder_release(&owner);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, true), 0);
	pw_daemon_stop(&d);
}

/* --audit refuses nothing and reports what --enforce would have refused. */
static void audit_reports_only(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_daemon d;

	start(&d, cg, (const char *[]){ "--audit", "--protect",
					pw_fmt("%u/tcp=uid:%u", port, OWNER), NULL });
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false), 0);
	expect_refused(&d, ns, "tcp", port, ROGUE, "audit", "protected_port");
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind_refused",
				       pw_fmt("socket.port=%u", port), "refused=false", NULL));
	/* The audited bind really happened. */
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind", pw_fmt("socket.netns=%u", ns),
				       pw_fmt("socket.port=%u", port), "socket.owner.uid=1002", NULL));
	pw_daemon_stop(&d);
}

/* exe: and cgroup: owners. */
static void owners_by_cgroup_and_exe(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	char sub[300], self[4096];
	uint16_t p1 = pw_free_port(IPPROTO_TCP), p2 = pw_free_port(IPPROTO_UDP);
	struct pw_daemon d;
	ssize_t n;

	snprintf(sub, sizeof(sub), "%s/svc", cg);
	ASSERT_TRUE(!mkdir(sub, 0755) || errno == EEXIST);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ASSERT_TRUE(n > 0);
	self[n] = '\0';
	start(&d, cg, (const char *[]){ "--enforce", "--protect",
					pw_fmt("%u/tcp=cgroup:%s", p1, sub), "--protect",
					pw_fmt("%u/udp=exe:/usr/bin/python3", p2), NULL });
	/* cgroup: only processes in svc (or below) may bind p1, whatever their uid. */
	ASSERT_EQ(try_bind(cg, OWNER, AF_INET, SOCK_STREAM, NULL, p1, false), EPERM);
	ASSERT_EQ(try_bind(sub, ROGUE, AF_INET, SOCK_STREAM, NULL, p1, false), 0);
	/* exe: this test binary is not python3. */
	ASSERT_EQ(try_bind(cg, OWNER, AF_INET, SOCK_DGRAM, NULL, p2, false), EPERM);
	expect_refused(&d, ns, "udp", p2, OWNER, "enforce", "protected_port");
	{
		int status;
		char *out = pw_run_capture(
			pw_fmt("sh -c 'echo $$ > %s/cgroup.procs && exec /usr/bin/python3 -c "
			       "\"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
			       "s.bind((\\\"0.0.0.0\\\", %u)); print(\\\"bound\\\")\"' 2>&1",
			       cg, p2),
			&status);

		ASSERT_TRUE(out && strstr(out, "bound"));
		free(out);
	}
	pw_daemon_stop(&d);
	rmdir(sub);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

/* SIGHUP reloads; a file that fails validation keeps the old policy. */
static void reload_keeps_old_policy_on_bad_file(void)
{
	uint32_t ns = pw_netns_new();
	const char *cg = pw_cgroup_new("enf");
	uint16_t port = pw_free_port(IPPROTO_UDP);
	char conf[64];
	struct pw_daemon d;

	snprintf(conf, sizeof(conf), "/tmp/pw-test-%d-enforce.conf", getpid());
	write_text(conf, pw_fmt("[enforce]\nmode = enforce\n[protect]\n%u/udp = uid:%u\n", port,
				OWNER));
	start(&d, cg, (const char *[]){ "--config", conf, NULL });
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, false), EPERM);
	ASSERT_EQ(try_bind(cg, OWNER, AF_INET, SOCK_DGRAM, NULL, port, false), 0);

	/* A valid change takes effect without a restart: the port now belongs to 1002. */
	write_text(conf, pw_fmt("[enforce]\nmode = enforce\n[protect]\n%u/udp = uid:%u\n", port,
				ROGUE));
	kill(d.pid, SIGHUP);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "type=enforce_reload", "ok=true", NULL));
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, false), 0);
	ASSERT_EQ(try_bind(cg, OWNER, AF_INET, SOCK_DGRAM, NULL, port, false), EPERM);

	/* A bad file (unknown owner type on line 4): rejected whole, 1002 keeps the port. */
	write_text(conf, pw_fmt("[enforce]\nmode = enforce\n[protect]\n%u/udp = user:%u\n", port,
				OWNER));
	kill(d.pid, SIGHUP);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "type=enforce_reload", "ok=false", NULL));
	ASSERT_EQ(try_bind(cg, OWNER, AF_INET, SOCK_DGRAM, NULL, port, false), EPERM);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_DGRAM, NULL, port, false), 0);
	pw_daemon_stop(&d);
	unlink(conf);
	(void)ns;
}

/* Fail-safe: a killed daemon leaves no enforcement behind. */
static void killed_daemon_stops_enforcing(void)
{
	const char *cg;
	uint16_t port;
	struct pw_daemon d;
	int status;

	pw_netns_new();
	cg = pw_cgroup_new("enf");
	port = pw_free_port(IPPROTO_TCP);
	start(&d, cg, (const char *[]){ "--enforce", "--protect",
					pw_fmt("%u/tcp=uid:%u", port, OWNER), NULL });
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false), EPERM);
	kill(d.pid, SIGKILL);
	waitpid(d.pid, &status, 0);
	d.pid = 0;
	/* The links died with the process (closing their fds detaches them). */
	for (int i = 0; i < 50 && try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false);
	     i++)
		usleep(100000);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false), 0);
	pw_daemon_stop(&d);
}

/* --pin keeps enforcing after the daemon is killed, until `portwarden unpin`. */
static void pinned_enforcement_survives_until_unpin(void)
{
	const char *cg;
	uint16_t port;
	struct pw_daemon d;
	char pin[96], *out;
	int status;

	pw_netns_new();
	cg = pw_cgroup_new("enf");
	port = pw_free_port(IPPROTO_TCP);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pw-test-%d-enforce", getpid());
	start(&d, cg, (const char *[]){ "--enforce", "--pin", pin, "--protect",
					pw_fmt("%u/tcp=uid:%u", port, OWNER), NULL });
	kill(d.pid, SIGKILL);
	waitpid(d.pid, &status, 0);
	d.pid = 0;
	usleep(200000);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false), EPERM);
	out = pw_run_capture(pw_fmt("%s unpin %s", pw_bin(), pin), &status);
	ASSERT_EQ(status, 0);
	ASSERT_TRUE(out && strstr(out, "removed 5"));
	free(out);
	for (int i = 0; i < 50 && try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false);
	     i++)
		usleep(100000);
	ASSERT_EQ(try_bind(cg, ROGUE, AF_INET, SOCK_STREAM, NULL, port, false), 0);
	pw_daemon_stop(&d);
}

/* A policy that cannot be honoured is refused at start, never run half-way. */
static void bad_policy_refused_at_start(void)
{
	int status;
	char *out;

	out = pw_run_capture(pw_fmt("%s run --enforce --protect 8443/tcp=exe:/nonexistent 2>&1",
				    pw_bin()),
			     &status);
	ASSERT_TRUE(status != 0);
	ASSERT_TRUE(out && strstr(out, "/nonexistent"));
	free(out);
	out = pw_run_capture(pw_fmt("%s run --protect 8443/tcp=uid:1001 --no-http --db none "
				    "--cgroup /nonexistent 2>&1",
				    pw_bin()),
			     &status);
	ASSERT_TRUE(status != 0);
	ASSERT_TRUE(out && strstr(out, "needs a mode"));
	free(out);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(protected_tcp_ipv4),
		PW_TEST(protected_tcp_ipv6),
		PW_TEST(protected_udp_ipv4),
		PW_TEST(protected_udp_ipv6),
		PW_TEST(protected_port_held_by_owner),
		PW_TEST(deny_cross_uid_udp_reuseaddr),
		PW_TEST(deny_shadowing_udp),
		PW_TEST(deny_switches_cover_sockets_older_than_daemon),
		PW_TEST(audit_reports_only),
		PW_TEST(owners_by_cgroup_and_exe),
		PW_TEST(reload_keeps_old_policy_on_bad_file),
		PW_TEST(killed_daemon_stops_enforcing),
		PW_TEST(pinned_enforcement_survives_until_unpin),
		PW_TEST(bad_policy_refused_at_start),
	};

	if (pw_test_tier() != 'B')
		printf("note: enforcement has one tier; the bind tier only changes capture\n");
	return pw_test_main(argc, argv, "enforce", tests, sizeof(tests) / sizeof(tests[0]));
}
