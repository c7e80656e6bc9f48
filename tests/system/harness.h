/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * System-test harness: a tiny runner with file:line assertions, a private
 * network namespace, real socket holders forked as real uids (setresuid),
 * and a portwarden daemon whose JSON-lines output the tests assert on.
 */
#ifndef PW_HARNESS_H
#define PW_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- runner ------------------------------------------------------------ */

struct pw_test {
	const char *name;
	void (*fn)(void);
};

#define PW_TEST(fn) { #fn, fn }

/* Runs every test (or those named on the command line); prints
 * "PASS|FAIL|SKIP <suite>/<name> [tier X]" lines and "N passed, M failed, K skipped". */
int pw_test_main(int argc, char **argv, const char *suite, const struct pw_test *tests, size_t n);

void pw_fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
void pw_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define ASSERT_TRUE(c)                                                                    \
	do {                                                                              \
		if (!(c))                                                                 \
			pw_fail(__FILE__, __LINE__, "expected %s", #c);                   \
	} while (0)
#define ASSERT_EQ(a, b)                                                                   \
	do {                                                                              \
		long long _a = (long long)(a), _b = (long long)(b);                       \
		if (_a != _b)                                                             \
			pw_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b); \
	} while (0)
#define ASSERT_STREQ(a, b)                                                                \
	do {                                                                              \
		const char *_a = (a), *_b = (b);                                          \
		if (!_a || !_b || strcmp(_a, _b))                                         \
			pw_fail(__FILE__, __LINE__, "%s == %s: '%s' != '%s'", #a, #b,      \
				_a ? _a : "(null)", _b ? _b : "(null)");                  \
	} while (0)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)

/* The bind tier under test: $PW_TIER (A, B or C), default B. */
char pw_test_tier(void);
/* Path of the portwarden binary: $PW_BIN or ./build/portwarden. */
const char *pw_bin(void);

/* ---- environment ------------------------------------------------------- */

/* Move the test process into a new network namespace with lo up; returns its inode. */
uint32_t pw_netns_new(void);
/* Create a cgroup v2 child "pw-test-<pid>-<name>" (removed at exit); returns its path. */
const char *pw_cgroup_new(const char *name);
/* A port free for @proto in the current netns (bind to port 0). */
uint16_t pw_free_port(int proto);

/* ---- socket holders ---------------------------------------------------- */

struct pw_sock_spec {
	uid_t uid;		/* setresuid/setresgid to this before socket() */
	int family;		/* AF_INET / AF_INET6 */
	int type;		/* SOCK_STREAM / SOCK_DGRAM */
	const char *addr;	/* NULL: wildcard */
	uint16_t port;
	bool reuseaddr, reuseport, v6only;
	bool listen;
	const char *cgroup;	/* join this cgroup first (NULL: stay) */
	const char *comm;	/* prctl(PR_SET_NAME) */
};

struct pw_holder {
	pid_t pid;
	int ctl;	   /* write end: closing it makes the child close and exit */
	int bind_err;	   /* errno of bind(), 0 on success */
	int listen_err;	   /* errno of listen(), 0 on success or not asked */
	uint16_t port;	   /* bound port */
};

/* Fork a process that creates, binds (and listens) and then holds the socket. */
void pw_holder_spawn(const struct pw_sock_spec *spec, struct pw_holder *ret);
/* Close the socket and reap the process. */
void pw_holder_release(struct pw_holder *h);

/* ---- daemon ------------------------------------------------------------ */

struct pw_daemon {
	pid_t pid;
	char events_path[128];
	char log_path[128];
	char db_path[128]; /* private history unless the test passes --db */
	FILE *events;
	json_t *lines; /* every JSON line read so far */
	size_t next;   /* first line not yet matched by pw_daemon_next() */
};

/* Start `portwarden run --events FILE --quiet-existing --force-tier bind=$PW_TIER`
 * plus @extra (NULL-terminated argv tail); waits for its "ready" line. */
void pw_daemon_start(struct pw_daemon *d, const char *const *extra);
/*
 * Set before pw_daemon_start() when the test's --config file names the
 * history database: the harness then adds no --db of its own (which would
 * win over the file). pw_daemon_start() clears it.
 */
extern bool pw_daemon_db_from_config;
void pw_daemon_stop(struct pw_daemon *d);
/* Read lines available now. */
void pw_daemon_poll(struct pw_daemon *d);
/*
 * Wait up to @ms for a line matching every "path=value" condition (NULL-
 * terminated varargs, e.g. "event=bind", "socket.port=8080"). Integers,
 * booleans and strings compare by their text. Returns a borrowed reference,
 * or NULL on timeout.
 */
json_t *pw_daemon_wait(struct pw_daemon *d, int ms, ...) __attribute__((sentinel));
/* Count matching lines seen so far (after a poll). */
size_t pw_daemon_count(struct pw_daemon *d, ...) __attribute__((sentinel));
/* Does @obj match the NULL-terminated conditions in @conds? */
bool pw_json_match(json_t *obj, const char *const *conds);

/* Run `portwarden ports --json --netns N` and return the parsed output (owned). */
json_t *pw_ports_json(uint32_t netns);
/* Run a shell command and return its stdout (malloc'd), exit status in *ret_status. */
char *pw_run_capture(const char *cmd, int *ret_status);

/* Convenience: format into a static rotating buffer ("socket.port=%u"). */
const char *pw_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
