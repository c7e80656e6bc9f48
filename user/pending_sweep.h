/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bind tier B's failed attempts that nothing in the kernel settles: the
 * thread neither binds again nor closes the socket (it keeps it open, or
 * another thread closes it). Once a second a sweep of `pending_binds` reports
 * every attempt open for longer than PENDING_SWEEP_AGE_NS as failed, and
 * remembers it, so that the kernel's own report of the same attempt, if it
 * comes later, is not a second failure.
 */
#ifndef PW_PENDING_SWEEP_H
#define PW_PENDING_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include "portwarden_abi.h"

#define PENDING_SWEEP_AGE_NS (1000ll * 1000 * 1000)

struct pending_sweep;

struct pending_sweep *pending_sweep__new(void);
void pending_sweep__free(struct pending_sweep *ps);
/*
 * Read the map (@fd, -1: nothing to do) and call @report with each stale
 * open attempt, as the BIND_FAILED record the kernel would have sent.
 * Returns the number reported.
 */
unsigned int pending_sweep__run(struct pending_sweep *ps, int fd, uint64_t now_boot_ns,
				void (*report)(void *ctx, const struct pw_event *rec), void *ctx);
/* A kernel BIND_FAILED record: true when the sweep reported it already (drop it). */
bool pending_sweep__claimed(struct pending_sweep *ps, const struct pw_event *rec);

#endif
