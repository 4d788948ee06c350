/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "util.h"

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

int rk_mount_root_optional(char *buf, size_t size)
{
	rk_auto_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	rk_auto_free char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		size_t w = 0;
		int field = 1;

		for (; tok && field < 5; field++)
			tok = strtok_r(NULL, " \n", &save);
		if (!tok || strcmp(tok, "/") != 0)
			continue;
		strtok_r(NULL, " \n", &save); /* mount options */
		buf[0] = '\0';
		while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-") != 0)
			w += (size_t)snprintf(buf + w, w < size ? size - w : 0, "%s%s",
					      w ? " " : "", tok);
		return 0;
	}
	return -ENOENT;
}
