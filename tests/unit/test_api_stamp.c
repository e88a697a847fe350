/*
 * test_api_stamp.c: the API's use of the change board (fcgi-api/stamp.c):
 * on only when every broker is at an ipc:// address, mapping broker 0's
 * folder; off (and nothing can be vouched) without brokers or with any tcp
 * broker; a board that cannot be mapped is an error the API must not start
 * with; a bump moves what stamp_take reads, and a broker's room move (the
 * same file) is seen by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"
#include "shard.h"
#include "stamp.h"

static char test_dir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(test_dir, "/tmp/pc-stamp-XXXXXX");
	return mkdtemp(test_dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	stamp_close();
	snprintf(path, sizeof(path), "%s/%s", test_dir, PC_BOARD_FILE);
	unlink(path);
	rmdir(test_dir);
	return 0;
}

/* Whether boards are on, as a request sees it. */
static int
stamp_is_on(void)
{
	struct stamp s;

	stamp_take(1, &s);
	return s.on;
}

static void
parse(const char *list, struct pc_shards *sh)
{
	char err[256];

	memset(sh, 0, sizeof(*sh));
	assert_int_equal(
	        pc_shards_parse(list, test_dir, 1, sh, err, sizeof(err)),
	        PC_OK);
}

static void
test_on_with_ipc_brokers(void **state)
{
	struct pc_shards sh;
	struct pc_board *broker = NULL;
	struct stamp a, b;

	(void)state;
	parse(NULL, &sh); /* one broker at ipc://test_dir */
	assert_int_equal(stamp_open(&sh), PC_OK);
	assert_true(stamp_is_on());
	stamp_take(7, &a);
	assert_true(a.on);
	stamp_bump();
	stamp_take(7, &b);
	assert_true(b.global == a.global + 1 && b.room == a.room);
	/* The broker's move of room 7, through its own mapping. */
	assert_int_equal(pc_board_open(test_dir, &broker), PC_OK);
	pc_board_bump_room(broker, 7);
	pc_board_close(broker);
	stamp_take(7, &a);
	assert_true(a.global == b.global && a.room == b.room + 1);
	stamp_take(8, &a);
	assert_true(a.room == 0);
}

static void
test_off_without_brokers_or_with_tcp(void **state)
{
	struct pc_shards sh;
	struct stamp s;
	char list[160];

	(void)state;
	memset(&sh, 0, sizeof(sh)); /* no broker at all */
	assert_int_equal(stamp_open(&sh), PC_OK);
	assert_false(stamp_is_on());
	stamp_bump(); /* nothing to move: no crash */
	stamp_take(1, &s);
	assert_false(s.on);
	snprintf(list, sizeof(list), "ipc://%s,tls+tcp://10.0.0.2:7100",
	         test_dir);
	parse(list, &sh);
	assert_int_equal(stamp_open(&sh), PC_OK);
	assert_false(stamp_is_on());
	snprintf(list, sizeof(list), "ipc://%s,tcp://10.0.0.2:7100", test_dir);
	parse(list, &sh);
	assert_int_equal(stamp_open(&sh), PC_OK);
	assert_false(stamp_is_on());
}

static void
test_unmappable_board_is_an_error(void **state)
{
	struct pc_shards sh;
	char err[256];

	(void)state;
	memset(&sh, 0, sizeof(sh));
	assert_int_equal(pc_shards_parse(NULL, "/tmp/pc-stamp-none/nowhere", 0,
	                                 &sh, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(stamp_open(&sh), PC_ERR_SYSTEM);
	assert_false(stamp_is_on());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_on_with_ipc_brokers, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_off_without_brokers_or_with_tcp, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_unmappable_board_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
