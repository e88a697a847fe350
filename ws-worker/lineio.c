/*
 * lineio.c: bounded line reader and whole-line writer (lineio.h).
 *
 * The reader's buffer is exactly WS_LINE_MAX + 1 bytes: room for the longest
 * allowed line and its newline. When it is full without a newline, the line is
 * too long; everything buffered is dropped and the reader skips bytes until
 * the next newline, keeping nothing of them.
 *
 * The writer is a queue of whole lines in front of a non-blocking pipe; a line
 * the pipe takes at once is never copied.
 *
 * At exit, main.c calls ws_pipe_settle so that websocketd reads the last
 * stderr line (the audit's disconnect) before the worker exits, which
 * websocketd would otherwise lose now and then (lineio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "lineio.h"

#define READER_CAP (WS_LINE_MAX + 1)

enum pc_err
ws_reader_init(struct ws_reader *r, int fd)
{
	void *p;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	/* Its own mapping, not malloc's: only the pages lines reach are
	 * resident, where musl's malloc also writes at the end of a block
	 * this size (a second page per idle worker for life). */
	p = mmap(NULL, READER_CAP, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return PC_ERR_NOMEM;
	r->buf = p;
	return PC_OK;
}

void
ws_reader_free(struct ws_reader *r)
{
	if (r->buf != NULL)
		munmap(r->buf, READER_CAP);
	r->buf = NULL;
	r->start = r->len = r->scan = 0;
}

/* Moves the unconsumed bytes to the front so a read has room. */
static void
reader_compact(struct ws_reader *r)
{
	if (r->start == 0)
		return;
	memmove(r->buf, r->buf + r->start, r->len - r->start);
	r->len -= r->start;
	r->scan -= r->start;
	r->start = 0;
}

enum pc_err
ws_reader_fill(struct ws_reader *r)
{
	ssize_t n;

	if (r->eof)
		return PC_OK;
	reader_compact(r);
	if (r->len == READER_CAP)
		return PC_OK; /* ws_reader_next has not looked yet */
	n = read(r->fd, r->buf + r->len, READER_CAP - r->len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return PC_OK;
		return PC_ERR_SYSTEM;
	}
	if (n == 0) {
		r->eof = 1;
		return PC_OK;
	}
	r->len += (size_t)n;
	return PC_OK;
}

enum ws_line
ws_reader_next(struct ws_reader *r, const char **line, size_t *len)
{
	char *nl;

	for (;;) {
		nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
		if (r->discarding) {
			if (nl == NULL) {
				/* Keep nothing of the oversized line. */
				r->start = r->len = r->scan = 0;
				return r->eof ? WS_LINE_EOF : WS_LINE_NONE;
			}
			r->discarding = 0;
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			continue;
		}
		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - r->buf) - r->start;
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			return WS_LINE_OK;
		}
		r->scan = r->len;
		if (r->len - r->start >= READER_CAP) {
			/* WS_LINE_MAX + 1 bytes and still no newline. */
			r->discarding = 1;
			r->start = r->len = r->scan = 0;
			return WS_LINE_TOO_LARGE;
		}
		if (r->eof) {
			r->start = r->len = r->scan = 0;
			return WS_LINE_EOF;
		}
		return WS_LINE_NONE;
	}
}

struct ws_outq_item {
	struct ws_outq_item *next;
	size_t len, off; /* data[off..len) still to write */
	char data[];
};

enum pc_err
ws_outq_init(struct ws_outq *q, int fd)
{
	int fl;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return PC_ERR_SYSTEM;
	return PC_OK;
}

/* Writes from the iovecs; the number of bytes taken, or -1 with errno
 * (EAGAIN when the pipe is full). */
static ssize_t
outq_write(int fd, struct iovec *iov, int n)
{
	ssize_t w;

	do
		w = writev(fd, iov, n);
	while (w < 0 && errno == EINTR);
	return w;
}

enum pc_err
ws_outq_flush(struct ws_outq *q)
{
	struct ws_outq_item *it;
	struct iovec iov[16];
	ssize_t w;
	int n;

	while (q->head != NULL) {
		for (n = 0, it = q->head; it != NULL && n < 16;
		     it = it->next, n++) {
			iov[n].iov_base = it->data + it->off;
			iov[n].iov_len = it->len - it->off;
		}
		if ((w = outq_write(q->fd, iov, n)) < 0)
			return errno == EAGAIN ? PC_OK : PC_ERR_SYSTEM;
		q->bytes -= (size_t)w;
		while (w > 0) {
			it = q->head;
			if ((size_t)w < it->len - it->off) {
				it->off += (size_t)w;
				break;
			}
			w -= (ssize_t)(it->len - it->off);
			q->head = it->next;
			if (q->head == NULL)
				q->tail = NULL;
			free(it);
		}
	}
	return PC_OK;
}

enum pc_err
ws_outq_line(struct ws_outq *q, const char *line, size_t len)
{
	struct ws_outq_item *it;
	struct iovec iov[2];
	ssize_t w = 0;
	size_t total = len + 1, skip;

	q->lines++;
	if (q->head == NULL) {
		/* The usual case: the pipe has room and nothing is copied. */
		iov[0].iov_base = (void *)line;
		iov[0].iov_len = len;
		iov[1].iov_base = (void *)"\n";
		iov[1].iov_len = 1;
		if ((w = outq_write(q->fd, iov, 2)) < 0) {
			if (errno != EAGAIN)
				return PC_ERR_SYSTEM;
			w = 0;
		}
		if ((size_t)w == total)
			return PC_OK;
	}
	skip = (size_t)w;
	if ((it = malloc(sizeof(*it) + total - skip)) == NULL)
		return PC_ERR_NOMEM;
	it->next = NULL;
	it->off = 0;
	it->len = total - skip;
	if (skip < len)
		memcpy(it->data, line + skip, len - skip);
	it->data[it->len - 1] = '\n';
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += it->len;
	return PC_OK;
}

size_t
ws_outq_backlog(const struct ws_outq *q)
{
	return q->bytes;
}

void
ws_pipe_settle(int fd, int timeout_ms)
{
	struct pollfd p;
	int64_t end = pc_clock_mono_ms() + timeout_ms, left;
	int size, n;

	/* Only a pipe has a size: EBADF for a terminal or a file. */
	if ((size = fcntl(fd, F_GETPIPE_SZ)) < 0)
		return;
	/* One page: then POLLOUT means that nothing is left unread. EBUSY
	 * while more than a page is unread: the reader is at it (or never
	 * reads, as a test reading stderr only after exit: the time runs
	 * out). */
	while (fcntl(fd, F_SETPIPE_SZ, 0) < 0) {
		if (errno != EBUSY || (left = end - pc_clock_mono_ms()) <= 0)
			return;
		(void)poll(NULL, 0, left < 2 ? (int)left : 2);
	}
	p.fd = fd;
	p.events = POLLOUT;
	while ((left = end - pc_clock_mono_ms()) > 0) {
		p.revents = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0 || (n < 0 && errno != EINTR))
			break; /* read (or the reader is gone: POLLERR) */
	}
	/* Back to the size it had, so that nothing written after (an
	 * ASan report at exit) waits for a reader page by page. */
	(void)fcntl(fd, F_SETPIPE_SZ, size);
}

void
ws_outq_drain(struct ws_outq *q, int timeout_ms)
{
	struct pollfd p;
	int64_t end, left;

	end = pc_clock_mono_ms() + timeout_ms;
	while (q->head != NULL) {
		if (ws_outq_flush(q) != PC_OK || q->head == NULL)
			return;
		left = end - pc_clock_mono_ms();
		if (left <= 0)
			return;
		p.fd = q->fd;
		p.events = POLLOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return;
	}
}

void
ws_outq_free(struct ws_outq *q)
{
	struct ws_outq_item *it, *next;

	for (it = q->head; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	q->head = q->tail = NULL;
	q->bytes = 0;
}
