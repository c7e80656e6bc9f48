/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Owners of sockets that existed before we watched: a map from socket inode
 * to the first process holding it, built from /proc/<pid>/fd.
 */
#ifndef PW_INVENTORY_H
#define PW_INVENTORY_H

#include <stdint.h>
#include "portwarden_abi.h"

struct inventory_procs;

struct inventory_procs *inventory__scan_procs(void);
void inventory__procs_free(struct inventory_procs *p);
/* Fill pid, tgid, uid, euid, comm of the holder of socket inode @ino, if found. */
void inventory__owner_of(const struct inventory_procs *p, uint64_t ino, struct pw_task_rec *t);

#endif
