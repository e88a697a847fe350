/*
 * splink.c: NNG's PAIR1 over ipc://, dialled (or accepted) and spoken in the
 * program's own thread (splink.h says why and what the bytes are).
 *
 * One connection at a time, in three states: DOWN (no descriptor; dial at
 * redial_at), HELLO (connected, our 8-byte greeting written, the broker's
 * awaited, for at most SPLINK_HELLO_MS) and UP. Everything that can fail
 * while handing out a message or queueing one (a malformed frame, a write
 * error) only marks the link broken: the descriptor and buffers are
 * released in the next splink_io, so no pointer handed out goes stale in
 * between.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "splink.h"

#define SPLINK_HELLO_MS 5000 /* a broker that accepts but never greets */
#define SPLINK_MSG_TYPE 0x01 /* NNG's IPC message type */
/* Which end, for the log. */
#define SPLINK_WHO(l) ((l)->adopted ? "worker link" : "broker link")

/* Every SP connection opens with these 8 bytes from each side: 00 'S' 'P'
 * 00, the protocol (PAIR1) as 16 bits big-endian, 00 00. */
static const unsigned char splink_greeting[8] = {
        0, 'S', 'P', 0, SPLINK_PROTO_PAIR1 >> 8, SPLINK_PROTO_PAIR1 & 0xff,
        0, 0};

static uint64_t
splink_get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static uint32_t
splink_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

/* Frees a buffer that grew past SPLINK_BUF_KEEP once it is empty. */
static void
splink_shrink(unsigned char **buf, size_t *cap)
{
	if (*cap > SPLINK_BUF_KEEP) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
}

/* write() without SIGPIPE and without blocking: sendmsg, which the
 * sandbox admits (send() would be sendto). */
static ssize_t
splink_write(int fd, const void *buf, size_t len)
{
	struct iovec iov;
	struct msghdr mh;

	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	return sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Closes the connection (a went if it was up) and sets the next dial. */
static void
splink_down(struct splink *l, int64_t now_ms)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->state == SPLINK_UP)
		l->went = 1;
	l->fd = -1;
	l->state = SPLINK_DOWN;
	l->broken = 0;
	l->hello_got = 0;
	l->rx_len = l->rx_off = l->tx_len = l->tx_off = 0;
	splink_shrink(&l->rx, &l->rx_cap);
	splink_shrink(&l->tx, &l->tx_cap);
	if (l->adopted) {
		l->redial_at = INT64_MAX; /* the peer dials again, not us */
		return;
	}
	l->redial_at = now_ms + l->backoff_ms;
	l->backoff_ms = l->backoff_ms * 2 > SPLINK_REDIAL_MAX_MS
	                        ? SPLINK_REDIAL_MAX_MS
	                        : l->backoff_ms * 2;
}

/* Writes what waits to be sent, as far as the socket takes it. PC_OK (some
 * may still wait), or PC_ERR_UNAVAILABLE (the connection failed). */
static enum pc_err
splink_flush(struct splink *l)
{
	ssize_t n;

	while (l->tx_off < l->tx_len) {
		n = splink_write(l->fd, l->tx + l->tx_off,
		                 l->tx_len - l->tx_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return PC_OK;
		if (n <= 0) {
			pc_log_warn("%s: send: %s", SPLINK_WHO(l),
			            strerror(errno));
			l->broken = 1;
			return PC_ERR_UNAVAILABLE;
		}
		l->tx_off += (size_t)n;
	}
	l->tx_len = l->tx_off = 0;
	splink_shrink(&l->tx, &l->tx_cap);
	return PC_OK;
}

/* Connects and greets; on any failure the link stays down until the next
 * redial. The broker's greeting is read by splink_io. */
static void
splink_dial(struct splink *l, int64_t now_ms)
{
	struct sockaddr_un sun;
	uid_t peer;
	const char *what = NULL;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0)
		what = "socket";
	else if (connect(l->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		what = NULL; /* not there (yet), or its backlog is full */
	else if (!splink_peer_is(l->fd, getuid(), &peer)) {
		if (peer == (uid_t)-1) {
			what = "SO_PEERCRED";
		} else {
			pc_log_err("broker pipe from uid %lu refused",
			           (unsigned long)peer);
			what = "";
		}
	} else {
		l->state = SPLINK_HELLO;
		/* 8 bytes into a new, empty socket: all or an error */
		if (splink_write(l->fd, splink_greeting,
		                 sizeof(splink_greeting)) ==
		    (ssize_t)sizeof(splink_greeting)) {
			l->redial_at = now_ms + SPLINK_HELLO_MS;
			return;
		}
		what = "greeting";
	}
	if (what != NULL && *what != '\0')
		pc_log_warn("broker link %s: %s", what, strerror(errno));
	l->state = SPLINK_DOWN; /* a failed greeting is no "went" */
	splink_down(l, now_ms);
}

enum pc_err
splink_open(struct splink *l, const char *path, size_t max_msg, size_t tx_max,
            int64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (strlen(path) >= sizeof(l->path))
		return PC_ERR_INVALID;
	memcpy(l->path, path, strlen(path) + 1);
	l->max_msg = max_msg;
	l->tx_max = tx_max;
	l->backoff_ms = SPLINK_REDIAL_MIN_MS;
	splink_dial(l, now_ms);
	return PC_OK;
}

int
splink_peer_is(int fd, uid_t uid, uid_t *peer)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	*peer = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		return 0;
	*peer = cred.uid;
	return cred.uid == uid;
}

enum pc_err
splink_adopt(struct splink *l, int fd, size_t max_msg, size_t tx_max,
             int64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->adopted = 1;
	l->max_msg = max_msg;
	l->tx_max = tx_max;
	l->state = SPLINK_HELLO;
	l->redial_at = now_ms + SPLINK_HELLO_MS;
	if (splink_write(fd, splink_greeting, sizeof(splink_greeting)) !=
	    (ssize_t)sizeof(splink_greeting)) {
		close(fd);
		l->fd = -1;
		l->state = SPLINK_DOWN;
		return PC_ERR_UNAVAILABLE;
	}
	return PC_OK;
}

void
splink_close(struct splink *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->state = SPLINK_DOWN;
	free(l->rx);
	free(l->tx);
	l->rx = l->tx = NULL;
	l->rx_cap = l->tx_cap = l->rx_len = l->rx_off = l->tx_len = l->tx_off =
	        0;
}

void
splink_pollfd(const struct splink *l, struct pollfd *fd)
{
	fd->fd = l->fd;
	fd->events = POLLIN;
	if (l->state == SPLINK_UP && l->tx_off < l->tx_len)
		fd->events |= POLLOUT;
	fd->revents = 0;
}

/* Non-zero when the frame at rx_off has a header NNG would refuse: not
 * message type 1, shorter than the hop count, or over max_msg. */
static int
splink_head_bad(const struct splink *l)
{
	const unsigned char *f = l->rx + l->rx_off;
	uint64_t len;

	if (l->rx_len - l->rx_off < SPLINK_HEAD)
		return 0;
	len = splink_get64(f + 1);
	return f[0] != SPLINK_MSG_TYPE || len < SPLINK_HOPS_LEN ||
	       len > l->max_msg + SPLINK_HOPS_LEN;
}

/* Non-zero when a whole frame (or a broken one) waits in rx. */
static int
splink_frame_ready(const struct splink *l)
{
	size_t avail = l->rx_len - l->rx_off;

	if (avail < SPLINK_HEAD)
		return 0;
	return avail - SPLINK_HEAD >= splink_get64(l->rx + l->rx_off + 1) ||
	       splink_head_bad(l);
}

int
splink_wait_ms(const struct splink *l, int64_t now_ms)
{
	if (l->broken || (l->state == SPLINK_UP && splink_frame_ready(l)))
		return 0;
	if (l->state == SPLINK_UP || (l->adopted && l->state == SPLINK_DOWN))
		return -1;
	return l->redial_at <= now_ms          ? 0
	       : l->redial_at - now_ms > 60000 ? 60000
	                                       : (int)(l->redial_at - now_ms);
}

/* Reads the broker's greeting. 0 to go on, -1 when the link must close. */
static int
splink_hello_in(struct splink *l)
{
	ssize_t n;

	n = read(l->fd, l->hello + l->hello_got,
	         sizeof(l->hello) - l->hello_got);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1; /* refused by the broker (NNG closes a bad peer) */
	l->hello_got += (size_t)n;
	if (l->hello_got < sizeof(l->hello))
		return 0;
	if (memcmp(l->hello, splink_greeting, sizeof(l->hello)) != 0) {
		pc_log_err("%s: not an NNG PAIR1 peer", SPLINK_WHO(l));
		return -1;
	}
	l->state = SPLINK_UP;
	l->pipe++;
	l->came = 1;
	l->backoff_ms = SPLINK_REDIAL_MIN_MS;
	return 0;
}

/* Reads once into rx (room made first). 0 to go on, -1 to close. */
static int
splink_read(struct splink *l)
{
	size_t want = SPLINK_RX_START, have;
	unsigned char *grown;
	ssize_t n;

	if (l->rx_off == l->rx_len) {
		l->rx_off = l->rx_len = 0;
		splink_shrink(&l->rx, &l->rx_cap);
	} else if (l->rx_off > 0) {
		memmove(l->rx, l->rx + l->rx_off, l->rx_len - l->rx_off);
		l->rx_len -= l->rx_off;
		l->rx_off = 0;
	}
	have = l->rx_len;
	if (splink_head_bad(l)) {
		pc_log_err("%s: bad frame (type %u, %llu bytes): closed",
		           SPLINK_WHO(l), l->rx[0],
		           (unsigned long long)splink_get64(l->rx + 1));
		return -1;
	}
	if (have >= SPLINK_HEAD && SPLINK_HEAD + splink_get64(l->rx + 1) > want)
		want = SPLINK_HEAD + (size_t)splink_get64(l->rx + 1);
	if (have == l->rx_cap || want > l->rx_cap) {
		if (want <= l->rx_cap)
			want = l->rx_cap * 2; /* a burst: read more at once */
		if ((grown = realloc(l->rx, want)) == NULL) {
			pc_log_err("%s: out of memory", SPLINK_WHO(l));
			return -1;
		}
		l->rx = grown;
		l->rx_cap = want;
	}
	n = read(l->fd, l->rx + have, l->rx_cap - have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		if (n < 0)
			pc_log_warn("%s: read: %s", SPLINK_WHO(l),
			            strerror(errno));
		return -1;
	}
	l->rx_len += (size_t)n;
	return 0;
}

void
splink_io(struct splink *l, const struct pollfd *fd, int64_t now_ms)
{
	short rev =
	        fd != NULL && fd->fd == l->fd && l->fd >= 0 ? fd->revents : 0;
	int bad = l->broken;

	if (l->state == SPLINK_DOWN) {
		if (!l->adopted && now_ms >= l->redial_at)
			splink_dial(l, now_ms);
		return;
	}
	if (!bad && l->state == SPLINK_HELLO) {
		if (rev & (POLLIN | POLLHUP | POLLERR))
			bad = splink_hello_in(l) < 0;
		if (!bad && l->state == SPLINK_HELLO &&
		    now_ms >= l->redial_at) {
			pc_log_warn("%s: no greeting", SPLINK_WHO(l));
			bad = 1;
		}
	} else if (!bad) {
		/* Read only once what was read is handed out: rx then holds
		 * at most one message and a read's worth (the broker's credit
		 * flow control bounds what it sends meanwhile). */
		if ((rev & (POLLIN | POLLHUP | POLLERR)) &&
		    !splink_frame_ready(l))
			bad = splink_read(l) < 0;
		if (!bad && splink_head_bad(l)) {
			pc_log_err("%s: bad frame: closed", SPLINK_WHO(l));
			bad = 1;
		}
		if (!bad && (rev & POLLOUT))
			bad = splink_flush(l) != PC_OK;
	}
	if (bad)
		splink_down(l, now_ms);
}

void
splink_events(struct splink *l, int *went, int *came)
{
	*went = l->went;
	*came = l->came && l->state == SPLINK_UP;
	l->went = l->came = 0;
}

enum pc_err
splink_recv(struct splink *l, const unsigned char **msg, size_t *len)
{
	uint64_t flen;
	uint32_t hops;
	const unsigned char *f;

	while (l->state == SPLINK_UP && !l->broken && splink_frame_ready(l)) {
		f = l->rx + l->rx_off;
		flen = splink_get64(f + 1);
		if (splink_head_bad(l) ||
		    (hops = splink_get32(f + SPLINK_HEAD)) > 0xff) {
			pc_log_err("%s: bad frame: closed", SPLINK_WHO(l));
			l->broken = 1;
			break;
		}
		l->rx_off += SPLINK_HEAD + (size_t)flen;
		if (hops > SPLINK_HOPS_MAX)
			continue; /* as NNG: bounced too often, dropped */
		*msg = f + SPLINK_HEAD + SPLINK_HOPS_LEN;
		*len = (size_t)flen - SPLINK_HOPS_LEN;
		return PC_OK;
	}
	return PC_ERR_UNAVAILABLE;
}

/* Makes room for need more bytes in tx. PC_OK or PC_ERR_NOMEM. */
static enum pc_err
splink_tx_room(struct splink *l, size_t need)
{
	size_t cap;
	unsigned char *grown;

	if (l->tx_off > 0) {
		memmove(l->tx, l->tx + l->tx_off, l->tx_len - l->tx_off);
		l->tx_len -= l->tx_off;
		l->tx_off = 0;
	}
	if (l->tx_cap - l->tx_len >= need)
		return PC_OK;
	cap = l->tx_cap > 0 ? l->tx_cap : SPLINK_TX_START;
	while (cap - l->tx_len < need)
		cap *= 2;
	if ((grown = realloc(l->tx, cap)) == NULL)
		return PC_ERR_NOMEM;
	l->tx = grown;
	l->tx_cap = cap;
	return PC_OK;
}

enum pc_err
splink_send(struct splink *l, const void *a, size_t alen, const void *b,
            size_t blen, int wait_ms)
{
	size_t body = SPLINK_HOPS_LEN + alen + blen;
	size_t need = SPLINK_HEAD + body;
	int64_t end = pc_clock_mono_ms() + wait_ms, left;
	struct pollfd p;
	unsigned char *w;
	uint64_t be;

	if (l->state != SPLINK_UP || l->broken || need > l->tx_max)
		return PC_ERR_UNAVAILABLE;
	/* Full: wait for the broker to take some (which also stops reading
	 * stdin, and so slows a flooding client down). */
	while (l->tx_len - l->tx_off + need > l->tx_max) {
		if (splink_flush(l) != PC_OK)
			return PC_ERR_UNAVAILABLE;
		if (l->tx_len - l->tx_off + need <= l->tx_max)
			break;
		if ((left = end - pc_clock_mono_ms()) <= 0)
			return PC_ERR_UNAVAILABLE;
		p.fd = l->fd;
		p.events = POLLOUT;
		p.revents = 0;
		(void)poll(&p, 1, (int)left);
	}
	if (splink_tx_room(l, need) != PC_OK)
		return PC_ERR_UNAVAILABLE;
	w = l->tx + l->tx_len;
	w[0] = SPLINK_MSG_TYPE;
	be = htobe64((uint64_t)body);
	memcpy(w + 1, &be, sizeof(be));
	memcpy(w + SPLINK_HEAD, "\0\0\0\1", SPLINK_HOPS_LEN); /* one hop */
	if (alen > 0)
		memcpy(w + SPLINK_HEAD + SPLINK_HOPS_LEN, a, alen);
	if (blen > 0)
		memcpy(w + SPLINK_HEAD + SPLINK_HOPS_LEN + alen, b, blen);
	l->tx_len += need;
	return splink_flush(l);
}
