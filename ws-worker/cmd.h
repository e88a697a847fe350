/*
 * cmd.h: the client command table (contract section 4): join, leave, send,
 * typing, read, call, ping. Each row names its type, the fields it needs and
 * its handler; one checker validates fields for every row, so a wrong field
 * gets the same answer whatever the command.
 *
 * A line must be one JSON object (bad_json otherwise, also for invalid UTF-8
 * outside a string body), with "type" a string (invalid, field "type"), a
 * known type (unknown_type). Field rules: room a positive integer (invalid
 * field room); since omitted, null, or an integer >= 0 (a negative or
 * fractional number is bad_since, another type invalid field since); seq an
 * integer >= 0; body a string (invalid field body) that pc_valid_body accepts
 * (bad_body); client_id and call_id 1-64 printable ASCII (invalid with that
 * field); to a positive integer; data an object. Unknown fields are ignored.
 * Errors carry ref: the client_id of a send, the call_id of a call, else the
 * type; the connection stays open.
 *
 * Not here: what the broker checks (membership, rate limits, since <=
 * last_seq).
 */
#ifndef PIPECHAT_WS_CMD_H
#define PIPECHAT_WS_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "err.h"

struct ws_conn;

/* Fields a row needs (WS_F_SINCE is optional). */
#define WS_F_ROOM      0x01u
#define WS_F_SINCE     0x02u
#define WS_F_SEQ       0x04u
#define WS_F_BODY      0x08u
#define WS_F_CLIENT_ID 0x10u
#define WS_F_TO        0x20u
#define WS_F_CALL_ID   0x40u
#define WS_F_DATA      0x80u

struct ws_cmd_args {
	const char *type;
	int64_t room;
	int64_t since; /* -1 when omitted */
	int64_t seq;
	const char *body; /* borrowed from the tree */
	const char *client_id;
	int64_t to;
	const char *call_id;
	const cJSON *data;
	const char *ref; /* what errors name: client_id, call_id or type */
};

struct ws_cmd_row {
	const char *type;
	unsigned fields;
	void (*handler)(struct ws_conn *c, const struct ws_cmd_args *a);
};

/* The table, for tests that walk it. */
const struct ws_cmd_row *ws_cmd_table(size_t *n);
/* The row for type, or NULL. */
const struct ws_cmd_row *ws_cmd_find(const char *type);
/*
 * Checks the fields of root named by `fields` and fills *a (a->type and
 * a->ref must be set by the caller). PC_OK, or the error with *field naming
 * the field for PC_ERR_INVALID (NULL otherwise).
 */
enum pc_err ws_cmd_fields(const cJSON *root, unsigned fields,
                          struct ws_cmd_args *a, const char **field);
/* Parses one client line and runs its command, answering errors itself. */
void ws_cmd_dispatch(struct ws_conn *c, const char *line, size_t len);

#endif
