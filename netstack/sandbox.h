/* SPDX-License-Identifier: Apache-2.0 */
/* Confines the engine process (see sandbox.c). */
#ifndef RK_SANDBOX_H
#define RK_SANDBOX_H

#include "src/lib/error.h"

/* How much of a stage the user asked for. */
enum rk_confine {
	RK_CONFINE_OFF,
	RK_CONFINE_AUTO, /* on, unless the kernel lacks the feature (then one warning) */
	RK_CONFINE_ON,	 /* on, or the engine does not run */
};

struct rk_confine_config {
	enum rk_confine fs;	 /* namespaces and the file system view */
	enum rk_confine seccomp; /* the allow-list */
	const char *resolv_conf; /* what the view shows as /etc/resolv.conf (NULL: that) */
};

/* The engine's exit status after a refused system call (its SIGSYS handler). */
#define RK_ENGINE_SECCOMP_EXIT 159

/* Confines the calling single-threaded process, in stages (namespaces and file system view,
 * capabilities and no_new_privs, seccomp), each as cfg asks. Sockets are unaffected (the
 * network namespace stays). Returns 0, or a negative errno with err set: the process is
 * then half-way and must not go on. */
int rk_engine_confine(const struct rk_confine_config *cfg, struct rk_error *err);

#endif
