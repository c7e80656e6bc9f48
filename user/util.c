// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include "util.h"

int pw_parse_long(const char *s, long min, long max, long *ret_val)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret_val = v;
	return 0;
}

int pw_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int pw_parse_double(const char *s, double min, double max, double *ret)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -EINVAL;
	*ret = v;
	return 0;
}

int pw_foreach_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *e;

		while (isspace((unsigned char)*tok))
			tok++;
		e = tok + strlen(tok);
		while (e > tok && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*tok)
			continue;
		rc = fn(ctx, tok);
		if (rc)
			break;
	}
	free(copy);
	return rc;
}

int pw_parse_proto(const char *s, uint8_t *ret_proto)
{
	if (!strcmp(s, "tcp"))
		*ret_proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*ret_proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

int pw_parse_port_proto(const char *s, uint16_t *ret_port, uint8_t *ret_proto)
{
	char buf[32];
	char *slash;
	long port;
	int err;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*ret_proto = 0;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		err = pw_parse_proto(slash + 1, ret_proto);
		if (err)
			return err;
	}
	err = pw_parse_long(buf, 1, 65535, &port);
	if (err)
		return err;
	*ret_port = (uint16_t)port;
	return 0;
}

int pw_parse_duration(const char *s, int64_t *ret_secs)
{
	char num[32];
	size_t n = strlen(s);
	long mult = 1, v;
	int err;

	if (!n || n >= sizeof(num))
		return -EINVAL;
	strcpy(num, s);
	switch (num[n - 1]) {
	case 's': mult = 1; num[n - 1] = '\0'; break;
	case 'm': mult = 60; num[n - 1] = '\0'; break;
	case 'h': mult = 3600; num[n - 1] = '\0'; break;
	case 'd': mult = 86400; num[n - 1] = '\0'; break;
	default: break;
	}
	err = pw_parse_long(num, 0, 100L * 365 * 86400 / mult, &v);
	if (err)
		return err;
	*ret_secs = (int64_t)v * mult;
	return 0;
}

static int parse_digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*ret = v;
	return 0;
}

static int expect(const char **p, const char *chars)
{
	if (!**p || !strchr(chars, **p))
		return -EINVAL;
	(*p)++;
	return 0;
}

/* The largest |seconds| whose nanoseconds fit an int64_t (2262-04-11). */
#define PW_TIME_MAX_SECS 9223372035L

int pw_parse_time(const char *s, int64_t *ret_ns)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0;
	int64_t frac = 0, scale = 1000000000;
	const char *p = s;
	struct tm tm = {};
	time_t t;

	if (s[0] == '@') {
		long v;

		/* Nanoseconds in an int64_t end in 2262. */
		if (pw_parse_long(s + 1, 0, PW_TIME_MAX_SECS, &v))
			return -EINVAL;
		*ret_ns = (int64_t)v * 1000000000;
		return 0;
	}
	if (parse_digits(&p, 4, &Y) || expect(&p, "-") || parse_digits(&p, 2, &M) ||
	    expect(&p, "-") || parse_digits(&p, 2, &D) || expect(&p, "Tt ") ||
	    parse_digits(&p, 2, &h) || expect(&p, ":") || parse_digits(&p, 2, &m) ||
	    expect(&p, ":") || parse_digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (parse_digits(&p, 2, &oh) || expect(&p, ":") || parse_digits(&p, 2, &om))
			return -EINVAL;
		oh *= sign;
		om *= sign;
	} else {
		return -EINVAL;
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || oh > 23 ||
	    oh < -23 || om > 59 || om < -59)
		return -EINVAL;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	t -= oh * 3600 + om * 60;
	if (t < -PW_TIME_MAX_SECS || t > PW_TIME_MAX_SECS)
		return -ERANGE;
	*ret_ns = (int64_t)t * 1000000000 + frac;
	return 0;
}

void pw_format_time(int64_t ns, char *buf, size_t len)
{
	/* Every event line has one or two: format each second once per thread. */
	static __thread time_t cached_t = -1;
	static __thread char cached[32];
	time_t t = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	size_t n;

	if (frac < 0) {
		frac += 1000000000;
		t -= 1;
	}
	if (t != cached_t) {
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		cached_t = t;
	}
	n = strlen(cached);
	if (n + 12 > len) {
		snprintf(buf, len, "%s.%09ldZ", cached, frac);
		return;
	}
	/* "YYYY-MM-DDTHH:MM:SS" + ".nnnnnnnnnZ", the nanoseconds by hand. */
	memcpy(buf, cached, n);
	buf[n] = '.';
	for (int i = 9; i >= 1; i--, frac /= 10)
		buf[n + i] = (char)('0' + frac % 10);
	buf[n + 10] = 'Z';
	buf[n + 11] = '\0';
}

const char *pw_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "unknown";
}

const char *pw_family_name(uint8_t family)
{
	return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "unknown";
}

void pw_format_addr(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	/* IPv4 by hand: glibc's inet_ntop4 goes through sprintf (every event line). */
	if (family != AF_INET6 && len >= 16) {
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			unsigned int v = addr[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

int pw_parse_addr(const char *s, uint8_t *ret_family, uint8_t *ret_addr)
{
	memset(ret_addr, 0, 16);
	if (inet_pton(AF_INET, s, ret_addr) == 1) {
		*ret_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ret_addr) == 1) {
		*ret_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

bool pw_addr_is_wildcard(uint8_t family, const uint8_t *addr)
{
	size_t n = family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		if (addr[i])
			return false;
	return true;
}

bool pw_addr_is_v4mapped(uint8_t family, const uint8_t *addr)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return family == AF_INET6 && !memcmp(addr, prefix, sizeof(prefix));
}

int64_t pw_now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t pw_now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t pw_boot_to_wall_ns(uint64_t boot_ns)
{
	uint64_t now_boot = pw_now_boot_ns();
	int64_t now_wall = pw_now_wall_ns();

	/* A timestamp from the future or before the epoch is corrupt: use now. */
	if (boot_ns > now_boot || now_boot - boot_ns > (uint64_t)now_wall)
		return now_wall;
	return now_wall - (int64_t)(now_boot - boot_ns);
}

const char *pw_errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "";
	case EADDRINUSE: return "EADDRINUSE";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	default: return "EOTHER";
	}
}
