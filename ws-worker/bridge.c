/*
 * bridge.c: the PAIR1 dialer to the broker (bridge.h).
 *
 * Why these options: NNG_OPT_RECVMAXSZ bounds what the broker may hand us
 * (PC_WIRE_MAX); a send buffer lets a burst of client frames queue while the
 * pipe is busy instead of failing; a modest receive buffer absorbs a burst of
 * room traffic while stdout is blocked; past it the broker's paced outbox for
 * this pipe grows, and when that overflows the broker closes the pipe: the
 * dialer reconnects and conn.c re-syncs every room (a message NNG dropped on
 * the way is a hole that conn.c repairs with FETCH).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/transport/ipc/ipc.h>

#include "bridge.h"
#include "log.h"

#define BRIDGE_SENDBUF       256
#define BRIDGE_RECVBUF       128
#define BRIDGE_RECONN_MIN_MS 100
#define BRIDGE_RECONN_MAX_MS 1000
#define BRIDGE_URL_MAX       108 /* sun_path */

static void
bridge_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ws_bridge *b = arg;
	uint64_t one = 1, uid = 0;

	switch (ev) {
	case NNG_PIPE_EV_ADD_PRE:
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) != 0 ||
		    uid != (uint64_t)getuid()) {
			pc_log_err("broker pipe from uid %llu refused",
			           (unsigned long long)uid);
			nng_pipe_close(p);
		}
		return;
	case NNG_PIPE_EV_ADD_POST:
		atomic_store(&b->pipe_id, nng_pipe_id(p));
		atomic_fetch_add(&b->adds, 1);
		break;
	case NNG_PIPE_EV_REM_POST: {
		/* Only the pipe we use counts (a refused one never was). */
		unsigned id = (unsigned)nng_pipe_id(p);

		if (id == 0 ||
		    !atomic_compare_exchange_strong(&b->pipe_id, &id, 0))
			return;
		atomic_fetch_add(&b->rems, 1);
		break;
	}
	default:
		return;
	}
	if (write(b->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pc_log_warn("eventfd: %s", strerror(errno));
}

enum pc_err
ws_bridge_open(struct ws_bridge *b, const char *dir)
{
	char url[BRIDGE_URL_MAX + 8];
	int rv = 0, n;
	const char *what = "";
	enum pc_err e = PC_ERR_SYSTEM;

	memset(b, 0, sizeof(*b));
	b->recv_fd = b->event_fd = -1;
	atomic_init(&b->adds, 0);
	atomic_init(&b->rems, 0);
	atomic_init(&b->pipe_id, 0);
	n = snprintf(url, sizeof(url), "ipc://%s/workers", dir);
	if (n < 0 || (size_t)n - strlen("ipc://") >= BRIDGE_URL_MAX) {
		pc_log_err("broker socket path too long: %s", dir);
		return PC_ERR_INVALID;
	}
	if ((b->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		pc_log_err("eventfd: %s", strerror(errno));
		return PC_ERR_SYSTEM;
	}
	if ((rv = nng_pair1_open(&b->sock)) != 0) {
		what = "open";
		goto out;
	}
	b->open = 1;
	if ((rv = nng_socket_set_size(b->sock, NNG_OPT_RECVMAXSZ,
	                              PC_WIRE_MAX)) != 0 ||
	    (rv = nng_socket_set_int(b->sock, NNG_OPT_SENDBUF,
	                             BRIDGE_SENDBUF)) != 0 ||
	    (rv = nng_socket_set_int(b->sock, NNG_OPT_RECVBUF,
	                             BRIDGE_RECVBUF)) != 0 ||
	    (rv = nng_socket_set_ms(b->sock, NNG_OPT_SENDTIMEO,
	                            WS_BRIDGE_SEND_WAIT_MS)) != 0 ||
	    (rv = nng_socket_set_ms(b->sock, NNG_OPT_RECONNMINT,
	                            BRIDGE_RECONN_MIN_MS)) != 0 ||
	    (rv = nng_socket_set_ms(b->sock, NNG_OPT_RECONNMAXT,
	                            BRIDGE_RECONN_MAX_MS)) != 0) {
		what = "options";
		goto out;
	}
	if ((rv = nng_pipe_notify(b->sock, NNG_PIPE_EV_ADD_PRE, bridge_pipe_cb,
	                          b)) != 0 ||
	    (rv = nng_pipe_notify(b->sock, NNG_PIPE_EV_ADD_POST, bridge_pipe_cb,
	                          b)) != 0 ||
	    (rv = nng_pipe_notify(b->sock, NNG_PIPE_EV_REM_POST, bridge_pipe_cb,
	                          b)) != 0) {
		what = "pipe notify";
		goto out;
	}
	if ((rv = nng_socket_get_int(b->sock, NNG_OPT_RECVFD, &b->recv_fd)) !=
	    0) {
		what = "recv fd";
		goto out;
	}
	if ((rv = nng_dial(b->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		what = "dial";
		goto out;
	}
	e = PC_OK;
out:
	if (e != PC_OK) {
		if (rv != 0)
			pc_log_err("%s %s: %s", url, what, nng_strerror(rv));
		ws_bridge_close(b);
	}
	return e;
}

void
ws_bridge_close(struct ws_bridge *b)
{
	if (b->open)
		nng_close(b->sock);
	b->open = 0;
	b->recv_fd = -1;
	if (b->event_fd >= 0)
		close(b->event_fd);
	b->event_fd = -1;
}

enum pc_err
ws_bridge_send(void *arg, const struct pc_wire_hdr *h, const void *payload,
               size_t len)
{
	struct ws_bridge *b = arg;
	nng_msg *m = NULL;
	int rv;

	if (!b->open || len > PC_WIRE_MAX - PC_WIRE_HDR_LEN)
		return PC_ERR_UNAVAILABLE;
	if (nng_msg_alloc(&m, PC_WIRE_HDR_LEN + len) != 0)
		return PC_ERR_UNAVAILABLE;
	pc_wire_pack(h, nng_msg_body(m));
	if (len > 0)
		memcpy((unsigned char *)nng_msg_body(m) + PC_WIRE_HDR_LEN,
		       payload, len);
	rv = nng_sendmsg(b->sock, m, NNG_FLAG_NONBLOCK);
	/* The queue is full (a burst of client frames, a busy broker): wait a
	 * little, which stops reading stdin and so slows the client down. With
	 * no pipe at all, waiting would not help: conn only sends with one. */
	if (rv == NNG_EAGAIN && atomic_load(&b->pipe_id) != 0)
		rv = nng_sendmsg(b->sock, m, 0);
	if (rv != 0) {
		nng_msg_free(m); /* a failed send leaves the message with us */
		pc_log_warn("send %s: %s", pc_wire_type_name(h->type),
		            nng_strerror(rv));
		return PC_ERR_UNAVAILABLE;
	}
	return PC_OK;
}

enum pc_err
ws_bridge_recv(struct ws_bridge *b, nng_msg **out)
{
	nng_msg *m = NULL;
	int rv;

	if (!b->open)
		return PC_ERR_UNAVAILABLE;
	if ((rv = nng_recvmsg(b->sock, &m, NNG_FLAG_NONBLOCK)) != 0) {
		if (rv != NNG_EAGAIN)
			pc_log_warn("recv: %s", nng_strerror(rv));
		return PC_ERR_UNAVAILABLE;
	}
	*out = m;
	return PC_OK;
}

void
ws_bridge_events(struct ws_bridge *b, int *went, int *came)
{
	uint64_t v;
	unsigned adds, rems;

	while (read(b->event_fd, &v, sizeof(v)) > 0)
		;
	rems = atomic_load(&b->rems);
	adds = atomic_load(&b->adds);
	*went = rems != b->seen_rems;
	*came = adds != b->seen_adds && atomic_load(&b->pipe_id) != 0;
	b->seen_rems = rems;
	b->seen_adds = adds;
}
