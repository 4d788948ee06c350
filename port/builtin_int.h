/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the builtin port driver, shared by builtin.c (the driver and its thread),
 * builtin_pool.c (the socket pools), builtin_tcp.c and builtin_udp.c. Everything here
 * belongs to the driver's thread, except what struct bp_driver marks as guarded by its
 * lock. */
#ifndef RK_PORT_BUILTIN_INT_H
#define RK_PORT_BUILTIN_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "port/builtin.h"
#include "port/list.h"
#include "port/registry.h"
#include "port/sockpool.h"
#include "port/transparent.h"

/* What an epoll event points at: the first member of every watched object. */
enum bp_kind {
	BP_WAKE,     /* the eventfd that carries commands */
	BP_CHAN,     /* the socket-supply channel */
	BP_LISTENER, /* a published port's socket */
	BP_CLIENT,   /* the host side of a TCP connection */
	BP_BACKEND,  /* the child side of a TCP connection */
	BP_FLOW,     /* the child side of a UDP flow */
};

struct bp_ev {
	enum bp_kind kind;
};

/* Sockets of one family and type made in the child's network namespace. */
struct bp_pool {
	int family, type;
	int *fds;
	unsigned n, cap;
	unsigned requested;	/* asked for and not yet answered */
	unsigned target;	/* grows when connections had to wait, shrinks when idle */
	uint64_t grown_ms;	/* when it last grew */
	uint64_t retry_ms;	/* the child made none (out of descriptors): not asked before */
	struct rk_list waiters; /* TCP connections waiting for a socket */
};

struct bp_flow;

struct bp_port {
	struct bp_ev ev;
	int fd; /* listening (TCP) or bound (UDP) socket */
	int id;
	bool udp;
	bool paused;			/* out of descriptors: accept() stopped for a moment */
	struct sockaddr_storage target; /* where the child side connects */
	socklen_t target_len;
	struct bp_pool *pool;
	struct rk_list conns; /* TCP connections, or UDP flows oldest first */
	struct rk_list link;  /* in bp_driver.ports */
	/* UDP */
	struct bp_flow **buckets;
	unsigned n_flows;
};

/* One direction of a TCP connection: bytes wait in a pipe between the two splices. */
struct bp_dir {
	int pipe[2];	/* -1 until a transfer needs one */
	size_t pending; /* bytes in the pipe */
	size_t moved;	/* through the pipe */
	bool grown;	/* the pipe was made larger for a bulk transfer */
	bool eof;	/* the source sent FIN */
	bool shut;	/* FIN passed on to the destination */
};

enum bp_conn_state {
	BP_CONN_WAITING,    /* for a socket from the pool */
	BP_CONN_CONNECTING, /* the child-side connect() is in progress */
	BP_CONN_RELAYING,
	BP_CONN_CLOSED, /* freed once the current epoll batch is handled */
};

struct bp_conn {
	struct bp_ev cev, bev; /* client (host) and backend (child) sides */
	int cfd, bfd;
	enum bp_conn_state state;
	struct bp_port *port;
	struct rk_list link;	/* in port->conns */
	struct rk_list wait;	/* in pool->waiters, bp_driver.ready or bp_driver.connecting */
	struct bp_dir up, down; /* client to backend, backend to client */
	struct sockaddr_storage peer; /* the client */
	socklen_t peer_len;
	bool c_in, c_out, b_in, b_out; /* readable/writable hints of both sides (builtin_tcp.c) */
	bool transparent;	       /* connecting with the client's address */
	bool transparent_failed;       /* that failed: connect as usual */
	unsigned interrupts;  /* calls cut short by the watchdog in a row (builtin_tcp.c) */
	uint64_t deadline_ms; /* of a transparent connect */
};

struct bp_flow {
	struct bp_ev ev;
	int fd; /* connected UDP socket in the child's namespace */
	struct bp_port *port;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} peer; /* the client, in the listening socket's family */
	socklen_t peer_len;
	uint64_t last_ms;
	struct rk_list link; /* in port->conns, least recently used first */
	struct bp_flow *hnext;
};

#define BP_POOL_MAX_TARGET 1024	 /* sockets kept at hand, per family and type */
#define BP_UDP_BUF_SIZE	   65536 /* larger than any datagram */

#define BP_POOL_FAMILIES 2 /* AF_INET, AF_INET6 */
#define BP_POOL_TYPES	 2 /* SOCK_STREAM, SOCK_DGRAM */

/* Source-IP transparency: the child sets its routing up when the first client needs it. */
enum bp_transparent {
	BP_TRANSPARENT_OFF, /* --source-ip-transparent=false, no backend, or the set-up failed */
	BP_TRANSPARENT_UNKNOWN,
	BP_TRANSPARENT_ASKED,
	BP_TRANSPARENT_READY,
};

enum bp_cmd_type {
	BP_CMD_NONE,
	BP_CMD_ADD,
	BP_CMD_REMOVE,
	BP_CMD_STOP,
	BP_CMD_DRAIN, /* listeners close; the loop ends once the connections are done */
};

struct bp_driver {
	struct rk_port_backend base;
	struct rk_builtin_config cfg;
	int epfd, wakefd;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t op_lock; /* serialises add and remove */
	pthread_mutex_t lock;	 /* guards what follows, up to the thread's own state */
	pthread_cond_t cond;
	enum bp_cmd_type cmd;
	struct bp_port *cmd_port;	      /* BP_CMD_ADD */
	int cmd_id;			      /* BP_CMD_REMOVE */
	unsigned drain_idle_ms, drain_max_ms; /* BP_CMD_DRAIN */
	bool drain_asked;		      /* the loop ends by itself: free only joins */
	bool cmd_done;
	struct rk_netns_id netns; /* where the child's sockets must come from */
	bool netns_known;	  /* until then none is taken */
	/* the transparency backend the maker resolved, NONE after a failed set-up */
	enum rk_transparent_backend backend;

	/* the thread's own state */
	struct bp_ev wake_ev, chan_ev;
	bool chan_dead;
	struct rk_list ports;
	struct rk_list ready; /* connections that still have work after their budget */
	struct rk_list dead_conns, dead_flows, dead_ports; /* closed during this batch */
	struct rk_list connecting;			   /* transparent connects, oldest first */
	enum bp_transparent transparent;
	struct rk_list transparent_waiters; /* connections waiting for the answer (ASKED) */
	unsigned n_paused;
	bool draining;				/* BP_CMD_DRAIN was carried out */
	bool progressed;			/* a connection moved bytes in this pass */
	uint64_t drain_start_ms, drain_last_ms; /* when it started; the last progress */
	struct bp_pool pools[BP_POOL_FAMILIES][BP_POOL_TYPES];
	unsigned pool_max; /* a pool's largest target: BP_POOL_MAX_TARGET, or less when the
			    * descriptor limit is low (the pools must not take what accept needs) */
	unsigned char *udp_buf;
	unsigned long rejected, rejected_said; /* descriptors from the child closed unused */
	timer_t watchdog;		       /* interrupts a call that blocks (see loop()) */
	bool watchdog_ok, watchdog_armed;
};

/* builtin.c */
int bp_pool_take(struct bp_driver *d, struct bp_pool *p);
void bp_pool_refill(struct bp_driver *d, struct bp_pool *p);
int bp_watch(struct bp_driver *d, int fd, struct bp_ev *ev, uint32_t events);

/* builtin_tcp.c */
void bp_tcp_accept(struct bp_driver *d, struct bp_port *port);
void bp_tcp_start(struct bp_driver *d, struct bp_conn *c);
void bp_tcp_event(struct bp_driver *d, struct bp_conn *c, bool backend, uint32_t events);
void bp_tcp_run(struct bp_driver *d, struct bp_conn *c);
void bp_tcp_close(struct bp_driver *d, struct bp_conn *c);
void bp_tcp_expire(struct bp_driver *d, uint64_t now);
void bp_tcp_transparent_answer(struct bp_driver *d, int err);

/* builtin_udp.c */
void bp_udp_receive(struct bp_driver *d, struct bp_port *port);
void bp_udp_reply(struct bp_driver *d, struct bp_flow *f);
void bp_udp_expire(struct bp_driver *d, struct bp_port *port, uint64_t now);
void bp_udp_close_all(struct bp_driver *d, struct bp_port *port);

/* builtin_pool.c */
/* The pool of sockets of that family and type. */
struct bp_pool *bp_pool_for(struct bp_driver *d, int family, int type);

/* Answers from the channel. The maker is out of the command's reach, but it lives in the
 * command's namespaces, and what it hands over decides where the parent connects: nothing
 * is trusted. Only what was asked for is kept, and only sockets of the asked kind made in
 * the child's network namespace. */
void bp_chan_readable(struct bp_driver *d);

/* Said at the tick, not per message: the command decides how often this happens. */
void bp_report_rejected(struct bp_driver *d);

/* Asks the child for what p lacks to reach its target. */
void bp_pool_request(struct bp_driver *d, struct bp_pool *p);

#endif
