// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Parsers that take outside input (CLI, config): accept what is valid, refuse the rest. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "util.h"

static void test_parse_long(void **state)
{
	long v;

	assert_int_equal(pw_parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(pw_parse_long("101", 0, 100, &v), -ERANGE);
	assert_int_equal(pw_parse_long("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(pw_parse_long("", 0, 100, &v), -EINVAL);
	assert_int_equal(pw_parse_long(" 4", 0, 100, &v), -EINVAL);
	assert_int_equal(pw_parse_long("99999999999999999999999", 0, 100, &v), -ERANGE);
}

static void test_port_proto(void **state)
{
	uint16_t port;
	uint8_t proto;

	assert_int_equal(pw_parse_port_proto("53/udp", &port, &proto), 0);
	assert_int_equal(port, 53);
	assert_int_equal(proto, IPPROTO_UDP);
	assert_int_equal(pw_parse_port_proto("8443", &port, &proto), 0);
	assert_int_equal(proto, 0);
	assert_int_equal(pw_parse_port_proto("0/tcp", &port, &proto), -ERANGE);
	assert_int_equal(pw_parse_port_proto("65536", &port, &proto), -ERANGE);
	assert_int_equal(pw_parse_port_proto("80/sctp", &port, &proto), -EINVAL);
	assert_int_equal(pw_parse_port_proto("80/", &port, &proto), -EINVAL);
}

static void test_duration(void **state)
{
	int64_t s;

	assert_int_equal(pw_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(pw_parse_duration("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(pw_parse_duration("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(pw_parse_duration("m", &s), -EINVAL);
	assert_int_equal(pw_parse_duration("-5s", &s), -ERANGE);
	assert_int_equal(pw_parse_duration("5w", &s), -EINVAL);
}

static void test_time(void **state)
{
	int64_t ns;
	char buf[48];

	assert_int_equal(pw_parse_time("2026-11-30T03:12:00Z", &ns), 0);
	pw_format_time(ns, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-30T03:12:00.000000000Z");
	assert_int_equal(pw_parse_time("2026-11-30T04:12:00.5+01:00", &ns), 0);
	pw_format_time(ns, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-30T03:12:00.500000000Z");
	assert_int_equal(pw_parse_time("@0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(pw_parse_time("2026-13-01T00:00:00Z", &ns), -EINVAL);
	assert_int_equal(pw_parse_time("2026-11-30 03:12", &ns), -EINVAL);
	assert_int_equal(pw_parse_time("2026-11-30T03:12:00", &ns), -EINVAL); /* no zone */
	/* The seconds are cached per thread: neighbours, a second apart and back. */
	pw_format_time(999999999, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.999999999Z");
	pw_format_time(1000000001, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:01.000000001Z");
	pw_format_time(999999999, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.999999999Z");
	pw_format_time(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
	pw_format_time(1000000001, buf, 20); /* short buffer: cut, terminated */
	assert_string_equal(buf, "1970-01-01T00:00:01");
	/* Past what 64-bit nanoseconds hold (found by fuzzing): refused, not wrapped. */
	assert_int_equal(pw_parse_time("9999-12-31T23:59:59Z", &ns), -ERANGE);
	assert_int_equal(pw_parse_time("@99999999999", &ns), -EINVAL);
}

static void test_bool_double(void **state)
{
	bool b;
	double d;

	assert_int_equal(pw_parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(pw_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(pw_parse_bool("maybe", &b), -EINVAL);
	assert_int_equal(pw_parse_double("1.5", 1.0, 2.0, &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(pw_parse_double("nan", 0, 1, &d), -EINVAL);
	assert_int_equal(pw_parse_double("3", 0, 1, &d), -EINVAL);
	assert_int_equal(pw_parse_double("", 0, 1, &d), -EINVAL);
}

static int collect(void *ctx, const char *item)
{
	char *out = ctx;

	if (!strcmp(item, "stop"))
		return -EINVAL;
	strcat(out, "[");
	strcat(out, item);
	strcat(out, "]");
	return 0;
}

static void test_foreach_item(void **state)
{
	char out[128] = "";

	assert_int_equal(pw_foreach_item(" a , b,,c ", collect, out), 0);
	assert_string_equal(out, "[a][b][c]");
	out[0] = '\0';
	assert_int_equal(pw_foreach_item("x, stop, y", collect, out), -EINVAL);
	assert_string_equal(out, "[x]");
}

static void test_addr(void **state)
{
	uint8_t fam, a[16];
	char buf[PW_ADDRSTRLEN];

	assert_int_equal(pw_parse_addr("127.0.0.1", &fam, a), 0);
	assert_int_equal(fam, AF_INET);
	assert_false(pw_addr_is_wildcard(fam, a));
	pw_format_addr(fam, a, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");
	assert_int_equal(pw_parse_addr("::", &fam, a), 0);
	assert_int_equal(fam, AF_INET6);
	assert_true(pw_addr_is_wildcard(fam, a));
	assert_int_equal(pw_parse_addr("::ffff:10.0.0.1", &fam, a), 0);
	assert_true(pw_addr_is_v4mapped(fam, a));
	assert_int_equal(pw_parse_addr("1.2.3", &fam, a), -EINVAL);
	/* IPv4 is formatted by hand: agree with inet_ntop on every octet width. */
	for (unsigned int v = 0; v < 256; v++) {
		char want[INET_ADDRSTRLEN];
		uint8_t b[16] = { (uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v / 3), 0 };

		inet_ntop(AF_INET, b, want, sizeof(want));
		pw_format_addr(AF_INET, b, buf, sizeof(buf));
		assert_string_equal(buf, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long), cmocka_unit_test(test_port_proto),
		cmocka_unit_test(test_duration),   cmocka_unit_test(test_time),
		cmocka_unit_test(test_bool_double), cmocka_unit_test(test_foreach_item),
		cmocka_unit_test(test_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
