// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: `portwarden run` flags. The input is split at NUL bytes
 * into argv[1..]; each parse must succeed with values in range or fail with
 * -EINVAL, and parsing twice in one process (as tests do) must be safe.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pw_config.h"
#include "run_opts.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct daemon_opts o;
	int argc = 1, rc;
	size_t start = 0;

	if (!buf)
		return 0;
	pw_log_level = (enum pw_log_level)-1; /* quiet: errors are expected */
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "run";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	rc = run_opts__parse(argc, argv, &o);
	if (rc != 0 && rc != PW_OPTS_HELP && rc != -EINVAL)
		abort();
	if (!rc && ((o.poll_ms && (o.poll_ms < 1 || o.poll_ms > 10000)) ||
		    (o.loader.ringbuf_bytes & (o.loader.ringbuf_bytes - 1))))
		abort();
	/* The policy flags allocate rules, kept even when a later flag fails. */
	enforce_config__free(&o.enforce);
	free(buf);
	return 0;
}
