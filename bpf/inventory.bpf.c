// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Inventory: walk the kernel's TCP and UDP tables and write one
 * PW_REC_INVENTORY record per TCP listener and per bound UDP socket to the
 * iterator's seq_file. Used at start and for reconciliation after loss.
 * Each visited socket is marked in sk_state so its close is reported.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void pw_emit_inventory(struct seq_file *seq, struct sock *sk, __u32 uid)
{
	struct pw_event e = {};
	struct pw_sk_state *st;

	e.hdr.type = PW_REC_INVENTORY;
	e.hdr.size = sizeof(e);
	e.hdr.source = PW_SRC_ITER;
	e.hdr.ts_ns = bpf_ktime_get_boot_ns();
	pw_fill_sock(&e.sock, sk);
	e.sock.uid = uid;
	e.sock.cookie = bpf_get_socket_cookie(sk);
	e.sock.ino = pw_sk_ino(sk);
	st = bpf_sk_storage_get(&sk_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st)
		st->flags |= PW_SK_BOUND;
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
