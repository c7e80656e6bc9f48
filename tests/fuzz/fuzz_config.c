// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the config/policy file, through the real section table
 * (every module's handler). A file either loads whole or is rejected with a
 * "file:line: message" error; either way nothing may leak or overflow.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pw_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PW_CONFIG_ERR_LEN] = "", *text;
	struct pw_config c;
	int rc;

	if (size > 1 << 16)
		return 0;
	pw_log_level = (enum pw_log_level)-1;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* the file reader rejects NUL bytes before parsing */
	rc = pw_config__load_string(text, "fuzz.conf", &c, err, sizeof(err));
	if (rc == -EINVAL) {
		if (!err[0] || strncmp(err, "fuzz.conf", 9))
			abort(); /* every rejection names the file (and line) */
	} else if (!rc) {
		pw_config__free(&c);
	}
	free(text);
	return 0;
}
