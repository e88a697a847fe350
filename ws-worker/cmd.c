/*
 * cmd.c: the client command table and its one field checker (cmd.h).
 * Handlers only turn checked arguments into connection requests (conn.h) and
 * answer what the connection refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conn.h"
#include "frame.h"
#include "json.h"
#include "valid.h"
#include "wire.h"

#define CMD_ID_MAX                                                             \
	((int64_t)1 << 53) /* ids are JSON numbers: exact up to 2^53 */

/* ---- handlers -------------------------------------------------------- */

static void
cmd_answer(struct ws_conn *c, enum pc_err e, const struct ws_cmd_args *a)
{
	if (e != PC_OK)
		ws_conn_error(c, e, NULL, a->ref, NULL, -1);
}

static void
cmd_join(struct ws_conn *c, const struct ws_cmd_args *a)
{
	cmd_answer(c, ws_conn_join(c, a->room, a->since), a);
}

static void
cmd_leave(struct ws_conn *c, const struct ws_cmd_args *a)
{
	cmd_answer(c, ws_conn_leave(c, a->room), a);
}

static void
cmd_send(struct ws_conn *c, const struct ws_cmd_args *a)
{
	cmd_answer(c,
	           ws_conn_send(c, a->room, a->body, strlen(a->body),
	                        a->client_id),
	           a);
}

static void
cmd_typing(struct ws_conn *c, const struct ws_cmd_args *a)
{
	cmd_answer(c,
	           ws_conn_request(c, PC_WIRE_TYPING, a->room, 0, 0, NULL, 0),
	           a);
}

static void
cmd_read(struct ws_conn *c, const struct ws_cmd_args *a)
{
	cmd_answer(
	        c,
	        ws_conn_request(c, PC_WIRE_READ, a->room, a->seq, 0, NULL, 0),
	        a);
}

static void
cmd_call(struct ws_conn *c, const struct ws_cmd_args *a)
{
	cJSON *o = cJSON_CreateObject();
	char *payload = NULL;
	enum pc_err e = PC_ERR_NOMEM;

	if (o != NULL && pc_json_add_int(o, "to", a->to) &&
	    cJSON_AddStringToObject(o, "call_id", a->call_id) != NULL &&
	    cJSON_AddItemReferenceToObject(o, "data", (cJSON *)a->data) &&
	    (payload = pc_json_print(o)) != NULL) {
		if (strlen(payload) > PC_WIRE_MAX - PC_WIRE_HDR_LEN)
			e = PC_ERR_TOO_LARGE;
		else
			e = ws_conn_request(c, PC_WIRE_CALL, a->room, 0, a->to,
			                    payload, strlen(payload));
	}
	cmd_answer(c, e, a);
	free(payload);
	cJSON_Delete(o); /* the reference does not free data */
}

static void
cmd_ping(struct ws_conn *c, const struct ws_cmd_args *a)
{
	(void)a;
	ws_conn_write(c, WS_FRAME_PONG, strlen(WS_FRAME_PONG));
}

static const struct ws_cmd_row cmd_table[] = {
        {"join", WS_F_ROOM | WS_F_SINCE, cmd_join},
        {"leave", WS_F_ROOM, cmd_leave},
        {"send", WS_F_ROOM | WS_F_CLIENT_ID | WS_F_BODY, cmd_send},
        {"typing", WS_F_ROOM, cmd_typing},
        {"read", WS_F_ROOM | WS_F_SEQ, cmd_read},
        {"call", WS_F_ROOM | WS_F_CALL_ID | WS_F_TO | WS_F_DATA, cmd_call},
        {"ping", 0, cmd_ping},
};

const struct ws_cmd_row *
ws_cmd_table(size_t *n)
{
	*n = sizeof(cmd_table) / sizeof(cmd_table[0]);
	return cmd_table;
}

const struct ws_cmd_row *
ws_cmd_find(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (strcmp(cmd_table[i].type, type) == 0)
			return &cmd_table[i];
	return NULL;
}

/* ---- fields ---------------------------------------------------------- */

/* A string field that pc_valid_client_id accepts (client_id, call_id). */
static int
cmd_key(const cJSON *root, const char *name, const char **out)
{
	const char *s;

	if (pc_json_get_str(root, name, &s) != PC_OK || !pc_valid_client_id(s))
		return 0;
	*out = s;
	return 1;
}

enum pc_err
ws_cmd_fields(const cJSON *root, unsigned fields, struct ws_cmd_args *a,
              const char **field)
{
	const cJSON *n;
	enum pc_err e;

	*field = NULL;
	a->since = -1;
	if ((fields & WS_F_ROOM) &&
	    pc_json_get_int(root, "room", 1, CMD_ID_MAX, &a->room) != PC_OK) {
		*field = "room";
		return PC_ERR_INVALID;
	}
	if (fields & WS_F_SINCE) {
		n = cJSON_GetObjectItemCaseSensitive(root, "since");
		if (n != NULL && !cJSON_IsNull(n)) {
			if (!cJSON_IsNumber(n)) {
				*field = "since";
				return PC_ERR_INVALID;
			}
			if (pc_json_int_value(n, 0, CMD_ID_MAX, &a->since) !=
			    PC_OK)
				return PC_ERR_BAD_SINCE;
		}
	}
	if ((fields & WS_F_SEQ) &&
	    pc_json_get_int(root, "seq", 0, CMD_ID_MAX, &a->seq) != PC_OK) {
		*field = "seq";
		return PC_ERR_INVALID;
	}
	if ((fields & WS_F_CLIENT_ID) &&
	    !cmd_key(root, "client_id", &a->client_id)) {
		*field = "client_id";
		return PC_ERR_INVALID;
	}
	if ((fields & WS_F_CALL_ID) && !cmd_key(root, "call_id", &a->call_id)) {
		*field = "call_id";
		return PC_ERR_INVALID;
	}
	if ((fields & WS_F_TO) &&
	    pc_json_get_int(root, "to", 1, CMD_ID_MAX, &a->to) != PC_OK) {
		*field = "to";
		return PC_ERR_INVALID;
	}
	if (fields & WS_F_BODY) {
		if (pc_json_get_str(root, "body", &a->body) != PC_OK) {
			*field = "body";
			return PC_ERR_INVALID;
		}
		if ((e = pc_valid_body(a->body, strlen(a->body))) != PC_OK)
			return e;
	}
	if (fields & WS_F_DATA) {
		n = cJSON_GetObjectItemCaseSensitive(root, "data");
		if (!cJSON_IsObject(n)) {
			*field = "data";
			return PC_ERR_INVALID;
		}
		a->data = n;
	}
	return PC_OK;
}

/* A type worth echoing as ref: short printable ASCII. */
static const char *
cmd_type_ref(const char *type)
{
	return pc_valid_client_id(type) ? type : NULL;
}

void
ws_cmd_dispatch(struct ws_conn *c, const char *line, size_t len)
{
	const struct ws_cmd_row *row;
	struct ws_cmd_args a;
	cJSON *root = NULL;
	const char *field;
	enum pc_err e;

	memset(&a, 0, sizeof(a));
	if ((e = pc_json_parse(line, len, &root)) != PC_OK ||
	    !cJSON_IsObject(root)) {
		ws_conn_error(c, e == PC_ERR_NOMEM ? e : PC_ERR_BAD_JSON,
		              "a frame must be one JSON object", NULL, NULL,
		              -1);
		goto out;
	}
	if (pc_json_get_str(root, "type", &a.type) != PC_OK) {
		ws_conn_error(c, PC_ERR_INVALID, "type must be a string", NULL,
		              "type", -1);
		goto out;
	}
	if ((row = ws_cmd_find(a.type)) == NULL) {
		ws_conn_error(c, PC_ERR_UNKNOWN_TYPE, NULL,
		              cmd_type_ref(a.type), NULL, -1);
		goto out;
	}
	a.ref = row->type;
	if ((row->fields & WS_F_CLIENT_ID) &&
	    !cmd_key(root, "client_id", &a.ref))
		a.ref = row->type;
	if ((row->fields & WS_F_CALL_ID) && !cmd_key(root, "call_id", &a.ref))
		a.ref = row->type;
	if ((e = ws_cmd_fields(root, row->fields, &a, &field)) != PC_OK) {
		ws_conn_error(c, e, NULL, a.ref, field, -1);
		goto out;
	}
	row->handler(c, &a);
out:
	cJSON_Delete(root);
}
