/*
 * splisten.c: the workers' ipc:// listener, spoken without libnng
 * (splisten.h says why).
 *
 * One epoll set holds the listener (data 0) and every connection (data =
 * its id), level-triggered: EPOLLIN always, EPOLLOUT while bytes wait to
 * be written. Connections with a whole message read wait in a FIFO ("the
 * ready list"); splisten_recv takes one message from the head and moves
 * that connection to the tail, so a busy worker does not starve the
 * others. A connection that fails is closed where it is found (splink's
 * io), and its remove event is sent then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "idmap.h"
#include "log.h"
#include "splink.h"
#include "splisten.h"

#define SPLISTEN_EVENTS 256 /* epoll events per splisten_io */
#define SPLISTEN_ACCEPTS 64 /* connections accepted per splisten_io */

struct sp_conn {
	struct splink l;
	uint32_t id;
	uint32_t ep;    /* the epoll events registered */
	int ready;      /* in the ready list */
	int up;         /* its add event was sent */
};

static struct {
	int lfd, efd;
	char path[SPLINK_PATH_MAX];
	uid_t uid;
	size_t max_msg, tx_max;
	splisten_event_fn on_event;
	struct idmap conns; /* id -> struct sp_conn */
	uint32_t next_id;
	uint32_t *ready; /* ring of ids */
	size_t rhead, rcount, rcap;
} sl = {.lfd = -1, .efd = -1};

/* Appends c to the ready list (once). */
static void
splisten_mark_ready(struct sp_conn *c)
{
	uint32_t *r;
	size_t cap, i;

	if (c->ready)
		return;
	if (sl.rcount == sl.rcap) {
		cap = sl.rcap * 2 + 64;
		if ((r = malloc(cap * sizeof(*r))) == NULL)
			return; /* retried at its next event */
		for (i = 0; i < sl.rcount; i++)
			r[i] = sl.ready[(sl.rhead + i) % sl.rcap];
		free(sl.ready);
		sl.ready = r;
		sl.rcap = cap;
		sl.rhead = 0;
	}
	sl.ready[(sl.rhead + sl.rcount) % sl.rcap] = c->id;
	sl.rcount++;
	c->ready = 1;
}

/* Frees c (already out of the map); its descriptor closes with it. */
static void
splisten_free(struct sp_conn *c)
{
	splink_close(&c->l);
	free(c);
}

/* Sets c's epoll interest: EPOLLOUT while it has bytes to write. */
static void
splisten_interest(struct sp_conn *c)
{
	struct epoll_event ev;
	uint32_t want = EPOLLIN;

	if (c->l.state == SPLINK_UP && c->l.tx_off < c->l.tx_len)
		want |= EPOLLOUT;
	if (want == c->ep || c->l.fd < 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u32 = c->id;
	if (epoll_ctl(sl.efd, EPOLL_CTL_MOD, c->l.fd, &ev) == 0)
		c->ep = want;
}

/* After c's I/O: its events, its interest, the ready list; frees a
 * connection that closed. */
static void
splisten_after(struct sp_conn *c)
{
	int went = 0, came = 0;

	splink_events(&c->l, &went, &came);
	if (came && !c->up) {
		c->up = 1;
		sl.on_event(c->id, 1);
	}
	if (went || c->l.state == SPLINK_DOWN) {
		(void)idmap_del(&sl.conns, c->id);
		if (c->up)
			sl.on_event(c->id, 0);
		splisten_free(c); /* a stale ready entry is skipped later */
		return;
	}
	splisten_interest(c);
	if (c->l.rx_off < c->l.rx_len && splink_wait_ms(&c->l, 0) == 0)
		splisten_mark_ready(c);
}

enum pc_err
splisten_open(const char *path, uid_t uid, size_t max_msg, size_t tx_max,
              splisten_event_fn on_event)
{
	struct sockaddr_un sun;
	struct epoll_event ev;
	int probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		pc_log_err("%s: the socket path is longer than 107 bytes", path);
		return PC_ERR_SYSTEM;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(sl.path, path, strlen(path) + 1);
	sl.uid = uid;
	sl.max_msg = max_msg;
	sl.tx_max = tx_max;
	sl.on_event = on_event;
	sl.next_id = 0;
	/* A socket file left by a broker that died: nobody answers on it. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 &&
	    connect(probe, (struct sockaddr *)&sun, sizeof(sun)) != 0 &&
	    errno == ECONNREFUSED)
		(void)unlink(path);
	if (probe >= 0)
		close(probe);
	sl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sl.lfd < 0 ||
	    bind(sl.lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0600) != 0 || listen(sl.lfd, 4096) != 0 ||
	    (sl.efd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = 0;
	if (epoll_ctl(sl.efd, EPOLL_CTL_ADD, sl.lfd, &ev) != 0)
		goto fail;
	pc_log_info("listening on ipc://%s", path);
	return PC_OK;
fail:
	pc_log_err("ipc://%s: %s", path, strerror(errno));
	splisten_close();
	return PC_ERR_SYSTEM;
}

void
splisten_close(void)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	while (idmap_next(&sl.conns, &pos, &key, &val))
		splisten_free(val);
	idmap_free(&sl.conns);
	free(sl.ready);
	sl.ready = NULL;
	sl.rhead = sl.rcount = sl.rcap = 0;
	if (sl.lfd >= 0) {
		close(sl.lfd);
		(void)unlink(sl.path);
	}
	if (sl.efd >= 0)
		close(sl.efd);
	sl.lfd = sl.efd = -1;
}

int
splisten_fd(void)
{
	return sl.efd;
}

int
splisten_is(uint32_t id)
{
	return (id & SPLISTEN_ID_BIT) != 0;
}

/* The next free id (SPLISTEN_ID_BIT set, never 0 below it). */
static uint32_t
splisten_new_id(void)
{
	uint32_t id;

	do {
		sl.next_id = (sl.next_id + 1) & ~SPLISTEN_ID_BIT;
		if (sl.next_id == 0)
			sl.next_id = 1;
		id = sl.next_id | SPLISTEN_ID_BIT;
	} while (idmap_get(&sl.conns, id) != NULL);
	return id;
}

/* Accepts what waits (up to SPLISTEN_ACCEPTS). */
static void
splisten_accept(int64_t now_ms)
{
	struct epoll_event ev;
	uid_t peer;
	struct sp_conn *c;
	int fd, k;

	for (k = 0; k < SPLISTEN_ACCEPTS; k++) {
		fd = accept4(sl.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				pc_log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!splink_peer_is(fd, sl.uid, &peer)) {
			pc_log_warn("refused a worker peer with uid %ld (not "
			            "ours)",
			            peer == (uid_t)-1 ? -1L : (long)peer);
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->id = splisten_new_id();
		if (splink_adopt(&c->l, fd, sl.max_msg, sl.tx_max, now_ms) !=
		    PC_OK) {
			free(c);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = c->id;
		if (idmap_put(&sl.conns, c->id, c) != PC_OK) {
			splisten_free(c);
			continue;
		}
		if (epoll_ctl(sl.efd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			(void)idmap_del(&sl.conns, c->id);
			splisten_free(c);
			continue;
		}
		c->ep = EPOLLIN;
	}
}

void
splisten_io(int64_t now_ms)
{
	struct epoll_event evs[SPLISTEN_EVENTS];
	struct pollfd pfd;
	struct sp_conn *c;
	int n, i;

	if (sl.efd < 0)
		return;
	n = epoll_wait(sl.efd, evs, SPLISTEN_EVENTS, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.u32 == 0) {
			splisten_accept(now_ms);
			continue;
		}
		if ((c = idmap_get(&sl.conns, evs[i].data.u32)) == NULL)
			continue;
		pfd.fd = c->l.fd;
		pfd.events = POLLIN;
		pfd.revents = (short)((evs[i].events & EPOLLIN ? POLLIN : 0) |
		                      (evs[i].events & EPOLLOUT ? POLLOUT : 0) |
		                      (evs[i].events & EPOLLHUP ? POLLHUP : 0) |
		                      (evs[i].events & EPOLLERR ? POLLERR : 0));
		splink_io(&c->l, &pfd, now_ms);
		splisten_after(c);
	}
}

int
splisten_ready(void)
{
	return sl.rcount > 0;
}

enum pc_err
splisten_recv(uint32_t *id, const unsigned char **msg, size_t *len)
{
	struct sp_conn *c;
	uint32_t cid;

	while (sl.rcount > 0) {
		cid = sl.ready[sl.rhead];
		sl.rhead = (sl.rhead + 1) % sl.rcap;
		sl.rcount--;
		if ((c = idmap_get(&sl.conns, cid)) == NULL)
			continue; /* gone since */
		c->ready = 0;
		if (splink_recv(&c->l, msg, len) != PC_OK) {
			if (c->l.broken) {
				/* a bad frame: close it now */
				splink_io(&c->l, NULL, pc_clock_mono_ms());
				splisten_after(c);
			}
			continue;
		}
		*id = cid;
		/* more after this one: to the tail (fair among workers) */
		if (c->l.rx_off < c->l.rx_len && splink_wait_ms(&c->l, 0) == 0)
			splisten_mark_ready(c);
		return PC_OK;
	}
	return PC_ERR_NOT_FOUND;
}

enum pc_err
splisten_send(uint32_t id, const void *a, size_t alen, const void *b,
              size_t blen)
{
	struct sp_conn *c = idmap_get(&sl.conns, id);

	if (c == NULL)
		return PC_ERR_NOT_FOUND;
	if (splink_send(&c->l, a, alen, b, blen, 0) != PC_OK)
		return PC_ERR_UNAVAILABLE;
	splisten_interest(c);
	return PC_OK;
}

void
splisten_drop(uint32_t id)
{
	struct sp_conn *c = idmap_del(&sl.conns, id);

	if (c == NULL)
		return;
	if (c->up)
		sl.on_event(id, 0);
	splisten_free(c);
}
