/* SPDX-License-Identifier: Apache-2.0 */
/* Routing inside the child for --source-ip-transparent (see transparent.c). */
#ifndef RK_TRANSPARENT_H
#define RK_TRANSPARENT_H

#include <stddef.h>
#include <stdint.h>

#include "src/lib/error.h"

/* --source-ip-transparent-backend: what makes the firewall rules */
enum rk_transparent_backend {
	RK_TRANSPARENT_NONE, /* transparency is off, or nothing can make the rules */
	RK_TRANSPARENT_NFT,  /* nftables, through netlink (transparent_nft.c) */
	RK_TRANSPARENT_IPTABLES,
	RK_TRANSPARENT_AUTO, /* nft, else iptables: only as asked for, never resolved */
};

/* "none", "nft", "iptables", "auto": the option's values, and the API's
 * portDriver.extra.sourceIPTransparentBackend. */
const char *rk_transparent_backend_name(enum rk_transparent_backend b);

/* The option's value as a backend; -1 for an unknown name. */
int rk_transparent_backend_parse(const char *name);

/* The backend that serves want in the current network namespace (CAP_NET_ADMIN there): nft
 * when nftables answers, iptables when iptables-restore is in PATH; auto takes the first of
 * them that works. NONE when the one asked for cannot, with the reason in why (said when a
 * connection first needs the rules: rk_transparent_setup). Makes no rule. */
enum rk_transparent_backend rk_transparent_resolve(enum rk_transparent_backend want, char *why,
						   size_t size);

/* Sets up, in the current network namespace, what lets the builtin port driver connect
 * with a client's own address, with the firewall rules made by backend (resolved; NONE
 * fails with why). Returns 0, or a negative errno with err set when transparent
 * connections cannot work (the caller falls back to plain ones). */
int rk_transparent_setup(enum rk_transparent_backend backend, const char *why,
			 struct rk_error *err);

/* transparent_nft.c: whether nftables answers here (0 or -errno), and the table that
 * marks connections from foreign sources with mark (0 or -errno). */
int rk_transparent_nft_probe(void);
int rk_transparent_nft_rules(uint32_t mark);

#endif
