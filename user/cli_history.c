// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `portwarden history`: the forensic questions, answered from the SQLite
 * history the daemon writes (read-only, fine while the daemon runs: WAL).
 * "Who held this port at T" (--at), "who tried to bind it" (bind attempts),
 * which findings, over a time range.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli.h"
#include "findings.h"
#include "log.h"
#include "pw_config.h"
#include "store.h"
#include "util.h"

#define DEFAULT_LIMIT 10000

struct hq {
	const char *db;
	uint16_t port;
	uint8_t proto;
	uint32_t netns;
	bool has_uid;
	uint32_t uid;
	const char *kind;
	bool has_at, has_since, has_until;
	int64_t at, since, until;
	bool json, local;
	long limit;
	bool truncated;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portwarden history [OPTIONS]\n"
		"\n"
		"Socket lifetimes, bind attempts (failed ones too) and findings from the SQLite\n"
		"history that 'portwarden run' keeps. Opens the database read-only: safe while\n"
		"the daemon runs. Times are RFC 3339 in UTC unless --local.\n"
		"\n"
		"Options:\n"
		"  --db PATH          history database (default: [store] db of --config, else\n"
		"                     " PW_STORE_DEFAULT_PATH ")\n"
		"  --config FILE      read the database path from this config file's [store] db\n"
		"  --port P           only this port\n"
		"  --proto tcp|udp    only this protocol\n"
		"  --netns INUM       only this network namespace (inode number)\n"
		"  --at TIME          the owners at that moment (and the findings active then)\n"
		"  --since TIME       only what overlaps [since, until]\n"
		"  --until TIME\n"
		"  --uid UID          only sockets/attempts of this uid, findings involving it\n"
		"  --kind KIND        only findings of this kind (takeover, bind_conflict, ...)\n"
		"  --json             one JSON object per line (\"type\": socket, bind_attempt,\n"
		"                     finding)\n"
		"  --local            print local times with their UTC offset\n"
		"  --limit N          at most N rows per section (default %d)\n"
		"  -h, --help         this help\n"
		"\n"
		"TIME is RFC 3339 (2026-01-31T03:12:00Z, offsets and fractions allowed), @EPOCH\n"
		"seconds, 'now', or relative to now (-15m, -2h, -7d).\n"
		"\n"
		"A socket closed while no daemon watched has an unknown end: CLOSED shows\n"
		"'unknown, <= T' (not later than T, the restart that noticed it).\n"
		"\n"
		"Examples:\n"
		"  portwarden history --port 53 --proto udp --at 2026-01-31T03:12:00Z\n"
		"  portwarden history --port 53 --proto udp --since -1h\n"
		"  portwarden history --kind takeover --since -1d --json\n"
		"  portwarden history --uid 1002 --since 2026-01-31T00:00:00Z --until "
		"2026-02-01T00:00:00Z\n",
		DEFAULT_LIMIT);
}

static int parse_when(const char *s, int64_t *ret)
{
	int64_t secs;

	if (!strcmp(s, "now")) {
		*ret = pw_now_wall_ns();
		return 0;
	}
	if (s[0] == '-') {
		if (pw_parse_duration(s + 1, &secs))
			return -EINVAL;
		*ret = pw_now_wall_ns() - secs * 1000000000ll;
		return 0;
	}
	return pw_parse_time(s, ret);
}

static void fmt_time(const struct hq *q, int64_t ns, char *buf, size_t len)
{
	time_t t;
	struct tm tm;
	long frac;
	int n;

	if (!q->local) {
		pw_format_time(ns, buf, len);
		return;
	}
	t = (time_t)(ns / 1000000000);
	frac = (long)(ns % 1000000000);
	if (frac < 0) {
		frac += 1000000000;
		t--;
	}
	localtime_r(&t, &tm);
	n = (int)strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ld%+03ld:%02ld", frac, tm.tm_gmtoff / 3600,
		 labs(tm.tm_gmtoff % 3600) / 60);
}

/* A nullable time column as JSON (null) or text ("-"). */
static json_t *jtime(const struct hq *q, sqlite3_stmt *st, int col)
{
	char buf[48];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	fmt_time(q, sqlite3_column_int64(st, col), buf, sizeof(buf));
	return json_string(buf);
}

static const char *ttime(const struct hq *q, sqlite3_stmt *st, int col, char *buf, size_t len)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return "-";
	fmt_time(q, sqlite3_column_int64(st, col), buf, len);
	return buf;
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

/* Columns shared by sockets and bind_attempts, starting at @c (see SOCK_SELECT). */
#define SOCK_SELECT                                                                           \
	"cookie, netns, proto, family, addr, port, reuseaddr, reuseport, v6only, "        \
	"reuseport_group, uid, pid, tgid, euid, comm, exe, cgroup_id, cgroup, container"

static json_t *sock_json(sqlite3_stmt *st, int c)
{
	json_t *flags = json_pack("{s:b, s:b, s:b, s:b}", "reuseaddr", sqlite3_column_int(st, c + 6),
				  "reuseport", sqlite3_column_int(st, c + 7), "v6only",
				  sqlite3_column_int(st, c + 8), "reuseport_group",
				  sqlite3_column_int(st, c + 9));
	json_t *owner = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:s}", "uid",
				  (json_int_t)sqlite3_column_int64(st, c + 10), "pid",
				  (json_int_t)sqlite3_column_int64(st, c + 11), "tgid",
				  (json_int_t)sqlite3_column_int64(st, c + 12), "euid",
				  (json_int_t)sqlite3_column_int64(st, c + 13), "comm",
				  col_text(st, c + 14), "exe", col_text(st, c + 15), "cgroup_id",
				  (json_int_t)sqlite3_column_int64(st, c + 16), "cgroup",
				  col_text(st, c + 17), "container", col_text(st, c + 18));

	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:o, s:o}", "cookie",
			 (json_int_t)(uint64_t)sqlite3_column_int64(st, c), "netns",
			 (json_int_t)sqlite3_column_int64(st, c + 1), "proto", col_text(st, c + 2),
			 "family", col_text(st, c + 3), "addr", col_text(st, c + 4), "port",
			 sqlite3_column_int(st, c + 5), "flags", flags, "owner", owner);
}

static void sock_endpoint(sqlite3_stmt *st, int c, char *buf, size_t len)
{
	const char *addr = col_text(st, c + 4);

	if (!strcmp(col_text(st, c + 3), "ipv6"))
		snprintf(buf, len, "[%s]:%d", addr, sqlite3_column_int(st, c + 5));
	else
		snprintf(buf, len, "%s:%d", addr, sqlite3_column_int(st, c + 5));
}

static void sock_flags(sqlite3_stmt *st, int c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", sqlite3_column_int(st, c + 6) ? "RA," : "",
		 sqlite3_column_int(st, c + 7) ? "RP," : "", sqlite3_column_int(st, c + 8) ? "V6," : "",
		 sqlite3_column_int(st, c + 9) ? "G," : "");
	if (*buf)
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "-");
}

/* WHERE clauses common to every section; binds by name. */
static void where_common(const struct hq *q, char *sql, size_t len, bool uid)
{
	size_t n = strlen(sql);

	if (q->port)
		n += snprintf(sql + n, len - n, " AND port = :port");
	if (q->proto)
		n += snprintf(sql + n, len - n, " AND proto = :proto");
	if (q->netns)
		n += snprintf(sql + n, len - n, " AND netns = :netns");
	if (uid && q->has_uid)
		snprintf(sql + n, len - n, " AND uid = :uid");
}

static void bind_common(const struct hq *q, sqlite3_stmt *st)
{
	int i;

	if ((i = sqlite3_bind_parameter_index(st, ":port")))
		sqlite3_bind_int(st, i, q->port);
	if ((i = sqlite3_bind_parameter_index(st, ":proto")))
		sqlite3_bind_text(st, i, pw_proto_name(q->proto), -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(st, ":netns")))
		sqlite3_bind_int64(st, i, q->netns);
	if ((i = sqlite3_bind_parameter_index(st, ":uid")))
		sqlite3_bind_int64(st, i, q->uid);
	if ((i = sqlite3_bind_parameter_index(st, ":kind")))
		sqlite3_bind_text(st, i, q->kind, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(st, ":at")))
		sqlite3_bind_int64(st, i, q->at);
	if ((i = sqlite3_bind_parameter_index(st, ":since")))
		sqlite3_bind_int64(st, i, q->since);
	if ((i = sqlite3_bind_parameter_index(st, ":until")))
		sqlite3_bind_int64(st, i, q->until);
	if ((i = sqlite3_bind_parameter_index(st, ":limit")))
		sqlite3_bind_int64(st, i, q->limit + 1);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		pr_err("failed to query the history: %s\n", sqlite3_errmsg(db));
		return -EINVAL;
	}
	return 0;
}

/* Step, counting rows against the limit; 1 = a row to print, 0 = done, < 0 error. */
static int step(sqlite3 *db, sqlite3_stmt *st, struct hq *q, long *n)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		if (++*n > q->limit) {
			q->truncated = true;
			return 0;
		}
		return 1;
	}
	if (rc == SQLITE_DONE)
		return 0;
	pr_err("failed to read the history: %s\n", sqlite3_errmsg(db));
	return -EIO;
}

static void emit_json(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

static int query_sockets(sqlite3 *db, struct hq *q)
{
	char sql[1536] = "SELECT " SOCK_SELECT ", first_seen, bound_at, listen_at, closed_at, "
			 "closed_not_before, closed_not_after FROM sockets WHERE 1";
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	where_common(q, sql, sizeof(sql), true);
	if (q->has_at)
		strcat(sql, " AND COALESCE(bound_at, first_seen) <= :at AND (closed_at > :at OR "
			    "(closed_at IS NULL AND (closed_not_after IS NULL OR closed_not_after > "
			    ":at)))");
	if (q->has_since)
		strcat(sql, " AND COALESCE(closed_at, closed_not_after, 9223372036854775807) >= "
			    ":since");
	if (q->has_until)
		strcat(sql, " AND COALESCE(bound_at, first_seen) <= :until");
	strcat(sql, " ORDER BY COALESCE(bound_at, first_seen), id LIMIT :limit");
	if (prepare(db, sql, &st))
		return -EINVAL;
	bind_common(q, st);
	if (!q->json)
		printf("%s\n%-5s %-28s %-11s %6s %7s %-15s %-30s %-30s %-s\n",
		       q->has_at ? "OWNERS AT THE TIME" : "SOCKET LIFETIMES", "PROTO", "ADDRESS",
		       "FLAGS", "UID", "PID", "COMM", "BOUND", "LISTEN", "CLOSED");
	while ((rc = step(db, st, q, &n)) == 1) {
		bool open = sqlite3_column_type(st, 22) == SQLITE_NULL &&
			    sqlite3_column_type(st, 24) == SQLITE_NULL;
		bool unknown_end = sqlite3_column_type(st, 24) != SQLITE_NULL;

		if (q->json) {
			json_t *o = json_pack("{s:s, s:o}", "type", "socket", "socket",
					      sock_json(st, 0));

			json_object_set_new(o, "first_seen", jtime(q, st, 19));
			json_object_set_new(o, "bound_at", jtime(q, st, 20));
			json_object_set_new(o, "listen_at", jtime(q, st, 21));
			json_object_set_new(o, "closed_at", jtime(q, st, 22));
			json_object_set_new(o, "closed_not_before", jtime(q, st, 23));
			json_object_set_new(o, "closed_not_after", jtime(q, st, 24));
			json_object_set_new(o, "end",
					    json_string(open ? "open" :
							unknown_end ? "unknown" : "closed"));
			if (q->has_at)
				json_object_set_new(
					o, "held_for_certain",
					json_boolean(!unknown_end ||
						     sqlite3_column_int64(st, 23) > q->at));
			emit_json(o);
		} else {
			char ep[80], fl[16], b1[64], b2[48], b3[48], closed[80];
			const char *bound = ttime(q, st, 20, b1, sizeof(b1));

			sock_endpoint(st, 0, ep, sizeof(ep));
			sock_flags(st, 0, fl, sizeof(fl));
			if (sqlite3_column_type(st, 20) == SQLITE_NULL) {
				/* Found alive by the inventory: the bind happened before. */
				fmt_time(q, sqlite3_column_int64(st, 19), b2, sizeof(b2));
				snprintf(b1, sizeof(b1), "<=%s", b2);
				bound = b1;
			}
			if (open)
				snprintf(closed, sizeof(closed), "open");
			else if (unknown_end)
				snprintf(closed, sizeof(closed), "unknown, <= %s",
					 ttime(q, st, 24, b3, sizeof(b3)));
			else
				snprintf(closed, sizeof(closed), "%s", ttime(q, st, 22, b3, sizeof(b3)));
			printf("%-5s %-28s %-11s %6lld %7lld %-15s %-30s %-30s %s\n",
			       col_text(st, 2), ep, fl, (long long)sqlite3_column_int64(st, 10),
			       (long long)sqlite3_column_int64(st, 12), col_text(st, 14), bound,
			       ttime(q, st, 21, b2, sizeof(b2)), closed);
		}
	}
	sqlite3_finalize(st);
	if (!q->json)
		putchar('\n');
	return rc;
}

static int query_attempts(sqlite3 *db, struct hq *q)
{
	char sql[1024] = "SELECT " SOCK_SELECT ", at, result, errno_inferred, source FROM "
			 "bind_attempts WHERE 1";
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	where_common(q, sql, sizeof(sql), true);
	if (q->has_since)
		strcat(sql, " AND at >= :since");
	if (q->has_until)
		strcat(sql, " AND at <= :until");
	strcat(sql, " ORDER BY at, id LIMIT :limit");
	if (prepare(db, sql, &st))
		return -EINVAL;
	bind_common(q, st);
	if (!q->json)
		printf("BIND ATTEMPTS\n%-30s %-5s %-28s %-11s %-22s %6s %7s %s\n", "TIME", "PROTO",
		       "ADDRESS", "FLAGS", "RESULT", "UID", "PID", "COMM");
	while ((rc = step(db, st, q, &n)) == 1) {
		if (q->json) {
			json_t *o = json_pack("{s:s, s:o, s:s, s:b, s:s, s:o}", "type",
					      "bind_attempt", "time", jtime(q, st, 19), "result",
					      col_text(st, 20), "errno_inferred",
					      sqlite3_column_int(st, 21), "source", col_text(st, 22),
					      "socket", sock_json(st, 0));
			emit_json(o);
		} else {
			char ep[80], fl[16], t[48], res[40];

			sock_endpoint(st, 0, ep, sizeof(ep));
			sock_flags(st, 0, fl, sizeof(fl));
			snprintf(res, sizeof(res), "%s%s", col_text(st, 20),
				 sqlite3_column_int(st, 21) ? " (inferred)" : "");
			printf("%-30s %-5s %-28s %-11s %-22s %6lld %7lld %s\n",
			       ttime(q, st, 19, t, sizeof(t)), col_text(st, 2), ep, fl, res,
			       (long long)sqlite3_column_int64(st, 10),
			       (long long)sqlite3_column_int64(st, 12), col_text(st, 14));
		}
	}
	sqlite3_finalize(st);
	if (!q->json)
		putchar('\n');
	return rc;
}

static int query_findings(sqlite3 *db, struct hq *q)
{
	char sql[1536] = "SELECT kind, severity, netns, proto, port, started_at, ended_at, "
			 "ended_not_after, detail FROM findings WHERE 1";
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	where_common(q, sql, sizeof(sql), false);
	if (q->kind)
		strcat(sql, " AND kind = :kind");
	if (q->has_uid)
		strcat(sql, " AND EXISTS (SELECT 1 FROM json_each(detail, '$.sockets') j WHERE "
			    "json_extract(j.value, '$.owner.uid') = :uid)");
	if (q->has_at)
		strcat(sql, " AND started_at <= :at AND COALESCE(ended_at, ended_not_after, "
			    "9223372036854775807) > :at");
	if (q->has_since)
		strcat(sql, " AND COALESCE(ended_at, ended_not_after, 9223372036854775807) >= "
			    ":since");
	if (q->has_until)
		strcat(sql, " AND started_at <= :until");
	strcat(sql, " ORDER BY started_at, id LIMIT :limit");
	if (prepare(db, sql, &st))
		return -EINVAL;
	bind_common(q, st);
	if (!q->json)
		printf("FINDINGS\n%-30s %-30s %-20s %-8s %-5s %6s %10s %s\n", "STARTED", "ENDED",
		       "KIND", "SEVERITY", "PROTO", "PORT", "NETNS", "OWNERS (uid/comm)");
	while ((rc = step(db, st, q, &n)) == 1) {
		json_t *d = json_loads(col_text(st, 8), 0, NULL);

		if (!d)
			d = json_object();
		if (q->json) {
			json_object_set_new(d, "type", json_string("finding"));
			json_object_set_new(d, "status",
					    json_string(sqlite3_column_type(st, 6) != SQLITE_NULL ?
								"ended" :
							sqlite3_column_type(st, 7) != SQLITE_NULL ?
								"unknown_end" :
								"active"));
			json_object_set_new(d, "started_at", jtime(q, st, 5));
			json_object_set_new(d, "ended_at", jtime(q, st, 6));
			json_object_set_new(d, "ended_not_after", jtime(q, st, 7));
			json_object_del(d, "time");
			emit_json(d);
			continue;
		} else {
			char t1[48], t2[48], ended[80], owners[160] = "";
			size_t i, len = 0;
			json_t *s;

			json_array_foreach(json_object_get(d, "sockets"), i, s) {
				json_t *o = json_object_get(s, "owner");

				if (len < sizeof(owners))
					len += snprintf(owners + len, sizeof(owners) - len, "%s%lld/%s",
							i ? " " : "",
							(long long)json_integer_value(
								json_object_get(o, "uid")),
							json_string_value(json_object_get(o, "comm")) ?: "?");
			}
			if (sqlite3_column_type(st, 6) == SQLITE_NULL &&
			    sqlite3_column_type(st, 7) != SQLITE_NULL)
				snprintf(ended, sizeof(ended), "unknown, <= %s",
					 ttime(q, st, 7, t2, sizeof(t2)));
			else if (sqlite3_column_type(st, 6) == SQLITE_NULL)
				snprintf(ended, sizeof(ended), "active");
			else
				snprintf(ended, sizeof(ended), "%s", ttime(q, st, 6, t2, sizeof(t2)));
			printf("%-30s %-30s %-20s %-8s %-5s %6d %10lld %s\n",
			       ttime(q, st, 5, t1, sizeof(t1)), ended, col_text(st, 0),
			       col_text(st, 1), col_text(st, 3), sqlite3_column_int(st, 4),
			       (long long)sqlite3_column_int64(st, 2), owners);
		}
		json_decref(d);
	}
	sqlite3_finalize(st);
	if (!q->json)
		putchar('\n');
	return rc;
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },	   { "config", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },  { "proto", required_argument, NULL, 'P' },
		{ "netns", required_argument, NULL, 'n' }, { "at", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ "uid", required_argument, NULL, 'U' },   { "kind", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },	   { "local", no_argument, NULL, 'l' },
		{ "limit", required_argument, NULL, 'L' }, { "help", no_argument, NULL, 'h' },
		{},
	};
	struct hq q = { .limit = DEFAULT_LIMIT };
	struct pw_config cfg;
	const char *config = NULL;
	enum pw_finding_kind kind;
	char err[PW_CONFIG_ERR_LEN];
	sqlite3 *db = NULL;
	int ch, rc = 0;
	long v;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			q.db = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'p':
			if (pw_parse_long(optarg, 1, 65535, &v)) {
				pr_err("invalid --port '%s': 1 to 65535\n", optarg);
				return 2;
			}
			q.port = (uint16_t)v;
			break;
		case 'P':
			if (pw_parse_proto(optarg, &q.proto)) {
				pr_err("invalid --proto '%s': tcp or udp\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (pw_parse_long(optarg, 1, 0xffffffffL, &v)) {
				pr_err("invalid --netns '%s': a namespace inode number\n", optarg);
				return 2;
			}
			q.netns = (uint32_t)v;
			break;
		case 'a':
		case 's':
		case 'u': {
			int64_t *t = ch == 'a' ? &q.at : ch == 's' ? &q.since : &q.until;

			if (parse_when(optarg, t)) {
				pr_err("invalid time '%s': RFC 3339 (2026-01-31T03:12:00Z), @EPOCH, "
				       "'now' or relative (-15m, -2h, -7d)\n",
				       optarg);
				return 2;
			}
			*(ch == 'a' ? &q.has_at : ch == 's' ? &q.has_since : &q.has_until) = true;
			break;
		}
		case 'U':
			if (pw_parse_long(optarg, 0, 0xffffffffL, &v)) {
				pr_err("invalid --uid '%s': a numeric uid\n", optarg);
				return 2;
			}
			q.uid = (uint32_t)v;
			q.has_uid = true;
			break;
		case 'k':
			if (pw_finding_kind_parse(optarg, &kind)) {
				pr_err("invalid --kind '%s': one of", optarg);
				for (int k = 0; k < PW_FK_MAX; k++)
					fprintf(stderr, " %s", pw_finding_kind_name(k));
				fputc('\n', stderr);
				return 2;
			}
			q.kind = pw_finding_kind_name(kind);
			break;
		case 'j':
			q.json = true;
			break;
		case 'l':
			q.local = true;
			break;
		case 'L':
			if (pw_parse_long(optarg, 1, 100000000L, &v)) {
				pr_err("invalid --limit '%s': 1 to 100000000\n", optarg);
				return 2;
			}
			q.limit = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			pr_err("unknown or incomplete option '%s' (see 'portwarden history --help')\n",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see 'portwarden history --help')\n",
		       argv[optind]);
		return 2;
	}
	if (q.has_at && (q.has_since || q.has_until)) {
		pr_err("--at asks for one moment: it does not combine with --since/--until\n");
		return 2;
	}
	if (q.has_since && q.has_until && q.since > q.until) {
		pr_err("--since is after --until\n");
		return 2;
	}
	pw_config__init(&cfg);
	if (!q.db && config) {
		if (pw_config__load(config, &cfg, err, sizeof(err))) {
			pr_err("failed to load config: %s\n", err);
			return 1;
		}
		q.db = cfg.store.db;
	}
	if (!q.db)
		q.db = PW_STORE_DEFAULT_PATH;
	if (!strcmp(q.db, "none")) {
		pr_err("the history is disabled (db = none)\n");
		rc = 1;
		goto out;
	}
	if (store__open_readonly(q.db, &db, err, sizeof(err))) {
		pr_err("%s\n", err);
		rc = 1;
		goto out;
	}
	if (!q.kind)
		rc = query_sockets(db, &q);
	if (!rc && !q.kind && !q.has_at)
		rc = query_attempts(db, &q);
	if (!rc)
		rc = query_findings(db, &q);
	if (q.truncated)
		pr_warn("output truncated at %ld rows per section (--limit)\n", q.limit);
	rc = rc ? 1 : 0;
out:
	sqlite3_close(db);
	pw_config__free(&cfg);
	return rc;
}
