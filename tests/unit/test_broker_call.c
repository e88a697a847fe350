/*
 * test_broker_call.c: call.c's signal table and its table of calls in
 * progress: a ring is followed only when it was relayed, an accept stops the
 * ring timer, decline and hangup forget the call, the timer ends a ringing
 * call as missed, a new ring replaces the caller's older one, and a pipe
 * going away ends the calls it took part in. No NNG link is running, so the
 * frames sent to pipes are dropped; the missed-call messages queue in the
 * (not started) store and are freed by store_stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth.h"
#include "call.h"
#include "clock.h"
#include "online.h"
#include "store.h"

#define ROOM   5
#define ALICE  10
#define BOB    20
#define P_ALICE 1
#define P_BOB   2

static void
sign_in(uint32_t pipe, int64_t user, const char *name)
{
	struct pc_principal who;

	memset(&who, 0, sizeof(who));
	who.user_id = user;
	snprintf(who.username, sizeof(who.username), "%s", name);
	snprintf(who.sid, sizeof(who.sid), "00000000-0000-0000-0000-00000000000%d",
	         (int)pipe);
	assert_int_equal(auth_begin(pipe, 1, &who, 0), PC_OK);
	assert_int_equal(auth_accept(pipe, name, 20), PC_OK);
}

static int
setup(void **state)
{
	(void)state;
	online_init();
	call_init(30000);
	sign_in(P_ALICE, ALICE, "alice");
	sign_in(P_BOB, BOB, "bob");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	call_fini();
	auth_fini();
	online_fini();
	store_stop();
	return 0;
}

/* One signal from user (on pipe) to `to`, answered err by the store. */
static void
send_sig(uint32_t pipe, int64_t user, int64_t to, const char *cid, int sig,
       enum pc_err err)
{
	struct store_job *j = store_job_new(STORE_CALL);
	char data[64];

	assert_non_null(j);
	j->pipe = pipe;
	j->user = user;
	snprintf(j->username, sizeof(j->username), "%s",
	         user == ALICE ? "alice" : "bob");
	j->room = ROOM;
	j->arg = to;
	snprintf(j->client_id, sizeof(j->client_id), "%s", cid);
	j->aux = sig;
	snprintf(data, sizeof(data), "{\"type\":\"%s\"}", call_sig_name(sig));
	j->text = strdup(data);
	j->text_len = strlen(data);
	j->err = err;
	call_deliver(j);
	store_job_free(j);
}

static void
test_sig_table(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < CALL_SIG__MAX; i++)
		assert_int_equal(call_sig_parse(call_sig_name(i)), i);
	assert_int_equal(call_sig_parse("dance"), -1);
	assert_int_equal(call_sig_parse("Ring"), -1);
	assert_int_equal(call_sig_parse(""), -1);
	assert_int_equal(call_sig_parse(NULL), -1);
	assert_string_equal(call_sig_name(-1), "?");
	assert_string_equal(call_sig_name(CALL_SIG__MAX), "?");
}

static void
test_ring_then_missed_by_the_timer(void **state)
{
	int64_t now = pc_clock_mono_ms();

	(void)state;
	send_sig(P_ALICE, ALICE, BOB, "c1", CALL_SIG_RING, PC_ERR_NOT_REACHABLE);
	assert_int_equal(call_count(), 0); /* not relayed: not followed */
	send_sig(P_ALICE, ALICE, BOB, "c1", CALL_SIG_RING, PC_OK);
	assert_int_equal(call_count(), 1);
	send_sig(P_ALICE, ALICE, BOB, "c1", CALL_SIG_OFFER, PC_OK);
	assert_int_equal(call_count(), 1);
	call_tick(now + 20000);
	assert_int_equal(call_count(), 1);
	call_tick(now + 31000);
	assert_int_equal(call_count(), 0);
}

static void
test_accepted_call_has_no_timer_and_ends_with_hangup(void **state)
{
	int64_t now = pc_clock_mono_ms();

	(void)state;
	send_sig(P_ALICE, ALICE, BOB, "c2", CALL_SIG_RING, PC_OK);
	send_sig(P_BOB, BOB, ALICE, "c2", CALL_SIG_ACCEPT, PC_OK);
	call_tick(now + 600000);
	assert_int_equal(call_count(), 1);
	send_sig(P_BOB, BOB, ALICE, "c2", CALL_SIG_HANGUP, PC_OK);
	assert_int_equal(call_count(), 0);
}

static void
test_decline_and_cancel_forget_the_call(void **state)
{
	(void)state;
	send_sig(P_ALICE, ALICE, BOB, "c3", CALL_SIG_RING, PC_OK);
	/* an accept from the caller, or another call id, changes nothing */
	send_sig(P_ALICE, ALICE, BOB, "c3", CALL_SIG_ACCEPT, PC_OK);
	send_sig(P_BOB, BOB, ALICE, "other", CALL_SIG_DECLINE, PC_OK);
	assert_int_equal(call_count(), 1);
	send_sig(P_BOB, BOB, ALICE, "c3", CALL_SIG_DECLINE, PC_OK);
	assert_int_equal(call_count(), 0);
	send_sig(P_ALICE, ALICE, BOB, "c4", CALL_SIG_RING, PC_OK);
	/* the caller hangs up before an answer, though bob went offline */
	send_sig(P_ALICE, ALICE, BOB, "c4", CALL_SIG_HANGUP,
	       PC_ERR_NOT_REACHABLE);
	assert_int_equal(call_count(), 0);
}

static void
test_new_ring_replaces_the_old_one(void **state)
{
	(void)state;
	send_sig(P_ALICE, ALICE, BOB, "c5", CALL_SIG_RING, PC_OK);
	send_sig(P_ALICE, ALICE, BOB, "c6", CALL_SIG_RING, PC_OK);
	assert_int_equal(call_count(), 1);
	send_sig(P_BOB, BOB, ALICE, "c6", CALL_SIG_BUSY, PC_OK);
	assert_int_equal(call_count(), 0);
}

static void
test_pipe_gone_ends_its_calls(void **state)
{
	(void)state;
	send_sig(P_ALICE, ALICE, BOB, "c7", CALL_SIG_RING, PC_OK);
	call_pipe_gone(P_BOB); /* the callee's tab: others may still answer */
	assert_int_equal(call_count(), 1);
	call_pipe_gone(P_ALICE); /* the ringing caller: missed */
	assert_int_equal(call_count(), 0);
	send_sig(P_ALICE, ALICE, BOB, "c8", CALL_SIG_RING, PC_OK);
	send_sig(P_BOB, BOB, ALICE, "c8", CALL_SIG_ACCEPT, PC_OK);
	call_pipe_gone(P_BOB);
	assert_int_equal(call_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sig_table),
	        cmocka_unit_test_setup_teardown(test_ring_then_missed_by_the_timer,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_accepted_call_has_no_timer_and_ends_with_hangup,
	                setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_decline_and_cancel_forget_the_call, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_new_ring_replaces_the_old_one, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pipe_gone_ends_its_calls,
	                                        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
