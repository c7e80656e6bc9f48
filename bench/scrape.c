// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Scrape latency (issue #5): a ledger of N sockets (default 50000) of which
 * G reuseport groups (default 1000, 8 members each, with delivery counts),
 * rendered by metrics__render and served over loopback HTTP by the real
 * endpoint (http.c) in this process's event loop, as in the daemon.
 * Prints median and p99 of the render time and of a full GET /metrics.
 * Usage: scrape [SOCKETS] [GROUPS] [SCRAPES]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "http.h"
#include "metrics.h"
#include "rp_groups.h"

#define MEMBERS 8

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	printf("%-28s median %8.3f ms   p99 %8.3f ms   max %8.3f ms\n", what, v[n / 2] * 1e3,
	       v[(n * 99) / 100] * 1e3, v[n - 1] * 1e3);
}

struct client {
	uint16_t port;
	int scrapes;
	double *lat;
	size_t bytes;
	volatile int done;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c->port) };
	static char buf[1 << 20];
	const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n";
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		exit(1);
	}
	/* One keep-alive connection, as Prometheus scrapes. */
	for (int i = 0; i < c->scrapes; i++) {
		double t0 = now_s();
		size_t got = 0, want = 0;
		char *hdr_end = NULL;

		if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
			exit(1);
		while (!want || got < want) {
			ssize_t r = read(fd, buf + got, sizeof(buf) - got);

			if (r <= 0)
				exit(1);
			got += (size_t)r;
			if (!want && (hdr_end = memmem(buf, got, "\r\n\r\n", 4))) {
				char *cl = strcasestr(buf, "Content-Length:");

				if (!cl)
					exit(1);
				want = (size_t)(hdr_end + 4 - buf) + strtoul(cl + 15, NULL, 10);
			}
		}
		c->lat[i] = now_s() - t0;
		c->bytes = want;
	}
	close(fd);
	c->done = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	int nsock = argc > 1 ? atoi(argv[1]) : 50000, ngroups = argc > 2 ? atoi(argv[2]) : 1000;
	int scrapes = argc > 3 ? atoi(argv[3]) : 50;
	struct http_opts ho = { .listen = "127.0.0.1:0" };
	struct client c = { .scrapes = scrapes };
	struct rp_config rc;
	struct daemon d;
	double *lat = calloc(scrapes, sizeof(*lat));
	pthread_t th;
	int ep, in_groups = ngroups * MEMBERS;
	char *buf;
	size_t len;

	memset(&d, 0, sizeof(d));
	metrics__init(&d.metrics, NULL);
	d.ledger = ledger__new((size_t)nsock + 1);
	d.findings = findings__new();
	rp_config__defaults(&rc);
	rc.max_groups = (unsigned int)ngroups + 16;
	d.rp = rp_groups__new(&rc);
	for (int i = 0; i < nsock; i++) {
		struct ledger_sock s = { .cookie = (uint64_t)i + 1, .family = AF_INET };

		s.key.netns = 4026531840u;
		s.key.proto = i % 3 ? IPPROTO_TCP : IPPROTO_UDP;
		s.listening = s.key.proto == IPPROTO_TCP;
		s.owner.uid = 1000 + i % 7;
		s.owner.tgid = 100 + i / MEMBERS;
		if (i < in_groups) {
			/* A group: MEMBERS sockets of one owner on one port, SO_REUSEPORT. */
			s.key.proto = IPPROTO_TCP;
			s.listening = true;
			s.key.port = (uint16_t)(10000 + i / MEMBERS);
			s.flags = PW_F_REUSEPORT | PW_F_GROUP;
			s.owner.uid = 1000;
			s.owner.tgid = 100 + i / MEMBERS;
		} else {
			s.key.port = (uint16_t)(20000 + (i % 40000));
		}
		ledger__upsert(d.ledger, &s, NULL);
	}
	rp_groups__refresh(d.rp, d.ledger);
	for (int i = 0; i < in_groups; i++)
		rp_groups__add(d.rp, (uint64_t)i + 1, 100 + (uint64_t)(i % MEMBERS) * 10);
	rp_groups__tick(d.rp, d.ledger, (int64_t)(now_s() * 1e9));
	printf("ledger: %zu sockets, %zu ports, %zu reuseport groups\n", d.ledger->n_socks,
	       (size_t)HASH_COUNT(d.ledger->ports), rp_groups__count(d.rp));

	for (int i = 0; i < scrapes; i++) {
		double t0 = now_s();

		if (metrics__render(&d, &buf, &len))
			return 1;
		lat[i] = now_s() - t0;
		free(buf);
	}
	printf("exposition: %zu bytes\n", len);
	report("metrics__render", lat, scrapes);

	if (http__start(&d, &ho, &d.http) || !d.http)
		return 1;
	ep = epoll_create1(0);
	http__attach(d.http, ep);
	c.port = (uint16_t)atoi(strrchr(http__address(d.http), ':') + 1);
	c.lat = lat;
	pthread_create(&th, NULL, client_main, &c);
	while (!c.done) {
		struct epoll_event ev;

		epoll_wait(ep, &ev, 1, http__timeout_ms(d.http, 100));
		http__run(d.http);
	}
	pthread_join(th, NULL);
	report("GET /metrics (keep-alive)", lat, scrapes);
	http__stop(d.http);
	rp_groups__free(d.rp);
	findings__free(d.findings);
	ledger__free(d.ledger);
	free(lat);
	return 0;
}
