// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #3: every finding kind from real binds by real uids in a private
 * netns, both directions of each race (owner first, rogue first), the
 * "ended" record when the sharing stops, one finding per incident, and the
 * benign setups that must stay quiet (real nginx with reuseport, a
 * fork-inherited listener, a restart, a socket passed with SCM_RIGHTS).
 * Also the config file: errors name the line, a bad file stops the start,
 * a bad SIGHUP reload keeps the running config.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "sockd.h"

#define WAIT_MS 5000
#define OWNER 1001
#define ROGUE 1002
/* Long enough for a scan, a tick and an end_grace of 1 s. */
#define QUIET_MS 2500

static char conf_path[128];

static void write_config(const char *text)
{
	FILE *f;

	snprintf(conf_path, sizeof(conf_path), "/tmp/pw-test-%d-detect.conf", getpid());
	f = fopen(conf_path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

static void remove_config(void)
{
	if (conf_path[0])
		unlink(conf_path);
}

/* A daemon with @cfg (NULL: end_grace 1s; wildcard_exposure, tested on its own, off). */
static void start(struct pw_daemon *d, const char *cfg)
{
	write_config(cfg ? cfg : "[detect]\nend_grace = 1s\ndisable = wildcard_exposure\n");
	atexit(remove_config);
	pw_daemon_start(d, (const char *[]){ "--config", conf_path, NULL });
}

/* Ends wait for end_grace and a tick on top of the event path: a longer wait. */
static json_t *wait_finding(struct pw_daemon *d, uint32_t ns, const char *kind, uint16_t port,
			    const char *status)
{
	return pw_daemon_wait(d, strcmp(status, "ended") ? WAIT_MS : 2 * WAIT_MS, "type=finding", pw_fmt("kind=%s", kind),
			      pw_fmt("netns=%u", ns), pw_fmt("port=%u", port),
			      pw_fmt("status=%s", status), NULL);
}

static size_t count_findings(struct pw_daemon *d, uint32_t ns, uint16_t port, const char *status)
{
	return pw_daemon_count(d, "type=finding", pw_fmt("netns=%u", ns), pw_fmt("port=%u", port),
			       pw_fmt("status=%s", status), NULL);
}

/* Wait until the daemon saw @n bind events on @port, then let detection settle. */
static void settle(struct pw_daemon *d, uint32_t ns, uint16_t port, size_t n)
{
	for (int i = 0; i < WAIT_MS / 50; i++) {
		if (pw_daemon_count(d, "event=bind", pw_fmt("socket.netns=%u", ns),
				    pw_fmt("socket.port=%u", port), NULL) >= n)
			break;
		usleep(50000);
	}
	usleep(QUIET_MS * 1000);
	pw_daemon_poll(d);
}

static void expect_quiet(struct pw_daemon *d, uint32_t ns, uint16_t port, size_t binds)
{
	json_t *o;
	size_t i;

	settle(d, ns, port, binds);
	ASSERT_TRUE(pw_daemon_count(d, "event=bind", pw_fmt("socket.netns=%u", ns),
				    pw_fmt("socket.port=%u", port), NULL) >= binds);
	json_array_foreach(d->lines, i, o) {
		if (pw_json_match(o, (const char *[]){ "type=finding", pw_fmt("netns=%u", ns),
						       pw_fmt("port=%u", port), NULL }))
			pw_fail(__FILE__, __LINE__, "unexpected finding: %s",
				json_dumps(o, JSON_COMPACT));
	}
}

static int sock_bind(struct sockd *w, int family, int type, const char *addr, uint16_t port,
		     bool ra, bool rp, bool v6only)
{
	int h = sockd_socket(w, family, type, ra, rp, v6only);

	ASSERT_TRUE(h >= 0);
	ASSERT_EQ(sockd_bind(w, h, addr, port), 0);
	return h;
}

/* ---- cross_user_reuse: UDP SO_REUSEADDR shared by two uids -------------- */

static void udp_reuseaddr_two_uids(bool rogue_first)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct sockd owner, rogue, *first, *second;
	struct pw_daemon d;
	json_t *f;
	int h1, h2;

	start(&d, NULL);
	sockd_start(&owner, OWNER, NULL, "pw-owner");
	sockd_start(&rogue, ROGUE, NULL, "pw-rogue");
	first = rogue_first ? &rogue : &owner;
	second = rogue_first ? &owner : &rogue;
	h1 = sock_bind(first, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);
	h2 = sock_bind(second, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);
	f = wait_finding(&d, ns, "cross_user_reuse", port, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=critical", "proto=udp",
						       "evidence.vector=shared_port",
						       "evidence.enabled_by=SO_REUSEADDR on both UDP sockets",
						       NULL }));
	ASSERT_EQ(json_array_size(json_object_get(f, "sockets")), 2);
	ASSERT_EQ(json_integer_value(json_object_get(
			  json_object_get(json_array_get(json_object_get(f, "sockets"), 0), "owner"),
			  "uid")),
		  first->uid);
	ASSERT_EQ(json_integer_value(json_object_get(
			  json_object_get(json_array_get(json_object_get(f, "sockets"), 1), "owner"),
			  "uid")),
		  second->uid);
	/* Packets do not make more findings. */
	{
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int c = socket(AF_INET, SOCK_DGRAM, 0);

		for (int i = 0; i < 100; i++)
			sendto(c, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst));
		close(c);
	}
	sockd_close(second, h2);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "cross_user_reuse", port, "ended"));
	ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
	sockd_close(first, h1);
	sockd_stop(&owner);
	sockd_stop(&rogue);
	pw_daemon_stop(&d);
}

static void udp_reuseaddr_two_uids_owner_first(void)
{
	udp_reuseaddr_two_uids(false);
}

static void udp_reuseaddr_two_uids_rogue_first(void)
{
	udp_reuseaddr_two_uids(true);
}

/* A rogue re-binding in a loop is one incident, not one finding per bind. */
static void rebind_loop_is_one_finding(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct sockd owner, rogue;
	struct pw_daemon d;

	start(&d, "[detect]\nend_grace = 2s\ndisable = wildcard_exposure\n");
	sockd_start(&owner, OWNER, NULL, "pw-owner");
	sockd_start(&rogue, ROGUE, NULL, "pw-rogue");
	sock_bind(&owner, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);
	for (int i = 0; i < 10; i++) {
		int h = sock_bind(&rogue, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);

		usleep(100000);
		sockd_close(&rogue, h);
	}
	ASSERT_NOT_NULL(wait_finding(&d, ns, "cross_user_reuse", port, "ended"));
	usleep(1500000);
	ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
	ASSERT_EQ(count_findings(&d, ns, port, "ended"), 1);
	ASSERT_EQ(pw_daemon_count(&d, "event=bind", pw_fmt("socket.netns=%u", ns),
				  pw_fmt("socket.port=%u", port), NULL), 11);
	sockd_stop(&owner);
	sockd_stop(&rogue);
	pw_daemon_stop(&d);
}

/* ---- shadowing ---------------------------------------------------------- */

static void specific_over_wildcard(bool rogue_first)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct sockd owner, rogue;
	struct pw_daemon d;
	json_t *f;
	int hr;

	start(&d, NULL);
	sockd_start(&owner, OWNER, NULL, "pw-owner");
	sockd_start(&rogue, ROGUE, NULL, "pw-rogue");
	if (rogue_first)
		hr = sock_bind(&rogue, AF_INET, SOCK_DGRAM, "127.0.0.1", port, true, false, false);
	sock_bind(&owner, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);
	if (!rogue_first)
		hr = sock_bind(&rogue, AF_INET, SOCK_DGRAM, "127.0.0.1", port, true, false, false);
	f = wait_finding(&d, ns, "shadowing", port, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=high",
						       "evidence.vector=specific_over_wildcard",
						       NULL }));
	ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
	sockd_close(&rogue, hr);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "shadowing", port, "ended"));
	sockd_stop(&owner);
	sockd_stop(&rogue);
	pw_daemon_stop(&d);
}

static void specific_over_wildcard_owner_first(void)
{
	specific_over_wildcard(false);
}

static void specific_over_wildcard_rogue_first(void)
{
	specific_over_wildcard(true);
}

/* An IPv4-only service and a stranger on [::] v6only (or the reverse). */
static void family_gap(bool owner_v4)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd owner, rogue;
	struct pw_daemon d;
	json_t *f;
	int h;

	start(&d, NULL);
	sockd_start(&owner, OWNER, NULL, "pw-owner");
	sockd_start(&rogue, ROGUE, NULL, "pw-rogue");
	h = sock_bind(&owner, owner_v4 ? AF_INET : AF_INET6, SOCK_STREAM, NULL, port, false, false,
		      true);
	ASSERT_EQ(sockd_listen(&owner, h), 0);
	h = sock_bind(&rogue, owner_v4 ? AF_INET6 : AF_INET, SOCK_STREAM, NULL, port, false, false,
		      true);
	ASSERT_EQ(sockd_listen(&rogue, h), 0);
	f = wait_finding(&d, ns, "shadowing", port, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "evidence.vector=address_family_gap",
						       "proto=tcp", NULL }));
	sockd_stop(&rogue);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "shadowing", port, "ended"));
	sockd_stop(&owner);
	pw_daemon_stop(&d);
}

static void family_gap_v6only_beside_ipv4(void)
{
	family_gap(true);
}

static void family_gap_ipv4_beside_v6only(void)
{
	family_gap(false);
}

/* ---- listen_race -------------------------------------------------------- */

/* Both bind with SO_REUSEADDR; the second binder listens first and wins. */
static void listen_race(bool rogue_first)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd owner, rogue, *first, *second;
	struct pw_daemon d;
	json_t *f;
	int h1, h2;

	start(&d, NULL);
	sockd_start(&owner, OWNER, NULL, "pw-owner");
	sockd_start(&rogue, ROGUE, NULL, "pw-rogue");
	first = rogue_first ? &rogue : &owner;
	second = rogue_first ? &owner : &rogue;
	h1 = sock_bind(first, AF_INET, SOCK_STREAM, "127.0.0.1", port, true, false, false);
	h2 = sock_bind(second, AF_INET, SOCK_STREAM, "127.0.0.1", port, true, false, false);
	f = wait_finding(&d, ns, "listen_race", port, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=high",
						       "evidence.vector=bound_before_listen",
						       NULL }));
	/* The kernel's side of the race: the first listen() wins, the other fails. */
	ASSERT_EQ(sockd_listen(second, h2), 0);
	ASSERT_EQ(sockd_listen(first, h1), EADDRINUSE);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       pw_fmt("socket.owner.uid=%u", second->uid), NULL));
	/* Still one incident while both sockets live; ended when the loser goes. */
	usleep(1500000);
	ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
	sockd_close(first, h1);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "listen_race", port, "ended"));
	sockd_stop(&owner);
	sockd_stop(&rogue);
	pw_daemon_stop(&d);
}

static void listen_race_owner_first(void)
{
	listen_race(false);
}

static void listen_race_rogue_first(void)
{
	listen_race(true);
}

/* ---- takeover ----------------------------------------------------------- */

static void tcp_service(struct sockd *w, uint16_t port)
{
	int h = sock_bind(w, AF_INET, SOCK_STREAM, "127.0.0.1", port, false, false, false);

	ASSERT_EQ(sockd_listen(w, h), 0);
}

static void takeover(uid_t first_uid, uid_t second_uid)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd a, b;
	struct pw_daemon d;
	json_t *f;

	start(&d, NULL);
	sockd_start(&a, first_uid, NULL, "pw-a");
	tcp_service(&a, port);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       NULL));
	sockd_stop(&a); /* the owner exits */
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.port=%u", port),
				       NULL));
	sockd_start(&b, second_uid, NULL, "pw-b");
	tcp_service(&b, port);
	f = wait_finding(&d, ns, "takeover", port, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=high",
						       "evidence.vector=bind_after_release",
						       "evidence.takeover_window_ms=60000", NULL }));
	ASSERT_TRUE(json_integer_value(json_object_get(json_object_get(f, "evidence"),
						       "after_release_ms")) < 5000);
	ASSERT_EQ(json_integer_value(json_array_get(json_object_get(json_object_get(f, "evidence"),
								   "uids"), 0)), first_uid);
	ASSERT_EQ(json_integer_value(json_array_get(json_object_get(json_object_get(f, "evidence"),
								   "uids"), 1)), second_uid);
	sockd_stop(&b);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "takeover", port, "ended"));
	ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
	pw_daemon_stop(&d);
}

static void takeover_owner_exits_rogue_binds(void)
{
	takeover(OWNER, ROGUE);
}

static void takeover_rogue_exits_owner_binds(void)
{
	takeover(ROGUE, OWNER);
}

static void takeover_udp_service(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct sockd a, b;
	struct pw_daemon d;

	start(&d, "[detect]\nend_grace = 1s\ndisable = wildcard_exposure\n");
	sockd_start(&a, OWNER, NULL, "pw-a");
	sock_bind(&a, AF_INET, SOCK_DGRAM, NULL, port, false, false, false);
	usleep(1200000); /* a service: bound >= service_min_age (1 s) */
	sockd_stop(&a);
	sockd_start(&b, ROGUE, NULL, "pw-b");
	sock_bind(&b, AF_INET, SOCK_DGRAM, NULL, port, false, false, false);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "takeover", port, "active"));
	sockd_stop(&b);
	pw_daemon_stop(&d);
}

static void no_takeover_after_window(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd a, b;
	struct pw_daemon d;

	start(&d, "[detect]\ntakeover_window = 1s\nend_grace = 1s\ndisable = wildcard_exposure\n");
	sockd_start(&a, OWNER, NULL, "pw-a");
	tcp_service(&a, port);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       NULL));
	sockd_stop(&a);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.port=%u", port),
				       NULL));
	usleep(2500000);
	sockd_start(&b, ROGUE, NULL, "pw-b");
	tcp_service(&b, port);
	expect_quiet(&d, ns, port, 2);
	sockd_stop(&b);
	pw_daemon_stop(&d);
}

/* A server restarting on its own port, and a bind-and-close probe, own nothing. */
static void no_takeover_by_same_owner_restart(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd a, a2;
	struct pw_daemon d;

	start(&d, NULL);
	sockd_start(&a, OWNER, NULL, "pw-server");
	tcp_service(&a, port);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       NULL));
	sockd_stop(&a);
	sockd_start(&a2, OWNER, NULL, "pw-server");
	tcp_service(&a2, port);
	expect_quiet(&d, ns, port, 2);
	sockd_stop(&a2);
	pw_daemon_stop(&d);
}

static void no_takeover_after_probe(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd a, b;
	struct pw_daemon d;
	int h;

	start(&d, NULL);
	sockd_start(&a, OWNER, NULL, "pw-probe");
	h = sock_bind(&a, AF_INET, SOCK_STREAM, "127.0.0.1", port, false, false, false);
	sockd_close(&a, h); /* bound, never listened: not a service */
	sockd_start(&b, ROGUE, NULL, "pw-b");
	tcp_service(&b, port);
	expect_quiet(&d, ns, port, 2);
	sockd_stop(&a);
	sockd_stop(&b);
	pw_daemon_stop(&d);
}

/* ---- cross_workload_reuse: same uid, another cgroup joins the group ----- */

static void reuseport_join(bool stranger_first)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	const char *cg_svc = pw_cgroup_new("svc"), *cg_other = pw_cgroup_new("other");
	struct sockd svc, stranger, *first, *second;
	struct pw_daemon d;
	json_t *f;
	int h;

	start(&d, NULL);
	sockd_start(&svc, OWNER, cg_svc, "pw-svc");
	sockd_start(&stranger, OWNER, cg_other, "pw-svc");
	first = stranger_first ? &stranger : &svc;
	second = stranger_first ? &svc : &stranger;
	h = sock_bind(first, AF_INET, SOCK_STREAM, "127.0.0.1", port, false, true, false);
	ASSERT_EQ(sockd_listen(first, h), 0);
	h = sock_bind(second, AF_INET, SOCK_STREAM, "127.0.0.1", port, false, true, false);
	ASSERT_EQ(sockd_listen(second, h), 0);
	f = wait_finding(&d, ns, "cross_workload_reuse", port, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=high",
						       "evidence.vector=reuseport_join",
						       "evidence.enabled_by=SO_REUSEPORT on both "
						       "sockets, same uid: one reuseport group",
						       NULL }));
	ASSERT_STREQ(json_string_value(json_array_get(
			     json_object_get(json_object_get(f, "evidence"), "differs"), 0)),
		     "cgroup");
	ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
	sockd_stop(&stranger);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "cross_workload_reuse", port, "ended"));
	sockd_stop(&svc);
	pw_daemon_stop(&d);
}

static void reuseport_join_by_other_cgroup(void)
{
	reuseport_join(false);
}

static void reuseport_join_other_cgroup_first(void)
{
	reuseport_join(true);
}

/* ---- bind_conflict ------------------------------------------------------ */

static void failed_bind(uid_t holder_uid, uid_t other_uid, bool expect)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct sockd holder, other;
	struct pw_daemon d;
	json_t *f;
	int h;

	start(&d, NULL);
	sockd_start(&holder, holder_uid, NULL, "pw-holder");
	tcp_service(&holder, port);
	sockd_start(&other, other_uid, NULL, "pw-holder");
	for (int i = 0; i < 5; i++) {
		/* A retry loop: one finding. */
		h = sockd_socket(&other, AF_INET, SOCK_STREAM, false, false, false);
		ASSERT_EQ(sockd_bind(&other, h, "127.0.0.1", port), EADDRINUSE);
		sockd_close(&other, h);
	}
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind_failed",
				       pw_fmt("socket.port=%u", port), NULL));
	if (expect) {
		f = wait_finding(&d, ns, "bind_conflict", port, "active");
		ASSERT_NOT_NULL(f);
		ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=medium",
							       "evidence.errno=EADDRINUSE",
							       "evidence.held_by=live socket",
							       NULL }));
		ASSERT_EQ(json_integer_value(json_array_get(
				  json_object_get(json_object_get(f, "evidence"), "uids"), 0)),
			  holder_uid);
		usleep(1000000);
		ASSERT_EQ(count_findings(&d, ns, port, "active"), 1);
		/* An event, not a state: ended at once. */
		ASSERT_EQ(count_findings(&d, ns, port, "ended"), 1);
	} else {
		expect_quiet(&d, ns, port, 1);
	}
	sockd_stop(&holder);
	sockd_stop(&other);
	pw_daemon_stop(&d);
}

static void failed_bind_as_other_uid_owner_first(void)
{
	failed_bind(OWNER, ROGUE, true);
}

static void failed_bind_as_other_uid_rogue_first(void)
{
	failed_bind(ROGUE, OWNER, true);
}

static void failed_bind_same_owner_quiet(void)
{
	failed_bind(OWNER, OWNER, false);
}

/* ---- wildcard_exposure and [allow] -------------------------------------- */

static void wildcard_exposure_and_allow_list(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t exposed = pw_free_port(IPPROTO_TCP), allowed = pw_free_port(IPPROTO_TCP);
	uint16_t shared = pw_free_port(IPPROTO_UDP);
	struct sockd a, b;
	struct pw_daemon d;
	json_t *f;
	int h;

	while (allowed == exposed)
		allowed = pw_free_port(IPPROTO_TCP);
	start(&d, pw_fmt("[detect]\nend_grace = 1s\n[allow]\nwildcard = %u/tcp, %u/udp\n"
			 "%u/udp = uid:%u, uid:%u\n",
			 allowed, shared, shared, OWNER, ROGUE));
	sockd_start(&a, OWNER, NULL, "pw-a");
	sockd_start(&b, ROGUE, NULL, "pw-b");
	h = sock_bind(&a, AF_INET, SOCK_STREAM, NULL, exposed, false, false, false);
	ASSERT_EQ(sockd_listen(&a, h), 0);
	f = wait_finding(&d, ns, "wildcard_exposure", exposed, "active");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(pw_json_match(f, (const char *[]){ "severity=low",
						       "evidence.vector=wildcard_listener", NULL }));
	ASSERT_STREQ(json_string_value(json_array_get(
			     json_object_get(json_object_get(f, "evidence"), "addresses"), 0)),
		     "0.0.0.0");
	h = sock_bind(&a, AF_INET, SOCK_STREAM, NULL, allowed, false, false, false);
	ASSERT_EQ(sockd_listen(&a, h), 0);
	/* Sharing between the listed owners is expected: quiet. */
	sock_bind(&a, AF_INET, SOCK_DGRAM, NULL, shared, true, false, false);
	sock_bind(&b, AF_INET, SOCK_DGRAM, NULL, shared, true, false, false);
	expect_quiet(&d, ns, allowed, 1);
	expect_quiet(&d, ns, shared, 2);
	sockd_stop(&a);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "wildcard_exposure", exposed, "ended"));
	sockd_stop(&b);
	pw_daemon_stop(&d);
}

/* ---- benign setups ------------------------------------------------------ */

static void nginx_reuseport_4_workers_quiet(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	char dir[64] = "/tmp/pw-detect-nginx-XXXXXX", conf[128];
	struct pw_daemon d;
	pid_t pid;
	FILE *f;
	int status;

	if (access("/usr/sbin/nginx", X_OK))
		pw_skip("nginx is not installed (/usr/sbin/nginx; apt-get install nginx-light)");
	start(&d, NULL);
	ASSERT_NOT_NULL(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	f = fopen(conf, "w");
	ASSERT_NOT_NULL(f);
	fprintf(f,
		"worker_processes 4;\n"
		"user nobody nogroup;\n"
		"daemon off;\n"
		"pid %s/nginx.pid;\n"
		"error_log %s/error.log;\n"
		"events { worker_connections 64; }\n"
		"http {\n"
		"  access_log off;\n"
		"  client_body_temp_path %s/body;\n"
		"  proxy_temp_path %s/proxy;\n"
		"  fastcgi_temp_path %s/fastcgi;\n"
		"  server { listen 127.0.0.1:%u reuseport; location / { return 204; } }\n"
		"}\n",
		dir, dir, dir, dir, dir, port);
	fclose(f);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		execl("/usr/sbin/nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
		_exit(127);
	}
	/* 4 workers: 4 reuseport sockets on the port. */
	for (int i = 0; i < 100; i++) {
		if (pw_daemon_count(&d, "event=listen", pw_fmt("socket.netns=%u", ns),
				    pw_fmt("socket.port=%u", port), NULL) >= 4)
			break;
		usleep(50000);
	}
	ASSERT_EQ(pw_daemon_count(&d, "event=listen", pw_fmt("socket.netns=%u", ns),
				  pw_fmt("socket.port=%u", port), "socket.flags.reuseport=true", NULL),
		  4);
	{
		/* It serves. */
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		char buf[256];
		int c = socket(AF_INET, SOCK_STREAM, 0);
		ssize_t n;

		ASSERT_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
		ASSERT_TRUE(write(c, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
		n = read(c, buf, sizeof(buf) - 1);
		ASSERT_TRUE(n > 12);
		buf[n] = '\0';
		ASSERT_TRUE(strstr(buf, " 204 ") != NULL);
		close(c);
	}
	{
		/* The 4 workers run as nobody. */
		char *ps = pw_run_capture(pw_fmt("ps -o user= --ppid %d | grep -c nobody", pid),
					  &status);

		ASSERT_EQ(atoi(ps ? ps : "0"), 4);
		free(ps);
	}
	expect_quiet(&d, ns, port, 4);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	pw_run_capture(pw_fmt("rm -rf %s", dir), &status);
	pw_daemon_stop(&d);
}

static void drop_to(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(92);
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		_exit(93);
	return fd;
}

/* A server forks workers that inherit its listener; the parent exits first. */
static void fork_inherited_listener_quiet(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_daemon d;
	int ctl[2], status;
	pid_t server;
	char c;

	start(&d, NULL);
	ASSERT_EQ(pipe(ctl), 0);
	server = fork();
	if (!server) {
		int fd;

		close(ctl[1]);
		drop_to(OWNER);
		fd = listen_on(port);
		for (int i = 0; i < 3; i++) {
			if (!fork()) {
				while (read(ctl[0], &c, 1) > 0)
					;
				close(fd);
				_exit(0);
			}
		}
		_exit(0); /* the workers keep the socket */
	}
	close(ctl[0]);
	waitpid(server, &status, 0);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       NULL));
	expect_quiet(&d, ns, port, 1);
	close(ctl[1]);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.port=%u", port),
				       NULL));
	pw_daemon_stop(&d);
}

/* A socket passed over a Unix socket (SCM_RIGHTS) to a process of the same owner. */
static void scm_rights_same_owner_quiet(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_daemon d;
	int sv[2], status;
	pid_t sender, receiver;

	start(&d, NULL);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	receiver = fork();
	if (!receiver) {
		char data, cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &data, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		int fd;

		close(sv[0]);
		drop_to(OWNER);
		if (recvmsg(sv[1], &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
			_exit(94);
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(fd));
		/* Serve a while on the received socket, then a second one of our own. */
		while (read(sv[1], &data, 1) > 0)
			;
		close(fd);
		_exit(0);
	}
	sender = fork();
	if (!sender) {
		char data = 'x', cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &data, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		int fd;

		close(sv[1]);
		drop_to(OWNER);
		fd = listen_on(port);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
		if (sendmsg(sv[0], &m, 0) != 1)
			_exit(95);
		close(fd);
		_exit(0);
	}
	close(sv[1]);
	waitpid(sender, &status, 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_quiet(&d, ns, port, 1);
	close(sv[0]);
	waitpid(receiver, &status, 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.port=%u", port),
				       NULL));
	pw_daemon_stop(&d);
}

/* ---- config ------------------------------------------------------------- */

static void bad_config_names_line_and_does_not_start(void)
{
	char *out;
	int status;

	pw_netns_new();
	write_config("# portwarden\n[detect]\ntakeover_window = 60s\nend_grace = soon\n"
		     "[allow]\nwildcard = 22/tcp\n");
	atexit(remove_config);
	out = pw_run_capture(pw_fmt("%s run --config %s --events /dev/null --no-http --db none "
				    "2>&1",
				    pw_bin(), conf_path),
			     &status);
	ASSERT_NOT_NULL(out);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	if (!strstr(out, pw_fmt("%s:4: invalid end_grace 'soon'", conf_path)))
		pw_fail(__FILE__, __LINE__, "error does not name line 4: %s", out);
	ASSERT_NULL(strstr(out, "hook family")); /* nothing was loaded */
	free(out);
	write_config("[detect]\ntakeover_window = 60s\n[allow]\nwildcard = 22/tcp\n"
		     "53/udp = uid:0, user:bind\n");
	out = pw_run_capture(pw_fmt("%s run --config %s --events /dev/null --no-http --db none "
				    "2>&1",
				    pw_bin(), conf_path),
			     &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	if (!strstr(out, pw_fmt("%s:5: invalid owner 'user:bind'", conf_path)))
		pw_fail(__FILE__, __LINE__, "error does not name line 5: %s", out);
	free(out);
}

/* SIGHUP: a bad file keeps the running config; a good one replaces it. */
static void sighup_reload(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_UDP);
	struct sockd a, b;
	struct pw_daemon d;
	json_t *r;
	int h;

	start(&d, pw_fmt("[detect]\nend_grace = 1s\ndisable = wildcard_exposure\n[allow]\n"
			 "%u/udp = *\n",
			 port));
	sockd_start(&a, OWNER, NULL, "pw-a");
	sockd_start(&b, ROGUE, NULL, "pw-b");
	write_config(pw_fmt("[detect]\nend_grace = 1s\n[allow]\n%u/udp = *\nbogus\n", port));
	kill(d.pid, SIGHUP);
	r = pw_daemon_wait(&d, WAIT_MS, "type=config_reload", NULL);
	ASSERT_NOT_NULL(r);
	ASSERT_TRUE(pw_json_match(r, (const char *[]){ "ok=false", NULL }));
	ASSERT_NOT_NULL(strstr(json_string_value(json_object_get(r, "error")), ":5:"));
	/* The old allow-list still holds. */
	sock_bind(&a, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);
	h = sock_bind(&b, AF_INET, SOCK_DGRAM, NULL, port, true, false, false);
	expect_quiet(&d, ns, port, 2);
	/* A good file without the rule: the sharing is now a finding. */
	write_config("[detect]\nend_grace = 1s\ndisable = wildcard_exposure\n");
	kill(d.pid, SIGHUP);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "type=config_reload", "ok=true", NULL));
	ASSERT_NOT_NULL(wait_finding(&d, ns, "cross_user_reuse", port, "active"));
	sockd_close(&b, h);
	ASSERT_NOT_NULL(wait_finding(&d, ns, "cross_user_reuse", port, "ended"));
	sockd_stop(&a);
	sockd_stop(&b);
	pw_daemon_stop(&d);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(udp_reuseaddr_two_uids_owner_first),
		PW_TEST(udp_reuseaddr_two_uids_rogue_first),
		PW_TEST(rebind_loop_is_one_finding),
		PW_TEST(specific_over_wildcard_owner_first),
		PW_TEST(specific_over_wildcard_rogue_first),
		PW_TEST(family_gap_v6only_beside_ipv4),
		PW_TEST(family_gap_ipv4_beside_v6only),
		PW_TEST(listen_race_owner_first),
		PW_TEST(listen_race_rogue_first),
		PW_TEST(takeover_owner_exits_rogue_binds),
		PW_TEST(takeover_rogue_exits_owner_binds),
		PW_TEST(takeover_udp_service),
		PW_TEST(no_takeover_after_window),
		PW_TEST(no_takeover_by_same_owner_restart),
		PW_TEST(no_takeover_after_probe),
		PW_TEST(reuseport_join_by_other_cgroup),
		PW_TEST(reuseport_join_other_cgroup_first),
		PW_TEST(failed_bind_as_other_uid_owner_first),
		PW_TEST(failed_bind_as_other_uid_rogue_first),
		PW_TEST(failed_bind_same_owner_quiet),
		PW_TEST(wildcard_exposure_and_allow_list),
		PW_TEST(nginx_reuseport_4_workers_quiet),
		PW_TEST(fork_inherited_listener_quiet),
		PW_TEST(scm_rights_same_owner_quiet),
		PW_TEST(bad_config_names_line_and_does_not_start),
		PW_TEST(sighup_reload),
	};

	return pw_test_main(argc, argv, "detect", tests, sizeof(tests) / sizeof(tests[0]));
}
