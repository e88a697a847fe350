/*
 * test_log.c: the log line format of log.h, one line per event (control
 * characters replaced, long messages cut), levels above max dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

/* Runs fn with stderr sent into a pipe and returns what was written. */
static size_t
capture(void (*fn)(void), char *out, size_t out_size)
{
	int fds[2], saved;
	ssize_t n;
	size_t len = 0;

	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	while ((n = read(fds[0], out + len, out_size - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	out[len] = '\0';
	return len;
}

static void
log_some(void)
{
	pc_log_open("pipechat-test", 0, PC_LOG_INFO);
	pc_log_info("hello %d", 42);
	pc_log_debug("dropped");
	pc_log_warn("two\nlines\x1b[0m");
}

static void
test_format(void **state)
{
	char out[4096];
	char pid[96];
	char *nl;

	(void)state;
	capture(log_some, out, sizeof(out));
	/* 2026-11-26T08:53:04.123Z pipechat-test[123] info log_some: hello 42
	 */
	assert_int_equal(out[4], '-');
	assert_int_equal(out[10], 'T');
	assert_int_equal(out[23], 'Z');
	snprintf(pid, sizeof(pid),
	         " pipechat-test[%ld] info log_some: hello 42\n",
	         (long)getpid());
	assert_memory_equal(out + 24, pid, strlen(pid));
	assert_null(strstr(out, "dropped"));
	nl = strchr(out, '\n');
	assert_non_null(strstr(nl + 1, "warn log_some: two?lines?[0m\n"));
	assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
}

static void
log_long(void)
{
	char big[5000];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pc_log_open("pipechat-test", 0, PC_LOG_DEBUG);
	pc_log_err("%s", big);
}

static void
test_long_line_cut(void **state)
{
	char out[8192];
	size_t len;

	(void)state;
	len = capture(log_long, out, sizeof(out));
	assert_true(len <= 2048);
	assert_int_equal(out[len - 1], '\n');
	assert_memory_equal(out + len - 4, "...", 3);
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_long_line_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
