// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Load for bench/reuseport.sh: a 4-member SO_REUSEPORT group on 127.0.0.1 and
 * a client driving it for SECS seconds. Prints the rate the group received:
 *   rp_load udp SECS   datagrams per second read by the group (many source ports)
 *   rp_load tcp SECS   connections per second accepted by the group
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEMBERS 4

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int member(int type, struct sockaddr_in *a)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK, 0), one = 1;
	socklen_t len = sizeof(*a);

	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
	    (type == SOCK_STREAM && listen(fd, 4096))) {
		perror("member");
		exit(1);
	}
	getsockname(fd, (struct sockaddr *)a, &len);
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int type, secs, fds[MEMBERS], status;
	double t1, end;
	pid_t pid;

	if (argc != 3 || (strcmp(argv[1], "udp") && strcmp(argv[1], "tcp")))
		return fprintf(stderr, "usage: rp_load udp|tcp SECS\n"), 2;
	type = strcmp(argv[1], "udp") ? SOCK_STREAM : SOCK_DGRAM;
	secs = atoi(argv[2]);
	for (int i = 0; i < MEMBERS; i++)
		fds[i] = member(type, &a); /* the first bind picks the port */
	t1 = now() + secs;
	end = t1 + 0.2; /* the server drains a little longer than the client sends */
	fflush(stdout);
	pid = fork();
	if (!pid) { /* the server: drain every member, then print the rate */
		struct pollfd p[MEMBERS];
		unsigned long n = 0;
		char buf[64];
		int c;

		for (int i = 0; i < MEMBERS; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		while (now() < end) {
			poll(p, MEMBERS, 20);
			for (int i = 0; i < MEMBERS; i++) {
				if (type == SOCK_DGRAM)
					while (recv(fds[i], buf, sizeof(buf), 0) > 0)
						n++;
				else
					while ((c = accept(fds[i], NULL, NULL)) >= 0) {
						close(c);
						n++;
					}
			}
		}
		printf("%s %.0f\n", type == SOCK_DGRAM ? "udp_pps" : "tcp_cps", n / (double)secs);
		fflush(stdout);
		_exit(0);
	}
	if (type == SOCK_DGRAM) {
		/* 256 source ports, round robin: the hash spreads them */
		int cl[256];

		for (int i = 0; i < 256; i++)
			cl[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		while (now() < t1) {
			for (int k = 0; k < 256; k++)
				sendto(cl[k], "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
		}
	} else {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		while (now() < t1) {
			int c = socket(AF_INET, SOCK_STREAM, 0);

			connect(c, (struct sockaddr *)&a, sizeof(a));
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c);
		}
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
