/*
 * test_conf.c: settings tables: defaults, the environment over the file,
 * strict integers and booleans, list checks, every error reported together,
 * the shared rows (port, origins, trusted proxies, log level, limits).
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

#include "conf.h"

struct settings {
	int64_t port;
	char *origins;
	char *proxies;
	enum pc_log_level log_level;
	struct pc_limits limits;
	char *db;
	int flag;
	char *token;
};

static const struct pc_conf_row rows[] = {
        PC_CONF_ROW_PORT(struct settings, port),
        PC_CONF_ROW_ORIGINS(struct settings, origins),
        PC_CONF_ROW_TRUSTED_PROXIES(struct settings, proxies),
        PC_CONF_ROW_LOG_LEVEL(struct settings, log_level),
        PC_CONF_LIMIT_ROWS(struct settings, limits),
        {"database", "PCTEST_DB", PC_CONF_STR, 0, 64, NULL, 1,
         offsetof(struct settings, db), "libpq conninfo"},
        {"flag", "PCTEST_FLAG", PC_CONF_BOOL, 0, 0, "no", 0,
         offsetof(struct settings, flag), "a switch"},
        {"metrics token", "PCTEST_TOKEN", PC_CONF_STR, 0, 0, NULL, 0,
         offsetof(struct settings, token), "bearer token"},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const char *const vars[] = {
        "PIPECHAT_CONF",
        "PIPECHAT_PORT",
        "PIPECHAT_ORIGINS",
        "PIPECHAT_TRUSTED_PROXIES",
        "PIPECHAT_LOG_LEVEL",
        "PIPECHAT_SEND_RATE",
        "PIPECHAT_SEND_BURST",
        "PIPECHAT_TYPING_RATE",
        "PIPECHAT_CALL_RATE",
        "PIPECHAT_MAX_ROOMS_PER_SOCKET",
        "PIPECHAT_MAX_SOCKETS_PER_USER",
        "PCTEST_DB",
        "PCTEST_FLAG",
        "PCTEST_TOKEN",
};

static char conf_path[64];

static int
clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

static int
cleanup(void **state)
{
	clear_env(state);
	if (conf_path[0] != '\0')
		unlink(conf_path);
	conf_path[0] = '\0';
	return 0;
}

static void
write_conf(const char *text)
{
	FILE *f;
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/pc_conf_XXXXXX");
	fd = mkstemp(conf_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	setenv("PIPECHAT_CONF", conf_path, 1);
}

static void
test_defaults(void **state)
{
	struct settings s;
	char err[1024];
	char *def;

	(void)state;
	memset(&s, 0, sizeof(s));
	setenv("PCTEST_DB", "dbname=x", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(s.port, 8080);
	assert_null(s.origins);
	assert_string_equal(s.proxies, "");
	assert_int_equal(s.log_level, PC_LOG_INFO);
	assert_int_equal(s.limits.send_rate, 10);
	assert_int_equal(s.limits.send_burst, 20);
	assert_int_equal(s.limits.typing_rate, 2);
	assert_int_equal(s.limits.call_rate, 20);
	assert_int_equal(s.limits.max_rooms_per_socket, 100);
	assert_int_equal(s.limits.max_sockets_per_user, 20);
	assert_string_equal(s.db, "dbname=x");
	assert_int_equal(s.flag, 0);
	assert_null(s.token);
	def = pc_conf_default_origins(s.port);
	assert_string_equal(def, "http://127.0.0.1:8080,http://localhost:8080");
	free(def);
	pc_conf_free(rows, NROWS, &s);
	assert_null(s.db);
	assert_null(s.proxies);
}

static void
test_env_wins_over_file(void **state)
{
	struct settings s;
	char err[1024];

	(void)state;
	write_conf("# pipechat settings\n"
	           "\n"
	           "PIPECHAT_PORT=9000\n"
	           "  PIPECHAT_SEND_RATE = 50  \n"
	           "export PIPECHAT_TYPING_RATE=7\n"
	           "PCTEST_DB=\"host=/run/pg dbname=p\"\n"
	           "PIPECHAT_ORIGINS='https://a.example:8443'\n"
	           "PIPECHAT_LOG_LEVEL=debug\n"
	           "PIPECHAT_CALL_RATE=1\n"
	           "PIPECHAT_CALL_RATE=3\n"
	           "SOMETHING_ELSE=ignored\n"
	           "PCTEST_FLAG=yes");
	setenv("PIPECHAT_PORT", "9100", 1);
	setenv("PIPECHAT_SEND_RATE", "", 1); /* empty: as if unset */
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(s.port, 9100);
	assert_int_equal(s.limits.send_rate, 50);
	assert_int_equal(s.limits.typing_rate, 7);
	assert_int_equal(s.limits.call_rate, 3); /* last one wins */
	assert_string_equal(s.db, "host=/run/pg dbname=p");
	assert_string_equal(s.origins, "https://a.example:8443");
	assert_int_equal(s.log_level, PC_LOG_DEBUG);
	assert_int_equal(s.flag, 1);
	pc_conf_free(rows, NROWS, &s);
}

static void
test_all_errors_together(void **state)
{
	struct settings s;
	char err[2048];

	(void)state;
	setenv("PIPECHAT_PORT", "80a", 1);
	setenv("PIPECHAT_SEND_RATE", "0", 1);
	setenv("PIPECHAT_SEND_BURST", "99999999999999999999999", 1);
	setenv("PIPECHAT_TYPING_RATE", " 2", 1);
	setenv("PIPECHAT_CALL_RATE", "2.5", 1);
	setenv("PIPECHAT_MAX_ROOMS_PER_SOCKET", "0x10", 1);
	setenv("PIPECHAT_LOG_LEVEL", "verbose", 1);
	setenv("PIPECHAT_TRUSTED_PROXIES", "10.0.0.1, proxy.local", 1);
	setenv("PIPECHAT_ORIGINS", "http://ok:1,ftp://bad", 1);
	setenv("PCTEST_FLAG", "maybe", 1);
	/* PCTEST_DB is required and unset. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	assert_non_null(strstr(err, "PIPECHAT_PORT"));
	assert_non_null(strstr(err, "PIPECHAT_SEND_RATE"));
	assert_non_null(strstr(err, "PIPECHAT_SEND_BURST"));
	assert_non_null(strstr(err, "PIPECHAT_TYPING_RATE"));
	assert_non_null(strstr(err, "PIPECHAT_CALL_RATE"));
	assert_non_null(strstr(err, "PIPECHAT_MAX_ROOMS_PER_SOCKET"));
	assert_non_null(strstr(err, "PIPECHAT_LOG_LEVEL"));
	assert_non_null(strstr(err, "PIPECHAT_TRUSTED_PROXIES"));
	assert_non_null(strstr(err, "PIPECHAT_ORIGINS"));
	assert_non_null(strstr(err, "PCTEST_FLAG"));
	assert_non_null(strstr(err, "PCTEST_DB"));
	/* Strings set before the failure are freed. */
	assert_null(s.db);
	assert_null(s.proxies);
	assert_null(s.origins);
	/* A tiny error buffer is cut, never overrun, and still fails. */
	{
		char tiny[8];

		memset(&s, 0, sizeof(s));
		assert_int_equal(
		        pc_conf_load(rows, NROWS, &s, tiny, sizeof(tiny)),
		        PC_ERR_INVALID);
		assert_true(strlen(tiny) < sizeof(tiny));
		assert_int_equal(pc_conf_load(rows, NROWS, &s, NULL, 0),
		                 PC_ERR_INVALID);
	}
}

static void
test_int_bounds(void **state)
{
	struct settings s;
	char err[1024];

	(void)state;
	setenv("PCTEST_DB", "x", 1);
	setenv("PIPECHAT_PORT", "65535", 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(s.port, 65535);
	pc_conf_free(rows, NROWS, &s);
	setenv("PIPECHAT_PORT", "65536", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	assert_non_null(strstr(err, "outside"));
	setenv("PIPECHAT_PORT", "-1", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	setenv("PIPECHAT_PORT", "+80", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(s.port, 80);
	pc_conf_free(rows, NROWS, &s);
	/* A string longer than its bound. */
	setenv("PCTEST_DB",
	       "0123456789012345678901234567890123456789"
	       "0123456789012345678901234",
	       1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	assert_non_null(strstr(err, "PCTEST_DB"));
}

static void
test_bad_file(void **state)
{
	struct settings s;
	char err[1024];

	(void)state;
	setenv("PCTEST_DB", "x", 1);
	write_conf("PIPECHAT_PORT=1\nthis line has no equals sign\n=5\n");
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, ":3:"));
	unlink(conf_path);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	assert_non_null(strstr(err, "PIPECHAT_CONF"));
}

static void
test_lists_and_levels(void **state)
{
	struct settings s;
	char err[1024];
	enum pc_log_level lvl = PC_LOG_ERR;

	(void)state;
	setenv("PCTEST_DB", "x", 1);
	setenv("PIPECHAT_TRUSTED_PROXIES", "10.0.0.1,  ::1 ,2001:db8::2", 1);
	setenv("PIPECHAT_ORIGINS",
	       "http://127.0.0.1:8080,https://chat.example.org,http://[::1]:80",
	       1);
	setenv("PIPECHAT_LOG_LEVEL", "WARN", 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(s.log_level, PC_LOG_WARN);
	assert_true(pc_conf_list_has(s.proxies, "::1", 3));
	assert_true(pc_conf_list_has(s.proxies, "2001:db8::2", 11));
	assert_false(pc_conf_list_has(s.proxies, "10.0.0", 6));
	assert_false(pc_conf_list_has(s.proxies, "", 0));
	pc_conf_free(rows, NROWS, &s);
	setenv("PIPECHAT_ORIGINS", "http://a.example/path", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	setenv("PIPECHAT_ORIGINS", "http://a.example:0", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);
	setenv("PIPECHAT_ORIGINS", "http://a.example,,http://b", 1);
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_ERR_INVALID);

	assert_int_equal(pc_conf_log_level("debug", &lvl), PC_OK);
	assert_int_equal(lvl, PC_LOG_DEBUG);
	assert_int_equal(pc_conf_log_level(NULL, &lvl), PC_OK);
	assert_int_equal(lvl, PC_LOG_INFO);
	assert_int_equal(pc_conf_log_level("error", &lvl), PC_ERR_INVALID);
	assert_int_equal(lvl, PC_LOG_INFO);
}

/* pc_conf_print shows values, but never a token's. */
static void
test_print(void **state)
{
	struct settings s;
	char err[1024], out[4096];
	int fds[2], saved;
	ssize_t n;
	size_t len = 0;

	(void)state;
	setenv("PCTEST_DB", "dbname=shown", 1);
	setenv("PCTEST_TOKEN", "hunter2-secret", 1);
	setenv("PIPECHAT_LOG_LEVEL", "debug", 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_conf_load(rows, NROWS, &s, err, sizeof(err)),
	                 PC_OK);
	assert_string_equal(s.token, "hunter2-secret");
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fds[1], STDOUT_FILENO);
	close(fds[1]);
	pc_conf_print(rows, NROWS, &s);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	out[len] = '\0';
	assert_non_null(strstr(out, "dbname=shown"));
	assert_non_null(strstr(out, "PIPECHAT_PORT"));
	assert_non_null(strstr(out, "8080"));
	assert_non_null(strstr(out, "debug"));
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "(set)"));
	pc_conf_free(rows, NROWS, &s);
}

static void
test_table_rows_complete(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < NROWS; i++) {
		assert_non_null(rows[i].name);
		assert_non_null(rows[i].env);
		assert_non_null(rows[i].help);
		for (j = i + 1; j < NROWS; j++) {
			assert_string_not_equal(rows[i].env, rows[j].env);
			assert_int_not_equal(rows[i].offset, rows[j].offset);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_defaults, clear_env,
	                                        cleanup),
	        cmocka_unit_test_setup_teardown(test_env_wins_over_file,
	                                        clear_env, cleanup),
	        cmocka_unit_test_setup_teardown(test_all_errors_together,
	                                        clear_env, cleanup),
	        cmocka_unit_test_setup_teardown(test_int_bounds, clear_env,
	                                        cleanup),
	        cmocka_unit_test_setup_teardown(test_bad_file, clear_env,
	                                        cleanup),
	        cmocka_unit_test_setup_teardown(test_lists_and_levels,
	                                        clear_env, cleanup),
	        cmocka_unit_test_setup_teardown(test_print, clear_env, cleanup),
	        cmocka_unit_test(test_table_rows_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
