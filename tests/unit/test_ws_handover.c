/*
 * test_ws_handover.c: when the musl worker passes its connection to
 * pipechat-ws-full (ws-worker/handover.h): only for a tcp:// or tls+tcp://
 * broker anywhere in the list, or a debug sandbox mode; never for ipc://
 * brokers in the "on" sandbox. And a hand-over that cannot exec returns,
 * so the caller can refuse the connection instead of serving it half.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "handover.h"

static void
ipc_settings(struct ws_settings *s, size_t n)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->sandbox_mode = PC_SANDBOX_ON;
	s->shards.n = n;
	for (i = 0; i < n; i++)
		s->shards.s[i].kind = PC_SHARD_IPC;
}

static void
test_ipc_brokers_stay(void **state)
{
	struct ws_settings s;

	(void)state;
	ipc_settings(&s, 1);
	assert_null(ws_handover_reason(&s));
	ipc_settings(&s, PC_SHARD_MAX);
	assert_null(ws_handover_reason(&s));
}

static void
test_any_tcp_broker_hands_over(void **state)
{
	struct ws_settings s;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		ipc_settings(&s, 3);
		s.shards.s[i].kind = i == 1 ? PC_SHARD_TCP : PC_SHARD_TLS;
		assert_non_null(ws_handover_reason(&s));
	}
}

static void
test_debug_sandbox_modes_hand_over(void **state)
{
	struct ws_settings s;

	(void)state;
	ipc_settings(&s, 1);
	s.sandbox_mode = PC_SANDBOX_TRAP;
	assert_non_null(ws_handover_reason(&s));
	s.sandbox_mode = PC_SANDBOX_LOG;
	assert_non_null(ws_handover_reason(&s));
}

/* The test program's folder has no pipechat-ws-full: execv fails and the
 * call returns (the worker then refuses the connection). */
static void
test_a_missing_full_build_returns(void **state)
{
	char prog[] = "/nonexistent/pipechat-ws";
	char *argv[] = {prog, NULL};

	(void)state;
	ws_handover(argv, "a test");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ipc_brokers_stay),
	        cmocka_unit_test(test_any_tcp_broker_hands_over),
	        cmocka_unit_test(test_debug_sandbox_modes_hand_over),
	        cmocka_unit_test(test_a_missing_full_build_returns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
