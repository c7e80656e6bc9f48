// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bind path, in three tiers (DESIGN §3). The loader keeps the best tier
 * that loads and disables the others with bpf_program__set_autoload():
 *   A  fexit/inet_bind, fexit/inet6_bind: arguments and exact return value.
 *   B  cgroup bind4/6 (the attempt) + post_bind4/6 (the success). An attempt
 *      never followed by a success is a failed bind; it is reported when the
 *      thread binds again, when the socket is released, or by the daemon's
 *      sweep of `pending_binds`, and its errno is inferred in userspace
 *      from who holds the port.
 *   C  kprobe + kretprobe on the same functions.
 * cgroup/sock_release reports the close of every socket bound here: see
 * pw_was_bound() for how it knows without per-socket state.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline bool pw_tracked_proto(__u16 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* ---- tier B ---------------------------------------------------------- */

/* This thread's pending-attempt slot, created on its first bind(). */
static __always_inline struct pw_pending_bind *pw_pending_slot(__u32 tid)
{
	static const struct pw_pending_bind empty;
	struct pw_pending_bind *p = bpf_map_lookup_elem(&pending_binds, &tid);

	if (p)
		return p;
	/* An LRU map: a full one evicts the oldest thread's slot. */
	bpf_map_update_elem(&pending_binds, &tid, &empty, BPF_NOEXIST);
	return bpf_map_lookup_elem(&pending_binds, &tid);
}

/* The attempt as bind4 sees it: the requested address, the socket's identity. */
static __always_inline void pw_fill_attempt(struct pw_sock_rec *r, struct bpf_sock_addr *ctx,
					    struct bpf_sock *bsk, __u8 family)
{
	__builtin_memset(r, 0, sizeof(*r));
	r->cookie = bpf_get_socket_cookie(ctx);
	r->family = family;
	r->proto = bsk->protocol;
	r->port = bpf_ntohs(ctx->user_port);
	r->state = bsk->state;
	pw_ctx_addr(r->addr, family, ctx, user_ip4, user_ip6);
	if (PW_DIRECT) {
		const struct bpf_sock_addr_kern *k = bpf_cast_to_kern_ctx(ctx);

		pw_sock_ids_direct(r, k->sk);
	} else {
		pw_sock_ids_probed(r, pw_as_sock(bsk));
	}
}

/* bind() on a socket that has a port (or a peer): EINVAL before any lookup. */
static __always_inline void pw_emit_rebind(struct bpf_sock_addr *ctx, struct bpf_sock *bsk,
					   __u8 family)
{
	struct pw_event *e = pw_reserve(PW_REC_BIND_FAILED, PW_SRC_CGROUP_BIND);

	if (!e)
		return;
	pw_fill_attempt(&e->sock, ctx, bsk, family);
	pw_fill_task(&e->task);
	e->err = -EINVAL;
	e->err_kind = PW_ERR_REBIND;
	pw_submit(e);
}

static __always_inline int pw_cgroup_bind(struct bpf_sock_addr *ctx, __u8 family)
{
	struct bpf_sock *bsk = ctx->sk;
	struct pw_pending_bind *p;
	__u32 tid;

	if (!bsk || !pw_tracked_proto(bsk->protocol))
		return 1;
	/* Binding a bound (or connected) socket fails with EINVAL at once. */
	if (bsk->src_port || bsk->state != TCP_CLOSE) {
		pw_emit_rebind(ctx, bsk, family);
		return 1;
	}
	/*
	 * A bind to port 0 cannot fail over a port someone holds (and with
	 * IP_BIND_ADDRESS_NO_PORT it succeeds without post_bind): its success,
	 * reported by post_bind, is all we want, so nothing is recorded. This
	 * is also the bind() that runs at high rates (clients choosing a
	 * source address), so it costs next to nothing here.
	 */
	if (!ctx->user_port)
		return 1;
	tid = (__u32)bpf_get_current_pid_tgid();
	p = pw_pending_slot(tid);
	if (!p) {
		pw_count_drop(PW_SRC_CGROUP_BIND);
		return 1;
	}
	/* This thread's previous attempt never succeeded. */
	if (p->state == PW_PENDING_OPEN)
		pw_emit_pending_failure(p, PW_SRC_CGROUP_BIND, PW_ERR_UNKNOWN, 0);
	p->state = PW_PENDING_NONE;
	pw_fill_attempt(&p->sock, ctx, bsk, family);
	p->ts_ns = bpf_ktime_get_boot_ns();
	pw_fill_task(&p->task);
	p->state = PW_PENDING_OPEN;
	return 1;
}

SEC("cgroup/bind4")
int cg_bind4(struct bpf_sock_addr *ctx)
{
	return pw_cgroup_bind(ctx, AF_INET);
}

SEC("cgroup/bind6")
int cg_bind6(struct bpf_sock_addr *ctx)
{
	return pw_cgroup_bind(ctx, AF_INET6);
}

/* @family is a constant: post_bind4 may not read src_ip6, nor post_bind6 src_ip4. */
static __always_inline int pw_cgroup_post_bind(struct bpf_sock *ctx, __u8 family)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 tid = pw_tid_of(task);
	struct pw_pending_bind *p;
	struct pw_event *e;
	__u64 cookie;
	bool mine, any_addr;

	if (!pw_tracked_proto(ctx->protocol))
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	p = bpf_map_lookup_elem(&pending_binds, &tid);
	mine = p && p->state == PW_PENDING_OPEN && p->sock.cookie == cookie;
	/*
	 * bind(any:0) leaves no bind lock, so pw_was_bound() could not tell
	 * this socket from an autobound one at its release: mark it. Without
	 * an attempt record of ours the bind asked for port 0 (bind4 records
	 * every other) or its record was lost; either way a wildcard address
	 * gets the mark (a specific one leaves SOCK_BINDADDR_LOCK).
	 */
	if (family == AF_INET)
		any_addr = !ctx->src_ip4;
	else
		any_addr = !(ctx->src_ip6[0] | ctx->src_ip6[1] | ctx->src_ip6[2] | ctx->src_ip6[3]);
	if (any_addr && !mine)
		pw_mark_bound(ctx);
	if (mine)
		p->state = PW_PENDING_NONE;
	e = pw_reserve(PW_REC_BIND, PW_SRC_CGROUP_BIND);
	if (!e)
		return 1;
	e->sock.cookie = cookie;
	e->sock.family = family;
	e->sock.proto = ctx->protocol;
	e->sock.port = ctx->src_port;
	e->sock.state = ctx->state;
	pw_ctx_addr(e->sock.addr, family, ctx, src_ip4, src_ip6);
	/* Same syscall as the bind4 that recorded the attempt: reuse its task. */
	if (mine)
		e->task = p->task;
	else
		pw_fill_task_of(&e->task, task);
	if (PW_DIRECT)
		pw_sock_ids_direct(&e->sock, bpf_cast_to_kern_ctx(ctx));
	else
		pw_sock_ids_probed(&e->sock, pw_as_sock(ctx));
	pw_submit(e);
	return 1;
}

SEC("cgroup/post_bind4")
int cg_post_bind4(struct bpf_sock *ctx)
{
	return pw_cgroup_post_bind(ctx, AF_INET);
}

SEC("cgroup/post_bind6")
int cg_post_bind6(struct bpf_sock *ctx)
{
	return pw_cgroup_post_bind(ctx, AF_INET6);
}

/* ---- tier A ---------------------------------------------------------- */

/* Copy the requested address out of the kernel's copy of the sockaddr. */
static __always_inline void pw_read_sockaddr(struct pw_sock_rec *r, const struct sockaddr *ua)
{
	__u16 fam = BPF_CORE_READ(ua, sa_family);

	r->family = fam;
	if (fam == AF_INET) {
		const struct sockaddr_in *in = (const void *)ua;

		r->port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
		__u32 a4 = BPF_CORE_READ(in, sin_addr.s_addr); /* 4 bytes, not sizeof(addr) */

		__builtin_memset(r->addr, 0, sizeof(r->addr));
		__builtin_memcpy(r->addr, &a4, sizeof(a4));
	} else if (fam == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ua;

		r->port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
		BPF_CORE_READ_INTO(&r->addr, in6, sin6_addr);
	}
}

/* Shared by tiers A and C once the outcome is known. */
static __always_inline void pw_bind_outcome(const struct sock *sk, const struct sockaddr *ua,
					    int ret, __u64 cookie, __u8 source)
{
	struct pw_event *e;

	e = pw_reserve(ret ? PW_REC_BIND_FAILED : PW_REC_BIND, source);
	if (!e)
		return;
	pw_fill_sock(&e->sock, sk);
	e->sock.cookie = cookie;
	if (ret) {
		pw_read_sockaddr(&e->sock, ua);
		e->err = ret;
		e->err_kind = PW_ERR_EXACT;
	}
	pw_fill_task(&e->task);
	pw_submit(e);
}

static __always_inline int pw_fexit_bind(struct socket *sock, struct sockaddr *uaddr, int ret)
{
	struct sock *sk = sock->sk;

	if (!sk || !pw_tracked_proto(sk->sk_protocol))
		return 0;
	/* See pw_was_bound(): only a bind that leaves no lock needs a mark. */
	if (!ret && !(pw_sk_userlocks(sk) & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK)))
		pw_mark_bound(sk);
	pw_bind_outcome(sk, uaddr, ret, bpf_get_socket_cookie(sk), PW_SRC_FEXIT_BIND);
	return 0;
}

SEC("fexit/inet_bind")
int BPF_PROG(fexit_inet_bind, struct socket *sock, struct sockaddr *uaddr, int addr_len, int ret)
{
	return pw_fexit_bind(sock, uaddr, ret);
}

SEC("fexit/inet6_bind")
int BPF_PROG(fexit_inet6_bind, struct socket *sock, struct sockaddr *uaddr, int addr_len, int ret)
{
	return pw_fexit_bind(sock, uaddr, ret);
}

/* ---- tier C ---------------------------------------------------------- */

struct pw_inflight_bind {
	struct socket *sock;
	struct sockaddr *uaddr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pw_inflight_bind);
} inflight_binds SEC(".maps");

static __always_inline int pw_kprobe_bind(struct socket *sock, struct sockaddr *uaddr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pw_inflight_bind b = { .sock = sock, .uaddr = uaddr };

	if (bpf_map_update_elem(&inflight_binds, &id, &b, BPF_ANY))
		pw_count_drop(PW_SRC_KPROBE_BIND);
	return 0;
}

static __always_inline int pw_kretprobe_bind(int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pw_inflight_bind *b = bpf_map_lookup_elem(&inflight_binds, &id);
	const struct sock *sk;
	struct socket *sock;
	__u64 cookie;

	if (!b)
		return 0;
	/*
	 * Load the pointer outside BPF_CORE_READ: inside it, b->sock would get
	 * a CO-RE relocation against our own struct, which no kernel has
	 * (found by the 6.1 VM run: "no matching targets", invalid insn).
	 */
	sock = b->sock;
	sk = BPF_CORE_READ(sock, sk);
	if (sk && pw_tracked_proto(pw_sk_protocol(sk))) {
		/*
		 * kprobes cannot ask for a cookie: cg_sock_create generated one
		 * when the socket was made. A socket older than the daemon may
		 * have none: then the socket address (a kernel address is never
		 * a valid cookie, so the two cannot collide).
		 */
		cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		if (!cookie)
			cookie = (__u64)sk;
		pw_bind_outcome(sk, b->uaddr, ret, cookie, PW_SRC_KPROBE_BIND);
	}
	bpf_map_delete_elem(&inflight_binds, &id);
	return 0;
}

SEC("kprobe/inet_bind")
int BPF_KPROBE(kprobe_inet_bind, struct socket *sock, struct sockaddr *uaddr)
{
	return pw_kprobe_bind(sock, uaddr);
}

SEC("kretprobe/inet_bind")
int BPF_KRETPROBE(kretprobe_inet_bind, int ret)
{
	return pw_kretprobe_bind(ret);
}

SEC("kprobe/inet6_bind")
int BPF_KPROBE(kprobe_inet6_bind, struct socket *sock, struct sockaddr *uaddr)
{
	return pw_kprobe_bind(sock, uaddr);
}

SEC("kretprobe/inet6_bind")
int BPF_KRETPROBE(kretprobe_inet6_bind, int ret)
{
	return pw_kretprobe_bind(ret);
}

/*
 * Tier C's companion: a cookie exists only once something asks for it, and
 * kprobes cannot. Ask when each TCP/UDP socket is created, so the bind
 * kretprobe, the raw_tp listen hook and sock_release all name a socket by
 * the same cookie (without it a socket's findings never ended: its release
 * carried a cookie its bind had not).
 */
SEC("cgroup/sock_create")
int cg_sock_create(struct bpf_sock *ctx)
{
	if (pw_tracked_proto(ctx->protocol))
		bpf_get_socket_cookie(ctx);
	return 1;
}
