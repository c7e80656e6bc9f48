// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the CLI's value parsers (times, durations, ports,
 * addresses, numbers, --force-tier). The first byte picks the parser; the
 * rest is the text, NUL-terminated as a command line would hand it over.
 * Beyond "no crash", each parser must either fail cleanly or return a value
 * in its documented range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "loader.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, buf[64];
	uint8_t proto, family, addr[16];
	enum pw_tier forced[PW_FAM_MAX] = {};
	uint16_t port;
	int64_t v;
	long l;

	if (!size)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		if (!pw_parse_time(s, &v)) {
			/* Whatever parses must format back without overflow. */
			pw_format_time(v, buf, sizeof(buf));
		}
		break;
	case 1:
		if (!pw_parse_port_proto(s, &port, &proto) &&
		    (!port || (proto && proto != IPPROTO_TCP && proto != IPPROTO_UDP)))
			abort();
		break;
	case 2:
		if (!pw_parse_duration(s, &v) && (v < 0 || v > 100LL * 366 * 86400))
			abort();
		break;
	case 3:
		if (!pw_parse_addr(s, &family, addr)) {
			if (family != AF_INET && family != AF_INET6)
				abort();
			pw_format_addr(family, addr, buf, sizeof(buf));
			pw_addr_is_wildcard(family, addr);
			pw_addr_is_v4mapped(family, addr);
		}
		break;
	case 4:
		if (!pw_parse_long(s, -1000, 65535, &l) && (l < -1000 || l > 65535))
			abort();
		break;
	case 5:
		if (!pw_parse_force_tier(s, forced))
			for (int f = 0; f < PW_FAM_MAX; f++)
				if (forced[f] > PW_TIER_C)
					abort();
		break;
	}
	free(s);
	return 0;
}
