// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Issue #6: the SQLite history and `portwarden history`. A scripted
 * conflict + takeover answered by --at / --since / --uid / --kind; a kill -9
 * during a burst of binds, restart and reconciliation; a full disk and a
 * read-only database (counted, logged, daemon keeps serving, history
 * resumes); a corrupt file (clear error, no crash). Real daemon, real uids,
 * private netns.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "util.h"

#define WAIT_MS 5000

static char dir[128];
static bool dir_is_tmpfs;

static void cleanup_dir(void)
{
	if (!dir[0])
		return;
	if (dir_is_tmpfs)
		umount2(dir, MNT_DETACH);
	pw_run_capture(pw_fmt("rm -rf '%s'", dir), &(int){ 0 });
	dir[0] = '\0';
	dir_is_tmpfs = false;
}

/* A fresh directory for this test's database; a tmpfs of @tmpfs_kb when > 0. */
static const char *make_dir(const char *name, int tmpfs_kb)
{
	static bool registered;

	if (!registered) {
		atexit(cleanup_dir);
		registered = true;
	}
	cleanup_dir();
	snprintf(dir, sizeof(dir), "/tmp/pw-hist-%d-%s", getpid(), name);
	if (mkdir(dir, 0700))
		pw_fail(__FILE__, __LINE__, "mkdir %s: %s", dir, strerror(errno));
	if (tmpfs_kb > 0) {
		if (mount("tmpfs", dir, "tmpfs", 0, pw_fmt("size=%dk,mode=0700", tmpfs_kb)))
			pw_skip("cannot mount a tmpfs: %s", strerror(errno));
		dir_is_tmpfs = true;
	}
	return dir;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void msleep(int ms)
{
	usleep(ms * 1000);
}

static const char *rfc3339(int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	return pw_fmt("%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(ns % 1000000000));
}

/* `portwarden history --db DB --json ARGS` as an array of its lines; exit status in *rc. */
static json_t *history_rc(const char *db, int *rc, const char *fmt, ...)
{
	char args[512], *out, *line, *save = NULL;
	json_t *arr = json_array();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	out = pw_run_capture(pw_fmt("%s history --db '%s' --json %s 2>/dev/null", pw_bin(), db,
				    args),
			     rc);
	ASSERT_NOT_NULL(out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL);

		if (!o)
			pw_fail(__FILE__, __LINE__, "history printed a line that is not JSON: %s",
				line);
		json_array_append_new(arr, o);
	}
	free(out);
	return arr;
}

#define history(db, ...)                                                                      \
	({                                                                                     \
		int _rc;                                                                       \
		json_t *_a = history_rc(db, &_rc, __VA_ARGS__);                                \
		ASSERT_EQ(_rc, 0);                                                             \
		_a;                                                                            \
	})

/* Entries of @arr of @type matching the NULL-terminated conditions. */
static size_t count(json_t *arr, const char *type, ...)
{
	const char *conds[16];
	size_t i, n = 0, k = 0;
	va_list ap;
	json_t *o;

	va_start(ap, type);
	while (k < 15 && (conds[k] = va_arg(ap, const char *)))
		k++;
	va_end(ap);
	conds[k] = NULL;
	json_array_foreach(arr, i, o) {
		const char *t = json_string_value(json_object_get(o, "type"));

		if (t && !strcmp(t, type) && pw_json_match(o, conds))
			n++;
	}
	return n;
}

static json_t *first(json_t *arr, const char *type)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "type")) ?: "", type))
			return o;
	return NULL;
}

/* Poll the history until @want entries of @type match @args (the writer commits every ~150 ms). */
static json_t *history_wait(const char *db, const char *args, const char *type, size_t want,
			    const char *cond)
{
	json_t *arr = NULL;

	for (int i = 0; i < WAIT_MS / 100; i++) {
		json_decref(arr);
		arr = history(db, "%s", args);
		if (count(arr, type, cond, NULL) >= want)
			return arr;
		msleep(100);
	}
	return arr;
}

static void start_daemon(struct pw_daemon *d, const char *db)
{
	pw_daemon_start(d, (const char *[]){ "--db", db, NULL });
}

static char *read_file(const char *path)
{
	int status;

	return pw_run_capture(pw_fmt("cat '%s' 2>/dev/null", path), &status);
}

static void spawn(struct pw_holder *h, uid_t uid, int type, uint16_t port, bool listen,
		  const char *comm)
{
	struct pw_sock_spec s = { .uid = uid, .family = AF_INET, .type = type, .port = port,
				  .listen = listen, .comm = comm };

	pw_holder_spawn(&s, h);
}

/*
 * A listens on P; B's bind fails (conflict); A releases; B binds and listens
 * (takeover). Each question the responder asks, at the right moments.
 */
static void conflict_then_takeover(void)
{
	uint32_t ns = pw_netns_new();
	const char *db = pw_fmt("%s/h.db", make_dir("takeover", 0));
	uint16_t port = pw_free_port(IPPROTO_TCP);
	char dbp[160], q[128];
	struct pw_daemon d;
	struct pw_holder a, b_fail, b;
	int64_t t_a, t_gap, t_b, t_start, t_pre;
	pid_t a_pid, bf_pid;
	json_t *h, *o, *fj;
	char *table;
	int status;

	snprintf(dbp, sizeof(dbp), "%s", db);
	snprintf(q, sizeof(q), "--netns %u --port %u --proto tcp", ns, port);
	start_daemon(&d, dbp);
	t_start = now_ns();
	spawn(&a, 1001, SOCK_STREAM, port, true, "pw-owner");
	ASSERT_EQ(a.bind_err, 0);
	a_pid = a.pid;
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       pw_fmt("socket.netns=%u", ns), NULL));
	msleep(1200); /* A is an established service (detectors' service_min_age) */
	t_pre = now_ns();
	spawn(&b_fail, 1002, SOCK_STREAM, port, false, "pw-rogue");
	ASSERT_EQ(b_fail.bind_err, EADDRINUSE);
	bf_pid = b_fail.pid;
	pw_holder_release(&b_fail);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind_failed",
				       pw_fmt("socket.port=%u", port), NULL));
	msleep(150);
	t_a = now_ns(); /* A holds the port */
	msleep(150);
	pw_holder_release(&a);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.port=%u", port),
				       "socket.owner.uid=1001", NULL));
	msleep(150);
	t_gap = now_ns(); /* mid-takeover: released, not yet taken */
	msleep(150);
	spawn(&b, 1002, SOCK_STREAM, port, true, "pw-rogue");
	ASSERT_EQ(b.bind_err, 0);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=listen", pw_fmt("socket.port=%u", port),
				       "socket.owner.uid=1002", NULL));
	msleep(150);
	t_b = now_ns();
	/* The detectors' findings on this port, as the journal saw them. */
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "type=finding", "kind=bind_conflict",
				       pw_fmt("port=%u", port), pw_fmt("netns=%u", ns), NULL));
	fj = pw_daemon_wait(&d, WAIT_MS, "type=finding", "kind=takeover", pw_fmt("port=%u", port),
			    pw_fmt("netns=%u", ns), NULL);
	ASSERT_NOT_NULL(fj);

	/* Who held it while A owned it: A alone, with its owner. */
	h = history_wait(dbp, pw_fmt("%s --at %s", q, rfc3339(t_b)), "socket", 1, NULL);
	json_decref(h);
	h = history(dbp, "%s --at %s", q, rfc3339(t_a));
	ASSERT_EQ(count(h, "socket", NULL), 1);
	ASSERT_EQ(count(h, "socket", "socket.owner.uid=1001", pw_fmt("socket.owner.tgid=%d", a_pid),
			"socket.owner.comm=pw-owner", "socket.addr=0.0.0.0", "end=closed",
			"held_for_certain=true", NULL),
		  1);
	ASSERT_EQ(count(h, "bind_attempt", NULL), 0); /* --at: owners only */
	json_decref(h);
	/* In the middle of the takeover: nobody. */
	h = history(dbp, "%s --at %s", q, rfc3339(t_gap));
	ASSERT_EQ(count(h, "socket", NULL), 0);
	json_decref(h);
	/* After it: B, still open. */
	h = history(dbp, "%s --at %s", q, rfc3339(t_b));
	ASSERT_EQ(count(h, "socket", NULL), 1);
	ASSERT_EQ(count(h, "socket", "socket.owner.uid=1002", "end=open", "closed_at=null", NULL), 1);
	json_decref(h);
	/* Before the daemon: nobody (A bound after it started). */
	h = history(dbp, "%s --at %s", q, rfc3339(t_start - 1000000000));
	ASSERT_EQ(count(h, "socket", NULL), 0);
	json_decref(h);

	/* Who tried to bind it: A ok, B refused by the kernel, B ok, in order. */
	h = history(dbp, "%s", q);
	ASSERT_EQ(count(h, "socket", NULL), 2);
	ASSERT_EQ(count(h, "bind_attempt", NULL), 3);
	ASSERT_EQ(count(h, "bind_attempt", "result=ok", "socket.owner.uid=1001", NULL), 1);
	ASSERT_EQ(count(h, "bind_attempt", "result=EADDRINUSE", "socket.owner.uid=1002",
			pw_fmt("socket.owner.tgid=%d", bf_pid), "socket.owner.comm=pw-rogue", NULL),
		  1);
	ASSERT_EQ(count(h, "bind_attempt", "result=ok", "socket.owner.uid=1002", NULL), 1);
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(h, 2), "result")), "ok");
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(h, 3), "result")),
		     "EADDRINUSE");
	ASSERT_EQ(count(h, "finding", "kind=bind_conflict", NULL), 1);
	ASSERT_EQ(count(h, "finding", "kind=takeover", NULL), 1);
	json_decref(h);

	/* --since the gap: only B's lifetime and its attempt. */
	h = history(dbp, "%s --since %s", q, rfc3339(t_gap));
	ASSERT_EQ(count(h, "socket", NULL), 1);
	ASSERT_EQ(count(h, "socket", "socket.owner.uid=1002", NULL), 1);
	ASSERT_EQ(count(h, "bind_attempt", NULL), 1);
	json_decref(h);
	/* --until before the conflict: A only, its attempt only. */
	h = history(dbp, "%s --until %s", q, rfc3339(t_pre));
	ASSERT_EQ(count(h, "socket", NULL), 1);
	ASSERT_EQ(count(h, "bind_attempt", NULL), 1);
	json_decref(h);

	/* --uid: the rogue's doings. */
	h = history(dbp, "%s --uid 1002", q);
	ASSERT_EQ(count(h, "socket", NULL), 1);
	ASSERT_EQ(count(h, "bind_attempt", NULL), 2);
	ASSERT_EQ(count(h, "bind_attempt", "socket.owner.uid=1001", NULL), 0);
	ASSERT_TRUE(count(h, "finding", "kind=takeover", NULL) == 1);
	json_decref(h);

	/* --kind: the takeover finding, as the journal reported it. */
	h = history(dbp, "--kind takeover --netns %u --port %u", ns, port);
	ASSERT_EQ(json_array_size(h), 1);
	o = first(h, "finding");
	ASSERT_NOT_NULL(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "started_at")),
		     json_string_value(json_object_get(fj, "started_at")));
	ASSERT_STREQ(json_string_value(json_object_get(o, "severity")), "high");
	json_decref(h);
	h = history(dbp, "--kind takeover --netns %u --port %u --uid 1003", ns, port);
	ASSERT_EQ(json_array_size(h), 0);
	json_decref(h);

	/* The table a person reads. */
	table = pw_run_capture(pw_fmt("%s history --db '%s' %s --at %s", pw_bin(), dbp, q,
				      rfc3339(t_a)),
			       &status);
	ASSERT_EQ(status, 0);
	ASSERT_TRUE(strstr(table, "OWNERS AT THE TIME") != NULL);
	ASSERT_TRUE(strstr(table, "pw-owner") != NULL);
	ASSERT_TRUE(strstr(table, "pw-rogue") == NULL);
	ASSERT_TRUE(strstr(table, pw_fmt("0.0.0.0:%u", port)) != NULL);
	free(table);

	pw_holder_release(&b);
	pw_daemon_stop(&d);
	cleanup_dir();
}

/* Cookies (as text) of socket lifetimes in @arr. */
static bool has_cookie(json_t *arr, const char *type, json_int_t cookie)
{
	return count(arr, type, pw_fmt("socket.cookie=%lld", (long long)cookie), NULL) > 0;
}

/*
 * [store] from the --config file, with no --db on the command line: the
 * database is where the file says, and its max_rows holds at the next start
 * (retention runs at start and every minute).
 */
static void store_section_of_config_file(void)
{
	enum { N = 150, MAX_ROWS = 100 };
	uint32_t ns = pw_netns_new();
	const char *base = make_dir("config", 0);
	uint16_t port = pw_free_port(IPPROTO_UDP);
	char db[160], conf[160], q[128];
	struct pw_daemon d;
	struct pw_holder h;
	json_t *arr;
	FILE *f;

	snprintf(db, sizeof(db), "%s/from-config.db", base);
	snprintf(conf, sizeof(conf), "%s/portwarden.conf", base);
	snprintf(q, sizeof(q), "--netns %u --port %u --proto udp --since -1h --limit 1000", ns, port);
	f = fopen(conf, "we");
	ASSERT_NOT_NULL(f);
	fprintf(f, "[store]\ndb = %s\nmax_rows = %d\nretention = 2h\n", db, MAX_ROWS);
	fclose(f);
	pw_daemon_db_from_config = true;
	pw_daemon_start(&d, (const char *[]){ "--config", conf, NULL });
	for (int i = 0; i < N; i++) {
		spawn(&h, 1001, SOCK_DGRAM, port, false, "pw-cfg");
		ASSERT_EQ(h.bind_err, 0);
		pw_holder_release(&h);
	}
	arr = history_wait(db, q, "socket", N, NULL);
	ASSERT_EQ(count(arr, "socket", "socket.owner.comm=pw-cfg", NULL), N);
	json_decref(arr);
	pw_daemon_stop(&d);
	/* The next start trims the sockets table to max_rows, oldest first. */
	pw_daemon_db_from_config = true;
	pw_daemon_start(&d, (const char *[]){ "--config", conf, NULL });
	pw_daemon_stop(&d);
	arr = history(db, "%s", q);
	ASSERT_TRUE(count(arr, "socket", NULL) > 0);
	ASSERT_TRUE(count(arr, "socket", NULL) <= MAX_ROWS);
	json_decref(arr);
}

/*
 * kill -9 during a burst of binds: whatever a reader saw committed before the
 * kill survives; the restart closes the lifetimes of sockets that ended while
 * no daemon watched ("unknown end, not later than" the restart) and keeps
 * those still alive open.
 */
static void crash_restart_reconciles(void)
{
	enum { BURST = 24 };
	uint32_t ns = pw_netns_new();
	const char *db = pw_fmt("%s/h.db", make_dir("crash", 0));
	struct pw_holder keep, gone, burst[2 * BURST];
	json_t *before, *after, *o;
	struct pw_daemon d;
	char dbp[160];
	int64_t t_kill, t_restart;
	size_t i, n_before;
	int status;

	snprintf(dbp, sizeof(dbp), "%s", db);
	start_daemon(&d, dbp);
	spawn(&keep, 1001, SOCK_DGRAM, 0, false, "pw-keep");
	spawn(&gone, 1002, SOCK_DGRAM, 0, false, "pw-gone");
	ASSERT_EQ(keep.bind_err, 0);
	ASSERT_EQ(gone.bind_err, 0);
	for (i = 0; i < BURST; i++)
		spawn(&burst[i], 1001 + i % 2, SOCK_DGRAM, 0, false, "pw-burst");
	/* Wait until the history has at least the two long-lived sockets. */
	before = history_wait(dbp, pw_fmt("--netns %u --proto udp", ns), "socket", 2 + BURST,
			      NULL);
	json_decref(before);
	/* Second burst, killed in the middle of it. */
	for (i = BURST; i < BURST + BURST / 2; i++)
		spawn(&burst[i], 1001, SOCK_DGRAM, 0, false, "pw-burst");
	/* What a reader sees now is committed. */
	before = history(dbp, "--netns %u --proto udp", ns);
	kill(d.pid, SIGKILL);
	waitpid(d.pid, &status, 0);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	d.pid = 0;
	t_kill = now_ns();
	for (; i < 2 * BURST; i++)
		spawn(&burst[i], 1002, SOCK_DGRAM, 0, false, "pw-burst");
	n_before = count(before, "socket", NULL);
	ASSERT_TRUE(n_before >= 2);
	/* While no daemon watches: one socket ends. */
	pw_holder_release(&gone);
	pw_daemon_stop(&d);

	msleep(100);
	t_restart = now_ns();
	start_daemon(&d, dbp);
	after = history_wait(dbp, pw_fmt("--netns %u --proto udp", ns), "socket", 1,
			     "end=unknown");
	/* Every lifetime and attempt committed before the kill is still there. */
	json_array_foreach(before, i, o) {
		json_int_t c = json_integer_value(
			json_object_get(json_object_get(o, "socket"), "cookie"));

		if (!json_object_get(o, "socket"))
			continue; /* findings: checked elsewhere */
		ASSERT_TRUE(has_cookie(after, json_string_value(json_object_get(o, "type")), c));
	}
	ASSERT_TRUE(count(after, "bind_attempt", NULL) >= count(before, "bind_attempt", NULL));
	/* The one that ended meanwhile: unknown end, between the kill and the restart. */
	ASSERT_EQ(count(after, "socket", "end=unknown", NULL), 1);
	o = NULL;
	json_array_foreach(after, i, o)
		if (pw_json_match(o, (const char *[]){ "type=socket", "end=unknown", NULL }))
			break;
	ASSERT_TRUE(pw_json_match(o, (const char *[]){ "socket.owner.comm=pw-gone",
						       "socket.owner.uid=1002", "closed_at=null",
						       NULL }));
	{
		int64_t na, nb;

		ASSERT_EQ(pw_parse_time(json_string_value(json_object_get(o, "closed_not_after")),
					     &na),
			  0);
		ASSERT_EQ(pw_parse_time(json_string_value(json_object_get(o, "closed_not_before")),
					     &nb),
			  0);
		ASSERT_TRUE(na >= t_restart && na <= now_ns());
		ASSERT_TRUE(nb <= t_kill && nb <= na);
	}
	/* The survivor's lifetime goes on in the same row, and every live socket is open. */
	ASSERT_EQ(count(after, "socket", "socket.owner.comm=pw-keep", NULL), 1);
	ASSERT_EQ(count(after, "socket", "socket.owner.comm=pw-keep", "end=open", NULL), 1);
	ASSERT_EQ(count(after, "socket", "end=open", NULL), 1 + 2 * BURST);
	json_decref(after);
	/* At the kill, --at shows the holders the history knew of, including pw-gone. */
	after = history(dbp, "--netns %u --proto udp --at %s", ns, rfc3339(t_kill));
	ASSERT_EQ(count(after, "socket", "socket.owner.comm=pw-gone", NULL), 1);
	json_decref(after);
	/* An exact close after the restart. */
	pw_holder_release(&keep);
	for (int k = 0; k < WAIT_MS / 100; k++) {
		after = history(dbp, "--netns %u --proto udp", ns);
		if (count(after, "socket", "socket.owner.comm=pw-keep", "end=closed", NULL))
			break;
		json_decref(after);
		after = NULL;
		msleep(100);
	}
	ASSERT_NOT_NULL(after);
	json_decref(after);
	json_decref(before);
	for (i = 0; i < 2 * BURST; i++)
		pw_holder_release(&burst[i]);
	pw_daemon_stop(&d);
	cleanup_dir();
}

static char *metrics(void)
{
	int status;

	return pw_run_capture("curl -s --max-time 3 http://127.0.0.1:9742/metrics", &status);
}

static long long metric(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

/* Fill the file system of the database; writes fail; freeing it resumes them. */
static void disk_full_then_space_returns(void)
{
	uint32_t ns = pw_netns_new();
	const char *dirp = make_dir("full", 1024);
	struct pw_holder hs[8];
	struct pw_daemon d;
	char dbp[160], fill[160], *m, *log;
	json_t *h;
	int status;

	snprintf(dbp, sizeof(dbp), "%s/h.db", dirp);
	snprintf(fill, sizeof(fill), "%s/fill", dirp);
	start_daemon(&d, dbp);
	h = history_wait(dbp, "--netns 1", "socket", 0, NULL); /* the schema exists */
	json_decref(h);
	msleep(300);
	pw_run_capture(pw_fmt("dd if=/dev/zero of='%s' bs=4k 2>/dev/null", fill), &status);
	for (int i = 0; i < 8; i++) {
		spawn(&hs[i], 1001, SOCK_DGRAM, 0, false, "pw-full");
		ASSERT_EQ(hs[i].bind_err, 0);
	}
	/* Clearly logged, counted in a metric, said in the JSON stream. */
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "type=store", "status=failing", NULL));
	log = read_file(d.log_path);
	ASSERT_TRUE(strstr(log, "failed to write history") != NULL);
	ASSERT_TRUE(strstr(log, "full") != NULL);
	free(log);
	m = metrics();
	ASSERT_TRUE(metric(m, "portwarden_store_write_failures_total") > 0);
	ASSERT_EQ(metric(m, "portwarden_store_up"), 0);
	free(m);
	/* Still serving: events, findings and metrics go on. */
	pw_holder_release(&hs[0]);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=close", pw_fmt("socket.netns=%u", ns),
				       "socket.owner.comm=pw-full", NULL));
	/* Space returns: the kept batch and the queue are written. */
	unlink(fill);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, 15000, "type=store", "status=ok", NULL));
	h = history_wait(dbp, pw_fmt("--netns %u", ns), "bind_attempt", 8,
			 "socket.owner.comm=pw-full");
	ASSERT_EQ(count(h, "bind_attempt", "socket.owner.comm=pw-full", NULL), 8);
	ASSERT_EQ(count(h, "socket", "socket.owner.comm=pw-full", "end=closed", NULL), 1);
	json_decref(h);
	log = read_file(d.log_path);
	ASSERT_TRUE(strstr(log, "writing history to") != NULL);
	free(log);
	for (int i = 1; i < 8; i++)
		pw_holder_release(&hs[i]);
	pw_daemon_stop(&d);
	cleanup_dir();
}

/* A database on a file system that is read-only at start; writable later. */
static void readonly_db_then_writable(void)
{
	uint32_t ns = pw_netns_new();
	const char *dirp = make_dir("ro", 4096);
	struct pw_daemon d;
	struct pw_holder h1;
	char dbp[160], *log, *m;
	json_t *h;

	snprintf(dbp, sizeof(dbp), "%s/h.db", dirp);
	start_daemon(&d, dbp); /* creates the history */
	h = history_wait(dbp, "--netns 1", "socket", 0, NULL);
	json_decref(h);
	pw_daemon_stop(&d);
	ASSERT_EQ(mount(NULL, dirp, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
	start_daemon(&d, dbp);
	log = read_file(d.log_path);
	ASSERT_TRUE(strstr(log, "cannot use the history database") != NULL);
	ASSERT_TRUE(strstr(log, "read-only") != NULL);
	free(log);
	spawn(&h1, 1002, SOCK_DGRAM, 0, false, "pw-ro");
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "event=bind", pw_fmt("socket.netns=%u", ns),
				       "socket.owner.comm=pw-ro", NULL));
	ASSERT_NOT_NULL(pw_daemon_wait(&d, WAIT_MS, "type=store", "status=failing", NULL));
	m = metrics();
	ASSERT_TRUE(metric(m, "portwarden_store_write_failures_total") > 0);
	ASSERT_EQ(metric(m, "portwarden_store_up"), 0);
	free(m);
	/* The history can be read while it cannot be written. */
	h = history(dbp, "--netns %u", ns);
	ASSERT_EQ(count(h, "bind_attempt", "socket.owner.comm=pw-ro", NULL), 0);
	json_decref(h);
	ASSERT_EQ(mount(NULL, dirp, NULL, MS_REMOUNT, NULL), 0);
	ASSERT_NOT_NULL(pw_daemon_wait(&d, 15000, "type=store", "status=ok", NULL));
	h = history_wait(dbp, pw_fmt("--netns %u", ns), "bind_attempt", 1,
			 "socket.owner.comm=pw-ro");
	ASSERT_EQ(count(h, "bind_attempt", "socket.owner.comm=pw-ro", "socket.owner.uid=1002",
			NULL),
		  1);
	json_decref(h);
	pw_holder_release(&h1);
	pw_daemon_stop(&d);
	cleanup_dir();
}

/* Garbage in the file: a clear error from history and from the daemon, no crash, file untouched. */
static void corrupt_db_clear_error(void)
{
	const char *dirp = make_dir("corrupt", 0);
	char dbp[160], *out, *log, *after, *orig;
	struct pw_daemon d;
	int status;

	pw_netns_new();
	snprintf(dbp, sizeof(dbp), "%s/h.db", dirp);
	pw_run_capture(pw_fmt("head -c 65536 /dev/urandom > '%s'", dbp), &status);
	orig = pw_run_capture(pw_fmt("sha256sum < '%s'", dbp), &status);
	out = pw_run_capture(pw_fmt("%s history --db '%s' 2>&1", pw_bin(), dbp), &status);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 1);
	ASSERT_TRUE(strstr(out, "is not a usable SQLite database") != NULL);
	ASSERT_TRUE(strstr(out, dbp) != NULL);
	free(out);
	/* The daemon starts, says so, and keeps working without history. */
	start_daemon(&d, dbp);
	log = read_file(d.log_path);
	ASSERT_TRUE(strstr(log, "cannot use the history database") != NULL);
	ASSERT_TRUE(strstr(log, "not a usable SQLite database") != NULL);
	free(log);
	ASSERT_TRUE(kill(d.pid, 0) == 0);
	pw_daemon_stop(&d);
	after = pw_run_capture(pw_fmt("sha256sum < '%s'", dbp), &status);
	ASSERT_STREQ(after, orig);
	free(after);
	free(orig);
	/* Another program's SQLite file is not taken over either. */
	unlink(dbp);
	pw_run_capture(pw_fmt("sqlite3 '%s' 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'", dbp),
		       &status);
	ASSERT_EQ(status, 0);
	out = pw_run_capture(pw_fmt("%s history --db '%s' 2>&1", pw_bin(), dbp), &status);
	ASSERT_EQ(WEXITSTATUS(status), 1);
	ASSERT_TRUE(strstr(out, "not a portwarden history") != NULL);
	free(out);
	out = pw_run_capture(pw_fmt("%s history --db '%s/missing.db' 2>&1", pw_bin(), dirp),
			     &status);
	ASSERT_EQ(WEXITSTATUS(status), 1);
	ASSERT_TRUE(strstr(out, "no history database") != NULL);
	free(out);
	cleanup_dir();
}

int main(int argc, char **argv)
{
	static const struct pw_test tests[] = {
		PW_TEST(conflict_then_takeover),
		PW_TEST(store_section_of_config_file),
		PW_TEST(crash_restart_reconciles),
		PW_TEST(disk_full_then_space_returns),
		PW_TEST(readonly_db_then_writable),
		PW_TEST(corrupt_db_clear_error),
	};

	return pw_test_main(argc, argv, "history", tests, sizeof(tests) / sizeof(tests[0]));
}
