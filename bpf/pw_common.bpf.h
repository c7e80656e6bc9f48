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

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define EINVAL 22

/* Per-socket state flags (struct pw_sk_state.flags). */
#define PW_SK_PENDING 0x1 /* a bind attempt has not (yet) succeeded */
#define PW_SK_BOUND 0x2	  /* we reported this socket as bound */

/* What a bind attempt looked like, kept until it succeeds or fails. */
struct pw_sk_state {
	__u64 kptr;	/* the struct sock address, as a plain number (see pw_launder) */
	__u32 flags;
	__u16 req_port; /* requested port, host order */
	__u8 req_family;
	__u8 pad;
	__u64 req_ts;
	__u8 req_addr[PW_ADDR_LEN];
	struct pw_task_rec task;
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
static __always_inline void pw_submit(struct pw_event *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bool crossing = avail >= wakeup_bytes && avail < wakeup_bytes + 4 * sizeof(*e);

	bpf_ringbuf_submit(e, crossing ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void pw_fill_task(struct pw_task_rec *t)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct task_struct *task = (void *)bpf_get_current_task();

	t->pid = (__u32)pid_tgid;
	t->tgid = pid_tgid >> 32;
	t->uid = (__u32)uid_gid;
	t->euid = BPF_CORE_READ(task, cred, euid.val);
	t->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(t->comm, sizeof(t->comm));
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
