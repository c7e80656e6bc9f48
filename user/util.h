/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small parsing and formatting helpers shared by the CLI, config and outputs. */
#ifndef PW_UTIL_H
#define PW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_ADDRSTRLEN 46

/* strtol with an end pointer and a range check: 0 or -EINVAL / -ERANGE. */
int pw_parse_long(const char *s, long min, long max, long *ret_val);
/* "8080", "8080/tcp": port and protocol (IPPROTO_*, 0 when absent). */
int pw_parse_port_proto(const char *s, uint16_t *ret_port, uint8_t *ret_proto);
/* yes/no, true/false, on/off, 1/0 (any case); -EINVAL otherwise. */
int pw_parse_bool(const char *s, bool *ret);
/* strtod with an end pointer and a range check (NaN refused). */
int pw_parse_double(const char *s, double min, double max, double *ret);
/* Comma-separated list: call @fn on each trimmed, non-empty item; stops at the first error. */
int pw_foreach_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx);
/* "tcp" / "udp" -> IPPROTO_*; -EINVAL otherwise. */
int pw_parse_proto(const char *s, uint8_t *ret_proto);
/* Durations: "90", "90s", "5m", "2h", "7d" -> seconds. */
int pw_parse_duration(const char *s, int64_t *ret_secs);
/* RFC 3339 ("2026-11-30T03:12:00Z", fractional seconds and offsets allowed),
 * or "@EPOCH" -> nanoseconds since the epoch. */
int pw_parse_time(const char *s, int64_t *ret_ns);
/* RFC 3339 UTC with nanoseconds. buf >= 40 bytes. */
void pw_format_time(int64_t ns, char *buf, size_t len);

const char *pw_proto_name(uint8_t proto);
const char *pw_family_name(uint8_t family);
/* Address bytes as in pw_sock_rec.addr -> text. */
void pw_format_addr(uint8_t family, const uint8_t *addr, char *buf, size_t len);
int pw_parse_addr(const char *s, uint8_t *ret_family, uint8_t *ret_addr);
bool pw_addr_is_wildcard(uint8_t family, const uint8_t *addr);
/* ::ffff:a.b.c.d */
bool pw_addr_is_v4mapped(uint8_t family, const uint8_t *addr);

/* Wall-clock nanoseconds for a bpf_ktime_get_boot_ns() value. */
int64_t pw_boot_to_wall_ns(uint64_t boot_ns);
int64_t pw_now_wall_ns(void);
uint64_t pw_now_boot_ns(void);

const char *pw_errno_name(int err);

#endif
