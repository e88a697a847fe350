/*
 * textmode.c: JSON frames to human lines (textmode.h), by a table of frame
 * types. Only text mode pays for parsing the broker's lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "json.h"
#include "textmode.h"

#define TEXT_LINE_MAX (64 * 1024)

struct text_frame {
	const cJSON *root;
	ws_text_label_fn label;
	void *ctx;
	struct pc_buf *out;
};

/* A string member, or def when it is missing or not a string. */
static const char *
text_str(const cJSON *o, const char *key, const char *def)
{
	const char *s;

	return pc_json_get_str(o, key, &s) == PC_OK ? s : def;
}

static const char *
text_username(const cJSON *o, const char *key)
{
	return text_str(cJSON_GetObjectItemCaseSensitive(o, key), "username",
	                "?");
}

/* Appends how the frame's "room" is shown. */
static void
text_room(struct text_frame *f)
{
	const char *l = NULL;
	int64_t id = 0;

	(void)pc_json_get_int(f->root, "room", 0, INT64_MAX, &id);
	if (f->label != NULL)
		l = f->label(f->ctx, id);
	if (l != NULL)
		(void)pc_buf_puts(f->out, l);
	else
		(void)pc_buf_printf(f->out, "#%lld", (long long)id);
}

/* "[HH:MM:SS] " from an RFC 3339 created_at. */
static void
text_time(struct text_frame *f, const char *key)
{
	const char *t = text_str(f->root, key, "");

	if (strlen(t) >= 19 && t[10] == 'T')
		(void)pc_buf_printf(f->out, "[%.8s] ", t + 11);
	else
		(void)pc_buf_puts(f->out, "[--:--:--] ");
}

/* A body on one line: newlines as \n, carriage returns as \r. */
static void
text_body(struct text_frame *f, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\n')
			(void)pc_buf_puts(f->out, "\\n");
		else if (*p == '\r')
			(void)pc_buf_puts(f->out, "\\r");
		else
			(void)pc_buf_append(f->out, p, 1);
	}
}

static int
text_message(struct text_frame *f)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(f->root, "body");
	int system = strcmp(text_str(f->root, "kind", "text"), "system") == 0;
	int edited = strcmp(text_str(f->root, "type", ""), "edited") == 0;

	text_time(f, "created_at");
	text_room(f);
	if (system)
		(void)pc_buf_puts(f->out, " * ");
	else
		(void)pc_buf_printf(f->out,
		                    " %s%s: ", text_username(f->root, "user"),
		                    edited ? " (edited)" : "");
	if (cJSON_IsString(body))
		text_body(f, body->valuestring);
	else
		(void)pc_buf_puts(f->out, "(deleted)");
	return 1;
}

static int
text_joined(struct text_frame *f)
{
	const cJSON *online =
	        cJSON_GetObjectItemCaseSensitive(f->root, "online");
	const cJSON *u;
	int n = 0;

	(void)pc_buf_puts(f->out, "* joined ");
	text_room(f);
	(void)pc_buf_printf(f->out, " (%d online", cJSON_GetArraySize(online));
	cJSON_ArrayForEach(u, online)(void)
	        pc_buf_printf(f->out, "%s%s", n++ ? ", " : ": ",
	                      text_str(u, "username", "?"));
	(void)pc_buf_puts(f->out, ")");
	return 1;
}

static int
text_hello(struct text_frame *f)
{
	(void)pc_buf_printf(f->out, "* signed in as %s",
	                    text_username(f->root, "user"));
	return 1;
}

static int
text_presence(struct text_frame *f)
{
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(f->root, "online");

	(void)pc_buf_printf(f->out, "* %s is %s in ",
	                    text_username(f->root, "user"),
	                    cJSON_IsTrue(on) ? "online" : "offline");
	text_room(f);
	return 1;
}

static int
text_gap(struct text_frame *f)
{
	int64_t from = 0, to = 0;

	(void)pc_json_get_int(f->root, "from", 0, INT64_MAX, &from);
	(void)pc_json_get_int(f->root, "to", 0, INT64_MAX, &to);
	(void)pc_buf_printf(f->out, "* messages %lld-%lld of ", (long long)from,
	                    (long long)to);
	text_room(f);
	(void)pc_buf_puts(f->out, " are not shown (read them in the history)");
	return 1;
}

static int
text_removed(struct text_frame *f)
{
	(void)pc_buf_puts(f->out, "* you are no longer in ");
	text_room(f);
	return 1;
}

static int
text_deleted(struct text_frame *f)
{
	int64_t seq = 0;

	(void)pc_json_get_int(f->root, "seq", 0, INT64_MAX, &seq);
	(void)pc_buf_printf(f->out, "* message %lld was deleted in ",
	                    (long long)seq);
	text_room(f);
	return 1;
}

static int
text_invite(struct text_frame *f)
{
	const cJSON *inv = cJSON_GetObjectItemCaseSensitive(f->root, "invite");
	const cJSON *room = cJSON_GetObjectItemCaseSensitive(inv, "room");

	(void)pc_buf_printf(f->out, "* %s invites you to #%s",
	                    text_username(inv, "from"),
	                    text_str(room, "name", "?"));
	return 1;
}

static int
text_newroom(struct text_frame *f)
{
	const cJSON *room = cJSON_GetObjectItemCaseSensitive(f->root, "room");
	int direct = strcmp(text_str(room, "kind", ""), "direct") == 0;

	(void)pc_buf_printf(f->out, "* room %s%s is open to you",
	                    direct ? "@" : "#", text_str(room, "name", "?"));
	return 1;
}

static int
text_error(struct text_frame *f)
{
	(void)pc_buf_printf(f->out, "! %s: %s",
	                    text_str(f->root, "code", "error"),
	                    text_str(f->root, "message", ""));
	return 1;
}

static const struct {
	const char *type;
	int (*fn)(struct text_frame *);
} text_table[] = {
        {"message", text_message},   {"edited", text_message},
        {"joined", text_joined},     {"hello", text_hello},
        {"presence", text_presence}, {"gap", text_gap},
        {"removed", text_removed},   {"deleted", text_deleted},
        {"invite", text_invite},     {"room", text_newroom},
        {"error", text_error},
        /* ack, typing, read, call, ping, pong: nothing for a human. */
};

char *
ws_text_render(const char *json, size_t len, ws_text_label_fn label, void *ctx)
{
	struct pc_buf out;
	struct text_frame f;
	cJSON *root = NULL;
	const char *type;
	char *s = NULL;
	size_t i;

	pc_buf_init(&out, TEXT_LINE_MAX);
	if (pc_json_parse(json, len, &root) != PC_OK ||
	    pc_json_get_str(root, "type", &type) != PC_OK)
		goto out;
	f.root = root;
	f.label = label;
	f.ctx = ctx;
	f.out = &out;
	for (i = 0; i < sizeof(text_table) / sizeof(text_table[0]); i++)
		if (strcmp(text_table[i].type, type) == 0) {
			if (text_table[i].fn(&f) &&
			    pc_buf_puts(&out, "") == PC_OK)
				s = pc_buf_take(&out, NULL);
			break;
		}
out:
	pc_buf_free(&out, 0);
	cJSON_Delete(root);
	return s;
}

char *
ws_text_error(const char *code, const char *message)
{
	struct pc_buf out;
	char *s = NULL;

	pc_buf_init(&out, TEXT_LINE_MAX);
	if (pc_buf_printf(&out, "! %s: %s", code, message) == PC_OK)
		s = pc_buf_take(&out, NULL);
	pc_buf_free(&out, 0);
	return s;
}

void
ws_text_label_from_joined(const char *json, size_t len, int64_t room, char *out,
                          size_t out_size)
{
	cJSON *root = NULL;
	const char *name = NULL;
	int direct = 0;

	if (pc_json_parse(json, len, &root) == PC_OK) {
		name = text_str(root, "name", NULL);
		direct = strcmp(text_str(root, "kind", ""), "direct") == 0;
	}
	if (name != NULL && name[0] != '\0')
		snprintf(out, out_size, "%s%s", direct ? "@" : "#", name);
	else
		snprintf(out, out_size, "#%lld", (long long)room);
	cJSON_Delete(root);
}
