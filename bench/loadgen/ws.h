/*
 * ws.h: a minimal WebSocket client connection for the load generator: a
 * non-blocking TCP connect, the HTTP/1.1 upgrade, masked text frames out,
 * unmasked server frames in (text, ping answered, close). Many connections
 * share one epoll loop (loadgen.c owns the loop).
 * Not for: TLS, extensions, binary payloads, checking Sec-WebSocket-Accept
 * (the servers measured are our own), or use outside bench/.
 */
#ifndef LG_WS_H
#define LG_WS_H

#include <stddef.h>
#include <stdint.h>

enum ws_state { WS_CONNECTING, WS_UPGRADING, WS_OPEN, WS_CLOSED };

struct ws_target {
	char host[64];
	int port;
	char path[512];   /* path?query */
	char cookie[1024]; /* Cookie header value, "" for none */
	char origin[256];  /* Origin header value, "" for none */
};

struct ws_conn {
	int fd;
	int idx;          /* the caller's index */
	enum ws_state state;
	char *in;         /* bytes read, not yet parsed */
	size_t inlen, incap;
	char *out;        /* bytes to write */
	size_t outlen, outcap;
	char *msg;        /* a fragmented text message being assembled */
	size_t msglen, msgcap;
	int64_t t_start;  /* monotonic ns at connect() */
	int ready;        /* the caller's flag (e.g. "joined" seen) */
	uint64_t sent;
};

/* Parses "ws://host:port/path?query" into *t (cookie/origin untouched);
 * 0 on success, -1 on a URL it cannot use. */
int ws_parse_url(const char *url, struct ws_target *t);

/* Starts a non-blocking connect and queues the upgrade request; registers
 * c->fd with epfd (EPOLLIN|EPOLLOUT|EPOLLRDHUP, edge-triggered, data.ptr
 * = c). 0 or -1 (errno). */
int ws_open(struct ws_conn *c, const struct ws_target *t, int epfd);

/* Queues one masked text frame holding data[0..len). 0 or -1. */
int ws_send_text(struct ws_conn *c, const char *data, size_t len);

/* Writes what is queued; 0, or -1 when the connection failed. */
int ws_flush(struct ws_conn *c);

/* Called for every complete text message; returning nonzero stops parsing. */
typedef void (*ws_on_text)(struct ws_conn *c, const char *data, size_t len, void *arg);

/* Reads what is there and hands every complete text message to cb. Returns
 * 0, or -1 when the connection closed or failed (c->state is WS_CLOSED).
 * The upgrade's 101 moves c to WS_OPEN and calls cb with data NULL, len 0.
 * A read shorter than asked emptied the socket, and the edge-triggered
 * registration reports the next bytes, so it stops there (one recv per
 * wake-up, not a second one for EAGAIN) unless drain is set: the peer's
 * close (EPOLLRDHUP, EPOLLHUP, EPOLLERR) brings no further edge, so then
 * it reads on to the end. */
int ws_read(struct ws_conn *c, ws_on_text cb, void *arg, int drain);

/* Closes the descriptor and frees the buffers (c stays zeroed, fd -1). */
void ws_close(struct ws_conn *c);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t ws_now_ns(void);

#endif
