/*
 * bridge.c: the PAIR1 link to one broker (bridge.h): splink.c for ipc://,
 * libnng's dialer for tcp:// and tls+tcp://.
 *
 * splink's limits mirror the libnng options below: BRIDGE_TX_MAX is about
 * what BRIDGE_SENDBUF messages of a client's frames come to, the largest
 * message is PC_WIRE_MAX either way.
 *
 * Why these libnng options: NNG_OPT_RECVMAXSZ bounds what the broker may hand us
 * (PC_WIRE_MAX); a send buffer lets a burst of client frames queue while the
 * pipe is busy instead of failing; the broker has at most two messages on
 * their way to us (credit flow control, broker/link.h: ws_bridge_recv answers
 * the one that asks with a CREDIT the moment it is received, before it is
 * handled), so the receive buffer never holds more than two; what the
 * broker has for us meanwhile waits in its outbox for this pipe, and when
 * that overflows (a worker that stopped reading) the broker closes the pipe:
 * the dialer reconnects and conn.c re-syncs every room.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/transport/ipc/ipc.h>

#include "bridge.h"
#include "clock.h"
#include "log.h"

#define BRIDGE_SENDBUF       256
#define BRIDGE_RECVBUF       128
#define BRIDGE_RECONN_MIN_MS 100
#define BRIDGE_RECONN_MAX_MS 1000
#define BRIDGE_URL_MAX       108 /* sun_path */
#define BRIDGE_TX_MAX        (4 * PC_WIRE_MAX)

/* Non-zero for a tcp:// or tls+tcp:// pipe (sharding, links.h). */
static int
bridge_pipe_is_net(nng_pipe p)
{
	nng_sockaddr sa;

	return nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 &&
	       (sa.s_family == NNG_AF_INET || sa.s_family == NNG_AF_INET6);
}

static void
bridge_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ws_bridge *b = arg;
	uint64_t one = 1, uid = 0;

	switch (ev) {
	case NNG_PIPE_EV_ADD_PRE:
		/* A tls+tcp:// broker (links.h) has no uid: TLS verified it. */
		if (!bridge_pipe_is_net(p) &&
		    (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) != 0 ||
		     uid != (uint64_t)getuid())) {
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
	int n;

	memset(b, 0, sizeof(*b));
	b->recv_fd = b->event_fd = -1;
	n = snprintf(url, sizeof(url), "ipc://%s/workers", dir);
	if (n < 0 || (size_t)n - strlen("ipc://") >= BRIDGE_URL_MAX) {
		pc_log_err("broker socket path too long: %s", dir);
		return PC_ERR_INVALID;
	}
	return ws_bridge_open_url(b, url, NULL);
}

enum pc_err
ws_bridge_open_url(struct ws_bridge *b, const char *url, nng_tls_config *tls)
{
	int rv = 0;
	const char *what = "";
	enum pc_err e = PC_ERR_SYSTEM;
	nng_dialer d;

	memset(b, 0, sizeof(*b));
	b->recv_fd = b->event_fd = -1;
	b->sp.fd = -1;
	if (strncmp(url, "ipc://", 6) == 0) {
		b->own = 1;
		if ((e = splink_open(&b->sp, url + 6, PC_WIRE_MAX,
		                     BRIDGE_TX_MAX, pc_clock_mono_ms())) !=
		    PC_OK)
			pc_log_err("broker socket path too long: %s", url);
		return e;
	}
	atomic_init(&b->adds, 0);
	atomic_init(&b->rems, 0);
	atomic_init(&b->pipe_id, 0);
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
	if ((rv = nng_dialer_create(&d, b->sock, url)) != 0 ||
	    (strncmp(url, "ipc://", 6) != 0 &&
	     (rv = nng_dialer_set_bool(d, NNG_OPT_TCP_KEEPALIVE, true)) != 0) ||
	    (tls != NULL &&
	     (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls)) != 0) ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
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
	if (b->own)
		splink_close(&b->sp);
	b->own = 0;
	if (b->cur != NULL)
		nng_msg_free(b->cur);
	b->cur = NULL;
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
	unsigned char hdr[PC_WIRE_HDR_LEN];
	nng_msg *m = NULL;
	int rv;

	if (len > PC_WIRE_MAX - PC_WIRE_HDR_LEN)
		return PC_ERR_UNAVAILABLE;
	if (b->own) {
		pc_wire_pack(h, hdr);
		if (splink_send(&b->sp, hdr, sizeof(hdr), payload, len,
		                WS_BRIDGE_SEND_WAIT_MS) == PC_OK)
			return PC_OK;
		pc_log_warn("send %s: broker link not ready",
		            pc_wire_type_name(h->type));
		return PC_ERR_UNAVAILABLE;
	}
	if (!b->open)
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

/* Returns the broker's credit (wire.h, PC_WIRE_CREDIT). Non-zero when it
 * could not be sent now (kept in b->credit_owed and tried again). */
static int
bridge_credit(struct ws_bridge *b)
{
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_CREDIT;
	b->credit_owed = ws_bridge_send(b, &h, NULL, 0) != PC_OK;
	return b->credit_owed;
}

/* The broker asks for credit on the message that filled its window for
 * this pipe: answer at once, before the message is even handled, since it
 * has left the queues (the packed flags are bytes 2-3). */
static void
bridge_credit_check(struct ws_bridge *b, const unsigned char *p, size_t len)
{
	if (len >= PC_WIRE_HDR_LEN &&
	    (((unsigned)p[2] << 8 | p[3]) & PC_WIRE_F_CREDIT) != 0)
		(void)bridge_credit(b);
}

enum pc_err
ws_bridge_recv(struct ws_bridge *b, const char **msg, size_t *len,
               unsigned *pipe)
{
	const unsigned char *p;
	int rv;

	if (b->credit_owed)
		(void)bridge_credit(b);
	if (b->own) {
		if (splink_recv(&b->sp, &p, len) != PC_OK)
			return PC_ERR_UNAVAILABLE;
		bridge_credit_check(b, p, *len);
		*msg = (const char *)p;
		*pipe = b->sp.pipe;
		return PC_OK;
	}
	if (b->cur != NULL)
		nng_msg_free(b->cur);
	b->cur = NULL;
	if (!b->open)
		return PC_ERR_UNAVAILABLE;
	if ((rv = nng_recvmsg(b->sock, &b->cur, NNG_FLAG_NONBLOCK)) != 0) {
		if (rv != NNG_EAGAIN)
			pc_log_warn("recv: %s", nng_strerror(rv));
		b->cur = NULL;
		return PC_ERR_UNAVAILABLE;
	}
	bridge_credit_check(b, nng_msg_body(b->cur), nng_msg_len(b->cur));
	*msg = nng_msg_body(b->cur);
	*len = nng_msg_len(b->cur);
	*pipe = (unsigned)nng_pipe_id(nng_msg_get_pipe(b->cur));
	return PC_OK;
}

unsigned
ws_bridge_pipe(const struct ws_bridge *b)
{
	if (b->own)
		return b->sp.state == SPLINK_UP ? b->sp.pipe : 0;
	return atomic_load(&((struct ws_bridge *)b)->pipe_id);
}

void
ws_bridge_pollfds(const struct ws_bridge *b, struct pollfd *fds)
{
	if (b->own) {
		splink_pollfd(&b->sp, &fds[0]);
		fds[1].fd = -1;
		fds[1].events = 0;
		fds[1].revents = 0;
		return;
	}
	fds[0].fd = b->event_fd;
	fds[0].events = POLLIN;
	fds[0].revents = 0;
	fds[1].fd = b->recv_fd;
	fds[1].events = POLLIN;
	fds[1].revents = 0;
}

int
ws_bridge_wait_ms(const struct ws_bridge *b, int64_t now_ms)
{
	return b->own ? splink_wait_ms(&b->sp, now_ms) : -1;
}

void
ws_bridge_io(struct ws_bridge *b, const struct pollfd *fds, int64_t now_ms)
{
	if (b->own) {
		splink_io(&b->sp, fds, now_ms);
		return;
	}
	if (b->cur != NULL)
		nng_msg_free(b->cur);
	b->cur = NULL;
	if (fds != NULL && (fds[0].revents & POLLIN))
		b->event_ready = 1;
}

void
ws_bridge_events(struct ws_bridge *b, int *went, int *came)
{
	uint64_t v;
	unsigned adds, rems;

	if (b->own) {
		splink_events(&b->sp, went, came);
		if (*went || *came)
			b->credit_owed = 0; /* owed to a pipe that is gone */
		return;
	}
	*went = *came = 0;
	if (!b->event_ready)
		return;
	b->event_ready = 0;
	while (read(b->event_fd, &v, sizeof(v)) > 0)
		;
	rems = atomic_load(&b->rems);
	adds = atomic_load(&b->adds);
	*went = rems != b->seen_rems;
	*came = adds != b->seen_adds && atomic_load(&b->pipe_id) != 0;
	if (*went || *came)
		b->credit_owed = 0; /* owed to a pipe that is gone */
	b->seen_rems = rems;
	b->seen_adds = adds;
}
