/*
 * splink.h: one end of a PAIR1 connection over ipc://, in NNG's own wire
 * format, spoken by the program itself in its own thread: the worker's
 * dialling end (ws-worker/bridge.h uses it for ipc:// brokers) and the
 * broker's accepted ends (broker/link.c, splink_adopt).
 *
 * Why not libnng here: libnng starts its thread pool (7 threads with the
 * small pool, 14 with Debian's) in every process that opens a socket, and
 * every message then crosses two of those threads before the program's own
 * loop sees it. One process per WebSocket multiplies both: at 10,000
 * sockets that was 70,000 threads, ~50 KiB of stacks and heap per worker,
 * and about a third of a worker's CPU per message (bench/README.md); in the
 * broker, each message to N workers was N hand-offs to NNG's threads. What
 * crosses the socket is NNG's own wire format, byte for byte (NNG's "SP
 * over IPC" mapping and its PAIR1 protocol), so either end may be libnng:
 *
 *   - on connect each side sends 8 bytes: 00 'S' 'P' 00, the protocol as
 *     16 bits big-endian (PAIR1 = 0x0011), then 00 00;
 *   - then every message is one byte 0x01, its length as 64 bits
 *     big-endian, and the message: PAIR1's 32-bit hop count (big-endian,
 *     1 from a sender; more than 255 is a broken peer, more than 8 is
 *     dropped) followed by the body (a pipechat wire message, wire.h).
 *
 * What NNG's dialer did and this does the same way: it redials a broker
 * that is down or went away (SPLINK_REDIAL_MIN_MS doubling to
 * SPLINK_REDIAL_MAX_MS), refuses a peer whose uid is not ours
 * (SO_PEERCRED), refuses a message over PC_WIRE_MAX (the pipe is closed,
 * as NNG_OPT_RECVMAXSZ does), and bounds what waits to be sent
 * (SPLINK_TX_MAX bytes; a send finding it full waits up to wait_ms for the
 * socket to drain, then fails).
 *
 * Memory: the buffers start small (SPLINK_RX_START, SPLINK_TX_START; an
 * idle worker touches a page or two of them), grow as needed (a whole
 * message must fit), and one grown past SPLINK_BUF_KEEP is given back
 * when it empties, so a rare large message is not kept for life.
 *
 * Not thread-safe: one thread owns it. Not here: what the messages mean.
 */
#ifndef PIPECHAT_WS_SPLINK_H
#define PIPECHAT_WS_SPLINK_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define SPLINK_PATH_MAX      108 /* sun_path */
#define SPLINK_REDIAL_MIN_MS 100
#define SPLINK_REDIAL_MAX_MS 1000
#define SPLINK_PROTO_PAIR1   0x0011
#define SPLINK_HOPS_MAX      8 /* NNG's default NNG_OPT_MAXTTL */
#define SPLINK_HEAD          9 /* type byte + 64-bit length */
#define SPLINK_HOPS_LEN      4
#define SPLINK_RX_START      4096 /* most messages are a few hundred bytes */
#define SPLINK_TX_START      4096
#define SPLINK_BUF_KEEP      65536 /* an empty buffer above this is freed */

enum splink_state { SPLINK_DOWN, SPLINK_HELLO, SPLINK_UP };

struct splink {
	char path[SPLINK_PATH_MAX];
	size_t max_msg; /* the largest body accepted */
	size_t tx_max;  /* bytes that may wait to be sent */
	int fd;         /* -1 while down */
	enum splink_state state;
	int64_t redial_at; /* mono ms: the next dial while down */
	int backoff_ms;
	unsigned pipe;  /* counts the connections that came up */
	int broken;     /* an error seen while sending: close on io */
	int adopted;    /* accepted (splink_adopt): never redialled */
	int went, came; /* not yet told (splink_events) */
	unsigned char hello[8];
	size_t hello_got;
	unsigned char *rx; /* bytes read; rx_off .. rx_len not handed out */
	size_t rx_cap, rx_len, rx_off;
	unsigned char *tx; /* bytes to write; tx_off .. tx_len left */
	size_t tx_cap, tx_len, tx_off;
};

/*
 * Prepares l for ipc://path and dials at once (a broker that is not there
 * yet is redialled later). max_msg bounds a received body, tx_max the
 * bytes waiting to be sent. PC_OK, or PC_ERR_INVALID (path too long).
 */
enum pc_err splink_open(struct splink *l, const char *path, size_t max_msg,
                        size_t tx_max, int64_t now_ms);
/*
 * Non-zero when the process at the other end of the connected Unix socket
 * fd runs as uid (SO_PEERCRED, read by the kernel at connect: both ends
 * check it before any byte). *peer is the peer's uid, or (uid_t)-1 when
 * the kernel could not say (errno set).
 */
int splink_peer_is(int fd, uid_t uid, uid_t *peer);
/*
 * The accepting end: l takes fd (a connected, non-blocking Unix socket
 * whose peer's uid the caller checked with splink_peer_is), writes its greeting and waits for
 * the peer's, as the dialling end does; once closed (splink_io, a went) it
 * stays DOWN. PC_OK, or PC_ERR_UNAVAILABLE (the greeting could not be
 * written; fd is closed).
 */
enum pc_err splink_adopt(struct splink *l, int fd, size_t max_msg,
                         size_t tx_max, int64_t now_ms);
/* Closes the connection and frees the buffers; l may be zeroed. */
void splink_close(struct splink *l);
/* The one descriptor to poll (fd -1 while down): POLLIN, and POLLOUT while
 * bytes wait to be sent. */
void splink_pollfd(const struct splink *l, struct pollfd *fd);
/* Milliseconds until l needs splink_io without an event: 0 when a whole
 * message is already buffered, the time to the next redial while down,
 * -1 for none. */
int splink_wait_ms(const struct splink *l, int64_t now_ms);
/* The work after poll (fd as polled, revents 0 when it was not): redials
 * when due, finishes the greeting, reads what arrived, writes what waits,
 * and closes a connection that failed (a went). */
void splink_io(struct splink *l, const struct pollfd *fd, int64_t now_ms);
/* What changed since the last call: *went when a connection that was up
 * closed, *came when one is up now. Both may be set: handle *went first. */
void splink_events(struct splink *l, int *went, int *came);
/*
 * The next whole message already read, without blocking: *msg points into
 * l's buffer and stays valid until the next splink_recv, splink_io or
 * splink_close (splink_send does not move it). PC_OK, or
 * PC_ERR_UNAVAILABLE when none is buffered.
 */
enum pc_err splink_recv(struct splink *l, const unsigned char **msg,
                        size_t *len);
/*
 * Queues one message made of two parts (a and b, b may be NULL) and writes
 * what it can now. Over tx_max waiting, waits up to wait_ms for the socket
 * to drain. PC_OK, or PC_ERR_UNAVAILABLE (not up, still full, or the
 * connection failed: closed on the next splink_io).
 */
enum pc_err splink_send(struct splink *l, const void *a, size_t alen,
                        const void *b, size_t blen, int wait_ms);

#endif
