/*
 * textmode.h: human lines for `?format=text` (contract sections 4 and 8), so a
 * terminal, websocat or a shell script is a client:
 *   [12:00:01] #general alice: hi        a message (UTC; a body's newlines as
 * \n) [12:00:01] @bob alice: hi            in a direct room with bob
 *   * alice is online in #general        events
 *   ! not_found: no such room            errors
 * A room is shown by the name the broker put in its `joined` frame ("name",
 * and "kind" direct for @), or as #<id> when that is unknown. Frames a human
 * does not need (ack, typing, read, pong, ping, call) show nothing.
 *
 * Pure functions: JSON lines in, malloc'd human lines out (free() them).
 */
#ifndef PIPECHAT_WS_TEXTMODE_H
#define PIPECHAT_WS_TEXTMODE_H

#include <stddef.h>
#include <stdint.h>

/* How room is shown ("#general", "@bob"), or NULL when unknown. */
typedef const char *(*ws_text_label_fn)(void *ctx, int64_t room);

/* The human line for one JSON frame line, or NULL when it shows nothing
 * (or cannot be read, or memory ran out). */
char *ws_text_render(const char *json, size_t len, ws_text_label_fn label,
                     void *ctx);
/* "! code: message". NULL when memory ran out. */
char *ws_text_error(const char *code, const char *message);
/*
 * Writes the label of a room from its joined frame ("name", "kind") into out:
 * "@name" for kind direct, "#name" otherwise, "#<id>" without a name.
 */
void ws_text_label_from_joined(const char *json, size_t len, int64_t room,
                               char *out, size_t out_size);

#endif
