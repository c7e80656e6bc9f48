// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reuseport selection: which member of a SO_REUSEPORT group receives each
 * connection or datagram (DESIGN §3). Per-packet hot path, so: per-CPU
 * counters in LRU hashes read by userspace once a second, an early return for
 * every socket outside a reuseport group, and no ring-buffer traffic at all.
 *   A  fexit/reuseport_select_sock: the chosen member, plus the packet's source
 *      address and port (which member a client can steer its load onto).
 *   B  tp_btf/sock_recv_length (UDP: one per datagram the application reads)
 *      and tp_btf/sk_data_ready (TCP: fires on the listener when a connection
 *      is queued for accept). sk_data_ready alone undercounts UDP: UDP only
 *      signals when its receive queue goes from empty to non-empty.
 *   C  kretprobe/reuseport_select_sock: the chosen member only.
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MSG_PEEK 2
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* Per-member delivery counts: userspace turns totals into per-tick deltas. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PW_RP_MAX_MEMBERS);
	__type(key, struct pw_rp_key);
	__type(value, __u64);
} reuseport_hits SEC(".maps");

/* Tier A: deliveries per (member, source address, source port). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PW_RP_MAX_SOURCES);
	__type(key, struct pw_rp_src_key);
	__type(value, __u64);
} reuseport_sources SEC(".maps");

/* Counts we could not attribute (enum pw_rp_miss): exported as metrics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_RP_MISS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} reuseport_misses SEC(".maps");

static __always_inline void pw_rp_miss(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&reuseport_misses, &why);

	if (n)
		*n += 1;
}

/* Increment a per-CPU counter, creating it on first use. */
static __always_inline void pw_rp_bump(void *map, const void *key, __u32 miss)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(map, key);

	if (n) {
		*n += 1;
		return;
	}
	/* A concurrent insert on another CPU is fine: its slot is separate. */
	if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST) &&
	    bpf_map_update_elem(map, key, &one, BPF_ANY))
		pw_rp_miss(miss);
}

static __always_inline void pw_rp_count(__u64 cookie)
{
	struct pw_rp_key key = { .cookie = cookie };

	if (!cookie) {
		pw_rp_miss(PW_RP_MISS_NO_COOKIE);
		return;
	}
	pw_rp_bump(&reuseport_hits, &key, PW_RP_MISS_HITS_FULL);
}

/* ---- tier A ---------------------------------------------------------- */

/* Source address and port of the packet being steered, read from the skb. */
static __always_inline void pw_rp_count_source(__u64 cookie, const struct sk_buff *skb)
{
	struct pw_rp_src_key key = { .cookie = cookie };
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	__be16 sport = 0;

	if (proto == ETH_P_IP) {
		key.family = AF_INET;
		/* struct iphdr: saddr at offset 12 */
		bpf_probe_read_kernel(key.saddr, 4, head + nh + 12);
	} else if (proto == ETH_P_IPV6) {
		key.family = AF_INET6;
		/* struct ipv6hdr: saddr at offset 8 */
		bpf_probe_read_kernel(key.saddr, 16, head + nh + 8);
	} else {
		pw_rp_miss(PW_RP_MISS_NO_SOURCE);
		return;
	}
	/*
	 * At lookup time skb->data points at the TCP or UDP header (the IP
	 * layers pulled their headers); both start with the source port.
	 */
	if (bpf_probe_read_kernel(&sport, sizeof(sport), data)) {
		pw_rp_miss(PW_RP_MISS_NO_SOURCE);
		return;
	}
	key.sport = bpf_ntohs(sport);
	pw_rp_bump(&reuseport_sources, &key, PW_RP_MISS_SOURCES_FULL);
}

SEC("fexit/reuseport_select_sock")
int BPF_PROG(fexit_reuseport_select_sock, struct sock *sk, u32 hash, struct sk_buff *skb,
	     int hdr_len, struct sock *ret)
{
	__u64 cookie;

	if (!ret)
		return 0;
	cookie = bpf_get_socket_cookie(ret);
	pw_rp_count(cookie);
	if (skb && cookie)
		pw_rp_count_source(cookie, skb);
	return 0;
}

/* ---- tier B ---------------------------------------------------------- */

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tp_btf_sock_recv_length, struct sock *sk, int ret, int flags)
{
	/* Every recvmsg on the host passes here: leave at the first test. */
	if (!sk || !sk->sk_reuseport_cb)
		return 0;
	if (ret < 0 || (flags & MSG_PEEK) || pw_sk_protocol(sk) != IPPROTO_UDP)
		return 0;
	pw_rp_count(bpf_get_socket_cookie(sk));
	return 0;
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(tp_btf_sk_data_ready, const struct sock *sk)
{
	/* Accepted children have no sk_reuseport_cb (cleared by sk_clone_lock). */
	if (!sk || !sk->sk_reuseport_cb)
		return 0;
	if (sk->__sk_common.skc_state != TCP_LISTEN || pw_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	pw_rp_count(bpf_get_socket_cookie((struct sock *)sk));
	return 0;
}

/* ---- tier C ---------------------------------------------------------- */

SEC("kretprobe/reuseport_select_sock")
int BPF_KRETPROBE(kretprobe_reuseport_select_sock, struct sock *ret)
{
	__u64 cookie;

	if (!ret)
		return 0;
	/*
	 * No cookie helper for kprobes. Bind tiers A/B generated the cookie;
	 * bind tier C (kprobes too) names a cookie-less socket by its address
	 * (pw_kretprobe_bind), so do the same or nothing matches (6.1 VM run).
	 */
	cookie = BPF_CORE_READ(ret, __sk_common.skc_cookie.counter);
	pw_rp_count(cookie ? cookie : (__u64)ret);
	return 0;
}
