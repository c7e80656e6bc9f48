// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bind path, in three tiers (DESIGN §3). The loader keeps the best tier
 * that loads and disables the others with bpf_program__set_autoload():
 *   A  fexit/inet_bind, fexit/inet6_bind: arguments and exact return value.
 *   B  cgroup bind4/6 (the attempt) + post_bind4/6 (the success). An attempt
 *      never followed by a success is a failed bind; it is reported when the
 *      socket tries again or is released, and its errno is inferred in
 *      userspace from who holds the port.
 *   C  kprobe + kretprobe on the same functions.
 * Every tier marks the socket in `sk_state` so that cgroup/sock_release can
 * report its close.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline bool pw_tracked_proto(__u16 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/*
 * Tier B reads the full struct sock behind the context. The verifier forbids
 * arithmetic on socket pointers, so we store the address in the socket's own
 * storage and read it back as a number, then read fields through
 * bpf_probe_read_kernel (BPF_CORE_READ). Storing a pointer in a map needs a
 * privileged loader (CAP_BPF + CAP_PERFMON), which the daemon is anyway.
 */
static __always_inline const struct sock *pw_launder(struct pw_sk_state *st, const void *sk)
{
	st->kptr = (__u64)sk;
	return (const struct sock *)(*(volatile __u64 *)&st->kptr);
}

/* Emit the failure of the attempt remembered in @st. */
static __always_inline void pw_emit_pending_failure(struct pw_sk_state *st, const struct sock *sk,
						    __u64 cookie, __u8 source, __u8 err_kind, __s32 err)
{
	struct pw_event *e = pw_reserve(PW_REC_BIND_FAILED, source);

	st->flags &= ~PW_SK_PENDING;
	if (!e)
		return;
	pw_fill_sock(&e->sock, sk);
	e->sock.cookie = cookie;
	e->sock.family = st->req_family;
	e->sock.port = st->req_port;
	__builtin_memcpy(e->sock.addr, st->req_addr, sizeof(e->sock.addr));
	e->task = st->task;
	e->hdr.ts_ns = st->req_ts;
	e->err = err;
	e->err_kind = err_kind;
	pw_submit(e);
}

/* ---- tier B ---------------------------------------------------------- */

static __always_inline int pw_cgroup_bind(struct bpf_sock_addr *ctx, __u8 family)
{
	struct bpf_sock *bsk = ctx->sk;
	struct pw_sk_state *st;
	const struct sock *sk;
	__u64 cookie;

	if (!bsk || !pw_tracked_proto(bsk->protocol))
		return 1;
	st = bpf_sk_storage_get(&sk_state, bsk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		pw_count_drop(PW_SRC_CGROUP_BIND);
		return 1;
	}
	sk = pw_launder(st, bsk);
	cookie = bpf_get_socket_cookie(ctx);
	/* A retry: the previous attempt did not succeed. */
	if (st->flags & PW_SK_PENDING)
		pw_emit_pending_failure(st, sk, cookie, PW_SRC_CGROUP_BIND, PW_ERR_UNKNOWN, 0);

	st->req_family = family;
	st->req_port = bpf_ntohs(ctx->user_port);
	st->req_ts = bpf_ktime_get_boot_ns();
	if (family == AF_INET) {
		__u32 a = ctx->user_ip4;

		__builtin_memset(st->req_addr, 0, sizeof(st->req_addr));
		__builtin_memcpy(st->req_addr, &a, sizeof(a));
	} else {
		__u32 a[4];

		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
		__builtin_memcpy(st->req_addr, a, sizeof(a));
	}
	pw_fill_task(&st->task);
	st->flags |= PW_SK_PENDING;
	/* Binding a bound socket fails with EINVAL before any port lookup. */
	if (st->flags & PW_SK_BOUND)
		pw_emit_pending_failure(st, sk, cookie, PW_SRC_CGROUP_BIND, PW_ERR_REBIND,
					-EINVAL);
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

static __always_inline int pw_cgroup_post_bind(struct bpf_sock *ctx)
{
	struct pw_sk_state *st;
	struct pw_event *e;
	const struct sock *sk;

	if (!pw_tracked_proto(ctx->protocol))
		return 1;
	st = bpf_sk_storage_get(&sk_state, ctx, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		pw_count_drop(PW_SRC_CGROUP_BIND);
		return 1;
	}
	sk = pw_launder(st, ctx);
	e = pw_reserve(PW_REC_BIND, PW_SRC_CGROUP_BIND);
	if (!e) {
		st->flags = (st->flags & ~PW_SK_PENDING) | PW_SK_BOUND;
		return 1;
	}
	pw_fill_sock(&e->sock, sk);
	e->sock.cookie = bpf_get_socket_cookie(ctx);
	/* Same syscall as the bind4 that recorded the attempt: reuse its task. */
	if (st->flags & PW_SK_PENDING)
		e->task = st->task;
	else
		pw_fill_task(&e->task);
	st->flags = (st->flags & ~PW_SK_PENDING) | PW_SK_BOUND;
	pw_submit(e);
	return 1;
}

SEC("cgroup/post_bind4")
int cg_post_bind4(struct bpf_sock *ctx)
{
	return pw_cgroup_post_bind(ctx);
}

SEC("cgroup/post_bind6")
int cg_post_bind6(struct bpf_sock *ctx)
{
	return pw_cgroup_post_bind(ctx);
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
	struct pw_sk_state *st;

	if (!sk || !pw_tracked_proto(sk->sk_protocol))
		return 0;
	if (!ret) {
		st = bpf_sk_storage_get(&sk_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (st)
			st->flags |= PW_SK_BOUND;
	}
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
