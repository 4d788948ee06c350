/* SPDX-License-Identifier: Apache-2.0 */
/* The backlog of libslirp's listeners (see backlog.c). */
#ifndef RK_BACKLOG_H
#define RK_BACKLOG_H

#include <stdbool.h>

/* While on, listen() on this thread takes at least SOMAXCONN connections. */
void rk_backlog_widen(bool on);

#endif
