// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The record layout is a contract with the BPF side: assert every size and
 * offset userspace depends on, so a change on one side cannot slip through.
 */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "events.h"
#include "portwarden_abi.h"

static void test_header_layout(void **state)
{
	assert_int_equal(sizeof(struct pw_rec_hdr), 16);
	assert_int_equal(offsetof(struct pw_rec_hdr, type), 0);
	assert_int_equal(offsetof(struct pw_rec_hdr, size), 2);
	assert_int_equal(offsetof(struct pw_rec_hdr, source), 4);
	assert_int_equal(offsetof(struct pw_rec_hdr, ts_ns), 8);
}

static void test_sock_layout(void **state)
{
	assert_int_equal(sizeof(struct pw_sock_rec), 48);
	assert_int_equal(offsetof(struct pw_sock_rec, cookie), 0);
	assert_int_equal(offsetof(struct pw_sock_rec, ino), 8);
	assert_int_equal(offsetof(struct pw_sock_rec, netns), 16);
	assert_int_equal(offsetof(struct pw_sock_rec, uid), 20);
	assert_int_equal(offsetof(struct pw_sock_rec, addr), 24);
	assert_int_equal(offsetof(struct pw_sock_rec, port), 40);
	assert_int_equal(offsetof(struct pw_sock_rec, family), 42);
	assert_int_equal(offsetof(struct pw_sock_rec, proto), 43);
	assert_int_equal(offsetof(struct pw_sock_rec, flags), 44);
	assert_int_equal(offsetof(struct pw_sock_rec, state), 45);
}

static void test_task_and_event_layout(void **state)
{
	assert_int_equal(sizeof(struct pw_task_rec), 40);
	assert_int_equal(offsetof(struct pw_task_rec, cgroup_id), 16);
	assert_int_equal(offsetof(struct pw_task_rec, comm), 24);
	assert_int_equal(sizeof(struct pw_event), 112);
	assert_int_equal(offsetof(struct pw_event, sock), 16);
	assert_int_equal(offsetof(struct pw_event, task), 64);
	assert_int_equal(offsetof(struct pw_event, err), 104);
	assert_int_equal(offsetof(struct pw_event, err_kind), 108);
	/* Ring-buffer records are 8-byte aligned; no implicit tail padding. */
	assert_int_equal(sizeof(struct pw_event) % 8, 0);
}

static struct pw_event valid_event(void)
{
	struct pw_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = PW_REC_BIND;
	e.hdr.size = sizeof(e);
	e.hdr.source = PW_SRC_CGROUP_BIND;
	return e;
}

static void test_decode_accepts_valid(void **state)
{
	struct pw_event_stats st = {};
	struct pw_event in = valid_event(), out;

	assert_int_equal(events__decode(&in, sizeof(in), &out, &st), 0);
	assert_int_equal(st.received[PW_SRC_CGROUP_BIND], 1);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_decode_rejects_and_counts(void **state)
{
	struct pw_event_stats st = {};
	struct pw_event e = valid_event(), out;
	char buf[sizeof(e) + 8] = {};

	/* short */
	assert_int_equal(events__decode(&e, 8, &out, &st), -EINVAL);
	assert_int_equal(st.rejected[PW_SRC_MAX], 1);
	/* size field disagrees with length */
	e.hdr.size = sizeof(e) - 8;
	assert_int_equal(events__decode(&e, sizeof(e), &out, &st), -EINVAL);
	assert_int_equal(st.rejected[PW_SRC_CGROUP_BIND], 1);
	/* unknown type */
	e = valid_event();
	e.hdr.type = PW_REC_TYPE_MAX;
	assert_int_equal(events__decode(&e, sizeof(e), &out, &st), -EINVAL);
	e.hdr.type = 0;
	assert_int_equal(events__decode(&e, sizeof(e), &out, &st), -EINVAL);
	assert_int_equal(st.rejected[PW_SRC_CGROUP_BIND], 3);
	/* unknown source */
	e = valid_event();
	e.hdr.source = PW_SRC_MAX + 3;
	assert_int_equal(events__decode(&e, sizeof(e), &out, &st), -EINVAL);
	assert_int_equal(st.rejected[PW_SRC_MAX], 2);
	/* oversized */
	e = valid_event();
	memcpy(buf, &e, sizeof(e));
	((struct pw_rec_hdr *)buf)->size = sizeof(buf);
	assert_int_equal(events__decode(buf, sizeof(buf), &out, &st), -EINVAL);
	assert_int_equal(st.received[PW_SRC_CGROUP_BIND], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_sock_layout),
		cmocka_unit_test(test_task_and_event_layout),
		cmocka_unit_test(test_decode_accepts_valid),
		cmocka_unit_test(test_decode_rejects_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
