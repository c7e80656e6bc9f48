/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ledger: the truth about live sockets. (netns, protocol, port) -> the
 * sockets bound there, each with its options and owner. Bounded: when full,
 * the oldest socket is evicted and the eviction counted.
 */
#ifndef PW_LEDGER_H
#define PW_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include "owner.h"

struct pw_port_key {
	uint32_t netns;
	uint16_t port;
	uint8_t proto;
	uint8_t pad;
};

struct ledger_port;

struct ledger_sock {
	uint64_t cookie;
	struct pw_port_key key;
	uint8_t family;
	uint8_t flags; /* enum pw_sock_flag */
	uint8_t addr[16];
	bool listening;
	int64_t bound_ns;  /* wall clock */
	int64_t listen_ns; /* wall clock, 0 when not listening */
	struct pw_owner owner;
	struct ledger_port *port;
	struct ledger_sock *port_prev, *port_next; /* utlist DL on port->socks */
	UT_hash_handle hh;
};

struct ledger_port {
	struct pw_port_key key;
	struct ledger_sock *socks;
	unsigned int n_socks;
	UT_hash_handle hh;
};

enum ledger_change { LEDGER_ADDED, LEDGER_UPDATED, LEDGER_REMOVED };

/* Called after ADDED/UPDATED and before REMOVED frees the socket. */
typedef void (*ledger_observer_fn)(void *ctx, enum ledger_change change,
				   const struct ledger_sock *s);

struct ledger {
	struct ledger_sock *socks; /* by cookie, in insertion order */
	struct ledger_port *ports; /* by key */
	size_t n_socks;
	size_t max_socks;
	uint64_t evictions;
	ledger_observer_fn observer;
	void *observer_ctx;
};

struct ledger *ledger__new(size_t max_socks);
void ledger__free(struct ledger *l);
void ledger__set_observer(struct ledger *l, ledger_observer_fn fn, void *ctx);

/*
 * Insert or refresh a socket. @in carries cookie, key, family, flags, addr,
 * listening, times and owner (owner strings are copied). A socket that moved
 * to another port key (rebind after a failed attempt) is moved.
 */
int ledger__upsert(struct ledger *l, const struct ledger_sock *in, struct ledger_sock **ret_sock);
struct ledger_sock *ledger__find(struct ledger *l, uint64_t cookie);
struct ledger_port *ledger__port(struct ledger *l, const struct pw_port_key *key);
int ledger__set_listening(struct ledger *l, uint64_t cookie, bool listening, int64_t when_ns);
/* Removes and frees; returns -ENOENT if unknown. */
int ledger__remove(struct ledger *l, uint64_t cookie);

static inline bool ledger_sock_is_wildcard(const struct ledger_sock *s)
{
	size_t n = s->family == 10 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		if (s->addr[i])
			return false;
	return true;
}

#endif
