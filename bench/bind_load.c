// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bind()+close() per second on one explicit port (so the cgroup bind hooks
 * run their full path: policy lookup, holder insert, release).
 * Usage: bind_load tcp|udp PORT SECS   -> prints "<binds per second>"
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int type, one = 1;
	double secs, start, end;
	unsigned long n = 0;

	if (argc != 4)
		return 2;
	type = !strcmp(argv[1], "udp") ? SOCK_DGRAM : SOCK_STREAM;
	a.sin_port = htons(atoi(argv[2]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	secs = atof(argv[3]);
	start = now();
	end = start + secs;
	while (1) {
		for (int i = 0; i < 256; i++) {
			int fd = socket(AF_INET, type, 0);

			if (fd < 0)
				return 1;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
				perror("bind");
				return 1;
			}
			close(fd);
			n++;
		}
		if (now() >= end)
			break;
	}
	printf("%.0f\n", n / (now() - start));
	return 0;
}
