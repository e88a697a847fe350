/*
 * splisten.h: the broker's listener for workers on ipc://DIR/workers,
 * without libnng: it accepts each worker's Unix-socket connection and
 * speaks NNG's PAIR1 wire format on it itself (common/splink.h), in the
 * main thread, with epoll. A worker built with libnng's dialer is as
 * welcome as one with splink: the bytes are NNG's.
 *
 * Why: through libnng's polyamorous PAIR1 socket every message to a worker
 * was handed to NNG's threads and written from there, and every message
 * from one was read there and handed back, so a message to a room of N
 * cost N hand-offs and wake-ups of NNG's task and poller threads (perf:
 * most of the broker's time in bench/broker and bench/fanout, session 4).
 * Here a message is a write() from the main loop into the worker's socket.
 * Nothing is dropped (NNG's PAIR1 dropped what a pipe's queue of two could
 * not take): what the socket cannot take yet waits in the link's buffer, up
 * to tx_max bytes, after which splisten_send fails and link.c closes the
 * pipe (the worker redials and re-syncs).
 *
 * Each connection gets an id with SPLISTEN_ID_BIT set (NNG's pipe ids stay
 * below it), reported through the event callback when the greeting is
 * done (add) and when the connection is gone (remove, also after
 * splisten_drop). Peers whose uid is not the broker's are refused at
 * accept. Not thread-safe: the main thread only. Not for: what the
 * messages mean or the per-pipe outbox and batching (link.c), workers on
 * other machines (libnng's tcp:// and tls+tcp:// listeners, link.c).
 */
#ifndef PIPECHAT_BROKER_SPLISTEN_H
#define PIPECHAT_BROKER_SPLISTEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define SPLISTEN_ID_BIT 0x80000000u

/* A connection came (add 1: greeted) or went (add 0). */
typedef void (*splisten_event_fn)(uint32_t id, int add);

/*
 * Listens on path (mode 0600; a stale socket file is replaced), for peers
 * of uid. max_msg bounds a received message, tx_max what may wait to be
 * written to one worker. PC_OK or PC_ERR_SYSTEM (logged).
 */
enum pc_err splisten_open(const char *path, uid_t uid, size_t max_msg,
                          size_t tx_max, splisten_event_fn on_event);
/* Closes the listener and every connection (no events); removes path. */
void splisten_close(void);
/* The descriptor to poll for POLLIN (an epoll set), -1 when closed. */
int splisten_fd(void);
/* Non-zero when id is one of ours. */
int splisten_is(uint32_t id);
/* After poll: accepts, reads, writes, closes what failed (events). */
void splisten_io(int64_t now_ms);
/* Non-zero when a whole message is already read (do not sleep). */
int splisten_ready(void);
/*
 * The next message read, from any connection (each connection's in order):
 * *msg stays valid until the next splisten_recv or splisten_io. PC_OK or
 * PC_ERR_NOT_FOUND.
 */
enum pc_err splisten_recv(uint32_t *id, const unsigned char **msg,
                          size_t *len);
/* Queues one message of two parts (b may be NULL) for id and writes what
 * the socket takes. PC_OK, PC_ERR_NOT_FOUND (no such connection) or
 * PC_ERR_UNAVAILABLE (over tx_max, or it failed: drop it). */
enum pc_err splisten_send(uint32_t id, const void *a, size_t alen,
                          const void *b, size_t blen);
/* Closes id's connection; its remove event follows at once. */
void splisten_drop(uint32_t id);

#endif
