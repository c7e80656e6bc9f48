/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps and helpers shared by every portwarden BPF object. Each object
 * defines these maps; the loader creates them once and hands the same fds to
 * every object (bpf_map__reuse_fd), so all programs share one ring buffer,
 * one per-socket state and one drop counter.
 */
#ifndef PW_COMMON_BPF_H
#define PW_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "portwarden_abi.h"
#include "core_fixes.bpf.h"

/*
 * 6.2+: kfuncs that turn a cgroup program's context into the kernel's own
 * (struct sock *, struct bpf_sock_addr_kern *) and an address into a BTF
 * pointer, so socket and task fields are plain loads. Weak: on older kernels
 * (6.1) they resolve to NULL, PW_DIRECT is false and the probe-read path
 * runs instead, a helper call per field (~35 ns each, most of what bind()
 * cost with portwarden before).
 */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define PW_DIRECT (bpf_cast_to_kern_ctx && bpf_rdonly_cast)

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define EINVAL 22

#define SOCK_BINDADDR_LOCK 4 /* sk_userlocks: bind() chose the address */
#define SOCK_BINDPORT_LOCK 8 /* sk_userlocks: bind() chose the port */

/* Per-socket state flags (struct pw_sk_state.flags). */
#define PW_SK_BOUND 0x2 /* bound, where the socket's state alone cannot tell (pw_was_bound) */

/*
 * Kept only for the sockets pw_was_bound() cannot judge from their state, so
 * that the common bind() allocates nothing (an allocation per socket was
 * most of the bind path's cost).
 */
struct pw_sk_state {
	__u32 flags;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pw_sk_state);
} sk_state SEC(".maps");

/* Tier B's open bind attempts, per thread (see struct pw_pending_bind). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_PENDING_MAX);
	__type(key, __u32);
	__type(value, struct pw_pending_bind);
} pending_binds SEC(".maps");

/* Ring-buffer reserve failures per enum pw_source. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_SRC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Set by the loader before load. */
const volatile __u32 wakeup_bytes = PW_RINGBUF_BYTES / 4;

static __always_inline void pw_count_drop(__u32 source)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &source);

	if (n)
		*n += 1;
}

/*
 * Reserve a zeroed event. Reserved ring-buffer memory is not zeroed, and
 * every byte we emit must be defined.
 */
static __always_inline struct pw_event *pw_reserve(__u16 type, __u8 source)
{
	struct pw_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		pw_count_drop(source);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.source = source;
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	return e;
}

/*
 * Wake the reader only when the ring crosses the wakeup mark; it also polls
 * on a short timer. A wakeup per record would cost every bind() an irq_work
 * and a context switch, and so would one per record while the ring stays
 * above the mark (the reader is already awake then, or the timer comes).
 */
/* Any record type (struct pw_event, struct pw_close_rec). */
#define pw_submit_any(rec)                                                                     \
	({                                                                                     \
		__u64 __avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);                 \
		bool __crossing = __avail >= wakeup_bytes &&                                   \
				  __avail < wakeup_bytes + 4 * sizeof(struct pw_event);        \
		bpf_ringbuf_submit(rec, __crossing ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);  \
	})

static __always_inline void pw_submit(struct pw_event *e)
{
	pw_submit_any(e);
}

/*
 * For the small close records: never a wakeup, so no query either (a helper
 * call per close). The bind records that come with them, and the reader's
 * own timer, keep the reader awake.
 */
#define pw_submit_quiet(rec) bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP)

/*
 * The acting task. With PW_DIRECT every field is a load through the task's
 * BTF pointer: one helper call instead of five (a helper call, with this
 * CPU's return-stack mitigations, costs more than the work it does). The
 * values are those of the helpers: the global uid, cgroup v2's id.
 */
static __always_inline const struct task_struct *pw_task_btf(struct task_struct *task)
{
	return bpf_rdonly_cast(task, bpf_core_type_id_kernel(struct task_struct));
}

/* The thread id of @task (current), without a second helper call where it can. */
static __always_inline __u32 pw_tid_of(struct task_struct *task)
{
	return PW_DIRECT ? pw_task_btf(task)->pid : (__u32)bpf_get_current_pid_tgid();
}

/* @task: bpf_get_current_task(), fetched once by a caller that needs it twice. */
static __always_inline void pw_fill_task_of(struct pw_task_rec *t, struct task_struct *task)
{
	if (PW_DIRECT) {
		const struct task_struct *bt = pw_task_btf(task);
		const struct cred *cred = bt->cred;
		__u64 comm[2];

		t->pid = bt->pid;
		t->tgid = bt->tgid;
		t->uid = cred->uid.val;
		t->euid = cred->euid.val;
		t->cgroup_id = bt->cgroups->dfl_cgrp->kn->id;
		comm[0] = *(const __u64 *)&bt->comm[0];
		comm[1] = *(const __u64 *)&bt->comm[8];
		__builtin_memcpy(t->comm, comm, sizeof(t->comm));
		t->comm[sizeof(t->comm) - 1] = '\0';
		return;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	t->pid = (__u32)pid_tgid;
	t->tgid = pid_tgid >> 32;
	t->uid = (__u32)uid_gid;
	t->euid = BPF_CORE_READ(task, cred, euid.val);
	t->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

static __always_inline void pw_fill_task(struct pw_task_rec *t)
{
	pw_fill_task_of(t, (void *)bpf_get_current_task());
}

/*
 * An address from a cgroup context (user_ip4/user_ip6 of bind4/6,
 * src_ip4/src_ip6 of post_bind4/6) into a record's 16 bytes. Each context
 * word is its own load (the verifier checks every access), written as
 * ctx->field[i] so the offset stays in the load: naming the array alone
 * made clang add its relocated offset to the context pointer, which the
 * verifier refuses ("dereference of modified ctx ptr"). @family must be a
 * constant: post_bind4 may not even name src_ip6.
 */
#define pw_ctx_addr(dst, family, ctx, f4, f6)                                                  \
	do {                                                                                   \
		if ((family) == AF_INET) {                                                     \
			__u32 __a = (ctx)->f4;                                                 \
			__builtin_memcpy(dst, &__a, sizeof(__a));                              \
		} else {                                                                       \
			__u32 __a[4];                                                          \
			__a[0] = (ctx)->f6[0];                                                 \
			__a[1] = (ctx)->f6[1];                                                 \
			__a[2] = (ctx)->f6[2];                                                 \
			__a[3] = (ctx)->f6[3];                                                 \
			__builtin_memcpy(dst, __a, sizeof(__a));                               \
		}                                                                              \
	} while (0)

/* Tier B: report the attempt in @p as failed (the caller settles @p). */
static __always_inline void pw_emit_pending_failure(const struct pw_pending_bind *p, __u8 source,
						    __u8 err_kind, __s32 err)
{
	struct pw_event *e = pw_reserve(PW_REC_BIND_FAILED, source);

	if (!e)
		return;
	e->sock = p->sock;
	e->task = p->task;
	e->hdr.ts_ns = p->ts_ns;
	e->err = err;
	e->err_kind = err_kind;
	pw_submit(e);
}

/*
 * A cgroup program's socket (context or ctx->sk) as a plain struct sock
 * pointer for CO-RE probe reads. The verifier forbids arithmetic on those
 * pointers and offers no cast, so copy the pointer's bytes with a probe read
 * of our own stack: the copy is a number. (ARG_ANYTHING takes a stack
 * address only from a privileged loader, which the daemon is: CAP_BPF +
 * CAP_PERFMON.) No map, so nothing another program can overwrite between the
 * store and the load.
 */
static __always_inline const struct sock *pw_as_sock(const void *ptr)
{
	const void *copy = ptr;
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &copy);
	return (const struct sock *)v;
}

/* The socket behind an open file (iter/task_file programs), or NULL. */
static __always_inline struct sock *pw_file_sock(struct file *file)
{
	struct socket *sock = file ? bpf_sock_from_file(file) : NULL;

	return sock ? sock->sk : NULL;
}

/*
 * Was this socket bound by bind() (or listen()), so that its release is the
 * close of something the daemon holds? Decided from the socket itself at
 * release, which keeps bind() free of per-socket storage:
 *   TCP  LISTEN; or CLOSE with a local port and no peer (bound only, or a
 *        listener shut down: the kernel drops an autobound port at CLOSE,
 *        and an accepted child reset by its peer still has its peer port).
 *   UDP  a bind lock: bind() chose the address or port (connect() and
 *        sendto() autobind without one).
 * The rest was marked PW_SK_BOUND where it happened: bind(any:0) leaves no
 * lock, a bound TCP client (connect() after bind()), an autobound listener
 * shut down, sockets found by the inventory.
 */
static __always_inline bool pw_was_bound(const struct bpf_sock *ctx, __u16 num, __u8 userlocks)
{
	struct pw_sk_state *st;

	if (ctx->protocol == IPPROTO_TCP) {
		if (ctx->state == TCP_LISTEN)
			return true;
		if (ctx->state == TCP_CLOSE && !ctx->dst_port && num)
			return true;
	} else if (userlocks & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK)) {
		return true;
	}
	st = bpf_sk_storage_get(&sk_state, (void *)ctx, 0, 0);
	return st && (st->flags & PW_SK_BOUND);
}

/* Mark @sk for pw_was_bound(); @sk must be a pointer sk_storage accepts. */
#define pw_mark_bound(sk)                                                                      \
	({                                                                                     \
		struct pw_sk_state *__st =                                                     \
			bpf_sk_storage_get(&sk_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);     \
		if (__st)                                                                      \
			__st->flags |= PW_SK_BOUND;                                            \
	})

/*
 * What bind4 cannot read from its context and post_bind needs: netns, owner
 * uid, options. Two flavours of the same reads: direct loads through a BTF
 * pointer (PW_DIRECT) and probe reads through any pointer.
 */
static __always_inline void pw_sock_ids_direct(struct pw_sock_rec *r, const struct sock *sk)
{
	r->netns = sk->__sk_common.skc_net.net->ns.inum;
	r->uid = sk->sk_uid.val;
	if (BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_reuse))
		r->flags |= PW_F_REUSEADDR;
	if (BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_reuseport))
		r->flags |= PW_F_REUSEPORT;
	if (r->family == AF_INET6 && BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_ipv6only))
		r->flags |= PW_F_V6ONLY;
	if (sk->sk_reuseport_cb)
		r->flags |= PW_F_GROUP;
}

static __always_inline void pw_sock_ids_probed(struct pw_sock_rec *r, const struct sock *sk)
{
	r->netns = pw_sk_netns(sk);
	r->uid = BPF_CORE_READ(sk, sk_uid.val);
	if (pw_sk_reuse(sk))
		r->flags |= PW_F_REUSEADDR;
	if (pw_sk_reuseport(sk))
		r->flags |= PW_F_REUSEPORT;
	if (r->family == AF_INET6 && pw_sk_ipv6only(sk))
		r->flags |= PW_F_V6ONLY;
	if (BPF_CORE_READ(sk, sk_reuseport_cb))
		r->flags |= PW_F_GROUP;
}

/* Identity, options and bound address of a socket (any pointer flavour). */
static __always_inline void pw_fill_sock(struct pw_sock_rec *r, const struct sock *sk)
{
	r->netns = pw_sk_netns(sk);
	r->uid = BPF_CORE_READ(sk, sk_uid.val);
	r->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->proto = pw_sk_protocol(sk);
	r->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (pw_sk_reuse(sk))
		r->flags |= PW_F_REUSEADDR;
	if (pw_sk_reuseport(sk))
		r->flags |= PW_F_REUSEPORT;
	if (BPF_CORE_READ(sk, sk_reuseport_cb))
		r->flags |= PW_F_GROUP;
	if (r->family == AF_INET6) {
		if (pw_sk_ipv6only(sk))
			r->flags |= PW_F_V6ONLY;
		BPF_CORE_READ_INTO(&r->addr, sk, __sk_common.skc_v6_rcv_saddr);
	} else {
		/*
		 * BPF_CORE_READ_INTO copies sizeof(*dst) bytes: reading into
		 * the 16-byte addr would drag the fields after skc_rcv_saddr
		 * into the record. Read the 4 bytes alone.
		 */
		__u32 a4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		__builtin_memcpy(r->addr, &a4, sizeof(a4));
	}
}

#endif /* PW_COMMON_BPF_H */
