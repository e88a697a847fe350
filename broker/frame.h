/*
 * frame.h: the JSON lines the broker renders for clients (contract sections
 * 4 and 8), each rendered once and shared by every pipe that gets it.
 *
 * A struct frame is an immutable, reference-counted line (no newline, NUL
 * after the last byte). Fan-out, the per-pipe outboxes and the recent-message
 * cache each hold a reference, so one message costs one rendering whatever
 * its room's size. Reference counts are not atomic: a frame made on the store
 * thread is handed to the main thread whole and only used there afterwards.
 * Text given to the renderers must be valid UTF-8 (bodies and names are
 * validated before they get here); it is escaped as JSON requires.
 */
#ifndef PIPECHAT_BROKER_FRAME_H
#define PIPECHAT_BROKER_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct frame {
	unsigned refs;
	size_t len;
	char data[]; /* len bytes, then a NUL */
};

struct frame_user {
	int64_t id; /* 0: null */
	const char *username;
};

struct frame_msg {
	int64_t id, room, seq;
	const char *kind; /* "text" or "system" */
	struct frame_user user;
	const char *body; /* NULL: null (a deleted message) */
	size_t body_len;
	int64_t created_ms;
	int64_t edited_ms; /* < 0: null */
	int deleted;
};

/* A new frame holding a copy of s[0..len) with one reference; NULL on ENOMEM.
 */
struct frame *frame_from(const char *s, size_t len);
/* Takes one more reference; returns f. */
struct frame *frame_ref(struct frame *f);
/* Drops one reference, freeing f at zero; f may be NULL. */
void frame_unref(struct frame *f);

/* Renderers: each returns a new frame with one reference, or NULL on ENOMEM. */
struct frame *frame_message(const struct frame_msg *m);
struct frame *frame_ack(const char *client_id, int64_t id, int64_t room,
                        int64_t seq, int64_t created_ms);
/* kind and name may be NULL (left out); users[0..n) are the room's online
 * users. */
struct frame *frame_joined(int64_t room, int64_t last_seq, const char *kind,
                           const char *name, const struct frame_user *users,
                           size_t n);
struct frame *frame_gap(int64_t room, int64_t from, int64_t to);
struct frame *frame_typing(int64_t room, const struct frame_user *u);
struct frame *frame_presence(int64_t room, const struct frame_user *u,
                             int online);
struct frame *frame_read(int64_t room, const struct frame_user *u, int64_t seq);
struct frame *frame_removed(int64_t room);
/* data is a JSON text (an object) copied as is; it was parsed before. */
struct frame *frame_call(int64_t room, const char *call_id,
                         const struct frame_user *from, const char *data,
                         size_t data_len);
/* The hello material: {"user":{…},"session":…,"exp":N}. */
struct frame *frame_authed(const struct frame_user *u, const char *sid,
                           int64_t exp);
/*
 * {"type":"error","code":…,"message":…,"ref":…} with "field" when field is
 * not NULL and "retry_after_ms" when retry_after_ms >= 0. message NULL: the
 * error's default sentence; ref NULL: null.
 */
struct frame *frame_error(enum pc_err e, const char *message, const char *ref,
                          const char *field, int64_t retry_after_ms);

#endif
