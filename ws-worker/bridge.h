/*
 * bridge.h: the worker's NNG link to the broker: a PAIR1 socket dialling
 * ipc://$PIPECHAT_BROKER_DIR/workers. The dial does not block (a broker that
 * is down is redialled by NNG every RECONNMINT..RECONNMAXT), sends wait at most
 * WS_BRIDGE_SEND_WAIT_MS for room in a full queue (no broker, or still full, is
 * PC_ERR_UNAVAILABLE; the wait slows a flooding client down), and the main
 * loop polls two descriptors: the socket's NNG_OPT_RECVFD (a message can be
 * received) and an eventfd that pipe notifications bump (the broker came or
 * went). A pipe whose peer is not our own uid is closed before it is used.
 *
 * Not here: what the messages mean (conn.h). Not thread-safe except for the
 * pipe callbacks, which touch only two atomic counters and the eventfd.
 */
#ifndef PIPECHAT_WS_BRIDGE_H
#define PIPECHAT_WS_BRIDGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include "err.h"
#include "wire.h"

#define WS_BRIDGE_SEND_WAIT_MS                                                 \
	250 /* a full send queue: wait this long, then give up */

struct ws_bridge {
	nng_socket sock;
	int open;
	int recv_fd;            /* poll for POLLIN: a message is waiting */
	int event_fd;           /* poll for POLLIN: pipes came or went */
	atomic_uint adds, rems; /* pipes added, and removed while in use */
	atomic_uint pipe_id;    /* the pipe in use, 0 for none */
	unsigned seen_adds, seen_rems;
	int credit_owed; /* a CREDIT could not be sent yet */
};

/*
 * Opens the socket and starts dialling ipc://<dir>/workers. b must stay at
 * its address until ws_bridge_close (callbacks point at it).
 * PC_OK, PC_ERR_INVALID (path too long), PC_ERR_SYSTEM (NNG or eventfd
 * failed; logged).
 */
enum pc_err ws_bridge_open(struct ws_bridge *b, const char *dir);
/* The same for any broker URL (links.h: ipc://, tcp://, tls+tcp:// with
 * tls, which the dialer holds its own reference to; NULL otherwise), TCP
 * keepalive on for tcp. */
enum pc_err ws_bridge_open_url(struct ws_bridge *b, const char *url,
                               nng_tls_config *tls);
/* Closes the socket and the eventfd; b may be zeroed or half open. */
void ws_bridge_close(struct ws_bridge *b);
/* conn.h's ws_link_fn: header + payload as one message, without blocking. */
enum pc_err ws_bridge_send(void *b, const struct pc_wire_hdr *h,
                           const void *payload, size_t len);
/* Receives one message without blocking; *out is the caller's (nng_msg_free).
 * PC_OK, or PC_ERR_UNAVAILABLE when none is waiting. A message whose outer
 * header carries PC_WIRE_F_CREDIT is answered with a PC_WIRE_CREDIT here,
 * at once (flow control, broker/link.h); one that could not be sent is
 * retried on the next call. */
enum pc_err ws_bridge_recv(struct ws_bridge *b, nng_msg **out);
/*
 * Drains the eventfd and tells what changed since the last call: *went when
 * a pipe was removed, *came when one is connected now. Both may be set (a
 * reconnect between two calls): handle *went first.
 */
void ws_bridge_events(struct ws_bridge *b, int *went, int *came);

#endif
