/* SPDX-License-Identifier: Apache-2.0 */
/* The parent process: state dir, child start-up, id maps, signal forwarding, exit status. */
#ifndef RK_PARENT_H
#define RK_PARENT_H

#include "src/options.h"

/* Runs the command described by validated opts in new namespaces. argv is rootlesskit's
 * own argv (the child re-executes it). Returns the exit code for main(). */
int rk_parent_main(const struct rk_options *opts, char **argv);

#endif
