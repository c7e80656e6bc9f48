// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket lifecycle: entering and leaving LISTEN (TCP), and the release of
 * every socket portwarden saw bound.
 *   listen: tp_btf/inet_sock_set_state (A), raw_tp of the same (B); tier C has
 *           no listen events and learns listening state from the periodic
 *           inventory pass.
 *   close:  cgroup/sock_release, for every tier; pw_was_bound() decides which
 *           releases are closes of bound sockets.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Bind tier C cannot mark sockets: then report the release of any bound one. */
const volatile bool release_all_bound = false;
/* Bind tier B: failed attempts are settled at release too (pending_binds). */
const volatile bool pending_attempts = false;

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
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/*
	 * connect() of a socket bind() gave a port or address: at its release
	 * it is ESTABLISHED like any client, so pw_was_bound() needs a mark.
	 */
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		if (pw_sk_userlocks(sk) & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK))
			pw_mark_bound((struct sock *)sk);
		return 0;
	}
	if (!pw_listen_edge(oldstate, newstate))
		return 0;
	/* A listener's shutdown() drops a port bind() did not choose: mark it. */
	if (newstate == TCP_CLOSE && !(pw_sk_userlocks(sk) & SOCK_BINDPORT_LOCK))
		pw_mark_bound((struct sock *)sk);
	pw_emit_state(sk, newstate, bpf_get_socket_cookie((struct sock *)sk),
		      PW_SRC_TP_BTF_STATE);
	return 0;
}

/*
 * The same without BTF. A raw tracepoint cannot reach socket storage, so
 * the two marks above are missing at this tier: a bound TCP client's close
 * and an autobound listener's shutdown-then-close are caught up by the next
 * reconcile instead.
 */
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

/* Tier B: this thread's open bind attempt on this socket never succeeded. */
static __always_inline void pw_release_pending(struct bpf_sock *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pw_pending_bind *p = bpf_map_lookup_elem(&pending_binds, &tid);

	if (!p || p->state != PW_PENDING_OPEN || p->sock.cookie != bpf_get_socket_cookie(ctx))
		return;
	p->state = PW_PENDING_NONE;
	pw_emit_pending_failure(p, PW_SRC_SOCK_RELEASE, PW_ERR_UNKNOWN, 0);
}

SEC("cgroup/sock_release")
int cg_sock_release(struct bpf_sock *ctx)
{
	const struct sock *sk = NULL;
	struct pw_close_rec *c;
	struct pw_event *e;
	__u64 cookie = 0;
	__u8 userlocks;
	__u16 num;
	bool bound;

	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return 1;
	if (PW_DIRECT) {
		const struct sock *ks = bpf_cast_to_kern_ctx(ctx);

		num = ks->__sk_common.skc_num;
		userlocks = BPF_CORE_READ_BITFIELD(ks, sk_userlocks);
		/* Generated already by whatever reported the socket bound. */
		cookie = ks->__sk_common.skc_cookie.counter;
	} else {
		sk = pw_as_sock(ctx);
		num = BPF_CORE_READ(sk, __sk_common.skc_num);
		userlocks = pw_sk_userlocks(sk);
	}
	if (release_all_bound)
		bound = num != 0;
	else
		bound = pw_was_bound(ctx, num, userlocks);
	if (!bound) {
		if (pending_attempts)
			pw_release_pending(ctx);
		return 1;
	}
	if (release_all_bound) {
		/* Tier C names sockets by address: send them in full. */
		e = pw_reserve(PW_REC_CLOSE, PW_SRC_SOCK_RELEASE);
		if (!e)
			return 1;
		pw_fill_sock(&e->sock, pw_as_sock(ctx));
		pw_fill_task(&e->task);
		e->sock.cookie = bpf_get_socket_cookie(ctx);
		pw_submit(e);
		return 1;
	}
	/*
	 * The daemon knows this socket by its cookie from its bind, listen or
	 * inventory record, so a close needs nothing else; and this runs for
	 * every bound socket, so keep it small.
	 */
	c = bpf_ringbuf_reserve(&events, sizeof(*c), 0);
	if (!c) {
		pw_count_drop(PW_SRC_SOCK_RELEASE);
		return 1;
	}
	c->hdr.type = PW_REC_CLOSE;
	c->hdr.size = sizeof(*c);
	c->hdr.source = PW_SRC_SOCK_RELEASE;
	__builtin_memset(c->hdr.pad, 0, sizeof(c->hdr.pad));
	c->hdr.ts_ns = bpf_ktime_get_boot_ns();
	c->cookie = cookie ? cookie : bpf_get_socket_cookie(ctx);
	c->family = ctx->family;
	c->proto = ctx->protocol;
	__builtin_memset(c->pad, 0, sizeof(c->pad));
	pw_submit_quiet(c);
	return 1;
}
