/*
 * link.h: the broker's sockets and everything about pipes.
 *
 * Workers on this machine dial ipc://DIR/workers, which splisten.h serves
 * without libnng (NNG's PAIR1 bytes, the main thread, epoll): each
 * connection is a pipe whose id has SPLISTEN_ID_BIT set, its messages are
 * written straight into its socket (no window, no credit: nothing is
 * dropped there), and what the socket cannot take yet waits, up to
 * queue_max bytes, before the pipe is closed. Workers on other machines
 * (link_listen_net) dial a libnng PAIR1 socket in polyamorous mode: every
 * received message names the pipe (worker) it came from, and every message
 * the broker sends is addressed to one pipe (nng_msg_set_pipe); what
 * follows about NNG's queues, the window and credit is about those. The API dials
 * ipc://DIR/api, a PUSH to the broker's PULL, for notifications. DIR is made
 * 0700 when missing, both listeners are 0600, and a pipe whose peer uid is not
 * the broker's own is closed before it is added (NNG_PIPE_EV_ADD_PRE).
 *
 * NNG 1.5.2's polyamorous PAIR1 (pair1_poly.c) gives each pipe a send queue
 * of two messages, whatever NNG_OPT_SENDBUF says (that sizes the socket's
 * shared queue in front of them), and drops a message when that queue is
 * full. Measured here: 500 messages sent back to back to one pipe whose
 * reader is fast arrive 133 times; paced at one per 10 µs, all arrive. So
 * the broker never hands NNG more than it can take: each pipe has an outbox
 * here, and a worker that announced PC_WIRE_F_BATCH in its AUTH gets many
 * frames packed into one PC_WIRE_BATCH message.
 *
 * Flow control is by credit (a worker whose AUTH carried PC_WIRE_F_CREDIT):
 * at most LINK_WINDOW NNG messages are on their way to a pipe at once, sent
 * the moment they are queued; the message that fills the window carries
 * PC_WIRE_F_CREDIT and the worker answers it with a CREDIT as soon as it has
 * received it, which empties the window again. Everything queued meanwhile
 * goes in the next BATCH. NNG holds at most three messages per pipe without
 * dropping (one being written to the socket, two queued behind it), so two
 * un-credited messages can never be dropped, whatever the worker's speed.
 * Before that (time-based pacing, LINK_BURST per LINK_GAP_US) every message
 * waited up to a millisecond per pipe and a burst waited a millisecond per
 * 64 KiB; pacing remains for a worker that does not announce credit (one
 * started before an upgrade). Nothing blocks on a slow worker: an outbox
 * over its byte limit closes that pipe (the worker redials and re-syncs); a
 * worker that stops reading stops returning CREDIT, so its outbox grows to
 * that limit.
 *
 * Single-threaded except the pipe callbacks, which only queue events that
 * link_events hands to the main thread.
 */
#ifndef PIPECHAT_BROKER_LINK_H
#define PIPECHAT_BROKER_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "err.h"
#include "frame.h"
#include "wire.h"

#define LINK_WINDOW      2           /* un-credited NNG messages per pipe */
#define LINK_BURST       1           /* paced: NNG messages per pipe per gap */
#define LINK_GAP_US      1000        /* paced: between bursts to one pipe */
#define LINK_BATCH_BYTES (64 * 1024) /* most bytes packed in one BATCH */

/* Called from link_events (main thread) for each pipe that went away. */
typedef void (*link_removed_fn)(uint32_t pipe);

/*
 * Creates dir (0700) when missing and listens on ipc://dir/workers and
 * ipc://dir/api. queue_max bounds each pipe's outbox in bytes. PC_OK or
 * PC_ERR_SYSTEM (logged).
 */
enum pc_err link_open(const char *dir, size_t queue_max,
                      link_removed_fn on_removed);
/* Closes both sockets and frees every outbox. */
void link_close(void);

/* Pollable descriptors (never read them): workers' and API's messages, and
 * pipe events; and the local workers' connections (splisten.h), after whose
 * POLLIN link_io is due. */
int link_workers_fd(void);
int link_api_fd(void);
int link_events_fd(void);
int link_native_fd(void);
/* The local workers' I/O: accepts, reads, writes (splisten_io). */
void link_io(void);
/* Non-zero when a local worker's message is already read: poll must not
 * wait. */
int link_pending(void);

/*
 * Receives one worker message without blocking: PC_OK with *msg (the caller
 * frees it) and *pipe, or PC_ERR_NOT_FOUND when none waits. Pipe events
 * queued before the message are handled first, so a message from a pipe
 * that has gone is never mistaken for a live one: check link_alive.
 */
enum pc_err link_recv_worker(nng_msg **msg, uint32_t *pipe);
/* The same for the API socket (no pipe). */
enum pc_err link_recv_api(nng_msg **msg);
/* Handles queued pipe events: new pipes become alive, gone ones are
 * forgotten and reported to on_removed. */
void link_events(void);
/* Non-zero when pipe is connected (as far as the main thread knows). */
int link_alive(uint32_t pipe);

/*
 * Queues a message for pipe: header h and payload f (may be NULL; the outbox
 * takes its own reference). Dropped silently when the pipe is not alive; a
 * pipe whose outbox passes queue_max is closed.
 */
void link_send(uint32_t pipe, const struct pc_wire_hdr *h, struct frame *f);
/* The worker on pipe understands PC_WIRE_BATCH. */
void link_set_batch(uint32_t pipe, int on);
/* The worker on pipe returns PC_WIRE_CREDIT (its AUTH said so): from now on
 * the pipe is flow-controlled by credit instead of paced. Call it when the
 * AUTH arrives, before anything is queued for the pipe. */
void link_set_credit(uint32_t pipe);
/* A PC_WIRE_CREDIT from pipe: its window is empty again (link_flush sends
 * what waits). Ignored for a pipe not in credit mode. */
void link_credit(uint32_t pipe);
/* Closes a pipe (its removal is reported through link_events later). */
void link_close_pipe(uint32_t pipe);
/*
 * Hands queued messages to NNG: as many as each pipe's window allows (credit
 * mode) or its pace (paced mode). Returns the microseconds until the next
 * flush is due, or -1 when nothing waits on a timer (every outbox is empty,
 * or waits for a CREDIT, whose arrival wakes the main loop).
 */
int64_t link_flush(int64_t now_us);
/* Counters for the log: frames queued, NNG messages sent, pipes closed for
 * overflow, messages NNG dropped at a full pipe queue (repaired by workers). */
void link_stats(uint64_t *frames, uint64_t *msgs, uint64_t *overflows,
                uint64_t *drops);
/* Credit mode counters: CREDITs received, and flushes that left a pipe's
 * messages waiting for one (its window was full). */
void link_credit_stats(uint64_t *credits, uint64_t *stalls);

/*
 * Sharding (docs/scaling.md): after link_open, also listens for workers on
 * workers_url and for the API on api_url (tcp:// or tls+tcp://), TCP
 * keepalive on (a crashed machine's pipes are closed by the kernel's
 * keepalive timers, not never). tls: NULL for plaintext tcp://; else it
 * requires and verifies the client's certificate (the listener takes its
 * own reference). Pipes from these listeners skip the uid check. PC_OK or
 * PC_ERR_SYSTEM (logged).
 */
enum pc_err link_listen_net(const char *workers_url, const char *api_url,
                            nng_tls_config *tls);

#endif
