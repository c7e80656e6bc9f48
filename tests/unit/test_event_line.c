// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * event_line() must write exactly what jansson dumps for event_json(): the
 * same keys in the same order, the same escapes, byte for byte. Every field
 * is varied, strings with quotes, backslashes, control bytes, valid UTF-8
 * and bytes that are not UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "event_line.h"

static void assert_same(const struct pw_ev *ev, bool reconciled)
{
	struct pw_strbuf b = { 0 };
	json_t *o = event_json(ev, reconciled);
	char *want;

	assert_non_null(o);
	want = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	assert_non_null(want);
	assert_true(event_line(ev, reconciled, &b));
	assert_string_equal(b.p, want);
	assert_int_equal(b.len, strlen(want));
	free(want);
	json_decref(o);
	pw_strbuf_free(&b);
}

static struct pw_ev base_event(void)
{
	struct pw_ev ev = { .type = PW_REC_BIND, .source = PW_SRC_CGROUP_BIND,
			    .wall_ns = 1796068593561998437ll };
	struct ledger_sock *s = &ev.sock;

	s->cookie = 4835680;
	s->key.netns = 4026531840u;
	s->key.proto = IPPROTO_UDP;
	s->key.port = 53;
	s->family = AF_INET;
	s->addr[0] = 127;
	s->addr[3] = 1;
	s->bound_ns = 1796068592284925688ll;
	s->owner.uid = 1002;
	s->owner.pid = 4242;
	s->owner.tgid = 4240;
	s->owner.euid = 0;
	s->owner.cgroup_id = 12345678901ull;
	strcpy(s->owner.comm, "dnsmasq");
	strcpy(s->owner.exe, "/usr/sbin/dnsmasq");
	strcpy(s->owner.cgroup, "/system.slice/dnsmasq.service");
	return ev;
}

static void plain_bind(void **state)
{
	struct pw_ev ev = base_event();

	assert_same(&ev, false);
}

static void every_type_flag_and_family(void **state)
{
	for (unsigned int type = 0; type < PW_REC_TYPE_MAX; type++) {
		for (unsigned int flags = 0; flags < 16; flags++) {
			struct pw_ev ev = base_event();

			if (type == PW_REC_BIND_REFUSED)
				continue; /* annotated by enforce: always jansson */
			ev.type = type;
			ev.source = type % PW_SRC_MAX;
			ev.sock.flags = flags;
			ev.sock.listening = flags & 1;
			ev.sock.family = (flags & 2) ? AF_INET6 : AF_INET;
			ev.sock.key.proto = (flags & 4) ? IPPROTO_TCP : IPPROTO_UDP;
			ev.sock.bound_ns = (flags & 8) ? 0 : ev.sock.bound_ns;
			ev.err = flags & 1 ? 98 : 13;
			ev.err_inferred = flags & 2;
			assert_same(&ev, flags & 4);
		}
	}
}

static void extreme_numbers(void **state)
{
	struct pw_ev ev = base_event();

	ev.sock.cookie = UINT64_MAX; /* printed as json_int_t, like jansson */
	ev.sock.key.netns = UINT32_MAX;
	ev.sock.owner.uid = UINT32_MAX;
	ev.sock.owner.cgroup_id = (uint64_t)1 << 63;
	ev.sock.key.port = 65535;
	ev.wall_ns = 0;
	assert_same(&ev, false);
}

static void hostile_strings(void **state)
{
	static const char *const texts[] = {
		"", "a\"b", "back\\slash", "tab\there", "nl\nret\r", "\x01\x02\x1f\x7f",
		"bell\b form\f", "caf\xc3\xa9", "\xe2\x82\xac euro", "\xf0\x9f\x98\x80",
		"not utf8 \xff\xfe", "\xc3", "/slash/", "end\\",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct pw_ev ev = base_event();

		snprintf(ev.sock.owner.comm, sizeof(ev.sock.owner.comm), "%s", texts[i]);
		snprintf(ev.sock.owner.exe, sizeof(ev.sock.owner.exe), "/x/%s", texts[i]);
		snprintf(ev.sock.owner.cgroup, sizeof(ev.sock.owner.cgroup), "%s/cg", texts[i]);
		snprintf(ev.sock.owner.container, sizeof(ev.sock.owner.container), "%s", texts[i]);
		assert_same(&ev, false);
	}
}

static void long_exe_path(void **state)
{
	struct pw_ev ev = base_event();

	memset(ev.sock.owner.exe, 'e', sizeof(ev.sock.owner.exe) - 1);
	ev.sock.owner.exe[sizeof(ev.sock.owner.exe) - 1] = '\0';
	memset(ev.sock.owner.cgroup, '"', sizeof(ev.sock.owner.cgroup) - 1);
	ev.sock.owner.cgroup[sizeof(ev.sock.owner.cgroup) - 1] = '\0';
	assert_same(&ev, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_bind),
		cmocka_unit_test(every_type_flag_and_family),
		cmocka_unit_test(extreme_numbers),
		cmocka_unit_test(hostile_strings),
		cmocka_unit_test(long_exe_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
