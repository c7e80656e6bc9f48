// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #3: the kernel's cross-uid sharing rules, measured on the running
 * kernel and held against the detectors. For every combination of
 *   TCP listening / TCP bound-only / UDP,
 *   IPv4 / IPv6 dual-stack / IPv6 v6only (for each of the two sockets),
 *   wildcard / specific address (each), none / SO_REUSEADDR / SO_REUSEPORT /
 *   both, same uid / different uid,
 * a first socket is bound (uid 1001), then a second; the kernel decides.
 * Then: a sharing the kernel allowed across uids must be a finding, a bind
 * it denied across uids must be bind_conflict, the same owner must be
 * quiet. Expectations follow the kernel's answer, so a kernel that changes
 * its rules makes this fail where portwarden misses it, not pass silently.
 * Leftover TIME_WAIT / FIN_WAIT2 sockets after the owner released the port
 * are the last block (takeover / bind_conflict / quiet).
 * One daemon and one port per case; the cases of a block run side by side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "sockd.h"

#define OWNER 1001
#define OTHER 1002
#define SETTLE_MS 2500

enum cat { CAT_TCP_LISTEN, CAT_TCP_BOUND, CAT_UDP, CAT_MAX };
enum fam { FAM_V4, FAM_V6, FAM_V6ONLY, FAM_MAX };

static const char *const cat_names[] = { "tcp-listen", "tcp-bound", "udp" };
static const char *const fam_names[] = { "ipv4", "ipv6", "ipv6only" };
static const char *const opt_names[] = { "none", "reuseaddr", "reuseport", "both" };

struct mcase {
	enum cat cat;
	enum fam fa, fb;
	bool sa, sb; /* specific address */
	int opts;    /* bit 0 SO_REUSEADDR, bit 1 SO_REUSEPORT (both sockets) */
	bool other_uid;
	int leftover; /* 0: live holder; 1: TIME_WAIT; 2: FIN_WAIT2 */
	uint16_t port;
	int ha, hb;
	int bind_b, listen_b;
};

static struct sockd w_a, w_same, w_other;
static uint32_t netns;
static struct pw_daemon daemon_;

static int family_of(enum fam f)
{
	return f == FAM_V4 ? AF_INET : AF_INET6;
}

static const char *addr_of(enum fam f, bool specific)
{
	if (!specific)
		return NULL;
	return f == FAM_V4 ? "127.0.0.1" : "::1";
}

static void describe(const struct mcase *c, char *buf, size_t len)
{
	if (c->leftover)
		snprintf(buf, len, "port %u: %s after owner released (%s), %s, opts %s, %s uid",
			 c->port, c->leftover == 1 ? "TIME_WAIT" : "FIN_WAIT2", "tcp",
			 fam_names[c->fa], opt_names[c->opts], c->other_uid ? "other" : "same");
	else
		snprintf(buf, len, "port %u: %s %s%s vs %s%s, opts %s, %s uid", c->port,
			 cat_names[c->cat], fam_names[c->fa], c->sa ? "(specific)" : "(wildcard)",
			 fam_names[c->fb], c->sb ? "(specific)" : "(wildcard)", opt_names[c->opts],
			 c->other_uid ? "other" : "same");
}

static int open_bind(struct sockd *w, const struct mcase *c, enum fam f, bool specific,
		     int *ret_err)
{
	int type = c->cat == CAT_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int h = sockd_socket(w, family_of(f), type, c->opts & 1, c->opts & 2, f == FAM_V6ONLY);

	ASSERT_TRUE(h >= 0);
	*ret_err = sockd_bind(w, h, addr_of(f, specific), c->port);
	return h;
}

/* Per-port finding tallies from the journal. */
struct tally {
	unsigned int share_active, conflict, other_kinds, ended, total;
};

static void tally_findings(struct tally *t, uint16_t base, unsigned int n)
{
	json_t *o;
	size_t i;

	memset(t, 0, n * sizeof(*t));
	pw_daemon_poll(&daemon_);
	json_array_foreach(daemon_.lines, i, o) {
		const char *kind, *status;
		unsigned int port;

		if (!pw_json_match(o, (const char *[]){ "type=finding",
							pw_fmt("netns=%u", netns), NULL }))
			continue;
		port = (unsigned int)json_integer_value(json_object_get(o, "port"));
		if (port < base || port >= base + n)
			continue;
		kind = json_string_value(json_object_get(o, "kind"));
		status = json_string_value(json_object_get(o, "status"));
		if (!strcmp(status, "ended")) {
			t[port - base].ended++;
			continue;
		}
		t[port - base].total++;
		if (!strcmp(kind, "bind_conflict"))
			t[port - base].conflict++;
		else if (!strcmp(kind, "cross_user_reuse") || !strcmp(kind, "cross_workload_reuse") ||
			 !strcmp(kind, "shadowing") || !strcmp(kind, "listen_race") ||
			 !strcmp(kind, "takeover"))
			t[port - base].share_active++;
		else
			t[port - base].other_kinds++;
	}
}

static void wait_events(size_t binds, size_t failed)
{
	for (int i = 0; i < 200; i++) {
		if (pw_daemon_count(&daemon_, "event=bind", pw_fmt("socket.netns=%u", netns),
				    NULL) >= binds &&
		    pw_daemon_count(&daemon_, "event=bind_failed", pw_fmt("socket.netns=%u", netns),
				    NULL) >= failed)
			break;
		usleep(50000);
	}
	usleep(SETTLE_MS * 1000);
}

static size_t total_binds, total_failed;

/* What the daemon wrote about @port: the diagnosis of a wrong case. */
static void dump_port(uint16_t port)
{
	json_t *o;
	size_t i;

	json_array_foreach(daemon_.lines, i, o) {
		char *s;

		if (!pw_json_match(o, (const char *[]){ pw_fmt("socket.port=%u", port),
							pw_fmt("socket.netns=%u", netns), NULL }) &&
		    !pw_json_match(o, (const char *[]){ pw_fmt("port=%u", port),
							pw_fmt("netns=%u", netns), NULL }))
			continue;
		s = json_dumps(o, JSON_COMPACT);
		printf("#   %s\n", s);
		free(s);
	}
}

/* Judge every case of a block; returns the number of wrong ones (printed). */
static int judge(struct mcase *cs, unsigned int n, uint16_t base, int *allowed_cross)
{
	struct tally *t = calloc(n, sizeof(*t));
	char what[200];
	int wrong = 0;

	ASSERT_NOT_NULL(t);
	tally_findings(t, base, n);
	for (unsigned int i = 0; i < n; i++) {
		struct mcase *c = &cs[i];
		bool allowed = !c->bind_b;
		const char *why = NULL;

		if (!c->other_uid) {
			if (t[i].total)
				why = "same owner, but a finding";
		} else if (allowed) {
			(*allowed_cross)++;
			if (!t[i].share_active)
				why = "kernel allowed the sharing across uids, no finding";
		} else if (!t[i].conflict) {
			why = "kernel denied the bind across uids, no bind_conflict";
		}
		if (why) {
			describe(c, what, sizeof(what));
			printf("# WRONG %s: %s (bind %s, listen %s; findings %u share, %u "
			       "conflict, %u other)\n",
			       what, why, c->bind_b ? strerror(c->bind_b) : "ok",
			       c->listen_b ? strerror(c->listen_b) : "ok", t[i].share_active,
			       t[i].conflict, t[i].other_kinds);
			if (wrong++ < 3)
				dump_port(c->port);
		}
	}
	free(t);
	return wrong;
}

/* Every state finding of the block ends once its sockets are gone. */
static int check_ended(uint16_t base, unsigned int n)
{
	struct tally *t = calloc(n, sizeof(*t));
	int wrong = 0;

	ASSERT_NOT_NULL(t);
	tally_findings(t, base, n);
	for (unsigned int i = 0; i < n; i++) {
		if (t[i].ended < t[i].total) {
			printf("# WRONG port %u: %u findings, %u ended after the sockets closed\n",
			       base + i, t[i].total, t[i].ended);
			wrong++;
		}
	}
	free(t);
	return wrong;
}

static int run_block(enum cat cat, uint16_t base, int *ret_cases, int *allowed_cross)
{
	unsigned int n = 0, max = FAM_MAX * FAM_MAX * 4 * 4 * 2;
	struct mcase *cs = calloc(max, sizeof(*cs));
	int wrong, err;

	ASSERT_NOT_NULL(cs);
	for (int fa = 0; fa < FAM_MAX; fa++)
		for (int fb = 0; fb < FAM_MAX; fb++)
			for (int sa = 0; sa < 2; sa++)
				for (int sb = 0; sb < 2; sb++)
					for (int opts = 0; opts < 4; opts++)
						for (int other = 0; other < 2; other++) {
							struct mcase *c = &cs[n];

							c->cat = cat;
							c->fa = fa;
							c->fb = fb;
							c->sa = sa;
							c->sb = sb;
							c->opts = opts;
							c->other_uid = other;
							c->port = base + n++;
						}
	/* The holders, then the second binders. */
	for (unsigned int i = 0; i < n; i++) {
		struct mcase *c = &cs[i];

		c->ha = open_bind(&w_a, c, c->fa, c->sa, &err);
		ASSERT_EQ(err, 0);
		if (cat == CAT_TCP_LISTEN)
			ASSERT_EQ(sockd_listen(&w_a, c->ha), 0);
		total_binds++;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct mcase *c = &cs[i];
		struct sockd *w = c->other_uid ? &w_other : &w_same;

		c->hb = open_bind(w, c, c->fb, c->sb, &c->bind_b);
		if (c->bind_b) {
			/* Tier B reports a failed bind when its socket goes. */
			sockd_close(w, c->hb);
			c->hb = -1;
			total_failed++;
			continue;
		}
		total_binds++;
		if (cat == CAT_TCP_LISTEN)
			c->listen_b = sockd_listen(w, c->hb);
	}
	wait_events(total_binds, total_failed);
	wrong = judge(cs, n, base, allowed_cross);
	for (unsigned int i = 0; i < n; i++) {
		if (cs[i].hb >= 0)
			sockd_close(cs[i].other_uid ? &w_other : &w_same, cs[i].hb);
		sockd_close(&w_a, cs[i].ha);
	}
	usleep(SETTLE_MS * 1000);
	wrong += check_ended(base, n);
	*ret_cases += n;
	free(cs);
	return wrong;
}

/* The owner served a connection and left: its side lingers in TIME_WAIT or FIN_WAIT2. */
static int run_leftover_block(uint16_t base, int *ret_cases, int *allowed_cross)
{
	struct mcase cs[2 * 2 * 4 * 2];
	int clients[sizeof(cs) / sizeof(cs[0])];
	unsigned int n = 0;
	int wrong, err;

	memset(cs, 0, sizeof(cs));
	for (int lo = 1; lo <= 2; lo++)
		for (int fa = 0; fa < 2; fa++)
			for (int opts = 0; opts < 4; opts++)
				for (int other = 0; other < 2; other++) {
					struct mcase *c = &cs[n];

					c->cat = CAT_TCP_LISTEN;
					c->leftover = lo;
					c->fa = c->fb = fa;
					c->sa = c->sb = true;
					c->opts = opts;
					c->other_uid = other;
					c->port = base + n++;
				}
	for (unsigned int i = 0; i < n; i++) {
		struct mcase *c = &cs[i];
		int conn;

		c->ha = open_bind(&w_a, c, c->fa, true, &err);
		ASSERT_EQ(err, 0);
		ASSERT_EQ(sockd_listen(&w_a, c->ha), 0);
		total_binds++;
		clients[i] = sockd_socket(&w_a, family_of(c->fa), SOCK_STREAM, false, false, false);
		ASSERT_EQ(sockd_connect(&w_a, clients[i], addr_of(c->fa, true), c->port), 0);
		conn = sockd_accept(&w_a, c->ha);
		ASSERT_TRUE(conn >= 0);
		sockd_close(&w_a, conn); /* the server closes first */
		if (c->leftover == 1)
			sockd_close(&w_a, clients[i]); /* -> TIME_WAIT on the server side */
		sockd_close(&w_a, c->ha); /* the owner releases the port */
	}
	/* Let every release reach the daemon before the second binds. */
	for (int i = 0; i < 100; i++) {
		if (pw_daemon_count(&daemon_, "event=close", pw_fmt("socket.netns=%u", netns),
				    NULL) >= n)
			break;
		usleep(50000);
	}
	usleep(300000);
	for (unsigned int i = 0; i < n; i++) {
		struct mcase *c = &cs[i];
		struct sockd *w = c->other_uid ? &w_other : &w_same;

		c->hb = open_bind(w, c, c->fb, true, &c->bind_b);
		if (c->bind_b) {
			sockd_close(w, c->hb);
			c->hb = -1;
			total_failed++;
			continue;
		}
		total_binds++;
		c->listen_b = sockd_listen(w, c->hb);
	}
	wait_events(total_binds, total_failed);
	wrong = judge(cs, n, base, allowed_cross);
	for (unsigned int i = 0; i < n; i++) {
		if (cs[i].hb >= 0)
			sockd_close(cs[i].other_uid ? &w_other : &w_same, cs[i].hb);
		if (cs[i].leftover == 2)
			sockd_close(&w_a, clients[i]);
	}
	usleep(SETTLE_MS * 1000);
	wrong += check_ended(base, n);
	*ret_cases += n;
	return wrong;
}

static void setup(void)
{
	static char conf[128];
	FILE *f;

	netns = pw_netns_new();
	snprintf(conf, sizeof(conf), "/tmp/pw-test-%d-matrix.conf", getpid());
	f = fopen(conf, "w");
	ASSERT_NOT_NULL(f);
	/* Wildcard exposure is about one socket, not sharing: off here. */
	fputs("[detect]\nend_grace = 1s\ndisable = wildcard_exposure\n", f);
	fclose(f);
	pw_daemon_start(&daemon_, (const char *[]){ "--config", conf, NULL });
	unlink(conf);
	sockd_start(&w_a, OWNER, NULL, "pw-matrix");
	sockd_start(&w_same, OWNER, NULL, "pw-matrix");
	sockd_start(&w_other, OTHER, NULL, "pw-matrix");
}

static void teardown(void)
{
	sockd_stop(&w_a);
	sockd_stop(&w_same);
	sockd_stop(&w_other);
	pw_daemon_stop(&daemon_);
}

/* One daemon for the whole matrix; each block's cases run side by side. */
static void matrix(void)
{
	static const struct {
		enum cat cat;
		uint16_t base;
	} blocks[] = {
		{ CAT_TCP_LISTEN, 20000 },
		{ CAT_TCP_BOUND, 21000 },
		{ CAT_UDP, 22000 },
	};
	int total = 0, wrong = 0;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	setup();
	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		int cases = 0, allowed = 0, w;

		w = run_block(blocks[b].cat, blocks[b].base, &cases, &allowed);
		printf("# %s: %d cases, %d cross-uid sharings the kernel allowed, %d wrong\n",
		       cat_names[blocks[b].cat], cases, allowed, w);
		total += cases;
		wrong += w;
	}
	{
		int cases = 0, allowed = 0, w;

		w = run_leftover_block(23000, &cases, &allowed);
		printf("# tcp after release (TIME_WAIT/FIN_WAIT2): %d cases, %d cross-uid binds the "
		       "kernel allowed, %d wrong\n",
		       cases, allowed, w);
		total += cases;
		wrong += w;
	}
	teardown();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# matrix: %d cases, %d wrong, %.1f s\n", total, wrong,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	ASSERT_EQ(wrong, 0);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(matrix),
	};

	return pw_test_main(argc, argv, "detect_matrix", tests, sizeof(tests) / sizeof(tests[0]));
}
