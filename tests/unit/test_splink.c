/*
 * test_splink.c: the PAIR1-over-ipc speaker of the worker and the broker
 * (common/splink.h) against a raw Unix-socket peer written here byte by
 * byte, for what a libnng peer never sends (test_ws_bridge.c covers the
 * real one): frames split at every byte, a frame header and body across
 * reads, a hop count over NNG's limit (dropped) and over 255 (the pipe
 * closes), a wrong message type, a greeting that is not PAIR1's, a peer
 * that never greets (the link gives up and redials), a peer of another uid
 * (refused), and what the worker writes: its greeting and each message's
 * framing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "splink.h"

struct env {
	char dir[64];
	char path[128];
	int lfd; /* listener */
	int peer; /* the accepted connection */
	struct splink l;
};

static const unsigned char pair1_greet[8] = {0, 'S', 'P', 0, 0, 0x11, 0, 0};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sockaddr_un sun;

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/pc-spl-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof(e->path), "%s/workers", e->dir);
	e->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(e->lfd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, e->path);
	assert_int_equal(bind(e->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(e->lfd, 8), 0);
	e->peer = -1;
	e->l.fd = -1;
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	splink_close(&e->l);
	if (e->peer >= 0)
		close(e->peer);
	close(e->lfd);
	unlink(e->path);
	rmdir(e->dir);
	free(e);
	return 0;
}

/* One turn of the worker's loop: poll up to ms, then splink_io. */
static void
turn(struct env *e, int ms)
{
	struct pollfd p;
	int w = splink_wait_ms(&e->l, pc_clock_mono_ms());

	splink_pollfd(&e->l, &p);
	(void)poll(&p, 1, w >= 0 && w < ms ? w : ms);
	splink_io(&e->l, &p, pc_clock_mono_ms());
}

/* Reads exactly n bytes from the peer (3 s at most). */
static void
peer_read(struct env *e, unsigned char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;
	struct pollfd p = {.fd = e->peer, .events = POLLIN};

	while (got < n) {
		assert_int_equal(poll(&p, 1, 3000), 1);
		r = read(e->peer, buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
}

static void
peer_write(struct env *e, const void *buf, size_t n)
{
	assert_int_equal(write(e->peer, buf, n), (ssize_t)n);
}

/* Opens the link, accepts it, checks its greeting and answers with greet
 * (PAIR1's when NULL). */
static void
connect_greet(struct env *e, const unsigned char *greet)
{
	unsigned char got[8];

	assert_int_equal(splink_open(&e->l, e->path, 1024, 4096,
	                             pc_clock_mono_ms()),
	                 PC_OK);
	e->peer = accept(e->lfd, NULL, NULL);
	assert_true(e->peer >= 0);
	peer_read(e, got, sizeof(got));
	assert_memory_equal(got, pair1_greet, sizeof(got));
	peer_write(e, greet != NULL ? greet : pair1_greet, 8);
}

/* Waits for the link's events (up to ms). */
static void
wait_events(struct env *e, int ms, int *went, int *came)
{
	int64_t end = pc_clock_mono_ms() + ms;

	*went = *came = 0;
	while (!*went && !*came && pc_clock_mono_ms() < end) {
		turn(e, 50);
		splink_events(&e->l, went, came);
	}
}

/* connect_greet with PAIR1's greeting, then the link is up (asserted). */
static void
link_up(struct env *e)
{
	int went, came;

	connect_greet(e, NULL);
	wait_events(e, 3000, &went, &came);
	assert_true(came);
}

/* Builds an IPC frame: type, length, hop count, body. */
static size_t
frame(unsigned char *out, unsigned type, uint32_t hops, const char *body,
      size_t blen)
{
	uint64_t len = 4 + blen;
	int i;

	out[0] = (unsigned char)type;
	for (i = 0; i < 8; i++)
		out[1 + i] = (unsigned char)(len >> (56 - 8 * i));
	out[9] = (unsigned char)(hops >> 24);
	out[10] = (unsigned char)(hops >> 16);
	out[11] = (unsigned char)(hops >> 8);
	out[12] = (unsigned char)hops;
	memcpy(out + 13, body, blen);
	return 13 + blen;
}

/* The next message within ms, or NULL. */
static const char *
next_msg(struct env *e, int ms, size_t *len)
{
	const unsigned char *m;
	int64_t end = pc_clock_mono_ms() + ms;

	for (;;) {
		if (splink_recv(&e->l, &m, len) == PC_OK)
			return (const char *)m;
		if (pc_clock_mono_ms() >= end)
			return NULL;
		turn(e, 50);
	}
}

static void
test_frames_split_at_every_byte(void **state)
{
	struct env *e = *state;
	unsigned char buf[256];
	size_t n = 0, i, len;
	const char *m;

	link_up(e);
	n += frame(buf + n, 1, 1, "first", 5);
	n += frame(buf + n, 1, 1, "", 0);
	n += frame(buf + n, 1, 8, "third", 5); /* the most hops NNG lets by */
	for (i = 0; i < n; i++) {
		peer_write(e, buf + i, 1);
		turn(e, 1);
	}
	assert_non_null(m = next_msg(e, 3000, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(m, "first", 5);
	assert_non_null(m = next_msg(e, 3000, &len));
	assert_int_equal(len, 0);
	assert_non_null(m = next_msg(e, 3000, &len));
	assert_memory_equal(m, "third", 5);
	assert_null(next_msg(e, 100, &len));
}

static void
test_too_many_hops_is_dropped_more_than_255_closes(void **state)
{
	struct env *e = *state;
	unsigned char buf[128];
	size_t n = 0, len;
	const char *m;
	int went, came;

	link_up(e);
	n += frame(buf + n, 1, 9, "bounced", 7);
	n += frame(buf + n, 1, 1, "kept", 4);
	peer_write(e, buf, n);
	assert_non_null(m = next_msg(e, 3000, &len));
	assert_memory_equal(m, "kept", 4);

	n = frame(buf, 1, 256, "broken", 6);
	peer_write(e, buf, n);
	assert_null(next_msg(e, 300, &len));
	wait_events(e, 3000, &went, &came);
	assert_true(went);
}

static void
test_wrong_type_and_oversized_close(void **state)
{
	struct env *e = *state;
	unsigned char buf[64];
	size_t n, len;
	int went, came;

	link_up(e);
	n = frame(buf, 2, 1, "x", 1); /* not NNG's message type */
	peer_write(e, buf, n);
	wait_events(e, 3000, &went, &came);
	assert_true(went);
	assert_null(next_msg(e, 50, &len));
	close(e->peer);

	/* it redials; this time a length over max_msg (1024) */
	e->peer = -1;
	{
		struct pollfd p = {.fd = e->lfd, .events = POLLIN};
		int64_t end = pc_clock_mono_ms() + 3000;
		unsigned char got[8];

		while (poll(&p, 1, 0) == 0 && pc_clock_mono_ms() < end)
			turn(e, 50);
		e->peer = accept(e->lfd, NULL, NULL);
		assert_true(e->peer >= 0);
		peer_read(e, got, sizeof(got));
		peer_write(e, pair1_greet, 8);
	}
	wait_events(e, 3000, &went, &came);
	assert_true(came);
	memset(buf, 0, sizeof(buf));
	buf[0] = 1;
	buf[7] = 0x10; /* 4096 bytes announced */
	peer_write(e, buf, 13);
	wait_events(e, 3000, &went, &came);
	assert_true(went);
}

static void
test_not_pair1_is_refused(void **state)
{
	struct env *e = *state;
	static const unsigned char sub[8] = {0, 'S', 'P', 0, 0, 0x21, 0, 0};
	int went, came;

	unsigned char c;

	connect_greet(e, sub); /* a SUB socket's greeting */
	wait_events(e, 500, &went, &came);
	assert_false(came);
	/* the worker hung up (and redials, to be greeted properly) */
	assert_int_equal(read(e->peer, &c, 1), 0);
}

static void
test_send_framing(void **state)
{
	struct env *e = *state;
	unsigned char got[13 + 7];

	link_up(e);
	assert_int_equal(splink_send(&e->l, "abc", 3, "defg", 4, 0), PC_OK);
	peer_read(e, got, sizeof(got));
	assert_int_equal(got[0], 1);
	assert_memory_equal(got + 1, "\0\0\0\0\0\0\0\x0b", 8); /* 4 + 7 */
	assert_memory_equal(got + 9, "\0\0\0\1", 4);
	assert_memory_equal(got + 13, "abcdefg", 7);
	/* over tx_max (4096) as one message: refused at once */
	{
		char big[5000];

		memset(big, 'b', sizeof(big));
		assert_int_equal(splink_send(&e->l, big, sizeof(big), NULL, 0,
		                             0),
		                 PC_ERR_UNAVAILABLE);
	}
}

static void
test_silent_peer_is_given_up(void **state)
{
	struct env *e = *state;
	int64_t t0 = pc_clock_mono_ms();
	unsigned char got[8];
	struct pollfd p = {.fd = -1};

	assert_int_equal(splink_open(&e->l, e->path, 1024, 4096, t0), PC_OK);
	e->peer = accept(e->lfd, NULL, NULL);
	assert_true(e->peer >= 0);
	peer_read(e, got, sizeof(got));
	assert_int_equal(e->l.state, SPLINK_HELLO);
	/* no greeting: after its deadline the link closes and redials */
	splink_io(&e->l, &p, t0 + 6000);
	assert_int_equal(e->l.state, SPLINK_DOWN);
}

static void
test_peer_of_another_uid_is_refused(void **state)
{
	struct env *e = *state;
	char dir[64], path[128];
	struct sockaddr_un sun;
	int sv[2], status, fd;
	pid_t pid;
	char c;

	if (getuid() != 0)
		skip(); /* only root can listen as someone else */
	snprintf(dir, sizeof(dir), "/tmp/pc-spu-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/workers", dir);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* nobody listens; waits for the parent's word, then exits */
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, path);
		if (fd < 0 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
		    listen(fd, 8) != 0)
			_exit(3);
		(void)write(sv[1], "r", 1);
		(void)read(sv[1], &c, 1);
		_exit(0);
	}
	assert_int_equal(read(sv[0], &c, 1), 1);
	assert_int_equal(splink_open(&e->l, path, 1024, 4096,
	                             pc_clock_mono_ms()),
	                 PC_OK);
	assert_int_equal(e->l.state, SPLINK_DOWN); /* refused at once */
	(void)write(sv[0], "q", 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	close(sv[0]);
	close(sv[1]);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_frames_split_at_every_byte,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_too_many_hops_is_dropped_more_than_255_closes,
	                setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_wrong_type_and_oversized_close, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_not_pair1_is_refused, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_send_framing, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_silent_peer_is_given_up,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_peer_of_another_uid_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
