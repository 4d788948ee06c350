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
#include "src/lib/sig.h"

struct rk_engine_spawn {
	const struct rk_engine_config *engine;
	struct rk_confine_config confine;
	int tap;	/* the child's tap: the engine process gets a copy, the caller keeps it */
	int control;	/* the engine's end of the control socket (netstack port driver), or -1 */
	bool tap_later; /* tap is a socket on which the tap comes later (RK_MSG_NET_FD) */
};

/* Forks the engine process: it keeps only the tap, the control socket and stdio, leaves
 * the terminal's process group (only SIGTERM, then its drain, or SIGKILL stop it), dies
 * with the caller, creates the engine, confines itself, (with tap_later) takes the tap and
 * runs. *ret_ready is the read end of a pipe on which it says whether it runs
 * (rk_engine_spawn_result). Returns the pid, or a negative errno with err set. */
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

/* One engine on a tap, kept running: started, confirmed, started again when it dies. */
struct rk_engine_proc {
	struct rk_engine_config engine;
	struct rk_confine_config confine;
	int tap;      /* the child's tap, kept so that another engine can take over */
	int tap_send; /* an engine launched before the tap existed: where it goes, or -1 */
	pid_t pid;    /* the running engine, or -1 */
	int ready;    /* its readiness pipe until it answered, or -1 */
	struct rk_engine_crashes crashes;
};

#define RK_ENGINE_PROC_INIT                                                                        \
	{                                                                                          \
		.tap = -1, .tap_send = -1, .pid = -1, .ready = -1                                  \
	}

/* Starts an engine on p->tap (see rk_engine_spawn). control (taken) is the engine's end of
 * the netstack port driver's socket, or -1. Returns 0 or a negative errno with err set. */
int rk_engine_proc_start(struct rk_engine_proc *p, int control, struct rk_error *err);

/* Starts the first engine before the tap exists: it loads libslirp, makes its engine and
 * confines itself meanwhile, then waits for rk_engine_proc_give_tap. control as above.
 * Returns 0 or a negative errno with err set. */
int rk_engine_proc_launch(struct rk_engine_proc *p, int control, struct rk_error *err);

/* The child's tap (taken), to the engine rk_engine_proc_launch started, which then says it
 * runs (rk_engine_proc_ready). Returns 0 or a negative errno with err set. */
int rk_engine_proc_give_tap(struct rk_engine_proc *p, int tap, struct rk_error *err);

/* Waits until end_ms (rk_now_ms) for the started engine to say that it runs confined, or
 * why not; cancel (may be NULL) cuts the wait with -EINTR. Returns 0, -ETIMEDOUT or a
 * negative errno with err set. */
int rk_engine_proc_ready(struct rk_engine_proc *p, uint64_t end_ms, const struct rk_cancel *cancel,
			 struct rk_error *err);

/* The engine exited. Returns 1 (and reaps it) when p->pid is what exited, 0 otherwise. */
int rk_engine_proc_exited(struct rk_engine_proc *p, int *ret_status);

/* After a death: -EMLINK when this was the RK_ENGINE_CRASH_LIMIT-th within the window;
 * otherwise another engine is started and confirmed (0), or a negative errno with err
 * set tells why none could start. */
int rk_engine_proc_restart(struct rk_engine_proc *p, int control, uint64_t ready_ms,
			   struct rk_error *err);

/* Stops the engine: with drain, SIGTERM and up to drain_ms for it to deliver what its
 * connections carry; SIGKILL otherwise or after that. Closes what p holds. */
void rk_engine_proc_stop(struct rk_engine_proc *p, bool drain, unsigned drain_ms);

#endif
