/*
 * pipechat-broker: the single writer of messages (contract sections 1, 2, 4).
 *
 * Order: settings (`-n` checks them and exits), log, signals (blocked and
 * read through a signalfd, before any thread exists so NNG's and the store's
 * threads never take them), the JWT secret, the database and its advisory
 * lock (a second broker on the same database exits here with a clear
 * message), then the listeners, then one loop.
 *
 * Threads: this main thread owns every pipe, room and subscription and is
 * the only one that sends to workers; the store thread (store.c) owns the
 * PostgreSQL connection; NNG runs its own (for the API and for workers on
 * other machines; local workers are served in this thread, splisten.h).
 * The loop polls the local workers' epoll set, the NNG sockets, the
 * pipe-event and store eventfds and the signalfd, with a timeout for the
 * one-second TICK and for paced sends (link.c), and none while local
 * workers' messages already read wait.
 * SIGTERM/SIGINT stop it and everything is freed, so LeakSanitizer is quiet.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "auth.h"
#include "call.h"
#include "cluster.h"
#include "clock.h"
#include "deliver.h"
#include "fanout.h"
#include "ingest.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "online.h"
#include "presence.h"
#include "settings.h"
#include "store.h"
#include "token.h"

#define MAIN_RECV_BATCH 4096 /* worker messages per loop turn */
#define MAIN_TICK_MS    1000
#define MAIN_STATS_MS   60000

enum { FD_SIG, FD_WORKERS, FD_NATIVE, FD_API, FD_EVENTS, FD_STORE, FD__MAX };

static void
usage(void)
{
	fprintf(stderr, "usage: pipechat-broker [-n]\n"
	                "  -n  check the settings (environment, PIPECHAT_CONF) "
	                "and exit\n");
}

static int
main_signals(sigset_t *set)
{
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, set, NULL) != 0)
		return -1;
	fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd;
}

/* Non-zero when a stop signal is waiting (consumed). */
static int
main_stopped(int sfd)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			pc_log_info(
			        "SIGHUP ignored (settings are read at start)");
		else
			stop = 1;
	}
	return stop;
}

/* Takes the lock and starts the store, waiting for the database. */
static int
main_store(const struct settings *s, int sfd)
{
	enum pc_err e;
	int tries = 0;

	for (;;) {
		e = store_start(s);
		if (e == PC_OK)
			return 0;
		if (e == PC_ERR_CONFLICT) {
			pc_log_err("another pipechat-broker already runs for "
			           "shard %" PRId64 " of this database (advisory "
			           "lock held); refusing to start a second writer",
			           s->shard);
			fprintf(stderr,
			        "pipechat-broker: another broker already "
			        "runs for shard %" PRId64 " of this database\n",
			        s->shard);
			return -1;
		}
		if (e != PC_ERR_UNAVAILABLE) {
			pc_log_err("cannot start the store thread");
			return -1;
		}
		if (tries++ % 10 == 0)
			pc_log_warn("waiting for the database");
		if (main_stopped(sfd))
			return -1;
		sleep(1);
	}
}

static void
main_loop(int sfd)
{
	struct pollfd pfd[FD__MAX];
	struct store_job *list, *next;
	struct timespec ts;
	nng_msg *m;
	uint32_t pipe;
	int64_t now, next_tick, next_stats, wait_us = -1, t_us;
	uint64_t frames, msgs, overflows, drops;
	size_t i;

	memset(pfd, 0, sizeof(pfd));
	pfd[FD_SIG].fd = sfd;
	pfd[FD_WORKERS].fd = link_workers_fd();
	pfd[FD_NATIVE].fd = link_native_fd();
	pfd[FD_API].fd = link_api_fd();
	pfd[FD_EVENTS].fd = link_events_fd();
	pfd[FD_STORE].fd = store_fd();
	for (i = 0; i < FD__MAX; i++)
		pfd[i].events = POLLIN;
	next_tick = pc_clock_mono_ms() + MAIN_TICK_MS;
	next_stats = pc_clock_mono_ms() + MAIN_STATS_MS;
	for (;;) {
		now = pc_clock_mono_ms();
		t_us = (next_tick - now) * 1000;
		if (t_us < 0)
			t_us = 0;
		if (wait_us >= 0 && wait_us < t_us)
			t_us = wait_us;
		if (link_pending())
			t_us = 0; /* messages already read wait */
		ts.tv_sec = t_us / 1000000;
		ts.tv_nsec = (t_us % 1000000) * 1000;
		if (ppoll(pfd, FD__MAX, &ts, NULL) < 0 && errno != EINTR) {
			pc_log_err("poll: %s", strerror(errno));
			break;
		}
		if ((pfd[FD_SIG].revents & POLLIN) && main_stopped(sfd))
			break;
		if (pfd[FD_NATIVE].revents & POLLIN)
			link_io();
		if (pfd[FD_EVENTS].revents & POLLIN)
			link_events();
		for (i = 0; i < MAIN_RECV_BATCH &&
		            link_recv_worker(&m, &pipe) == PC_OK;
		     i++) {
			if (link_alive(pipe))
				ingest_worker(pipe, nng_msg_body(m),
				              nng_msg_len(m));
			nng_msg_free(m);
		}
		for (i = 0; i < MAIN_RECV_BATCH && link_recv_api(&m) == PC_OK;
		     i++) {
			ingest_api(nng_msg_body(m), nng_msg_len(m));
			nng_msg_free(m);
		}
		if (pfd[FD_STORE].revents & POLLIN)
			for (list = store_take(); list != NULL; list = next) {
				next = list->next;
				deliver(list);
			}
		now = pc_clock_mono_ms();
		if (now >= next_tick) {
			ingest_tick(now);
			metrics_sample(now);
			next_tick = now + MAIN_TICK_MS;
		}
		if (now >= next_stats) {
			link_stats(&frames, &msgs, &overflows, &drops);
			pc_log_info("%zu sockets, %zu rooms in memory; %" PRIu64
			            " frames in %" PRIu64 " messages, %" PRIu64
			            " dropped by NNG, %" PRIu64
			            " pipes closed for "
			            "overflow",
			            auth_count(), fanout_count(), frames, msgs,
			            drops, overflows);
			next_stats = now + MAIN_STATS_MS;
		}
		wait_us = link_flush(pc_clock_mono_ms() * 1000);
	}
}

int
main(int argc, char **argv)
{
	struct settings s;
	struct pc_secret secret;
	char errbuf[4096];
	sigset_t set;
	int sfd = -1, ch, check = 0, rc = 1, store_up = 0, link_up = 0;

	memset(&s, 0, sizeof(s));
	memset(&secret, 0, sizeof(secret));
	while ((ch = getopt(argc, argv, "nh")) != -1) {
		switch (ch) {
		case 'n':
			check = 1;
			break;
		default:
			usage();
			return ch == 'h' ? 0 : 2;
		}
	}
	if (settings_load(&s, errbuf, sizeof(errbuf)) != PC_OK) {
		fprintf(stderr, "pipechat-broker: bad settings:\n%s", errbuf);
		return 1;
	}
	if (check) {
		settings_print(&s);
		settings_free(&s);
		printf("settings OK\n");
		return 0;
	}
	pc_log_open("pipechat-broker", 0, s.log_level);
	if ((sfd = main_signals(&set)) < 0) {
		pc_log_err("signals: %s", strerror(errno));
		goto out;
	}
	if (pc_secret_load(s.secret_file, 1, &secret) != PC_OK) {
		pc_log_err("cannot load the secret %s (it must exist with mode "
		           "0600 and at least %d bytes, or be creatable)",
		           s.secret_file, PC_SECRET_MIN);
		goto out;
	}
	auth_init(&secret);
	fanout_init(link_send);
	deliver_init(&s);
	ingest_init(&s);
	call_init(s.call_ring_s * 1000);
	online_init();
	if (cluster_prepare(&s) != PC_OK || main_store(&s, sfd) != 0)
		goto out;
	store_up = 1;
	if (link_open(s.broker_dir, (size_t)s.pipe_queue_max,
	              ingest_pipe_removed) != PC_OK)
		goto out;
	link_up = 1;
	if (cluster_listen(&s) != PC_OK) /* sharding: tcp/tls address */
		goto out;
	metrics_open(s.broker_dir); /* logs; the broker runs without it */
	pc_log_info("ready (batch max %" PRId64 ")", s.batch_max);
	main_loop(sfd);
	pc_log_info("stopping");
	rc = 0;
out:
	metrics_close();
	if (link_up)
		link_close();
	if (store_up)
		store_stop();
	ingest_fini();
	call_fini();
	online_fini();
	fanout_fini();
	presence_fini();
	auth_fini();
	pc_secret_wipe(&secret);
	settings_free(&s);
	if (sfd >= 0)
		close(sfd);
	nng_fini();
	return rc;
}
