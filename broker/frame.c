/*
 * frame.c: renders the client-facing JSON lines (frame.h) straight into a
 * bounded buffer: fixed field order, JSON string escaping, no cJSON tree, so
 * a message costs one allocation. Not a parser, and not where fields are
 * validated: callers pass checked text.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "frame.h"
#include "wire.h"

struct frame *
frame_from(const char *s, size_t len)
{
	struct frame *f;

	if (len > PC_WIRE_MAX || (f = malloc(sizeof(*f) + len + 1)) == NULL)
		return NULL;
	f->refs = 1;
	f->len = len;
	memcpy(f->data, s, len);
	f->data[len] = '\0';
	return f;
}

struct frame *
frame_ref(struct frame *f)
{
	assert(f->refs > 0);
	f->refs++;
	return f;
}

void
frame_unref(struct frame *f)
{
	if (f == NULL)
		return;
	assert(f->refs > 0);
	if (--f->refs == 0)
		free(f);
}

/* Appends s[0..len) as a JSON string, quotes included. */
static enum pc_err
frame_str(struct pc_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];
	size_t i, run;
	unsigned char c;
	enum pc_err e;

	if ((e = pc_buf_append(b, "\"", 1)) != PC_OK)
		return e;
	for (i = 0; i < len; i += run) {
		for (run = 0; i + run < len; run++) {
			c = (unsigned char)s[i + run];
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		if (run > 0) {
			if ((e = pc_buf_append(b, s + i, run)) != PC_OK)
				return e;
			continue;
		}
		c = (unsigned char)s[i];
		run = 1;
		switch (c) {
		case '"':
			e = pc_buf_append(b, "\\\"", 2);
			break;
		case '\\':
			e = pc_buf_append(b, "\\\\", 2);
			break;
		case '\n':
			e = pc_buf_append(b, "\\n", 2);
			break;
		case '\t':
			e = pc_buf_append(b, "\\t", 2);
			break;
		case '\r':
			e = pc_buf_append(b, "\\r", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			e = pc_buf_append(b, esc, 6);
			break;
		}
		if (e != PC_OK)
			return e;
	}
	return pc_buf_append(b, "\"", 1);
}

static enum pc_err
frame_cstr(struct pc_buf *b, const char *s)
{
	if (s == NULL)
		return pc_buf_puts(b, "null");
	return frame_str(b, s, strlen(s));
}

static enum pc_err
frame_user_obj(struct pc_buf *b, const struct frame_user *u)
{
	enum pc_err e;

	if (u->id > 0)
		e = pc_buf_printf(b,
		                  "{\"id\":%" PRId64 ",\"username\":", u->id);
	else
		e = pc_buf_puts(b, "{\"id\":null,\"username\":");
	if (e == PC_OK)
		e = frame_cstr(b, u->username != NULL ? u->username
		                                      : "deleted user");
	if (e == PC_OK)
		e = pc_buf_puts(b, "}");
	return e;
}

static enum pc_err
frame_time(struct pc_buf *b, int64_t ms)
{
	char t[PC_RFC3339_LEN];

	if (ms < 0)
		return pc_buf_puts(b, "null");
	pc_clock_rfc3339(ms, t, sizeof(t));
	return pc_buf_printf(b, "\"%s\"", t);
}

/* Turns the buffer into a frame; frees the buffer either way. */
static struct frame *
frame_finish(struct pc_buf *b, enum pc_err e)
{
	struct frame *f = NULL;

	if (e == PC_OK)
		f = frame_from(b->data, b->len);
	pc_buf_free(b, 0);
	return f;
}

struct frame *
frame_message(const struct frame_msg *m)
{
	struct pc_buf b;
	enum pc_err e;

	pc_buf_init(&b, PC_WIRE_MAX);
	e = pc_buf_printf(&b,
	                  "{\"type\":\"message\",\"id\":%" PRId64
	                  ",\"room\":%" PRId64 ",\"seq\":%" PRId64 ",\"kind\":",
	                  m->id, m->room, m->seq);
	if (e == PC_OK)
		e = frame_cstr(&b, m->kind != NULL ? m->kind : "text");
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"user\":");
	if (e == PC_OK)
		e = frame_user_obj(&b, &m->user);
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"body\":");
	if (e == PC_OK)
		e = m->body != NULL ? frame_str(&b, m->body, m->body_len)
		                    : pc_buf_puts(&b, "null");
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"created_at\":");
	if (e == PC_OK)
		e = frame_time(&b, m->created_ms);
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"edited_at\":");
	if (e == PC_OK)
		e = frame_time(&b, m->edited_ms);
	if (e == PC_OK)
		e = pc_buf_printf(&b, ",\"deleted\":%s}",
		                  m->deleted ? "true" : "false");
	return frame_finish(&b, e);
}

struct frame *
frame_ack(const char *client_id, int64_t id, int64_t room, int64_t seq,
          int64_t created_ms)
{
	struct pc_buf b;
	enum pc_err e;

	pc_buf_init(&b, PC_WIRE_MAX);
	e = pc_buf_puts(&b, "{\"type\":\"ack\",\"client_id\":");
	if (e == PC_OK)
		e = frame_cstr(&b, client_id);
	if (e == PC_OK)
		e = pc_buf_printf(&b,
		                  ",\"id\":%" PRId64 ",\"room\":%" PRId64
		                  ",\"seq\":%" PRId64 ",\"created_at\":",
		                  id, room, seq);
	if (e == PC_OK)
		e = frame_time(&b, created_ms);
	if (e == PC_OK)
		e = pc_buf_puts(&b, "}");
	return frame_finish(&b, e);
}

struct frame *
frame_joined(int64_t room, int64_t last_seq, const char *kind, const char *name,
             const struct frame_user *users, size_t n)
{
	struct pc_buf b;
	enum pc_err e;
	size_t i;

	pc_buf_init(&b, PC_WIRE_MAX);
	e = pc_buf_printf(&b,
	                  "{\"type\":\"joined\",\"room\":%" PRId64
	                  ",\"last_seq\":%" PRId64,
	                  room, last_seq);
	if (e == PC_OK && kind != NULL) {
		e = pc_buf_puts(&b, ",\"kind\":");
		if (e == PC_OK)
			e = frame_cstr(&b, kind);
	}
	if (e == PC_OK && name != NULL) {
		e = pc_buf_puts(&b, ",\"name\":");
		if (e == PC_OK)
			e = frame_cstr(&b, name);
	}
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"online\":[");
	for (i = 0; e == PC_OK && i < n; i++) {
		if (i > 0)
			e = pc_buf_puts(&b, ",");
		if (e == PC_OK)
			e = frame_user_obj(&b, &users[i]);
	}
	if (e == PC_OK)
		e = pc_buf_puts(&b, "]}");
	return frame_finish(&b, e);
}

struct frame *
frame_gap(int64_t room, int64_t from, int64_t to)
{
	struct pc_buf b;

	pc_buf_init(&b, PC_WIRE_MAX);
	return frame_finish(
	        &b, pc_buf_printf(&b,
	                          "{\"type\":\"gap\",\"room\":%" PRId64
	                          ",\"from\":%" PRId64 ",\"to\":%" PRId64 "}",
	                          room, from, to));
}

/* {"type":T,"room":R,"user":{…}<tail> */
static struct frame *
frame_room_user(const char *type, int64_t room, const struct frame_user *u,
                const char *tail)
{
	struct pc_buf b;
	enum pc_err e;

	pc_buf_init(&b, PC_WIRE_MAX);
	e = pc_buf_printf(&b, "{\"type\":\"%s\",\"room\":%" PRId64 ",\"user\":",
	                  type, room);
	if (e == PC_OK)
		e = frame_user_obj(&b, u);
	if (e == PC_OK)
		e = pc_buf_puts(&b, tail);
	return frame_finish(&b, e);
}

struct frame *
frame_typing(int64_t room, const struct frame_user *u)
{
	return frame_room_user("typing", room, u, "}");
}

struct frame *
frame_presence(int64_t room, const struct frame_user *u, int online)
{
	return frame_room_user("presence", room, u,
	                       online ? ",\"online\":true}"
	                              : ",\"online\":false}");
}

struct frame *
frame_read(int64_t room, const struct frame_user *u, int64_t seq)
{
	char tail[40];

	snprintf(tail, sizeof(tail), ",\"seq\":%" PRId64 "}", seq);
	return frame_room_user("read", room, u, tail);
}

struct frame *
frame_removed(int64_t room)
{
	struct pc_buf b;

	pc_buf_init(&b, PC_WIRE_MAX);
	return frame_finish(
	        &b,
	        pc_buf_printf(&b, "{\"type\":\"removed\",\"room\":%" PRId64 "}",
	                      room));
}

struct frame *
frame_call(int64_t room, const char *call_id, const struct frame_user *from,
           const char *data, size_t data_len)
{
	struct pc_buf b;
	enum pc_err e;

	pc_buf_init(&b, PC_WIRE_MAX);
	e = pc_buf_printf(
	        &b,
	        "{\"type\":\"call\",\"room\":%" PRId64 ",\"call_id\":", room);
	if (e == PC_OK)
		e = frame_cstr(&b, call_id);
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"from\":");
	if (e == PC_OK)
		e = frame_user_obj(&b, from);
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"data\":");
	if (e == PC_OK)
		e = data != NULL && data_len > 0
		            ? pc_buf_append(&b, data, data_len)
		            : pc_buf_puts(&b, "null");
	if (e == PC_OK)
		e = pc_buf_puts(&b, "}");
	return frame_finish(&b, e);
}

struct frame *
frame_authed(const struct frame_user *u, const char *sid, int64_t exp)
{
	struct pc_buf b;
	enum pc_err e;

	pc_buf_init(&b, PC_WIRE_MAX);
	e = pc_buf_puts(&b, "{\"user\":");
	if (e == PC_OK)
		e = frame_user_obj(&b, u);
	if (e == PC_OK)
		e = pc_buf_puts(&b, ",\"session\":");
	if (e == PC_OK)
		e = frame_cstr(&b, sid);
	if (e == PC_OK)
		e = pc_buf_printf(&b, ",\"exp\":%" PRId64 "}", exp);
	return frame_finish(&b, e);
}

struct frame *
frame_error(enum pc_err e, const char *message, const char *ref,
            const char *field, int64_t retry_after_ms)
{
	struct pc_buf b;
	enum pc_err r;

	pc_buf_init(&b, PC_WIRE_MAX);
	r = pc_buf_puts(&b, "{\"type\":\"error\",\"code\":");
	if (r == PC_OK)
		r = frame_cstr(&b, pc_err_code(e));
	if (r == PC_OK)
		r = pc_buf_puts(&b, ",\"message\":");
	if (r == PC_OK)
		r = frame_cstr(&b,
		               message != NULL ? message : pc_err_message(e));
	if (r == PC_OK)
		r = pc_buf_puts(&b, ",\"ref\":");
	if (r == PC_OK)
		r = frame_cstr(&b, ref);
	if (r == PC_OK && field != NULL) {
		r = pc_buf_puts(&b, ",\"field\":");
		if (r == PC_OK)
			r = frame_cstr(&b, field);
	}
	if (r == PC_OK && retry_after_ms >= 0)
		r = pc_buf_printf(&b, ",\"retry_after_ms\":%" PRId64,
		                  retry_after_ms);
	if (r == PC_OK)
		r = pc_buf_puts(&b, "}");
	return frame_finish(&b, r);
}
