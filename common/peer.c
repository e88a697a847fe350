/*
 * peer.c: Origin, client address and HTTPS from CGI variables (peer.h).
 *
 * X-Forwarded-For is believed only when REMOTE_ADDR is a listed proxy, and
 * then only its LAST item: that is the address the trusted proxy itself saw;
 * anything before it was written by the client. Addresses are written in
 * their canonical form (inet_ntop), so "::0001" and "::1" count as one
 * client for throttling. Not a policy module: what to do with the answer is
 * the caller's.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "peer.h"

int
pc_peer_origin_ok(const char *allowed, const char *origin)
{
	if (origin == NULL)
		return 1;
	return pc_conf_list_has(allowed, origin, strlen(origin));
}

/* The last comma-separated item of s, trimmed of spaces and tabs. */
static const char *
peer_last_item(const char *s, size_t *len)
{
	const char *p = strrchr(s, ',');
	size_t n;

	p = p != NULL ? p + 1 : s;
	n = strlen(p);
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*len = n;
	return p;
}

/* Writes the canonical text of the address in p[0..len) into out and
 * returns 1, or returns 0 when it is not an IPv4 or IPv6 address. */
static int
peer_canon(const char *p, size_t len, char *out, size_t out_size)
{
	char tmp[PC_ADDR_MAX];
	unsigned char bin[sizeof(struct in6_addr)];
	char canon[INET6_ADDRSTRLEN];
	int af;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, tmp, bin) == 1)
		af = AF_INET6;
	else
		return 0;
	if (inet_ntop(af, bin, canon, sizeof(canon)) == NULL ||
	    strlen(canon) >= out_size)
		return 0;
	memcpy(out, canon, strlen(canon) + 1);
	return 1;
}

static int
peer_is_trusted(const char *trusted_proxies, const char *remote_addr)
{
	return trusted_proxies != NULL && remote_addr != NULL &&
	       remote_addr[0] != '\0' &&
	       pc_conf_list_has(trusted_proxies, remote_addr,
	                        strlen(remote_addr));
}

void
pc_peer_client_addr(const char *trusted_proxies, const char *remote_addr,
                    const char *x_forwarded_for, char *out, size_t out_size)
{
	const char *item;
	size_t len;

	if (out == NULL || out_size == 0)
		return;
	if (remote_addr == NULL)
		remote_addr = "";
	if (x_forwarded_for != NULL &&
	    peer_is_trusted(trusted_proxies, remote_addr)) {
		item = peer_last_item(x_forwarded_for, &len);
		if (peer_canon(item, len, out, out_size))
			return;
	}
	if (peer_canon(remote_addr, strlen(remote_addr), out, out_size))
		return;
	/* Not an IP address (a Unix socket peer, say): copy what fits. */
	snprintf(out, out_size, "%s", remote_addr);
}

int
pc_peer_is_https(const char *trusted_proxies, const char *remote_addr,
                 const char *https, const char *x_forwarded_proto)
{
	const char *item;
	size_t len;

	if (https != NULL && strcasecmp(https, "on") == 0)
		return 1;
	if (x_forwarded_proto == NULL ||
	    !peer_is_trusted(trusted_proxies, remote_addr))
		return 0;
	item = peer_last_item(x_forwarded_proto, &len);
	return len == 5 && strncasecmp(item, "https", 5) == 0;
}
