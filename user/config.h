/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The config file: INI-style, `[section]` headers and `key = value` lines,
 * `#` or `;` comments. Each module validates its own section through a
 * handler in the section table (config_sections.c); the first error names
 * file and line, and a file with any error is rejected whole, so the daemon
 * never runs on a half-read policy.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stddef.h>

struct pw_config_line {
	const char *file;
	int line;
	const char *section;
	const char *key;
	const char *value;
};

#define PW_CONFIG_ERR_LEN 512

/* Returns 0 or -EINVAL with @err filled ("file:line: message"). */
typedef int (*config_section_fn)(void *target, const struct pw_config_line *l, char *err,
				 size_t errlen);

struct config_section {
	const char *name;
	config_section_fn fn;
	/* Offset of the section's target inside the struct given to config__parse_*. */
	size_t target_offset;
};

int config__parse_string(const char *text, const char *file, const struct config_section *sections,
			 void *target, char *err, size_t errlen);
int config__parse_file(const char *path, const struct config_section *sections, void *target,
		       char *err, size_t errlen);

/* Helpers for handlers: format "file:line: " + message into err; return -EINVAL. */
int config__error(const struct pw_config_line *l, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
