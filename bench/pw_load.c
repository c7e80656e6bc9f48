// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Load generators for bench/run.sh (#9). Each prints one number.
 *   pw_load getppid SECS          getppid() calls per second
 *   pw_load bindclose SECS        socket()+bind(127.0.0.1:0)+close() per second (UDP)
 *   pw_load paced RATE SECS       the same at RATE per second (sleeps between
 *                                 batches); prints the rate achieved
 *   pw_load hold N                bind N UDP sockets (spread over processes of
 *                                 at most 10000 each: the fd hard limit is
 *                                 20000), print "ready", hold until SIGTERM
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bind_close(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	return close(fd);
}

static int hold(long n)
{
	struct rlimit rl;
	long per = 10000;
	char c;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((long)rl.rlim_cur - 64 < per)
		per = (long)rl.rlim_cur - 64;
	for (long done = 0; done < n; done += per) {
		long k = n - done < per ? n - done : per;
		int p[2];

		if (pipe(p))
			return 1;
		if (fork() == 0) {
			/* One loopback address per child: ephemeral ports are per address. */
			struct sockaddr_in a = { .sin_family = AF_INET,
						 .sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 +
									  done / per) };

			for (long i = 0; i < k; i++) {
				int fd = socket(AF_INET, SOCK_DGRAM, 0);

				if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
					_exit(2);
			}
			close(p[0]);
			if (write(p[1], "r", 1) != 1)
				_exit(3);
			/* Hold until the parent goes away. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			for (;;)
				pause();
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			return 1;
		close(p[0]);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause(); /* SIGTERM ends us, PDEATHSIG the children */
}

int main(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[2]) : 1, t0, t;
	unsigned long n = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: pw_load getppid|bindclose SECS | paced RATE SECS | hold N\n");
		return 2;
	}
	if (!strcmp(argv[1], "hold"))
		return hold(atol(argv[2]));
	t0 = now_s();
	if (!strcmp(argv[1], "getppid")) {
		do {
			for (int i = 0; i < 1000; i++)
				syscall(SYS_getppid);
			n += 1000;
		} while ((t = now_s()) - t0 < secs);
	} else if (!strcmp(argv[1], "bindclose")) {
		do {
			for (int i = 0; i < 100; i++)
				if (bind_close())
					return 1;
			n += 100;
		} while ((t = now_s()) - t0 < secs);
	} else if (!strcmp(argv[1], "paced")) {
		double rate = atof(argv[2]);

		secs = argc > 3 ? atof(argv[3]) : 2;
		do {
			/* Batches of 1 ms worth, then wait for the schedule. */
			long batch = rate / 1000 > 1 ? rate / 1000 : 1;

			for (long i = 0; i < batch; i++)
				if (bind_close())
					return 1;
			n += batch;
			while ((t = now_s()) - t0 < n / rate && t - t0 < secs)
				usleep(200);
		} while ((t = now_s()) - t0 < secs);
	} else {
		return 2;
	}
	printf("%.0f\n", n / (t - t0));
	return 0;
}
