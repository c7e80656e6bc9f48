/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every kernel-version difference portwarden's BPF code depends on, in one
 * place (the libbpf-tools convention). Each accessor reads through CO-RE
 * relocations so one object works on every kernel with BTF.
 */
#ifndef PW_CORE_FIXES_BPF_H
#define PW_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * sk_protocol was an 8-bit bitfield before 5.6 and a u16 since; the probed
 * bitfield read handles both layouts.
 */
static __always_inline __u16 pw_sk_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* skc_reuse (4 bits), skc_reuseport and skc_ipv6only (1 bit) share a byte. */
static __always_inline __u8 pw_sk_reuse(const struct sock *sk)
{
	return (__u8)BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_reuse);
}

static __always_inline __u8 pw_sk_reuseport(const struct sock *sk)
{
	return (__u8)BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_reuseport);
}

static __always_inline __u8 pw_sk_ipv6only(const struct sock *sk)
{
	return (__u8)BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_ipv6only);
}

/*
 * sk_userlocks was a 4-bit bitfield next to sk_protocol until 6.x made it a
 * u8 of its own: the probed bitfield read handles both.
 */
static __always_inline __u8 pw_sk_userlocks(const struct sock *sk)
{
	return (__u8)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks);
}

/* possible_net_t has held `net` since 4.x; ns_common.inum is stable. */
static __always_inline __u32 pw_sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The socket inode, as /proc/PID/fd shows it ("socket:[ino]"). */
static __always_inline __u64 pw_sk_ino(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

/*
 * Loops on 6.1 (no accessor: a rule for every bounded loop in a program).
 * 6.1's verifier CFG check accepts a back-edge only on a jump insn: a plain
 * insn or a helper call that falls through into a loop head already on the
 * DFS stack is refused with "back-edge from insn X to X+1" and EINVAL,
 * before any verification (6.18 accepts it). clang may
 * rotate a loop whose body ends in a call so that its counter increment
 * falls through into the head: enforce.bpf.c's holder-entry retry loop did,
 * and cgroup/post_bind4/6 failed to load on 6.1 while loading on 6.18.
 * Write such short retry loops out (see enf_holders_get()); a loop that
 * clang cannot unroll with `#pragma unroll` (early break/return) must be
 * written out by hand.
 */

#endif /* PW_CORE_FIXES_BPF_H */
