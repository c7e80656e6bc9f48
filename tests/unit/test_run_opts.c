// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "log.h"
#include "run_opts.h"

#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "run", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, ...) run_opts__parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o)

static int setup(void **state)
{
	pw_log_level = PW_LOG_ERROR - 1; /* keep expected errors off the output */
	return 0;
}

static void test_defaults(void **state)
{
	struct daemon_opts o;
	char *argv[] = { "run", NULL };

	assert_int_equal(run_opts__parse(1, argv, &o), 0);
	assert_null(o.events_path);
	assert_int_equal(o.loader.forced[PW_FAM_BIND], PW_TIER_NONE);
	assert_false(o.quiet_existing);
}

static void test_valid_flags(void **state)
{
	struct daemon_opts o;

	assert_int_equal(PARSE(&o, "--events", "/tmp/x", "--force-tier", "bind=B", "--force-tier",
			       "lifecycle=C", "--ringbuf-size", "65536", "--max-sockets", "10",
			       "--poll-ms", "5", "--quiet-existing"),
			 0);
	assert_string_equal(o.events_path, "/tmp/x");
	assert_int_equal(o.loader.forced[PW_FAM_BIND], PW_TIER_B);
	assert_int_equal(o.loader.forced[PW_FAM_LIFECYCLE], PW_TIER_C);
	assert_int_equal(o.loader.ringbuf_bytes, 65536);
	assert_int_equal(o.max_socks, 10);
	assert_int_equal(o.poll_ms, 5);
	assert_true(o.quiet_existing);
}

static void test_bad_flags(void **state)
{
	struct daemon_opts o;

	assert_int_equal(PARSE(&o, "--force-tier", "bind=D"), -EINVAL);
	assert_int_equal(PARSE(&o, "--force-tier", "nope=A"), -EINVAL);
	assert_int_equal(PARSE(&o, "--force-tier", "bind"), -EINVAL);
	assert_int_equal(PARSE(&o, "--ringbuf-size", "5000"), -EINVAL); /* not a power of two */
	assert_int_equal(PARSE(&o, "--ringbuf-size", "1024"), -EINVAL); /* too small */
	assert_int_equal(PARSE(&o, "--max-sockets", "0"), -EINVAL);
	assert_int_equal(PARSE(&o, "--max-sockets", "12abc"), -EINVAL);
	assert_int_equal(PARSE(&o, "--poll-ms", "-1"), -EINVAL);
	assert_int_equal(PARSE(&o, "--no-such-flag"), -EINVAL);
	assert_int_equal(PARSE(&o, "stray"), -EINVAL);
	assert_int_equal(PARSE(&o, "--events"), -EINVAL); /* missing value */
}

static void test_help(void **state)
{
	struct daemon_opts o;

	assert_int_equal(PARSE(&o, "--help"), PW_OPTS_HELP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_valid_flags),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
