// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <microhttpd.h>
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "ports_view.h"
#include "pw_config.h"
#include "util.h"

#define DEFAULT_MAX_CONNS 64
#define DEFAULT_TIMEOUT_S 10
#define DEFAULT_CONN_MEMORY (32 * 1024)
#define LISTEN_BACKLOG 64
#define RECENT_FINDINGS 128
#define RETRY_LOG_EVERY_S 60

struct http {
	struct daemon *d;
	struct http_opts o;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct MHD_Daemon *mhd;
	int epfd;   /* the daemon's epoll, -1 until attached */
	int mhd_fd; /* MHD's epoll fd, -1 until listening */
	char addr[PW_HTTP_LISTEN_LEN];
	unsigned int retries;
	int *conn_fds; /* open connections (bounded by max_conns), for a clean stop */
	unsigned int n_conn_fds;
	/* Ended findings, newest last, for /findings. */
	json_t *recent[RECENT_FINDINGS];
	size_t recent_next, n_recent;
};

/* ---- listen address ---------------------------------------------------- */

int http__parse_listen(const char *s, bool allow_wildcard, struct sockaddr_storage *ret_sa,
		       socklen_t *ret_len, char *err, size_t errlen)
{
	char host[PW_HTTP_LISTEN_LEN];
	const char *port_s;
	uint8_t family, addr[16];
	long port;

	if (!s || !*s)
		s = PW_HTTP_DEFAULT_LISTEN;
	if (strlen(s) >= sizeof(host))
		goto bad;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		memcpy(host, s + 1, close - s - 1);
		host[close - s - 1] = '\0';
		port_s = close + 2;
		if (!strchr(host, ':'))
			goto bad;
	} else {
		const char *colon = strrchr(s, ':');

		/* A bare IPv6 address needs brackets: "[::1]:9742". */
		if (!colon || strchr(s, ':') != colon)
			goto bad;
		memcpy(host, s, colon - s);
		host[colon - s] = '\0';
		port_s = colon + 1;
	}
	if (pw_parse_addr(host, &family, addr) || pw_parse_long(port_s, 0, 65535, &port))
		goto bad;
	if (pw_addr_is_wildcard(family, addr) && !allow_wildcard) {
		snprintf(err, errlen,
			 "refusing to listen on the wildcard address '%s': the metrics endpoint "
			 "would be reachable from every network and its port open to shadowing; "
			 "give --listen-allow-wildcard (allow_wildcard = yes in [http]) to insist",
			 s);
		return -EPERM;
	}
	memset(ret_sa, 0, sizeof(*ret_sa));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ret_sa;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, addr, 4);
		*ret_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret_sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, addr, 16);
		*ret_len = sizeof(*in6);
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid listen address '%s': expected ADDR:PORT, e.g. "
		 "127.0.0.1:9742 or [::1]:9742", s);
	return -EINVAL;
}

static void format_sa(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

/*
 * Our own listener, so that nothing sets SO_REUSEADDR or SO_REUSEPORT on it:
 * with either, a socket of the same (or, for TIME_WAIT leftovers, any) uid
 * could share or take over the metrics port, the attack we warn about.
 */
static int listener_open(struct http *h, int *ret_fd)
{
	int fd, off = 0, err;

	fd = socket(h->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* [::] means both families: holding both leaves no IPv4 gap to a stranger. */
	if (h->sa.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		goto fail;
	if (bind(fd, (struct sockaddr *)&h->sa, h->salen) || listen(fd, LISTEN_BACKLOG))
		goto fail;
	*ret_fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* ---- request handling -------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", (char *)text, strlen(text),
		     MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned int status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(o);
	if (!s)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	/* A trailing newline keeps `curl | jq` and line readers happy. */
	len = strlen(s);
	s = realloc(s, len + 2);
	if (!s)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	s[len++] = '\n';
	s[len] = '\0';
	return reply(c, status, "application/json", s, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result json_error(struct MHD_Connection *c, const char *fmt, const char *arg)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, arg);
	return reply_json(c, MHD_HTTP_BAD_REQUEST, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result serve_metrics(struct http *h, struct MHD_Connection *c)
{
	char *buf;
	size_t len;

	if (metrics__render(h->d, &buf, &len))
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(c, MHD_HTTP_OK, PW_METRICS_CONTENT_TYPE, buf, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result serve_ports(struct http *h, struct MHD_Connection *c)
{
	struct ports_filter f = {};
	const char *v;
	long n;

	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "netns");
	if (v) {
		if (pw_parse_long(v, 1, UINT32_MAX, &n))
			return json_error(c, "invalid netns '%s': an inode number", v);
		f.netns = (uint32_t)n;
	}
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "port");
	if (v) {
		if (pw_parse_long(v, 1, 65535, &n))
			return json_error(c, "invalid port '%s': 1 to 65535", v);
		f.port = (uint16_t)n;
	}
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "proto");
	if (v && pw_parse_proto(v, &f.proto))
		return json_error(c, "invalid proto '%s': tcp or udp", v);
	return reply_json(c, MHD_HTTP_OK, ports_view__json(h->d->ledger, &f));
}

static void add_active(void *ctx, struct pw_finding *f)
{
	json_array_append_new(ctx, pw_finding_json(f, false));
}

static enum MHD_Result serve_findings(struct http *h, struct MHD_Connection *c)
{
	json_t *active = json_array(), *recent = json_array();
	size_t first = (h->recent_next + RECENT_FINDINGS - h->n_recent) % RECENT_FINDINGS;

	findings__foreach_active(h->d->findings, add_active, active);
	for (size_t i = 0; i < h->n_recent; i++)
		json_array_append(recent, h->recent[(first + i) % RECENT_FINDINGS]);
	return reply_json(c, MHD_HTTP_OK,
			  json_pack("{s:o, s:o}", "active", active, "recent", recent));
}

static const char index_page[] =
	"<html><head><title>portwarden</title></head><body>\n"
	"<h1>portwarden " PW_VERSION "</h1>\n"
	"<ul><li><a href=\"/metrics\">/metrics</a> Prometheus metrics</li>\n"
	"<li><a href=\"/healthz\">/healthz</a></li>\n"
	"<li><a href=\"/ports\">/ports</a> owners per port (JSON; ?netns=&amp;port=&amp;proto=)</li>\n"
	"<li><a href=\"/findings\">/findings</a> active and recent findings (JSON)</li></ul>\n"
	"</body></html>\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int headers_seen;
	struct http *h = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

	/* Refuse other methods at once, before reading any request body. */
	if (!get)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!*req_cls) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* A GET with a body: not ours to read. */
		*upload_data_size = 0;
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "GET takes no body\n");
	}
	if (!strcmp(url, "/metrics"))
		return serve_metrics(h, c);
	if (!strcmp(url, "/healthz"))
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/ports"))
		return serve_ports(h, c);
	if (!strcmp(url, "/findings"))
		return serve_findings(h, c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/*
 * Remember the open connections. At stop they are reset (SO_LINGER 0) rather
 * than closed: a close leaves TIME_WAIT on our port, and since we do not set
 * SO_REUSEADDR the next run could not bind it for a minute, while any uid
 * that sets SO_REUSEADDR could (DESIGN §1). Prometheus keeps its scrape
 * connection open, so this is the common case at restart.
 */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct http *h = cls;

	if (!ci)
		return;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if (h->n_conn_fds < h->o.max_conns)
			h->conn_fds[h->n_conn_fds++] = ci->connect_fd;
		return;
	}
	for (unsigned int i = 0; i < h->n_conn_fds; i++) {
		if (h->conn_fds[i] == ci->connect_fd) {
			h->conn_fds[i] = h->conn_fds[--h->n_conn_fds];
			break;
		}
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Client misbehaviour is routine for a network server: debug level. */
	pr_debug("http: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

void http__finding_sink(void *ctx, const struct pw_finding *f, bool ended)
{
	struct http *h = ctx;
	json_t *o;

	if (!ended)
		return;
	o = pw_finding_json(f, true);
	if (!o)
		return;
	json_decref(h->recent[h->recent_next]);
	h->recent[h->recent_next] = o;
	h->recent_next = (h->recent_next + 1) % RECENT_FINDINGS;
	if (h->n_recent < RECENT_FINDINGS)
		h->n_recent++;
}

/* ---- lifecycle --------------------------------------------------------- */

static void add_to_epoll(struct http *h)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (h->epfd < 0 || h->mhd_fd < 0)
		return;
	ev.data.fd = h->mhd_fd;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->mhd_fd, &ev))
		pr_warn("failed to add the HTTP endpoint to the event loop: %s\n",
			strerror(errno));
}

/* 0 when serving, -EADDRINUSE to retry later, another -errno to give up. */
static int try_listen(struct http *h)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char want[PW_HTTP_LISTEN_LEN];
	int fd = -1, err;

	format_sa(&h->sa, want, sizeof(want));
	err = listener_open(h, &fd);
	if (err == -EADDRINUSE) {
		if (h->retries++ % RETRY_LOG_EVERY_S == 0)
			pr_warn("HTTP endpoint %s: address in use, retrying every second (we do not "
				"set SO_REUSEADDR: connections of a previous run in TIME_WAIT, or "
				"another process holds the port)\n",
				want);
		return err;
	}
	if (err) {
		pr_err("failed to listen on '%s': %s\n", want, strerror(-err));
		return err;
	}
	h->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, h->o.max_conns,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->o.max_conns_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, h->o.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		h->o.conn_memory, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		pr_err("failed to start the HTTP server on '%s'\n", want);
		return -EIO;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		MHD_stop_daemon(h->mhd);
		h->mhd = NULL;
		return -EIO;
	}
	h->mhd_fd = info->epoll_fd;
	if (!getsockname(fd, (struct sockaddr *)&bound, &blen))
		format_sa(&bound, h->addr, sizeof(h->addr));
	pr_info("HTTP endpoint on http://%s/metrics\n", h->addr);
	add_to_epoll(h);
	return 0;
}

/* [http] of --config FILE under the command line: a flag wins over the file. */
static int merge_config_file(const char *path, struct http_opts *o)
{
	char err[PW_CONFIG_ERR_LEN];
	struct pw_config cfg;
	const struct http_opts *f = &cfg.http;

	if (!path)
		return 0;
	if (pw_config__load(path, &cfg, err, sizeof(err))) {
		pr_err("%s\n", err);
		return -EINVAL;
	}
	if (!o->listen[0])
		memcpy(o->listen, f->listen, sizeof(o->listen));
	o->allow_wildcard |= f->allow_wildcard;
	o->disabled |= f->disabled;
	if (!o->max_conns)
		o->max_conns = f->max_conns;
	if (!o->max_conns_per_ip)
		o->max_conns_per_ip = f->max_conns_per_ip;
	if (!o->timeout_s)
		o->timeout_s = f->timeout_s;
	if (!o->conn_memory)
		o->conn_memory = f->conn_memory;
	if (!o->metrics.max_port_series)
		o->metrics.max_port_series = f->metrics.max_port_series;
	if (!o->metrics.max_group_members)
		o->metrics.max_group_members = f->metrics.max_group_members;
	pw_config__free(&cfg);
	return 0;
}

int http__start(struct daemon *d, const struct http_opts *opts, struct http **ret)
{
	struct http_opts merged = *opts, *o = &merged;
	char err_msg[300];
	struct http *h;
	int err;

	*ret = NULL;
	err = merge_config_file(d->opts.config_path, o);
	if (err)
		return err;
	if (o->metrics.max_port_series)
		d->metrics.opts.max_port_series = o->metrics.max_port_series;
	if (o->metrics.max_group_members)
		d->metrics.opts.max_group_members = o->metrics.max_group_members;
	if (o->disabled)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->d = d;
	h->o = *o;
	h->epfd = h->mhd_fd = -1;
	if (!h->o.max_conns)
		h->o.max_conns = DEFAULT_MAX_CONNS;
	/* One client (address) may not take every slot: Prometheus gets in. */
	if (!h->o.max_conns_per_ip)
		h->o.max_conns_per_ip = h->o.max_conns > 1 ? h->o.max_conns / 2 : 1;
	if (!h->o.timeout_s)
		h->o.timeout_s = DEFAULT_TIMEOUT_S;
	if (!h->o.conn_memory)
		h->o.conn_memory = DEFAULT_CONN_MEMORY;
	h->conn_fds = calloc(h->o.max_conns, sizeof(*h->conn_fds));
	if (!h->conn_fds) {
		free(h);
		return -ENOMEM;
	}
	err = http__parse_listen(o->listen, o->allow_wildcard, &h->sa, &h->salen, err_msg,
				 sizeof(err_msg));
	if (err) {
		pr_err("%s\n", err_msg);
		free(h->conn_fds);
		free(h);
		return err;
	}
	err = try_listen(h);
	if (err && err != -EADDRINUSE) {
		free(h->conn_fds);
		free(h);
		return err;
	}
	findings__add_sink(d->findings, http__finding_sink, h);
	*ret = h;
	return 0;
}

void http__stop(struct http *h)
{
	if (!h)
		return;
	if (h->mhd) {
		struct linger reset = { .l_onoff = 1, .l_linger = 0 };

		for (unsigned int i = 0; i < h->n_conn_fds; i++)
			setsockopt(h->conn_fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		MHD_stop_daemon(h->mhd); /* closes the listener and every connection */
	}
	free(h->conn_fds);
	for (size_t i = 0; i < RECENT_FINDINGS; i++)
		json_decref(h->recent[i]);
	free(h);
}

int http__attach(struct http *h, int epfd)
{
	if (!h)
		return 0;
	h->epfd = epfd;
	add_to_epoll(h);
	return 0;
}

void http__run(struct http *h)
{
	if (h && h->mhd)
		MHD_run(h->mhd);
}

int http__timeout_ms(struct http *h, int dflt_ms)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (!h || !h->mhd || MHD_get_timeout(h->mhd, &t) != MHD_YES)
		return dflt_ms;
	return t < (MHD_UNSIGNED_LONG_LONG)dflt_ms ? (int)t : dflt_ms;
}

void http__tick(struct http *h)
{
	if (h && !h->mhd)
		try_listen(h);
}

const char *http__address(const struct http *h)
{
	return h ? h->addr : "";
}

/* ---- [http] config section --------------------------------------------- */

int http__config_section(void *target, const struct pw_config_line *l, char *err, size_t errlen)
{
	struct http_opts *o = target;
	struct sockaddr_storage sa;
	char msg[300];
	socklen_t len;
	int64_t secs;
	bool b;
	long v;

	if (!strcmp(l->key, "listen")) {
		/* The wildcard check waits for allow_wildcard, which may come later. */
		if (http__parse_listen(l->value, true, &sa, &len, msg, sizeof(msg)))
			return config__error(l, err, errlen, "%s", msg);
		snprintf(o->listen, sizeof(o->listen), "%s", l->value);
	} else if (!strcmp(l->key, "allow_wildcard") || !strcmp(l->key, "enabled")) {
		if (pw_parse_bool(l->value, &b))
			return config__error(l, err, errlen, "invalid %s '%s': yes or no", l->key,
					     l->value);
		if (l->key[0] == 'a')
			o->allow_wildcard = b;
		else
			o->disabled = !b;
	} else if (!strcmp(l->key, "max_connections") ||
		   !strcmp(l->key, "max_connections_per_ip")) {
		if (pw_parse_long(l->value, 1, 10000, &v))
			return config__error(l, err, errlen, "invalid %s '%s': 1 to 10000", l->key,
					     l->value);
		if (!strcmp(l->key, "max_connections"))
			o->max_conns = (unsigned int)v;
		else
			o->max_conns_per_ip = (unsigned int)v;
	} else if (!strcmp(l->key, "timeout")) {
		if (pw_parse_duration(l->value, &secs) || secs < 1 || secs > 3600)
			return config__error(l, err, errlen, "invalid timeout '%s': 1s to 1h",
					     l->value);
		o->timeout_s = (unsigned int)secs;
	} else if (!strcmp(l->key, "max_request_bytes")) {
		if (pw_parse_long(l->value, 4096, 1 << 20, &v))
			return config__error(l, err, errlen,
					     "invalid max_request_bytes '%s': 4096 to 1048576",
					     l->value);
		o->conn_memory = (size_t)v;
	} else if (!strcmp(l->key, "max_label_ports") || !strcmp(l->key, "max_group_members")) {
		if (pw_parse_long(l->value, 1, PW_METRICS_CAP_LIMIT, &v))
			return config__error(l, err, errlen, "invalid %s '%s': 1 to %d", l->key,
					     l->value, PW_METRICS_CAP_LIMIT);
		if (!strcmp(l->key, "max_label_ports"))
			o->metrics.max_port_series = (unsigned int)v;
		else
			o->metrics.max_group_members = (unsigned int)v;
	} else {
		return config__error(l, err, errlen,
				     "unknown key '%s' in [http] (listen, allow_wildcard, enabled, "
				     "max_connections, max_connections_per_ip, timeout, "
				     "max_request_bytes, max_label_ports, max_group_members)",
				     l->key);
	}
	return 0;
}

int http_opts__parse_arg(struct http_opts *o, const char *arg)
{
	struct pw_config_line l = { .file = "--http", .line = 0, .section = "http" };
	char key[64], err[PW_CONFIG_ERR_LEN];
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		pr_err("invalid --http '%s': expected KEY=VALUE\n", arg);
		return -EINVAL;
	}
	memcpy(key, arg, eq - arg);
	key[eq - arg] = '\0';
	l.key = key;
	l.value = eq + 1;
	if (http__config_section(o, &l, err, sizeof(err))) {
		/* Skip the "file:line: " prefix, meaningless on the command line. */
		const char *msg = strstr(err, ": ");

		pr_err("invalid --http '%s': %s\n", arg, msg ? msg + 2 : err);
		return -EINVAL;
	}
	return 0;
}
