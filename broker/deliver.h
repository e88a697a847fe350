/*
 * deliver.h: what the main thread does with the store thread's answers, in
 * the order they come: AUTHED, JOINED then gap then replay then subscribe,
 * ACK to the sender then MSG to the room, read events, FETCH replies,
 * revocations and membership changes that waited for earlier jobs.
 *
 * Also the two paths that take a pipe out of rooms (a leave, a removal, a
 * dead worker) so presence is kept in one place. Main thread only.
 */
#ifndef PIPECHAT_BROKER_DELIVER_H
#define PIPECHAT_BROKER_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "fanout.h"
#include "settings.h"
#include "store.h"

#define DELIVER_REPLAY_MAX 500 /* contract section 8: more missed -> gap */

/* Marks a BARRIER job that carries an API notification (aux = the wire type).
 */
#define DELIVER_NOTICE 1
/* Marks a FETCH job that finishes a join (aux = since, aux2 = DELIVER_JOINING).
 */
#define DELIVER_JOINING 2

/* For the table test: 0 when every job kind has a handler and no
 * notification is listed twice; else the problems (logged). */
int deliver_check_tables(void);
/* Borrows s until the end. */
void deliver_init(const struct settings *s);
/* Handles one answered job; takes ownership (frees or resubmits it). */
void deliver(struct store_job *j);

/*
 * Takes pipe out of room (joined or joining); when it was the user's last
 * socket there, the room's other subscribers get presence offline. Returns
 * non-zero when the pipe was in the room.
 */
int deliver_leave(uint32_t pipe, int64_t room);
/* A pipe is gone or revoked: out of every room, its record forgotten. */
void deliver_pipe_gone(uint32_t pipe);
/*
 * Answers a FETCH of [from, to] in r: MSG frames for the seqs held, from
 * rows (row_seq[i] is rows[i]'s seq, ascending; may be NULL) then from r's
 * ring, then FETCHED with
 * seq = from, arg = the last seq sent (from - 1 when none).
 */
void deliver_fetched(uint32_t pipe, uint64_t req_id, struct fanout_room *r,
                     int64_t from, int64_t to, struct frame *const *rows,
                     const int64_t *row_seq, size_t nrows);

#endif
