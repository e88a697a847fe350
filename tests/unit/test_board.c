/*
 * test_board.c: the change board (common/board.c): a new file starts at
 * zero with mode 0600, a second mapping (another process: a forked child)
 * sees every move at once, counters persist across close and reopen, rooms
 * share a counter only modulo PC_BOARD_ROOMS, and a file that is not a
 * board (wrong size, wrong mark) or a folder that does not exist is refused.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/pc-board-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, PC_BOARD_FILE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_new_board_starts_at_zero(void **state)
{
	struct fixture *f = *state;
	struct pc_board *b = NULL;
	struct stat st;

	assert_int_equal(pc_board_open(f->dir, &b), PC_OK);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(pc_board_global(b) == 0);
	assert_true(pc_board_room(b, 1) == 0);
	pc_board_bump_global(b);
	pc_board_bump_room(b, 1);
	pc_board_bump_room(b, 1);
	assert_true(pc_board_global(b) == 1);
	assert_true(pc_board_room(b, 1) == 2);
	assert_true(pc_board_room(b, 2) == 0);
	/* Rooms share a counter only modulo PC_BOARD_ROOMS. */
	assert_true(pc_board_room(b, 1 + PC_BOARD_ROOMS) == 2);
	pc_board_close(b);
}

static void
test_moves_persist_and_are_shared(void **state)
{
	struct fixture *f = *state;
	struct pc_board *a = NULL, *b = NULL;
	pid_t pid;
	int status = -1;

	assert_int_equal(pc_board_open(f->dir, &a), PC_OK);
	pc_board_bump_global(a);
	pc_board_close(a);
	/* Reopened: the count goes on, never back to zero. */
	assert_int_equal(pc_board_open(f->dir, &a), PC_OK);
	assert_true(pc_board_global(a) == 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Another process with its own mapping. */
		if (pc_board_open(f->dir, &b) != PC_OK)
			_exit(2);
		pc_board_bump_global(b);
		pc_board_bump_room(b, 42);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(pc_board_global(a) == 2);
	assert_true(pc_board_room(a, 42) == 1);
	pc_board_close(a);
}

static void
test_not_a_board_is_refused(void **state)
{
	struct fixture *f = *state;
	struct pc_board *b = NULL;
	char junk[64];
	int fd;

	memset(junk, 'x', sizeof(junk));
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (int)sizeof(junk));
	close(fd);
	assert_int_equal(pc_board_open(f->dir, &b), PC_ERR_INVALID); /* size */
	assert_null(b);

	/* No such folder. */
	assert_int_equal(pc_board_open("/tmp/pc-board-none/nowhere", &b),
	                 PC_ERR_SYSTEM);
	assert_null(b);
	/* The right size with another mark. */
	unlink(f->path);
	assert_int_equal(pc_board_open(f->dir, &b), PC_OK);
	pc_board_close(b);
	b = NULL;
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, 8, 0), 8);
	close(fd);
	assert_int_equal(pc_board_open(f->dir, &b), PC_ERR_INVALID);
	assert_null(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_new_board_starts_at_zero,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_moves_persist_and_are_shared, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_not_a_board_is_refused,
	                                        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
