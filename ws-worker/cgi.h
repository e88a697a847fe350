/*
 * cgi.h: what websocketd's CGI environment tells the worker about its socket
 * (FACTS.md): the session token from HTTP_COOKIE, and `room` and `format`
 * from QUERY_STRING. Pure functions on strings, so they are tested without a
 * process; the Origin check is common/peer.h.
 */
#ifndef PIPECHAT_WS_CGI_H
#define PIPECHAT_WS_CGI_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define WS_TOKEN_MAX 4096

/*
 * Copies the value of the access_token cookie from a Cookie header (may be
 * NULL) into out (out_size > WS_TOKEN_MAX). PC_OK, or PC_ERR_UNAUTHENTICATED
 * when there is none, it is empty or longer than WS_TOKEN_MAX; out written
 * only on success.
 */
enum pc_err ws_cgi_token(const char *cookie, char *out, size_t out_size);

struct ws_query {
	int64_t room; /* 0: none asked for */
	int text;     /* format=text */
};

/*
 * Parses QUERY_STRING (may be NULL). Unknown keys are ignored.
 * PC_OK and *out; PC_ERR_INVALID with *field set to "room" or "format" when
 * room is not a positive integer or format is neither json nor text.
 */
enum pc_err ws_cgi_query(const char *query, struct ws_query *out,
                         const char **field);

#endif
