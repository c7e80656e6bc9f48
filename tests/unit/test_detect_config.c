// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* [detect] and [allow]: values, defaults, errors that name the line, the shipped example. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "findings.h"
#include "pw_config.h"

#define NS 1000000000ll

static int load(const char *text, struct pw_config *c, char *err)
{
	return pw_config__load_string(text, "t.conf", c, err, PW_CONFIG_ERR_LEN);
}

static void defaults(void **state)
{
	struct pw_config c;
	char err[PW_CONFIG_ERR_LEN] = "";

	assert_int_equal(load("", &c, err), 0);
	assert_true(c.detect.takeover_window_ns == 60 * NS);
	assert_true(c.detect.service_min_age_ns == 1 * NS);
	assert_true(c.detect.end_grace_ns == 2 * NS);
	assert_int_equal(c.detect.released_max, 4096);
	assert_int_equal(c.detect.disabled, 0);
	assert_int_equal(c.allow.n_wildcard, 0);
	pw_config__free(&c);
}

static void detect_values(void **state)
{
	struct pw_config c;
	char err[PW_CONFIG_ERR_LEN] = "";

	assert_int_equal(load("[detect]\ntakeover_window = 90s\nservice_min_age = 500ms\n"
			      "end_grace = 1m\nreleased_max = 10\n"
			      "disable = wildcard_exposure, listen_race\n",
			      &c, err),
			 0);
	assert_true(c.detect.takeover_window_ns == 90 * NS);
	assert_true(c.detect.service_min_age_ns == NS / 2);
	assert_true(c.detect.end_grace_ns == 60 * NS);
	assert_int_equal(c.detect.released_max, 10);
	assert_int_equal(c.detect.disabled,
			 (1u << PW_FK_WILDCARD_EXPOSURE) | (1u << PW_FK_LISTEN_RACE));
	pw_config__free(&c);
}

static void allow_values(void **state)
{
	struct pw_config c;
	char err[PW_CONFIG_ERR_LEN] = "";

	assert_int_equal(load("[allow]\nwildcard = 22/tcp, 53, exe:/usr/sbin/sshd\n"
			      "wildcard = uid:0\n53/udp = uid:0, uid:101, cgroup:/system.slice\n"
			      "*/udp = comm:avahi-daemon\nshare = 5353/udp\n",
			      &c, err),
			 0);
	assert_int_equal(c.allow.n_wildcard, 4);
	assert_int_equal(c.allow.wildcard[0].port, 22);
	assert_int_equal(c.allow.wildcard[0].proto, IPPROTO_TCP);
	assert_int_equal(c.allow.wildcard[1].proto, 0);
	assert_true(c.allow.wildcard[2].by_owner);
	assert_int_equal(c.allow.wildcard[2].owner.kind, PW_OM_EXE);
	assert_string_equal(c.allow.wildcard[2].owner.text, "/usr/sbin/sshd");
	assert_int_equal(c.allow.wildcard[3].owner.kind, PW_OM_UID);
	assert_int_equal(c.allow.n_share, 3);
	assert_int_equal(c.allow.share[0].port, 53);
	assert_int_equal(c.allow.share[0].n_owners, 3);
	assert_int_equal(c.allow.share[0].owners[1].uid, 101);
	assert_int_equal(c.allow.share[1].port, 0);
	assert_int_equal(c.allow.share[1].proto, IPPROTO_UDP);
	assert_int_equal(c.allow.share[2].port, 5353);
	assert_int_equal(c.allow.share[2].n_owners, 0);
	pw_config__free(&c);
}

static void expect_error(const char *text, const char *want)
{
	struct pw_config c;
	char err[PW_CONFIG_ERR_LEN] = "";

	assert_int_equal(load(text, &c, err), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
	/* Nothing half-read survives: the defaults only. */
	assert_int_equal(c.allow.n_wildcard, 0);
	assert_true(c.detect.takeover_window_ns == 60 * NS);
}

static void errors_name_the_line(void **state)
{
	expect_error("[detect]\n\ntakeover_window = 5 minutes\n", "t.conf:3: invalid takeover_window");
	expect_error("[detect]\ntakeover_window = 30s\nreleased_max = 0\n",
		     "t.conf:3: invalid released_max '0'");
	expect_error("[detect]\ndisable = takeovr\n", "t.conf:2: unknown finding kind 'takeovr'");
	expect_error("[detect]\nwindow = 5s\n", "t.conf:2: unknown key 'window' in [detect]");
	/* reuseport_skew thresholds live in [reuseport], not here */
	expect_error("[detect]\nskew_p_value = 0.01\n", "t.conf:2: unknown key 'skew_p_value'");
	expect_error("[allow]\nwildcard = 22/tcp\nwildcard = 99999\n",
		     "t.conf:3: invalid wildcard entry '99999'");
	expect_error("[allow]\nwildcard = 22/tcp\n53/udp = uid:0, user:bind\n",
		     "t.conf:3: invalid owner 'user:bind'");
	expect_error("[allow]\n53/udp = uid:-1\n", "t.conf:2: invalid owner 'uid:-1'");
	expect_error("[allow]\n53/udp =\n", "t.conf:2: empty owner list");
	expect_error("[allow]\nports = 1\n", "t.conf:2: unknown key 'ports' in [allow]");
}

/* The shipped example parses whole with the real section table: every section has a handler. */
static void shipped_example_parses(void **state)
{
	char err[PW_CONFIG_ERR_LEN] = "";
	struct pw_config c;

	if (pw_config__load("deploy/portwarden.conf.example", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c.detect.takeover_window_ns == 60 * NS);
	assert_int_equal(c.allow.n_wildcard, 3);
	assert_string_equal(c.daemon.events, "/var/log/portwarden/events.jsonl");
	assert_int_equal(c.daemon.poll_ms, 100);
	assert_int_equal(c.daemon.ringbuf_bytes, 4194304);
	assert_true(c.daemon.reconcile_interval_ns == 300 * NS);
	assert_int_equal(c.daemon.hooks[PW_FAM_BIND], PW_TIER_NONE);
	pw_config__free(&c);
}

/* [daemon] and [hooks] reject what they do not know, naming the line. */
static void daemon_and_hooks_errors(void **state)
{
	char err[PW_CONFIG_ERR_LEN] = "";
	struct pw_config c;

	assert_int_equal(pw_config__load_string("[daemon]\npoll_ms = 0\n", "t.conf", &c, err,
						sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: poll_ms"));
	assert_int_equal(pw_config__load_string("[daemon]\nringbuf_size = 5000\n", "t.conf", &c,
						err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pw_config__load_string("\n[hooks]\nbind = D\n", "t.conf", &c, err,
						sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.conf:3:"));
	assert_int_equal(pw_config__load_string("[daemon]\nmax_ports = 5\n", "t.conf", &c, err,
						sizeof(err)),
			 -EINVAL);
	assert_int_equal(pw_config__load_string("[hooks]\nbind = C\nreuseport = auto\n", "t.conf",
						&c, err, sizeof(err)),
			 0);
	assert_int_equal(c.daemon.hooks[PW_FAM_BIND], PW_TIER_C);
	pw_config__free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(detect_values),
		cmocka_unit_test(allow_values),
		cmocka_unit_test(errors_name_the_line),
		cmocka_unit_test(shipped_example_parses),
		cmocka_unit_test(daemon_and_hooks_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
