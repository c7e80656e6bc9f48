// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #5: the HTTP endpoint. /metrics passes `promtool check metrics` with
 * no lint warning on the live output of a daemon that has raised findings;
 * a real Prometheus server scrapes it; garbage, oversized, half-sent and idle
 * requests leave it answering; its own listener is loopback, not wildcard
 * unless insisted, and carries no SO_REUSEADDR / SO_REUSEPORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define WAIT_MS 5000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read until EOF or @ms; returns malloc'd text (NUL-terminated), length in *ret_len. */
static char *read_all(int fd, int ms, size_t *ret_len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int64_t end = now_ms() + ms;

	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - now_ms());
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		if (n + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (buf)
		buf[n] = '\0';
	if (ret_len)
		*ret_len = n;
	return buf;
}

/* Send @req raw; returns the status code (0: closed without a response), body in *ret_body. */
static int http_raw(uint16_t port, const char *req, size_t len, char **ret_body)
{
	int fd = tcp_connect(port), status = 0;
	char *resp, *body;

	if (ret_body)
		*ret_body = NULL;
	if (fd < 0)
		return -1;
	if (write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	resp = read_all(fd, 10000, NULL);
	close(fd);
	if (resp && sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	body = resp ? strstr(resp, "\r\n\r\n") : NULL;
	if (ret_body && body)
		*ret_body = strdup(body + 4);
	free(resp);
	return status;
}

static int http_get(uint16_t port, const char *path, char **ret_body)
{
	const char *req = pw_fmt("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
				 path);

	return http_raw(port, req, strlen(req), ret_body);
}

/* Value of the sample whose line starts with @series + ' ' (e.g. 'name{a="b"}'), or -1. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* Number of samples of metric @name. */
static int count_samples(const char *text, const char *name)
{
	size_t n = strlen(name);
	int c = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == '{' || p[n] == ' '))
			c++;
	return c;
}

static char *scrape(uint16_t port)
{
	char *body = NULL;

	ASSERT_EQ(http_get(port, "/metrics", &body), 200);
	ASSERT_NOT_NULL(body);
	return body;
}

/* `promtool check metrics` on @text: exit 0 and not a word of lint. */
static void promtool_check(const char *text)
{
	char path[] = "/tmp/pw-metrics-XXXXXX";
	int fd = mkstemp(path), status = -1;
	char *out;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	out = pw_run_capture(pw_fmt("promtool check metrics < %s 2>&1", path), &status);
	unlink(path);
	if (status != 0 || (out && *out))
		pw_fail(__FILE__, __LINE__, "promtool check metrics: status %d: %s", status,
			out ? out : "");
	free(out);
}

static const char *const families[] = {
	"portwarden_build_info", "portwarden_hook_tier_info", "portwarden_sockets",
	"portwarden_bind_attempts_total", "portwarden_bind_failures_total",
	"portwarden_findings_total", "portwarden_findings_active",
	"portwarden_shared_port_owners", "portwarden_reuseport_group_members",
	"portwarden_reuseport_member_share", "portwarden_reuseport_imbalance_ratio",
	"portwarden_events_total", "portwarden_events_lost_total",
	"portwarden_events_rejected_total", "portwarden_ledger_evictions_total",
	"portwarden_series_dropped_total", "portwarden_reconciliations_total",
	"portwarden_store_write_failures_total", "portwarden_scrape_duration_seconds",
};

static const char *const kinds[][2] = {
	{ "cross_user_reuse", "critical" }, { "cross_workload_reuse", "high" },
	{ "shadowing", "high" },	    { "listen_race", "high" },
	{ "takeover", "high" },		    { "bind_conflict", "medium" },
	{ "wildcard_exposure", "low" },	    { "reuseport_skew", "medium" },
};

static void start_daemon(struct pw_daemon *d, uint16_t http_port, const char *const *more)
{
	const char *argv[24];
	int n = 0;

	argv[n++] = "--listen";
	argv[n++] = pw_fmt("127.0.0.1:%u", http_port);
	for (; more && *more && n < 22; more++)
		argv[n++] = *more;
	argv[n] = NULL;
	pw_daemon_start(d, argv);
}

static void spawn_ok(const struct pw_sock_spec *s, struct pw_holder *h)
{
	pw_holder_spawn(s, h);
	ASSERT_EQ(h->bind_err, 0);
}

/* Blast @n datagrams from one source socket: its hash always picks one member. */
static void udp_blast(uint16_t port, int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < n; i++) {
		sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
		if (i % 100 == 99)
			usleep(5000); /* let the reader keep up */
	}
	close(fd);
}

/* Two UDP SO_REUSEPORT members that read (deliveries are counted on receipt). */
struct readers {
	pid_t pid;
	int ctl;
};

static void readers_start(uint16_t port, struct readers *r)
{
	int ready[2], ctl[2];
	char c;

	ASSERT_EQ(pipe(ready), 0);
	ASSERT_EQ(pipe(ctl), 0);
	fflush(stdout);
	r->pid = fork();
	ASSERT_TRUE(r->pid >= 0);
	if (!r->pid) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		struct pollfd pfd[3];
		char buf[64];

		/* Holders' control pipes must not stay open here (they wait for EOF). */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != ready[1] && fd != ctl[0])
				close(fd);
		if (setresgid(1001, 1001, 1001) || setresuid(1001, 1001, 1001))
			_exit(1);
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		for (int i = 0; i < 2; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;

			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
				_exit(2);
			pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
		pfd[2] = (struct pollfd){ .fd = ctl[0], .events = POLLIN };
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		while (poll(pfd, 3, 1000) >= 0 && !pfd[2].revents)
			for (int i = 0; i < 2; i++)
				while (recv(pfd[i].fd, buf, sizeof(buf), 0) > 0)
					;
		_exit(0);
	}
	close(ready[1]);
	close(ctl[0]);
	r->ctl = ctl[1];
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

static void readers_stop(struct readers *r)
{
	close(r->ctl);
	waitpid(r->pid, NULL, 0);
}

#define N_HOLDERS 16

/*
 * Every finding kind of DESIGN §4, each provoked the way a hijacker would, in
 * this test's netns. Returns how many holders it left in @h.
 */
static int provoke_findings(struct pw_holder *h, struct readers *rd)
{
	struct pw_sock_spec s;
	const char *cg = pw_cgroup_new("other");
	uint16_t p;
	int n = 0;

	/* cross_user_reuse: UDP + SO_REUSEADDR by two uids. */
	p = pw_free_port(IPPROTO_UDP);
	s = (struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_DGRAM, .port = p,
				   .reuseaddr = true, .comm = "pw-svc" };
	spawn_ok(&s, &h[n++]);
	s.uid = 1002;
	spawn_ok(&s, &h[n++]);
	/* wildcard_exposure + bind_conflict: a stranger fails to bind the listener's port. */
	p = pw_free_port(IPPROTO_TCP);
	s = (struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_STREAM, .port = p,
				   .listen = true, .comm = "pw-svc" };
	spawn_ok(&s, &h[n++]);
	s.uid = 1002;
	s.addr = "127.0.0.1";
	pw_holder_spawn(&s, &h[n]);
	ASSERT_EQ(h[n].bind_err, EADDRINUSE);
	pw_holder_release(&h[n]);
	/* shadowing: another uid takes the IPv6 side of an IPv4 wildcard listener. */
	p = pw_free_port(IPPROTO_TCP);
	s = (struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_STREAM, .port = p,
				   .listen = true, .comm = "pw-svc" };
	spawn_ok(&s, &h[n++]);
	s = (struct pw_sock_spec){ .uid = 1002, .family = AF_INET6, .type = SOCK_STREAM, .port = p,
				   .v6only = true, .listen = true, .comm = "pw-rogue" };
	spawn_ok(&s, &h[n++]);
	/* listen_race: two uids bound with SO_REUSEADDR, one listens. */
	p = pw_free_port(IPPROTO_TCP);
	s = (struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_STREAM, .port = p,
				   .reuseaddr = true, .comm = "pw-svc" };
	spawn_ok(&s, &h[n++]);
	s.uid = 1002;
	s.listen = true;
	spawn_ok(&s, &h[n++]);
	/* cross_workload_reuse: same uid, another cgroup joins the reuseport group. */
	p = pw_free_port(IPPROTO_TCP);
	s = (struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_STREAM, .port = p,
				   .reuseport = true, .listen = true, .comm = "pw-svc" };
	spawn_ok(&s, &h[n++]);
	s.cgroup = cg;
	s.comm = "pw-rogue";
	spawn_ok(&s, &h[n++]);
	/* takeover: the owner goes away, another uid binds its port. */
	p = pw_free_port(IPPROTO_TCP);
	s = (struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_STREAM, .port = p,
				   .listen = true, .comm = "pw-svc" };
	spawn_ok(&s, &h[n]);
	usleep(300000);
	pw_holder_release(&h[n]);
	s.uid = 1002;
	s.comm = "pw-rogue";
	spawn_ok(&s, &h[n++]);
	/* reuseport_skew: one UDP source always hashes onto the same member. */
	p = pw_free_port(IPPROTO_UDP);
	readers_start(p, rd);
	usleep(200000);
	udp_blast(p, 400);
	return n;
}

static void promtool_accepts_live_output_with_findings(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_holder h[N_HOLDERS];
	struct readers rd;
	int missing = 0, n;
	struct pw_daemon d;
	char *m;

	start_daemon(&d, port,
		     (const char *[]){ "--reuseport", "min_samples=100", "--reuseport",
				       "window=2", NULL });
	n = provoke_findings(h, &rd);
	/* Kinds whose detector has not raised here within the wait are reported. */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (!pw_daemon_wait(&d, k ? 2000 : WAIT_MS, "type=finding", "status=active",
				    pw_fmt("kind=%s", kinds[k][0]), pw_fmt("netns=%u", ns), NULL)) {
			printf("# no %s finding raised\n", kinds[k][0]);
			missing++;
		}
	}
	m = scrape(port);
	promtool_check(m);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strstr(m, pw_fmt("# TYPE %s ", families[i])))
			pw_fail(__FILE__, __LINE__, "family %s missing", families[i]);
	/* Every kind from start-up, and the counter covers what the journal showed. */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const char *lbl = pw_fmt("{kind=\"%s\",severity=\"%s\"}", kinds[k][0], kinds[k][1]);
		size_t raised = pw_daemon_count(&d, "type=finding", "status=active",
						pw_fmt("kind=%s", kinds[k][0]), NULL);

		if (sample(m, pw_fmt("portwarden_findings_total%s", lbl)) < (double)raised)
			pw_fail(__FILE__, __LINE__, "findings_total%s %g < %zu raised", lbl,
				sample(m, pw_fmt("portwarden_findings_total%s", lbl)), raised);
		ASSERT_TRUE(sample(m, pw_fmt("portwarden_findings_active%s", lbl)) >= 0);
	}
	ASSERT_TRUE(sample(m, "portwarden_bind_failures_total{proto=\"tcp\",errno=\"EADDRINUSE\"}") >=
		    1);
	ASSERT_TRUE(sample(m, "portwarden_bind_attempts_total{proto=\"tcp\"}") >= 8);
	ASSERT_TRUE(sample(m, "portwarden_sockets{proto=\"tcp\",family=\"ipv4\",state=\"listening\"}") >=
		    5);
	ASSERT_TRUE(sample(m, pw_fmt("portwarden_shared_port_owners{proto=\"udp\",port=\"%u\"}",
				     h[0].port)) >= 2);
	ASSERT_TRUE(sample(m, pw_fmt("portwarden_reuseport_group_members{proto=\"tcp\",port=\"%u\"}",
				     h[7].port)) >= 2);
	ASSERT_TRUE(sample(m, "portwarden_scrape_duration_seconds") > 0);
	ASSERT_TRUE(count_samples(m, "portwarden_build_info") == 1);
	free(m);
	readers_stop(&rd);
	for (int i = 0; i < n; i++)
		pw_holder_release(&h[i]);
	pw_daemon_stop(&d);
	if (missing)
		pw_fail(__FILE__, __LINE__, "%d finding kind(s) never raised (see '#' lines)",
			missing);
}

/* ---- a real Prometheus ---------------------------------------------------- */

struct prom {
	pid_t pid;
	char dir[64];
	uint16_t port;
};

static void prom_start(struct prom *p, uint16_t target_port)
{
	const char *cfg;
	FILE *f;

	snprintf(p->dir, sizeof(p->dir), "/tmp/pw-prom-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(p->dir));
	cfg = pw_fmt("%s/prometheus.yml", p->dir);
	f = fopen(cfg, "we");
	ASSERT_NOT_NULL(f);
	fprintf(f,
		"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		"scrape_configs:\n  - job_name: portwarden\n    static_configs:\n"
		"      - targets: ['127.0.0.1:%u']\n",
		target_port);
	fclose(f);
	p->port = pw_free_port(IPPROTO_TCP);
	fflush(stdout);
	p->pid = fork();
	if (p->pid == 0) {
		int fd = open(pw_fmt("%s/prometheus.log", p->dir), O_WRONLY | O_CREAT | O_CLOEXEC,
			      0644);

		dup2(fd, 1);
		dup2(fd, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/prometheus", "prometheus", pw_fmt("--config.file=%s", cfg),
		      pw_fmt("--storage.tsdb.path=%s/data", p->dir),
		      pw_fmt("--web.listen-address=127.0.0.1:%u", p->port), "--log.level=warn",
		      NULL);
		_exit(127);
	}
	ASSERT_TRUE(p->pid > 0);
}

static void prom_stop(struct prom *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	if (p->dir[0])
		free(pw_run_capture(pw_fmt("rm -rf '%s'", p->dir), &(int){ 0 }));
}

/* Instant query; the first result's value (-1: no result), its metric labels in *ret_metric. */
static double prom_query(struct prom *p, const char *q, json_t **ret_metric)
{
	char enc[512], *body = NULL;
	size_t n = 0;
	json_t *o, *r;
	double v = -1;

	for (const char *c = q; *c && n < sizeof(enc) - 4; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_')
			enc[n++] = *c;
		else
			n += (size_t)snprintf(enc + n, 4, "%%%02X", (unsigned char)*c);
	}
	enc[n] = '\0';
	if (http_get(p->port, pw_fmt("/api/v1/query?query=%s", enc), &body) != 200 || !body) {
		free(body);
		return -1;
	}
	o = json_loads(body, 0, NULL);
	free(body);
	r = json_array_get(json_object_get(json_object_get(o, "data"), "result"), 0);
	if (r) {
		v = strtod(json_string_value(json_array_get(json_object_get(r, "value"), 1)), NULL);
		if (ret_metric)
			*ret_metric = json_incref(json_object_get(r, "metric"));
	}
	json_decref(o);
	return v;
}

static double prom_wait(struct prom *p, const char *q, double at_least, int ms, json_t **ret)
{
	int64_t end = now_ms() + ms;
	double v;

	do {
		v = prom_query(p, q, NULL);
		if (v >= at_least)
			break;
		usleep(250000);
	} while (now_ms() < end);
	if (ret && v >= at_least)
		prom_query(p, q, ret);
	return v;
}

static void prometheus_scrapes_build_info_and_finding(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_DGRAM,
				  .port = pw_free_port(IPPROTO_UDP), .reuseaddr = true,
				  .comm = "pw-svc" };
	const char *q = "portwarden_findings_total{job=\"portwarden\",kind=\"cross_user_reuse\"}";
	struct pw_holder a, b;
	struct pw_daemon d;
	struct prom p = {};
	json_t *metric = NULL;
	double before, after, live;
	char *m;

	start_daemon(&d, port, NULL);
	prom_start(&p, port);
	/* Up and scraped: build_info carries the daemon's own labels. */
	ASSERT_EQ(prom_wait(&p, "portwarden_build_info{job=\"portwarden\"}", 1, 60000, &metric), 1);
	m = scrape(port);
	ASSERT_TRUE(strstr(m, pw_fmt("version=\"%s\"",
				     json_string_value(json_object_get(metric, "version")))) != NULL);
	ASSERT_TRUE(strstr(m, pw_fmt("kernel=\"%s\"",
				     json_string_value(json_object_get(metric, "kernel")))) != NULL);
	free(m);
	json_decref(metric);
	/* Exported at 0 from the start: the increase is visible to rate()/increase(). */
	before = prom_wait(&p, q, 0, 10000, NULL);
	ASSERT_TRUE(before >= 0);
	spawn_ok(&s, &a);
	s.uid = 1002;
	spawn_ok(&s, &b);
	if (!pw_daemon_wait(&d, WAIT_MS, "type=finding", "kind=cross_user_reuse",
			    pw_fmt("netns=%u", ns), NULL))
		pw_fail(__FILE__, __LINE__, "no cross_user_reuse finding from the daemon");
	m = scrape(port);
	live = sample(m, "portwarden_findings_total{kind=\"cross_user_reuse\",severity=\"critical\"}");
	free(m);
	ASSERT_TRUE(live >= before + 1);
	after = prom_wait(&p, q, live, 15000, NULL);
	ASSERT_TRUE(after >= live);
	ASSERT_EQ(prom_query(&p, "up{job=\"portwarden\"}", NULL), 1);
	pw_holder_release(&a);
	pw_holder_release(&b);
	prom_stop(&p);
	pw_daemon_stop(&d);
}

/* ---- robustness ----------------------------------------------------------- */

static bool alive(pid_t pid)
{
	return waitpid(pid, &(int){ 0 }, WNOHANG) == 0;
}

static void malformed_requests_leave_metrics_answering(void)
{
	uint16_t port;
	struct pw_daemon d;
	int idle[40], half, status;
	char *body = NULL, *huge;
	size_t hlen = 256 * 1024;
	int64_t t0;

	pw_netns_new();
	port = pw_free_port(IPPROTO_TCP);
	start_daemon(&d, port,
		     (const char *[]){ "--http", "timeout=2s", "--http", "max_connections=16",
				       NULL });
	/* Bad methods: refused at once with the methods we take. */
	ASSERT_EQ(http_raw(port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 37, NULL), 405);
	ASSERT_EQ(http_get(port, "/nothing-here", NULL), 404);
	status = http_raw(port,
			  "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nab",
			  66, NULL);
	ASSERT_EQ(status, 405);
	/* Garbage: an error or a close, never a crash. */
	status = http_raw(port, "\x01\x02\xff garbage \r\n\r\n", 16, NULL);
	ASSERT_TRUE(status == 0 || status == 400);
	ASSERT_TRUE(alive(d.pid));
	/* A header far beyond the request memory limit. */
	huge = malloc(hlen + 64);
	ASSERT_NOT_NULL(huge);
	memcpy(huge, "GET /metrics HTTP/1.1\r\nX-Big: ", 30);
	memset(huge + 30, 'a', hlen);
	memcpy(huge + 30 + hlen, "\r\n\r\n", 4);
	status = http_raw(port, huge, hlen + 34, NULL);
	free(huge);
	ASSERT_TRUE(status == 0 || status == 431 || status == 413 || status == 400);
	ASSERT_TRUE(alive(d.pid));
	/* Half a request, then silence; and more idle connections than the limit. */
	half = tcp_connect(port);
	ASSERT_TRUE(half >= 0);
	ASSERT_EQ(write(half, "GET /metrics HTTP/1.1\r\nHo", 25), 25);
	for (int i = 0; i < 40; i++)
		idle[i] = tcp_connect(port);
	ASSERT_TRUE(alive(d.pid));
	/* The idle timeout closes the half-sent request (EOF, no response). */
	t0 = now_ms();
	body = read_all(half, 8000, NULL);
	ASSERT_TRUE(now_ms() - t0 < 7000);
	ASSERT_STREQ(body, "");
	free(body);
	close(half);
	/* After the timeout the slots are free again: /metrics answers. */
	usleep(1500000);
	body = scrape(port);
	ASSERT_TRUE(strstr(body, "portwarden_build_info{") != NULL);
	promtool_check(body);
	free(body);
	for (int i = 0; i < 40; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	/* And event processing went on: a bind made now still shows in the journal. */
	{
		struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_STREAM,
					  .port = pw_free_port(IPPROTO_TCP), .listen = true,
					  .comm = "pw-svc" };
		struct pw_holder h;

		spawn_ok(&s, &h);
		ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen",
					       pw_fmt("socket.port=%u", s.port), NULL));
		pw_holder_release(&h);
	}
	ASSERT_TRUE(alive(d.pid));
	pw_daemon_stop(&d);
}

/* The daemon's listener as its own ledger sees it: loopback, no sharing options. */
static void listener_is_loopback_without_reuse_options(void)
{
	uint32_t ns = pw_netns_new();
	uint16_t port = pw_free_port(IPPROTO_TCP);
	struct pw_daemon d;
	char *body = NULL, *out;
	json_t *o, *socks;
	int status;

	/* A wildcard address needs the operator to insist. */
	out = pw_run_capture(pw_fmt("%s run --listen 0.0.0.0:%u 2>&1", pw_bin(), port), &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	ASSERT_TRUE(strstr(out, "wildcard") != NULL);
	free(out);
	out = pw_run_capture(pw_fmt("%s run --listen '[::]:%u' 2>&1", pw_bin(), port), &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	free(out);

	start_daemon(&d, port, NULL);
	ASSERT_EQ(pw_daemon_count(&d, "type=ready", pw_fmt("http=127.0.0.1:%u", port), NULL), 1);
	ASSERT_EQ(http_get(port, pw_fmt("/ports?netns=%u&port=%u&proto=tcp", ns, port), &body),
		  200);
	o = json_loads(body, 0, NULL);
	free(body);
	ASSERT_NOT_NULL(o);
	socks = json_object_get(json_array_get(json_object_get(o, "ports"), 0), "sockets");
	ASSERT_EQ(json_array_size(socks), 1);
	ASSERT_TRUE(pw_json_match(json_array_get(socks, 0),
				  (const char *[]){ "addr=127.0.0.1", "state=listening",
						    "flags.reuseaddr=false", "flags.reuseport=false",
						    pw_fmt("owner.tgid=%d", d.pid), NULL }));
	json_decref(o);
	ASSERT_EQ(http_get(port, "/ports?port=0", NULL), 400);
	ASSERT_EQ(http_get(port, "/ports?proto=sctp", NULL), 400);
	ASSERT_EQ(http_get(port, "/healthz", &body), 200);
	ASSERT_STREQ(body, "ok\n");
	free(body);
	ASSERT_EQ(http_get(port, "/findings", &body), 200);
	o = json_loads(body, 0, NULL);
	free(body);
	ASSERT_TRUE(json_is_array(json_object_get(o, "active")));
	ASSERT_TRUE(json_is_array(json_object_get(o, "recent")));
	json_decref(o);
	pw_daemon_stop(&d);

	/*
	 * Insisting works, and [::] holds IPv4 too (no family gap for a stranger).
	 * Another port: our Connection: close requests left TIME_WAIT on the first.
	 */
	port = pw_free_port(IPPROTO_TCP);
	start_daemon(&d, port,
		     (const char *[]){ "--listen", pw_fmt("[::]:%u", port),
				       "--listen-allow-wildcard", NULL });
	ASSERT_EQ(http_get(port, "/healthz", NULL), 200);
	pw_daemon_stop(&d);
}

/* Port-labelled series are capped; what the cap drops is counted. */
static void label_cap_counts_dropped_series(void)
{
	uint16_t port;
	struct pw_holder h[8];
	struct pw_daemon d;
	double dropped;
	char *m;

	pw_netns_new();
	port = pw_free_port(IPPROTO_TCP);
	start_daemon(&d, port, (const char *[]){ "--http", "max_label_ports=2", NULL });
	for (int i = 0; i < 8; i += 2) {
		struct pw_sock_spec s = { .uid = 1001, .family = AF_INET, .type = SOCK_DGRAM,
					  .port = pw_free_port(IPPROTO_UDP), .reuseaddr = true };

		spawn_ok(&s, &h[i]);
		s.uid = 1002;
		spawn_ok(&s, &h[i + 1]);
		ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind",
					       pw_fmt("socket.port=%u", s.port),
					       "socket.owner.uid=1002", NULL));
	}
	m = scrape(port);
	ASSERT_EQ(count_samples(m, "portwarden_shared_port_owners"), 2);
	dropped = sample(m, "portwarden_series_dropped_total{metric=\"portwarden_shared_port_owners\"}");
	ASSERT_TRUE(dropped >= 2);
	promtool_check(m);
	free(m);
	/* A counter: the next scrape adds what it dropped again. */
	m = scrape(port);
	ASSERT_TRUE(sample(m, "portwarden_series_dropped_total{metric=\"portwarden_shared_port_owners\"}") >=
		    dropped + 2);
	free(m);
	for (int i = 0; i < 8; i++)
		pw_holder_release(&h[i]);
	pw_daemon_stop(&d);
}

/*
 * A protected port is watched: it has its series while nobody holds it (0) and
 * while one owner does (1), though it is not shared. Audit mode in a test
 * cgroup, so nothing outside this test is judged.
 */
static void protected_port_is_watched(void)
{
	const char *cg;
	struct pw_holder h;
	struct pw_daemon d;
	uint16_t http, port;
	const char *series;
	char *m;

	pw_netns_new();
	cg = pw_cgroup_new("watch");
	http = pw_free_port(IPPROTO_TCP);
	port = pw_free_port(IPPROTO_TCP);
	series = pw_fmt("portwarden_shared_port_owners{proto=\"tcp\",port=\"%u\"}", port);
	start_daemon(&d, http, (const char *[]){ "--cgroup", cg, "--audit", "--protect",
						 pw_fmt("%u/tcp=uid:1001", port), NULL });
	m = scrape(http);
	ASSERT_TRUE(sample(m, series) == 0);
	free(m);
	spawn_ok(&(struct pw_sock_spec){ .uid = 1001, .family = AF_INET, .type = SOCK_STREAM,
					 .port = port, .listen = true, .cgroup = cg },
		 &h);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       NULL));
	m = scrape(http);
	ASSERT_TRUE(sample(m, series) == 1);
	promtool_check(m);
	free(m);
	pw_holder_release(&h);
	pw_daemon_stop(&d);
}

/* [http] in --config: the listen address and the caps come from the file. */
static void config_file_http_section(void)
{
	char path[] = "/tmp/pw-http-conf-XXXXXX";
	struct pw_daemon d;
	uint16_t port;
	int fd;
	char *m;

	pw_netns_new();
	port = pw_free_port(IPPROTO_TCP);
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	dprintf(fd, "[http]\nlisten = 127.0.0.1:%u\nmax_label_ports = 1\ntimeout = 5s\n", port);
	close(fd);
	pw_daemon_start(&d, (const char *[]){ "--config", path, NULL });
	ASSERT_EQ(pw_daemon_count(&d, "type=ready", pw_fmt("http=127.0.0.1:%u", port), NULL), 1);
	m = scrape(port);
	ASSERT_TRUE(count_samples(m, "portwarden_shared_port_owners") <= 1);
	free(m);
	pw_daemon_stop(&d);
	/* A bad [http] value: the daemon does not start, and says where. */
	fd = open(path, O_WRONLY | O_TRUNC);
	dprintf(fd, "[http]\ntimeout = forever\n");
	close(fd);
	m = pw_run_capture(pw_fmt("%s run --config %s --no-http 2>&1; echo rc=$?", pw_bin(), path),
			   &fd);
	ASSERT_TRUE(strstr(m, ":2: invalid timeout 'forever'") != NULL);
	ASSERT_TRUE(strstr(m, "rc=0") == NULL);
	free(m);
	unlink(path);
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(listener_is_loopback_without_reuse_options),
		PW_TEST(malformed_requests_leave_metrics_answering),
		PW_TEST(label_cap_counts_dropped_series),
		PW_TEST(protected_port_is_watched),
		PW_TEST(config_file_http_section),
		PW_TEST(promtool_accepts_live_output_with_findings),
		PW_TEST(prometheus_scrapes_build_info_and_finding),
	};

	return pw_test_main(argc, argv, "metrics", tests, sizeof(tests) / sizeof(tests[0]));
}
