// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

#define MAX_CONFIG_BYTES (1 << 20)

int config__error(const struct pw_config_line *l, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%d: ", l->file, l->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const struct config_section *find_section(const struct config_section *sections,
						 const char *name)
{
	for (; sections->name; sections++)
		if (!strcmp(sections->name, name))
			return sections;
	return NULL;
}

int config__parse_string(const char *text, const char *file, const struct config_section *sections,
			 void *target, char *err, size_t errlen)
{
	const struct config_section *cur = NULL;
	char section[64] = "";
	char *copy, *line, *save = NULL;
	int lineno = 0, rc = 0;

	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	/* strtok_r would merge empty lines and shift numbering: split by hand. */
	for (line = copy; line; line = save) {
		struct pw_config_line l = { .file = file, .section = section };
		char *nl = strchr(line, '\n'), *p, *eq;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		l.line = ++lineno;
		p = trim(line);
		if (!*p || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *end = strchr(p, ']');

			if (!end || trim(end + 1)[0]) {
				rc = config__error(&l, err, errlen, "malformed section header '%s'", p);
				break;
			}
			*end = '\0';
			snprintf(section, sizeof(section), "%s", trim(p + 1));
			cur = find_section(sections, section);
			if (!cur) {
				rc = config__error(&l, err, errlen, "unknown section [%s]", section);
				break;
			}
			continue;
		}
		eq = strchr(p, '=');
		if (!eq) {
			rc = config__error(&l, err, errlen, "expected 'key = value', got '%s'", p);
			break;
		}
		*eq = '\0';
		l.key = trim(p);
		l.value = trim(eq + 1);
		if (!*l.key) {
			rc = config__error(&l, err, errlen, "empty key");
			break;
		}
		if (!cur) {
			rc = config__error(&l, err, errlen, "'%s' outside any [section]", l.key);
			break;
		}
		rc = cur->fn((char *)target + cur->target_offset, &l, err, errlen);
		if (rc)
			break;
	}
	free(copy);
	return rc;
}

int config__parse_file(const char *path, const struct config_section *sections, void *target,
		       char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	buf = malloc(MAX_CONFIG_BYTES + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, MAX_CONFIG_BYTES + 1, f);
	fclose(f);
	if (n > MAX_CONFIG_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_CONFIG_BYTES);
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		snprintf(err, errlen, "%s: contains a NUL byte (not a text file)", path);
		free(buf);
		return -EINVAL;
	}
	rc = config__parse_string(buf, path, sections, target, err, errlen);
	free(buf);
	return rc;
}
