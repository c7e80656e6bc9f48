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

#endif /* PW_CORE_FIXES_BPF_H */
