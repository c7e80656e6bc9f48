/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the BPF programs and userspace: record layouts, enums
 * and limits. Shared by both sides, so: fixed-width fields, explicit padding,
 * no pointers, no kernel structures, no functions. tests/unit/test_abi.c
 * asserts every size and offset that userspace depends on.
 */
#ifndef PORTWARDEN_ABI_H
#define PORTWARDEN_ABI_H

#ifdef __BPF__
/* vmlinux.h already defines the __u* types. */
#else
#include <linux/types.h>
#endif

#define PW_ABI_VERSION 1
#define PW_COMM_LEN 16
#define PW_ADDR_LEN 16

/* Ring-buffer and iterator record types. */
enum pw_rec_type {
	PW_REC_BIND = 1,	 /* bind() succeeded */
	PW_REC_BIND_FAILED = 2,	 /* a bind() attempt that did not succeed */
	PW_REC_LISTEN = 3,	 /* socket entered LISTEN */
	PW_REC_UNLISTEN = 4,	 /* socket left LISTEN (closed, or lost a listen race) */
	PW_REC_CLOSE = 5,	 /* a bound socket was released */
	PW_REC_INVENTORY = 6,	 /* an existing socket seen by an iterator pass */
	PW_REC_BIND_REFUSED = 7, /* the enforcement hook refused a bind */
	PW_REC_TYPE_MAX,
};

/*
 * Which program produced a record. Doubles as the index of the per-CPU
 * `drops` array (ring-buffer reserve failures per source).
 */
enum pw_source {
	PW_SRC_FEXIT_BIND = 0,
	PW_SRC_CGROUP_BIND = 1,
	PW_SRC_KPROBE_BIND = 2,
	PW_SRC_TP_BTF_STATE = 3,
	PW_SRC_RAW_TP_STATE = 4,
	PW_SRC_SOCK_RELEASE = 5,
	PW_SRC_ITER = 6,
	PW_SRC_ENFORCE = 7,
	PW_SRC_REUSEPORT = 8,
	PW_SRC_MAX,
};

/* pw_sock_rec.flags */
enum pw_sock_flag {
	PW_F_REUSEADDR = 1 << 0, /* SO_REUSEADDR set (sk_reuse) */
	PW_F_REUSEPORT = 1 << 1, /* SO_REUSEPORT set (sk_reuseport) */
	PW_F_V6ONLY = 1 << 2,	 /* IPV6_V6ONLY */
	PW_F_GROUP = 1 << 3,	 /* member of a reuseport group (sk_reuseport_cb) */
};

/* pw_event.err_kind: how much we know about a failed bind's errno. */
enum pw_err_kind {
	PW_ERR_NONE = 0,     /* not a failure */
	PW_ERR_EXACT = 1,    /* err is the kernel's return value (tiers A and C) */
	PW_ERR_UNKNOWN = 2,  /* tier B: userspace infers it from the ledger */
	PW_ERR_REBIND = 3,   /* the socket was already bound: EINVAL */
};

struct pw_rec_hdr {
	__u16 type;   /* enum pw_rec_type */
	__u16 size;   /* sizeof the whole record */
	__u8 source;  /* enum pw_source */
	__u8 pad[3];
	__u64 ts_ns;  /* bpf_ktime_get_boot_ns() */
};

/* A socket's identity and what it is bound to. */
struct pw_sock_rec {
	__u64 cookie;		/* bpf_get_socket_cookie(): identity everywhere */
	__u64 ino;		/* socket inode (iterators only; 0 elsewhere) */
	__u32 netns;		/* network namespace inode number */
	__u32 uid;		/* sk_uid: creator's fsuid, what the kernel compares */
	__u8 addr[PW_ADDR_LEN]; /* bound (or requested) address; IPv4 in the first 4 bytes */
	__u16 port;		/* host byte order */
	__u8 family;		/* AF_INET / AF_INET6 */
	__u8 proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 flags;		/* enum pw_sock_flag */
	__u8 state;		/* TCP state (TCP_LISTEN = 10), UDP: 7 (CLOSE) */
	__u8 pad[2];
};

/* The task that acted on the socket (at bind/listen/close time). */
struct pw_task_rec {
	__u32 pid;  /* thread id */
	__u32 tgid; /* process id */
	__u32 uid;  /* real uid */
	__u32 euid; /* effective uid (0 where the tier cannot read it cheaply) */
	__u64 cgroup_id;
	char comm[PW_COMM_LEN];
};

struct pw_event {
	struct pw_rec_hdr hdr;
	struct pw_sock_rec sock;
	struct pw_task_rec task;
	__s32 err;	/* -errno for failed or refused binds */
	__u8 err_kind;	/* enum pw_err_kind */
	__u8 detail;	/* PW_REC_BIND_REFUSED: enum pw_enf_reason | PW_ENF_AUDITED */
	__u8 pad[2];
};

/*
 * Tier B's open bind attempts: value of `pending_binds`, keyed by thread id.
 * cgroup/bind4/6 fill it; post_bind4/6 settle it. An attempt still open when
 * its thread tries again, when the socket is released, or a while later (the
 * daemon's sweep) failed. Per thread, not per socket: per-socket storage cost
 * an allocation on every bind().
 */
enum pw_pending_state {
	PW_PENDING_NONE = 0, /* settled */
	PW_PENDING_OPEN = 1, /* a bind to an explicit port (port 0 is not recorded), not yet succeeded */
};

struct pw_pending_bind {
	struct pw_sock_rec sock; /* the requested address; the socket's netns, uid, options */
	struct pw_task_rec task;
	__u64 ts_ns;		 /* bpf_ktime_get_boot_ns() of the attempt */
	__u32 state;		 /* enum pw_pending_state */
	__u32 pad;
};

#define PW_PENDING_MAX 16384

/*
 * The close of a socket the daemon knows by its cookie (bind tiers A and B):
 * a third of a struct pw_event, so a bind()+close() writes three cache
 * lines of ring buffer instead of four. Tier C sends a full struct pw_event.
 */
struct pw_close_rec {
	struct pw_rec_hdr hdr; /* type PW_REC_CLOSE, size sizeof(struct pw_close_rec) */
	__u64 cookie;
	__u8 family;
	__u8 proto;
	__u8 pad[6];
};

/* Per-member reuseport delivery counters: key of `reuseport_hits`. */
struct pw_rp_key {
	__u64 cookie; /* the chosen member socket */
};

/* Tier A source accounting: key of `reuseport_sources`. */
struct pw_rp_src_key {
	__u64 cookie;		/* chosen member */
	__u8 saddr[PW_ADDR_LEN];
	__u16 sport;		/* host order */
	__u8 family;
	__u8 pad[5];
};

/* Index of the per-CPU `reuseport_misses` array: counts not attributed. */
enum pw_rp_miss {
	PW_RP_MISS_NO_COOKIE = 0,    /* tier C: the chosen socket had no cookie yet */
	PW_RP_MISS_HITS_FULL = 1,    /* reuseport_hits could not take a new member */
	PW_RP_MISS_SOURCES_FULL = 2, /* reuseport_sources could not take a new source */
	PW_RP_MISS_NO_SOURCE = 3,    /* tier A: no IPv4/IPv6 source in the skb */
	PW_RP_MISS_MAX,
};

/*
 * Enforcement (bpf/enforce.bpf.c). The policy lives in `policy` (hash) keyed
 * by port, protocol and optionally address, plus a generation bit: a reload
 * writes the whole new policy under the other generation, then flips the one
 * `settings` word, so the programs see either the old or the new policy,
 * never a mix.
 */
enum pw_enf_mode { PW_ENF_OFF = 0, PW_ENF_AUDIT = 1, PW_ENF_ENFORCE = 2 };

/* Why a bind was (or, in audit mode, would have been) refused. */
enum pw_enf_reason {
	PW_ENF_R_PROTECTED = 1, /* protected port, binder is not a listed owner */
	PW_ENF_R_CROSS_UID = 2, /* would share the port with another uid */
	PW_ENF_R_SHADOWING = 3, /* specific address over another owner's wildcard */
};
#define PW_ENF_AUDITED 0x80 /* pw_event.detail: audit mode, the bind went ahead */

/* settings[0]: one 64-bit word, so an update is a single store. */
#define PW_ENF_S_MODE_MASK 0x3ull	/* enum pw_enf_mode */
#define PW_ENF_S_CROSS_UID (1ull << 2)	/* refuse cross-uid sharing */
#define PW_ENF_S_SHADOWING (1ull << 3)	/* refuse shadowing of a wildcard */
#define PW_ENF_S_GEN (1ull << 4)	/* which policy generation is live */

enum pw_enf_owner_type { PW_ENF_O_UID = 1, PW_ENF_O_CGROUP = 2, PW_ENF_O_EXE = 3 };

struct pw_enf_owner {
	__u8 type;  /* enum pw_enf_owner_type */
	__u8 level; /* cgroup: depth below the v2 root (ancestor id lookup) */
	__u8 pad[2];
	__u32 uid;  /* uid: compared with the socket's sk_uid */
	__u64 id;   /* cgroup: cgroup id (directory inode); exe: inode number */
	__u64 dev;  /* exe: kernel dev_t of the file system (MKDEV: major << 20 | minor) */
};

#define PW_ENF_MAX_OWNERS 8
#define PW_ENF_MAX_POLICY 4096

struct pw_enf_pkey {
	__u16 port;   /* host order */
	__u8 proto;   /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;  /* 0: any address of either family; AF_INET/AF_INET6: addr below */
	__u8 gen;     /* 0 or 1, see PW_ENF_S_GEN */
	__u8 pad[3];
	__u8 addr[PW_ADDR_LEN];
};

struct pw_enf_policy {
	__u32 n_owners;
	__u32 pad;
	struct pw_enf_owner owners[PW_ENF_MAX_OWNERS];
};

/* Index of the per-CPU `enf_stats` array. */
enum pw_enf_stat {
	PW_ENF_ST_HOLDERS_FULL = 0, /* a port had more distinct holders than slots */
	PW_ENF_ST_MAP_FULL = 1,	    /* the holders map could not take a new port */
	PW_ENF_ST_NO_STORAGE = 2,   /* no socket storage: the socket is not tracked */
	PW_ENF_ST_MAX,
};

/* Limits shared by both sides. */
#define PW_RINGBUF_BYTES (4u << 20)
#define PW_RP_MAX_MEMBERS 65536
#define PW_RP_MAX_SOURCES 16384

#endif /* PORTWARDEN_ABI_H */
