/*
 * main.c: pipechat-api's entry point: settings, the JWT secret, the
 * password hasher, the broker channel, then FastCGI request threads on the
 * socket spawn-fcgi hands over as descriptor 0, until SIGTERM or SIGINT.
 * `-n` checks the configuration and exits.
 *
 * Why threads in one process rather than forked processes: the dummy
 * password hash (made once at start so unknown users cost the same time)
 * and the semaphore that caps concurrent argon2id hashes (19 MiB each) must
 * be shared by every request, which a process-wide static does simply and a
 * fork would not; the JWT secret and settings are loaded and checked once.
 * Each thread owns its FCGX_Request and its own PostgreSQL connection, so
 * requests share no mutable state but those two. Several such processes can
 * still share one socket (spawn-fcgi -F) since all state lives in
 * PostgreSQL.
 *
 * Accept: every thread blocks in accept() on the listening socket itself
 * (the kernel wakes one waiter per connection), with no mutex and no poll
 * in front. libfcgi's threaded example serialises accept with a mutex; here
 * that mutex was held while libfcgi also waited for and read the request's
 * parameters, and cost a futex wake and a poll per request (strace -c under
 * bench/api: 15 system calls per history request before, fcgi-api/README.md,
 * "Speed").
 *
 * Answer: written by fcgiout_send in one writev (libfcgi's 8 KiB writer
 * made two or three writes of a history page). Close: on a Unix socket the
 * connection is closed at once (FCGX_Detach): libfcgi otherwise shuts down
 * its write side and waits for the web server to close first, which kept
 * the thread from its next request for a round trip through the web
 * server. That wait guards against a reset destroying the answer when
 * unread request bytes remain, so the close is at once only when none can:
 * the request had no body or all of it was read. (Closing a Unix socket
 * with unread bytes in it sets ECONNRESET on the peer too: nginx, still
 * sending a 100 KB body to an API that had answered 413 after 64 KiB, then
 * failed the request now and then, test_deploy_nginx.py's 413 test.) On
 * TCP the wait stays.
 *
 * Shutdown: SIGTERM and SIGINT are blocked in every thread and taken by
 * sigwait in the main thread, which sets FCGX_ShutdownPending and nudges
 * each thread waiting in FCGX_Accept_r with SIGUSR1 (a no-op handler
 * without SA_RESTART, and FCGI_FAIL_ACCEPT_ON_INTR) every 20 ms until it
 * has left: a nudge that lands just before a thread enters accept() is
 * repeated, and a thread busy with a request is not interrupted. Threads
 * finish their request, leave, are joined, and everything is freed so
 * LeakSanitizer can report at exit.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_metrics.h"
#include "buf.h"
#include "call.h"
#include "db.h"
#include "fcgiout.h"
#include "histcache.h"
#include "ice.h"
#include "log.h"
#include "notify.h"
#include "password.h"
#include "req.h"
#include "resp.h"
#include "serve.h"
#include "settings.h"
#include "stamp.h"
#include "token.h"

#define MAIN_LISTEN_FD 0 /* FCGI_LISTENSOCK_FILENO: spawn-fcgi's socket */

#define MAIN_NUDGE_US 20000 /* between shutdown nudges */

struct main_thread {
	pthread_t tid;
	int started;
	atomic_int accepting; /* in FCGX_Accept_r: may be nudged */
	atomic_int done;      /* set by the thread as it leaves */
	const struct api_env *env;
};

/* This file's statics: set before the threads start, then read-only. */
static atomic_int main_stopping;
static int main_unix; /* the FastCGI socket is AF_UNIX */

static void
main_usage(void)
{
	fprintf(stderr,
	        "usage: pipechat-api [-n]\n"
	        "  run under spawn-fcgi (the FastCGI socket is descriptor 0);\n"
	        "  settings come from PIPECHAT_* variables; -n checks them and "
	        "exits\n");
}

static void
main_nudge(int sig)
{
	(void)sig; /* only interrupts a blocking accept() */
}

/* Non-zero when fd is a Unix-domain socket (spawn-fcgi -s, systemd's
 * ListenStream=/path), zero for TCP or when unknown. */
static int
main_is_unix(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return 0;
	return sa.ss_family == AF_UNIX;
}

/* Nudges every started thread out of accept() until all have left. A
 * thread busy with a request is left alone (a signal would interrupt its
 * reads); it sees main_stopping when it is done. */
static void
main_nudge_all(struct main_thread *threads, int64_t n)
{
	int64_t i, left;

	do {
		left = 0;
		for (i = 0; i < n; i++) {
			if (!threads[i].started ||
			    atomic_load(&threads[i].done))
				continue;
			if (atomic_load(&threads[i].accepting))
				pthread_kill(threads[i].tid, SIGUSR1);
			left++;
		}
		if (left > 0)
			usleep(MAIN_NUDGE_US);
	} while (left > 0);
}

static int
main_read(void *arg, char *buf, int n)
{
	return FCGX_GetStr(buf, n, (FCGX_Stream *)arg);
}

/* Non-zero when the web server has nothing more to send on r: no body,
 * or all of it read (see the top: only then is closing at once safe). */
static int
main_body_done(FCGX_Request *r)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);

	return cl == NULL || cl[0] == '\0' || strcmp(cl, "0") == 0 ||
	       FCGX_HasSeenEOF(r->in) == EOF;
}

static void
main_handle(const struct api_env *env, FCGX_Request *r, struct db *db,
            struct pc_buf *out)
{
	struct req req;
	struct resp resp;

	req_init(&req, r->envp, env->set->trusted_proxies, main_read, r->in);
	resp_init(&resp);
	serve(env, db, &req, &resp);
	if (resp_render(&resp, out) == PC_OK) {
		/* The records are written here; libfcgi's writers must add
		 * none at FCGX_Finish_r (FCGX_FClose skips closed streams). */
		if (fcgiout_send(r->ipcFd, r->requestId, out->data, out->len) !=
		    PC_OK)
			pc_log_debug("answer not sent: %s", strerror(errno));
		r->out->wasFCloseCalled = 1;
		r->err->wasFCloseCalled = 1;
		if (main_unix && main_body_done(r))
			FCGX_Detach(r);
	}
	pc_log_debug("%s %s -> %d", req.method,
	             req_env(r->envp, "REQUEST_URI")
	                     ? req_env(r->envp, "REQUEST_URI")
	                     : "-",
	             resp.status);
	resp_free(&resp);
	req_free(&req);
	pc_buf_reset(out);
}

static void *
main_worker(void *arg)
{
	struct main_thread *t = arg;
	FCGX_Request r;
	struct db db;
	struct pc_buf out;
	int rc;

	memset(&r, 0, sizeof(r));
	db_init(&db, t->env->set->db);
	pc_buf_init(&out, RESP_BODY_MAX + 16384);
	if (FCGX_InitRequest(&r, MAIN_LISTEN_FD, FCGI_FAIL_ACCEPT_ON_INTR) !=
	    0) {
		pc_log_err("FCGX_InitRequest failed");
		goto out;
	}
	while (!atomic_load(&main_stopping)) {
		/* A kept-open connection (FCGI_KEEP_CONN) needs no accept:
		 * FCGX_Accept_r reads its next request. */
		atomic_store(&t->accepting, 1);
		rc = FCGX_Accept_r(&r);
		atomic_store(&t->accepting, 0);
		if (rc < 0 && (atomic_load(&main_stopping) || rc == -EINTR))
			continue;
		if (rc == -EBADF || rc == -EINVAL || rc == -ENOTSOCK) {
			/* Nothing more can be accepted: stop the process so
			 * its supervisor starts a fresh one. */
			pc_log_err("the FastCGI socket failed (%d)", rc);
			kill(getpid(), SIGTERM);
			break;
		}
		if (rc < 0) {
			/* A failed accept (EMFILE, ENOBUFS…) must not cost a
			 * thread: log, breathe, go on. */
			pc_log_warn("FCGX_Accept_r failed (%d)", rc);
			usleep(10000);
			continue;
		}
		main_handle(t->env, &r, &db, &out);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 1);
out:
	db_close(&db);
	pc_buf_free(&out, 0);
	histcache_thread_free();
	atomic_store(&t->done, 1);
	return NULL;
}

/* -n: settings are loaded already; check the secret without creating it. */
static int
main_check(const struct api_settings *set)
{
	struct pc_secret secret;
	struct stat st;
	enum pc_err rc;
	int saved;

	settings_print(set);
	rc = ice_open(set);
	saved = errno;
	ice_close();
	if (rc != PC_OK) {
		fprintf(stderr, "pipechat-api: TURN secret file %s: %s\n",
		        set->turn_secret_file,
		        rc == PC_ERR_SYSTEM
		                ? strerror(saved)
		                : "too short or readable by others");
		return 1;
	}
	if (stat(set->secret_file, &st) != 0 && errno == ENOENT) {
		printf("secret file %s does not exist yet: it will be created"
		       " on first start\n",
		       set->secret_file);
		return 0;
	}
	memset(&secret, 0, sizeof(secret));
	rc = pc_secret_load(set->secret_file, 0, &secret);
	pc_secret_wipe(&secret);
	if (rc != PC_OK) {
		fprintf(stderr, "pipechat-api: secret file %s: %s\n",
		        set->secret_file,
		        rc == PC_ERR_SYSTEM
		                ? strerror(errno)
		                : "too short or readable by others");
		return 1;
	}
	printf("configuration ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct api_settings set;
	struct pc_secret secret;
	struct api_env env;
	struct main_thread *threads = NULL;
	struct sigaction sa;
	sigset_t stop, old;
	char errbuf[4096];
	int check = 0, opt, sig = 0, status = 1;
	int64_t i;
	enum pc_err rc;

	memset(&set, 0, sizeof(set));
	memset(&secret, 0, sizeof(secret));
	memset(&env, 0, sizeof(env));
	while ((opt = getopt(argc, argv, "nh")) != -1) {
		switch (opt) {
		case 'n':
			check = 1;
			break;
		default:
			main_usage();
			return opt == 'h' ? 0 : 1;
		}
	}
	if (optind != argc) {
		main_usage();
		return 1;
	}
	errbuf[0] = '\0';
	rc = settings_load(&set, errbuf, sizeof(errbuf));
	if (rc != PC_OK) {
		fprintf(stderr, "pipechat-api: bad configuration:\n%s\n",
		        errbuf);
		return 1;
	}
	if (check) {
		status = main_check(&set);
		settings_free(&set);
		return status;
	}
	pc_log_open("pipechat-api", 0, set.log_level);

	rc = pc_secret_load(set.secret_file, 1, &secret);
	if (rc != PC_OK) {
		pc_log_err("secret file %s: %s", set.secret_file,
		           rc == PC_ERR_SYSTEM
		                   ? strerror(errno)
		                   : "too short or readable by others");
		goto out;
	}
	rc = ice_open(&set);
	if (rc != PC_OK) {
		pc_log_err("TURN secret file %s: %s", set.turn_secret_file,
		           rc == PC_ERR_SYSTEM
		                   ? strerror(errno)
		                   : "too short or readable by others");
		goto out;
	}
	if (password_init((int)set.hash_concurrency) != PC_OK)
		goto out;
	if (notify_open(&set) != PC_OK)
		goto out;
	if (stamp_open(&set.shards) != PC_OK)
		goto out; /* logged: writing without the board is unsafe */

	/* Before FCGX_Init, which installs its own SIGUSR1 handler only when
	 * none is set. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_nudge;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0) {
		pc_log_err("FCGX_Init failed");
		goto out;
	}
	if (FCGX_IsCGI()) {
		pc_log_err("descriptor 0 is not a FastCGI socket: run "
		           "pipechat-api under spawn-fcgi");
		goto out;
	}
	main_unix = main_is_unix(MAIN_LISTEN_FD);

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);

	env.set = &set;
	env.secret = &secret;
	env.routes = routes;
	env.nroutes = routes_count;
	threads = calloc((size_t)set.threads, sizeof(*threads));
	if (threads == NULL) {
		pc_log_err("out of memory");
		goto out;
	}
	for (i = 0; i < set.threads; i++) {
		threads[i].env = &env;
		if (pthread_create(&threads[i].tid, NULL, main_worker,
		                   &threads[i]) != 0) {
			pc_log_err("pthread_create: %s", strerror(errno));
			break;
		}
		threads[i].started = 1;
	}
	if (i == set.threads) {
		pc_log_info("ready: %lld threads, origins %s",
		            (long long)set.threads, set.origins);
		while (sigwait(&stop, &sig) != 0)
			;
		pc_log_info("signal %d: shutting down", sig);
		status = 0;
	}

	atomic_store(&main_stopping, 1);
	FCGX_ShutdownPending();
	main_nudge_all(threads, set.threads);
	for (i = 0; i < set.threads; i++) {
		if (threads[i].started)
			pthread_join(threads[i].tid, NULL);
	}
out:
	free(threads);
	notify_close();
	stamp_close();
	broker_metrics_close();
	password_fini();
	ice_close();
	pc_secret_wipe(&secret);
	settings_free(&set);
	return status;
}
