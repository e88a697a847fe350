/*
 * wsecho: the raw loopback WebSocket echo server used as a same-run reference
 * by bench/fanout: one thread, epoll, the upgrade answered with the right
 * Sec-WebSocket-Accept, every text frame echoed back unmasked to its sender.
 *   wsecho PORT      (listens on 127.0.0.1; runs until killed)
 * Not for: anything but measuring the floor of a WebSocket round trip here.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EC_BUF (1 << 20)

struct ec {
	int fd, open;
	unsigned char in[EC_BUF];
	size_t inlen;
};

static const char ec_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65";

static int
ec_write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue; /* loopback echo: spin briefly rather than queue */
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
ec_upgrade(struct ec *c, size_t *used)
{
	char *end, *k, *e, src[128], resp[256];
	unsigned char sha[SHA_DIGEST_LENGTH], acc[64];
	int n;

	c->in[c->inlen] = '\0';
	end = strstr((char *)c->in, "\r\n\r\n");
	if (end == NULL)
		return 1;
	k = strcasestr((char *)c->in, "Sec-WebSocket-Key:");
	if (k == NULL)
		return -1;
	k += 18;
	while (*k == ' ')
		k++;
	e = strstr(k, "\r\n");
	if (e == NULL || (size_t)(e - k) > 60)
		return -1;
	n = snprintf(src, sizeof(src), "%.*s%s", (int)(e - k), k, ec_guid);
	SHA1((unsigned char *)src, (size_t)n, sha);
	EVP_EncodeBlock(acc, sha, SHA_DIGEST_LENGTH);
	n = snprintf(resp, sizeof(resp),
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	*used = (size_t)(end + 4 - (char *)c->in);
	c->open = 1;
	return ec_write_all(c->fd, resp, (size_t)n);
}

/* Echoes every complete frame; returns bytes used or -1 on close. */
static ssize_t
ec_frames(struct ec *c, size_t off)
{
	unsigned char *p, hdr[10], *pl;
	size_t avail, hl, i, h;
	uint64_t len;
	int op;

	while (c->inlen - off >= 2) {
		p = c->in + off;
		avail = c->inlen - off;
		op = p[0] & 0x0f;
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
		if (!(p[1] & 0x80) || len > EC_BUF / 2)
			return -1;
		if (avail < hl + 4 + len)
			break;
		if (op == 8)
			return -1;
		pl = p + hl + 4;
		for (i = 0; i < len; i++)
			pl[i] ^= p[hl + (i & 3)];
		if (op == 1 || op == 2 || op == 9) {
			h = 0;
			hdr[h++] = (unsigned char)(0x80 | (op == 9 ? 10 : op));
			if (len < 126) {
				hdr[h++] = (unsigned char)len;
			} else {
				hdr[h++] = 126;
				hdr[h++] = (unsigned char)(len >> 8);
				hdr[h++] = (unsigned char)len;
			}
			/* One send per frame: header and payload in one segment. */
			memmove(pl - h, hdr, h);
			if (ec_write_all(c->fd, pl - h, h + (size_t)len) != 0)
				return -1;
		}
		off += hl + 4 + (size_t)len;
	}
	return (ssize_t)off;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct epoll_event ev, evs[256];
	struct ec *c;
	int lfd, epfd, n, i, one = 1;
	ssize_t r, used;
	size_t off;

	if (argc != 2)
		return 2;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4096) != 0) {
		perror("wsecho: listen");
		return 1;
	}
	epfd = epoll_create1(0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(epfd, evs, 256, -1);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (c == NULL) {
						close(fd);
						continue;
					}
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			r = recv(c->fd, c->in + c->inlen, EC_BUF - 1 - c->inlen, 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0)
				goto drop;
			c->inlen += (size_t)r;
			off = 0;
			if (!c->open) {
				int u = ec_upgrade(c, &off);

				if (u < 0)
					goto drop;
				if (u > 0)
					continue;
			}
			used = ec_frames(c, off);
			if (used < 0)
				goto drop;
			memmove(c->in, c->in + used, c->inlen - (size_t)used);
			c->inlen -= (size_t)used;
			continue;
drop:
			close(c->fd);
			free(c);
		}
	}
}
