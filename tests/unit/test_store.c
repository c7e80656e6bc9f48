// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The store without BPF: retention by age, by rows and by bytes is enforced,
 * a full queue counts its drops, schema identity is checked.
 */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "daemon.h"
#include "store.h"
#include "util.h"

#define DAY_NS (86400ll * 1000000000)

static char path[128];

static void rm_db(void)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/pw-unit-store-%d.db", getpid());
	rm_db();
	return 0;
}

static int teardown(void **state)
{
	rm_db();
	return 0;
}

static struct pw_ev ev(unsigned int type, uint64_t cookie, uint16_t port, int64_t t)
{
	struct pw_ev e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.wall_ns = t;
	e.sock.cookie = cookie;
	e.sock.key.netns = 4026531840u;
	e.sock.key.port = port;
	e.sock.key.proto = 17;
	e.sock.family = 2;
	e.sock.bound_ns = t;
	e.sock.owner.uid = 1001;
	snprintf(e.sock.owner.comm, sizeof(e.sock.owner.comm), "unit");
	if (type == PW_REC_BIND_FAILED)
		e.err = EADDRINUSE;
	return e;
}

static void put(struct store *s, unsigned int type, uint64_t cookie, int64_t t)
{
	struct pw_ev e = ev(type, cookie, 5353, t);

	store__event(s, &e);
}

static int64_t q1(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void retention_by_age(void **state)
{
	struct store_opts o = { .path = path, .retention_secs = 30 * 86400 };
	int64_t now = pw_now_wall_ns();
	struct store *s;

	assert_int_equal(store__open(&o, &s), 0);
	put(s, PW_REC_BIND, 1, now - 40 * DAY_NS); /* closed long ago: goes */
	put(s, PW_REC_CLOSE, 1, now - 39 * DAY_NS);
	put(s, PW_REC_BIND, 2, now - 2 * DAY_NS); /* closed recently: stays */
	put(s, PW_REC_CLOSE, 2, now - 1 * DAY_NS);
	put(s, PW_REC_BIND, 3, now - 40 * DAY_NS); /* still open: an owner now, stays */
	put(s, PW_REC_BIND_FAILED, 4, now - 35 * DAY_NS); /* old attempt: goes */
	/* The writer also runs retention at start and every minute: the result is the same. */
	assert_int_equal(store__flush(s, 5000), 0);
	assert_int_equal(store__retention(s, now), 0);
	assert_int_equal(store__flush(s, 5000), 0);
	assert_int_equal(q1("SELECT count(*) FROM sockets"), 2);
	assert_int_equal(q1("SELECT count(*) FROM sockets WHERE cookie = 1"), 0);
	assert_int_equal(q1("SELECT count(*) FROM sockets WHERE cookie = 3 AND closed_at IS NULL"), 1);
	assert_int_equal(q1("SELECT count(*) FROM bind_attempts"), 1);
	assert_int_equal(q1("SELECT cookie FROM bind_attempts"), 2);
	{
		struct store_stats st;

		store__get_stats(s, &st);
		assert_true(st.retention_deleted >= 4);
		assert_true(st.rows_written >= 9);
		assert_true(st.healthy);
		assert_int_equal(st.write_failures, 0);
	}
	store__close(s);
	/* The run was marked stopped; schema identity is set. */
	assert_int_equal(q1("SELECT count(*) FROM runs WHERE stopped_at IS NOT NULL"), 1);
	assert_int_equal(q1("PRAGMA user_version"), PW_STORE_SCHEMA_VERSION);
	assert_int_equal(q1("PRAGMA application_id"), PW_STORE_APPLICATION_ID);
}

static void retention_by_rows(void **state)
{
	struct store_opts o = { .path = path, .max_rows = 100 };
	int64_t now = pw_now_wall_ns();
	struct store *s;

	assert_int_equal(store__open(&o, &s), 0);
	for (int i = 0; i < 500; i++)
		put(s, PW_REC_BIND_FAILED, 1000 + i, now - (500 - i) * 1000000ll);
	assert_int_equal(store__flush(s, 5000), 0);
	assert_true(q1("SELECT count(*) FROM bind_attempts") >= 100);
	assert_int_equal(store__retention(s, now), 0);
	assert_int_equal(store__flush(s, 5000), 0);
	assert_int_equal(q1("SELECT count(*) FROM bind_attempts"), 100);
	/* The newest are kept. */
	assert_int_equal(q1("SELECT min(cookie) FROM bind_attempts"), 1400);
	assert_int_equal(q1("SELECT max(cookie) FROM bind_attempts"), 1499);
	store__close(s);
}

static void retention_by_bytes(void **state)
{
	struct store_opts o = { .path = path, .queue_len = 8192 };
	int64_t now = pw_now_wall_ns();
	struct stat before, after;
	struct store *s;

	assert_int_equal(store__open(&o, &s), 0);
	for (int i = 0; i < 4000; i++) {
		struct pw_ev e = ev(PW_REC_BIND_FAILED, 10000 + i, 5353, now - (4000 - i) * 1000ll);

		memset(e.sock.owner.exe, 'x', sizeof(e.sock.owner.exe) - 1);
		memset(e.sock.owner.cgroup, 'c', sizeof(e.sock.owner.cgroup) - 1);
		store__event(s, &e);
	}
	assert_int_equal(store__flush(s, 10000), 0);
	assert_int_equal(q1("SELECT count(*) FROM bind_attempts"), 4000);
	store__close(s); /* checkpoints the WAL into the file */
	assert_int_equal(stat(path, &before), 0);
	assert_true(before.st_size > 1024 * 1024);
	o.max_bytes = 256 * 1024;
	assert_int_equal(store__open(&o, &s), 0); /* retention runs at start */
	assert_int_equal(store__flush(s, 10000), 0);
	store__close(s);
	assert_true(q1("SELECT (SELECT page_count FROM pragma_page_count) - "
		       "(SELECT freelist_count FROM pragma_freelist_count)") *
			    q1("PRAGMA page_size") <=
		    256 * 1024);
	assert_true(q1("SELECT count(*) FROM bind_attempts") > 0);
	assert_int_equal(q1("SELECT max(cookie) FROM bind_attempts"), 13999);
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_size < before.st_size / 2);
}

static void full_queue_counts_drops(void **state)
{
	/* Not creatable: the writer fails and the queue fills. */
	struct store_opts o = { .path = "/proc/pw-nonexistent/h.db", .queue_len = 16 };
	int64_t now = pw_now_wall_ns();
	struct store_stats st;
	struct store *s;

	assert_int_equal(store__open(&o, &s), 0);
	for (int i = 0; i < 40; i++)
		put(s, PW_REC_BIND_FAILED, i, now);
	store__get_stats(s, &st);
	assert_true(st.queue_dropped >= 24);
	assert_true(st.write_failures >= 1);
	assert_false(st.healthy);
	assert_non_null(strstr(st.last_error, "/proc/pw-nonexistent"));
	assert_int_equal(store__flush(s, 300), -EIO);
	store__close(s);
	/* "none" disables the history. */
	o.path = "none";
	assert_int_equal(store__open(&o, &s), 0);
	assert_null(s);
	store__event(NULL, NULL);
}

static void newer_schema_refused(void **state)
{
	char err[512] = "";
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "PRAGMA application_id = 1347896369; PRAGMA user_version = 99;"
				      "CREATE TABLE x (y);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	db = NULL;
	assert_int_equal(store__open_readonly(path, &db, err, sizeof(err)), -EINVAL);
	assert_null(db);
	assert_non_null(strstr(err, "newer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(retention_by_age, setup, teardown),
		cmocka_unit_test_setup_teardown(retention_by_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(retention_by_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(full_queue_counts_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
