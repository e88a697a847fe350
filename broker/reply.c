/*
 * reply.c: wire messages to one pipe (reply.h).
 */
#include <string.h>

#include "link.h"
#include "log.h"
#include "reply.h"
#include "wire.h"

void
reply(uint32_t pipe, int type, uint64_t req_id, int64_t room, int64_t seq,
      int64_t arg, uint16_t flags, struct frame *f)
{
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.flags = flags;
	h.req_id = req_id;
	h.room = room;
	h.seq = seq;
	h.arg = arg;
	link_send(pipe, &h, f);
}

void
reply_error(uint32_t pipe, uint64_t req_id, int64_t room, enum pc_err e,
            const char *ref, const char *field, int64_t retry_after_ms)
{
	struct frame *f;

	if (e >= PC_ERR_NOMEM)
		e = PC_ERR_UNAVAILABLE; /* internal causes are not the client's
		                         */
	f = frame_error(e,
	                e == PC_ERR_UNAVAILABLE
	                        ? "The service is unavailable; nothing was "
	                          "stored. Try again."
	                        : NULL,
	                ref, field, retry_after_ms);
	if (f == NULL) {
		pc_log_err("out of memory: an error for pipe %u is lost",
		           (unsigned)pipe);
		return;
	}
	reply(pipe, PC_WIRE_ERROR, req_id, room, 0, (int64_t)e, 0, f);
	frame_unref(f);
}

void
reply_close(uint32_t pipe, enum pc_err e)
{
	struct frame *f = frame_error(e, NULL, NULL, NULL, -1);

	/* without a frame the worker still closes on CLOSE */
	reply(pipe, PC_WIRE_CLOSE, 0, 0, 0, (int64_t)e, 0, f);
	frame_unref(f);
}
