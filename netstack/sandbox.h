/* SPDX-License-Identifier: Apache-2.0 */
/* Confines the engine process (see sandbox.c). */
#ifndef RK_SANDBOX_H
#define RK_SANDBOX_H

#include "error.h"

/* no_new_privs, then a seccomp filter that kills the process on any system call an
 * engine never needs (exec, ptrace, namespaces, mounts, modules, keys, bpf...). Returns 0
 * or a negative errno with err set. */
int rk_engine_sandbox(struct rk_error *err);

/* Moves the calling (single-threaded) process into a user and mount namespace of its own
 * with a read-only root that holds only /etc and /run, read-only. Sockets are unaffected
 * (the network namespace stays). Returns 0 or a negative errno with err set; the process
 * is then half-way and should not go on unconfined if it cares. */
int rk_engine_confine_fs(struct rk_error *err);

#endif
