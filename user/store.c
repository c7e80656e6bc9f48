// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SQLite history: a bounded queue filled by the event loop and drained by
 * one writer thread that owns the database connection. See store.h.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define DEFAULT_RETENTION_SECS (30ll * 86400)
#define DEFAULT_MAX_ROWS 1000000ull
#define DEFAULT_MAX_BYTES (1ull << 30)
#define DEFAULT_QUEUE_LEN 8192
#define DEFAULT_FLUSH_MS 150
#define BATCH_MAX 1024
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 5000
#define HEARTBEAT_NS (5ll * 1000000000)
#define RETENTION_EVERY_NS (60ll * 1000000000)
#define WARN_EVERY_NS (30ll * 1000000000)
#define CLOSE_DEADLINE_MS 3000
#define NS_PER_SEC 1000000000ll

enum rec_op { OP_EVENT, OP_FINDING, OP_RECONCILE, OP_RETENTION };

/* What reconciliation needs of a live socket (strings owned). */
struct live_sock {
	struct ledger_sock s; /* owner strings inline; list/hash pointers unused */
};

struct store_rec {
	enum rec_op op;
	uint64_t seq;
	union {
		struct pw_ev ev;
		struct {
			uint64_t id;
			enum pw_finding_kind kind;
			enum pw_severity severity;
			struct pw_port_key key;
			int64_t start_ns, end_ns;
			bool ended;
			char *dedup;
			char *detail; /* JSON text */
		} f;
		struct {
			struct live_sock *socks;
			size_t n;
			int64_t now_ns;
			bool startup;
		} rc;
		struct {
			int64_t now_ns;
		} ret;
	};
};

enum stmt_id {
	S_INS_SOCK,
	S_FIND_OPEN,
	S_SET_BOUND,
	S_LISTEN,
	S_CLOSE,
	S_INS_ATTEMPT,
	S_INS_FINDING,
	S_END_FINDING,
	S_HEARTBEAT,
	S_MAX,
};

#define SOCK_COLS                                                                          \
	"netns, proto, family, addr, port, reuseaddr, reuseport, v6only, reuseport_group, uid, " \
	"pid, tgid, euid, comm, exe, cgroup_id, cgroup, container"
#define SOCK_NCOLS 18
#define SOCK_QS "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?"

static const char *const stmt_sql[S_MAX] = {
	[S_INS_SOCK] = "INSERT INTO sockets (boot_id, cookie, " SOCK_COLS
		       ", first_seen, bound_at, listen_at) VALUES (?,?," SOCK_QS ",?,?,?)",
	[S_FIND_OPEN] = "SELECT id FROM sockets WHERE boot_id = ? AND cookie = ? AND "
			"closed_at IS NULL AND closed_not_after IS NULL ORDER BY id DESC LIMIT 1",
	[S_SET_BOUND] = "UPDATE sockets SET bound_at = COALESCE(bound_at, ?2) WHERE id = ?1",
	[S_LISTEN] = "UPDATE sockets SET listen_at = ?2 WHERE id = ?1 AND listen_at IS NULL",
	/* An exact close also corrects an earlier "unknown end" guess. */
	[S_CLOSE] = "UPDATE sockets SET closed_at = ?3, closed_not_before = NULL, "
		    "closed_not_after = NULL WHERE id = (SELECT id FROM sockets WHERE boot_id = ?1 "
		    "AND cookie = ?2 AND closed_at IS NULL ORDER BY id DESC LIMIT 1)",
	[S_INS_ATTEMPT] = "INSERT INTO bind_attempts (at, boot_id, cookie, " SOCK_COLS
			  ", result, errno_inferred, source) VALUES (?,?,?," SOCK_QS ",?,?,?)",
	[S_INS_FINDING] = "INSERT OR REPLACE INTO findings (run_id, finding_id, kind, severity, "
			  "netns, proto, port, dedup, started_at, ended_at, detail) VALUES "
			  "(?,?,?,?,?,?,?,?,?,?,?)",
	[S_END_FINDING] = "UPDATE findings SET ended_at = ?3, detail = ?4 WHERE run_id = ?1 AND "
			  "finding_id = ?2",
	[S_HEARTBEAT] = "UPDATE runs SET last_alive = ?2 WHERE id = ?1",
};

/* Migration N brings user_version N-1 to N. Never edit a released one: add one. */
static const char *const migrations[PW_STORE_SCHEMA_VERSION] = {
	/* 1: runs, socket lifetimes, bind attempts, findings. Times: ns since the epoch. */
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL, pid INTEGER NOT NULL,"
	"  version TEXT NOT NULL, started_at INTEGER NOT NULL, last_alive INTEGER NOT NULL,"
	"  stopped_at INTEGER);"
	"CREATE TABLE sockets ("
	"  id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL, cookie INTEGER NOT NULL,"
	"  netns INTEGER NOT NULL, proto TEXT NOT NULL, family TEXT NOT NULL,"
	"  addr TEXT NOT NULL, port INTEGER NOT NULL, reuseaddr INTEGER NOT NULL,"
	"  reuseport INTEGER NOT NULL, v6only INTEGER NOT NULL, reuseport_group INTEGER NOT NULL,"
	"  uid INTEGER, pid INTEGER, tgid INTEGER, euid INTEGER, comm TEXT, exe TEXT,"
	"  cgroup_id INTEGER, cgroup TEXT, container TEXT,"
	"  first_seen INTEGER NOT NULL, bound_at INTEGER, listen_at INTEGER,"
	"  closed_at INTEGER, closed_not_before INTEGER, closed_not_after INTEGER);"
	"CREATE INDEX sockets_cookie ON sockets (boot_id, cookie);"
	"CREATE INDEX sockets_port ON sockets (port, proto);"
	"CREATE INDEX sockets_closed ON sockets (closed_at);"
	"CREATE TABLE bind_attempts ("
	"  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, boot_id TEXT NOT NULL,"
	"  cookie INTEGER NOT NULL, netns INTEGER NOT NULL, proto TEXT NOT NULL,"
	"  family TEXT NOT NULL, addr TEXT NOT NULL, port INTEGER NOT NULL,"
	"  reuseaddr INTEGER NOT NULL, reuseport INTEGER NOT NULL, v6only INTEGER NOT NULL,"
	"  reuseport_group INTEGER NOT NULL, uid INTEGER, pid INTEGER, tgid INTEGER,"
	"  euid INTEGER, comm TEXT, exe TEXT, cgroup_id INTEGER, cgroup TEXT, container TEXT,"
	"  result TEXT NOT NULL, errno_inferred INTEGER NOT NULL, source TEXT NOT NULL);"
	"CREATE INDEX bind_attempts_port ON bind_attempts (port, proto, at);"
	"CREATE INDEX bind_attempts_at ON bind_attempts (at);"
	"CREATE TABLE findings ("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, finding_id INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, severity TEXT NOT NULL, netns INTEGER NOT NULL,"
	"  proto TEXT NOT NULL, port INTEGER NOT NULL, dedup TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL, ended_at INTEGER, ended_not_after INTEGER,"
	"  detail TEXT NOT NULL);"
	"CREATE UNIQUE INDEX findings_run ON findings (run_id, finding_id);"
	"CREATE INDEX findings_port ON findings (port, proto);"
	"CREATE INDEX findings_started ON findings (started_at);",
};

struct store {
	struct store_opts opts;
	char *path;
	char boot_id[40];
	pthread_t thread;
	bool thread_started;

	/* Queue, guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* writer: work or stop */
	pthread_cond_t done;	/* flushers: progress */
	struct store_rec *q;
	unsigned int q_head, q_len, q_cap;
	uint64_t enq_seq, done_seq;
	bool stopping;
	bool flush_req;

	/* Writer-owned. */
	sqlite3 *db;
	sqlite3_stmt *st[S_MAX];
	int64_t run_id;
	int64_t started_ns;
	bool failing;
	uint64_t failures_in_streak;
	int64_t last_warn_ns;

	/* Counters (read by any thread). */
	_Atomic uint64_t rows_written, write_failures, queue_dropped, rows_rejected,
		retention_deleted, batches;
	_Atomic bool healthy;
	bool reconciled;       /* event loop: the start-up reconciliation was queued */
	bool reported_healthy; /* event loop: what store__status_change last said */
	pthread_mutex_t err_lock;
	char last_error[256];
};

static int64_t now_ns(void)
{
	return pw_now_wall_ns();
}

static void set_error(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct store *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->err_lock);
	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&s->err_lock);
}

static void read_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	snprintf(buf, len, "unknown");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* ---- records ------------------------------------------------------------ */

static void rec_free(struct store_rec *r)
{
	if (r->op == OP_FINDING) {
		free(r->f.dedup);
		free(r->f.detail);
	} else if (r->op == OP_RECONCILE) {
		free(r->rc.socks);
	}
	memset(r, 0, sizeof(*r));
}

/* Takes ownership of @r's allocations (freed here when the queue is full). */
static int enqueue(struct store *s, struct store_rec *r)
{
	pthread_mutex_lock(&s->lock);
	if (s->q_len == s->q_cap || s->stopping) {
		pthread_mutex_unlock(&s->lock);
		atomic_fetch_add(&s->queue_dropped, 1);
		rec_free(r);
		return -ENOBUFS;
	}
	r->seq = ++s->enq_seq;
	s->q[(s->q_head + s->q_len) % s->q_cap] = *r;
	s->q_len++;
	if (s->q_len >= BATCH_MAX)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void store__event(struct store *s, const struct pw_ev *ev)
{
	struct store_rec r = { .op = OP_EVENT };

	if (!s)
		return;
	switch (ev->type) {
	case PW_REC_BIND:
	case PW_REC_BIND_FAILED:
	case PW_REC_BIND_REFUSED:
	case PW_REC_LISTEN:
	case PW_REC_CLOSE:
	case PW_REC_INVENTORY:
		break;
	default:
		return; /* unlisten: the lifetime ends with its close */
	}
	r.ev = *ev;
	r.ev.sock.port = NULL;
	r.ev.sock.port_prev = r.ev.sock.port_next = NULL;
	enqueue(s, &r);
}

void store__finding_sink(void *ctx, const struct pw_finding *f, bool ended)
{
	struct store *s = ctx;
	struct store_rec r = { .op = OP_FINDING };
	json_t *o;

	if (!s)
		return;
	r.f.id = f->id;
	r.f.kind = f->kind;
	r.f.severity = f->severity;
	r.f.key = f->key;
	r.f.start_ns = f->start_ns;
	r.f.end_ns = f->end_ns;
	r.f.ended = ended;
	r.f.dedup = strdup(f->dedup);
	o = pw_finding_json(f, ended);
	r.f.detail = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!r.f.dedup || !r.f.detail) {
		atomic_fetch_add(&s->queue_dropped, 1);
		rec_free(&r);
		return;
	}
	enqueue(s, &r);
}

int store__reconcile(struct store *s, const struct ledger *l, int64_t when_ns)
{
	struct store_rec r = { .op = OP_RECONCILE };
	struct ledger_sock *ls, *tmp;
	size_t i = 0;

	if (!s)
		return 0;
	r.rc.now_ns = when_ns;
	r.rc.startup = !s->reconciled;
	s->reconciled = true;
	r.rc.socks = calloc(l->n_socks ? l->n_socks : 1, sizeof(*r.rc.socks));
	if (!r.rc.socks) {
		atomic_fetch_add(&s->queue_dropped, 1);
		return -ENOMEM;
	}
	HASH_ITER(hh, l->socks, ls, tmp) {
		if (i == l->n_socks)
			break;
		r.rc.socks[i].s = *ls;
		r.rc.socks[i].s.port = NULL;
		r.rc.socks[i].s.port_prev = r.rc.socks[i].s.port_next = NULL;
		memset(&r.rc.socks[i].s.hh, 0, sizeof(r.rc.socks[i].s.hh));
		i++;
	}
	r.rc.n = i;
	return enqueue(s, &r);
}

int store__retention(struct store *s, int64_t when_ns)
{
	struct store_rec r = { .op = OP_RETENTION };

	if (!s)
		return 0;
	r.ret.now_ns = when_ns;
	return enqueue(s, &r);
}

/* ---- database ----------------------------------------------------------- */

/* Errors that come from the environment (disk, permissions, file): retry the batch. */
static bool rc_transient(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
	case SQLITE_NOLFS:
	case SQLITE_AUTH:
		return true;
	}
	return false;
}

/* Errors after which the connection is not worth keeping. */
static bool rc_reopen(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_PERM:
		return true;
	}
	return false;
}

static void db_close(struct store *s)
{
	for (int i = 0; i < S_MAX; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
	sqlite3_close(s->db);
	s->db = NULL;
}

static int exec(struct store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		set_error(s, "'%s': %s", s->path, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

static int64_t pragma_int(sqlite3 *db, const char *sql, int *ret_rc)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	*ret_rc = rc;
	return v;
}

/* Is @db a portwarden history this binary can use? Fills @err; returns an SQLite rc. */
static int check_identity(sqlite3 *db, const char *path, int64_t *ret_version, char *err,
			  size_t errlen)
{
	int64_t app, ver, tables;
	int rc;

	/* Reading the schema is what fails on a file that is not a database. */
	tables = pragma_int(db, "SELECT count(*) FROM sqlite_master", &rc);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "'%s' is not a usable SQLite database: %s", path,
			 sqlite3_errmsg(db));
		return rc;
	}
	app = pragma_int(db, "PRAGMA application_id", &rc);
	ver = pragma_int(db, "PRAGMA user_version", &rc);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "'%s': %s", path, sqlite3_errmsg(db));
		return rc;
	}
	if ((app && app != PW_STORE_APPLICATION_ID) || (!app && tables)) {
		snprintf(err, errlen,
			 "'%s' is an SQLite database but not a portwarden history (application_id "
			 "0x%llx): refusing to touch it",
			 path, (unsigned long long)app);
		return SQLITE_NOTADB;
	}
	if (ver > PW_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "'%s' has history schema version %lld, newer than this portwarden's (%d)",
			 path, (long long)ver, PW_STORE_SCHEMA_VERSION);
		return SQLITE_MISMATCH;
	}
	*ret_version = ver;
	return SQLITE_OK;
}

static int migrate(struct store *s, int64_t from)
{
	char sql[64];
	int rc;

	for (int64_t v = from + 1; v <= PW_STORE_SCHEMA_VERSION; v++) {
		rc = exec(s, "BEGIN IMMEDIATE");
		if (rc)
			return rc;
		rc = exec(s, migrations[v - 1]);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)v);
		if (!rc)
			rc = exec(s, sql);
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", PW_STORE_APPLICATION_ID);
		if (!rc)
			rc = exec(s, sql);
		if (!rc)
			rc = exec(s, "COMMIT");
		if (rc) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		pr_info("store: '%s' migrated to history schema version %lld\n", s->path,
			(long long)v);
	}
	return SQLITE_OK;
}

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

static int insert_run(struct store *s)
{
	sqlite3_stmt *st;
	int64_t t = now_ns();
	int rc;

	if (s->run_id) {
		char sql[96];

		/* Reopened: the run goes on unless the file was replaced meanwhile. */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM runs WHERE id = %lld",
			 (long long)s->run_id);
		if (pragma_int(s->db, sql, &rc) > 0 && rc == SQLITE_OK)
			return SQLITE_OK;
		if (rc)
			return rc;
	}
	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO runs (boot_id, pid, version, started_at, last_alive) "
				"VALUES (?, ?, ?, ?, ?)",
				-1, &st, NULL);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, s->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, getpid());
	sqlite3_bind_text(st, 3, PW_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, s->started_ns);
	sqlite3_bind_int64(st, 5, t);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_error(s, "%s", sqlite3_errmsg(s->db));
		return rc;
	}
	s->run_id = sqlite3_last_insert_rowid(s->db);
	return SQLITE_OK;
}

/* Open (or reopen) the connection: identity, schema, WAL, statements, run row. */
static int db_open(struct store *s)
{
	char err[512] = "";
	int64_t ver = 0;
	int rc, e;

	e = mkdir_parents(s->path);
	if (e) {
		set_error(s, "cannot create the directory of '%s': %s", s->path, strerror(-e));
		return SQLITE_CANTOPEN;
	}
	rc = sqlite3_open_v2(s->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		set_error(s, "cannot open '%s': %s", s->path,
			  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 2000);
	rc = check_identity(s->db, s->path, &ver, err, sizeof(err));
	if (rc != SQLITE_OK) {
		set_error(s, "%s", err);
		goto fail;
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		set_error(s, "'%s' is read-only", s->path);
		rc = SQLITE_READONLY;
		goto fail;
	}
	/* WAL: readers (portwarden history) never block the writer. NORMAL: a
	 * committed batch survives the daemon's crash (not a power cut). */
	/* A new file: before WAL and the first table, or it cannot be set any more.
	 * INCREMENTAL lets retention give pages back to the file system. */
	rc = ver ? SQLITE_OK : exec(s, "PRAGMA auto_vacuum = INCREMENTAL");
	if (!rc)
		rc = exec(s, "PRAGMA journal_mode = WAL");
	if (!rc)
		rc = exec(s, "PRAGMA synchronous = NORMAL");
	if (!rc)
		rc = exec(s, "PRAGMA temp_store = MEMORY");
	if (!rc)
		rc = exec(s, "PRAGMA journal_size_limit = 4194304");
	if (!rc)
		rc = migrate(s, ver);
	for (int i = 0; !rc && i < S_MAX; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
					NULL);
		if (rc)
			set_error(s, "'%s': %s", s->path, sqlite3_errmsg(s->db));
	}
	if (!rc)
		rc = insert_run(s);
	if (rc)
		goto fail;
	return SQLITE_OK;
fail:
	db_close(s);
	if (access(s->path, W_OK) && errno != ENOENT) {
		char why[256];

		/* Say why in words an operator acts on (EROFS, EACCES, ...). */
		pthread_mutex_lock(&s->err_lock);
		snprintf(why, sizeof(why), "%s", s->last_error);
		pthread_mutex_unlock(&s->err_lock);
		set_error(s, "%.180s (the database is read-only: %s)", why, strerror(errno));
	}
	return rc ? rc : SQLITE_ERROR;
}

static void bind_sock(sqlite3_stmt *st, int i, const struct ledger_sock *k)
{
	char addr[PW_ADDRSTRLEN];
	const struct pw_owner *o = &k->owner;

	pw_format_addr(k->family, k->addr, addr, sizeof(addr));
	sqlite3_bind_int64(st, i++, k->key.netns);
	sqlite3_bind_text(st, i++, pw_proto_name(k->key.proto), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, pw_family_name(k->family), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, addr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, k->key.port);
	sqlite3_bind_int(st, i++, !!(k->flags & PW_F_REUSEADDR));
	sqlite3_bind_int(st, i++, !!(k->flags & PW_F_REUSEPORT));
	sqlite3_bind_int(st, i++, !!(k->flags & PW_F_V6ONLY));
	sqlite3_bind_int(st, i++, !!(k->flags & PW_F_GROUP));
	sqlite3_bind_int64(st, i++, o->uid);
	sqlite3_bind_int64(st, i++, o->pid);
	sqlite3_bind_int64(st, i++, o->tgid);
	sqlite3_bind_int64(st, i++, o->euid);
	sqlite3_bind_text(st, i++, o->comm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, o->exe, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)o->cgroup_id);
	sqlite3_bind_text(st, i++, o->cgroup, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, o->container, -1, SQLITE_TRANSIENT);
}

/* Step a prepared statement to completion; SQLITE_OK or the error. */
static int run_stmt(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		atomic_fetch_add(&s->rows_written, (uint64_t)sqlite3_changes(s->db));
		rc = SQLITE_OK;
	} else {
		set_error(s, "'%s': %s", s->path, sqlite3_errmsg(s->db));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* The open lifetime row of a socket (0 if none), or < 0 on error (-rc). */
static int64_t find_open(struct store *s, uint64_t cookie)
{
	sqlite3_stmt *st = s->st[S_FIND_OPEN];
	int64_t id = 0;
	int rc;

	sqlite3_bind_text(st, 1, s->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)cookie);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE) {
		set_error(s, "%s", sqlite3_errmsg(s->db));
		id = -rc;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return id;
}

static int insert_sock(struct store *s, const struct ledger_sock *k, int64_t seen_ns,
		       int64_t bound_ns, int64_t listen_ns)
{
	sqlite3_stmt *st = s->st[S_INS_SOCK];
	int i = 3 + SOCK_NCOLS;

	sqlite3_bind_text(st, 1, s->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)k->cookie);
	bind_sock(st, 3, k);
	sqlite3_bind_int64(st, i++, seen_ns);
	if (bound_ns)
		sqlite3_bind_int64(st, i, bound_ns);
	i++;
	if (listen_ns)
		sqlite3_bind_int64(st, i, listen_ns);
	return run_stmt(s, st);
}

static int update_id(struct store *s, enum stmt_id sid, int64_t id, int64_t t)
{
	sqlite3_bind_int64(s->st[sid], 1, id);
	sqlite3_bind_int64(s->st[sid], 2, t);
	return run_stmt(s, s->st[sid]);
}

static int write_attempt(struct store *s, const struct pw_ev *ev)
{
	sqlite3_stmt *st = s->st[S_INS_ATTEMPT];
	int i = 4 + SOCK_NCOLS;

	sqlite3_bind_int64(st, 1, ev->wall_ns);
	sqlite3_bind_text(st, 2, s->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->sock.cookie);
	bind_sock(st, 4, &ev->sock);
	if (ev->type == PW_REC_BIND)
		sqlite3_bind_text(st, i++, "ok", -1, SQLITE_STATIC);
	else if (ev->type == PW_REC_BIND_REFUSED)
		sqlite3_bind_text(st, i++, "refused", -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, i++, ev->err ? pw_errno_name(ev->err) : "failed", -1,
				  SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, ev->err_inferred);
	sqlite3_bind_text(st, i++, events__source_name(ev->source), -1, SQLITE_STATIC);
	return run_stmt(s, st);
}

static int write_event(struct store *s, const struct pw_ev *ev)
{
	const struct ledger_sock *k = &ev->sock;
	int64_t id;
	int rc = SQLITE_OK;

	switch (ev->type) {
	case PW_REC_BIND:
		rc = write_attempt(s, ev);
		if (rc)
			return rc;
		id = find_open(s, k->cookie);
		if (id < 0)
			return (int)-id;
		if (id)
			return update_id(s, S_SET_BOUND, id, ev->wall_ns);
		return insert_sock(s, k, ev->wall_ns, ev->wall_ns, 0);
	case PW_REC_BIND_FAILED:
	case PW_REC_BIND_REFUSED:
		return write_attempt(s, ev);
	case PW_REC_LISTEN:
		id = find_open(s, k->cookie);
		if (id < 0)
			return (int)-id;
		if (id)
			return update_id(s, S_LISTEN, id, ev->wall_ns);
		return insert_sock(s, k, ev->wall_ns, k->bound_ns, ev->wall_ns);
	case PW_REC_CLOSE:
		sqlite3_bind_text(s->st[S_CLOSE], 1, s->boot_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->st[S_CLOSE], 2, (sqlite3_int64)k->cookie);
		sqlite3_bind_int64(s->st[S_CLOSE], 3, ev->wall_ns);
		return run_stmt(s, s->st[S_CLOSE]);
	case PW_REC_INVENTORY:
		id = find_open(s, k->cookie);
		if (id < 0)
			return (int)-id;
		if (!id)
			rc = insert_sock(s, k, ev->wall_ns, 0, k->listening ? ev->wall_ns : 0);
		return rc;
	}
	return rc;
}

static int write_finding(struct store *s, const struct store_rec *r)
{
	sqlite3_stmt *st;

	if (r->f.ended) {
		st = s->st[S_END_FINDING];
		sqlite3_bind_int64(st, 1, s->run_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)r->f.id);
		sqlite3_bind_int64(st, 3, r->f.end_ns);
		sqlite3_bind_text(st, 4, r->f.detail, -1, SQLITE_STATIC);
		return run_stmt(s, st);
	}
	st = s->st[S_INS_FINDING];
	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->f.id);
	sqlite3_bind_text(st, 3, pw_finding_kind_name(r->f.kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, pw_severity_name(r->f.severity), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->f.key.netns);
	sqlite3_bind_text(st, 6, pw_proto_name(r->f.key.proto), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, r->f.key.port);
	sqlite3_bind_text(st, 8, r->f.dedup, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->f.start_ns);
	sqlite3_bind_null(st, 10);
	sqlite3_bind_text(st, 11, r->f.detail, -1, SQLITE_STATIC);
	return run_stmt(s, st);
}

static int prepare_run(struct store *s, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	if (rc)
		set_error(s, "%s", sqlite3_errmsg(s->db));
	return rc;
}

static int write_reconcile(struct store *s, const struct store_rec *r)
{
	sqlite3_stmt *st = NULL;
	int64_t prev_alive = 0;
	int rc;

	if (r->rc.startup) {
		char sql[160];

		/* The last moment a previous daemon was known to watch: closes not seen
		 * since then happened after it. */
		snprintf(sql, sizeof(sql),
			 "SELECT COALESCE(MAX(COALESCE(stopped_at, last_alive)), 0) FROM runs "
			 "WHERE id != %lld",
			 (long long)s->run_id);
		prev_alive = pragma_int(s->db, sql, &rc);
		if (rc)
			return rc;
	}
	rc = exec(s, "CREATE TEMP TABLE IF NOT EXISTS live (cookie INTEGER PRIMARY KEY);"
		     "DELETE FROM live;");
	if (rc)
		return rc;
	rc = prepare_run(s, &st, "INSERT OR IGNORE INTO live (cookie) VALUES (?)");
	for (size_t i = 0; !rc && i < r->rc.n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)r->rc.socks[i].s.cookie);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc)
		return rc;
	rc = prepare_run(s, &st,
			 "UPDATE sockets SET closed_not_after = ?1, closed_not_before = "
			 "MIN(?1, MAX(?2, COALESCE(bound_at, first_seen))) WHERE closed_at IS NULL "
			 "AND closed_not_after IS NULL AND (boot_id != ?3 OR cookie NOT IN "
			 "(SELECT cookie FROM live))");
	if (!rc) {
		sqlite3_bind_int64(st, 1, r->rc.now_ns);
		sqlite3_bind_int64(st, 2, prev_alive);
		sqlite3_bind_text(st, 3, s->boot_id, -1, SQLITE_STATIC);
		rc = run_stmt(s, st);
		if (!rc && sqlite3_changes(s->db))
			pr_info("store: %d socket lifetimes ended while unobserved (closed not "
				"later than now)\n",
				sqlite3_changes(s->db));
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (r->rc.startup) {
		/* Findings open in an earlier run ended when that daemon stopped watching. */
		rc = prepare_run(s, &st,
				 "UPDATE findings SET ended_not_after = ?1 WHERE ended_at IS NULL "
				 "AND ended_not_after IS NULL AND run_id != ?2");
		if (!rc) {
			sqlite3_bind_int64(st, 1, r->rc.now_ns);
			sqlite3_bind_int64(st, 2, s->run_id);
			rc = run_stmt(s, st);
		}
		sqlite3_finalize(st);
		if (rc)
			return rc;
	}
	for (size_t i = 0; !rc && i < r->rc.n; i++) {
		const struct ledger_sock *k = &r->rc.socks[i].s;
		int64_t id = find_open(s, k->cookie);

		if (id < 0)
			return (int)-id;
		if (!id)
			rc = insert_sock(s, k, r->rc.now_ns, 0, 0);
	}
	return rc;
}

static int delete_count(struct store *s, const char *sql, int64_t a, int64_t b, uint64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare_run(s, &st, sql);

	if (!rc) {
		sqlite3_bind_int64(st, 1, a);
		sqlite3_bind_int64(st, 2, b);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->db);
		if (rc)
			set_error(s, "%s", sqlite3_errmsg(s->db));
		else
			*ret += (uint64_t)sqlite3_changes(s->db);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Rows that may go: lifetimes and findings that ended, every attempt. */
static const struct {
	const char *table, *done;
} ret_tables[] = {
	{ "bind_attempts", "1" },
	{ "sockets", "(closed_at IS NOT NULL OR closed_not_after IS NOT NULL)" },
	{ "findings", "(ended_at IS NOT NULL OR ended_not_after IS NOT NULL)" },
};

/* Delete the @n oldest finished rows of table @t. */
static int delete_oldest(struct store *s, size_t t, int64_t n, uint64_t *ret)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "DELETE FROM %s WHERE id IN (SELECT id FROM %s WHERE %s AND ?2 = ?2 "
		 "ORDER BY id LIMIT ?1)",
		 ret_tables[t].table, ret_tables[t].table, ret_tables[t].done);
	return delete_count(s, sql, n, 0, ret);
}

static int64_t used_bytes(struct store *s, int *rc)
{
	int64_t pages = pragma_int(s->db, "PRAGMA page_count", rc);
	int64_t freel = pragma_int(s->db, "PRAGMA freelist_count", rc);
	int64_t psz = pragma_int(s->db, "PRAGMA page_size", rc);

	return (pages - freel) * psz;
}

/* Age, then row count, then size. Runs inside the batch transaction. */
static int write_retention(struct store *s, int64_t when_ns)
{
	int64_t cutoff = when_ns - s->opts.retention_secs * NS_PER_SEC;
	uint64_t deleted = 0;
	char sql[160];
	int rc;

	rc = delete_count(s, "DELETE FROM bind_attempts WHERE at < ?1 AND ?2 = ?2", cutoff, 0,
			  &deleted);
	if (!rc)
		rc = delete_count(s,
				  "DELETE FROM sockets WHERE COALESCE(closed_at, closed_not_after) "
				  "< ?1 AND ?2 = ?2",
				  cutoff, 0, &deleted);
	if (!rc)
		rc = delete_count(s,
				  "DELETE FROM findings WHERE COALESCE(ended_at, ended_not_after) "
				  "< ?1 AND ?2 = ?2",
				  cutoff, 0, &deleted);
	if (!rc)
		rc = delete_count(s,
				  "DELETE FROM runs WHERE COALESCE(stopped_at, last_alive) < ?1 AND "
				  "id != ?2",
				  cutoff, s->run_id, &deleted);
	for (size_t t = 0; !rc && t < sizeof(ret_tables) / sizeof(ret_tables[0]); t++) {
		int64_t n;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", ret_tables[t].table);
		n = pragma_int(s->db, sql, &rc);
		if (!rc && n > (int64_t)s->opts.max_rows)
			rc = delete_oldest(s, t, n - (int64_t)s->opts.max_rows, &deleted);
	}
	/* Size: drop the oldest rows of each table in proportion to the excess (+5%). */
	for (int round = 0; !rc && round < 10; round++) {
		int64_t used = used_bytes(s, &rc);
		double frac;

		if (rc || used <= (int64_t)s->opts.max_bytes)
			break;
		frac = 1.0 - (double)s->opts.max_bytes / (double)used + 0.05;
		for (size_t t = 0; !rc && t < sizeof(ret_tables) / sizeof(ret_tables[0]); t++) {
			int64_t n;

			snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", ret_tables[t].table);
			n = pragma_int(s->db, sql, &rc);
			if (!rc && n)
				rc = delete_oldest(s, t, (int64_t)((double)n * frac) + 16, &deleted);
		}
	}
	if (!rc && deleted) {
		atomic_fetch_add(&s->retention_deleted, deleted);
		pr_debug("store: retention deleted %llu rows\n", (unsigned long long)deleted);
	}
	return rc;
}

static int write_rec(struct store *s, const struct store_rec *r)
{
	switch (r->op) {
	case OP_EVENT:
		return write_event(s, &r->ev);
	case OP_FINDING:
		return write_finding(s, r);
	case OP_RECONCILE:
		return write_reconcile(s, r);
	case OP_RETENTION:
		return write_retention(s, r->ret.now_ns);
	}
	return SQLITE_OK;
}

/*
 * One transaction for the batch. A record the database rejects for itself
 * (a constraint, a bug) is skipped and counted; an error of the environment
 * (full, read-only, I/O) rolls the whole batch back so it can be retried.
 */
static int write_batch(struct store *s, struct store_rec *batch, size_t n, bool retention,
		       bool heartbeat)
{
	uint64_t written = atomic_load(&s->rows_written);
	int64_t t = now_ns();
	int rc;

	rc = exec(s, "BEGIN IMMEDIATE");
	for (size_t i = 0; !rc && i < n; i++) {
		rc = write_rec(s, &batch[i]);
		if (rc && !rc_transient(rc)) {
			pr_warn("store: skipped a record the database rejected: %s\n",
				sqlite3_errmsg(s->db));
			atomic_fetch_add(&s->rows_rejected, 1);
			rc = SQLITE_OK;
		}
	}
	if (!rc && retention)
		rc = write_retention(s, t);
	if (!rc && (heartbeat || n))
		rc = update_id(s, S_HEARTBEAT, s->run_id, t);
	if (!rc)
		rc = exec(s, "COMMIT");
	if (rc) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		/* Nothing of a rolled-back batch was written. */
		atomic_store(&s->rows_written, written);
		return rc;
	}
	atomic_fetch_add(&s->batches, 1);
	if (retention) {
		/* Give freed pages back to the file system (auto_vacuum = INCREMENTAL). */
		sqlite3_exec(s->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	}
	return SQLITE_OK;
}

static void note_failure(struct store *s, int rc, size_t kept, int retry_ms)
{
	int64_t t = now_ns();
	char err[256];

	atomic_fetch_add(&s->write_failures, 1);
	atomic_store(&s->healthy, false);
	s->failures_in_streak++;
	pthread_mutex_lock(&s->err_lock);
	snprintf(err, sizeof(err), "%s", s->last_error);
	pthread_mutex_unlock(&s->err_lock);
	if (!s->failing || t - s->last_warn_ns >= WARN_EVERY_NS) {
		pr_err("store: failed to write history to '%s': %s (%s); keeping %zu records "
		       "and retrying in %d ms; %llu write failures, %llu records dropped so far\n",
		       s->path, err, sqlite3_errstr(rc), kept, retry_ms,
		       (unsigned long long)atomic_load(&s->write_failures),
		       (unsigned long long)atomic_load(&s->queue_dropped));
		s->last_warn_ns = t;
	}
	s->failing = true;
}

static void note_success(struct store *s)
{
	if (s->failing)
		pr_info("store: writing history to '%s' again after %llu failed attempts "
			"(%llu records dropped meanwhile)\n",
			s->path, (unsigned long long)s->failures_in_streak,
			(unsigned long long)atomic_load(&s->queue_dropped));
	s->failing = false;
	s->failures_in_streak = 0;
	atomic_store(&s->healthy, true);
	set_error(s, "%s", "");
}

static void add_ms(struct timespec *ts, int ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void mark_stopped(struct store *s)
{
	sqlite3_stmt *st = NULL;

	if (!s->db || !s->run_id)
		return;
	if (sqlite3_prepare_v2(s->db, "UPDATE runs SET stopped_at = ?2 WHERE id = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, s->run_id);
		sqlite3_bind_int64(st, 2, now_ns());
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

static void *writer_main(void *arg)
{
	struct store *s = arg;
	struct store_rec *batch = calloc(BATCH_MAX, sizeof(*batch));
	int64_t next_try = 0, next_retention = 0, last_commit = 0, stop_deadline = 0;
	int retry_ms = 0;
	size_t nb = 0;

	if (!batch) {
		pr_err("store: no memory for the writer's batch: history disabled\n");
		return NULL;
	}
	for (;;) {
		struct timespec ts;
		bool stopping, retention, heartbeat;
		int64_t t;
		int rc;

		pthread_mutex_lock(&s->lock);
		if (!s->stopping && !s->flush_req && s->q_len < BATCH_MAX) {
			clock_gettime(CLOCK_REALTIME, &ts);
			add_ms(&ts, s->opts.flush_ms);
			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		}
		/* A failed batch is retried as it was; refill only when it is gone. */
		if (!nb) {
			while (nb < BATCH_MAX && s->q_len) {
				batch[nb++] = s->q[s->q_head];
				s->q_head = (s->q_head + 1) % s->q_cap;
				s->q_len--;
			}
		}
		s->flush_req = false;
		stopping = s->stopping;
		pthread_mutex_unlock(&s->lock);

		t = now_ns();
		if (stopping && !stop_deadline)
			stop_deadline = t + CLOSE_DEADLINE_MS * 1000000ll;
		retention = t >= next_retention;
		heartbeat = t - last_commit >= HEARTBEAT_NS;
		if ((nb || retention || heartbeat) && t >= next_try) {
			rc = s->db ? SQLITE_OK : db_open(s);
			if (!rc)
				rc = write_batch(s, batch, nb, retention, heartbeat);
			if (!rc) {
				uint64_t last = nb ? batch[nb - 1].seq : 0;

				for (size_t i = 0; i < nb; i++)
					rec_free(&batch[i]);
				nb = 0;
				note_success(s);
				retry_ms = 0;
				last_commit = t;
				if (retention)
					next_retention = t + RETENTION_EVERY_NS;
				pthread_mutex_lock(&s->lock);
				if (last > s->done_seq)
					s->done_seq = last;
				if (!s->q_len && s->done_seq < s->enq_seq)
					s->done_seq = s->enq_seq; /* nothing left: all dropped or done */
				pthread_cond_broadcast(&s->done);
				pthread_mutex_unlock(&s->lock);
			} else {
				retry_ms = retry_ms ? retry_ms * 2 : RETRY_MIN_MS;
				if (retry_ms > RETRY_MAX_MS)
					retry_ms = RETRY_MAX_MS;
				next_try = t + retry_ms * 1000000ll;
				note_failure(s, rc, nb, retry_ms);
				if (rc_reopen(rc) || !s->db)
					db_close(s);
				pthread_mutex_lock(&s->lock);
				pthread_cond_broadcast(&s->done);
				pthread_mutex_unlock(&s->lock);
			}
		}
		if (stopping) {
			bool empty;

			pthread_mutex_lock(&s->lock);
			empty = !s->q_len;
			pthread_mutex_unlock(&s->lock);
			if ((empty && !nb) || now_ns() >= stop_deadline)
				break;
			if (t < next_try)
				usleep(50000);
		}
	}
	/* What could not be written before the deadline is lost: count it. */
	pthread_mutex_lock(&s->lock);
	atomic_fetch_add(&s->queue_dropped, nb + s->q_len);
	while (s->q_len) {
		rec_free(&s->q[s->q_head]);
		s->q_head = (s->q_head + 1) % s->q_cap;
		s->q_len--;
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < nb; i++)
		rec_free(&batch[i]);
	free(batch);
	mark_stopped(s);
	db_close(s);
	return NULL;
}

/* ---- lifecycle and queries --------------------------------------------- */

int store__open(const struct store_opts *o, struct store **ret)
{
	sigset_t all, old_mask;
	struct store *s;
	int err;

	*ret = NULL;
	if (o->path && !strcmp(o->path, "none"))
		return 0;
	if (o->path && !*o->path)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *o;
	if (!s->opts.retention_secs)
		s->opts.retention_secs = DEFAULT_RETENTION_SECS;
	if (!s->opts.max_rows)
		s->opts.max_rows = DEFAULT_MAX_ROWS;
	if (!s->opts.max_bytes)
		s->opts.max_bytes = DEFAULT_MAX_BYTES;
	if (!s->opts.queue_len)
		s->opts.queue_len = DEFAULT_QUEUE_LEN;
	if (!s->opts.flush_ms)
		s->opts.flush_ms = DEFAULT_FLUSH_MS;
	s->path = strdup(o->path ? o->path : PW_STORE_DEFAULT_PATH);
	s->q_cap = s->opts.queue_len;
	s->q = calloc(s->q_cap, sizeof(*s->q));
	if (!s->path || !s->q) {
		free(s->path);
		free(s->q);
		free(s);
		return -ENOMEM;
	}
	s->opts.path = s->path;
	s->started_ns = now_ns();
	s->reported_healthy = true;
	atomic_store(&s->healthy, true);
	read_boot_id(s->boot_id, sizeof(s->boot_id));
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->err_lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->done, NULL);
	/* Open now, so a bad path or a corrupt file is reported at start-up. */
	if (db_open(s) != SQLITE_OK) {
		atomic_store(&s->healthy, false);
		atomic_fetch_add(&s->write_failures, 1);
		s->failing = true;
		s->failures_in_streak = 1;
		s->last_warn_ns = now_ns();
		pr_err("store: cannot use the history database: %s; the daemon goes on without "
		       "history and retries (move the file aside to start a new history)\n",
		       s->last_error);
	}
	/* The writer takes no signals: the event loop reads them from a signalfd, which
	 * only works when every thread blocks them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old_mask);
	err = pthread_create(&s->thread, NULL, writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (err) {
		db_close(s);
		free(s->path);
		free(s->q);
		free(s);
		return -err;
	}
	s->thread_started = true;
	*ret = s;
	return 0;
}

void store__close(struct store *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	db_close(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->err_lock);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->done);
	free(s->q);
	free(s->path);
	free(s);
}

int store__flush(struct store *s, int timeout_ms)
{
	struct timespec ts;
	uint64_t target;
	int rc = 0;

	if (!s)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	add_ms(&ts, timeout_ms);
	pthread_mutex_lock(&s->lock);
	target = s->enq_seq;
	s->flush_req = true;
	pthread_cond_signal(&s->wake);
	while (s->done_seq < target && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->done, &s->lock, &ts);
	pthread_mutex_unlock(&s->lock);
	if (s->done_seq < target)
		return atomic_load(&s->healthy) ? -ETIMEDOUT : -EIO;
	return 0;
}

void store__get_stats(struct store *s, struct store_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!s)
		return;
	ret->rows_written = atomic_load(&s->rows_written);
	ret->write_failures = atomic_load(&s->write_failures);
	ret->queue_dropped = atomic_load(&s->queue_dropped);
	ret->rows_rejected = atomic_load(&s->rows_rejected);
	ret->retention_deleted = atomic_load(&s->retention_deleted);
	ret->batches = atomic_load(&s->batches);
	ret->healthy = atomic_load(&s->healthy);
	pthread_mutex_lock(&s->lock);
	ret->queue_len = s->q_len;
	ret->queue_cap = s->q_cap;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->err_lock);
	snprintf(ret->last_error, sizeof(ret->last_error), "%s", s->last_error);
	pthread_mutex_unlock(&s->err_lock);
}

const char *store__path(const struct store *s)
{
	return s ? s->path : NULL;
}

json_t *store__status_change(struct store *s)
{
	struct store_stats st;
	json_t *o;

	if (!s)
		return NULL;
	store__get_stats(s, &st);
	if (st.healthy == s->reported_healthy)
		return NULL;
	s->reported_healthy = st.healthy;
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "type", "store", "status",
		      st.healthy ? "ok" : "failing", "path", s->path, "write_failures",
		      (json_int_t)st.write_failures, "queue_dropped", (json_int_t)st.queue_dropped,
		      "rows_written", (json_int_t)st.rows_written);
	if (!o)
		return NULL;
	if (!st.healthy)
		json_object_set_new(o, "error", json_string(st.last_error));
	pw_json_set_time(o, "time", now_ns());
	return o;
}

int store__open_readonly(const char *path, sqlite3 **ret, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int64_t ver = 0;
	int rc;

	*ret = NULL;
	if (access(path, F_OK)) {
		snprintf(err, errlen, "no history database at '%s': %s", path, strerror(errno));
		return -ENOENT;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = check_identity(db, path, &ver, err, errlen);
	} else {
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	}
	if (rc != SQLITE_OK && access(path, W_OK) && errno == EROFS && !strpbrk(path, "?#%")) {
		char uri[PATH_MAX + 32];

		/* A WAL database on a read-only file system has no -shm to share: nobody
		 * can write it, so read it as immutable. */
		sqlite3_close(db);
		db = NULL;
		snprintf(uri, sizeof(uri), "file:%s?immutable=1", path);
		rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
		if (rc == SQLITE_OK)
			rc = check_identity(db, path, &ver, err, errlen);
	}
	if (rc == SQLITE_OK && ver < PW_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "'%s' has history schema version %lld; the daemon upgrades it to %d at "
			 "its next start",
			 path, (long long)ver, PW_STORE_SCHEMA_VERSION);
		rc = SQLITE_MISMATCH;
	}
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return -EINVAL;
	}
	*ret = db;
	return 0;
}
