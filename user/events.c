// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "events.h"

static const char *const type_names[PW_REC_TYPE_MAX] = {
	[PW_REC_BIND] = "bind",		  [PW_REC_BIND_FAILED] = "bind_failed",
	[PW_REC_LISTEN] = "listen",	  [PW_REC_UNLISTEN] = "unlisten",
	[PW_REC_CLOSE] = "close",	  [PW_REC_INVENTORY] = "existing",
	[PW_REC_BIND_REFUSED] = "bind_refused",
};

static const char *const source_names[PW_SRC_MAX + 1] = {
	[PW_SRC_FEXIT_BIND] = "fexit_bind",	[PW_SRC_CGROUP_BIND] = "cgroup_bind",
	[PW_SRC_KPROBE_BIND] = "kprobe_bind",	[PW_SRC_TP_BTF_STATE] = "tp_btf_state",
	[PW_SRC_RAW_TP_STATE] = "raw_tp_state", [PW_SRC_SOCK_RELEASE] = "sock_release",
	[PW_SRC_ITER] = "iterator",		[PW_SRC_ENFORCE] = "enforce",
	[PW_SRC_REUSEPORT] = "reuseport",	[PW_SRC_MAX] = "unknown",
};

const char *events__type_name(unsigned int type)
{
	return type < PW_REC_TYPE_MAX && type_names[type] ? type_names[type] : "unknown";
}

const char *events__source_name(unsigned int source)
{
	return source_names[source < PW_SRC_MAX ? source : PW_SRC_MAX];
}

int events__decode(const void *data, size_t len, struct pw_event *out,
		   struct pw_event_stats *stats)
{
	struct pw_rec_hdr hdr;
	unsigned int src;

	if (len < sizeof(hdr)) {
		stats->rejected[PW_SRC_MAX]++;
		return -EINVAL;
	}
	memcpy(&hdr, data, sizeof(hdr));
	src = hdr.source < PW_SRC_MAX ? hdr.source : PW_SRC_MAX;
	if (src == PW_SRC_MAX || hdr.size != len || hdr.type == 0 || hdr.type >= PW_REC_TYPE_MAX ||
	    (len != sizeof(*out) &&
	     (len != sizeof(struct pw_close_rec) || hdr.type != PW_REC_CLOSE))) {
		stats->rejected[src]++;
		return -EINVAL;
	}
	if (len == sizeof(struct pw_close_rec)) {
		struct pw_close_rec c;

		memcpy(&c, data, sizeof(c));
		memset(out, 0, sizeof(*out));
		out->hdr = c.hdr;
		out->sock.cookie = c.cookie;
		out->sock.family = c.family;
		out->sock.proto = c.proto;
	} else {
		memcpy(out, data, sizeof(*out));
	}
	stats->received[src]++;
	return 0;
}
