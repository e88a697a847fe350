/*
 * test_broker_fanout.c: routed publishing and its bookkeeping: a frame goes
 * to the room's subscribers only, never to another room's; except_pipe and
 * except_user are skipped; the sender's pipe is flagged SELF; unsubscribe,
 * re-join and a dead pipe leave no trace; join states count towards the
 * rooms per socket; presence counts a user's first and last socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fanout.h"
#include "presence.h"

#define MAXSENT 64

static struct {
	uint32_t pipe;
	struct pc_wire_hdr h;
	struct frame *f;
} sent[MAXSENT];
static size_t nsent;

static void
record(uint32_t pipe, const struct pc_wire_hdr *h, struct frame *f)
{
	assert_true(nsent < MAXSENT);
	sent[nsent].pipe = pipe;
	sent[nsent].h = *h;
	sent[nsent].f = f;
	nsent++;
}

static int
got(uint32_t pipe)
{
	size_t i;
	int n = 0;

	for (i = 0; i < nsent; i++)
		if (sent[i].pipe == pipe)
			n++;
	return n;
}

static int
setup(void **state)
{
	(void)state;
	nsent = 0;
	fanout_init(record);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fanout_fini();
	presence_fini();
	return 0;
}

static struct pc_wire_hdr
msg_hdr(int64_t room, int64_t seq)
{
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_MSG;
	h.room = room;
	h.seq = seq;
	return h;
}

static void
test_routes_to_subscribers_only(void **state)
{
	struct fanout_room *a = fanout_room_ensure(1, 0);
	struct fanout_room *b = fanout_room_ensure(2, 0);
	struct frame *f = frame_from("x", 1);
	struct pc_wire_hdr h = msg_hdr(1, 1);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(fanout_subscribe(a, 10, 100), PC_OK);
	assert_int_equal(fanout_subscribe(a, 11, 101), PC_OK);
	assert_int_equal(fanout_subscribe(b, 12, 102), PC_OK);
	assert_int_equal(fanout_publish(a, &h, f, 0, 0, 10), 2);
	assert_int_equal(got(10), 1);
	assert_int_equal(got(11), 1);
	assert_int_equal(got(12), 0); /* room B sees nothing of room A */
	for (size_t i = 0; i < nsent; i++) {
		assert_ptr_equal(sent[i].f, f); /* rendered once, shared */
		assert_int_equal(!!(sent[i].h.flags & PC_WIRE_F_SELF),
		                 sent[i].pipe == 10);
	}
	frame_unref(f);
}

static void
test_excepts(void **state)
{
	struct fanout_room *a = fanout_room_ensure(1, 0);
	struct pc_wire_hdr h = msg_hdr(1, 0);

	(void)state;
	fanout_subscribe(a, 10, 100);
	fanout_subscribe(a, 11, 100); /* the same user's second socket */
	fanout_subscribe(a, 12, 101);
	assert_int_equal(fanout_publish(a, &h, NULL, 12, 0, 0), 2);
	nsent = 0;
	assert_int_equal(fanout_publish(a, &h, NULL, 0, 100, 0), 1);
	assert_int_equal(got(12), 1);
	assert_int_equal(fanout_user_pipes_in(a, 100), 2);
}

static void
test_states_and_drop(void **state)
{
	struct fanout_room *a = fanout_room_ensure(1, 0), *b;
	int64_t rooms[4];

	(void)state;
	assert_int_equal(fanout_state(10, 1), FANOUT_NONE);
	assert_int_equal(fanout_joining(10, 1), PC_OK);
	assert_int_equal(fanout_joining(10, 2), PC_OK);
	assert_int_equal(fanout_pipe_rooms(10), 2);
	assert_int_equal(fanout_state(10, 1), FANOUT_JOINING);
	assert_int_equal(a->nsubs, 0); /* joining is not subscribed */
	assert_int_equal(fanout_subscribe(a, 10, 100), PC_OK);
	assert_int_equal(fanout_state(10, 1), FANOUT_JOINED);
	assert_int_equal(fanout_subscribe(a, 10, 100), PC_OK); /* re-join */
	assert_int_equal(a->nsubs, 1);
	assert_int_equal(fanout_joining(10, 1), PC_OK); /* stays joined */
	assert_int_equal(fanout_state(10, 1), FANOUT_JOINED);
	assert_int_equal(fanout_pipe_joined(10, rooms, 4), 1);
	assert_int_equal(rooms[0], 1);
	/* the pipe dies: out of every room */
	assert_int_equal(fanout_pipe_drop(10, rooms, 4), 1);
	assert_int_equal(a->nsubs, 0);
	assert_int_equal(fanout_pipe_rooms(10), 0);
	assert_int_equal(fanout_state(10, 2), FANOUT_NONE);
	/* unsubscribe */
	b = fanout_room_ensure(2, 0);
	fanout_subscribe(b, 11, 101);
	fanout_subscribe(b, 12, 102);
	assert_int_equal(fanout_unsubscribe(11, 2), FANOUT_JOINED);
	assert_int_equal(fanout_unsubscribe(11, 2), FANOUT_NONE);
	assert_int_equal(b->nsubs, 1);
	assert_int_equal(b->subs[0].pipe, 12);
	/* a room with subscribers is not dropped */
	assert_int_equal(fanout_room_drop(2), 0);
	fanout_unsubscribe(12, 2);
	assert_int_equal(fanout_room_drop(2), 1);
	assert_null(fanout_room(2));
}

static void
test_many_pipes(void **state)
{
	struct fanout_room *a = fanout_room_ensure(5, 0);
	struct pc_wire_hdr h = msg_hdr(5, 1);
	uint32_t p;
	size_t pos = 0, n = 0;
	struct fanout_room *r;

	(void)state;
	for (p = 1; p <= 1000; p++)
		assert_int_equal(fanout_subscribe(a, p, p % 7 + 1), PC_OK);
	for (p = 1; p <= 1000; p += 2)
		fanout_unsubscribe(p, 5);
	assert_int_equal(a->nsubs, 500);
	nsent = 0;
	fanout_init(record);
	/* only count: the recorder holds 64 */
	for (p = 2; p <= 1000; p += 2)
		assert_int_equal(fanout_state(p, 5), FANOUT_JOINED);
	assert_int_equal(
	        fanout_user_pipes_in(a, 1) + fanout_user_pipes_in(a, 2) +
	                fanout_user_pipes_in(a, 3) +
	                fanout_user_pipes_in(a, 4) +
	                fanout_user_pipes_in(a, 5) +
	                fanout_user_pipes_in(a, 6) + fanout_user_pipes_in(a, 7),
	        500);
	(void)h;
	while (fanout_next(&pos, &r))
		n++;
	assert_int_equal(n, fanout_count());
}

static void
test_presence_counts(void **state)
{
	struct frame_user u[4];

	(void)state;
	assert_int_equal(presence_join(1, 100, "alice"), 1);
	assert_int_equal(presence_join(1, 100, "alice"), 0); /* second tab */
	assert_int_equal(presence_join(1, 101, "bob"), 1);
	assert_int_equal(presence_join(2, 100, "alice"), 1); /* another room */
	assert_int_equal(presence_count(1), 2);
	assert_int_equal(presence_online(1, u, 4), 2);
	assert_int_equal(presence_leave(1, 100), 0);
	assert_int_equal(presence_leave(1, 100), 1); /* last socket */
	assert_int_equal(presence_leave(1, 100), 0); /* not there: no event */
	assert_int_equal(presence_online(1, u, 4), 1);
	assert_string_equal(u[0].username, "bob");
	presence_drop(2);
	assert_int_equal(presence_count(2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_routes_to_subscribers_only,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_excepts, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_states_and_drop, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_many_pipes, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_presence_counts, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
