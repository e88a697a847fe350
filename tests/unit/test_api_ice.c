/*
 * test_api_ice.c: the ICE servers of GET /api/config (fcgi-api/ice.c):
 * coturn REST-API credentials against values computed with Python's hmac,
 * the URL list checks, the TURN secret file and the entries handed out to
 * anonymous and signed-in callers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ice.h"

/*
 * Expected values from:
 *   base64.b64encode(hmac.new(key, username, hashlib.sha1).digest())
 */
static void
test_credential_matches_python_hmac(void **state)
{
	static const char key[] = "pipechat-turn-secret-0123456789abcdef";
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	char out[ICE_CREDENTIAL_LEN];

	(void)state;
	assert_int_equal(ice_credential((const unsigned char *)key, strlen(key),
	                                "1700003600:42", out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "xtG4I8MmqeU+Kao30OgYlgvzruc=");
	assert_int_equal(ice_credential((const unsigned char *)"key", 3, fox,
	                                out, sizeof(out)),
	                 PC_OK);
	assert_string_equal(out, "3nybhbi3iqa8ino29wqQcBydtNk=");
}

static void
test_credential_refuses_bad_arguments(void **state)
{
	char out[ICE_CREDENTIAL_LEN] = "untouched";

	(void)state;
	assert_int_equal(ice_credential((const unsigned char *)"k", 1, "u", out,
	                                ICE_CREDENTIAL_LEN - 1),
	                 PC_ERR_INVALID);
	assert_int_equal(ice_credential((const unsigned char *)"k", 0, "u", out,
	                                sizeof(out)),
	                 PC_ERR_INVALID);
	assert_string_equal(out, "untouched");
}

static const char *const test_good_stun[] = {
        "stun:stun.example.org",
        "stun:stun.example.org:3478",
        "stuns:stun.example.org:5349",
        "stun:192.0.2.1:3478",
        "stun:[2001:db8::1]:3478",
        "stun:a.example.org, stun:b.example.org:19302",
};

static const char *const test_bad_stun[] = {
        "",
        "turn:turn.example.org",
        "stun:",
        "stun://stun.example.org",
        "stun:stun.example.org:0",
        "stun:stun.example.org:65536",
        "stun:stun.example.org:",
        "stun:stun.example.org?transport=udp",
        "stun:stun.example.org/path",
        "stun:[::1",
        "stun:[nope]:3478",
        "stun:a.example.org,,stun:b.example.org",
        "stun:a.example.org,",
        "http://stun.example.org",
        "STUN:stun.example.org",
        "stun:-bad.example.org",
        "stun:bad host",
};

static const char *const test_good_turn[] = {
        "turn:turn.example.org",
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp,turns:turn.example.org:5349",
        "turns:[2001:db8::2]:443?transport=tcp",
};

static const char *const test_bad_turn[] = {
        "stun:turn.example.org",
        "turn:turn.example.org?transport=sctp",
        "turn:turn.example.org:3478?transport=udp&x=1",
        "turn:user@turn.example.org",
        "turn:turn.example.org:99999",
};

static void
test_url_lists(void **state)
{
	size_t i;

	(void)state;
	assert_true(ice_urls_ok(NULL, 0));
	assert_true(ice_urls_ok(NULL, 1));
	for (i = 0; i < sizeof(test_good_stun) / sizeof(test_good_stun[0]);
	     i++) {
		if (!ice_urls_ok(test_good_stun[i], 0))
			fail_msg("refused STUN list \"%s\"", test_good_stun[i]);
	}
	for (i = 0; i < sizeof(test_bad_stun) / sizeof(test_bad_stun[0]); i++) {
		if (ice_urls_ok(test_bad_stun[i], 0))
			fail_msg("accepted STUN list \"%s\"", test_bad_stun[i]);
	}
	for (i = 0; i < sizeof(test_good_turn) / sizeof(test_good_turn[0]);
	     i++) {
		if (!ice_urls_ok(test_good_turn[i], 1))
			fail_msg("refused TURN list \"%s\"", test_good_turn[i]);
	}
	for (i = 0; i < sizeof(test_bad_turn) / sizeof(test_bad_turn[0]); i++) {
		if (ice_urls_ok(test_bad_turn[i], 1))
			fail_msg("accepted TURN list \"%s\"", test_bad_turn[i]);
	}
}

/* Writes text to a fresh temporary file of the given mode; the path goes
 * to path (the caller unlinks it). */
static void
test_secret_file(char *path, size_t size, const char *text, mode_t mode)
{
	int fd;

	snprintf(path, size, "/tmp/test_api_ice.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_servers_anonymous_and_signed_in(void **state)
{
	static const char secret[] = "pipechat-turn-secret-0123456789abcdef";
	struct api_settings set;
	char path[64], line[128], *text;
	cJSON *arr, *e, *urls;

	(void)state;
	snprintf(line, sizeof(line), "%s\n", secret); /* the newline is cut */
	test_secret_file(path, sizeof(path), line, 0600);
	memset(&set, 0, sizeof(set));
	set.stun_urls = "stun:stun.example.org:3478";
	set.turn_urls = "turn:turn.example.org:3478?transport=udp, "
	                "turns:turn.example.org:5349";
	set.turn_secret_file = path;
	set.turn_ttl = 3600;
	assert_int_equal(ice_open(&set), PC_OK);
	unlink(path);
	assert_true(ice_has_turn());

	/* Anonymous: the STUN entry only. */
	arr = cJSON_CreateArray();
	assert_int_equal(ice_servers_add(arr, 0, 1700000000), PC_OK);
	text = cJSON_PrintUnformatted(arr);
	assert_string_equal(text,
	                    "[{\"urls\":[\"stun:stun.example.org:3478\"]}]");
	free(text);
	cJSON_Delete(arr);

	/* Signed in: STUN, then TURN with the credential for user 42. */
	arr = cJSON_CreateArray();
	assert_int_equal(ice_servers_add(arr, 42, 1700000000), PC_OK);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	e = cJSON_GetArrayItem(arr, 1);
	urls = cJSON_GetObjectItemCaseSensitive(e, "urls");
	assert_int_equal(cJSON_GetArraySize(urls), 2);
	assert_string_equal(cJSON_GetArrayItem(urls, 0)->valuestring,
	                    "turn:turn.example.org:3478?transport=udp");
	assert_string_equal(cJSON_GetArrayItem(urls, 1)->valuestring,
	                    "turns:turn.example.org:5349");
	assert_string_equal(
	        cJSON_GetObjectItemCaseSensitive(e, "username")->valuestring,
	        "1700003600:42");
	assert_string_equal(
	        cJSON_GetObjectItemCaseSensitive(e, "credential")->valuestring,
	        "xtG4I8MmqeU+Kao30OgYlgvzruc=");
	cJSON_Delete(arr);
	ice_close();
	assert_false(ice_has_turn());
}

static void
test_servers_none_configured(void **state)
{
	struct api_settings set;
	cJSON *arr;

	(void)state;
	memset(&set, 0, sizeof(set));
	set.turn_ttl = 3600;
	assert_int_equal(ice_open(&set), PC_OK);
	assert_false(ice_has_turn());
	arr = cJSON_CreateArray();
	assert_int_equal(ice_servers_add(arr, 42, 1700000000), PC_OK);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	ice_close();
}

static void
test_secret_file_refused(void **state)
{
	static const char secret[] = "pipechat-turn-secret-0123456789abcdef";
	struct api_settings set;
	char path[64];

	(void)state;
	memset(&set, 0, sizeof(set));
	set.turn_urls = "turn:turn.example.org";
	set.turn_ttl = 3600;
	set.turn_secret_file = path;

	test_secret_file(path, sizeof(path), secret, 0644); /* loose mode */
	assert_int_equal(ice_open(&set), PC_ERR_INVALID);
	assert_false(ice_has_turn());
	unlink(path);

	/* 32 bytes with the newline, 31 without. */
	test_secret_file(path, sizeof(path),
	                 "0123456789012345678901234567890\n", 0600);
	assert_int_equal(ice_open(&set), PC_ERR_INVALID);
	assert_false(ice_has_turn());
	unlink(path);

	assert_int_equal(ice_open(&set), PC_ERR_SYSTEM); /* gone */
	ice_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_credential_matches_python_hmac),
	        cmocka_unit_test(test_credential_refuses_bad_arguments),
	        cmocka_unit_test(test_url_lists),
	        cmocka_unit_test(test_servers_anonymous_and_signed_in),
	        cmocka_unit_test(test_servers_none_configured),
	        cmocka_unit_test(test_secret_file_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
