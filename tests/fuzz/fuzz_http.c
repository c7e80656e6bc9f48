// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the HTTP endpoint's outside-facing parsers: the listen
 * address (--http listen=..., [http] listen), `--http key=value` arguments
 * and the [http] config section. The first byte picks the parser. A wildcard
 * address must never be accepted unless allowed.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"
#include "log.h"

static bool sa_is_wildcard(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == INADDR_ANY;
	if (sa->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, &in6addr_any,
			       sizeof(in6addr_any));
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage sa;
	struct http_opts o = {};
	struct pw_config_line l = { .file = "fuzz.conf", .line = 1, .section = "http" };
	char err[256], *s, *eq;
	socklen_t len;

	if (!size)
		return 0;
	pw_log_level = (enum pw_log_level)-1;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		if (!http__parse_listen(s, false, &sa, &len, err, sizeof(err)) &&
		    (sa_is_wildcard(&sa) || len > sizeof(sa)))
			abort();
		break;
	case 1:
		http_opts__parse_arg(&o, s);
		break;
	case 2:
		eq = strchr(s, '=');
		if (eq) {
			*eq = '\0';
			l.key = s;
			l.value = eq + 1;
			http__config_section(&o, &l, err, sizeof(err));
		}
		break;
	}
	free(s);
	return 0;
}
