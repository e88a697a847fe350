/*
 * wire.h: the one message format between pipechat's programs and the broker.
 *
 * Every NNG message is a fixed 40-byte header in network byte order followed by
 * an opaque payload. For frames a worker forwards to its client (message,
 * joined, ack, gap, typing, presence, read, invite, room, removed, edited,
 * deleted, call, error) the payload is the finished JSON line without its
 * newline, rendered once by the broker for all subscribers: the worker checks
 * room and seq from the header and copies the payload out, parsing nothing on
 * the hot path. Requests carry their arguments in the header and, where text
 * is needed (token, body, client_id, call data), a small JSON payload.
 *
 * Transport (broker/): workers dial ipc://$PIPECHAT_BROKER_DIR/workers (a
 * PAIR1 socket in polyamorous mode: the broker sends each room's traffic to
 * the subscribed pipes only, routing on the sending side, and at most two
 * messages in flight per pipe: PC_WIRE_CREDIT, broker/link.h); the API dials
 * ipc://$PIPECHAT_BROKER_DIR/api (PUSH to the broker's PULL, fire and forget).
 * This file only packs and unpacks; it knows nothing of NNG.
 */
#ifndef PIPECHAT_WIRE_H
#define PIPECHAT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PC_WIRE_VERSION 1
#define PC_WIRE_HDR_LEN 40
#define PC_WIRE_MAX (PC_WIRE_HDR_LEN + 80 * 1024) /* NNG_OPT_RECVMAXSZ everywhere */

enum pc_wire_type {
	/* worker -> broker: requests; the reply carries the same req_id. */
	PC_WIRE_AUTH = 1, /* payload: the token. Reply AUTHED or ERROR. */
	PC_WIRE_JOIN,     /* room; seq = since, or -1 for none. Reply JOINED
			   * (then GAP?, MSG replay, then live MSG) or ERROR. */
	PC_WIRE_LEAVE,    /* room. Reply OK or ERROR. */
	PC_WIRE_SEND,     /* room; payload {"body":…,"client_id":…}. Reply ACK or ERROR. */
	PC_WIRE_TYPING,   /* room. No reply unless ERROR. */
	PC_WIRE_READ,     /* room, seq. No reply unless ERROR. */
	PC_WIRE_CALL,     /* room; payload {"to":…,"call_id":…,"data":{…}}. ERROR only. */
	PC_WIRE_FETCH,    /* room, seq = from, arg = to (inclusive): gap repair.
			   * Reply: MSG frames with that req_id, then FETCHED. */
	PC_WIRE_PING,     /* liveness of the broker link. Reply OK. */
	PC_WIRE_CREDIT,   /* flow control: "I have taken every message you sent
			   * me off my socket, up to the one that carried
			   * PC_WIRE_F_CREDIT". No reply. Sent only by a worker
			   * whose AUTH carried PC_WIRE_F_CREDIT; see
			   * broker/link.h for the window it opens. */

	/* broker -> worker */
	PC_WIRE_AUTHED = 32, /* payload {"user":{id,username},"session":…,"exp":…}: hello */
	PC_WIRE_OK,          /* a request done; no payload */
	PC_WIRE_ERROR,       /* payload: the finished error frame line */
	PC_WIRE_JOINED,      /* room, seq = last_seq; payload: joined frame line */
	PC_WIRE_ACK,         /* room, seq, arg = the message's id (for the
	                      * worker's audit line); payload: ack frame line */
	PC_WIRE_MSG,         /* room, seq; payload: message frame line */
	PC_WIRE_GAP,         /* room, seq = from, arg = to; payload: gap frame line */
	PC_WIRE_FETCHED,     /* end of a FETCH reply */
	PC_WIRE_TICK,        /* room, seq = the room's latest seq (every second while active) */
	PC_WIRE_EVENT,       /* room (or 0); payload: a frame line written as is */
	PC_WIRE_REMOVED,     /* room: the user left or was removed; payload: removed line */
	PC_WIRE_CLOSE,       /* payload: an error line (session_revoked, …); write it and exit */
	PC_WIRE_BATCH,       /* payload: several complete messages, each a 4-byte
			      * big-endian length then the message (header and
			      * payload); handle them in order as if received one
			      * by one. Sent only to a worker whose AUTH carried
			      * PC_WIRE_F_BATCH. See pc_wire_batch_next. */

	/* API -> broker: notifications, fire and forget */
	PC_WIRE_N_SESSION_REVOKED = 64, /* payload: the session id */
	PC_WIRE_N_USER_REVOKED,         /* arg = user id: every session of that user */
	PC_WIRE_N_MEMBER_JOINED,        /* room, arg = user id */
	PC_WIRE_N_MEMBER_LEFT,          /* room, arg = user id; flags: PC_WIRE_F_KICKED */
	PC_WIRE_N_ROOM_CHANGED,         /* room: renamed or deleted (flags: PC_WIRE_F_DELETED) */
	PC_WIRE_N_USER_EVENT,           /* arg = user id; payload: a frame line for that user */
	PC_WIRE_N_ROOM_EVENT,           /* room; payload: a frame line for its subscribers */
};

#define PC_WIRE_F_KICKED  0x0001
#define PC_WIRE_F_DELETED 0x0002
#define PC_WIRE_F_SELF    0x0004 /* the sender's own message (ack already written) */
#define PC_WIRE_F_BATCH   0x0008 /* on AUTH: this worker understands PC_WIRE_BATCH */
/* On AUTH: this worker answers PC_WIRE_F_CREDIT with PC_WIRE_CREDIT. On the
 * outer header of a broker -> worker NNG message (a BATCH, or one message on
 * its own): answer with one PC_WIRE_CREDIT as soon as it is received. */
#define PC_WIRE_F_CREDIT  0x0010

struct pc_wire_hdr {
	uint8_t version;  /* PC_WIRE_VERSION */
	uint8_t type;     /* enum pc_wire_type */
	uint16_t flags;
	uint32_t reserved; /* zero */
	uint64_t req_id;  /* request correlation; 0 for events */
	int64_t room;
	int64_t seq;
	int64_t arg;
};

/* Packs h into out (PC_WIRE_HDR_LEN bytes). */
void pc_wire_pack(const struct pc_wire_hdr *h, unsigned char *out);
/*
 * Unpacks a received message of len bytes. On PC_OK writes *h and points
 * *payload (borrowed from data, not NUL-terminated) and *payload_len at what
 * follows the header. PC_ERR_INVALID for a short message, another version,
 * an unknown type or a non-zero reserved field.
 */
enum pc_err pc_wire_unpack(const void *data, size_t len, struct pc_wire_hdr *h,
    const char **payload, size_t *payload_len);
/*
 * Walks the messages packed in a PC_WIRE_BATCH payload. Start with *off = 0;
 * each PC_OK points *msg (borrowed) and *msg_len at the next inner message
 * (unpack it with pc_wire_unpack) and advances *off. PC_ERR_NOT_FOUND at the
 * end; PC_ERR_INVALID when a length runs past the payload or is shorter
 * than a header (stop there: the rest cannot be trusted).
 */
enum pc_err pc_wire_batch_next(const char *payload, size_t len, size_t *off,
    const char **msg, size_t *msg_len);
/* Appends one packed message (4-byte length, then hdr and payload) to out,
 * which has room for PC_WIRE_BATCH_ITEM(payload_len) bytes; returns that size. */
#define PC_WIRE_BATCH_ITEM(payload_len) (4 + PC_WIRE_HDR_LEN + (payload_len))
size_t pc_wire_batch_put(unsigned char *out, const struct pc_wire_hdr *h,
    const void *payload, size_t payload_len);
/* "auth", "msg", … for logs; "?" for an unknown type. */
const char *pc_wire_type_name(int type);

#endif
