// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket lifecycle: entering and leaving LISTEN (TCP), and the release of
 * every socket portwarden saw bound.
 *   listen: tp_btf/inet_sock_set_state (A), raw_tp of the same (B); tier C has
 *           no listen events and learns listening state from the periodic
 *           inventory pass.
 *   close:  cgroup/sock_release, for every tier.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Bind tier C cannot mark sockets: then report the release of any bound one. */
const volatile bool release_all_bound = false;

/*
 * A listener leaves LISTEN only for CLOSE (close, shutdown, disconnect).
 * LISTEN -> SYN_RECV is a new child (inet_csk_clone_lock): the child is a
 * copy of the listener, and on 6.1 that copy includes sk_cookie, so taking
 * it for an unlisten cleared the listener's state in the ledger (no takeover
 * remembered at its release, reuseport members dropped; 6.1 VM run).
 */
static __always_inline bool pw_listen_edge(int oldstate, int newstate)
{
	return newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE);
}

static __always_inline void pw_emit_state(const struct sock *sk, int newstate, __u64 cookie,
					  __u8 source)
{
	struct pw_event *e;

	e = pw_reserve(newstate == TCP_LISTEN ? PW_REC_LISTEN : PW_REC_UNLISTEN, source);
	if (!e)
		return;
	pw_fill_sock(&e->sock, sk);
	e->sock.cookie = cookie;
	e->sock.state = newstate;
	pw_fill_task(&e->task);
	pw_submit(e);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct pw_sk_state *st;

	if (!pw_listen_edge(oldstate, newstate) || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* listen() without bind() autobinds: mark it so its close is seen. */
	if (newstate == TCP_LISTEN) {
		st = bpf_sk_storage_get(&sk_state, (struct sock *)sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
		if (st)
			st->flags |= PW_SK_BOUND;
	}
	pw_emit_state(sk, newstate, bpf_get_socket_cookie((struct sock *)sk),
		      PW_SRC_TP_BTF_STATE);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int raw_tp_inet_sock_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	int oldstate = (int)ctx->args[1];
	int newstate = (int)ctx->args[2];

	if (!pw_listen_edge(oldstate, newstate) || pw_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	/* No cookie helper here: the bind hooks have generated it already. */
	pw_emit_state(sk, newstate, BPF_CORE_READ(sk, __sk_common.skc_cookie.counter),
		      PW_SRC_RAW_TP_STATE);
	return 0;
}

SEC("cgroup/sock_release")
int cg_sock_release(struct bpf_sock *ctx)
{
	struct pw_sk_state *st;
	struct pw_event *e;
	const struct sock *sk;
	__u32 flags;

	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return 1;
	st = bpf_sk_storage_get(&sk_state, ctx, 0, 0);
	if (!st) {
		if (!release_all_bound)
			return 1;
		/*
		 * sock_release may not read ctx->src_port (the verifier allows
		 * it in post_bind only: EACCES, seen on 6.1 with bind tier C),
		 * so create the storage to launder the pointer and read the
		 * bound port from the socket. It dies with the socket.
		 */
		st = bpf_sk_storage_get(&sk_state, ctx, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st)
			return 1;
		st->kptr = (__u64)ctx;
		sk = (const struct sock *)(*(volatile __u64 *)&st->kptr);
		if (!BPF_CORE_READ(sk, __sk_common.skc_num))
			return 1;
		st->flags = PW_SK_BOUND;
	}
	flags = st->flags;
	if (!(flags & (PW_SK_BOUND | PW_SK_PENDING)))
		return 1;
	st->kptr = (__u64)ctx; /* see pw_launder() in bind.bpf.c */
	sk = (const struct sock *)(*(volatile __u64 *)&st->kptr);

	e = pw_reserve((flags & PW_SK_BOUND) ? PW_REC_CLOSE : PW_REC_BIND_FAILED,
		       PW_SRC_SOCK_RELEASE);
	if (!e)
		return 1;
	e->sock.cookie = bpf_get_socket_cookie(ctx);
	if ((flags & PW_SK_BOUND) && !release_all_bound) {
		/*
		 * The daemon knows this socket by its cookie from its bind,
		 * listen or inventory record, so a close needs nothing else; and
		 * this runs for every bound socket, so keep it cheap. (Tier C
		 * names sockets by address: it reads them in full below.)
		 */
		e->sock.family = ctx->family;
		e->sock.proto = ctx->protocol;
	} else if (flags & PW_SK_BOUND) {
		pw_fill_sock(&e->sock, sk);
		e->sock.cookie = bpf_get_socket_cookie(ctx);
		pw_fill_task(&e->task);
	} else {
		pw_fill_sock(&e->sock, sk);
		e->sock.cookie = bpf_get_socket_cookie(ctx);
		/* The last bind attempt never succeeded. */
		e->sock.family = st->req_family;
		e->sock.port = st->req_port;
		__builtin_memcpy(e->sock.addr, st->req_addr, sizeof(e->sock.addr));
		e->task = st->task;
		e->hdr.ts_ns = st->req_ts;
		e->err_kind = PW_ERR_UNKNOWN;
	}
	st->flags = 0;
	pw_submit(e);
	return 1;
}
