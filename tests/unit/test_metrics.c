// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics.c rendering from a daemon struct without BPF, and http.c's listen parser. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "daemon.h"
#include "http.h"
#include "metrics.h"

static void listen_addresses(void **state)
{
	struct sockaddr_storage sa;
	char err[300];
	socklen_t len;

	assert_int_equal(http__parse_listen(NULL, false, &sa, &len, err, sizeof(err)), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&sa)->sin_port), 9742);
	assert_int_equal(http__parse_listen("[::1]:80", false, &sa, &len, err, sizeof(err)), 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(http__parse_listen("0.0.0.0:9742", false, &sa, &len, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "wildcard"));
	assert_int_equal(http__parse_listen("[::]:9742", false, &sa, &len, err, sizeof(err)),
			 -EPERM);
	assert_int_equal(http__parse_listen("0.0.0.0:9742", true, &sa, &len, err, sizeof(err)), 0);
	assert_int_equal(http__parse_listen("::1:80", false, &sa, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(http__parse_listen("127.0.0.1", false, &sa, &len, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(http__parse_listen("127.0.0.1:65536", false, &sa, &len, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(http__parse_listen("localhost:80", false, &sa, &len, err, sizeof(err)),
			 -EINVAL);
}

static void http_keys(void **state)
{
	struct http_opts o = {};

	assert_int_equal(http_opts__parse_arg(&o, "timeout=3s"), 0);
	assert_int_equal(o.timeout_s, 3);
	assert_int_equal(http_opts__parse_arg(&o, "max_label_ports=7"), 0);
	assert_int_equal(o.metrics.max_port_series, 7);
	assert_int_equal(http_opts__parse_arg(&o, "enabled=no"), 0);
	assert_true(o.disabled);
	assert_int_equal(http_opts__parse_arg(&o, "timeout=0"), -EINVAL);
	assert_int_equal(http_opts__parse_arg(&o, "max_connections=0"), -EINVAL);
	assert_int_equal(http_opts__parse_arg(&o, "nope=1"), -EINVAL);
	assert_int_equal(http_opts__parse_arg(&o, "listen"), -EINVAL);
}

static double value(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	return p ? strtod(p + strlen(series), NULL) : -1;
}

/* Shared ports of distinct uids in two netns: one series per (proto, port), capped. */
static void shared_ports_merged_and_capped(void **state)
{
	struct metrics_opts mo = { .max_port_series = 2 };
	struct daemon d;
	char *buf;
	size_t len;
	uint64_t cookie = 1;

	memset(&d, 0, sizeof(d));
	metrics__init(&d.metrics, &mo);
	d.ledger = ledger__new(1000);
	d.findings = findings__new();
	for (uint32_t ns = 1; ns <= 2; ns++) {
		for (uint16_t port = 100; port < 104; port++) {
			for (uint32_t uid = 0; uid < (port == 100 ? 3u + ns : 2u); uid++) {
				struct ledger_sock s = { .cookie = cookie++, .family = AF_INET };

				s.key = (struct pw_port_key){ .netns = ns, .port = port,
							      .proto = IPPROTO_UDP };
				s.owner.uid = 1000 + uid;
				assert_true(ledger__upsert(d.ledger, &s, NULL) >= 0);
			}
		}
	}
	metrics__count_bind_failure(&d.metrics, IPPROTO_TCP, -EADDRINUSE);
	metrics__count_bind_failure(&d.metrics, IPPROTO_UDP, 9999);
	assert_int_equal(metrics__render(&d, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	/* Port 100: 5 owners in netns 2 (the larger), then the lowest port of the ties. */
	assert_true(value(buf, "portwarden_shared_port_owners{proto=\"udp\",port=\"100\"} ") == 5);
	assert_true(value(buf, "portwarden_shared_port_owners{proto=\"udp\",port=\"101\"} ") == 2);
	assert_null(strstr(buf, "port=\"102\""));
	assert_true(value(buf, "portwarden_series_dropped_total{metric=\"portwarden_shared_port_"
			       "owners\"} ") == 2);
	assert_true(value(buf, "portwarden_bind_failures_total{proto=\"tcp\",errno=\"EADDRINUSE\"} ") ==
		    1);
	assert_true(value(buf, "portwarden_bind_failures_total{proto=\"udp\",errno=\"other\"} ") == 1);
	assert_true(value(buf, "portwarden_sockets{proto=\"udp\",family=\"ipv4\",state=\"bound\"} ") ==
		    21);
	/* Every finding kind at 0 from the start. */
	assert_non_null(strstr(buf, "portwarden_findings_total{kind=\"takeover\",severity=\"high\"} 0\n"));
	assert_non_null(strstr(buf, "# TYPE portwarden_scrape_duration_seconds gauge\n"));
	free(buf);
	findings__free(d.findings);
	ledger__free(d.ledger);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listen_addresses),
		cmocka_unit_test(http_keys),
		cmocka_unit_test(shared_ports_merged_and_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
