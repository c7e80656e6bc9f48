// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

enum pw_log_level pw_log_level = PW_LOG_INFO;

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "Error: ", "Warning: ", "", "debug: " };
	va_list ap;

	if (level > pw_log_level)
		return;
	fputs(prefix[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
