/*
 * link.c: NNG sockets, pipe bookkeeping and paced, batched sends (link.h).
 *
 * Pipe events arrive on NNG's threads; they are queued under a mutex and an
 * eventfd wakes the main thread, which alone touches the pipe table and the
 * outboxes. ADD_PRE (not ADD_POST) queues a new pipe, because ADD_PRE runs
 * before the pipe can receive: by the time a message from a pipe is read,
 * its ADD event is already queued, and link_recv_worker handles queued
 * events before returning the message.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/transport/ipc/ipc.h>

#include "clock.h"
#include "idmap.h"
#include "link.h"
#include "log.h"
#include "shard_tls.h"
#include "splisten.h"

#define LINK_SOCK_SENDBUF 8192 /* the socket's shared queue (NNG's maximum) */

struct link_item {
	unsigned char hdr[PC_WIRE_HDR_LEN];
	struct frame *f;
};

struct link_pipe {
	uint32_t id;
	int batch;
	int credit;          /* the worker returns CREDIT (link_set_credit) */
	unsigned inflight;   /* credit mode: NNG messages sent since the last
	                      * CREDIT (at most LINK_WINDOW) */
	int dirty;           /* listed in lk.dirty */
	int closing;         /* overflowed: closed, waiting for its removal */
	struct link_item *q; /* ring */
	size_t head, count, cap;
	size_t bytes;
	int64_t next_us; /* no flush before this */
};

struct link_ev {
	uint32_t pipe;
	int add;
};

static struct {
	nng_socket workers, api;
	int w_open, a_open;
	uid_t uid;
	size_t queue_max;
	link_removed_fn on_removed;
	pthread_mutex_t mu;
	int efd;
	struct link_ev *evs; /* guarded by mu */
	size_t nevs, evcap;
	int ev_overflow; /* guarded by mu: an event could not be queued */
	int closed; /* guarded by mu: callbacks after link_close do nothing */
	struct idmap pipes; /* id -> struct link_pipe, main thread */
	uint32_t *dirty;
	size_t ndirty, dirtycap;
	uint64_t frames, msgs, overflows;
	uint64_t credits, stalls; /* CREDITs received; flushes that found a
	                           * pipe's window full */
	nng_aio *rx, *tx; /* link_recv_now, link_send_now: main thread */
} lk = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .efd = -1,
        .workers = NNG_SOCKET_INITIALIZER,
        .api = NNG_SOCKET_INITIALIZER};

static void
link_queue_ev(uint32_t pipe, int add)
{
	struct link_ev *e;
	uint64_t one = 1;
	size_t cap;

	pthread_mutex_lock(&lk.mu);
	if (lk.closed) {
		pthread_mutex_unlock(&lk.mu);
		return;
	}
	if (lk.nevs == lk.evcap) {
		cap = lk.evcap * 2 + 64;
		if ((e = realloc(lk.evs, cap * sizeof(*e))) == NULL) {
			lk.ev_overflow = 1;
			pthread_mutex_unlock(&lk.mu);
			return;
		}
		lk.evs = e;
		lk.evcap = cap;
	}
	lk.evs[lk.nevs].pipe = pipe;
	lk.evs[lk.nevs].add = add;
	lk.nevs++;
	pthread_mutex_unlock(&lk.mu);
	if (write(lk.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pc_log_warn("eventfd: %s", strerror(errno));
}

/*
 * Non-blocking receive and send through one aio each, kept for the life of
 * the sockets. nng_recvmsg and nng_sendmsg allocate and free an aio per
 * call, and NNG 1.5.2's nni_aio_init draws a random number for it, which
 * glibc 2.36's arc4random takes from the getrandom system call: three or
 * four calls per message through the broker (the send, the worker's SEND
 * and CREDIT, and the receive that finds the queue empty). Measured with
 * perf during bench/broker --senders 100: arc4random alone was 2.6% of
 * the broker's samples. The main thread alone uses these two aios, one
 * call at a time, and waits for each (a zero timeout completes at once),
 * so reusing them is what the nng_*msg calls do, minus the allocation.
 */
static int
link_aio(nng_aio **a)
{
	int rv;

	if (*a != NULL)
		return 0;
	if ((rv = nng_aio_alloc(a, NULL, NULL)) != 0) {
		*a = NULL;
		return rv;
	}
	nng_aio_set_timeout(*a, NNG_DURATION_ZERO);
	return 0;
}

/* nng_recvmsg(s, msg, NNG_FLAG_NONBLOCK), without an aio per call. */
static int
link_recv_now(nng_socket s, nng_msg **msg)
{
	int rv;

	if ((rv = link_aio(&lk.rx)) != 0)
		return rv;
	nng_recv_aio(s, lk.rx);
	nng_aio_wait(lk.rx);
	if ((rv = nng_aio_result(lk.rx)) == 0) {
		*msg = nng_aio_get_msg(lk.rx);
		nng_aio_set_msg(lk.rx, NULL);
	} else if (rv == NNG_ETIMEDOUT)
		rv = NNG_EAGAIN;
	return rv;
}

/* nng_sendmsg(s, msg, NNG_FLAG_NONBLOCK), without an aio per call: takes
 * msg on success; on failure it stays the caller's. */
static int
link_send_now(nng_socket s, nng_msg *msg)
{
	int rv;

	if ((rv = link_aio(&lk.tx)) != 0)
		return rv;
	nng_aio_set_msg(lk.tx, msg);
	nng_send_aio(s, lk.tx);
	nng_aio_wait(lk.tx);
	if ((rv = nng_aio_result(lk.tx)) == NNG_ETIMEDOUT)
		rv = NNG_EAGAIN;
	nng_aio_set_msg(lk.tx, NULL);
	return rv;
}

/* NNG's thread. The peer must run as the broker's own user. */
static void
link_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	uint64_t uid = 0;
	int rv, is_workers = arg == &lk.workers;

	if (ev == NNG_PIPE_EV_ADD_PRE) {
		rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid);
		/* A tcp pipe (link_listen_net) has no uid: its listener's TLS
		 * already verified the peer's certificate. */
		if (rv != 0 && pc_pipe_is_net(p))
			rv = 0, uid = (uint64_t)lk.uid;
		if (rv != 0 || uid != (uint64_t)lk.uid) {
			pc_log_warn("refused a %s peer with uid %" PRIu64
			            " (%s)",
			            is_workers ? "worker" : "api", uid,
			            rv != 0 ? nng_strerror(rv) : "not ours");
			nng_pipe_close(p);
			return;
		}
		if (is_workers)
			link_queue_ev((uint32_t)nng_pipe_id(p), 1);
	} else if (ev == NNG_PIPE_EV_REM_POST && is_workers)
		link_queue_ev((uint32_t)nng_pipe_id(p), 0);
}

static void
link_pipe_free(struct link_pipe *lp)
{
	size_t i;

	for (i = 0; i < lp->count; i++)
		frame_unref(lp->q[(lp->head + i) % lp->cap].f);
	free(lp->q);
	free(lp);
}

/* splisten's events: its connections are pipes like NNG's. */
static void
link_native_ev(uint32_t pipe, int add)
{
	link_queue_ev(pipe, add);
}

static enum pc_err
link_listen(nng_socket *s, int is_workers, const char *dir, const char *name)
{
	char url[256];
	nng_listener l;
	int rv;

	snprintf(url, sizeof(url), "ipc://%s/%s", dir, name);
	if (strlen(url) - 6 > 107) {
		pc_log_err("%s: the socket path is longer than 107 bytes", url);
		return PC_ERR_SYSTEM;
	}
	/* Workers on this machine: splisten, without NNG's threads. The NNG
	 * socket stays for tcp:// and tls+tcp:// workers (link_listen_net). */
	if (is_workers && splisten_open(url + 6, lk.uid, PC_WIRE_MAX,
	                                lk.queue_max, link_native_ev) != PC_OK)
		return PC_ERR_SYSTEM;
	rv = is_workers ? nng_pair1_open_poly(s) : nng_pull0_open(s);
	if (rv != 0)
		goto fail;
	if ((rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, PC_WIRE_MAX)) !=
	            0 ||
	    (is_workers && (rv = nng_socket_set_int(*s, NNG_OPT_SENDBUF,
	                                            LINK_SOCK_SENDBUF)) != 0) ||
	    (rv = nng_socket_set_int(*s, NNG_OPT_RECVBUF, 8192)) != 0 ||
	    (rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_PRE, link_pipe_cb,
	                          is_workers ? (void *)&lk.workers
	                                     : (void *)&lk.api)) != 0 ||
	    (rv = nng_pipe_notify(*s, NNG_PIPE_EV_REM_POST, link_pipe_cb,
	                          is_workers ? (void *)&lk.workers
	                                     : (void *)&lk.api)) != 0)
		goto fail;
	if (is_workers)
		return PC_OK;
	if ((rv = nng_listener_create(&l, *s, url)) != 0 ||
	    (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600)) !=
	            0 ||
	    (rv = nng_listener_start(l, 0)) != 0)
		goto fail;
	pc_log_info("listening on %s", url);
	return PC_OK;
fail:
	pc_log_err("%s: %s", url, nng_strerror(rv));
	return PC_ERR_SYSTEM;
}

enum pc_err
link_open(const char *dir, size_t queue_max, link_removed_fn on_removed)
{
	struct stat sb;

	lk.uid = geteuid();
	lk.queue_max = queue_max;
	lk.on_removed = on_removed;
	pthread_mutex_lock(&lk.mu);
	lk.closed = 0; /* open again after a link_close (unit tests) */
	pthread_mutex_unlock(&lk.mu);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		pc_log_err("mkdir %s: %s", dir, strerror(errno));
		return PC_ERR_SYSTEM;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		pc_log_err("%s is not a directory", dir);
		return PC_ERR_SYSTEM;
	}
	if (sb.st_uid != lk.uid || (sb.st_mode & 077) != 0) {
		if (sb.st_uid != lk.uid || chmod(dir, 0700) != 0) {
			pc_log_err("%s must belong to uid %u with mode 0700",
			           dir, (unsigned)lk.uid);
			return PC_ERR_SYSTEM;
		}
		pc_log_warn("%s: mode tightened to 0700", dir);
	}
	if ((lk.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return PC_ERR_SYSTEM;
	if (link_listen(&lk.workers, 1, dir, "workers") != PC_OK)
		return PC_ERR_SYSTEM;
	lk.w_open = 1;
	if (link_listen(&lk.api, 0, dir, "api") != PC_OK)
		return PC_ERR_SYSTEM;
	lk.a_open = 1;
	return PC_OK;
}

void
link_close(void)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	pthread_mutex_lock(&lk.mu);
	lk.closed = 1;
	pthread_mutex_unlock(&lk.mu);
	splisten_close();
	if (lk.w_open)
		nng_close(lk.workers);
	if (lk.a_open)
		nng_close(lk.api);
	lk.w_open = lk.a_open = 0;
	if (lk.rx != NULL)
		nng_aio_free(lk.rx);
	if (lk.tx != NULL)
		nng_aio_free(lk.tx);
	lk.rx = lk.tx = NULL;
	while (idmap_next(&lk.pipes, &pos, &key, &val))
		link_pipe_free(val);
	idmap_free(&lk.pipes);
	free(lk.dirty);
	lk.dirty = NULL;
	lk.ndirty = lk.dirtycap = 0;
	pthread_mutex_lock(&lk.mu);
	free(lk.evs);
	lk.evs = NULL;
	lk.nevs = lk.evcap = 0;
	pthread_mutex_unlock(&lk.mu);
	if (lk.efd >= 0)
		close(lk.efd);
	lk.efd = -1;
}

static int
link_fd(nng_socket s, int open)
{
	int fd = -1;

	if (!open || nng_socket_get_int(s, NNG_OPT_RECVFD, &fd) != 0)
		return -1;
	return fd;
}

int
link_workers_fd(void)
{
	return link_fd(lk.workers, lk.w_open);
}

int
link_api_fd(void)
{
	return link_fd(lk.api, lk.a_open);
}

int
link_events_fd(void)
{
	return lk.efd;
}

int
link_native_fd(void)
{
	return splisten_fd();
}

void
link_io(void)
{
	splisten_io(pc_clock_mono_ms());
}

int
link_pending(void)
{
	return splisten_ready();
}

/* Handles queued events; reads the eventfd only when asked (the main loop
 * does when it polled readable), so the per-message check costs no syscall. */
static void
link_events_take(int drain_fd)
{
	struct link_ev *evs;
	struct link_pipe *lp;
	size_t n, i;
	uint64_t v;
	int overflow;

	pthread_mutex_lock(&lk.mu);
	if (lk.nevs == 0 && !lk.ev_overflow) {
		pthread_mutex_unlock(&lk.mu);
		if (drain_fd && read(lk.efd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			pc_log_warn("eventfd: %s", strerror(errno));
		return;
	}
	evs = lk.evs;
	n = lk.nevs;
	overflow = lk.ev_overflow;
	lk.evs = NULL;
	lk.nevs = lk.evcap = 0;
	lk.ev_overflow = 0;
	pthread_mutex_unlock(&lk.mu);
	if (drain_fd && read(lk.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pc_log_warn("eventfd: %s", strerror(errno));
	if (overflow)
		pc_log_err("pipe events were lost (out of memory)");
	for (i = 0; i < n; i++) {
		if (evs[i].add) {
			if (idmap_get(&lk.pipes, evs[i].pipe) != NULL)
				continue;
			if ((lp = calloc(1, sizeof(*lp))) == NULL ||
			    idmap_put(&lk.pipes, evs[i].pipe, lp) != PC_OK) {
				free(lp);
				pc_log_err(
				        "out of memory: closing pipe %" PRIu32,
				        evs[i].pipe);
				link_close_pipe(evs[i].pipe);
				continue;
			}
			lp->id = evs[i].pipe;
			pc_log_debug("pipe %" PRIu32 " up", lp->id);
		} else if ((lp = idmap_del(&lk.pipes, evs[i].pipe)) != NULL) {
			pc_log_debug("pipe %" PRIu32 " down", lp->id);
			link_pipe_free(lp);
			if (lk.on_removed != NULL)
				lk.on_removed(evs[i].pipe);
		}
	}
	free(evs);
}

void
link_events(void)
{
	link_events_take(1);
}

int
link_alive(uint32_t pipe)
{
	struct link_pipe *lp = idmap_get(&lk.pipes, pipe);

	return lp != NULL && !lp->closing;
}

enum pc_err
link_recv_worker(nng_msg **msg, uint32_t *pipe)
{
	nng_msg *m;
	const unsigned char *body;
	size_t len;
	uint32_t id;
	int rv;

	if (splisten_recv(&id, &body, &len) == PC_OK) {
		/* copied into an NNG message: callers free what they got */
		if (nng_msg_alloc(&m, len) != 0) {
			pc_log_err("out of memory: closing pipe %" PRIu32, id);
			link_close_pipe(id);
			return PC_ERR_NOT_FOUND;
		}
		if (len > 0)
			memcpy(nng_msg_body(m), body, len);
		link_events_take(0);
		*pipe = id;
		*msg = m;
		return PC_OK;
	}
	if (!lk.w_open)
		return PC_ERR_NOT_FOUND;
	if ((rv = link_recv_now(lk.workers, &m)) != 0) {
		if (rv != NNG_EAGAIN)
			pc_log_warn("recv: %s", nng_strerror(rv));
		return PC_ERR_NOT_FOUND;
	}
	link_events_take(0);
	*pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(m));
	*msg = m;
	return PC_OK;
}

enum pc_err
link_recv_api(nng_msg **msg)
{
	int rv;

	if (!lk.a_open)
		return PC_ERR_NOT_FOUND;
	if ((rv = link_recv_now(lk.api, msg)) != 0) {
		if (rv != NNG_EAGAIN)
			pc_log_warn("recv: %s", nng_strerror(rv));
		return PC_ERR_NOT_FOUND;
	}
	return PC_OK;
}

void
link_close_pipe(uint32_t pipe)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;
	struct link_pipe *lp;
	size_t i;

	if ((lp = idmap_get(&lk.pipes, pipe)) != NULL) {
		for (i = 0; i < lp->count; i++)
			frame_unref(lp->q[(lp->head + i) % lp->cap].f);
		lp->head = lp->count = lp->bytes = 0;
		lp->closing = 1;
	}
	if (splisten_is(pipe)) {
		splisten_drop(pipe); /* its removal event is queued now */
		return;
	}
	p.id = pipe;
	nng_pipe_close(p);
}

void
link_set_batch(uint32_t pipe, int on)
{
	struct link_pipe *lp = idmap_get(&lk.pipes, pipe);

	if (lp != NULL)
		lp->batch = on;
}

void
link_set_credit(uint32_t pipe)
{
	struct link_pipe *lp = idmap_get(&lk.pipes, pipe);

	/* AUTH is a pipe's first message, so nothing was sent to it yet; a
	 * second AUTH on the same pipe keeps the count it has. */
	if (lp != NULL && !lp->credit) {
		lp->credit = 1;
		lp->inflight = 0;
	}
}

void
link_credit(uint32_t pipe)
{
	struct link_pipe *lp = idmap_get(&lk.pipes, pipe);

	/* Only the message that filled the window asks for a CREDIT, and
	 * nothing is sent after it until the CREDIT is back: so the CREDIT
	 * says every message sent so far has left NNG's queues. */
	if (lp != NULL && lp->credit) {
		lp->inflight = 0;
		lk.credits++;
	}
}

static int
link_grow(struct link_pipe *lp)
{
	struct link_item *q;
	size_t cap = lp->cap * 2 + 16, i;

	if ((q = malloc(cap * sizeof(*q))) == NULL)
		return -1;
	for (i = 0; i < lp->count; i++)
		q[i] = lp->q[(lp->head + i) % lp->cap];
	free(lp->q);
	lp->q = q;
	lp->cap = cap;
	lp->head = 0;
	return 0;
}

void
link_send(uint32_t pipe, const struct pc_wire_hdr *h, struct frame *f)
{
	struct link_pipe *lp = idmap_get(&lk.pipes, pipe);
	struct link_item *it;
	uint32_t *d;
	size_t cap;

	if (lp == NULL || lp->closing)
		return;
	if (lp->count == lp->cap && link_grow(lp) != 0)
		goto overflow;
	if (!lp->dirty) {
		if (lk.ndirty == lk.dirtycap) {
			cap = lk.dirtycap * 2 + 64;
			if ((d = realloc(lk.dirty, cap * sizeof(*d))) == NULL)
				goto overflow;
			lk.dirty = d;
			lk.dirtycap = cap;
		}
		lk.dirty[lk.ndirty++] = pipe;
		lp->dirty = 1;
	}
	it = &lp->q[(lp->head + lp->count) % lp->cap];
	pc_wire_pack(h, it->hdr);
	it->f = f != NULL ? frame_ref(f) : NULL;
	lp->count++;
	lp->bytes += PC_WIRE_BATCH_ITEM(f != NULL ? f->len : 0);
	lk.frames++;
	if (lp->bytes > lk.queue_max)
		goto overflow;
	return;
overflow:
	lk.overflows++;
	pc_log_warn("pipe %" PRIu32
	            ": %zu bytes queued; closing it (the worker "
	            "re-syncs)",
	            pipe, lp->bytes);
	link_close_pipe(pipe);
}

/* Builds the next NNG message from lp's queue: one item, or a BATCH of as
 * many as fit; flags (PC_WIRE_F_CREDIT) go on its outer header. *taken says
 * how many items it holds. */
static nng_msg *
link_build(struct link_pipe *lp, uint16_t flags, size_t *taken)
{
	struct link_item *it = &lp->q[lp->head];
	struct pc_wire_hdr bh;
	nng_msg *m;
	size_t n, size, len, flen;
	unsigned char *p;

	flen = it->f != NULL ? it->f->len : 0;
	size = PC_WIRE_HDR_LEN;
	for (n = 0; lp->batch && n < lp->count; n++) {
		it = &lp->q[(lp->head + n) % lp->cap];
		len = PC_WIRE_BATCH_ITEM(it->f != NULL ? it->f->len : 0);
		if (size + len > LINK_BATCH_BYTES)
			break;
		size += len;
	}
	if (n <= 1) {
		/* one message on its own */
		it = &lp->q[lp->head];
		if (nng_msg_alloc(&m, PC_WIRE_HDR_LEN + flen) != 0)
			return NULL;
		p = nng_msg_body(m);
		memcpy(p, it->hdr, PC_WIRE_HDR_LEN);
		if (flags != 0) {
			/* the packed flags: bytes 2-3, big-endian */
			p[2] |= (unsigned char)(flags >> 8);
			p[3] |= (unsigned char)(flags & 0xff);
		}
		if (flen > 0)
			memcpy(p + PC_WIRE_HDR_LEN, it->f->data, flen);
		*taken = 1;
		return m;
	}
	if (nng_msg_alloc(&m, size) != 0)
		return NULL;
	memset(&bh, 0, sizeof(bh));
	bh.version = PC_WIRE_VERSION;
	bh.type = PC_WIRE_BATCH;
	bh.flags = flags;
	p = nng_msg_body(m);
	pc_wire_pack(&bh, p);
	p += PC_WIRE_HDR_LEN;
	for (size_t i = 0; i < n; i++) {
		uint32_t be;

		it = &lp->q[(lp->head + i) % lp->cap];
		flen = it->f != NULL ? it->f->len : 0;
		be = htobe32((uint32_t)(PC_WIRE_HDR_LEN + flen));
		memcpy(p, &be, 4);
		memcpy(p + 4, it->hdr, PC_WIRE_HDR_LEN);
		if (flen > 0)
			memcpy(p + 4 + PC_WIRE_HDR_LEN, it->f->data, flen);
		p += PC_WIRE_BATCH_ITEM(flen);
	}
	*taken = n;
	return m;
}

static void
link_pop(struct link_pipe *lp, size_t n)
{
	struct link_item *it;

	while (n-- > 0 && lp->count > 0) {
		it = &lp->q[lp->head];
		lp->bytes -= PC_WIRE_BATCH_ITEM(it->f != NULL ? it->f->len : 0);
		frame_unref(it->f);
		it->f = NULL;
		lp->head = (lp->head + 1) % lp->cap;
		lp->count--;
	}
}

/* Hands lp's next message to NNG. 0 when sent, -1 when NNG's socket queue
 * is full or memory ran out (try again later). */
static int
link_send_one(struct link_pipe *lp, uint16_t flags)
{
	nng_pipe np = NNG_PIPE_INITIALIZER;
	nng_msg *m;
	size_t taken;
	enum pc_err rv;

	if ((m = link_build(lp, flags, &taken)) == NULL)
		return -1;
	if (splisten_is(lp->id)) {
		/* a write into the worker's socket; what it cannot take yet
		 * waits in the link, up to queue_max, then the pipe closes */
		rv = splisten_send(lp->id, nng_msg_body(m), nng_msg_len(m),
		                   NULL, 0);
		nng_msg_free(m);
		if (rv != PC_OK) {
			lk.overflows++;
			pc_log_warn("pipe %" PRIu32 ": its socket is full or "
			            "failed; closing it (the worker re-syncs)",
			            lp->id);
			link_close_pipe(lp->id);
			return 0;
		}
		lk.msgs++;
		link_pop(lp, taken);
		return 0;
	}
	np.id = lp->id;
	nng_msg_set_pipe(m, np);
	if (link_send_now(lk.workers, m) != 0) {
		/* the socket's queue is full: later */
		nng_msg_free(m);
		return -1;
	}
	lk.msgs++;
	link_pop(lp, taken);
	return 0;
}

/*
 * Credit mode: while the window has room, one message (a BATCH of all that
 * fits) at once, so nothing waits on a timer; the message that fills the
 * window asks for a CREDIT. Returns -1 when NNG's socket queue is full.
 */
static int
link_flush_credit(struct link_pipe *lp)
{
	uint16_t flags;

	while (lp->count > 0 && lp->inflight < LINK_WINDOW) {
		flags = lp->inflight + 1 == LINK_WINDOW ? PC_WIRE_F_CREDIT : 0;
		if (link_send_one(lp, flags) != 0)
			return -1;
		lp->inflight++;
	}
	if (lp->count > 0)
		lk.stalls++;
	return 0;
}

/* Paced mode (a worker that does not return CREDIT): LINK_BURST messages,
 * then LINK_GAP_US of rest. Returns -1 when NNG's socket queue is full. */
static int
link_flush_paced(struct link_pipe *lp, int64_t now_us)
{
	int burst, rv = 0;

	if (lp->next_us > now_us)
		return 0;
	for (burst = 0; burst < LINK_BURST && lp->count > 0; burst++)
		if ((rv = link_send_one(lp, 0)) != 0)
			break;
	if (burst > 0)
		lp->next_us = now_us + LINK_GAP_US;
	return rv;
}

int64_t
link_flush(int64_t now_us)
{
	struct link_pipe *lp;
	size_t i, k;
	int full = 0;
	int64_t wait = -1, w;

	for (i = 0, k = 0; i < lk.ndirty; i++) {
		lp = idmap_get(&lk.pipes, lk.dirty[i]);
		if (lp == NULL)
			continue; /* gone: drop from the list */
		if (splisten_is(lp->id)) {
			/* no window: the socket and splink's buffer queue it */
			while (lp->count > 0 && !lp->closing &&
			       link_send_one(lp, 0) == 0)
				;
			if (lp->count == 0 || lp->closing) {
				lp->dirty = 0;
				continue;
			}
			lk.dirty[k++] = lk.dirty[i]; /* out of memory: later */
			if (wait < 0 || LINK_GAP_US < wait)
				wait = LINK_GAP_US;
			continue;
		}
		if (!full && lp->count > 0 && !lp->closing)
			full = (lp->credit ? link_flush_credit(lp)
			                   : link_flush_paced(lp, now_us)) != 0;
		if (lp->count == 0 || lp->closing) {
			lp->dirty = 0;
			continue;
		}
		lk.dirty[k++] = lk.dirty[i];
		if (lp->credit && lp->inflight >= LINK_WINDOW && !full)
			continue; /* its CREDIT wakes the main loop */
		if (lp->credit)
			w = LINK_GAP_US; /* NNG's queue was full */
		else {
			w = lp->next_us > now_us ? lp->next_us - now_us : 0;
			if (full && w < LINK_GAP_US)
				w = LINK_GAP_US;
		}
		if (wait < 0 || w < wait)
			wait = w;
	}
	lk.ndirty = k;
	return wait;
}

void
link_stats(uint64_t *frames, uint64_t *msgs, uint64_t *overflows,
           uint64_t *drops)
{
	nng_stat *all = NULL, *sock, *st;

	*frames = lk.frames;
	*msgs = lk.msgs;
	*overflows = lk.overflows;
	*drops = 0;
	/* NNG counts what PAIR1 poly dropped at a full pipe queue */
	if (lk.w_open && nng_stats_get(&all) == 0) {
		if ((sock = nng_stat_find_socket(all, lk.workers)) != NULL &&
		    (st = nng_stat_find(sock, "tx_drop")) != NULL)
			*drops = nng_stat_value(st);
		nng_stats_free(all);
	}
}

void
link_credit_stats(uint64_t *credits, uint64_t *stalls)
{
	*credits = lk.credits;
	*stalls = lk.stalls;
}

/* ---- sharding (added for docs/scaling.md; see link.h) ---- */

static enum pc_err
link_listen_one(nng_socket s, const char *url, nng_tls_config *tls)
{
	nng_listener l;
	int rv;

	if ((rv = nng_listener_create(&l, s, url)) != 0 ||
	    (rv = nng_listener_set_bool(l, NNG_OPT_TCP_KEEPALIVE, true)) != 0 ||
	    (rv = nng_listener_set_bool(l, NNG_OPT_TCP_NODELAY, true)) != 0 ||
	    (tls != NULL &&
	     (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls)) != 0) ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		pc_log_err("%s: %s", url, nng_strerror(rv));
		return PC_ERR_SYSTEM;
	}
	pc_log_info("listening on %s", url);
	return PC_OK;
}

enum pc_err
link_listen_net(const char *workers_url, const char *api_url,
                nng_tls_config *tls)
{
	if (!lk.w_open || !lk.a_open)
		return PC_ERR_SYSTEM;
	if (link_listen_one(lk.workers, workers_url, tls) != PC_OK ||
	    link_listen_one(lk.api, api_url, tls) != PC_OK)
		return PC_ERR_SYSTEM;
	return PC_OK;
}
