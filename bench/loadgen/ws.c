/*
 * ws.c: the load generator's WebSocket client connection (ws.h).
 * Not for: anything but driving pipechat and the reference echo servers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ws.h"

#define WS_READ_CHUNK 65536
#define WS_MAX_MSG    (1 << 20)

int64_t
ws_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
ws_parse_url(const char *url, struct ws_target *t)
{
	const char *p, *colon, *slash;
	size_t hl;

	if (strncmp(url, "ws://", 5) != 0)
		return -1;
	p = url + 5;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	hl = (size_t)((colon ? colon : slash) - p);
	if (hl == 0 || hl >= sizeof(t->host))
		return -1;
	memcpy(t->host, p, hl);
	t->host[hl] = '\0';
	t->port = colon ? atoi(colon + 1) : 80;
	if (t->port <= 0 || t->port > 65535)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s", *slash ? slash : "/");
	return 0;
}

static int
ws_reserve(char **buf, size_t *cap, size_t need)
{
	size_t ncap;
	char *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 4096;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*buf, ncap);
	if (n == NULL)
		return -1;
	*buf = n;
	*cap = ncap;
	return 0;
}

static int
ws_queue(struct ws_conn *c, const void *data, size_t len)
{
	if (ws_reserve(&c->out, &c->outcap, c->outlen + len) != 0)
		return -1;
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
	return 0;
}

int
ws_open(struct ws_conn *c, const struct ws_target *t, int epfd)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	char req[2048];
	int n, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)t->port);
	if (inet_pton(AF_INET, t->host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t_start = ws_now_ns();
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		goto fail;
	n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n%s%s%s%s%s%s\r\n",
	    t->path, t->host, t->port,
	    t->origin[0] ? "Origin: " : "", t->origin, t->origin[0] ? "\r\n" : "",
	    t->cookie[0] ? "Cookie: " : "", t->cookie, t->cookie[0] ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req) || ws_queue(c, req, (size_t)n) != 0)
		goto fail;
	c->state = WS_CONNECTING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		goto fail;
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	c->state = WS_CLOSED;
	return -1;
}

/* Frames a payload: client frames are masked (RFC 6455 5.3). */
static int
ws_frame(struct ws_conn *c, int opcode, const char *data, size_t len)
{
	unsigned char hdr[14];
	size_t hl = 0, i;
	uint32_t key = (uint32_t)random();
	unsigned char *m;

	hdr[hl++] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		hdr[hl++] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		hdr[hl++] = 0x80 | 126;
		hdr[hl++] = (unsigned char)(len >> 8);
		hdr[hl++] = (unsigned char)len;
	} else {
		hdr[hl++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			hdr[hl++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(hdr + hl, &key, 4);
	hl += 4;
	if (ws_reserve(&c->out, &c->outcap, c->outlen + hl + len) != 0)
		return -1;
	memcpy(c->out + c->outlen, hdr, hl);
	m = (unsigned char *)c->out + c->outlen + hl;
	for (i = 0; i < len; i++)
		m[i] = (unsigned char)data[i] ^ hdr[hl - 4 + (i & 3)];
	c->outlen += hl + len;
	return 0;
}

int
ws_send_text(struct ws_conn *c, const char *data, size_t len)
{
	if (c->state != WS_OPEN)
		return -1;
	c->sent++;
	return ws_frame(c, 1, data, len);
}

int
ws_flush(struct ws_conn *c)
{
	ssize_t n;

	if (c->state == WS_CONNECTING)
		c->state = WS_UPGRADING; /* writable: connected (or failed) */
	while (c->outlen > 0) {
		n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			c->state = WS_CLOSED;
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	return 0;
}

/* The upgrade answer: 101 moves to WS_OPEN; anything else fails. */
static int
ws_parse_upgrade(struct ws_conn *c, ws_on_text cb, void *arg, size_t *used)
{
	char *end;

	end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
	if (end == NULL)
		return c->inlen > 16384 ? -1 : 1;
	if (c->inlen < 12 || memcmp(c->in + 8, " 101", 4) != 0) {
		c->in[c->inlen < 200 ? c->inlen - 1 : 199] = '\0';
		fprintf(stderr, "loadgen: upgrade refused: %.60s\n", c->in);
		return -1;
	}
	*used = (size_t)(end + 4 - c->in);
	c->state = WS_OPEN;
	cb(c, NULL, 0, arg);
	return 0;
}

/* Parses complete frames from c->in; returns bytes used or -1 on close. */
static ssize_t
ws_parse_frames(struct ws_conn *c, size_t off, ws_on_text cb, void *arg)
{
	const unsigned char *p;
	size_t avail, hl, i;
	uint64_t len;
	int fin, op, masked;

	while (c->inlen - off >= 2) {
		p = (const unsigned char *)c->in + off;
		avail = c->inlen - off;
		fin = p[0] & 0x80;
		op = p[0] & 0x0f;
		masked = p[1] & 0x80;
		len = p[1] & 0x7f;
		hl = 2;
		if (len == 126) {
			if (avail < 4)
				break;
			len = ((uint64_t)p[2] << 8) | p[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				break;
			for (len = 0, i = 0; i < 8; i++)
				len = (len << 8) | p[2 + i];
			hl = 10;
		}
		if (masked)
			hl += 4;
		if (len > WS_MAX_MSG)
			return -1;
		if (avail < hl + len)
			break;
		if (op == 8)
			return -1;
		if (op == 9) {
			ws_frame(c, 10, (const char *)p + hl, (size_t)len);
		} else if (op == 1 || op == 0) {
			if (fin && c->msglen == 0) {
				cb(c, (const char *)p + hl, (size_t)len, arg);
			} else {
				if (ws_reserve(&c->msg, &c->msgcap, c->msglen + len) != 0)
					return -1;
				memcpy(c->msg + c->msglen, p + hl, (size_t)len);
				c->msglen += (size_t)len;
				if (fin) {
					cb(c, c->msg, c->msglen, arg);
					c->msglen = 0;
				}
			}
		}
		off += hl + (size_t)len;
	}
	return (ssize_t)off;
}

int
ws_read(struct ws_conn *c, ws_on_text cb, void *arg, int drain)
{
	ssize_t n, used;
	size_t off;
	int rc, empty;

	for (;;) {
		if (ws_reserve(&c->in, &c->incap, c->inlen + WS_READ_CHUNK) != 0)
			goto closed;
		n = recv(c->fd, c->in + c->inlen, WS_READ_CHUNK, 0);
		if (n == 0)
			goto closed;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			goto closed;
		}
		empty = !drain && n < WS_READ_CHUNK;
		c->inlen += (size_t)n;
		off = 0;
		if (c->state != WS_OPEN) {
			rc = ws_parse_upgrade(c, cb, arg, &off);
			if (rc < 0)
				goto closed;
			if (rc > 0) {
				if (empty)
					break;
				continue;
			}
		}
		used = ws_parse_frames(c, off, cb, arg);
		if (used < 0)
			goto closed;
		memmove(c->in, c->in + used, c->inlen - (size_t)used);
		c->inlen -= (size_t)used;
		if (empty)
			break;
	}
	if (c->outlen > 0 && ws_flush(c) != 0)
		goto closed;
	return 0;
closed:
	c->state = WS_CLOSED;
	return -1;
}

void
ws_close(struct ws_conn *c)
{
	int idx = c->idx;

	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c->msg);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->idx = idx;
	c->state = WS_CLOSED;
}
