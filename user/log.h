/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Leveled logging to stderr; the caller of a failing function logs once. */
#ifndef PW_LOG_H
#define PW_LOG_H

enum pw_log_level { PW_LOG_ERROR, PW_LOG_WARN, PW_LOG_INFO, PW_LOG_DEBUG };

extern enum pw_log_level pw_log_level;

void pw_log(enum pw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define pr_info(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

#endif
