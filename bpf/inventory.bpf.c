// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Inventory: walk the kernel's TCP and UDP tables and write one
 * PW_REC_INVENTORY record per TCP listener and per bound UDP socket to the
 * iterator's seq_file. Used at start and for reconciliation after loss.
 * A visited socket whose state will not show it was bound at its release
 * (see pw_was_bound()) is marked, so its close is reported.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void pw_emit_inventory(struct seq_file *seq, struct sock *sk, __u32 uid)
{
	struct pw_event e = {};

	e.hdr.type = PW_REC_INVENTORY;
	e.hdr.size = sizeof(e);
	e.hdr.source = PW_SRC_ITER;
	e.hdr.ts_ns = bpf_ktime_get_boot_ns();
	pw_fill_sock(&e.sock, sk);
	e.sock.uid = uid;
	e.sock.cookie = bpf_get_socket_cookie(sk);
	e.sock.ino = pw_sk_ino(sk);
	/* Listeners show it; a UDP socket only when bind() locked its port. */
	if (e.sock.proto == IPPROTO_UDP &&
	    !(pw_sk_userlocks(sk) & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK)))
		pw_mark_bound(sk);
	bpf_seq_write(seq, &e, sizeof(e));
}

SEC("iter/tcp")
int iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sock *sk;

	if (!skc)
		return 0;
	/* Time-wait and request sockets are not struct sock. */
	sk = bpf_skc_to_tcp_sock(skc) ? (struct sock *)bpf_skc_to_tcp_sock(skc) : NULL;
	if (!sk || skc->skc_state != TCP_LISTEN)
		return 0;
	pw_emit_inventory(ctx->meta->seq, sk, ctx->uid);
	return 0;
}

SEC("iter/udp")
int iter_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct sock *sk;

	if (!udp)
		return 0;
	sk = (struct sock *)udp;
	if (!sk->__sk_common.skc_num)
		return 0;
	pw_emit_inventory(ctx->meta->seq, sk, ctx->uid);
	return 0;
}

/*
 * Reconciliation after loss: the bound TCP sockets iter/tcp skips (bound-only
 * and connected ones live only in the bind hash), found through the files
 * of every task: a socket in CLOSE that still holds a local port and has no
 * peer was bound by bind() (the kernel releases autobound ports on close),
 * and a connected one counts when it is marked bound (see pw_was_bound()).
 * Bind tier C, which marks nothing, and sockets older than the daemon are
 * covered by the first rule.
 * With iter/tcp and iter/udp this covers every socket the ledger can hold,
 * so none is kept on faith. (iter/bpf_sk_storage_map would be the direct
 * walk, but some kernels refuse it with EPERM where iter/task_file loads.)
 */
SEC("iter/task_file")
int iter_sk_state(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct pw_sk_state *st;
	struct pw_event e = {};
	bool bound_only;
	struct sock *sk;

	if (!task)
		return 0;
	sk = pw_file_sock(file);
	if (!sk || sk->sk_protocol != IPPROTO_TCP || sk->__sk_common.skc_state == TCP_LISTEN)
		return 0;
	bound_only = sk->__sk_common.skc_state == TCP_CLOSE && sk->__sk_common.skc_num &&
		     !sk->__sk_common.skc_dport;
	if (!bound_only) {
		st = bpf_sk_storage_get(&sk_state, sk, 0, 0);
		if (!st || !(st->flags & PW_SK_BOUND))
			return 0;
	}
	e.hdr.type = PW_REC_INVENTORY;
	e.hdr.size = sizeof(e);
	e.hdr.source = PW_SRC_ITER;
	e.hdr.ts_ns = bpf_ktime_get_boot_ns();
	pw_fill_sock(&e.sock, sk);
	e.sock.cookie = bpf_get_socket_cookie(sk);
	e.sock.ino = pw_sk_ino(sk);
	e.task.pid = task->pid;
	e.task.tgid = task->tgid;
	e.task.uid = task->cred->uid.val;
	e.task.euid = task->cred->euid.val;
	__builtin_memcpy(e.task.comm, task->comm, sizeof(e.task.comm));
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}
