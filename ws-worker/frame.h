/*
 * frame.h: the few frames the worker renders itself (contract section 4):
 * error, hello, gap, ping and pong. Every other frame a client sees was
 * rendered once by the broker and is copied through untouched.
 *
 * Not for parsing client frames (cmd.h) nor for text mode (textmode.h).
 * Every function returns a malloc'd line without its newline (free() it),
 * or NULL when memory ran out.
 */
#ifndef PIPECHAT_WS_FRAME_H
#define PIPECHAT_WS_FRAME_H

#include <stdint.h>
#include "err.h"

#define WS_FRAME_PING "{\"type\":\"ping\"}"
#define WS_FRAME_PONG "{\"type\":\"pong\"}"

/*
 * {"type":"error","code":…,"message":…,"ref":…} plus "field" when field is
 * not NULL and "retry_after_ms" when retry_after_ms >= 0. message NULL means
 * the default sentence of e (err.h); ref NULL is written as null.
 */
char *ws_frame_error(enum pc_err e, const char *message, const char *ref,
                     const char *field, int64_t retry_after_ms);
/* {"type":"hello","user":{"id":…,"username":…},"session":…}. */
char *ws_frame_hello(int64_t user_id, const char *username,
                     const char *session);
/* {"type":"gap","room":…,"from":…,"to":…}. */
char *ws_frame_gap(int64_t room, int64_t from, int64_t to);
/* {"type":"removed","room":…}. */
char *ws_frame_removed(int64_t room);

#endif
