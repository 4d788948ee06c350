/* SPDX-License-Identifier: Apache-2.0 */
/* Signals: Go-style names for exit messages, the forwarding policy shared by the parent and
 * the child, and blocking every signal for signalfd. */
#ifndef RK_SIG_H
#define RK_SIG_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

/* The lowercase description Go prints for sig ("user defined signal 1"), or "signal N".
 * buf must hold at least 32 bytes; returns buf or a static string. */
const char *rk_sig_name(int sig, char *buf, unsigned long size);

/* Formats a wait status the way Go's ExitError does: "exit status N" or "signal: <name>". */
void rk_sig_format_status(int status, char *buf, unsigned long size);

/* Fills set with every signal, blocks it, and stores the previous mask in *ret_old
 * (may be NULL). Returns 0 or -errno. */
int rk_sig_block_all(sigset_t *set, sigset_t *ret_old);

/* Whether a signal read from signalfd should be forwarded to a process. same_pgrp says
 * whether that process shares our process group: a terminal then delivered the signal to it
 * already, and forwarding would deliver it twice. SIGCHLD, SIGPIPE and SIGURG are never
 * forwarded (upstream's rule). */
bool rk_sig_should_forward(const struct signalfd_siginfo *si, bool same_pgrp);

/* True for the stop signals of job control (SIGTSTP, SIGTTIN, SIGTTOU), which a terminal or a
 * shell sends; SIGSTOP is not one of them. */
bool rk_sig_is_job_stop(int sig);

/* True for the signals that end a process by default and that a user sends to stop
 * something: SIGHUP, SIGINT, SIGQUIT, SIGTERM. */
bool rk_sig_is_termination(int sig);

/* In a process rootlesskit forks for itself (the engine, a network helper): moves it to a
 * process group of its own and ignores the terminal's signals (SIGINT, SIGQUIT, SIGHUP,
 * SIGTSTP, SIGTTIN, SIGTTOU; an exec keeps that), so that Ctrl-C reaches the command, not
 * the network under it: only rootlesskit's own SIGTERM (or SIGKILL) stops it.
 * Async-signal-safe. */
void rk_sig_leave_terminal(void);

/* Job control through rootlesskit's processes: when a process of ours sees its child stop,
 * it stops too, so that the shell sees the job stopped, but only for a stop of the job:
 * one a job-control signal (SIGTSTP, SIGTTIN, SIGTTOU) reached us for as well, as the
 * terminal sends it to the whole foreground group. The command can stop the supervisor by
 * other means (SIGSTOP, ptrace), which must not stop rootlesskit. The two events come in
 * either order (a signalfd yields SIGCHLD before SIGTSTP). */
struct rk_job_stop {
	bool asked;	    /* a job-control signal came, and no stop yet */
	bool child_stopped; /* the child stopped, and no job-control signal yet */
};

/* A signal we read. Returns true when we must stop now. */
bool rk_job_stop_signal(struct rk_job_stop *j, int sig);

/* Our child stopped with stopsig (job_only: only a job-control signal's stop counts).
 * Returns true when we must stop now. */
bool rk_job_stop_child(struct rk_job_stop *j, int stopsig, bool job_only);

/* Lets a caller stop a wait (start-up watches its signalfd): when fd becomes readable,
 * stop(arg) is called, and the wait ends, its helpers killed, if it returns true. */
struct rk_cancel {
	int fd;
	bool (*stop)(void *arg);
	void *arg;
};

/* Waits until fd (none when < 0) has events, or until end_ms of rk_now_ms(), watching
 * cancel (may be NULL). fd comes first when both are ready: an answer that arrives with a
 * signal is taken. Returns 1 when fd is ready, 0 at end_ms, -EINTR when cancel stopped the
 * wait, or -errno. */
int rk_wait_fd(int fd, short events, uint64_t end_ms, const struct rk_cancel *cancel);

#endif
