/*
 * bridge.h: the worker's link to one broker: a PAIR1 peer of the broker's
 * NNG socket. Two ways to be one, chosen by the URL:
 *
 *   - ipc:// (every broker on this machine, the default): splink.h, NNG's
 *     wire format spoken in the worker's own thread, without libnng and
 *     so without its thread pool (splink.h says why);
 *   - tcp:// and tls+tcp:// (a broker on another machine): libnng's PAIR1
 *     dialer, which brings TLS; the process then runs NNG's threads
 *     (bridge_net.h; only in pipechat-ws-full, ws-worker/README.md).
 *
 * Either way: the dial does not block (a broker that is down is redialled
 * every 100 ms .. 1 s), sends wait at most WS_BRIDGE_SEND_WAIT_MS for room
 * in a full queue (no broker, or still full, is PC_ERR_UNAVAILABLE; the
 * wait slows a flooding client down), a peer that is not our own uid is
 * refused (ipc), and the main loop polls the WS_BRIDGE_NFDS descriptors
 * ws_bridge_pollfds fills, then calls ws_bridge_io, within
 * ws_bridge_wait_ms at the latest.
 *
 * Not here: what the messages mean (conn.h). Not thread-safe except for
 * libnng's pipe callbacks, which touch only two atomic counters and the
 * eventfd.
 */
#ifndef PIPECHAT_WS_BRIDGE_H
#define PIPECHAT_WS_BRIDGE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge_net.h"
#include "err.h"
#include "splink.h"
#include "wire.h"

#define WS_BRIDGE_SEND_WAIT_MS                                                 \
	250 /* a full send queue: wait this long, then give up */
#define WS_BRIDGE_NFDS 2 /* descriptors to poll per bridge */
/* An owed CREDIT is tried again this soon: the broker sends the pipe
 * nothing more until it comes. */
#define WS_BRIDGE_CREDIT_RETRY_MS 10

struct ws_bridge {
	struct splink sp;          /* ipc:// (sp.fd -1 otherwise) */
	struct ws_bridge_net *net; /* tcp://, tls+tcp:// (bridge_net.h) */
	int own;                   /* 1: sp, 0: net */
	int credit_owed;           /* a CREDIT could not be sent yet */
};

/*
 * Opens the link to ipc://<dir>/workers and dials.
 * PC_OK, PC_ERR_INVALID (path too long), PC_ERR_SYSTEM (logged).
 */
enum pc_err ws_bridge_open(struct ws_bridge *b, const char *dir);
/* The same for any broker URL (links.h: ipc://, tcp://, tls+tcp:// with
 * tls, NULL otherwise), TCP keepalive on for tcp. A tcp URL in the worker
 * built for ipc:// only is PC_ERR_UNAVAILABLE (bridge_net.h). */
enum pc_err ws_bridge_open_url(struct ws_bridge *b, const char *url,
                               const struct ws_bridge_tls *tls);
/* Closes the link; b may be zeroed (with fds -1, see links.c) or half open. */
void ws_bridge_close(struct ws_bridge *b);
/* Fills fds[0 .. WS_BRIDGE_NFDS) for poll (unused ones have fd -1). */
void ws_bridge_pollfds(const struct ws_bridge *b, struct pollfd *fds);
/* Milliseconds until b needs ws_bridge_io even without an event (0: now,
 * -1: only on an event); at most WS_BRIDGE_CREDIT_RETRY_MS while a CREDIT
 * is owed (ws_bridge_recv sends it), since no event will come first. */
int ws_bridge_wait_ms(const struct ws_bridge *b, int64_t now_ms);
/* After poll, with the fds as filled and polled (or NULL when none was):
 * reads, writes, redials. Invalidates the last ws_bridge_recv's message. */
void ws_bridge_io(struct ws_bridge *b, const struct pollfd *fds,
                  int64_t now_ms);
/* conn.h's ws_link_fn: header + payload as one message, without blocking
 * (but see WS_BRIDGE_SEND_WAIT_MS). */
enum pc_err ws_bridge_send(void *b, const struct pc_wire_hdr *h,
                           const void *payload, size_t len);
/*
 * The next message received, without blocking: *msg (len bytes) stays
 * valid until the next ws_bridge_recv, ws_bridge_io or ws_bridge_close;
 * *pipe is the pipe it came by (ws_bridge_pipe). PC_OK, or
 * PC_ERR_UNAVAILABLE when none is waiting. A message whose outer header
 * carries PC_WIRE_F_CREDIT is answered with a PC_WIRE_CREDIT here, at once
 * (flow control, broker/link.h); one that could not be sent is retried on
 * the next call.
 */
enum pc_err ws_bridge_recv(struct ws_bridge *b, const char **msg, size_t *len,
                           unsigned *pipe);
/* The pipe in use now, 0 for none. */
unsigned ws_bridge_pipe(const struct ws_bridge *b);
/*
 * What changed since the last call: *went when a pipe was removed, *came
 * when one is connected now. Both may be set (a reconnect between two
 * calls): handle *went first.
 */
void ws_bridge_events(struct ws_bridge *b, int *went, int *came);

#endif
