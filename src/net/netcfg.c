/* SPDX-License-Identifier: Apache-2.0 */
#include "src/net/netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/netlink.h"
#include "src/lib/util.h"

void rk_netcfg_of_vnet(struct rk_netcfg *cfg, const struct rk_vnet *v, const char *dev)
{
	*cfg = (struct rk_netcfg){ .mtu = v->mtu, .prefix = v->prefix, .n_dns = 1 };
	snprintf(cfg->dev, sizeof(cfg->dev), "%s", dev);
	inet_ntop(AF_INET, &v->child, cfg->ip, sizeof(cfg->ip));
	inet_ntop(AF_INET, &v->gateway, cfg->gateway, sizeof(cfg->gateway));
	inet_ntop(AF_INET, &v->dns, cfg->dns[0], sizeof(cfg->dns[0]));
	if (v->ipv6) {
		snprintf(cfg->ip6, sizeof(cfg->ip6), "%s", RK_VNET_CHILD6);
		snprintf(cfg->dns[cfg->n_dns++], sizeof(cfg->dns[0]), "fd00::3");
	}
}

/* Empty strings travel as "-". */
static const char *word(const char *s)
{
	return *s ? s : "-";
}

static void unword(char *s)
{
	if (strcmp(s, "-") == 0)
		*s = '\0';
}

void rk_netcfg_format(const struct rk_netcfg *cfg, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%u %d %s %s %s %u %s %s %u", (unsigned)cfg->step,
			 (int)cfg->tap_fd, word(cfg->mac), cfg->dev, word(cfg->ip), cfg->prefix,
			 word(cfg->gateway), word(cfg->ip6), cfg->mtu);

	for (unsigned i = 0; i < cfg->n_dns && n > 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - (size_t)n, " %s", cfg->dns[i]);
}

int rk_netcfg_parse(const char *text, struct rk_netcfg *ret)
{
	char dns[RK_NETCFG_MAX_DNS + 1][64] = { "", "", "" };
	unsigned step;
	int tap_fd, n;

	*ret = (struct rk_netcfg){ 0 };
	n = sscanf(text, "%u %d %17s %15s %15s %u %15s %45s %u %63s %63s %63s", &step, &tap_fd,
		   ret->mac, ret->dev, ret->ip, &ret->prefix, ret->gateway, ret->ip6, &ret->mtu,
		   dns[0], dns[1], dns[2]);
	if (n < 9 || n > 9 + RK_NETCFG_MAX_DNS || ret->prefix > 32 || step > RK_NETCFG_LINK ||
	    tap_fd < RK_NETCFG_TAP_NONE || tap_fd > RK_NETCFG_TAP_VNET ||
	    strcmp(ret->dev, "-") == 0)
		return -EBADMSG;
	ret->step = (enum rk_netcfg_step)step;
	ret->tap_fd = (enum rk_netcfg_tap)tap_fd;
	unword(ret->mac);
	unword(ret->ip);
	unword(ret->gateway);
	unword(ret->ip6);
	for (int i = 0; i < n - 9; i++) {
		size_t len = strlen(dns[i]);
		if (len >= sizeof(ret->dns[i]))
			return -EBADMSG;
		memcpy(ret->dns[ret->n_dns++], dns[i], len + 1);
	}
	return 0;
}

int rk_netcfg_apply(const struct rk_netcfg *cfg, struct rk_error *err)
{
	int r;

	if (cfg->step == RK_NETCFG_FILES)
		return 0;
	if ((*cfg->mac && (r = rk_netlink_set_mac(cfg->dev, cfg->mac, err)) < 0) ||
	    (r = rk_netlink_link_up(cfg->dev, err)) < 0 ||
	    (r = rk_netlink_set_mtu(cfg->dev, cfg->mtu, err)) < 0)
		return r;
	if (cfg->step == RK_NETCFG_LINK)
		return 0;
	if ((r = rk_netlink_addr_add(cfg->dev, cfg->ip, cfg->prefix, err)) < 0 ||
	    (r = rk_netlink_route_default(cfg->dev, cfg->gateway, err)) < 0 ||
	    (*cfg->ip6 && (r = rk_netlink_addr_add(cfg->dev, cfg->ip6, 64, err)) < 0))
		return r;
	return 0;
}

/* Writes name in the directory dir_fd (path: its path, for messages), mode 0644. */
static int write_state_file(int dir_fd, const char *path, const char *name, const char *text,
			    struct rk_error *err)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int r;

	if (fd < 0)
		return rk_error_errno(err, errno, "writing %s/%s", path, name);
	r = fchmod(fd, 0644) < 0 ? -errno : rk_write_all(fd, text, strlen(text));
	close(fd);
	if (r < 0)
		return rk_error_errno(err, -r, "writing %s/%s", path, name);
	return 0;
}

int rk_netcfg_etc(const struct rk_netcfg *cfg, int dir_fd, const char *state_dir,
		  bool mount_over_etc, bool etc_copied_up, struct rk_error *err)
{
	/* mount sources through the descriptor: the path could name another directory now */
	rk_auto_free char *hosts_path = rk_xasprintf("/proc/self/fd/%d/hosts", dir_fd);
	rk_auto_free char *resolv_path = rk_xasprintf("/proc/self/fd/%d/resolv.conf", dir_fd);
	rk_auto_free char *etc_hosts = NULL;
	rk_auto_free char *hosts = NULL;
	rk_auto_free char *resolv = rk_xstrdup("");
	char hostname[256] = "";
	ssize_t n = rk_read_file("/etc/hosts", &etc_hosts, 1 << 20);
	int r;

	if (n < 0)
		return rk_error_errno(err, (int)-n, "reading /etc/hosts");
	gethostname(hostname, sizeof(hostname) - 1);
	/* as upstream: the entries are added even when the file has them */
	hosts = rk_xasprintf("%s\n127.0.0.1 %s\n::1 %s\n", etc_hosts, hostname, hostname);
	for (unsigned i = 0; i < cfg->n_dns; i++) {
		char *next = rk_xasprintf("%snameserver %s\n", resolv, cfg->dns[i]);
		free(resolv);
		resolv = next;
	}
	if ((r = write_state_file(dir_fd, state_dir, "hosts", hosts, err)) < 0 ||
	    (r = write_state_file(dir_fd, state_dir, "resolv.conf", resolv, err)) < 0)
		return r;
	if (!mount_over_etc)
		return 0;
	if (etc_copied_up) {
		/* the copied-up entries are links to the host's files: replace them by empty
		 * files to mount over */
		const char *files[] = { "/etc/resolv.conf", "/etc/hosts" };
		for (size_t i = 0; i < RK_ARRAY_SIZE(files); i++) {
			int fd;
			if (unlink(files[i]) < 0 && errno != ENOENT)
				return rk_error_errno(
					err, errno, "failed to remove copied-up link %s", files[i]);
			fd = open(files[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				return rk_error_errno(err, errno, "writing %s", files[i]);
			close(fd);
		}
	} else {
		rk_warn("Mounting /etc/resolv.conf without copying-up /etc. Note that "
			"/etc/resolv.conf in the namespace will be unmounted when it is recreated "
			"on the host. Unless /etc/resolv.conf is statically configured, copying-up "
			"/etc is highly recommended. Please refer to RootlessKit documentation for "
			"further information.");
	}
	if (mount(resolv_path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return rk_error_errno(err, errno,
				      "failed to create bind mount /etc/resolv.conf for "
				      "%s/resolv.conf",
				      state_dir);
	if (mount(hosts_path, "/etc/hosts", NULL, MS_BIND, NULL) < 0)
		return rk_error_errno(err, errno,
				      "failed to create bind mount /etc/hosts for %s/hosts",
				      state_dir);
	return 0;
}
