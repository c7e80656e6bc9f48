// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "enforce.h"
#include "log.h"
#include "run_opts.h"
#include "util.h"

enum {
	OPT_EVENTS = 0x100,
	OPT_FORCE_TIER,
	OPT_CGROUP,
	OPT_RINGBUF,
	OPT_MAX_SOCKETS,
	OPT_POLL_MS,
	OPT_QUIET_EXISTING,
	OPT_RECONCILE,
	OPT_REUSEPORT,
	OPT_DB,
	OPT_RETENTION,
	OPT_DB_MAX_ROWS,
	OPT_DB_MAX_BYTES,
	OPT_LISTEN,
	OPT_LISTEN_ALLOW_WILDCARD,
	OPT_NO_HTTP,
	OPT_HTTP,
	OPT_CONFIG,
	OPT_ENFORCE,
	OPT_AUDIT,
	OPT_PROTECT,
	OPT_DENY_CROSS_UID,
	OPT_DENY_SHADOWING,
	OPT_PIN,
};

static const struct option long_opts[] = {
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "force-tier", required_argument, NULL, OPT_FORCE_TIER },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "max-sockets", required_argument, NULL, OPT_MAX_SOCKETS },
	{ "poll-ms", required_argument, NULL, OPT_POLL_MS },
	{ "quiet-existing", no_argument, NULL, OPT_QUIET_EXISTING },
	{ "reconcile-interval", required_argument, NULL, OPT_RECONCILE },
	{ "reuseport", required_argument, NULL, OPT_REUSEPORT },
	{ "db", required_argument, NULL, OPT_DB },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "db-max-rows", required_argument, NULL, OPT_DB_MAX_ROWS },
	{ "db-max-bytes", required_argument, NULL, OPT_DB_MAX_BYTES },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "listen-allow-wildcard", no_argument, NULL, OPT_LISTEN_ALLOW_WILDCARD },
	{ "no-http", no_argument, NULL, OPT_NO_HTTP },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "enforce", no_argument, NULL, OPT_ENFORCE },
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "protect", required_argument, NULL, OPT_PROTECT },
	{ "deny-cross-uid", no_argument, NULL, OPT_DENY_CROSS_UID },
	{ "deny-shadowing", no_argument, NULL, OPT_DENY_SHADOWING },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

void run_opts__usage(FILE *f)
{
	fprintf(f,
		"Usage: portwarden run [OPTIONS]\n"
		"\n"
		"Load the BPF hooks, inventory existing sockets, keep the ledger of port owners\n"
		"and write one JSON line per event and finding.\n"
		"\n"
		"Options:\n"
		"  --events FILE          JSON lines to FILE (default: stdout; '-' = stdout)\n"
		"  --force-tier FAM=T     pin a hook family to tier A, B or C (repeatable);\n"
		"                         families: bind, lifecycle, inventory, reuseport\n"
		"  --cgroup PATH          attach cgroup hooks to PATH instead of the cgroup v2 root\n"
		"  --ringbuf-size BYTES   ring buffer size, a power of two >= 4096 (default 4 MiB)\n"
		"  --max-sockets N        ledger bound; the oldest socket is evicted past it\n"
		"  --poll-ms MS           ring buffer drain period (default 100)\n"
		"  --quiet-existing       do not write an event per socket found at start\n"
		"  --reconcile-interval D re-check the ledger against the kernel every D\n"
		"                         (default 5m; 0 = only after ring-buffer losses)\n"
		"  --reuseport KEY=VAL    a [reuseport] setting (repeatable): window, min_samples,\n"
		"                         max_mean_ratio, alpha, source_share, journal_interval,\n"
		"                         journal_delta, max_groups\n"
		"  --db PATH              SQLite history (default " PW_STORE_DEFAULT_PATH ");\n"
		"                         'none' keeps no history\n"
		"  --retention DUR        history kept for closed sockets, attempts, findings\n"
		"                         (default 30d)\n"
		"  --db-max-rows N        rows kept per history table (default 1000000)\n"
		"  --db-max-bytes N       history database size bound (default 1 GiB)\n"
		"  --listen ADDR:PORT     HTTP /metrics /healthz /ports /findings\n"
		"                         (default " PW_HTTP_DEFAULT_LISTEN "; IPv6 as [::1]:9742)\n"
		"  --listen-allow-wildcard  allow --listen on 0.0.0.0 or [::] (refused otherwise)\n"
		"  --no-http              no HTTP endpoint\n"
		"  --http KEY=VALUE       an [http] config key (repeatable): timeout, max_connections,\n"
		"                         max_connections_per_ip, max_request_bytes,\n"
		"                         max_label_ports, max_group_members\n"
		"  --config FILE          config file (re-read on SIGHUP; a bad file keeps the old)\n"
		"  --enforce              refuse binds that break the policy (EPERM); attach with\n"
		"                         --cgroup to limit it to one cgroup\n"
		"  --audit                report what --enforce would refuse, refuse nothing\n"
		"  --protect P[/PROTO]=OWNER[,OWNER]  only OWNER may bind port P (repeatable);\n"
		"                         OWNER: uid:N|NAME, cgroup:PATH, exe:PATH; P may be\n"
		"                         ADDR:PORT or [ADDR6]:PORT\n"
		"  --deny-cross-uid       refuse a bind that would share a port with another uid\n"
		"  --deny-shadowing       refuse a specific-address bind over another owner's wildcard\n"
		"  --pin DIR              keep enforcing after the daemon exits (bpffs DIR; undo\n"
		"                         with 'portwarden unpin DIR')\n"
		"  -v, --verbose          debug logging (libbpf messages included)\n"
		"  -h, --help             this help\n"
		"\n"
		"Examples:\n"
		"  portwarden run\n"
		"  portwarden run --events /var/log/portwarden/events.jsonl\n"
		"  portwarden run --force-tier bind=B --events - | jq 'select(.type==\"finding\")'\n"
		"  portwarden run --listen 10.0.0.5:9742 --http timeout=5s --http max_label_ports=64\n"
		"  portwarden run --enforce --protect 8443/tcp=uid:1001 --deny-cross-uid\n"
		"  portwarden run --audit --protect 53/udp=exe:/usr/sbin/unbound --config /etc/portwarden.conf\n");
}

int run_opts__parse(int argc, char **argv, struct daemon_opts *o)
{
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	rp_config__defaults(&o->rp);
	enforce_config__defaults(&o->enforce);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_EVENTS:
			o->events_path = optarg;
			break;
		case OPT_FORCE_TIER:
			if (pw_parse_force_tier(optarg, o->loader.forced)) {
				pr_err("invalid --force-tier '%s': expected FAMILY=A|B|C with "
				       "FAMILY one of bind, lifecycle, inventory, reuseport\n",
				       optarg);
				return -EINVAL;
			}
			break;
		case OPT_CGROUP:
			o->loader.cgroup_path = optarg;
			break;
		case OPT_RINGBUF:
			if (pw_parse_long(optarg, 4096, 1L << 30, &v) || (v & (v - 1))) {
				pr_err("invalid --ringbuf-size '%s': a power of two from 4096 to "
				       "1073741824\n",
				       optarg);
				return -EINVAL;
			}
			o->loader.ringbuf_bytes = (uint32_t)v;
			break;
		case OPT_MAX_SOCKETS:
			if (pw_parse_long(optarg, 1, 100000000, &v)) {
				pr_err("invalid --max-sockets '%s': 1 to 100000000\n", optarg);
				return -EINVAL;
			}
			o->max_socks = (size_t)v;
			break;
		case OPT_POLL_MS:
			if (pw_parse_long(optarg, 1, 10000, &v)) {
				pr_err("invalid --poll-ms '%s': 1 to 10000\n", optarg);
				return -EINVAL;
			}
			o->poll_ms = (int)v;
			break;
		case OPT_RECONCILE: {
			int64_t secs;

			if (pw_parse_duration(optarg, &secs)) {
				pr_err("invalid --reconcile-interval '%s': a duration such as 0, 90s, "
				       "5m\n",
				       optarg);
				return -EINVAL;
			}
			o->reconcile_interval_ns = secs * 1000000000;
			o->reconcile_set = true;
			break;
		}
		case OPT_QUIET_EXISTING:
			o->quiet_existing = true;
			break;
		case OPT_REUSEPORT: {
			char err[PW_CONFIG_ERR_LEN];

			if (rp_config__parse_arg(&o->rp, optarg, err, sizeof(err))) {
				pr_err("invalid --reuseport: %s\n", err);
				return -EINVAL;
			}
			break;
		}
		case OPT_DB:
			if (!*optarg) {
				pr_err("invalid --db '': a file path or 'none'\n");
				return -EINVAL;
			}
			o->store.path = optarg;
			break;
		case OPT_RETENTION:
			if (pw_parse_duration(optarg, &o->store.retention_secs) ||
			    o->store.retention_secs <= 0) {
				pr_err("invalid --retention '%s': a duration such as 30d, 12h, 90m\n",
				       optarg);
				return -EINVAL;
			}
			break;
		case OPT_DB_MAX_ROWS:
			if (pw_parse_long(optarg, 100, 1000000000L, &v)) {
				pr_err("invalid --db-max-rows '%s': 100 to 1000000000\n", optarg);
				return -EINVAL;
			}
			o->store.max_rows = (uint64_t)v;
			break;
		case OPT_DB_MAX_BYTES:
			if (pw_parse_long(optarg, 65536, 1L << 50, &v)) {
				pr_err("invalid --db-max-bytes '%s': 65536 to 2^50\n", optarg);
				return -EINVAL;
			}
			o->store.max_bytes = (uint64_t)v;
			break;
		case OPT_LISTEN:
			snprintf(o->http.listen, sizeof(o->http.listen), "%s", optarg);
			break;
		case OPT_LISTEN_ALLOW_WILDCARD:
			o->http.allow_wildcard = true;
			break;
		case OPT_NO_HTTP:
			o->http.disabled = true;
			break;
		case OPT_HTTP:
			if (http_opts__parse_arg(&o->http, optarg))
				return -EINVAL;
			break;
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_ENFORCE:
		case OPT_AUDIT:
			o->enforce.mode = c == OPT_ENFORCE ? PW_ENF_ENFORCE : PW_ENF_AUDIT;
			break;
		case OPT_PROTECT: {
			char msg[PW_CONFIG_ERR_LEN];

			if (enforce_config__add_protect(&o->enforce, optarg, msg, sizeof(msg))) {
				pr_err("invalid --protect '%s': %s\n", optarg, msg);
				return -EINVAL;
			}
			break;
		}
		case OPT_DENY_CROSS_UID:
			o->enforce.deny_cross_uid = 1;
			break;
		case OPT_DENY_SHADOWING:
			o->enforce.deny_shadowing = 1;
			break;
		case OPT_PIN:
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(o->enforce.pin_path)) {
				pr_err("invalid --pin '%s': an absolute path on bpffs\n", optarg);
				return -EINVAL;
			}
			snprintf(o->enforce.pin_path, sizeof(o->enforce.pin_path), "%s", optarg);
			break;
		case 'v':
			pw_log_level = PW_LOG_DEBUG;
			break;
		case 'h':
			return PW_OPTS_HELP;
		default:
			pr_err("unknown or incomplete option '%s' (see 'portwarden run --help')\n",
			       argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!o->http.disabled) {
		struct sockaddr_storage sa;
		char msg[300];
		socklen_t len;

		if (http__parse_listen(o->http.listen, o->http.allow_wildcard, &sa, &len, msg,
				       sizeof(msg))) {
			pr_err("%s\n", msg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see 'portwarden run --help')\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
