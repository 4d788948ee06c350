/* SPDX-License-Identifier: Apache-2.0 */
#include "src/ports.h"

#include <errno.h>
#include <string.h>

#include "port/builtin.h"
#include "port/sockpool.h"
#include "port/spec.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

int rk_ports_start(struct rk_ports *p, enum rk_port kind, bool source_ip_transparent,
		   enum rk_transparent_backend backend, const char *argv0,
		   const struct rk_net_ops *ops, void *drv, const char *state_dir,
		   const char *child_ip, struct rk_error *err)
{
	const char *base = strrchr(argv0, '/');
	struct rk_builtin_config cfg = {
		.source_ip_transparent = source_ip_transparent,
		.argv0_is_rootlesskit = strcmp(base ? base + 1 : argv0, "rootlesskit") == 0,
	};
	int r;

	if (kind != RK_PORT_BUILTIN)
		return ops->ports ? ops->ports(drv, state_dir, child_ip, &p->driver, err) : 0;
	/* resolved by the maker where the rules would go */
	p->maker.backend = source_ip_transparent ? (int)backend : RK_TRANSPARENT_NONE;
	r = rk_sockmaker_fork(&p->maker, err);
	if (r < 0)
		return r;
	cfg.chan = rk_steal_fd(&p->maker.chan); /* the driver's, even when it fails */
	return rk_port_builtin_new(&cfg, &p->driver, err);
}

int rk_ports_enter(struct rk_ports *p, pid_t child, bool detach_netns, const char *state_dir,
		   const struct rk_cancel *cancel, struct rk_error *err)
{
	rk_auto_free char *userns = rk_xasprintf("/proc/%d/ns/user", (int)child);
	rk_auto_free char *netns =
		detach_netns ? rk_xasprintf("/proc/%d/root%s/netns", (int)child, state_dir)
			     : rk_xasprintf("/proc/%d/ns/net", (int)child);
	struct rk_netns_id ns;
	int r;

	if (p->maker.pid <= 0 || !p->driver)
		return 0;
	r = rk_netns_id_of_path(netns, &ns);
	if (r < 0)
		return rk_error_errno(err, -r, "identifying the child's network namespace (%s)",
				      netns);
	r = rk_sockmaker_enter(&p->maker, userns, netns, cancel, err);
	if (r < 0)
		return r;
	rk_port_builtin_trust_netns(p->driver, &ns, (enum rk_transparent_backend)p->maker.backend);
	return 0;
}

int rk_ports_publish(struct rk_ports *p, char *const *specs, size_t n, struct rk_error *err)
{
	for (size_t i = 0; p->driver && i < n; i++) {
		struct rk_port_spec spec = { 0 }; /* printed as it is when parsing fails */
		int id = 0, r = rk_port_spec_parse(specs[i], &spec, err);
		if (r == 0)
			r = p->driver->ops->add(p->driver, &spec, &id, err);
		if (r < 0)
			/* upstream prints the spec as a Go struct value */
			return rk_error_prefix(err, "failed to expose port {%s %s %lld %lld %s}",
					       spec.proto, spec.parent_ip, spec.parent_port,
					       spec.child_port, spec.child_ip);
		rk_debug("published port %d: %s", id, specs[i]);
	}
	return 0;
}

void rk_ports_stop(struct rk_ports *p)
{
	rk_port_driver_free(p->driver);
	p->driver = NULL;
	rk_sockmaker_stop(&p->maker); /* after the driver closed the channel */
}
