/*
 * store.h: the broker's PostgreSQL thread, the single writer of messages.
 *
 * The main thread hands jobs over (store_submit) and gets them back, answered
 * and in the order submitted, through store_take once store_fd is readable.
 * The store thread takes every job queued while its previous transaction was
 * in flight and works through them in order: each run of consecutive SEND and
 * READ jobs (up to the batch maximum) is one transaction (group commit, no
 * sleep), anything else is done alone. Because jobs are answered in order, a
 * job sees the effect of every earlier one: a JOIN's last_seq and a FETCH's
 * rows are consistent with what the main thread has already published.
 *
 * SEND: the room is locked (SELECT … FOR UPDATE), membership and reachability
 * are re-checked, duplicates of (user, room, client_id) get their original
 * ack (looked up in the same transaction, and within the batch), seqs are
 * assigned last_seq + 1…, rows inserted, rooms.last_seq and the sender's read
 * marker moved, then COMMIT. Only after COMMIT are the ack and message frames
 * rendered; a failed or uncertain commit answers PC_ERR_UNAVAILABLE (never an
 * ack) and, once the database is back, the rooms it touched are re-read and
 * reported with a LASTSEQ job the main thread did not ask for.
 *
 * The database being down is not fatal: jobs are answered unavailable and the
 * thread reconnects every second. A second broker on the same database is
 * refused at start by a PostgreSQL advisory lock held on its own connection.
 */
#ifndef PIPECHAT_BROKER_STORE_H
#define PIPECHAT_BROKER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "settings.h"
#include "token.h"
#include "valid.h"

enum store_op {
	STORE_AUTH,  /* sid, user: is the session live? -> username */
	STORE_JOIN,  /* room, user: readable? (joins a public room) -> kind,
	                name, last_seq */
	STORE_SEND,  /* room, user, username, text = body, client_id, kind
	                ("" = text; "system" for a missed call) -> ack, msg */
	STORE_READ,  /* room, user, seq -> changed, last_seq = the new marker */
	STORE_FETCH, /* room, seq = from, arg = to -> rows (rendered messages)
	              */
	STORE_SESSIONS, /* user -> sids: the user's live sessions */
	STORE_BARRIER,  /* nothing: answered after every earlier job */
	STORE_CALL,     /* room, user = caller, arg = callee -> PC_OK or
	                   not_reachable */
	STORE_ROOM,     /* room: does it still exist? -> PC_OK or not_found */
	STORE_LASTSEQ,  /* made by the store thread: room, last_seq after a
	                   failure */
	STORE_ONLINE,   /* ids, counts (aux = 1: rewrite the whole table) ->
	                   user_online written (online.h) */
	STORE__MAX
};

struct store_job {
	struct store_job *next;
	enum store_op op;

	/* the request (filled by the main thread) */
	uint32_t pipe;
	uint64_t req_id;
	int64_t user;
	char username[PC_USERNAME_MAX + 1];
	char sid[PC_SID_MAX + 1];
	int64_t room, seq, arg;
	char *text; /* SEND body, CALL data (malloc'd, owned by the job) */
	size_t text_len;
	char client_id[PC_CLIENT_ID_MAX + 1]; /* SEND client_id, CALL call_id */
	int64_t aux; /* main thread's own use (e.g. a join's since) */
	int64_t aux2;
	size_t batch_pos;  /* the store thread's own bookkeeping */
	int64_t queued_us; /* store_submit's time (monotonic µs); 0 once
	                      counted (metrics_send_queued) */
	int64_t done_us;   /* when the store thread answered it */

	/* the answer (filled by the store thread) */
	enum pc_err err;
	int dup; /* SEND: a resend, answered with the original ack */
	int64_t id, created_ms; /* SEND: the message's id, seq (in seq), time */
	struct frame *ack;      /* SEND: the ack line */
	struct frame *msg;      /* SEND (not dup): the message line */
	char kind[8];           /* JOIN: the room's; SEND: the message's */
	char name[PC_ROOM_NAME_BYTES +
	          1];        /* JOIN: room name, or the other user's */
	int64_t last_seq;    /* JOIN, LASTSEQ; READ: the new marker */
	int changed;         /* READ: the marker moved */
	struct frame **rows; /* FETCH: rendered messages, ascending seq */
	int64_t *row_seq;    /* FETCH: rows[i]'s seq */
	size_t nrows;
	char (*sids)[PC_SID_MAX + 1]; /* SESSIONS */
	size_t nsids;
	int64_t *ids, *counts; /* ONLINE: users and their socket counts */
	size_t nids;
};

/* A zeroed job of op, or NULL on ENOMEM. */
struct store_job *store_job_new(enum store_op op);
/* Frees j and everything it holds (text, frames, rows, sids); NULL is fine. */
void store_job_free(struct store_job *j);
/* "send", "join", … for logs. */
const char *store_op_name(enum store_op op);

/*
 * Takes the advisory lock on its own connection and starts the thread.
 * PC_OK; PC_ERR_CONFLICT when another broker holds the lock (the caller
 * exits with a clear message); PC_ERR_UNAVAILABLE when the database cannot
 * be reached (the caller may retry); PC_ERR_SYSTEM, PC_ERR_NOMEM.
 * s is borrowed until store_stop.
 */
enum pc_err store_start(const struct settings *s);
/* Readable (an eventfd) when answered jobs wait for store_take. */
int store_fd(void);
/*
 * Queues j (takes ownership on PC_OK). PC_ERR_UNAVAILABLE when the queue is
 * full (the caller answers the job itself and frees it).
 */
enum pc_err store_submit(struct store_job *j);
/* Every answered job, oldest first, as a list linked by next (the caller
 * frees each); NULL when none. Clears store_fd's readiness. */
struct store_job *store_take(void);
/* For the table test: 0 when every op has a name and a handler (or is
 * batched) and every statement a unique name and SQL; else the problems. */
int store_check_tables(void);
/* Stops the thread, frees queued and answered jobs, closes the connections. */
void store_stop(void);

#endif
