/*
 * conn.h: the state of this worker's one WebSocket connection and everything
 * that happens to it: who is signed in, which rooms are joined, what was last
 * written for each room, which sends await their ack, and the broker link.
 *
 * It turns broker messages (wire.h) into client frames, keeping every room in
 * seq order: a message with seq == last + 1 is written; a later one is held
 * (at most WS_HELD_MAX) while the missing range is fetched from the broker
 * (FETCH, one outstanding per room, WS_FETCH_CHUNK seqs at a time); an older
 * one is a duplicate and dropped. More than WS_GAP_MAX missing is reported with
 * a `gap` frame and only the newest WS_GAP_MAX are fetched. A TICK above the
 * last written seq means the tail was lost: it is fetched too.
 *
 * A client that does not read: its output waits in a queue (lineio.h) that
 * the worker keeps small. Past WS_OUT_SOFT bytes, room messages are not
 * queued but only noted (the highest seq known); once the client has read the
 * queue down to WS_OUT_LOW they are fetched again (or a gap, past 500). Past
 * WS_OUT_HARD (a client that floods frames and reads nothing) the connection
 * ends.
 *
 * Broker restarts: when the link goes down every joined room is marked for a
 * re-join and sends awaiting an ack are kept; when it comes back the worker
 * re-AUTHs, re-JOINs each room with since = the last seq written (the broker
 * replays the hole, or sends a gap), and resends the kept sends with their
 * client_id (idempotent: the broker answers a stored one with its original
 * ack). The `joined` frame of such a re-join is not written again: the client
 * never left the room. While the link is down, requests get `unavailable`.
 *
 * Audit (audit.h): the connection writes the connect, join, leave, send and
 * refused lines itself, and names in `why` the reason it ended, for the
 * disconnect line main.c writes.
 *
 * Not here: reading stdin (lineio.h), parsing client frames (cmd.h), NNG
 * (bridge.h), rendering human lines (textmode.h). conn talks to the client
 * and to the broker only through the two callbacks it is given, so unit tests
 * drive it without processes or sockets. Single-threaded.
 */
#ifndef PIPECHAT_WS_CONN_H
#define PIPECHAT_WS_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "audit.h"
#include "err.h"
#include "token.h"
#include "valid.h"
#include "wire.h"

#define WS_HELD_MAX          500 /* held out-of-order messages per room */
#define WS_HELD_BYTES        (4 * 1024 * 1024) /* and their bytes */
#define WS_GAP_MAX           500   /* more missing than this: a gap frame */
#define WS_FETCH_CHUNK       100   /* seqs asked for per FETCH */
#define WS_FETCH_TIMEOUT_MS  3000  /* a FETCH without FETCHED is asked again */
#define WS_FETCH_TRIES       5     /* FETCHED without progress: then a gap */
#define WS_PENDING_SENDS_MAX 256   /* sends awaiting their ack */
#define WS_AUTH_TIMEOUT_MS   10000 /* no hello by then: unavailable, exit */
#define WS_PING_MS           25000 /* write a ping after this much silence */
#define WS_IDLE_MS           75000 /* close after this long without a client frame */
#define WS_RETRY_MS          1000 /* re-join, re-fetch, re-auth retry pace */
#define WS_REPLAY_MS         2000 /* a join's replay silent this long is fetched */
#define WS_LABEL_MAX         (PC_ROOM_NAME_BYTES + 2)
/* Output the client has not read yet (bytes queued in front of stdout): */
#define WS_OUT_LOW  (64 * 1024)       /* below: fetch what was skipped */
#define WS_OUT_SOFT (1024 * 1024)     /* above: room messages are skipped */
#define WS_OUT_HARD (8 * 1024 * 1024) /* above: the client is dropped */

/* Writes one line (no newline) to the client. PC_OK or an error: the connection
 * ends. */
typedef enum pc_err (*ws_out_fn)(void *ctx, const char *line, size_t len);
/* Bytes written but not yet taken by the client (same ctx as ws_out_fn). */
typedef size_t (*ws_backlog_fn)(void *ctx);
/* Sends one request to the broker without blocking. PC_OK or
 * PC_ERR_UNAVAILABLE. */
typedef enum pc_err (*ws_link_fn)(void *ctx, const struct pc_wire_hdr *h,
                                  const void *payload, size_t len);

enum ws_link_state { WS_LINK_DOWN, WS_LINK_AUTHING, WS_LINK_UP };
enum ws_room_state { WS_ROOM_JOINING, WS_ROOM_JOINED, WS_ROOM_REJOIN };

struct ws_held {
	int64_t seq;
	char *line;
	size_t len;
};

struct ws_room {
	int64_t id;
	enum ws_room_state state;
	int64_t since;  /* since of the join in flight; -1: none */
	int was_joined; /* the client saw `joined`: a re-join is silent */
	uint64_t join_req;
	int64_t retry_at;  /* REJOIN: not before this (mono ms) */
	int64_t last;      /* last seq written to the client */
	int64_t known;     /* highest seq known to exist */
	int64_t replay_to; /* the join's last_seq, while its replay streams in
	                    */
	int64_t replay_deadline; /* no progress by then: fetch the rest (mono
	                            ms) */
	struct ws_held *held;    /* sorted by seq, all > last + 1 */
	size_t nheld, held_bytes;
	uint64_t fetch_req; /* 0: no FETCH outstanding */
	int64_t fetch_from, fetch_to, fetch_deadline, fetch_not_before;
	int fetch_tries;
	char label[WS_LABEL_MAX]; /* text mode: "#general", "@bob"; "" unknown
	                           */
};

struct ws_pending_send {
	uint64_t req_id;
	int64_t room;
	char *payload; /* {"body":…,"client_id":…} */
	size_t len;
};

struct ws_conn_params {
	int text;          /* ?format=text */
	int64_t room;      /* ?room=ID, 0 for none */
	int64_t max_rooms; /* PIPECHAT_MAX_ROOMS_PER_SOCKET */
	const char *token; /* borrowed for the connection's life (re-AUTH) */
	ws_out_fn out;
	ws_backlog_fn backlog; /* may be NULL: never congested */
	void *out_ctx;
	ws_link_fn link;
	void *link_ctx;
	struct ws_audit *audit; /* may be NULL: no audit lines */
};

struct ws_conn {
	struct ws_conn_params p;
	/* who, once AUTHED */
	int authed;
	int64_t user_id;
	char username[PC_USERNAME_MAX + 1];
	char session[PC_SID_MAX + 1];
	int64_t exp; /* seconds since the epoch; 0: none */
	/* broker link */
	int pipe_up;
	enum ws_link_state link;
	uint64_t next_req;  /* last req_id used */
	uint64_t epoch_req; /* replies to req_ids below this are stale */
	uint64_t auth_req;
	int64_t auth_retry_at;
	/* rooms and sends */
	struct ws_room *rooms;
	size_t nrooms, rooms_cap;
	struct ws_pending_send *sends;
	size_t nsends;
	/* time (mono ms) */
	int64_t started_ms, last_out_ms, last_in_ms;
	/* text mode: client ids "t-<start ms>-<pid>-<n>" */
	char text_idbase[40];
	uint64_t text_n;
	/* set when the connection must end, with why (a static word for the
	 * audit's disconnect line: idle, slow_client, session_revoked, ...) */
	int done;
	const char *why;
};

/* Initialises c (zeroed first); PC_OK. Nothing is written or sent yet. */
enum pc_err ws_conn_init(struct ws_conn *c, const struct ws_conn_params *p);
/* Frees every room, held line and pending send; c may be zeroed. */
void ws_conn_free(struct ws_conn *c);

/* The broker pipe appeared: sends AUTH. */
void ws_conn_link_up(struct ws_conn *c);
/* The broker pipe went away: rooms to re-join, replies in flight become stale.
 */
void ws_conn_link_down(struct ws_conn *c);
/* Handles one message from the broker (data borrowed). Bad ones are logged and
 * dropped. */
void ws_conn_broker(struct ws_conn *c, const void *data, size_t len);
/* Handles one client line (JSON frame, or a body in text mode); borrowed. */
void ws_conn_client_line(struct ws_conn *c, const char *line, size_t len);
/* A client line passed WS_LINE_MAX: answers too_large. */
void ws_conn_client_too_large(struct ws_conn *c);
/*
 * Runs the timers at mono time now (ms) and wall time wall_ms: keep-alive
 * ping, idle close, token expiry, fetch timeouts and retries, re-join and
 * re-auth retries. Returns how many ms the caller may sleep: at most
 * WS_RETRY_MS while anything waits to be retried or to complete, else until
 * the next ping, idle close or expiry.
 */
int ws_conn_timers(struct ws_conn *c, int64_t now, int64_t wall_ms);

/*
 * Requests used by the client commands (cmd.c). Each answers the client
 * itself only where it says so; on an error return the caller writes the
 * error frame with its ref.
 */
/* JOIN room (since -1: none). PC_ERR_LIMIT_REACHED, PC_ERR_UNAVAILABLE,
 * PC_ERR_NOMEM. */
enum pc_err ws_conn_join(struct ws_conn *c, int64_t room, int64_t since);
/* LEAVE room; its traffic stops being written at once. PC_ERR_UNAVAILABLE. */
enum pc_err ws_conn_leave(struct ws_conn *c, int64_t room);
/* SEND; kept until its ack. PC_ERR_UNAVAILABLE (also too many in flight),
 * PC_ERR_NOMEM. */
enum pc_err ws_conn_send(struct ws_conn *c, int64_t room, const char *body,
                         size_t body_len, const char *client_id);
/* Any other request (TYPING, READ, CALL). PC_ERR_UNAVAILABLE. */
enum pc_err ws_conn_request(struct ws_conn *c, int type, int64_t room,
                            int64_t seq, int64_t arg, const char *payload,
                            size_t len);

/* Writes an error frame (or "! code: message" in text mode); see frame.h. */
void ws_conn_error(struct ws_conn *c, enum pc_err e, const char *message,
                   const char *ref, const char *field, int64_t retry_after_ms);
/* Writes a line the worker made itself (pong). */
void ws_conn_write(struct ws_conn *c, const char *line, size_t len);
/* The room joined (or joining) over this socket, or NULL. */
struct ws_room *ws_conn_room(struct ws_conn *c, int64_t room);

/*
 * Several brokers (links.h): the link stays up while one broker comes and
 * goes, and only what that broker owns is redone. owns(ctx, room) says
 * whether a room is the broker's.
 *
 * ws_conn_rooms_lost: the broker went away: its rooms are to be re-joined
 * (from the last seq written) and its unacknowledged sends to be resent.
 * ws_conn_rooms_back: the broker is back and has authenticated this
 * connection again: re-join those rooms and resend those sends now (with
 * their client_id, so a send the broker had stored is answered with its
 * original ack).
 */
typedef int (*ws_owns_fn)(void *ctx, int64_t room);
void ws_conn_rooms_lost(struct ws_conn *c, ws_owns_fn owns, void *ctx);
void ws_conn_rooms_back(struct ws_conn *c, ws_owns_fn owns, void *ctx);

#endif
