// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Enforcement: exclusive ports for Linux (issue #7). Attached to one cgroup
 * (never the root in tests), loaded only when a policy is active.
 *
 *   cg_enf_bind4/6       before the bind: a protected port whose policy does
 *                        not list the binder is refused (return 0 -> EPERM).
 *   cg_enf_post_bind4/6  after the kernel accepted the bind, under the port's
 *                        holder lock: the global switches (no cross-uid
 *                        sharing, no shadowing) are decided against the
 *                        holders, and the socket becomes a holder. Refusing
 *                        here makes bind() fail with EPERM and releases the
 *                        port, so only sharing the kernel would have allowed
 *                        is refused (not every EADDRINUSE), and two racing
 *                        binds cannot both pass: the second sees the first.
 *   cg_enf_release       drops the socket from its port's holders.
 *   enf_seed             run once by the daemon after attaching: sockets bound
 *                        before enforcement was loaded become holders too.
 *
 * The holders map is kept by the kernel alone, so there is no window between
 * a bind and the moment the next decision knows about it. Userspace writes
 * only `policy` and `settings` (see struct pw_enf_pkey for the swap).
 */
#include "pw_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1
#define E2BIG 7
#define EAGAIN 11
#define PW_ENF_SLOTS 8 /* distinct holder identities per port (power of two) */
#define PW_ENF_MAX_PORTS 65536

/* A holder identity and how many live sockets share it. */
struct pw_enf_holder {
	__u32 refs;
	__u32 uid; /* sk_uid */
	__u64 cgroup_id;
	__u64 exe_ino;
	__u64 exe_dev;
	__u8 family;
	__u8 v6only;
	__u8 pad[6];
	__u8 addr[PW_ADDR_LEN];
};

struct pw_enf_hkey {
	__u32 netns;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct pw_enf_holders {
	struct bpf_spin_lock lock;
	/* Set under the lock when the last holder left; the entry is then deleted
	 * and never reused, so a concurrent bind cannot add itself to a dying one. */
	__u32 dead;
	struct pw_enf_holder h[PW_ENF_SLOTS];
};

/* Per-socket enforcement state (own storage: sk_state's layout is shared). */
struct pw_enf_sk {
	struct pw_enf_hkey key;
	__u32 slot;	/* holder slot + 1; 0: not a holder */
	__u8 checked;	/* bind4 already applied the port policy to this attempt */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * PW_ENF_MAX_POLICY);
	__type(key, struct pw_enf_pkey);
	__type(value, struct pw_enf_policy);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_ENF_MAX_PORTS);
	__type(key, struct pw_enf_hkey);
	__type(value, struct pw_enf_holders);
} holders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pw_enf_sk);
} enf_sock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_ENF_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} enf_stats SEC(".maps");

static const struct pw_enf_holders empty_holders;

static __always_inline void enf_count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&enf_stats, &stat);

	if (n)
		*n += 1;
}

static __always_inline __u64 enf_settings(void)
{
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&settings, &zero);

	return s ? *s : 0;
}

static __always_inline bool enf_tracked(__u32 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* The binding task's executable: inode and dev_t of current->mm->exe_file. */
static __always_inline void enf_fill_exe(struct pw_enf_holder *id)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct file *f = BPF_CORE_READ(t, mm, exe_file);

	if (!f)
		return;
	id->exe_ino = BPF_CORE_READ(f, f_inode, i_ino);
	id->exe_dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
}

static __always_inline void enf_fill_ident(struct pw_enf_holder *id, const struct sock *sk)
{
	id->uid = BPF_CORE_READ(sk, sk_uid.val);
	id->cgroup_id = bpf_get_current_cgroup_id();
	enf_fill_exe(id);
}

static __always_inline bool enf_owner_match(const struct pw_enf_owner *o,
					    const struct pw_enf_holder *id)
{
	switch (o->type) {
	case PW_ENF_O_UID:
		return o->uid == id->uid;
	case PW_ENF_O_CGROUP:
		/* The listed cgroup or any cgroup below it. */
		return bpf_get_current_ancestor_cgroup_id(o->level) == o->id;
	case PW_ENF_O_EXE:
		return o->id == id->exe_ino && o->dev == id->exe_dev;
	default:
		return false;
	}
}

/* The policy for this port and address: the address-specific entry, else the port's. */
static __always_inline struct pw_enf_policy *enf_policy_find(__u64 s, __u16 port, __u8 proto,
							     const struct pw_enf_holder *id)
{
	struct pw_enf_pkey k = {};
	struct pw_enf_policy *p;

	k.port = port;
	k.proto = proto;
	k.gen = (s & PW_ENF_S_GEN) ? 1 : 0;
	k.family = id->family;
	__builtin_memcpy(k.addr, id->addr, sizeof(k.addr));
	p = bpf_map_lookup_elem(&policy, &k);
	if (p)
		return p;
	k.family = 0;
	__builtin_memset(k.addr, 0, sizeof(k.addr));
	return bpf_map_lookup_elem(&policy, &k);
}

/* PW_ENF_R_PROTECTED when the port is protected and @id is none of its owners. */
static __always_inline __u8 enf_check_policy(__u64 s, __u16 port, __u8 proto,
					     const struct pw_enf_holder *id)
{
	struct pw_enf_policy *p = enf_policy_find(s, port, proto, id);

	if (!p)
		return 0;
	for (int i = 0; i < PW_ENF_MAX_OWNERS; i++) {
		if (i >= p->n_owners)
			break;
		if (enf_owner_match(&p->owners[i], id))
			return 0;
	}
	return PW_ENF_R_PROTECTED;
}

/* IPv4 addresses use the first 4 bytes and leave the rest zero. */
static __always_inline bool enf_is_wild(const struct pw_enf_holder *h)
{
	const __u32 *a = (const __u32 *)h->addr;

	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/*
 * The comparisons below fold fields with xor/or into one test each: under
 * the holder lock every branch is walked once per slot by the verifier.
 */
static __always_inline bool enf_same_addr(const struct pw_enf_holder *a,
					  const struct pw_enf_holder *b)
{
	const __u32 *x = (const __u32 *)a->addr, *y = (const __u32 *)b->addr;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		(a->family ^ b->family)) == 0;
}

/* @w is a wildcard that covers @s's address family. */
static __always_inline bool enf_wild_covers(const struct pw_enf_holder *w,
					    const struct pw_enf_holder *s)
{
	if (!enf_is_wild(w))
		return false;
	return w->family == s->family || (w->family == AF_INET6 && !w->v6only);
}

static __always_inline bool enf_overlap(const struct pw_enf_holder *a,
					const struct pw_enf_holder *b)
{
	return enf_same_addr(a, b) || enf_wild_covers(a, b) || enf_wild_covers(b, a);
}

static __always_inline bool enf_same_owner(const struct pw_enf_holder *a,
					   const struct pw_enf_holder *b)
{
	return ((a->uid ^ b->uid) | (a->cgroup_id ^ b->cgroup_id) | (a->exe_ino ^ b->exe_ino) |
		(a->exe_dev ^ b->exe_dev)) == 0;
}

static __always_inline bool enf_same_ident(const struct pw_enf_holder *a,
					   const struct pw_enf_holder *b)
{
	return enf_same_owner(a, b) && enf_same_addr(a, b) && a->v6only == b->v6only;
}

/* Report a refusal (or, in audit mode, what would have been refused). */
static __always_inline void enf_emit(const struct sock *sk, __u64 cookie,
				     const struct pw_enf_holder *id, __u16 port, __u8 reason,
				     bool audit)
{
	struct pw_event *e = pw_reserve(PW_REC_BIND_REFUSED, PW_SRC_ENFORCE);

	if (!e)
		return;
	pw_fill_sock(&e->sock, sk);
	e->sock.cookie = cookie;
	e->sock.uid = id->uid;
	e->sock.family = id->family;
	e->sock.port = port;
	__builtin_memcpy(e->sock.addr, id->addr, sizeof(e->sock.addr));
	if (id->v6only)
		e->sock.flags |= PW_F_V6ONLY;
	pw_fill_task(&e->task);
	e->err = audit ? 0 : -EPERM;
	e->err_kind = PW_ERR_EXACT;
	e->detail = reason | (audit ? PW_ENF_AUDITED : 0);
	pw_submit(e);
}

/*
 * The capture side (bind.bpf.c, attached before us) marked this attempt
 * pending or the socket bound; a refused bind is reported here as
 * bind_refused, so it must not also come out as a failed bind of unknown
 * cause or as the close of a socket that was never bound.
 */
static __always_inline void enf_unmark_capture(void *sk, __u64 cookie)
{
	struct pw_sk_state *st = bpf_sk_storage_get(&sk_state, sk, 0, 0);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pw_pending_bind *p = bpf_map_lookup_elem(&pending_binds, &tid);

	if (st)
		st->flags &= ~PW_SK_BOUND;
	if (p && p->sock.cookie == cookie)
		p->state = PW_PENDING_NONE;
}

static __always_inline int enf_bind(struct bpf_sock_addr *ctx, __u8 family)
{
	struct pw_enf_holder id = {};
	struct bpf_sock *bsk = ctx->sk;
	struct pw_enf_sk *es;
	const struct sock *sk;
	__u64 s = enf_settings();
	__u16 port;
	__u8 reason;
	bool audit;

	if ((s & PW_ENF_S_MODE_MASK) == PW_ENF_OFF || !bsk || !enf_tracked(bsk->protocol))
		return 1;
	port = bpf_ntohs(ctx->user_port);
	if (!port)
		return 1; /* the kernel picks the port: post_bind checks it */
	es = bpf_sk_storage_get(&enf_sock, bsk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!es) {
		enf_count(PW_ENF_ST_NO_STORAGE);
		return 1;
	}
	es->checked = 1;
	sk = pw_as_sock(bsk);
	id.family = family;
	pw_ctx_addr(id.addr, family, ctx, user_ip4, user_ip6);
	if (family == AF_INET6)
		id.v6only = pw_sk_ipv6only(sk);
	enf_fill_ident(&id, sk);
	reason = enf_check_policy(s, port, bsk->protocol, &id);
	if (!reason)
		return 1;
	audit = (s & PW_ENF_S_MODE_MASK) == PW_ENF_AUDIT;
	enf_emit(sk, bpf_get_socket_cookie(ctx), &id, port, reason, audit);
	if (audit)
		return 1;
	enf_unmark_capture(bsk, bpf_get_socket_cookie(ctx));
	return 0;
}

SEC("cgroup/bind4")
int cg_enf_bind4(struct bpf_sock_addr *ctx)
{
	return enf_bind(ctx, AF_INET);
}

SEC("cgroup/bind6")
int cg_enf_bind6(struct bpf_sock_addr *ctx)
{
	return enf_bind(ctx, AF_INET6);
}

/*
 * One attempt at the port's holder entry: 0 with *@ret set, -EAGAIN when it
 * was absent (now inserted, unless someone else did) or dying (deleted right
 * after its last holder left), -E2BIG when the map is full.
 */
static __always_inline int enf_holders_try(const struct pw_enf_hkey *key,
					   struct pw_enf_holders **ret)
{
	struct pw_enf_holders *h = bpf_map_lookup_elem(&holders, key);

	if (h && !h->dead) {
		*ret = h;
		return 0;
	}
	if (!h && bpf_map_update_elem(&holders, key, &empty_holders, BPF_NOEXIST) == -E2BIG)
		return -E2BIG;
	return -EAGAIN;
}

/*
 * The port's holder entry, created if absent; NULL when the map is full.
 * Three attempts written out instead of a loop: 6.1 refused the loop clang
 * made of this (see "Loops on 6.1" in core_fixes.bpf.h).
 */
static __always_inline struct pw_enf_holders *enf_holders_get(const struct pw_enf_hkey *key)
{
	struct pw_enf_holders *h = NULL;
	int err = enf_holders_try(key, &h);

	if (err == -EAGAIN)
		err = enf_holders_try(key, &h);
	if (err == -EAGAIN)
		err = enf_holders_try(key, &h);
	if (!err)
		return h;
	enf_count(PW_ENF_ST_MAP_FULL);
	return NULL;
}

/*
 * Count @id as a holder in @h (the caller holds h->lock): its slot + 1, or 0
 * when every slot holds another identity.
 */
static __always_inline __u32 enf_holder_add(struct pw_enf_holders *h,
					    const struct pw_enf_holder *id)
{
	for (int i = 0; i < PW_ENF_SLOTS; i++) {
		if (h->h[i].refs && enf_same_ident(&h->h[i], id)) {
			h->h[i].refs++;
			return i + 1;
		}
	}
	for (int i = 0; i < PW_ENF_SLOTS; i++) {
		if (!h->h[i].refs) {
			h->h[i] = *id;
			h->h[i].refs = 1;
			return i + 1;
		}
	}
	return 0;
}

/*
 * Make @es's socket a holder of @key's entry @h, as @id (under h->lock,
 * unless it holds already): false when every slot holds another identity.
 */
static __always_inline bool enf_hold(struct pw_enf_holders *h, struct pw_enf_sk *es,
				     const struct pw_enf_hkey *key, const struct pw_enf_holder *id)
{
	__u32 slot;

	if (es->slot)
		return true;
	slot = enf_holder_add(h, id);
	if (!slot)
		return false;
	es->key = *key;
	es->slot = slot;
	return true;
}

static __always_inline int enf_post_bind(struct bpf_sock *ctx, __u8 family)
{
	struct pw_enf_holder id = {};
	struct pw_enf_hkey key = {};
	struct pw_enf_holders *h;
	struct pw_enf_sk *es;
	const struct sock *sk;
	__u64 s = enf_settings();
	__u32 mode = s & PW_ENF_S_MODE_MASK;
	__u8 reason = 0;
	bool audit = mode == PW_ENF_AUDIT, full = false;

	if (!enf_tracked(ctx->protocol))
		return 1;
	es = bpf_sk_storage_get(&enf_sock, ctx, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!es) {
		enf_count(PW_ENF_ST_NO_STORAGE);
		return 1;
	}
	sk = pw_as_sock(ctx);
	id.family = family;
	pw_ctx_addr(id.addr, family, ctx, src_ip4, src_ip6);
	if (family == AF_INET6)
		id.v6only = pw_sk_ipv6only(sk);
	enf_fill_ident(&id, sk);
	key.netns = pw_sk_netns(sk);
	key.port = ctx->src_port;
	key.proto = ctx->protocol;
	/* A kernel-chosen port (bind to port 0) was not seen by bind4. */
	if (mode != PW_ENF_OFF && !es->checked)
		reason = enf_check_policy(s, key.port, key.proto, &id);
	es->checked = 0;

	h = enf_holders_get(&key);
	if (h) {
		bpf_spin_lock(&h->lock);
		if (h->dead) {
			bpf_spin_unlock(&h->lock);
			enf_count(PW_ENF_ST_MAP_FULL);
			goto decided;
		}
		/*
		 * Each pass stops at its first hit, so the verifier walks each
		 * slot once per pass instead of every combination of outcomes.
		 */
		if (!reason && mode != PW_ENF_OFF && (s & (PW_ENF_S_CROSS_UID | PW_ENF_S_SHADOWING))) {
			for (int i = 0; i < PW_ENF_SLOTS; i++) {
				struct pw_enf_holder *o = &h->h[i];

				if (!o->refs || !enf_overlap(o, &id))
					continue;
				if ((s & PW_ENF_S_CROSS_UID) && o->uid != id.uid) {
					reason = PW_ENF_R_CROSS_UID;
					break;
				}
				if ((s & PW_ENF_S_SHADOWING) && !enf_is_wild(&id) &&
				    enf_wild_covers(o, &id) && !enf_same_owner(o, &id)) {
					reason = PW_ENF_R_SHADOWING;
					break;
				}
			}
		}
		/*
		 * es->slot is set already when enf_seed took this socket while
		 * its bind was under way (it had its port): it holds, once.
		 */
		if (!reason || audit)
			full = !enf_hold(h, es, &key, &id);
		bpf_spin_unlock(&h->lock);
		if (full)
			enf_count(PW_ENF_ST_HOLDERS_FULL);
	}
decided:
	if (!reason)
		return 1;
	enf_emit(sk, bpf_get_socket_cookie(ctx), &id, key.port, reason, audit);
	if (audit)
		return 1;
	enf_unmark_capture(ctx, bpf_get_socket_cookie(ctx));
	return 0;
}

SEC("cgroup/post_bind4")
int cg_enf_post_bind4(struct bpf_sock *ctx)
{
	return enf_post_bind(ctx, AF_INET);
}

SEC("cgroup/post_bind6")
int cg_enf_post_bind6(struct bpf_sock *ctx)
{
	return enf_post_bind(ctx, AF_INET6);
}

SEC("cgroup/sock_release")
int cg_enf_release(struct bpf_sock *ctx)
{
	struct pw_enf_holders *h;
	struct pw_enf_hkey key;
	struct pw_enf_sk *es;
	__u32 idx;
	bool empty = true;

	if (!enf_tracked(ctx->protocol))
		return 1;
	es = bpf_sk_storage_get(&enf_sock, ctx, 0, 0);
	if (!es || !es->slot)
		return 1;
	idx = (es->slot - 1) & (PW_ENF_SLOTS - 1);
	key = es->key;
	es->slot = 0;
	h = bpf_map_lookup_elem(&holders, &key);
	if (!h)
		return 1;
	bpf_spin_lock(&h->lock);
	if (h->h[idx].refs)
		h->h[idx].refs--;
	for (int i = 0; i < PW_ENF_SLOTS; i++)
		if (h->h[i].refs)
			empty = false;
	if (empty)
		h->dead = 1;
	bpf_spin_unlock(&h->lock);
	if (empty)
		bpf_map_delete_elem(&holders, &key);
	return 1;
}

/* ---- start-up seeding ----------------------------------------------- */

/* The enforced cgroup (set by the loader): only its subtree's sockets hold. */
const volatile __u64 seed_cgroup_id = 0;
const volatile __u32 seed_cgroup_level = 0;

/* @task is in the enforced cgroup or below it. */
static __always_inline bool enf_seed_in_cgroup(const struct task_struct *task)
{
	const struct cgroup *cg = task->cgroups->dfl_cgrp;
	const struct cgroup *anc;

	if (!cg || cg->level < seed_cgroup_level)
		return false;
	anc = BPF_CORE_READ(cg, ancestors[seed_cgroup_level]);
	return anc && BPF_CORE_READ(anc, kn, id) == seed_cgroup_id;
}

/*
 * Was @sk bound by bind() (what post_bind would have made a holder)? TCP:
 * listening, or bound and never connected. UDP: bind() locked its address
 * or port (an autobound socket has no lock; bind(any:0) neither, and a
 * kernel-chosen port is nobody's target).
 */
static __always_inline bool enf_seed_bound(const struct sock *sk)
{
	__u8 state = sk->__sk_common.skc_state;

	if (sk->sk_protocol == IPPROTO_TCP)
		return state == TCP_LISTEN || (state == TCP_CLOSE && !sk->__sk_common.skc_dport);
	return pw_sk_userlocks(sk) & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK);
}

/* The holder identity of @sk, owned by @task. */
static __always_inline void enf_seed_ident(struct pw_enf_holder *id, const struct sock *sk,
					   const struct task_struct *task)
{
	const struct file *exe;

	id->family = sk->__sk_common.skc_family;
	if (id->family == AF_INET6) {
		__builtin_memcpy(id->addr, &sk->__sk_common.skc_v6_rcv_saddr, sizeof(id->addr));
		id->v6only = pw_sk_ipv6only(sk);
	} else {
		__u32 a4 = sk->__sk_common.skc_rcv_saddr;

		__builtin_memcpy(id->addr, &a4, sizeof(a4));
	}
	id->uid = sk->sk_uid.val;
	id->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	exe = task->mm ? task->mm->exe_file : NULL;
	if (exe) {
		id->exe_ino = exe->f_inode->i_ino;
		id->exe_dev = exe->f_inode->i_sb->s_dev;
	}
}

/*
 * Sockets bound before enforcement was loaded (a daemon start or restart)
 * become holders, or --deny-cross-uid and --deny-shadowing would not see the
 * services already running. The daemon runs this once over every task's
 * files, after attaching. No race with a close: a visit holds a reference
 * on the socket's file, so the release (and cg_enf_release) cannot run
 * before the visit ends and finds es->slot; a socket whose last reference
 * is gone is not visited. Against a bind under way, es->slot is read and
 * set under the holder lock here and in post_bind. The owner is the first
 * task found holding the socket (for an inherited one, usually the parent
 * that bound it, as post_bind would have seen). One u32 (1) per socket that
 * became a holder goes to the iterator's output (the daemon counts them).
 */
SEC("iter/task_file")
int enf_seed(struct bpf_iter__task_file *ctx)
{
	const struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct pw_enf_holder id = {};
	struct pw_enf_hkey key = {};
	struct pw_enf_holders *h;
	struct pw_enf_sk *es;
	struct sock *sk;
	bool dead = false, seeded = false, full = false;
	__u32 one = 1;

	if (!task)
		return 0;
	sk = pw_file_sock(file);
	if (!sk || !enf_tracked(sk->sk_protocol) || !sk->__sk_common.skc_num)
		return 0;
	if (sk->__sk_common.skc_family != AF_INET && sk->__sk_common.skc_family != AF_INET6)
		return 0;
	if (!enf_seed_bound(sk) || !enf_seed_in_cgroup(task))
		return 0;
	es = bpf_sk_storage_get(&enf_sock, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!es) {
		enf_count(PW_ENF_ST_NO_STORAGE);
		return 0;
	}
	if (es->slot)
		return 0; /* a holder already: seen through another task, or bound since */
	enf_seed_ident(&id, sk, task);
	key.netns = pw_sk_netns(sk);
	key.port = sk->__sk_common.skc_num;
	key.proto = sk->sk_protocol;
	h = enf_holders_get(&key);
	if (!h)
		return 0;
	bpf_spin_lock(&h->lock);
	if (h->dead) { /* its last holder just left: counted like post_bind */
		dead = true;
	} else if (!es->slot) { /* still not a holder: a bind under way may have made it one */
		seeded = enf_hold(h, es, &key, &id);
		full = !seeded;
	}
	bpf_spin_unlock(&h->lock);
	if (dead)
		enf_count(PW_ENF_ST_MAP_FULL);
	if (full)
		enf_count(PW_ENF_ST_HOLDERS_FULL);
	if (seeded)
		bpf_seq_write(ctx->meta->seq, &one, sizeof(one));
	return 0;
}
