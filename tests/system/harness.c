// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

/* ---- runner ------------------------------------------------------------ */

static sigjmp_buf test_jmp;
static char test_msg[1024];
static int test_outcome; /* 0 pass, 1 fail, 2 skip */

void pw_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(test_msg, sizeof(test_msg), "%s:%d: ", file, line);

	va_start(ap, fmt);
	vsnprintf(test_msg + n, sizeof(test_msg) - n, fmt, ap);
	va_end(ap);
	test_outcome = 1;
	siglongjmp(test_jmp, 1);
}

void pw_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test_msg, sizeof(test_msg), fmt, ap);
	va_end(ap);
	test_outcome = 2;
	siglongjmp(test_jmp, 1);
}

char pw_test_tier(void)
{
	const char *t = getenv("PW_TIER");

	return t && (t[0] == 'A' || t[0] == 'B' || t[0] == 'C') ? t[0] : 'B';
}

const char *pw_bin(void)
{
	const char *b = getenv("PW_BIN");

	return b ? b : "./build/portwarden";
}

static bool wanted(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int pw_test_main(int argc, char **argv, const char *suite, const struct pw_test *tests, size_t n)
{
	int passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < n; i++) {
		pid_t pid;
		int status;

		if (!wanted(argc, argv, tests[i].name))
			continue;
		/* Each test in its own process: namespaces, cgroups and holders die with it. */
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			test_outcome = 0;
			test_msg[0] = '\0';
			if (!sigsetjmp(test_jmp, 1))
				tests[i].fn();
			if (test_outcome == 1)
				printf("FAIL %s/%s [tier %c]: %s\n", suite, tests[i].name,
				       pw_test_tier(), test_msg);
			else if (test_outcome == 2)
				printf("SKIP %s/%s [tier %c]: %s\n", suite, tests[i].name,
				       pw_test_tier(), test_msg);
			else
				printf("PASS %s/%s [tier %c]\n", suite, tests[i].name,
				       pw_test_tier());
			fflush(stdout);
			exit(test_outcome);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			passed++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
			skipped++;
		} else {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
				printf("FAIL %s/%s [tier %c]: crashed (status 0x%x)\n", suite,
				       tests[i].name, pw_test_tier(), status);
			failed++;
		}
	}
	printf("%s: %d passed, %d failed, %d skipped\n", suite, passed, failed, skipped);
	return failed ? 1 : 0;
}

const char *pw_fmt(const char *fmt, ...)
{
	static char bufs[16][256];
	static int next;
	char *b = bufs[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, 256, fmt, ap);
	va_end(ap);
	return b;
}

/* ---- environment ------------------------------------------------------- */

uint32_t pw_netns_new(void)
{
	struct ifreq ifr = {};
	struct stat st;
	int fd;

	if (unshare(CLONE_NEWNET))
		pw_fail(__FILE__, __LINE__, "unshare(CLONE_NEWNET): %s", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		pw_fail(__FILE__, __LINE__, "SIOCGIFFLAGS lo: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		pw_fail(__FILE__, __LINE__, "bring lo up: %s", strerror(errno));
	close(fd);
	if (stat("/proc/self/ns/net", &st))
		pw_fail(__FILE__, __LINE__, "stat netns: %s", strerror(errno));
	return (uint32_t)st.st_ino;
}

static char cgroups_made[8][256];
static int n_cgroups;

/* rmdir @path after its child cgroups (a test may make some below its own). */
static void cgroup_remove_tree(const char *path, int depth)
{
	struct dirent *de;
	DIR *d = depth < 4 ? opendir(path) : NULL;

	while (d && (de = readdir(d))) {
		char sub[512];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		cgroup_remove_tree(sub, depth + 1);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* Holders still alive at exit (a failed assertion skipped their release). */
static pid_t live_holders[256];

static void holders_kill(void)
{
	for (int i = 0; i < 256; i++) {
		if (live_holders[i] > 0) {
			kill(live_holders[i], SIGKILL);
			waitpid(live_holders[i], NULL, 0);
			live_holders[i] = 0;
		}
	}
}

static void holder_track(pid_t pid, pid_t old)
{
	for (int i = 0; i < 256; i++) {
		if (live_holders[i] == old) {
			live_holders[i] = pid;
			return;
		}
	}
}

static void cgroups_cleanup(void)
{
	/* A cgroup with a live process cannot be removed. */
	holders_kill();
	for (int i = n_cgroups - 1; i >= 0; i--)
		cgroup_remove_tree(cgroups_made[i], 0);
}

static const char *cgroup_root(void)
{
	static char root[256];
	char line[512];
	FILE *f;

	if (root[0])
		return root;
	f = fopen("/proc/self/mounts", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char dev[64], dir[256], type[64];

		if (sscanf(line, "%63s %255s %63s", dev, dir, type) == 3 && !strcmp(type, "cgroup2")) {
			snprintf(root, sizeof(root), "%s", dir);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!root[0])
		pw_skip("no cgroup v2 mount");
	return root;
}

const char *pw_cgroup_new(const char *name)
{
	char *p;

	if (n_cgroups >= 8)
		pw_fail(__FILE__, __LINE__, "too many test cgroups");
	p = cgroups_made[n_cgroups];
	snprintf(p, 256, "%s/pw-test-%d-%s", cgroup_root(), getpid(), name);
	if (mkdir(p, 0755) && errno != EEXIST)
		pw_fail(__FILE__, __LINE__, "mkdir %s: %s", p, strerror(errno));
	if (n_cgroups++ == 0)
		atexit(cgroups_cleanup);
	return p;
}

uint16_t pw_free_port(int proto)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	uint16_t port;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		pw_fail(__FILE__, __LINE__, "free port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- socket holders ---------------------------------------------------- */

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			_exit(90);
		close(fd);
	} else {
		_exit(91);
	}
}

static void holder_child(const struct pw_sock_spec *s, int res_fd, int ctl_fd)
{
	struct sockaddr_storage ss = {};
	socklen_t alen;
	int one = 1, fd, res[3] = { 0, 0, 0 };
	char c;

	/* Drop inherited fds (other holders' control pipes would keep them alive). */
	for (int i = 3; i < 1024; i++)
		if (i != res_fd && i != ctl_fd)
			close(i);
	if (s->cgroup)
		write_file(pw_fmt("%s/cgroup.procs", s->cgroup), pw_fmt("%d", getpid()));
	if (s->comm)
		prctl(PR_SET_NAME, s->comm);
	if (s->uid && (setgroups(0, NULL) || setresgid(s->uid, s->uid, s->uid) ||
		       setresuid(s->uid, s->uid, s->uid)))
		_exit(92);
	fd = socket(s->family, s->type, 0);
	if (fd < 0)
		_exit(93);
	if (s->reuseaddr)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (s->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ s->v6only }, sizeof(int));
	if (s->family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(s->port);
		if (s->addr)
			inet_pton(AF_INET, s->addr, &a->sin_addr);
		alen = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(s->port);
		if (s->addr)
			inet_pton(AF_INET6, s->addr, &a->sin6_addr);
		alen = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, alen))
		res[0] = errno;
	if (!res[0] && s->listen && listen(fd, 64))
		res[1] = errno;
	if (!res[0]) {
		alen = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &alen);
		res[2] = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	if (write(res_fd, res, sizeof(res)) != sizeof(res))
		_exit(94);
	close(res_fd);
	/* Hold until the parent closes the control pipe. */
	while (read(ctl_fd, &c, 1) > 0)
		;
	close(fd);
	_exit(0);
}

void pw_holder_spawn(const struct pw_sock_spec *spec, struct pw_holder *h)
{
	int res[2], ctl[2], r[3];

	memset(h, 0, sizeof(*h));
	if (pipe2(res, O_CLOEXEC) || pipe2(ctl, O_CLOEXEC))
		pw_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	fflush(stdout);
	h->pid = fork();
	if (h->pid < 0)
		pw_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (h->pid == 0) {
		close(res[0]);
		close(ctl[1]);
		holder_child(spec, res[1], ctl[0]);
	}
	close(res[1]);
	close(ctl[0]);
	holder_track(h->pid, 0);
	h->ctl = ctl[1];
	if (read(res[0], r, sizeof(r)) != sizeof(r)) {
		int status;

		waitpid(h->pid, &status, 0);
		pw_fail(__FILE__, __LINE__, "holder (uid %u) died before binding: status 0x%x",
			spec->uid, status);
	}
	close(res[0]);
	h->bind_err = r[0];
	h->listen_err = r[1];
	h->port = (uint16_t)r[2];
}

void pw_holder_release(struct pw_holder *h)
{
	int status;

	if (h->pid <= 0)
		return;
	close(h->ctl);
	waitpid(h->pid, &status, 0);
	holder_track(0, h->pid);
	h->pid = 0;
}

/* ---- daemon ------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pw_daemon_poll(struct pw_daemon *d)
{
	static char line[1 << 16];

	clearerr(d->events);
	while (fgets(line, sizeof(line), d->events)) {
		json_error_t e;
		json_t *o;
		size_t n = strlen(line);

		if (n && line[n - 1] != '\n') {
			/* Partial line: rewind and wait for the rest. */
			fseek(d->events, -(long)n, SEEK_CUR);
			break;
		}
		o = json_loads(line, 0, &e);
		if (!o)
			pw_fail(__FILE__, __LINE__, "daemon wrote invalid JSON: %s: %s", e.text, line);
		json_array_append_new(d->lines, o);
	}
}

static json_t *lookup_path(json_t *o, const char *path)
{
	char buf[128], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
		o = json_object_get(o, tok);
	return o;
}

static bool value_is(json_t *v, const char *want)
{
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return !strcmp(json_string_value(v), want);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return !strcmp(buf, want);
	case JSON_TRUE:
		return !strcmp(want, "true");
	case JSON_FALSE:
		return !strcmp(want, "false");
	case JSON_NULL:
		return !strcmp(want, "null");
	default:
		return false;
	}
}

bool pw_json_match(json_t *obj, const char *const *conds)
{
	for (; *conds; conds++) {
		const char *eq = strchr(*conds, '=');
		char path[128];
		json_t *v;

		if (!eq)
			return false;
		snprintf(path, sizeof(path), "%.*s", (int)(eq - *conds), *conds);
		v = lookup_path(obj, path);
		if (!v || !value_is(v, eq + 1))
			return false;
	}
	return true;
}

static size_t collect(va_list ap, const char **conds, size_t max)
{
	size_t n = 0;
	const char *c;

	while ((c = va_arg(ap, const char *)) && n < max - 1)
		conds[n++] = c;
	conds[n] = NULL;
	return n;
}

json_t *pw_daemon_wait(struct pw_daemon *d, int ms, ...)
{
	const char *conds[32];
	int64_t deadline = now_ms() + ms;
	va_list ap;

	va_start(ap, ms);
	collect(ap, conds, 32);
	va_end(ap);
	do {
		pw_daemon_poll(d);
		for (size_t i = 0; i < json_array_size(d->lines); i++) {
			json_t *o = json_array_get(d->lines, i);

			if (pw_json_match(o, conds))
				return o;
		}
		usleep(20000);
	} while (now_ms() < deadline);
	return NULL;
}

size_t pw_daemon_count(struct pw_daemon *d, ...)
{
	const char *conds[32];
	size_t n = 0;
	va_list ap;

	va_start(ap, d);
	collect(ap, conds, 32);
	va_end(ap);
	pw_daemon_poll(d);
	for (size_t i = 0; i < json_array_size(d->lines); i++)
		n += pw_json_match(json_array_get(d->lines, i), conds);
	return n;
}

/* A failed assertion exits the test process: still remove what it made. */
/*
 * Copies, not pointers: the pw_daemon lives on the stack of a test function
 * that a failed assertion has already left when the atexit handler runs.
 */
struct running_daemon {
	pid_t pid;
	char events_path[128];
	char log_path[128];
	char db_path[sizeof(((struct pw_daemon *)0)->db_path)];
	const struct pw_daemon *owner;
};
static struct running_daemon running[4];

/* A test daemon's history database and SQLite's companions ("" : none). */
static void unlink_db(const char *db_path)
{
	char p[sizeof(running[0].db_path) + 8];

	if (!db_path[0])
		return;
	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static void daemons_cleanup(void)
{
	for (int i = 0; i < 4; i++) {
		if (!running[i].pid)
			continue;
		kill(running[i].pid, SIGTERM);
		waitpid(running[i].pid, NULL, 0);
		unlink(running[i].events_path);
		unlink_db(running[i].db_path);
		if (getenv("PW_KEEP_LOGS") == NULL)
			unlink(running[i].log_path);
		running[i].pid = 0;
	}
}

bool pw_daemon_db_from_config;

void pw_daemon_start(struct pw_daemon *d, const char *const *extra)
{
	static bool registered;

	const char *argv[64];
	char tier[16];
	bool has_db = false, exited = false, ready = false;
	int n = 0, status = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->events_path, sizeof(d->events_path), "/tmp/pw-test-%d-events.jsonl", getpid());
	snprintf(d->log_path, sizeof(d->log_path), "/tmp/pw-test-%d-daemon.log", getpid());
	unlink(d->events_path);
	snprintf(tier, sizeof(tier), "bind=%c", pw_test_tier());
	argv[n++] = pw_bin();
	argv[n++] = "run";
	argv[n++] = "--events";
	argv[n++] = d->events_path;
	argv[n++] = "--quiet-existing";
	argv[n++] = "--force-tier";
	argv[n++] = tier;
	for (const char *const *e = extra; e && *e; e++)
		if (!strcmp(*e, "--db"))
			has_db = true;
	if (pw_daemon_db_from_config)
		has_db = true;
	pw_daemon_db_from_config = false;
	if (!has_db) {
		/* Never the shared default /var/lib/portwarden/history.db. */
		snprintf(d->db_path, sizeof(d->db_path), "/tmp/pw-test-%d-history.db", getpid());
		argv[n++] = "--db";
		argv[n++] = d->db_path;
	}
	for (; extra && *extra && n < 62; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	fflush(stdout);
	d->pid = fork();
	if (d->pid == 0) {
		int fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	d->lines = json_array();
	for (int i = 0; i < 4; i++) {
		if (!running[i].pid) {
			running[i].pid = d->pid;
			running[i].owner = d;
			snprintf(running[i].events_path, sizeof(running[i].events_path), "%s",
				 d->events_path);
			snprintf(running[i].log_path, sizeof(running[i].log_path), "%s",
				 d->log_path);
			snprintf(running[i].db_path, sizeof(running[i].db_path), "%s", d->db_path);
			break;
		}
	}
	if (!registered) {
		atexit(daemons_cleanup);
		registered = true;
	}
	/*
	 * Up to 60 s for the ready line (a daemon start takes 7-10 s in the
	 * 6.1 guest under TCG, more when two guests share the host), but the
	 * wait ends as soon as the daemon exits: a daemon that failed to start
	 * used to cost the full 10 + 20 s per test (253 s for the enforce suite
	 * on a kernel that refused its hooks).
	 */
	for (int i = 0; i < 300 && !ready && !exited; i++) {
		if (!d->events)
			d->events = fopen(d->events_path, "re");
		if (d->events)
			ready = pw_daemon_wait(d, 200, "type=ready", NULL) != NULL;
		else
			usleep(200000);
		if (!ready)
			exited = waitpid(d->pid, &status, WNOHANG) == d->pid;
	}
	/* An exit may have come with its ready line still unread. */
	if (exited && !ready && (d->events || (d->events = fopen(d->events_path, "re"))))
		ready = pw_daemon_wait(d, 0, "type=ready", NULL) != NULL;
	if (!ready && !exited)
		exited = waitpid(d->pid, &status, WNOHANG) == d->pid;
	if (exited) {
		/* Reaped: neither the cleanup nor pw_daemon_stop() may signal a reused pid. */
		for (int i = 0; i < 4; i++)
			if (running[i].pid == d->pid)
				running[i].pid = 0;
		d->pid = 0;
	}
	if (!ready) {
		char *log = pw_run_capture(pw_fmt("tail -5 %s", d->log_path), &(int){ 0 });

		if (exited && strstr(log ? log : "", "any tier"))
			pw_skip("bind tier %c does not load on this kernel: %s", pw_test_tier(), log);
		pw_fail(__FILE__, __LINE__, "daemon not ready (%s): %s",
			!exited ? "no ready line in 60 s" :
			WIFSIGNALED(status) ? pw_fmt("killed by signal %d", WTERMSIG(status)) :
			pw_fmt("exit %d", WEXITSTATUS(status)), log ? log : "");
	}
}

void pw_daemon_stop(struct pw_daemon *d)
{
	int status;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, &status, 0);
		d->pid = 0;
	}
	if (d->events) {
		pw_daemon_poll(d);
		fclose(d->events);
		d->events = NULL;
	}
	unlink(d->events_path);
	unlink_db(d->db_path);
	if (getenv("PW_KEEP_LOGS") == NULL)
		unlink(d->log_path);
	for (int i = 0; i < 4; i++)
		if (running[i].owner == d)
			running[i].pid = 0;
}

char *pw_run_capture(const char *cmd, int *ret_status)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t r;

	if (!p || !buf) {
		free(buf);
		return NULL;
	}
	while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += r;
		if (cap - n < 1024) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[n] = '\0';
	*ret_status = pclose(p);
	return buf;
}

json_t *pw_ports_json(uint32_t netns)
{
	int status;
	char *out = pw_run_capture(pw_fmt("%s ports --json --netns %u", pw_bin(), netns), &status);
	json_error_t e;
	json_t *o;

	if (!out || status)
		pw_fail(__FILE__, __LINE__, "portwarden ports failed (status %d): %s", status,
			out ? out : "");
	o = json_loads(out, 0, &e);
	if (!o)
		pw_fail(__FILE__, __LINE__, "ports --json is not JSON: %s", e.text);
	free(out);
	return o;
}
