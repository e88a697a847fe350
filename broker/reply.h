/*
 * reply.h: answers and events for one worker pipe, in the wire format
 * (common/wire.h), queued through link.c. The broker's one way to talk to a
 * worker; main thread only.
 */
#ifndef PIPECHAT_BROKER_REPLY_H
#define PIPECHAT_BROKER_REPLY_H

#include <stdint.h>

#include "err.h"
#include "frame.h"

/* Sends a message of type with the given header fields and payload f (may be
 * NULL; borrowed: the outbox takes its own reference). */
void reply(uint32_t pipe, int type, uint64_t req_id, int64_t room, int64_t seq,
           int64_t arg, uint16_t flags, struct frame *f);
/* Sends ERROR carrying the error frame for e (ref, field may be NULL;
 * retry_after_ms < 0: none). */
void reply_error(uint32_t pipe, uint64_t req_id, int64_t room, enum pc_err e,
                 const char *ref, const char *field, int64_t retry_after_ms);
/* Sends CLOSE carrying the error frame for e: the worker writes it and exits.
 */
void reply_close(uint32_t pipe, enum pc_err e);

#endif
