/*
 * test_port.h: a free TCP port on 127.0.0.1 for a unit test's listener
 * (the kernel picks one for a throw-away socket). Header-only, for the
 * cmocka programs that need one; include after <cmocka.h>.
 */
#ifndef PIPECHAT_TEST_PORT_H
#define PIPECHAT_TEST_PORT_H

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned
test_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

#endif
