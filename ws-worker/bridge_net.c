/*
 * bridge_net.c: a broker on another machine through libnng's PAIR1 dialer
 * (bridge_net.h), tcp:// and tls+tcp://.
 *
 * Why these options: NNG_OPT_RECVMAXSZ bounds what the broker may hand us
 * (PC_WIRE_MAX); a send buffer lets a burst of client frames queue while the
 * pipe is busy instead of failing; the broker has at most two messages on
 * their way to us (credit flow control, broker/link.h: bridge.c answers the
 * one that asks with a CREDIT the moment it is received, before it is
 * handled), so the receive buffer never holds more than two; what the
 * broker has for us meanwhile waits in its outbox for this pipe, and when
 * that overflows (a worker that stopped reading) the broker closes the pipe:
 * the dialer reconnects and conn.c re-syncs every room.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/transport/ipc/ipc.h>

#include "bridge.h"
#include "bridge_net.h"
#include "log.h"
#include "shard_tls.h"

#define NET_SENDBUF       256
#define NET_RECVBUF       128
#define NET_RECONN_MIN_MS 100
#define NET_RECONN_MAX_MS 1000

struct ws_bridge_net {
	nng_socket sock;
	int open;
	int recv_fd;            /* poll for POLLIN: a message can be received */
	int event_fd;           /* poll for POLLIN: pipes came or went */
	int event_ready;        /* event_fd was readable at the last io */
	atomic_uint adds, rems; /* pipes added, and removed while in use */
	atomic_uint pipe_id;    /* the pipe in use, 0 for none */
	unsigned seen_adds, seen_rems;
	nng_msg *cur; /* the message last received, freed at the next */
};

int
ws_bridge_net_available(void)
{
	return 1;
}

static void
net_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ws_bridge_net *n = arg;
	uint64_t one = 1, uid = 0;

	switch (ev) {
	case NNG_PIPE_EV_ADD_PRE:
		/* A tls+tcp:// broker has no uid: TLS verified it. */
		if (!pc_pipe_is_net(p) &&
		    (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) != 0 ||
		     uid != (uint64_t)getuid())) {
			pc_log_err("broker pipe from uid %llu refused",
			           (unsigned long long)uid);
			nng_pipe_close(p);
		}
		return;
	case NNG_PIPE_EV_ADD_POST:
		atomic_store(&n->pipe_id, nng_pipe_id(p));
		atomic_fetch_add(&n->adds, 1);
		break;
	case NNG_PIPE_EV_REM_POST: {
		/* Only the pipe we use counts (a refused one never was). */
		unsigned id = (unsigned)nng_pipe_id(p);

		if (id == 0 ||
		    !atomic_compare_exchange_strong(&n->pipe_id, &id, 0))
			return;
		atomic_fetch_add(&n->rems, 1);
		break;
	}
	default:
		return;
	}
	if (write(n->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pc_log_warn("eventfd: %s", strerror(errno));
}

enum pc_err
ws_bridge_net_open(struct ws_bridge_net **out, const char *url,
                   const struct ws_bridge_tls *tls, size_t max_msg)
{
	struct ws_bridge_net *n;
	nng_tls_config *cfg = NULL;
	nng_dialer d;
	const char *what = "";
	enum pc_err e = PC_ERR_SYSTEM;
	int rv = 0;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return PC_ERR_SYSTEM;
	n->recv_fd = n->event_fd = -1;
	atomic_init(&n->adds, 0);
	atomic_init(&n->rems, 0);
	atomic_init(&n->pipe_id, 0);
	if (tls != NULL &&
	    (e = pc_shard_tls(NNG_TLS_MODE_CLIENT, tls->ca_file, tls->cert_file,
	                      tls->server_name, &cfg)) != PC_OK)
		goto out;
	e = PC_ERR_SYSTEM;
	if ((n->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		pc_log_err("eventfd: %s", strerror(errno));
		goto out;
	}
	if ((rv = nng_pair1_open(&n->sock)) != 0) {
		what = "open";
		goto out;
	}
	n->open = 1;
	if ((rv = nng_socket_set_size(n->sock, NNG_OPT_RECVMAXSZ, max_msg)) !=
	            0 ||
	    (rv = nng_socket_set_int(n->sock, NNG_OPT_SENDBUF, NET_SENDBUF)) !=
	            0 ||
	    (rv = nng_socket_set_int(n->sock, NNG_OPT_RECVBUF, NET_RECVBUF)) !=
	            0 ||
	    (rv = nng_socket_set_ms(n->sock, NNG_OPT_SENDTIMEO,
	                            WS_BRIDGE_SEND_WAIT_MS)) != 0 ||
	    (rv = nng_socket_set_ms(n->sock, NNG_OPT_RECONNMINT,
	                            NET_RECONN_MIN_MS)) != 0 ||
	    (rv = nng_socket_set_ms(n->sock, NNG_OPT_RECONNMAXT,
	                            NET_RECONN_MAX_MS)) != 0) {
		what = "options";
		goto out;
	}
	if ((rv = nng_pipe_notify(n->sock, NNG_PIPE_EV_ADD_PRE, net_pipe_cb,
	                          n)) != 0 ||
	    (rv = nng_pipe_notify(n->sock, NNG_PIPE_EV_ADD_POST, net_pipe_cb,
	                          n)) != 0 ||
	    (rv = nng_pipe_notify(n->sock, NNG_PIPE_EV_REM_POST, net_pipe_cb,
	                          n)) != 0) {
		what = "pipe notify";
		goto out;
	}
	if ((rv = nng_socket_get_int(n->sock, NNG_OPT_RECVFD, &n->recv_fd)) !=
	    0) {
		what = "recv fd";
		goto out;
	}
	if ((rv = nng_dialer_create(&d, n->sock, url)) != 0 ||
	    (strncmp(url, "ipc://", 6) != 0 &&
	     (rv = nng_dialer_set_bool(d, NNG_OPT_TCP_KEEPALIVE, true)) != 0) ||
	    (cfg != NULL &&
	     (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg)) != 0) ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		what = "dial";
		goto out;
	}
	e = PC_OK;
out:
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the dialer holds its own */
	if (e != PC_OK) {
		if (rv != 0)
			pc_log_err("%s %s: %s", url, what, nng_strerror(rv));
		ws_bridge_net_close(n);
		return e;
	}
	*out = n;
	return PC_OK;
}

void
ws_bridge_net_close(struct ws_bridge_net *n)
{
	if (n == NULL)
		return;
	if (n->cur != NULL)
		nng_msg_free(n->cur);
	if (n->open)
		nng_close(n->sock); /* no callback runs after this returns */
	if (n->event_fd >= 0)
		close(n->event_fd);
	free(n);
}

enum pc_err
ws_bridge_net_send(struct ws_bridge_net *n, const void *hdr, size_t hdr_len,
                   const void *payload, size_t len)
{
	nng_msg *m = NULL;
	int rv;

	if (!n->open || nng_msg_alloc(&m, hdr_len + len) != 0)
		return PC_ERR_UNAVAILABLE;
	memcpy(nng_msg_body(m), hdr, hdr_len);
	if (len > 0)
		memcpy((unsigned char *)nng_msg_body(m) + hdr_len, payload,
		       len);
	rv = nng_sendmsg(n->sock, m, NNG_FLAG_NONBLOCK);
	/* The queue is full (a burst of client frames, a busy broker): wait a
	 * little, which stops reading stdin and so slows the client down. With
	 * no pipe at all, waiting would not help: conn only sends with one. */
	if (rv == NNG_EAGAIN && atomic_load(&n->pipe_id) != 0)
		rv = nng_sendmsg(n->sock, m, 0);
	if (rv != 0) {
		nng_msg_free(m); /* a failed send leaves the message with us */
		pc_log_warn("send: %s", nng_strerror(rv));
		return PC_ERR_UNAVAILABLE;
	}
	return PC_OK;
}

enum pc_err
ws_bridge_net_recv(struct ws_bridge_net *n, const unsigned char **msg,
                   size_t *len, unsigned *pipe)
{
	int rv;

	if (n->cur != NULL)
		nng_msg_free(n->cur);
	n->cur = NULL;
	if (!n->open)
		return PC_ERR_UNAVAILABLE;
	if ((rv = nng_recvmsg(n->sock, &n->cur, NNG_FLAG_NONBLOCK)) != 0) {
		if (rv != NNG_EAGAIN)
			pc_log_warn("recv: %s", nng_strerror(rv));
		n->cur = NULL;
		return PC_ERR_UNAVAILABLE;
	}
	*msg = nng_msg_body(n->cur);
	*len = nng_msg_len(n->cur);
	*pipe = (unsigned)nng_pipe_id(nng_msg_get_pipe(n->cur));
	return PC_OK;
}

unsigned
ws_bridge_net_pipe(const struct ws_bridge_net *n)
{
	return atomic_load(&((struct ws_bridge_net *)n)->pipe_id);
}

void
ws_bridge_net_pollfds(const struct ws_bridge_net *n, struct pollfd *fds)
{
	fds[0].fd = n->event_fd;
	fds[0].events = POLLIN;
	fds[0].revents = 0;
	fds[1].fd = n->recv_fd;
	fds[1].events = POLLIN;
	fds[1].revents = 0;
}

void
ws_bridge_net_io(struct ws_bridge_net *n, const struct pollfd *fds)
{
	if (n->cur != NULL)
		nng_msg_free(n->cur);
	n->cur = NULL;
	if (fds != NULL && (fds[0].revents & POLLIN))
		n->event_ready = 1;
}

void
ws_bridge_net_events(struct ws_bridge_net *n, int *went, int *came)
{
	uint64_t v;
	unsigned adds, rems;

	*went = *came = 0;
	if (!n->event_ready)
		return;
	n->event_ready = 0;
	while (read(n->event_fd, &v, sizeof(v)) > 0)
		;
	rems = atomic_load(&n->rems);
	adds = atomic_load(&n->adds);
	*went = rems != n->seen_rems;
	*came = adds != n->seen_adds && atomic_load(&n->pipe_id) != 0;
	n->seen_rems = rems;
	n->seen_adds = adds;
}
