/*
 * online.h: who has an open socket, written to PostgreSQL for the API
 * (table user_online, sql/0002_presence.sql), so that GET /api/users and a
 * room's members can say `online` (contract sections 3 and 8: a user with
 * any open socket).
 *
 * The broker is the only writer. auth.c reports every change of a user's
 * socket count (online_touch); once a second online_flush hands the store
 * thread ONE job with the users that changed and their counts (a row while
 * the count is above zero, none at zero), so the table lags the sockets by
 * at most about a second and never costs a send a round trip. The first
 * flush after start, and the next one after any failure, rewrites the
 * whole table from the sockets held now (so a killed broker's leftovers are
 * cleared when it starts again). Main thread only.
 *
 * Several brokers (docs/scaling.md): every broker sees every socket, but a
 * user's row is written only by the broker of shard user_id mod n
 * (online_set_shard), and that broker writes at least every ONLINE_BEAT_MS,
 * even nothing: each write is its heartbeat (sql/0005_shards.sql), and a
 * broker silent for 30 s has its rows expired by the others.
 */
#ifndef PIPECHAT_BROKER_ONLINE_H
#define PIPECHAT_BROKER_ONLINE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Starts with a full rewrite pending (the table is cleared at start). */
void online_init(void);
void online_fini(void);
/* This broker is shard `me` of n (n > 1): own only those users and beat.
 * After online_init. */
void online_set_shard(size_t n, size_t me);
/* user's number of authenticated sockets changed. */
void online_touch(int64_t user);
/* Queues the changes (or the full rewrite) as one STORE_ONLINE job; does
 * nothing when there is none. */
void online_flush(void);
/* The STORE_ONLINE job came back: a failure makes the next flush a full
 * rewrite (a little later). Does not free j. */
void online_done(const struct store_job *j);

#endif
