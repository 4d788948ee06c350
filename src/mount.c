/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <errno.h>
#include <sys/mount.h>

unsigned long rk_mount_propagation_flags(enum rk_propagation p)
{
	switch (p) {
	case RK_PROP_PRIVATE:
		return MS_PRIVATE;
	case RK_PROP_RSLAVE:
		return MS_REC | MS_SLAVE;
	case RK_PROP_SLAVE:
		return MS_SLAVE;
	case RK_PROP_RSHARED:
		return MS_REC | MS_SHARED;
	case RK_PROP_SHARED:
		return MS_SHARED;
	case RK_PROP_RPRIVATE:
		break;
	}
	return MS_REC | MS_PRIVATE;
}

int rk_mount_set_propagation(enum rk_propagation p, const char *name, struct rk_error *err)
{
	if (mount("none", "/", NULL, rk_mount_propagation_flags(p), NULL) < 0)
		return rk_error_errno(err, errno, "failed to share mount point: / (propagation %s)",
				      name);
	return 0;
}
