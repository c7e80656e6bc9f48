// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The floor under bench/run.sh's bind()+close() ratio: the least that any
 * agent reporting every bind and every close as it happens costs here. The
 * three cgroup hooks portwarden's tier B attaches (bind4 for attempts,
 * post_bind4 for successes, sock_release for closes), each doing only the
 * minimum: bind4 nothing, post_bind4 and sock_release one 32-byte
 * ring-buffer record naming the socket (its cookie) and the time, no
 * wakeup. (sock_release sends one for every TCP/UDP socket; in the
 * benchmark every socket is bound, so that is the same work as
 * portwarden's bound-only closes.) portwarden's ratio can come near this
 * one, not pass it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct floor_rec {
	__u64 ts_ns;
	__u64 cookie;
	__u32 type; /* 1 bind, 2 close */
	__u32 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4u << 20); /* portwarden's PW_RINGBUF_BYTES */
} events SEC(".maps");

/* Set by floor_load before load: false leaves the hooks empty (their own cost). */
const volatile bool send_records = true;
/* Reserve failures: a floor that drops records is no floor (floor_load reports them). */
__u64 drops = 0;

static __always_inline void floor_emit(struct bpf_sock *ctx, __u32 type)
{
	struct floor_rec *r;

	if (!send_records || (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP))
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&drops, 1);
		return;
	}
	r->ts_ns = bpf_ktime_get_boot_ns();
	r->cookie = bpf_get_socket_cookie(ctx);
	r->type = type;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

SEC("cgroup/bind4")
int floor_bind4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/post_bind4")
int floor_post_bind4(struct bpf_sock *ctx)
{
	floor_emit(ctx, 1);
	return 1;
}

SEC("cgroup/sock_release")
int floor_sock_release(struct bpf_sock *ctx)
{
	floor_emit(ctx, 2);
	return 1;
}
