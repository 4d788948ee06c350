/* SPDX-License-Identifier: Apache-2.0 */
#include "port/registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

struct registry {
	struct rk_port_driver base;
	struct rk_port_driver_ops ops; /* the backend's names, the registry's operations */
	struct rk_port_backend *backend;
	pthread_mutex_t lock;
	/* the ports in the order they were added, and the backend's data of each */
	struct rk_port_entry *ports;
	void **data;
	size_t n;
	int next_id;
};

static struct registry *of(struct rk_port_driver *d)
{
	return rk_container_of(d, struct registry, base);
}

/* The index of port id, or r->n. */
static size_t find(const struct registry *r, int id)
{
	size_t i = 0;

	while (i < r->n && r->ports[i].id != id)
		i++;
	return i;
}

static void drop(struct registry *r, size_t i)
{
	free(r->data[i]);
	memmove(&r->ports[i], &r->ports[i + 1], (r->n - i - 1) * sizeof(*r->ports));
	memmove(&r->data[i], &r->data[i + 1], (r->n - i - 1) * sizeof(*r->data));
	r->n--;
}

static int reg_add(struct rk_port_driver *d, const struct rk_port_spec *spec, int *ret_id,
		   struct rk_error *err)
{
	struct registry *r = of(d);
	const struct rk_port_backend_ops *b = r->backend->ops;
	void *data = NULL;
	int id, ret;

	pthread_mutex_lock(&r->lock);
	ret = rk_port_spec_validate(spec, r->ports, r->n, err);
	if (ret == 0 && r->n >= RK_PORT_MAX)
		ret = rk_error_set(err, ENOSPC, "too many published ports (at most %d)",
				   RK_PORT_MAX);
	if (ret < 0)
		goto out;
	data = b->data_size ? rk_xcalloc(1, b->data_size) : NULL;
	id = b->own_ids ? 0 : r->next_id;
	ret = b->open(r->backend, spec, &id, data, err);
	if (ret < 0)
		goto out;
	if (!b->own_ids)
		r->next_id++;
	r->ports = rk_xrealloc(r->ports, (r->n + 1) * sizeof(*r->ports));
	r->data = rk_xrealloc(r->data, (r->n + 1) * sizeof(*r->data));
	r->ports[r->n] = (struct rk_port_entry){ .id = id, .spec = *spec };
	r->data[r->n++] = rk_steal_ptr(&data);
	*ret_id = id;
out:
	pthread_mutex_unlock(&r->lock);
	free(data);
	return ret;
}

static int reg_remove(struct rk_port_driver *d, int id, struct rk_error *err)
{
	struct registry *r = of(d);
	size_t i;
	int ret;

	pthread_mutex_lock(&r->lock);
	i = find(r, id);
	if (i == r->n && !r->backend->ops->own_ids) {
		ret = rk_error_set(err, ENOENT, "unknown id: %d", id);
	} else {
		ret = r->backend->ops->close(r->backend, id, i < r->n ? r->data[i] : NULL, err);
		if (ret == 0 && i < r->n)
			drop(r, i);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int by_id(const void *a, const void *b)
{
	const struct rk_port_entry *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static size_t reg_list(struct rk_port_driver *d, struct rk_port_entry **ret)
{
	struct registry *r = of(d);
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	*ret = rk_xcalloc(n ? n : 1, sizeof(**ret));
	if (n) /* no table at all before the first port */
		memcpy(*ret, r->ports, n * sizeof(**ret));
	pthread_mutex_unlock(&r->lock);
	qsort(*ret, n, sizeof(**ret), by_id);
	return n;
}

static void reg_drain(struct rk_port_driver *d, unsigned idle_ms, unsigned max_ms)
{
	struct registry *r = of(d);

	if (r->backend->ops->drain)
		r->backend->ops->drain(r->backend, idle_ms, max_ms);
}

static const char *reg_source_ip_backend(struct rk_port_driver *d)
{
	struct registry *r = of(d);

	return r->backend->ops->source_ip_backend(r->backend);
}

static void reg_free(struct rk_port_driver *d)
{
	struct registry *r = of(d);

	r->backend->ops->free(r->backend);
	for (size_t i = 0; i < r->n; i++)
		free(r->data[i]);
	free(r->ports);
	free(r->data);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct rk_port_driver *rk_port_registry_new(struct rk_port_backend *backend)
{
	struct registry *r = rk_xcalloc(1, sizeof(*r));
	const struct rk_port_backend_ops *b = backend->ops;

	r->ops = (struct rk_port_driver_ops){
		.name = b->name,
		.protos = b->protos,
		.disallow_loopback_child_ip = b->disallow_loopback_child_ip,
		.add = reg_add,
		.remove = reg_remove,
		.list = reg_list,
		.drain = reg_drain,
		.source_ip_backend = b->source_ip_backend ? reg_source_ip_backend : NULL,
		.free = reg_free
	};
	r->base.ops = &r->ops;
	r->backend = backend;
	r->next_id = 1;
	pthread_mutex_init(&r->lock, NULL);
	return &r->base;
}

struct rk_port_backend *rk_port_registry_backend(struct rk_port_driver *d)
{
	return of(d)->backend;
}

size_t rk_port_registry_replay(struct rk_port_driver *d,
			       void (*begin)(struct rk_port_backend *b, void *arg), void *arg,
			       int (*fn)(struct rk_port_backend *b, const struct rk_port_entry *e,
					 void *data))
{
	struct registry *r = of(d);
	size_t dropped = 0;

	pthread_mutex_lock(&r->lock);
	begin(r->backend, arg);
	for (size_t i = 0; fn && i < r->n;) {
		const struct rk_port_entry *e = &r->ports[i];
		int ret = fn(r->backend, e, r->data[i]);
		if (ret == 0) {
			i++;
			continue;
		}
		rk_warn("port %d (%s:%lld) could not be published again: %s", e->id,
			*e->spec.parent_ip ? e->spec.parent_ip : "0.0.0.0", e->spec.parent_port,
			strerror(-ret));
		drop(r, i);
		dropped++;
	}
	pthread_mutex_unlock(&r->lock);
	return dropped;
}
