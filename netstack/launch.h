/* SPDX-License-Identifier: Apache-2.0 */
/* Starting the engine in a process of its own, confined (see launch.c). */
#ifndef RK_LAUNCH_H
#define RK_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "netstack/engine.h"
#include "netstack/sandbox.h"
#include "src/lib/error.h"

struct rk_engine_spawn {
	const struct rk_engine_config *engine;
	struct rk_confine_config confine;
	int tap;     /* the child's tap: the engine process gets a copy, the caller keeps it */
	int control; /* the engine's end of the control socket (netstack port driver), or -1 */
};

/* Forks the engine process: it keeps only the tap, the control socket and stdio, leaves
 * the terminal's process group (only SIGTERM, then its drain, or SIGKILL stop it), dies
 * with the caller, creates the engine, confines itself and runs. *ret_ready is the read
 * end of a pipe on which it says whether it runs (rk_engine_spawn_result). Returns the pid,
 * or a negative errno with err set. */
pid_t rk_engine_spawn(const struct rk_engine_spawn *sp, int *ret_ready, struct rk_error *err);

/* How often the engine may die before rootlesskit gives up on it. */
#define RK_ENGINE_CRASH_LIMIT	  5
#define RK_ENGINE_CRASH_WINDOW_MS 60000

/* The engine's deaths, for the restart policy. */
struct rk_engine_crashes {
	int64_t at_ms[RK_ENGINE_CRASH_LIMIT]; /* a ring of the last ones */
	unsigned n;			      /* how many in all */
};

/* Records a death at now_ms (a monotonic clock). Returns true when the engine may be
 * started again: fewer than RK_ENGINE_CRASH_LIMIT deaths within the last
 * RK_ENGINE_CRASH_WINDOW_MS, this one included. */
bool rk_engine_crash_record(struct rk_engine_crashes *c, int64_t now_ms);

/* Reads the answer on ready, once poll() says it is readable, and closes it. Returns 0
 * when the engine runs confined as asked, or a negative errno with err set to the engine's
 * own reason (or to its early end). */
int rk_engine_spawn_result(int ready, struct rk_error *err);

#endif
