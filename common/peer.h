/*
 * peer.h: who is on the other end of an HTTP request or WebSocket, from the
 * CGI variables both the API (FastCGI params) and the worker (websocketd's
 * environment) receive: Origin check, client address, HTTPS.
 *
 * Rules (contract sections 3 and 8): an absent Origin is allowed; a present one
 * must equal one item of the allowed list exactly. The client address is
 * REMOTE_ADDR, or, when REMOTE_ADDR is listed in trusted proxies, the last
 * address of X-Forwarded-For. HTTPS is HTTPS=on, or X-Forwarded-Proto: https
 * from a trusted proxy.
 */
#ifndef PIPECHAT_PEER_H
#define PIPECHAT_PEER_H

#include <stddef.h>

#define PC_ADDR_MAX 64

/* Non-zero when origin (may be NULL) is acceptable under the comma list allowed. */
int pc_peer_origin_ok(const char *allowed, const char *origin);
/* Writes the client address into out (size >= PC_ADDR_MAX); never fails:
 * an unusable X-Forwarded-For falls back to remote_addr ("" when NULL). */
void pc_peer_client_addr(const char *trusted_proxies, const char *remote_addr,
    const char *x_forwarded_for, char *out, size_t out_size);
/* Non-zero when the request came over HTTPS. */
int pc_peer_is_https(const char *trusted_proxies, const char *remote_addr,
    const char *https, const char *x_forwarded_proto);

#endif
