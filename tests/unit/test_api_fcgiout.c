/*
 * test_api_fcgiout.c: fcgiout_send frames an answer as FastCGI records that
 * a reader reassembles byte for byte (empty, small, one full record, just
 * over, and more records than one writev carries), ends the STDOUT stream
 * with an empty record and ends the request with END_REQUEST (status 0,
 * complete); fcgiout_writev_all survives partial writes.
 */
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fcgiout.h"

struct test_sink {
	int fd;
	unsigned char *buf;
	size_t len, cap;
};

/* Reads fd to EOF into s->buf (a thread, so big answers do not block). */
static void *
test_sink_run(void *arg)
{
	struct test_sink *s = arg;
	ssize_t n;

	for (;;) {
		if (s->len == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 65536;
			s->buf = realloc(s->buf, s->cap);
			if (s->buf == NULL)
				abort();
		}
		n = read(s->fd, s->buf + s->len, s->cap - s->len);
		if (n <= 0)
			break;
		s->len += (size_t)n;
	}
	return NULL;
}

/* Sends len bytes through fcgiout_send and checks the records. */
static void
test_roundtrip(size_t len)
{
	struct test_sink sink;
	pthread_t th;
	char *data;
	unsigned char *p, *end;
	size_t i, got = 0, clen, records = 0;
	int sv[2];

	data = malloc(len ? len : 1);
	assert_non_null(data);
	for (i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&sink, 0, sizeof(sink));
	sink.fd = sv[1];
	assert_int_equal(pthread_create(&th, NULL, test_sink_run, &sink), 0);
	assert_int_equal(fcgiout_send(sv[0], 0x1234, data, len), PC_OK);
	close(sv[0]);
	pthread_join(th, NULL);
	close(sv[1]);

	p = sink.buf;
	end = sink.buf + sink.len;
	/* STDOUT records with content, then the empty one */
	for (;;) {
		assert_true(end - p >= FCGIOUT_HEADER_LEN);
		assert_int_equal(p[0], 1);
		assert_int_equal(p[1], FCGIOUT_STDOUT);
		assert_int_equal(p[2], 0x12);
		assert_int_equal(p[3], 0x34);
		clen = ((size_t)p[4] << 8) | p[5];
		assert_int_equal(p[6], 0);
		p += FCGIOUT_HEADER_LEN;
		if (clen == 0)
			break;
		assert_true(clen <= FCGIOUT_RECORD_MAX);
		assert_true((size_t)(end - p) >= clen);
		assert_memory_equal(p, data + got, clen);
		got += clen;
		p += clen;
		records++;
	}
	assert_int_equal(got, len);
	assert_int_equal(records,
	                 (len + FCGIOUT_RECORD_MAX - 1) / FCGIOUT_RECORD_MAX);
	/* END_REQUEST: app status 0, FCGI_REQUEST_COMPLETE */
	assert_int_equal(end - p, 2 * FCGIOUT_HEADER_LEN);
	assert_int_equal(p[1], FCGIOUT_END_REQUEST);
	assert_int_equal(p[2], 0x12);
	assert_int_equal(p[3], 0x34);
	assert_int_equal(((size_t)p[4] << 8) | p[5], 8);
	for (i = 8; i < 16; i++)
		assert_int_equal(p[i], 0);
	free(sink.buf);
	free(data);
}

static void
test_sizes(void **state)
{
	(void)state;
	test_roundtrip(0);
	test_roundtrip(1);
	test_roundtrip(10007);
	test_roundtrip(FCGIOUT_RECORD_MAX);
	test_roundtrip(FCGIOUT_RECORD_MAX + 1);
	/* more records than one writev carries */
	test_roundtrip((size_t)FCGIOUT_RECORDS * FCGIOUT_RECORD_MAX + 12345);
	test_roundtrip(4u * 1024 * 1024 + 16384);
}

static void
test_closed_peer_is_an_error(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	/* SIGPIPE is ignored by the API (main.c); MSG_NOSIGNAL is not used,
	 * so ignore it here too. */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(fcgiout_send(sv[0], 1, "x", 1), PC_ERR_SYSTEM);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sizes),
	        cmocka_unit_test(test_closed_peer_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
