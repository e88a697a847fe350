/*
 * test_shard.c: PIPECHAT_BROKERS parsing (the three forms, the default of
 * one ipc broker, plaintext refused unless allowed, every malformed item
 * refused with its position), the room and user map (mod n, stable), and
 * the URLs of a broker's two sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shard.h"
#include "shard_tls.h"

static void
test_default_is_one_ipc_broker(void **state)
{
	struct pc_shards sh;
	char err[256], url[PC_SHARD_URL_MAX];

	(void)state;
	assert_int_equal(pc_shards_parse(NULL, "/run/pc/broker", 0, &sh, err,
	                                 sizeof(err)),
	                 PC_OK);
	assert_int_equal(sh.n, 1);
	assert_int_equal(sh.s[0].kind, PC_SHARD_IPC);
	assert_string_equal(sh.s[0].dir, "/run/pc/broker");
	assert_int_equal(pc_shard_url(&sh.s[0], PC_SHARD_WORKERS, url,
	                              sizeof(url)),
	                 PC_OK);
	assert_string_equal(url, "ipc:///run/pc/broker/workers");
	assert_int_equal(pc_shard_url(&sh.s[0], PC_SHARD_API, url, sizeof(url)),
	                 PC_OK);
	assert_string_equal(url, "ipc:///run/pc/broker/api");
	assert_int_equal(pc_shards_parse("", "/d", 0, &sh, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(pc_shard_of_room(&sh, 12345), 0);
	assert_false(pc_shards_use_tcp(&sh));
	assert_int_equal(pc_shards_parse(NULL, NULL, 0, &sh, err, sizeof(err)),
	                 PC_ERR_INVALID);
}

static void
test_three_forms(void **state)
{
	struct pc_shards sh;
	char err[256], url[PC_SHARD_URL_MAX];

	(void)state;
	assert_int_equal(
	        pc_shards_parse("ipc:///a/b/, tls+tcp://10.0.0.2:7100 ,"
	                        "tcp://[fd00::1]:7200,tls+tcp://broker.lan:9",
	                        NULL, 1, &sh, err, sizeof(err)),
	        PC_OK);
	assert_int_equal(sh.n, 4);
	assert_string_equal(sh.s[0].dir, "/a/b");
	assert_int_equal(sh.s[1].kind, PC_SHARD_TLS);
	assert_string_equal(sh.s[1].host, "10.0.0.2");
	assert_int_equal(sh.s[1].port, 7100);
	assert_int_equal(sh.s[2].kind, PC_SHARD_TCP);
	assert_string_equal(sh.s[2].host, "fd00::1");
	assert_int_equal(pc_shard_url(&sh.s[1], PC_SHARD_WORKERS, url,
	                              sizeof(url)),
	                 PC_OK);
	assert_string_equal(url, "tls+tcp://10.0.0.2:7100");
	assert_int_equal(pc_shard_url(&sh.s[1], PC_SHARD_API, url, sizeof(url)),
	                 PC_OK);
	assert_string_equal(url, "tls+tcp://10.0.0.2:7101");
	assert_int_equal(pc_shard_url(&sh.s[2], PC_SHARD_API, url, sizeof(url)),
	                 PC_OK);
	assert_string_equal(url, "tcp://[fd00::1]:7201");
	assert_true(pc_shards_use_tcp(&sh));
	assert_true(pc_shards_use_tls(&sh));
}

static void
test_plaintext_refused(void **state)
{
	struct pc_shards sh;
	char err[256];

	(void)state;
	sh.n = 99;
	assert_int_equal(pc_shards_parse("ipc:///a,tcp://10.0.0.1:7000", NULL,
	                                 0, &sh, err, sizeof(err)),
	                 PC_ERR_INVALID);
	assert_non_null(strstr(err, "item 1"));
	assert_non_null(strstr(err, "PIPECHAT_ALLOW_PLAINTEXT_TCP"));
	assert_int_equal(sh.n, 99); /* untouched */
}

static void
test_bad_items(void **state)
{
	static const char *const bad[] = {
	        "ipc://relative",
	        "ipc://",
	        "http://x:1",
	        "tls+tcp://host",
	        "tls+tcp://host:",
	        "tls+tcp://host:0",
	        "tls+tcp://host:65535",
	        "tls+tcp://host:12x",
	        "tls+tcp://fd00::1:7000",
	        "tls+tcp://[fd00::1]7000",
	        "tls+tcp://:7000",
	        "tls+tcp://a b:7000",
	        "ipc:///a,,ipc:///b",
	        "ipc:///a,",
	        "ipc:///a/very/long/directory/name/that/goes/on/and/on/and/on/"
	        "and/on/and/on/and/on/and/on/and/on/x",
	};
	struct pc_shards sh;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pc_shards_parse(bad[i], NULL, 1, &sh, err, sizeof(err)) !=
		    PC_ERR_INVALID)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "PIPECHAT_BROKERS"));
	}
}

static void
test_map(void **state)
{
	struct pc_shards sh;
	char err[256];

	(void)state;
	assert_int_equal(pc_shards_parse("ipc:///a,ipc:///b,ipc:///c", NULL, 0,
	                                 &sh, err, sizeof(err)),
	                 PC_OK);
	assert_int_equal(pc_shard_of_room(&sh, 1), 1);
	assert_int_equal(pc_shard_of_room(&sh, 3), 0);
	assert_int_equal(pc_shard_of_room(&sh, 5), 2);
	assert_int_equal(pc_shard_of_user(&sh, 7), 1);
	assert_int_equal(pc_shard_of_room(&sh, INT64_MAX),
	                 (size_t)((uint64_t)INT64_MAX % 3));
	assert_int_equal(pc_shard_of_room(&sh, 0), 0);
	assert_int_equal(pc_shard_of_room(&sh, -4), 0);
}

static void
test_tls_needs_files(void **state)
{
	nng_tls_config *cfg = NULL;

	(void)state;
	assert_int_equal(pc_shard_tls(NNG_TLS_MODE_SERVER, NULL, "/x", NULL,
	                              &cfg),
	                 PC_ERR_INVALID);
	assert_int_not_equal(pc_shard_tls(NNG_TLS_MODE_CLIENT,
	                                  "/nonexistent/ca.pem",
	                                  "/nonexistent/c.pem", "h", &cfg),
	                     PC_OK);
	assert_null(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_default_is_one_ipc_broker),
	        cmocka_unit_test(test_three_forms),
	        cmocka_unit_test(test_plaintext_refused),
	        cmocka_unit_test(test_bad_items),
	        cmocka_unit_test(test_map),
	        cmocka_unit_test(test_tls_needs_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
