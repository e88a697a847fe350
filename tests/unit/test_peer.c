/*
 * test_peer.c: Origin exact match, client address from X-Forwarded-For only
 * through a trusted proxy (last item, trimmed, must be an IP address), and
 * HTTPS detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "peer.h"

static const char allowed[] =
        "http://127.0.0.1:8080, http://localhost:8080,https://chat.example.org";

static void
test_origin(void **state)
{
	(void)state;
	assert_true(pc_peer_origin_ok(allowed, NULL));
	assert_true(pc_peer_origin_ok(allowed, "http://127.0.0.1:8080"));
	assert_true(pc_peer_origin_ok(allowed, "http://localhost:8080"));
	assert_true(pc_peer_origin_ok(allowed, "https://chat.example.org"));
	assert_false(pc_peer_origin_ok(allowed, ""));
	assert_false(pc_peer_origin_ok(allowed, "null"));
	assert_false(pc_peer_origin_ok(allowed, "http://127.0.0.1:808"));
	assert_false(pc_peer_origin_ok(allowed, "http://127.0.0.1:80800"));
	assert_false(pc_peer_origin_ok(allowed, "http://127.0.0.1"));
	assert_false(pc_peer_origin_ok(allowed, "http://localhost:8080.evil"));
	assert_false(pc_peer_origin_ok(allowed,
	                               "https://chat.example.org.evil.com"));
	assert_false(pc_peer_origin_ok(allowed, "http://chat.example.org"));
	assert_false(pc_peer_origin_ok(allowed, "HTTPS://CHAT.EXAMPLE.ORG"));
	assert_false(pc_peer_origin_ok(allowed, " http://localhost:8080"));
	assert_false(pc_peer_origin_ok(
	        allowed, "http://127.0.0.1:8080, http://localhost:8080"));
	assert_false(pc_peer_origin_ok(NULL, "http://localhost:8080"));
	assert_true(pc_peer_origin_ok(NULL, NULL));
	assert_false(pc_peer_origin_ok("", "http://x"));
}

static const char *
addr(const char *trusted, const char *remote, const char *xff)
{
	static char out[PC_ADDR_MAX];

	memset(out, 'x', sizeof(out));
	pc_peer_client_addr(trusted, remote, xff, out, sizeof(out));
	return out;
}

static void
test_client_addr(void **state)
{
	const char *proxies = "10.0.0.1, ::1";

	(void)state;
	/* No proxy trusted: REMOTE_ADDR, whatever X-Forwarded-For says. */
	assert_string_equal(addr("", "203.0.113.5", "1.2.3.4"), "203.0.113.5");
	assert_string_equal(addr(NULL, "203.0.113.5", "1.2.3.4"),
	                    "203.0.113.5");
	/* An untrusted peer's header is ignored. */
	assert_string_equal(addr(proxies, "203.0.113.5", "1.2.3.4"),
	                    "203.0.113.5");
	/* A trusted proxy: the LAST item, trimmed. */
	assert_string_equal(addr(proxies, "10.0.0.1", "1.2.3.4"), "1.2.3.4");
	assert_string_equal(
	        addr(proxies, "10.0.0.1", "6.6.6.6, 7.7.7.7 ,  198.51.100.7  "),
	        "198.51.100.7");
	assert_string_equal(addr(proxies, "::1", "2001:db8::1"), "2001:db8::1");
	/* Canonical form. */
	assert_string_equal(addr(proxies, "::1", "2001:DB8:0:0::0001"),
	                    "2001:db8::1");
	/* Garbage falls back to REMOTE_ADDR. */
	assert_string_equal(addr(proxies, "10.0.0.1", "not-an-ip"), "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", "1.2.3.4, garbage"),
	                    "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", "1.2.3.4,"), "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", ""), "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", "1.2.3.4:5678"),
	                    "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", "[2001:db8::1]"),
	                    "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", "1.2.3.4\n"), "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1",
	                         "1111:2222:3333:4444:5555:6666:7777:8888:9999:"
	                         "aaaa:bbbb:cccc:dddd:eeee:ffff:0000:1111"),
	                    "10.0.0.1");
	assert_string_equal(addr(proxies, "10.0.0.1", NULL), "10.0.0.1");
	/* Trusted list items compare whole. */
	assert_string_equal(addr("10.0.0.10", "10.0.0.1", "1.2.3.4"),
	                    "10.0.0.1");
	assert_string_equal(addr("10.0.0.1", "10.0.0.10", "1.2.3.4"),
	                    "10.0.0.10");
	/* No REMOTE_ADDR at all. */
	assert_string_equal(addr(proxies, NULL, "1.2.3.4"), "");
	assert_string_equal(addr(proxies, "", "1.2.3.4"), "");
	/* A small buffer is never overrun. */
	{
		char small[4] = "zzz";

		pc_peer_client_addr(NULL, "203.0.113.5", NULL, small,
		                    sizeof(small));
		assert_int_equal(strlen(small), 3);
	}
}

static void
test_https(void **state)
{
	const char *proxies = "10.0.0.1";

	(void)state;
	assert_true(pc_peer_is_https(NULL, "1.2.3.4", "on", NULL));
	assert_true(pc_peer_is_https(NULL, "1.2.3.4", "ON", NULL));
	assert_false(pc_peer_is_https(NULL, "1.2.3.4", "off", NULL));
	assert_false(pc_peer_is_https(NULL, "1.2.3.4", NULL, NULL));
	assert_false(pc_peer_is_https(NULL, "1.2.3.4", NULL, "https"));
	assert_false(pc_peer_is_https(proxies, "1.2.3.4", NULL, "https"));
	assert_true(pc_peer_is_https(proxies, "10.0.0.1", NULL, "https"));
	assert_true(pc_peer_is_https(proxies, "10.0.0.1", NULL, " HTTPS "));
	assert_true(pc_peer_is_https(proxies, "10.0.0.1", NULL, "http, https"));
	assert_false(
	        pc_peer_is_https(proxies, "10.0.0.1", NULL, "https, http"));
	assert_false(pc_peer_is_https(proxies, "10.0.0.1", NULL, "http"));
	assert_false(pc_peer_is_https(proxies, "10.0.0.1", NULL, "httpsx"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_origin),
	        cmocka_unit_test(test_client_addr),
	        cmocka_unit_test(test_https),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
