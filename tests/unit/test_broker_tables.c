/*
 * test_broker_tables.c: the broker's dispatch tables are complete and have
 * no duplicate rows: worker request types and API notifications (ingest.c),
 * the store's statements and job kinds (store.c), the answers' handlers and
 * the notifications acted on (deliver.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "deliver.h"
#include "ingest.h"
#include "store.h"

static void
test_tables(void **state)
{
	int op;

	(void)state;
	assert_int_equal(ingest_check_tables(), 0);
	assert_int_equal(store_check_tables(), 0);
	assert_int_equal(deliver_check_tables(), 0);
	for (op = 0; op < STORE__MAX; op++)
		assert_string_not_equal(store_op_name((enum store_op)op), "?");
	assert_string_equal(store_op_name(STORE__MAX), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
