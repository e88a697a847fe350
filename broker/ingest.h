/*
 * ingest.h: requests from workers and notifications from the API, decoded
 * (common/wire.h) and dispatched by a table of message types; plus the
 * broker's one-second timer (TICK, forgetting idle rooms and buckets).
 *
 * A request is checked here (authenticated pipe, fields, rate limits, room
 * counts, subscription for typing and calls) and then either answered at once
 * (typing, ping, a FETCH the ring can serve) or handed to the store thread;
 * deliver.c answers what comes back. Main thread only.
 */
#ifndef PIPECHAT_BROKER_INGEST_H
#define PIPECHAT_BROKER_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "settings.h"

/* Borrows s until ingest_fini. */
void ingest_init(const struct settings *s);
void ingest_fini(void);

/* One message from worker pipe (data borrowed). Bad ones are logged and
 * dropped. */
void ingest_worker(uint32_t pipe, const void *data, size_t len);
/* One notification from the API (data borrowed). */
void ingest_api(const void *data, size_t len);
/* The pipe is gone (link.c's callback). */
void ingest_pipe_removed(uint32_t pipe);
/* For the table test: 0 when the dispatch tables are complete and have no
 * duplicate rows, else the number of problems (each logged). */
int ingest_check_tables(void);
/* Runs once a second: TICK to active rooms, forgets idle rooms and buckets. */
void ingest_tick(int64_t now_ms);

#endif
