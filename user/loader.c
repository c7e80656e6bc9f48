// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bind.skel.h"
#include "cgroup.h"
#include "enforce.skel.h"
#include "inventory.skel.h"
#include "lifecycle.skel.h"
#include "loader.h"
#include "log.h"
#include "portwarden_abi.h"
#include "reuseport.skel.h"

#define MAX_LINKS 32
#define TIERS 3

/* One tier of a family: the programs it needs (NULL-terminated). */
struct tier_spec {
	const char *progs[8];
};

/* A hook family: how to open its skeleton and which programs form each tier. */
struct family_desc {
	const char *name;
	void *(*open)(void);
	void (*destroy)(void *skel);
	struct bpf_object *(*object)(void *skel);
	struct tier_spec tiers[TIERS]; /* A, B, C; empty progs = tier absent */
};

#define SKEL_OPS(n)                                                                        \
	static void *n##_open(void) { return n##_bpf__open(); }                            \
	static void n##_destroy(void *s) { n##_bpf__destroy(s); }                          \
	static struct bpf_object *n##_object(void *s) { return ((struct n##_bpf *)s)->obj; }
SKEL_OPS(bind)
SKEL_OPS(lifecycle)
SKEL_OPS(inventory)
SKEL_OPS(reuseport)
SKEL_OPS(enforce)

static const struct family_desc families[PW_FAM_MAX] = {
	[PW_FAM_BIND] = {
		.name = "bind", .open = bind_open, .destroy = bind_destroy, .object = bind_object,
		.tiers = {
			{ { "fexit_inet_bind", "fexit_inet6_bind" } },
			{ { "cg_bind4", "cg_bind6", "cg_post_bind4", "cg_post_bind6" } },
			{ { "kprobe_inet_bind", "kretprobe_inet_bind", "kprobe_inet6_bind",
			    "kretprobe_inet6_bind", "cg_sock_create" } },
		},
	},
	[PW_FAM_LIFECYCLE] = {
		.name = "lifecycle", .open = lifecycle_open, .destroy = lifecycle_destroy,
		.object = lifecycle_object,
		.tiers = {
			{ { "tp_btf_inet_sock_set_state", "cg_sock_release" } },
			{ { "raw_tp_inet_sock_set_state", "cg_sock_release" } },
			{ { "cg_sock_release" } },
		},
	},
	[PW_FAM_INVENTORY] = {
		.name = "inventory", .open = inventory_open, .destroy = inventory_destroy,
		.object = inventory_object,
		.tiers = { { { "iter_tcp", "iter_udp", "iter_sk_state" } } },
	},
	[PW_FAM_REUSEPORT] = {
		.name = "reuseport", .open = reuseport_open, .destroy = reuseport_destroy,
		.object = reuseport_object,
		.tiers = {
			{ { "fexit_reuseport_select_sock" } },
			{ { "tp_btf_sock_recv_length", "tp_btf_sk_data_ready" } },
			{ { "kretprobe_reuseport_select_sock" } },
		},
	},
	[PW_FAM_ENFORCE] = {
		.name = "enforce", .open = enforce_open, .destroy = enforce_destroy,
		.object = enforce_object,
		/* B: a kernel that refuses the seeding iterator still enforces. */
		.tiers = {
			{ { "cg_enf_bind4", "cg_enf_bind6", "cg_enf_post_bind4", "cg_enf_post_bind6",
			    "cg_enf_release", "enf_seed" } },
			{ { "cg_enf_bind4", "cg_enf_bind6", "cg_enf_post_bind4", "cg_enf_post_bind6",
			    "cg_enf_release" } },
		},
	},
};

/*
 * Maps every object defines (pw_common.bpf.h) and all share: the first
 * object creates them, the others reuse its fds.
 */
enum shared_map { SHARED_EVENTS, SHARED_SK_STATE, SHARED_DROPS, SHARED_PENDING, SHARED_MAX };
static const char *const shared_name[SHARED_MAX] = {
	[SHARED_EVENTS] = "events",
	[SHARED_SK_STATE] = "sk_state",
	[SHARED_DROPS] = "drops",
	[SHARED_PENDING] = "pending_binds",
};

struct loader {
	struct loader_opts opts;
	char cgroup_path[256];
	int cgroup_fd;
	void *skel[PW_FAM_MAX];
	enum pw_tier tier[PW_FAM_MAX];
	char reason[PW_FAM_MAX][TIERS][PW_REASON_LEN];
	struct bpf_link *links[MAX_LINKS];
	int n_links;
	const char *link_prog[MAX_LINKS]; /* program name of each link */
	int fam_first_link[PW_FAM_MAX], fam_n_links[PW_FAM_MAX];
	int shared_fd[SHARED_MAX]; /* owned by the first loaded object */
	struct bpf_link *iter_links[3]; /* tcp, udp, task_file (tracked) */
};

/* The last libbpf warning, so a refused tier can say why. */
static char last_libbpf_msg[PW_REASON_LEN];

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *buf = NULL;
	size_t n;

	/* Whole: a verifier log runs to many kilobytes, and its end says why. */
	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (level == LIBBPF_WARN && n && !last_libbpf_msg[0]) {
		/* Keep the first warning: it names the program and the reason. */
		snprintf(last_libbpf_msg, sizeof(last_libbpf_msg), "%s", buf);
	}
	if (pw_log_level >= PW_LOG_DEBUG)
		pr_debug("libbpf: %s\n", buf);
	free(buf);
	return 0;
}

void loader__setup_libbpf_log(void)
{
	libbpf_set_print(libbpf_log);
}

const char *pw_family_name_of(enum pw_family f)
{
	return f < PW_FAM_MAX ? families[f].name : "?";
}

char pw_tier_letter(enum pw_tier t)
{
	return t == PW_TIER_A ? 'A' : t == PW_TIER_B ? 'B' : t == PW_TIER_C ? 'C' : '-';
}

int pw_parse_force_tier(const char *s, enum pw_tier forced[PW_FAM_MAX])
{
	const char *eq = strchr(s, '=');

	if (!eq || strlen(eq + 1) != 1 || eq[1] < 'A' || eq[1] > 'C')
		return -EINVAL;
	for (int f = 0; f < PW_FAM_MAX; f++) {
		if (strlen(families[f].name) == (size_t)(eq - s) &&
		    !strncmp(s, families[f].name, eq - s)) {
			forced[f] = (enum pw_tier)(eq[1] - 'A' + 1);
			return 0;
		}
	}
	return -EINVAL;
}

enum pw_tier loader__tier(const struct loader *l, enum pw_family f)
{
	return l->tier[f];
}

const char *loader__reason(const struct loader *l, enum pw_family f, enum pw_tier t)
{
	return t >= PW_TIER_A && t <= PW_TIER_C ? l->reason[f][t - 1] : "";
}

const char *loader__cgroup_path(const struct loader *l)
{
	return l->cgroup_path;
}

int loader__pending_fd(const struct loader *l)
{
	return l->shared_fd[SHARED_PENDING];
}

int loader__events_fd(const struct loader *l)
{
	return l->shared_fd[SHARED_EVENTS];
}

int loader__map_fd(const struct loader *l, enum pw_family f, const char *name)
{
	struct bpf_map *m;

	if (f >= PW_FAM_MAX || !l->skel[f])
		return -ENOENT;
	m = bpf_object__find_map_by_name(families[f].object(l->skel[f]), name);
	return m ? bpf_map__fd(m) : -ENOENT;
}

int loader__pin_links(struct loader *l, enum pw_family f, const char *dir)
{
	for (int i = 0; i < l->fam_n_links[f]; i++) {
		struct bpf_link *link = l->links[l->fam_first_link[f] + i];
		const char *name = l->link_prog[l->fam_first_link[f] + i];
		char path[512];
		int err;

		/*
		 * bpffs has no rename: an earlier pin (a previous daemon) is
		 * replaced by unlink + pin. Our link is attached already, so
		 * the port is never unguarded in between.
		 */
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (unlink(path) && errno != ENOENT)
			return -errno;
		err = bpf_link__pin(link, path);
		if (err)
			return err;
	}
	return 0;
}

uint64_t loader__drops(const struct loader *l, unsigned int source)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	uint64_t *vals;

	if (ncpu <= 0 || l->shared_fd[SHARED_DROPS] < 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(l->shared_fd[SHARED_DROPS], &source, vals))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

static bool tier_has(const struct tier_spec *t, const char *prog)
{
	for (int i = 0; i < 8 && t->progs[i]; i++)
		if (!strcmp(t->progs[i], prog))
			return true;
	return false;
}

static bool is_cgroup_prog(const struct bpf_program *p)
{
	switch (bpf_program__type(p)) {
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
		return true;
	default:
		return false;
	}
}

/* Configure rodata, share the common maps, and pick the tier's programs. */
static int prepare(struct loader *l, enum pw_family f, struct bpf_object *obj, enum pw_tier t)
{
	const struct tier_spec *spec = &families[f].tiers[t - 1];
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, tier_has(spec, bpf_program__name(p)));
	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);
		int fd = -1;

		for (int i = 0; i < SHARED_MAX; i++)
			if (!strcmp(name, shared_name[i]))
				fd = l->shared_fd[i];
		if (!strcmp(name, "events") && fd < 0 && l->opts.ringbuf_bytes)
			bpf_map__set_max_entries(m, l->opts.ringbuf_bytes);
		if (fd >= 0) {
			err = bpf_map__reuse_fd(m, fd);
			if (err)
				return err;
		}
	}
	return 0;
}

/* rodata knobs live in the skeleton structs: set them by family. */
static void set_rodata(struct loader *l, enum pw_family f, void *skel)
{
	uint32_t wake = (l->opts.ringbuf_bytes ? l->opts.ringbuf_bytes : PW_RINGBUF_BYTES) / 4;

	switch (f) {
	case PW_FAM_BIND:
		((struct bind_bpf *)skel)->rodata->wakeup_bytes = wake;
		break;
	case PW_FAM_LIFECYCLE:
		((struct lifecycle_bpf *)skel)->rodata->wakeup_bytes = wake;
		((struct lifecycle_bpf *)skel)->rodata->release_all_bound =
			l->tier[PW_FAM_BIND] == PW_TIER_C;
		((struct lifecycle_bpf *)skel)->rodata->pending_attempts =
			l->tier[PW_FAM_BIND] == PW_TIER_B;
		break;
	case PW_FAM_INVENTORY:
		((struct inventory_bpf *)skel)->rodata->wakeup_bytes = wake;
		break;
	case PW_FAM_ENFORCE: {
		struct enforce_bpf *enf = skel;
		struct stat st;
		int level = pw_cgroup_level(l->cgroup_path);

		enf->rodata->wakeup_bytes = wake;
		/* A cgroup v2 directory's inode number is its cgroup id. */
		if (!stat(l->cgroup_path, &st) && level >= 0) {
			enf->rodata->seed_cgroup_id = st.st_ino;
			enf->rodata->seed_cgroup_level = level;
		}
		break;
	}
	default:
		break;
	}
}

static int attach_all(struct loader *l, struct bpf_object *obj, int *first_link)
{
	struct bpf_program *p;
	struct bpf_link *link;

	*first_link = l->n_links;
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		if (bpf_program__expected_attach_type(p) == BPF_TRACE_ITER)
			continue; /* attached per inventory pass */
		if (l->n_links >= MAX_LINKS)
			return -E2BIG;
		if (is_cgroup_prog(p))
			link = bpf_program__attach_cgroup(p, l->cgroup_fd);
		else
			link = bpf_program__attach(p);
		if (!link) {
			int err = -errno;

			snprintf(last_libbpf_msg, sizeof(last_libbpf_msg), "attach %s: %s",
				 bpf_program__name(p), strerror(-err));
			return err;
		}
		l->link_prog[l->n_links] = bpf_program__name(p);
		l->links[l->n_links++] = link;
	}
	return 0;
}

static void detach_from(struct loader *l, int first_link)
{
	while (l->n_links > first_link)
		bpf_link__destroy(l->links[--l->n_links]);
}

static void remember_shared_maps(struct loader *l, struct bpf_object *obj)
{
	if (l->shared_fd[SHARED_EVENTS] >= 0)
		return;
	for (int i = 0; i < SHARED_MAX; i++)
		l->shared_fd[i] = bpf_map__fd(bpf_object__find_map_by_name(obj, shared_name[i]));
}

/* Try the family's tiers best-first (or only the forced one). */
static int load_family(struct loader *l, enum pw_family f)
{
	const struct family_desc *d = &families[f];
	enum pw_tier forced = l->opts.forced[f];

	for (int t = PW_TIER_A; t <= PW_TIER_C; t++) {
		char *why = l->reason[f][t - 1];
		struct bpf_object *obj;
		int err, first_link;
		void *skel;

		if (!d->tiers[t - 1].progs[0]) {
			snprintf(why, PW_REASON_LEN, "no tier %c exists for the %s hooks",
				 pw_tier_letter(t), d->name);
			continue;
		}
		if (forced && t != (int)forced) {
			snprintf(why, PW_REASON_LEN, "skipped: --force-tier %s=%c", d->name,
				 pw_tier_letter(forced));
			continue;
		}
		last_libbpf_msg[0] = '\0';
		skel = d->open();
		if (!skel) {
			snprintf(why, PW_REASON_LEN, "open failed: %s", strerror(errno));
			continue;
		}
		obj = d->object(skel);
		set_rodata(l, f, skel);
		err = prepare(l, f, obj, t);
		if (!err)
			err = bpf_object__load(obj);
		if (err) {
			snprintf(why, PW_REASON_LEN, "load failed: %s%s%s", strerror(-err),
				 last_libbpf_msg[0] ? " — " : "", last_libbpf_msg);
			d->destroy(skel);
			continue;
		}
		err = attach_all(l, obj, &first_link);
		if (err) {
			snprintf(why, PW_REASON_LEN, "attach failed: %s", last_libbpf_msg);
			detach_from(l, first_link);
			d->destroy(skel);
			continue;
		}
		remember_shared_maps(l, obj);
		l->fam_first_link[f] = first_link;
		l->fam_n_links[f] = l->n_links - first_link;
		l->skel[f] = skel;
		l->tier[f] = (enum pw_tier)t;
		return 0;
	}
	return -ENOENT;
}

int loader__enable(struct loader *l, enum pw_family f)
{
	if (f >= PW_FAM_MAX)
		return -EINVAL;
	return l->skel[f] ? 0 : load_family(l, f);
}

int loader__open(const struct loader_opts *opts, struct loader **ret)
{
	struct loader *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->opts = *opts;
	l->cgroup_fd = -1;
	for (int i = 0; i < SHARED_MAX; i++)
		l->shared_fd[i] = -1;
	if (opts->cgroup_path) {
		snprintf(l->cgroup_path, sizeof(l->cgroup_path), "%s", opts->cgroup_path);
	} else {
		err = pw_cgroup2_root(l->cgroup_path, sizeof(l->cgroup_path));
		if (err) {
			pr_err("failed to find or mount cgroup v2: %s\n", strerror(-err));
			goto cleanup;
		}
	}
	l->cgroup_fd = open(l->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		err = -errno;
		pr_err("failed to open cgroup '%s': %s\n", l->cgroup_path, strerror(errno));
		goto cleanup;
	}
	/* Bind first: the lifecycle object's rodata depends on the bind tier. */
	for (int f = 0; f < PW_FAM_MAX; f++) {
		if ((opts->inventory_only && f != PW_FAM_INVENTORY) ||
		    (f == PW_FAM_ENFORCE && !opts->enforce)) {
			/* Every tier gets a reason: `check` prints them all. */
			for (int t = PW_TIER_A; t <= PW_TIER_C; t++)
				if (!families[f].tiers[t - 1].progs[0])
					snprintf(l->reason[f][t - 1], PW_REASON_LEN,
						 "no tier %c exists for the %s hooks",
						 pw_tier_letter(t), families[f].name);
				else
					snprintf(l->reason[f][t - 1], PW_REASON_LEN, "%s",
						 f == PW_FAM_ENFORCE ?
						 "not loaded: no enforcement policy (run --enforce or --audit)" :
						 "not requested");
			continue;
		}
		err = load_family(l, (enum pw_family)f);
		/* Asked to refuse binds and cannot: never run as if it could. */
		if (err && f == PW_FAM_ENFORCE) {
			pr_err("failed to load the enforcement hooks: %s\n", l->reason[f][0]);
			goto cleanup;
		}
		if (err && (f == PW_FAM_BIND || opts->inventory_only)) {
			pr_err("failed to load the bind hooks in any tier (A: %s; B: %s; C: %s)\n",
			       l->reason[f][0], l->reason[f][1], l->reason[f][2]);
			goto cleanup;
		}
		if (err)
			pr_warn("no tier of the %s hooks loaded\n", families[f].name);
	}
	*ret = l;
	return 0;
cleanup:
	loader__destroy(l);
	return err;
}

void loader__destroy(struct loader *l)
{
	if (!l)
		return;
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l->iter_links[i]);
	detach_from(l, 0);
	/* Reverse order: objects that reuse the shared maps go first. */
	for (int f = PW_FAM_MAX - 1; f >= 0; f--)
		if (l->skel[f])
			families[f].destroy(l->skel[f]);
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	free(l);
}

static int run_iter(struct bpf_link **link, struct bpf_program *prog,
		    const struct bpf_iter_attach_opts *opts, loader_record_fn cb, void *ctx)
{
	char buf[sizeof(struct pw_event) * 64];
	size_t have = 0;
	ssize_t n;
	int fd;

	if (!*link) {
		*link = bpf_program__attach_iter(prog, opts);
		if (!*link)
			return -errno;
	}
	fd = bpf_iter_create(bpf_link__fd(*link));
	if (fd < 0)
		return -errno;
	/* Records are fixed-size; a read may end mid-record. */
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t off = 0;

		have += n;
		while (have - off >= sizeof(struct pw_event)) {
			cb(ctx, buf + off, sizeof(struct pw_event));
			off += sizeof(struct pw_event);
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	close(fd);
	return n < 0 ? -errno : 0;
}

int loader__inventory(struct loader *l, loader_record_fn cb, void *ctx)
{
	struct inventory_bpf *inv = l->skel[PW_FAM_INVENTORY];
	int err;

	if (!inv)
		return -EOPNOTSUPP;
	err = run_iter(&l->iter_links[0], inv->progs.iter_tcp, NULL, cb, ctx);
	if (!err)
		err = run_iter(&l->iter_links[1], inv->progs.iter_udp, NULL, cb, ctx);
	return err;
}

int loader__tracked(struct loader *l, loader_record_fn cb, void *ctx)
{
	struct inventory_bpf *inv = l->skel[PW_FAM_INVENTORY];

	if (!inv)
		return -EOPNOTSUPP;
	return run_iter(&l->iter_links[2], inv->progs.iter_sk_state, NULL, cb, ctx);
}

int loader__enforce_seed(struct loader *l, unsigned long *ret_seeded)
{
	struct enforce_bpf *enf = l->skel[PW_FAM_ENFORCE];
	struct bpf_link *link;
	__u32 slots[256];
	unsigned long n = 0;
	ssize_t got;
	int fd, err = 0;

	*ret_seeded = 0;
	if (!enf || l->tier[PW_FAM_ENFORCE] != PW_TIER_A)
		return -EOPNOTSUPP;
	link = bpf_program__attach_iter(enf->progs.enf_seed, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* One u32 per socket that became a holder (see enf_seed). */
	while ((got = read(fd, slots, sizeof(slots))) > 0)
		n += got / sizeof(slots[0]);
	if (got < 0)
		err = -errno;
	close(fd);
	*ret_seeded = n;
out:
	bpf_link__destroy(link);
	return err;
}
