// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "ledger.h"

static struct ledger_sock mk(uint64_t cookie, uint32_t netns, uint8_t proto, uint16_t port,
			     uint32_t uid)
{
	struct ledger_sock s;

	memset(&s, 0, sizeof(s));
	s.cookie = cookie;
	s.key.netns = netns;
	s.key.proto = proto;
	s.key.port = port;
	s.family = 2;
	s.owner.uid = uid;
	return s;
}

struct counts {
	int added, updated, removed;
};

static void observe(void *ctx, enum ledger_change c, const struct ledger_sock *s)
{
	struct counts *n = ctx;

	if (c == LEDGER_ADDED)
		n->added++;
	else if (c == LEDGER_UPDATED)
		n->updated++;
	else
		n->removed++;
}

static void test_port_index_groups_sockets(void **state)
{
	struct ledger *l = ledger__new(100);
	struct ledger_sock a = mk(1, 7, 17, 53, 1001), b = mk(2, 7, 17, 53, 1002),
			   c = mk(3, 8, 17, 53, 1001);
	struct pw_port_key k = { .netns = 7, .proto = 17, .port = 53 };
	struct ledger_port *p;

	assert_int_equal(ledger__upsert(l, &a, NULL), 1);
	assert_int_equal(ledger__upsert(l, &b, NULL), 1);
	assert_int_equal(ledger__upsert(l, &c, NULL), 1);
	p = ledger__port(l, &k);
	assert_non_null(p);
	assert_int_equal(p->n_socks, 2);
	/* netns is part of the key: the same port elsewhere is another entry */
	k.netns = 8;
	assert_int_equal(ledger__port(l, &k)->n_socks, 1);
	k.proto = 6;
	assert_null(ledger__port(l, &k));
	ledger__free(l);
}

static void test_upsert_refreshes_and_moves(void **state)
{
	struct ledger *l = ledger__new(100);
	struct ledger_sock a = mk(1, 7, 6, 80, 1001);
	struct pw_port_key k80 = { .netns = 7, .proto = 6, .port = 80 };
	struct pw_port_key k81 = { .netns = 7, .proto = 6, .port = 81 };
	struct ledger_sock *s;

	assert_int_equal(ledger__upsert(l, &a, &s), 1);
	a.listening = true;
	assert_int_equal(ledger__upsert(l, &a, &s), 0);
	assert_true(s->listening);
	assert_int_equal(l->n_socks, 1);
	a.key.port = 81;
	ledger__upsert(l, &a, NULL);
	assert_null(ledger__port(l, &k80));
	assert_int_equal(ledger__port(l, &k81)->n_socks, 1);
	ledger__free(l);
}

static void test_remove_and_observer(void **state)
{
	struct ledger *l = ledger__new(100);
	struct counts n = {};
	struct ledger_sock a = mk(1, 7, 6, 80, 1001);
	struct pw_port_key k = { .netns = 7, .proto = 6, .port = 80 };

	ledger__set_observer(l, observe, &n);
	ledger__upsert(l, &a, NULL);
	assert_int_equal(ledger__set_listening(l, 1, true, 5), 0);
	assert_int_equal(ledger__set_listening(l, 1, true, 6), 0); /* no change, no notify */
	assert_int_equal(ledger__set_listening(l, 99, true, 6), -ENOENT);
	assert_int_equal(ledger__remove(l, 1), 0);
	assert_int_equal(ledger__remove(l, 1), -ENOENT);
	assert_null(ledger__port(l, &k));
	assert_int_equal(n.added, 1);
	assert_int_equal(n.updated, 1);
	assert_int_equal(n.removed, 1);
	assert_int_equal(l->n_socks, 0);
	ledger__free(l);
}

static void test_bounded_with_evictions(void **state)
{
	struct ledger *l = ledger__new(3);

	for (uint64_t i = 1; i <= 5; i++) {
		struct ledger_sock s = mk(i, 1, 17, (uint16_t)(1000 + i), 0);

		ledger__upsert(l, &s, NULL);
	}
	assert_int_equal(l->n_socks, 3);
	assert_int_equal(l->evictions, 2);
	/* the oldest went first */
	assert_null(ledger__find(l, 1));
	assert_null(ledger__find(l, 2));
	assert_non_null(ledger__find(l, 5));
	ledger__free(l);
}

static void test_free_null(void **state)
{
	ledger__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_index_groups_sockets),
		cmocka_unit_test(test_upsert_refreshes_and_moves),
		cmocka_unit_test(test_remove_and_observer),
		cmocka_unit_test(test_bounded_with_evictions),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
