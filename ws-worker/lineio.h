/*
 * lineio.h: the worker's two byte streams. websocketd hands the worker one
 * client frame per stdin line and sends one text frame per stdout line
 * (FACTS.md), and it bounds nothing itself.
 *
 * The reader keeps at most WS_LINE_MAX + 1 bytes: a line longer than
 * WS_LINE_MAX is reported once as too large and the rest of it is thrown
 * away as it streams in, so a 1 GiB frame costs no more memory than a small
 * one. A binary frame arrives without a newline and simply becomes the start
 * of the next line, which then fails to parse: the caller answers it.
 *
 * The writer queues each line plus "\n" and writes it with write(2) (stdout
 * is a pipe: stdio would buffer), never blocking; see struct ws_outq.
 *
 * Not for parsing: lines are bytes here (see cmd.h).
 */
#ifndef PIPECHAT_WS_LINEIO_H
#define PIPECHAT_WS_LINEIO_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

/* Bytes of one client frame, newline excluded. */
#define WS_LINE_MAX (64 * 1024)

struct ws_reader {
	int fd;
	char *buf;         /* WS_LINE_MAX + 1 bytes, allocated by init */
	size_t start, len; /* unconsumed bytes are buf[start..len) */
	size_t scan;       /* no newline in buf[start..scan) */
	int discarding;    /* inside a too-large line, until its newline */
	int eof;
};

enum ws_line {
	WS_LINE_NONE,      /* no complete line buffered: read more */
	WS_LINE_OK,        /* *line, *len: one line without its newline */
	WS_LINE_TOO_LARGE, /* a line passed WS_LINE_MAX; the rest of it is being
	                      discarded */
	WS_LINE_EOF, /* the stream ended (a partial last line is dropped) */
};

/* Prepares r to read fd. PC_ERR_NOMEM; r is zeroed first. */
enum pc_err ws_reader_init(struct ws_reader *r, int fd);
/* Frees the buffer; r may be zeroed. */
void ws_reader_free(struct ws_reader *r);
/*
 * One read(2) into the buffer (call it when poll says the fd is readable).
 * PC_OK (also at end of stream: r->eof is set, and after EINTR/EAGAIN with
 * nothing read), or PC_ERR_SYSTEM with errno for a read error.
 */
enum pc_err ws_reader_fill(struct ws_reader *r);
/*
 * The next event from what is buffered. A WS_LINE_OK line is borrowed and
 * valid until the next call of ws_reader_next or ws_reader_fill.
 */
enum ws_line ws_reader_next(struct ws_reader *r, const char **line,
                            size_t *len);

/*
 * The writer never blocks. websocketd pumps both directions of a socket in
 * one goroutine with blocking writes: a worker blocked on stdout while the
 * client keeps sending would wait for websocketd, which waits for the worker
 * to read stdin, for ever. So stdout is non-blocking, and what the pipe does
 * not take at once waits here, in order, to be written when poll says
 * POLLOUT. The queue has no bound of its own: the connection keeps it small
 * (conn.h skips room messages while the client lags, and closes a client
 * that lets it pass WS_OUT_HARD).
 */
struct ws_outq_item;

struct ws_outq {
	int fd; /* non-blocking */
	struct ws_outq_item *head, *tail;
	size_t bytes;   /* queued, newlines included */
	uint64_t lines; /* lines accepted so far */
};

/* Makes fd non-blocking and q empty. PC_OK or PC_ERR_SYSTEM. */
enum pc_err ws_outq_init(struct ws_outq *q, int fd);
/*
 * Queues line[0..len) and "\n" (writing at once what the pipe takes).
 * PC_OK, PC_ERR_NOMEM, or PC_ERR_SYSTEM (EPIPE: the reader went away).
 */
enum pc_err ws_outq_line(struct ws_outq *q, const char *line, size_t len);
/* Writes what the pipe takes now. PC_OK (maybe bytes still queued) or
 * PC_ERR_SYSTEM. */
enum pc_err ws_outq_flush(struct ws_outq *q);
/* Bytes still queued. */
size_t ws_outq_backlog(const struct ws_outq *q);
/* At exit: keeps writing the queue for at most timeout_ms or until it is
 * empty (main.c settles stderr first: ws_pipe_settle). */
void ws_outq_drain(struct ws_outq *q, int timeout_ms);
/* Frees what is queued; q may be zeroed. */
void ws_outq_free(struct ws_outq *q);

/*
 * websocketd (Go's os/exec) closes its ends of the worker's stdout and stderr
 * pipes as soon as it has reaped the worker, whether or not it has read what
 * is in them: a line written just before exit is lost when its reader was
 * not scheduled in between, and so a worker's last audit line (disconnect)
 * went missing about once in eight runs of the slow-client test. Before
 * exiting, the worker therefore waits until the reader has taken everything.
 * A pipe says so by itself, within the sandbox (fcntl and poll only; ioctl's
 * FIONREAD is not allowed): shrunk to one page, a pipe is writable (POLLOUT)
 * only when nothing in it is unread. Its size is given back after.
 */
#define WS_SETTLE_MS 250 /* websocketd kills 850 ms after closing stdin */

/*
 * Waits at most timeout_ms until the reader of the pipe fd has read every
 * byte written to it (or has closed its end). Returns at once when fd is
 * not a pipe (a terminal, a file).
 */
void ws_pipe_settle(int fd, int timeout_ms);

#endif
