/*
 * test_ws_lineio.c: the bounded stdin reader and the whole-line writer
 * (ws-worker/lineio.h), through real pipes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"

struct feeder {
	int fd;
	const char *data;
	size_t len;
	size_t chunk;
	size_t repeat; /* write data this many times */
	int close_after;
};

/* Writes the data in chunks from a thread, so the pipe never deadlocks. */
static void *
feed(void *arg)
{
	struct feeder *f = arg;
	size_t r, off, n;

	for (r = 0; r < f->repeat; r++)
		for (off = 0; off < f->len; off += n) {
			n = f->len - off < f->chunk ? f->len - off : f->chunk;
			ssize_t w = write(f->fd, f->data + off, n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return NULL;
			}
			n = (size_t)w;
		}
	if (f->close_after)
		close(f->fd);
	return NULL;
}

/* Reads until the next event that is not NONE. */
static enum ws_line
next_event(struct ws_reader *r, const char **line, size_t *len)
{
	enum ws_line ev;

	for (;;) {
		ev = ws_reader_next(r, line, len);
		if (ev != WS_LINE_NONE)
			return ev;
		assert_int_equal(ws_reader_fill(r), PC_OK);
	}
}

static void
run_feeder(struct feeder *f, pthread_t *t, int fds[2], const char *data,
           size_t len, size_t chunk, size_t repeat)
{
	assert_int_equal(pipe(fds), 0);
	f->fd = fds[1];
	f->data = data;
	f->len = len;
	f->chunk = chunk;
	f->repeat = repeat;
	f->close_after = 1;
	assert_int_equal(pthread_create(t, NULL, feed, f), 0);
}

static void
test_lines_split_across_reads(void **state)
{
	const char *data = "{\"type\":\"ping\"}\nhello\n\nlast\n";
	struct ws_reader r;
	struct feeder f;
	pthread_t t;
	int fds[2];
	const char *line;
	size_t len;

	(void)state;
	run_feeder(&f, &t, fds, data, strlen(data), 3, 1);
	assert_int_equal(ws_reader_init(&r, fds[0]), PC_OK);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 15);
	assert_memory_equal(line, "{\"type\":\"ping\"}", 15);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(line, "hello", 5);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 0);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_memory_equal(line, "last", 4);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_EOF);
	pthread_join(t, NULL);
	ws_reader_free(&r);
	close(fds[0]);
}

/* A line of n bytes of 'a' and its newline, then "ok\n". */
static char *
make_line(size_t n, size_t *total)
{
	char *s = malloc(n + 4);

	assert_non_null(s);
	memset(s, 'a', n);
	memcpy(s + n, "\nok\n", 4);
	*total = n + 4;
	return s;
}

static void
test_exactly_64k_is_a_line(void **state)
{
	struct ws_reader r;
	struct feeder f;
	pthread_t t;
	int fds[2];
	const char *line;
	size_t len, total;
	char *s = make_line(WS_LINE_MAX, &total);

	(void)state;
	run_feeder(&f, &t, fds, s, total, 4096, 1);
	assert_int_equal(ws_reader_init(&r, fds[0]), PC_OK);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, WS_LINE_MAX);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(line, "ok", 2);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_EOF);
	pthread_join(t, NULL);
	ws_reader_free(&r);
	close(fds[0]);
	free(s);
}

static void
test_64k_plus_one_is_too_large(void **state)
{
	struct ws_reader r;
	struct feeder f;
	pthread_t t;
	int fds[2];
	const char *line;
	size_t len, total;
	char *s = make_line(WS_LINE_MAX + 1, &total);

	(void)state;
	run_feeder(&f, &t, fds, s, total, 65536, 1);
	assert_int_equal(ws_reader_init(&r, fds[0]), PC_OK);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_TOO_LARGE);
	/* The rest of the long line is skipped; the next line is intact. */
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(line, "ok", 2);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_EOF);
	pthread_join(t, NULL);
	ws_reader_free(&r);
	close(fds[0]);
	free(s);
}

/* 1 MiB without a newline, then a line: one TOO_LARGE, the buffer never
 * moves or grows past WS_LINE_MAX + 1, and the line after it is whole. */
static void
test_one_mib_line_discarded_in_place(void **state)
{
	const size_t mib = 1024 * 1024;
	const char *tail = "\n{\"type\":\"ping\"}\n";
	struct ws_reader r;
	struct feeder f;
	pthread_t t;
	int fds[2], too_large = 0;
	const char *line = NULL;
	size_t len = 0, total = mib + strlen(tail);
	char *data = malloc(total), *buf;
	enum ws_line ev;

	(void)state;
	assert_non_null(data);
	memset(data, 'x', mib);
	memcpy(data + mib, tail, strlen(tail));
	run_feeder(&f, &t, fds, data, total, 8192, 1);
	assert_int_equal(ws_reader_init(&r, fds[0]), PC_OK);
	buf = r.buf;
	for (;;) {
		ev = ws_reader_next(&r, &line, &len);
		assert_ptr_equal(r.buf, buf);
		assert_true(r.len <= WS_LINE_MAX + 1);
		if (ev == WS_LINE_NONE) {
			assert_int_equal(ws_reader_fill(&r), PC_OK);
			continue;
		}
		if (ev != WS_LINE_TOO_LARGE)
			break;
		too_large++;
	}
	assert_int_equal(too_large, 1);
	assert_int_equal(ev, WS_LINE_OK);
	assert_int_equal(len, 15);
	assert_memory_equal(line, "{\"type\":\"ping\"}", 15);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_EOF);
	pthread_join(t, NULL);
	ws_reader_free(&r);
	close(fds[0]);
	free(data);
}

/* A binary frame has no newline: it becomes the head of the next line. */
static void
test_binary_frame_joins_next_line(void **state)
{
	const char data[] =
	        "\x00\xff\xfe{\"type\":\"ping\"}\n{\"type\":\"ping\"}\n";
	struct ws_reader r;
	struct feeder f;
	pthread_t t;
	int fds[2];
	const char *line;
	size_t len;

	(void)state;
	run_feeder(&f, &t, fds, data, sizeof(data) - 1, 5, 1);
	assert_int_equal(ws_reader_init(&r, fds[0]), PC_OK);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 18);
	assert_memory_equal(line, "\x00\xff\xfe", 3);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(len, 15);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_EOF);
	pthread_join(t, NULL);
	ws_reader_free(&r);
	close(fds[0]);
}

static void
test_partial_last_line_dropped_at_eof(void **state)
{
	const char *data = "one\ntwo";
	struct ws_reader r;
	struct feeder f;
	pthread_t t;
	int fds[2];
	const char *line;
	size_t len;

	(void)state;
	run_feeder(&f, &t, fds, data, strlen(data), 100, 1);
	assert_int_equal(ws_reader_init(&r, fds[0]), PC_OK);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_OK);
	assert_int_equal(next_event(&r, &line, &len), WS_LINE_EOF);
	pthread_join(t, NULL);
	ws_reader_free(&r);
	close(fds[0]);
}

struct drain {
	int fd;
	size_t got;
	char last;
	size_t newlines;
};

static void *
drain_pipe(void *arg)
{
	struct drain *d = arg;
	char buf[4096];
	ssize_t n, i;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				d->newlines++;
		d->got += (size_t)n;
		d->last = buf[n - 1];
	}
	return NULL;
}

/* Nobody reads: lines beyond the pipe's room wait in the queue, whole and in
 * order, and the writer never blocks; then a reader takes them all. */
static void
test_outq_never_blocks(void **state)
{
	struct ws_outq q;
	struct drain d = {0};
	pthread_t t;
	int fds[2], i;
	size_t big = 200 * 1024, want = 0;
	char *s = malloc(big);

	(void)state;
	assert_non_null(s);
	memset(s, 'm', big);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(ws_outq_init(&q, fds[1]), PC_OK);
	assert_int_equal(ws_outq_line(&q, "{}", 2), PC_OK);
	want += 3;
	assert_int_equal(ws_outq_backlog(&q), 0); /* the pipe took it */
	for (i = 0; i < 3; i++) {
		assert_int_equal(ws_outq_line(&q, s, big), PC_OK);
		want += big + 1;
	}
	assert_int_equal(ws_outq_line(&q, "end", 3), PC_OK);
	want += 4;
	assert_true(ws_outq_backlog(&q) > 0);
	assert_true(ws_outq_backlog(&q) < want);
	assert_int_equal(ws_outq_flush(&q), PC_OK); /* still full: no block */
	d.fd = fds[0];
	assert_int_equal(pthread_create(&t, NULL, drain_pipe, &d), 0);
	ws_outq_drain(&q, 5000);
	assert_int_equal(ws_outq_backlog(&q), 0);
	close(fds[1]);
	pthread_join(t, NULL);
	assert_int_equal(d.got, want);
	assert_int_equal(d.newlines, 5);
	assert_int_equal(d.last, '\n');
	assert_int_equal(q.lines, 5);
	ws_outq_free(&q);
	close(fds[0]);
	free(s);
}

/* A partial write of a line splits it; the rest follows in order. */
static void
test_outq_order_after_partial_write(void **state)
{
	struct ws_outq q;
	int fds[2];
	char *s = malloc(70000), *all = malloc(70003);
	size_t got = 0;
	ssize_t n;

	(void)state;
	assert_non_null(s);
	assert_non_null(all);
	memset(s, 'a', 70000);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(ws_outq_init(&q, fds[1]), PC_OK);
	assert_int_equal(ws_outq_line(&q, s, 70000), PC_OK); /* 64 KiB taken */
	assert_true(ws_outq_backlog(&q) > 0);
	assert_int_equal(ws_outq_line(&q, "B", 1), PC_OK);
	while (got < 70003) {
		n = read(fds[0], all + got, 70003 - got);
		assert_true(n > 0);
		got += (size_t)n;
		assert_int_equal(ws_outq_flush(&q), PC_OK);
	}
	assert_int_equal(ws_outq_backlog(&q), 0);
	assert_memory_equal(all, s, 70000);
	assert_memory_equal(all + 70000, "\nB\n", 3);
	ws_outq_free(&q);
	close(fds[0]);
	close(fds[1]);
	free(s);
	free(all);
}

static void
test_outq_epipe(void **state)
{
	struct ws_outq q;
	int fds[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	assert_int_equal(ws_outq_init(&q, fds[1]), PC_OK);
	assert_int_equal(ws_outq_line(&q, "x", 1), PC_ERR_SYSTEM);
	assert_int_equal(errno, EPIPE);
	ws_outq_free(&q);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lines_split_across_reads),
	        cmocka_unit_test(test_exactly_64k_is_a_line),
	        cmocka_unit_test(test_64k_plus_one_is_too_large),
	        cmocka_unit_test(test_one_mib_line_discarded_in_place),
	        cmocka_unit_test(test_binary_frame_joins_next_line),
	        cmocka_unit_test(test_partial_last_line_dropped_at_eof),
	        cmocka_unit_test(test_outq_never_blocks),
	        cmocka_unit_test(test_outq_order_after_partial_write),
	        cmocka_unit_test(test_outq_epipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
