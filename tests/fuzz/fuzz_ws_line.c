/*
 * fuzz_ws_line.c: the worker's client side on arbitrary stdin bytes: the
 * bounded line reader (ws-worker/lineio.h), then each line through the
 * command parser and table (cmd.h) or, in text mode, as a message body
 * (conn.h, textmode.h), against a fake broker that answers like the real one
 * (fuzz_ws.h). Also the CGI parsers (cgi.h) on the same bytes.
 *
 * The first byte is a set of switches, the rest is stdin:
 *   0x01 text mode (?format=text&room=1), else JSON mode
 *   0x02 the first line is repeated to 150 KB (over WS_LINE_MAX)
 *   0x04 the broker link drops half way and comes back
 *   0x08 the link refuses requests for the second half
 *   0x10 at most 2 rooms per socket (limit_reached)
 *   0x20 a slow broker: requests are answered only at the link events and
 *        at the end (sends stay pending across a drop and are resent)
 * Checked: every line written is UTF-8 without a newline, in JSON mode one
 * JSON object with a type; every SEND the broker gets holds a valid body and
 * client_id; conn.h's state invariants after every event.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "cgi.h"
#include "clock.h"
#include "fuzz_ws.h"
#include "lineio.h"
#include "textmode.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define F_TEXT   0x01
#define F_REPEAT 0x02
#define F_DROP   0x04
#define F_REFUSE 0x08
#define F_FEW    0x10
#define F_SLOW   0x20

#define REPEAT_TO (150 * 1024)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

/* stdin as a memfd holding data; with repeat, its first line (up to the
 * first newline) is repeated to REPEAT_TO bytes before the rest follows, so
 * one line passes WS_LINE_MAX and the lines after it must still be read. */
static int
stdin_fd(const uint8_t *data, size_t size, int repeat)
{
	int fd = memfd_create("fuzz-stdin", MFD_CLOEXEC);
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl != NULL ? (size_t)(nl - data) : size, total = 0;

	FUZZ_CHECK(fd >= 0);
	if (repeat && first > 0) {
		char *big = malloc(REPEAT_TO + first);

		FUZZ_CHECK(big != NULL);
		for (total = 0; total < REPEAT_TO; total += first)
			memcpy(big + total, data, first);
		FUZZ_CHECK(write(fd, big, total) == (ssize_t)total);
		free(big);
		data += first;
		size -= first;
	}
	if (size > 0)
		FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void
fuzz_cgi(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char tok[WS_TOKEN_MAX + 1];
	struct ws_query q;
	const char *field = NULL;
	enum pc_err e;

	memset(tok, 0x7f, sizeof(tok));
	e = ws_cgi_token(s, tok, sizeof(tok));
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_UNAUTHENTICATED);
	if (e == PC_OK) {
		size_t n = strnlen(tok, sizeof(tok));

		FUZZ_CHECK(n >= 1 && n <= WS_TOKEN_MAX);
		FUZZ_CHECK(strstr(s, tok) != NULL);
	}
	e = ws_cgi_query(s, &q, &field);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_INVALID);
	if (e == PC_OK)
		FUZZ_CHECK(q.room >= 0 && (q.text == 0 || q.text == 1));
	else
		FUZZ_CHECK(field != NULL && (strcmp(field, "room") == 0 ||
		                             strcmp(field, "format") == 0));
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ws f;
	struct ws_reader r;
	const char *line;
	size_t len, nlines = 0, half;
	unsigned flags;
	int fd, dropped = 0, refused = 0;
	enum ws_line ev;

	if (size == 0)
		return 0;
	flags = data[0];
	data++;
	size--;
	fuzz_cgi(data, size);

	fuzz_ws_init(&f, flags & F_TEXT, flags & F_TEXT ? 1 : 0,
	             flags & F_FEW ? 2 : 100);
	fuzz_ws_connect(&f);
	fd = stdin_fd(data, size, flags & F_REPEAT);
	FUZZ_CHECK(ws_reader_init(&r, fd) == PC_OK);
	for (half = 0, len = 0; len < size; len++)
		half += data[len] == '\n';
	half /= 2; /* the link events come after half the lines */
	while (!f.c.done) {
		FUZZ_CHECK(ws_reader_fill(&r) == PC_OK);
		while (!f.c.done &&
		       (ev = ws_reader_next(&r, &line, &len)) != WS_LINE_NONE &&
		       ev != WS_LINE_EOF) {
			if (ev == WS_LINE_OK) {
				FUZZ_CHECK(len <= WS_LINE_MAX);
				FUZZ_CHECK(memchr(line, '\n', len) == NULL);
				ws_conn_client_line(&f.c, line, len);
				nlines++;
			} else {
				FUZZ_CHECK(ev == WS_LINE_TOO_LARGE);
				ws_conn_client_too_large(&f.c);
			}
			fuzz_ws_invariants(&f);
			if (!(flags & F_SLOW))
				fuzz_ws_pump(&f);
			/* Half way, by lines read: the link events. */
			if ((flags & F_DROP) && !dropped && nlines > half) {
				dropped = 1;
				if (flags &
				    F_SLOW) /* what was in flight is lost */
					fuzz_ws_drop_queue(&f);
				ws_conn_link_down(&f.c);
				fuzz_ws_invariants(&f);
				ws_conn_link_up(&f.c);
				fuzz_ws_pump(&f);
			}
			if ((flags & F_REFUSE) && !refused && nlines > half) {
				refused = 1;
				f.link_fail = 1;
			}
		}
		if (r.eof)
			break;
	}
	fuzz_ws_pump(&f);
	/* A while later: timers (keep-alive, fetch retries, idle close). */
	(void)ws_conn_timers(&f.c, pc_clock_mono_ms() + 30000,
	                     pc_clock_now_ms());
	fuzz_ws_pump(&f);
	(void)ws_conn_timers(&f.c, pc_clock_mono_ms() + 80000,
	                     pc_clock_now_ms());
	fuzz_ws_pump(&f);
	fuzz_ws_invariants(&f);
	ws_reader_free(&r);
	close(fd);
	fuzz_ws_free(&f);
	return 0;
}
