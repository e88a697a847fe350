/*
 * audit.h: the worker's audit trail: one line per security-relevant event of
 * its socket, written with one write(2) to stderr (websocketd copies it into
 * log/ws.log, after its own "| ERROR | stderr | ... |" prefix).
 *
 * Format (documented in docs/security.md; tests/integration parses it): the
 * word `audit`, then logfmt pairs key=value separated by one space, always in
 * this order: ts (RFC 3339 UTC, ms), pid, event, then user and session once
 * the broker has accepted the token, then the event's own keys:
 *
 *   audit ts=… pid=4242 event=connect user=12 session=7 addr=10.0.0.1 mode=json
 *   audit ts=… pid=4242 event=reject code=unauthenticated addr=10.0.0.1
 *   audit ts=… pid=4242 event=join user=12 session=7 room=5 last_seq=40
 *   audit ts=… pid=4242 event=leave user=12 session=7 room=5 by=client
 *   audit ts=… pid=4242 event=send user=12 session=7 room=5 seq=41 id=901
 *   audit ts=… pid=4242 event=refused user=12 session=7 code=bad_json
 *   audit ts=… pid=4242 event=disconnect user=12 session=7 reason=idle
 *
 * `refused` may add room= (the broker refused a request for that room) and
 * field= (the invalid field). A client can make refusals far faster than a
 * log should grow (one byte of junk per line), so at most
 * WS_AUDIT_REFUSED_MAX refused lines are written per WS_AUDIT_WINDOW_MS;
 * the next one written says how many were left out since (dropped=N), and
 * the disconnect line gives the socket's totals (refused=N unlogged=M, each
 * only when not 0). `leave` says by=client (a leave frame) or
 * by=server (left over HTTP, kicked, room deleted, or lost on a re-join).
 * `reject` is a socket refused before it had a user (bad Origin, no or bad
 * token, socket cap): a `disconnect` follows. Values are numbers or words
 * from pipechat's own vocabularies; any other byte than [A-Za-z0-9._:/@+-]
 * makes the value quoted, with " and \ escaped and control or non-ASCII
 * bytes written as '?', so one event is always one line.
 * Never a message body, a cookie or a token: no function here takes one.
 *
 * Not thread-safe (the worker's main thread only); every function accepts a
 * NULL audit (unit tests of conn.h run without one).
 */
#ifndef PIPECHAT_WS_AUDIT_H
#define PIPECHAT_WS_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "peer.h"
#include "token.h"

#define WS_AUDIT_LINE_MAX    512
#define WS_AUDIT_REFUSED_MAX 20    /* refused lines per window */
#define WS_AUDIT_WINDOW_MS   10000 /* ... of this many ms */

struct ws_audit {
	int fd; /* where lines go: 2, or a test's pipe */
	long pid;
	char addr[PC_ADDR_MAX];
	int64_t user; /* 0 until connect */
	char session[PC_SID_MAX + 1];
	/* refused lines: the window's start (mono ms) and count, and totals */
	int64_t window_ms;
	unsigned window_lines;
	uint64_t refused, unlogged, dropped_since;
};

/* Prepares a (zeroed first) for lines to fd from process pid, whose client
 * is at addr (may be NULL or ""). */
void ws_audit_init(struct ws_audit *a, int fd, long pid, const char *addr);

/*
 * The client address for the audit from websocketd's environment. The web
 * server in front of websocketd is pipechat's own proxy, so the last item of
 * X-Forwarded-For (the peer it saw) is believed; when that peer is one of
 * trusted_proxies, the item before it is taken (pc_peer_client_addr). With no
 * X-Forwarded-For (a worker run by hand), REMOTE_ADDR. Writes out (size >=
 * PC_ADDR_MAX); never fails.
 */
void ws_audit_client_addr(const char *trusted_proxies, const char *remote_addr,
                          const char *x_forwarded_for, char *out,
                          size_t out_size);

/* The broker accepted the token: the user and session of every later line. */
void ws_audit_connect(struct ws_audit *a, int64_t user, const char *session,
                      int text);
/* A socket refused before it had a user; code is an err.h public code. */
void ws_audit_reject(struct ws_audit *a, const char *code);
/* The client saw `joined` for room (not written again on a re-join). */
void ws_audit_join(struct ws_audit *a, int64_t room, int64_t last_seq);
/* The socket left room; by is "client" or "server". */
void ws_audit_leave(struct ws_audit *a, int64_t room, const char *by);
/* A send was stored: room, seq and message id from its ack (id 0: unknown). */
void ws_audit_send(struct ws_audit *a, int64_t room, int64_t seq, int64_t id);
/* Input answered with an error frame: code (err.h public code), the room the
 * broker named (0: none) and the invalid field (may be NULL). Rate-limited
 * (see the top); counted even when not written. */
void ws_audit_refused(struct ws_audit *a, const char *code, int64_t room,
                      const char *field);
/* The worker is about to exit; reason is a word (see conn.h's `why`). */
void ws_audit_disconnect(struct ws_audit *a, const char *reason);

/*
 * Formats one line (with its newline) into buf: the prefix for event at
 * wall time now_ms, then the pairs keys[i]=vals[i] (vals[i] NULL: the pair is
 * left out). Returns its length (< size; a line that would not fit is cut at
 * a pair boundary). For the functions above and for tests.
 */
size_t ws_audit_format(const struct ws_audit *a, int64_t now_ms,
                       const char *event, const char *const *keys,
                       const char *const *vals, size_t n, char *buf,
                       size_t size);

#endif
