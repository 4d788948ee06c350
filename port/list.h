/* SPDX-License-Identifier: Apache-2.0 */
/* A circular doubly linked list threaded through the listed objects (as in the kernel):
 * O(1) insertion and removal without allocation. */
#ifndef RK_LIST_H
#define RK_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "src/lib/util.h"

struct rk_list {
	struct rk_list *prev, *next;
};

static inline void rk_list_init(struct rk_list *l)
{
	l->prev = l->next = l;
}

static inline bool rk_list_empty(const struct rk_list *l)
{
	return l->next == l;
}

/* Walks head with pos, which the body may unlink and free (next is read before). */
#define rk_list_for_each_safe(pos, next, head)                                                     \
	for ((pos) = (head)->next, (next) = (pos)->next; (pos) != (head);                          \
	     (pos) = (next), (next) = (pos)->next)

static inline void rk_list_add_tail(struct rk_list *head, struct rk_list *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

/* Unlinks e and leaves it initialised (empty), so a second call does nothing. */
static inline void rk_list_del(struct rk_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	rk_list_init(e);
}

#endif
