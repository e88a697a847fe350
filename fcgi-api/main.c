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
 * requests share no mutable state but those two; accept is serialised with
 * a mutex, as in libfcgi's threaded example. Several such processes can
 * still share one socket (spawn-fcgi -F) since all state lives in
 * PostgreSQL.
 *
 * Shutdown: SIGTERM and SIGINT are blocked in every thread and taken by
 * sigwait in the main thread, which sets FCGX_ShutdownPending, writes to a
 * wake pipe the accepting thread polls next to the listening socket, and
 * nudges each thread with SIGUSR1 (a no-op handler without SA_RESTART) in
 * case it sits in accept(). Threads finish their request, leave, are
 * joined, and everything is freed so LeakSanitizer can report at exit.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_metrics.h"
#include "buf.h"
#include "call.h"
#include "db.h"
#include "ice.h"
#include "log.h"
#include "notify.h"
#include "password.h"
#include "req.h"
#include "resp.h"
#include "serve.h"
#include "settings.h"
#include "token.h"

#define MAIN_LISTEN_FD 0 /* FCGI_LISTENSOCK_FILENO: spawn-fcgi's socket */

struct main_thread {
	pthread_t tid;
	int started;
	const struct api_env *env;
};

/* This file's statics: set before the threads start, then read-only but
 * for the mutex. */
static pthread_mutex_t main_accept_mu = PTHREAD_MUTEX_INITIALIZER;
static int main_wake[2] = {-1, -1};
static atomic_int main_stopping;

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

/* Waits until the listening socket has a connection (1) or shutdown (0). */
static int
main_wait_listen(void)
{
	struct pollfd p[2];

	for (;;) {
		memset(p, 0, sizeof(p));
		p[0].fd = MAIN_LISTEN_FD;
		p[0].events = POLLIN;
		p[1].fd = main_wake[0];
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pc_log_err("poll: %s", strerror(errno));
			return 0;
		}
		if (p[1].revents != 0)
			return 0;
		if (p[0].revents & (POLLERR | POLLNVAL)) {
			/* Nothing more can be accepted: stop the process so
			 * its supervisor starts a fresh one. */
			pc_log_err("the FastCGI socket failed");
			kill(getpid(), SIGTERM);
			return 0;
		}
		if (p[0].revents & POLLIN)
			return 1;
	}
}

static int
main_read(void *arg, char *buf, int n)
{
	return FCGX_GetStr(buf, n, (FCGX_Stream *)arg);
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
	if (resp_render(&resp, out) == PC_OK)
		FCGX_PutStr(out->data, (int)out->len, r->out);
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
	if (FCGX_InitRequest(&r, MAIN_LISTEN_FD, 0) != 0) {
		pc_log_err("FCGX_InitRequest failed");
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&main_accept_mu);
		/* A kept-open connection (FCGI_KEEP_CONN) needs no accept. */
		if (r.ipcFd < 0 && !main_wait_listen())
			rc = -1;
		else
			rc = FCGX_Accept_r(&r);
		pthread_mutex_unlock(&main_accept_mu);
		if (rc < 0 && atomic_load(&main_stopping))
			break;
		if (rc < 0) {
			/* A failed accept (ECONNABORTED, EMFILE…) must not cost
			 * a thread: log, breathe, go on. */
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
	if (pipe2(main_wake, O_CLOEXEC) != 0) {
		pc_log_err("pipe2: %s", strerror(errno));
		goto out;
	}

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
	if (write(main_wake[1], "x", 1) < 0)
		pc_log_err("write: %s", strerror(errno));
	for (i = 0; i < set.threads; i++) {
		if (threads[i].started)
			pthread_kill(threads[i].tid, SIGUSR1);
	}
	for (i = 0; i < set.threads; i++) {
		if (threads[i].started)
			pthread_join(threads[i].tid, NULL);
	}
out:
	free(threads);
	if (main_wake[0] >= 0) {
		close(main_wake[0]);
		close(main_wake[1]);
	}
	notify_close();
	broker_metrics_close();
	password_fini();
	ice_close();
	pc_secret_wipe(&secret);
	settings_free(&set);
	return status;
}
