// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "daemon.h"
#include "detect.h"
#include "enforce.h"
#include "detect_reuseport_skew.h"
#include "event_line.h"
#include "inventory.h"
#include "log.h"
#include "util.h"

#define TICK_MS 1000

static int read_unpriv_port_start(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	int v = 1024;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 1024;
		fclose(f);
	}
	return v;
}

void daemon__ev_from_record(const struct pw_event *rec, struct pw_ev *ev)
{
	struct ledger_sock *s = &ev->sock;

	memset(ev, 0, sizeof(*ev));
	ev->type = rec->hdr.type;
	ev->source = rec->hdr.source;
	ev->wall_ns = pw_boot_to_wall_ns(rec->hdr.ts_ns);
	s->cookie = rec->sock.cookie;
	s->key.netns = rec->sock.netns;
	s->key.port = rec->sock.port;
	s->key.proto = rec->sock.proto;
	s->family = rec->sock.family;
	s->flags = rec->sock.flags;
	memcpy(s->addr, rec->sock.addr, sizeof(s->addr));
	s->listening = rec->sock.state == 10 /* TCP_LISTEN */ && rec->sock.proto == IPPROTO_TCP;
	s->bound_ns = ev->wall_ns;
	s->listen_ns = s->listening ? ev->wall_ns : 0;
	s->owner.uid = rec->sock.uid;
	s->owner.pid = rec->task.pid;
	s->owner.tgid = rec->task.tgid;
	s->owner.euid = rec->task.euid;
	s->owner.cgroup_id = rec->task.cgroup_id;
	memcpy(s->owner.comm, rec->task.comm, sizeof(s->owner.comm));
	s->owner.comm[sizeof(s->owner.comm) - 1] = '\0';
	owner__enrich(&s->owner);
	ev->detail = rec->detail;
	if (rec->err_kind == PW_ERR_EXACT || rec->err_kind == PW_ERR_REBIND)
		/* 64-bit: -INT32_MIN does not fit; no errno exceeds MAX_ERRNO. */
		ev->err = (int)(llabs((long long)rec->err) > 4095 ? 4095 : llabs((long long)rec->err));
}

/* Two bound addresses on one port can collide (same family rules apply loosely). */
static bool addrs_overlap(const struct ledger_sock *a, const struct ledger_sock *b)
{
	bool aw = ledger_sock_is_wildcard(a), bw = ledger_sock_is_wildcard(b);

	if (a->family == b->family)
		return aw || bw || !memcmp(a->addr, b->addr, sizeof(a->addr));
	/* A dual-stack [::] covers IPv4 too; v6only does not. */
	if (a->family == AF_INET6 && aw && !(a->flags & PW_F_V6ONLY))
		return true;
	if (b->family == AF_INET6 && bw && !(b->flags & PW_F_V6ONLY))
		return true;
	return false;
}

/* Tier B does not see the errno of a failed bind: deduce it from the ledger. */
static void infer_bind_errno(struct daemon *d, struct pw_ev *ev)
{
	struct ledger_port *p = ledger__port(d->ledger, &ev->sock.key);
	struct ledger_sock *h;

	ev->err_inferred = true;
	if (p) {
		for (h = p->socks; h; h = h->port_next) {
			if (h->cookie != ev->sock.cookie && addrs_overlap(h, &ev->sock)) {
				ev->err = EADDRINUSE;
				return;
			}
		}
	}
	if (ev->sock.key.port && ev->sock.key.port < d->unpriv_port_start && ev->sock.owner.euid)
		ev->err = EACCES;
	else
		ev->err = EADDRINUSE; /* held by a socket outside the ledger (e.g. TIME_WAIT) */
}

/* One event line: the direct writer, or jansson for what only it annotates. */
static void journal_event(struct daemon *d, const struct pw_ev *ev, bool reconciled)
{
	static struct pw_strbuf line;
	json_t *o;

	if (ev->type != PW_REC_BIND_REFUSED) {
		bool ok = event_line(ev, reconciled, &line);

		journal__emit_text(d->journal, ok ? line.p : NULL, line.len);
		return;
	}
	o = event_json(ev, reconciled);
	if (o)
		enforce__annotate_event(o, ev->detail);
	journal__emit(d->journal, o);
}

static void handle_event(struct daemon *d, struct pw_ev *ev)
{
	struct ledger_sock *s;

	detect__begin_event(d->detect, ev);
	switch (ev->type) {
	case PW_REC_BIND:
		d->bind_attempts[ev->sock.key.proto == IPPROTO_UDP]++;
		ledger__upsert(d->ledger, &ev->sock, NULL);
		break;
	case PW_REC_BIND_FAILED:
		d->bind_attempts[ev->sock.key.proto == IPPROTO_UDP]++;
		if (!ev->err)
			infer_bind_errno(d, ev);
		metrics__count_bind_failure(&d->metrics, ev->sock.key.proto, ev->err);
		break;
	case PW_REC_LISTEN:
		s = ledger__find(d->ledger, ev->sock.cookie);
		if (s) {
			ledger__set_listening(d->ledger, ev->sock.cookie, true, ev->wall_ns);
			ev->sock.owner = s->owner.pid ? s->owner : ev->sock.owner;
			ev->sock.bound_ns = s->bound_ns;
		} else {
			ev->sock.listening = true;
			ledger__upsert(d->ledger, &ev->sock, NULL);
		}
		break;
	case PW_REC_UNLISTEN:
		/* After a close (release runs before the state change) there is nothing left. */
		if (ledger__set_listening(d->ledger, ev->sock.cookie, false, ev->wall_ns))
			return;
		break;
	case PW_REC_CLOSE:
		s = ledger__find(d->ledger, ev->sock.cookie);
		if (s) {
			/*
			 * Close records carry only the cookie (tiers A/B keep
			 * sock_release cheap): report the socket as we knew it.
			 */
			int64_t when = ev->wall_ns;

			ev->sock = *s;
			ev->wall_ns = when;
		} else if (!ev->sock.key.port) {
			/* A socket we never saw bound (its records were lost): the
			 * next reconcile settles the ledger; nothing to report. */
			d->unknown_closes++;
			return;
		}
		ledger__remove(d->ledger, ev->sock.cookie);
		break;
	case PW_REC_BIND_REFUSED:
		daemon__enforce_event(d, ev);
		break;
	case PW_REC_INVENTORY:
		ledger__upsert(d->ledger, &ev->sock, NULL);
		if (d->opts.quiet_existing)
			return;
		break;
	default:
		break;
	}
	store__event(d->store, ev);
	journal_event(d, ev, false);
	detect__on_event(d->detect, ev);
}

/*
 * ring_buffer__consume() drains until the ring is empty, which under a
 * sustained flood is never: a budget per pass brings the loop back to
 * signals, timers and HTTP. The record that exhausts the budget is consumed
 * (libbpf advances past it before the callback) and processed.
 */
#define RB_BUDGET 4096

static int on_ringbuf(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;
	struct pw_event rec;
	struct pw_ev ev;

	if (!events__decode(data, len, &rec, &d->stats) &&
	    !pending_sweep__claimed(d->sweep, &rec)) {
		daemon__ev_from_record(&rec, &ev);
		handle_event(d, &ev);
	}
	return --d->rb_budget > 0 ? 0 : -EAGAIN;
}

static void on_swept_attempt(void *ctx, const struct pw_event *rec)
{
	struct pw_ev ev;

	daemon__ev_from_record(rec, &ev);
	handle_event(ctx, &ev);
}

/* Drain up to RB_BUDGET records; true when more are waiting. */
static bool drain_ringbuf(struct daemon *d, struct ring_buffer *rb)
{
	d->rb_budget = RB_BUDGET;
	return ring_buffer__consume(rb) == -EAGAIN;
}

/* Inventory records: owners come from the /proc inode map, not the record. */
struct inv_ctx {
	struct daemon *d;
	struct inventory_procs *procs;
	uint64_t *seen; /* cookies seen in this pass (reconcile) */
	size_t n_seen, cap_seen;
	bool journal;
	bool reconcile; /* journal what the pass corrects, as "reconciled" events */
	size_t added;	/* reconcile: sockets the ledger had missed or had wrong */
	bool seen_overflow; /* out of memory for @seen: sweep nothing */
};

/*
 * A reconcile pass writes every correction it makes to the journal, so that
 * a consumer replaying the stream ends with the daemon's (now exact) view.
 */
static void journal_reconciled(struct daemon *d, unsigned int type, struct pw_ev *ev)
{
	ev->type = type;
	ev->source = PW_SRC_ITER;
	journal_event(d, ev, true);
}

static void on_inventory(void *ctx, const void *data, size_t len)
{
	struct inv_ctx *c = ctx;
	struct pw_event rec;
	struct pw_ev ev;

	if (events__decode(data, len, &rec, &c->d->stats) || rec.hdr.type != PW_REC_INVENTORY)
		return;
	inventory__owner_of(c->procs, rec.sock.ino, &rec.task);
	daemon__ev_from_record(&rec, &ev);
	if (c->seen && c->n_seen == c->cap_seen) {
		/* Fork-inherited sockets show up once per holder in the task pass. */
		uint64_t *n = realloc(c->seen, 2 * c->cap_seen * sizeof(*n));

		if (n) {
			c->seen = n;
			c->cap_seen *= 2;
		} else {
			c->seen_overflow = true;
		}
	}
	if (c->seen && c->n_seen < c->cap_seen)
		c->seen[c->n_seen++] = rec.sock.cookie;
	if (c->reconcile) {
		struct ledger_sock *s = ledger__find(c->d->ledger, ev.sock.cookie);

		if (!s || s->listening != ev.sock.listening ||
		    memcmp(&s->key, &ev.sock.key, sizeof(s->key))) {
			c->added++;
			journal_reconciled(c->d, PW_REC_INVENTORY, &ev);
		}
	}
	if (!c->journal) {
		ledger__upsert(c->d->ledger, &ev.sock, NULL);
		return;
	}
	handle_event(c->d, &ev);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int daemon__reconcile(struct daemon *d, const char *why)
{
	struct inv_ctx c = { .d = d, .reconcile = true };
	struct ledger_sock *s, *tmp;
	size_t before, removed = 0;
	bool tracked = false;
	json_t *o;
	int err;

	/* Records already queued are older than the pass: apply them first. */
	if (d->rb)
		drain_ringbuf(d, d->rb);
	before = d->ledger->n_socks;
	c.cap_seen = d->ledger->max_socks + 1024;
	c.seen = calloc(c.cap_seen, sizeof(*c.seen));
	c.procs = inventory__scan_procs();
	if (!c.seen) {
		inventory__procs_free(c.procs);
		return -ENOMEM;
	}
	err = loader__inventory(d->loader, on_inventory, &c);
	/*
	 * Bound-only TCP sockets are invisible to iter/tcp: the task_file pass
	 * finds them (marked by the hooks, or TCP CLOSE with a bound port).
	 */
	if (!err)
		tracked = !loader__tracked(d->loader, on_inventory, &c);
	if (!err && !c.seen_overflow) {
		qsort(c.seen, c.n_seen, sizeof(*c.seen), cmp_u64);
		/* Sweep what the passes could see but did not: closed while lost. */
		HASH_ITER(hh, d->ledger->socks, s, tmp) {
			if (!tracked && s->key.proto == IPPROTO_TCP && !s->listening)
				continue;
			if (!bsearch(&s->cookie, c.seen, c.n_seen, sizeof(*c.seen), cmp_u64)) {
				struct pw_ev ev = { .wall_ns = pw_now_wall_ns(), .sock = *s };

				journal_reconciled(d, PW_REC_CLOSE, &ev);
				ledger__remove(d->ledger, s->cookie);
				removed++;
			}
		}
	}
	free(c.seen);
	inventory__procs_free(c.procs);
	if (!err)
		store__reconcile(d->store, d->ledger, pw_now_wall_ns());
	d->reconciliations++;
	d->last_reconcile_ns = pw_now_wall_ns();
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "type", "reconcile", "reason", why,
		      "sockets_before", (json_int_t)before, "sockets_after",
		      (json_int_t)d->ledger->n_socks, "removed", (json_int_t)removed, "added",
		      (json_int_t)c.added);
	if (o)
		pw_json_set_time(o, "time", pw_now_wall_ns());
	journal__emit(d->journal, o);
	return err;
}

static void journal_loss(struct daemon *d, const char *kind, unsigned int src, uint64_t n,
			 uint64_t total)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "type", "loss", "kind", kind, "source",
			      events__source_name(src), "lost", (json_int_t)n, "lost_total",
			      (json_int_t)total);

	if (o)
		pw_json_set_time(o, "time", pw_now_wall_ns());
	journal__emit(d->journal, o);
}

/*
 * Ring-buffer reserve failures (kind "reserve") and records the reader
 * rejected (kind "rejected") since the last tick mean the ledger may be
 * wrong: say so, then re-synchronise it with a fresh iterator pass.
 */
static void check_losses(struct daemon *d)
{
	bool lost = false;

	for (unsigned int src = 0; src < PW_SRC_MAX; src++) {
		uint64_t n = loader__drops(d->loader, src);

		if (n != d->lost_seen[src]) {
			journal_loss(d, "reserve", src, n - d->lost_seen[src], n);
			d->lost_seen[src] = n;
			lost = true;
		}
	}
	for (unsigned int src = 0; src <= PW_SRC_MAX; src++) {
		uint64_t n = d->stats.rejected[src];

		if (n != d->rejected_seen[src]) {
			journal_loss(d, "rejected", src, n - d->rejected_seen[src], n);
			d->rejected_seen[src] = n;
			lost = true;
		}
	}
	if (lost) {
		int err = daemon__reconcile(d, "ring buffer loss");

		if (err)
			pr_warn("failed to reconcile the ledger: %s\n", strerror(-err));
	}
}

/*
 * Even without a reported loss the ledger can drift (a hook tier that cannot
 * see some close, a socket that predates us): re-check it now and then.
 */
static void periodic_reconcile(struct daemon *d)
{
	int64_t now = pw_now_wall_ns();
	int err;

	if (!d->opts.reconcile_interval_ns)
		return;
	if (!d->last_reconcile_ns) {
		d->last_reconcile_ns = now;
		return;
	}
	if (now - d->last_reconcile_ns < d->opts.reconcile_interval_ns)
		return;
	err = daemon__reconcile(d, "periodic");
	if (err)
		pr_warn("failed to reconcile the ledger: %s\n", strerror(-err));
}

static json_t *ready_json(struct daemon *d)
{
	json_t *tiers = json_object();
	json_t *o;

	for (int f = 0; f < PW_FAM_MAX; f++) {
		char t[2] = { pw_tier_letter(loader__tier(d->loader, f)), 0 };

		json_object_set_new(tiers, pw_family_name_of(f), json_string(t));
	}
	o = json_pack("{s:s, s:s, s:I, s:o}", "type", "ready", "version", PW_VERSION, "sockets",
		      (json_int_t)d->ledger->n_socks, "tiers", tiers);
	if (o && d->http)
		json_object_set_new(o, "http", json_string(http__address(d->http)));
	if (o)
		pw_json_set_time(o, "time", pw_now_wall_ns());
	return o;
}

static void journal_finding_sink(void *ctx, const struct pw_finding *f, bool ended)
{
	journal__emit(ctx, pw_finding_json(f, ended));
}

static void journal_emit_fn(void *ctx, json_t *o)
{
	journal__emit(ctx, o);
}

/*
 * Reuseport groups, once a tick: per-member counters -> sliding window ->
 * reuseport_group lines and the reuseport_skew detector. The detector works
 * on groups, not on dirty ports, so it runs from here rather than from the
 * per-port dispatcher (detect.c).
 */
static void reuseport_tick(struct daemon *d)
{
	struct timespec ts;
	int64_t mono;
	int err;

	if (!d->rp)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	err = rp_groups__tick(d->rp, d->ledger, mono);
	if (err && rp_groups__stats(d->rp)->read_errors == 1)
		pr_warn("failed to read the reuseport counters: %s\n", strerror(-err));
	rp_groups__journal(d->rp, journal_emit_fn, d->journal, mono);
	detect_reuseport_skew__run(d->findings, d->ledger, d->rp, &d->opts.rp,
				   pw_tier_letter(loader__tier(d->loader, PW_FAM_REUSEPORT)),
				   pw_now_wall_ns());
}

int daemon__init(struct daemon *d, const struct daemon_opts *opts)
{
	struct store_opts so = opts->store;
	struct inv_ctx c = { .d = d, .journal = !opts->quiet_existing };
	int err;

	memset(d, 0, sizeof(*d));
	d->opts = *opts;
	/* A bad config file stops the start here, before anything is opened. */
	err = daemon__config_load(d);
	if (err)
		return err;
	c.journal = !d->opts.quiet_existing;
	if (!d->opts.max_socks)
		d->opts.max_socks = 262144;
	if (!d->opts.poll_ms)
		d->opts.poll_ms = 100;
	d->started_ns = pw_now_wall_ns();
	d->unpriv_port_start = read_unpriv_port_start();
	metrics__init(&d->metrics, &opts->http.metrics);
	err = journal__open(d->opts.events_path, &d->journal);
	if (err) {
		pr_err("failed to open events file '%s': %s\n", d->opts.events_path,
		       strerror(-err));
		return err;
	}
	d->ledger = ledger__new(d->opts.max_socks);
	d->findings = findings__new();
	d->sweep = pending_sweep__new();
	if (!d->ledger || !d->findings || !d->sweep)
		return -ENOMEM;
	findings__add_sink(d->findings, journal_finding_sink, d->journal);
	err = daemon__detect_init(d);
	if (err)
		return err;
	/* The history: --db and friends over [store]. Only a bad option fails here:
	 * an unusable database is logged, counted and retried by the store. */
	store_config__apply(&d->config.store, &so);
	err = store__open(&so, &d->store);
	if (err) {
		pr_err("failed to start the history store: %s\n", strerror(-err));
		return err;
	}
	if (d->store)
		findings__add_sink(d->findings, store__finding_sink, d->store);
	err = daemon__enforce_prepare(d);
	if (err)
		return err;
	err = loader__open(&d->opts.loader, &d->loader);
	if (err)
		return err;
	err = daemon__enforce_start(d);
	if (err)
		return err;
	for (int f = 0; f < PW_FAM_MAX; f++)
		pr_info("hook family %s: tier %c\n", pw_family_name_of(f),
			pw_tier_letter(loader__tier(d->loader, f)));
	d->rp = rp_groups__new(&d->opts.rp);
	if (!d->rp)
		return -ENOMEM;
	rp_groups__set_maps(d->rp, loader__map_fd(d->loader, PW_FAM_REUSEPORT, "reuseport_hits"),
			    loader__map_fd(d->loader, PW_FAM_REUSEPORT, "reuseport_sources"),
			    loader__map_fd(d->loader, PW_FAM_REUSEPORT, "reuseport_misses"));
	/* Start-up inventory of the sockets that already exist. */
	c.procs = inventory__scan_procs();
	err = loader__inventory(d->loader, on_inventory, &c);
	/* Bound-only TCP sockets that predate us: only the task_file pass sees them. */
	if (!err && loader__tracked(d->loader, on_inventory, &c))
		pr_warn("bound-only TCP sockets that predate the daemon are not inventoried\n");
	inventory__procs_free(c.procs);
	if (err)
		pr_warn("inventory failed: %s\n", strerror(-err));
	else
		store__reconcile(d->store, d->ledger, pw_now_wall_ns());
	detect__flush(d->detect, pw_now_wall_ns());
	err = http__start(d, &opts->http, &d->http);
	if (err)
		return err;
	journal__emit(d->journal, ready_json(d));
	journal__flush(d->journal); /* whoever waits for "ready" sees it now */
	return 0;
}

int daemon__run(struct daemon *d)
{
	struct itimerspec tick = { { TICK_MS / 1000, 0 }, { TICK_MS / 1000, 0 } };
	struct ring_buffer *rb = NULL;
	int ep = -1, sfd = -1, tfd = -1, err = 0;
	struct epoll_event ev = { .events = EPOLLIN };
	bool more = false;
	sigset_t mask;

	rb = ring_buffer__new(loader__events_fd(d->loader), on_ringbuf, d, NULL);
	if (!rb) {
		err = -errno;
		pr_err("failed to create ring buffer reader: %s\n", strerror(-err));
		goto cleanup;
	}
	d->rb = rb;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0) {
		err = -errno;
		pr_err("failed to set up the event loop: %s\n", strerror(-err));
		goto cleanup;
	}
	timerfd_settime(tfd, 0, &tick, NULL);
	ev.data.fd = ring_buffer__epoll_fd(rb);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	http__attach(d->http, ep);

	while (!d->stop) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, more ? 0 : http__timeout_ms(d->http, d->opts.poll_ms));

		if (n < 0 && errno != EINTR) {
			err = -errno;
			pr_err("failed to wait for events: %s\n", strerror(-err));
			break;
		}
		/* The BPF side rarely wakes us (see pw_submit): always drain. */
		more = drain_ringbuf(d, rb);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						owner__flush_cache();
						daemon__detect_reload(d);
						daemon__enforce_reload(d);
					} else {
						d->stop = true;
					}
				}
			} else if (evs[i].data.fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) > 0) {
					check_losses(d);
					pending_sweep__run(d->sweep,
							   loader__pending_fd(d->loader),
							   pw_now_boot_ns(), on_swept_attempt, d);
					periodic_reconcile(d);
					journal__emit(d->journal, store__status_change(d->store));
					detect__tick(d->detect, pw_now_wall_ns());
					reuseport_tick(d);
					http__tick(d->http);
				}
			}
		}
		/* Scrapes are served between event batches: no lock on the ledger. */
		http__run(d->http);
		journal__flush(d->journal);
	}
	drain_ringbuf(d, rb); /* bounded: a flood must not hold up the exit */
cleanup:
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	d->rb = NULL;
	ring_buffer__free(rb);
	return err;
}

void daemon__fini(struct daemon *d)
{
	http__stop(d->http);
	d->http = NULL;
	loader__destroy(d->loader);
	daemon__enforce_stop(d);
	d->loader = NULL;
	ledger__free(d->ledger);
	d->ledger = NULL;
	pending_sweep__free(d->sweep);
	d->sweep = NULL;
	daemon__detect_fini(d);
	rp_groups__free(d->rp);
	d->rp = NULL;
	findings__free(d->findings);
	d->findings = NULL;
	store__close(d->store);
	d->store = NULL;
	journal__close(d->journal);
	d->journal = NULL;
}
