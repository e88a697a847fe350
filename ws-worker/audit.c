/*
 * audit.c: the worker's audit lines (audit.h).
 *
 * Each event is a small table of key/value pairs handed to one formatter, so
 * the prefix, the order of keys and the quoting rule are written once. A line
 * is formatted into a fixed buffer and written with one write(2), like log.c,
 * so lines from the worker's NNG threads (which write none today) could never
 * interleave with it. Not a logger: log.h is for the operator's diagnostics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"

/* Bytes a value may hold unquoted. */
static int
audit_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == ':' || ch == '/' || ch == '@' || ch == '+' || ch == '-';
}

/* Appends s to buf at *n (within size - 1, for the newline); 0 if cut. */
static int
audit_put(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
	if (*n + len >= size - 1)
		return 0;
	memcpy(buf + *n, s, len);
	*n += len;
	return 1;
}

/* Appends " key=value", quoting value when it needs it; 0 if it did not fit
 * (nothing of it is kept). */
static int
audit_pair(char *buf, size_t size, size_t *n, const char *key, const char *val)
{
	size_t start = *n, i, len = strlen(val);
	int quote = len == 0;
	char esc[2];

	for (i = 0; i < len && !quote; i++)
		quote = !audit_plain((unsigned char)val[i]);
	if (!audit_put(buf, size, n, " ", 1) ||
	    !audit_put(buf, size, n, key, strlen(key)) ||
	    !audit_put(buf, size, n, "=", 1))
		goto cut;
	if (!quote) {
		if (!audit_put(buf, size, n, val, len))
			goto cut;
		return 1;
	}
	if (!audit_put(buf, size, n, "\"", 1))
		goto cut;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)val[i];
		size_t elen = 1;

		esc[0] = (char)ch;
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			elen = 2;
		} else if (ch < 0x20 || ch >= 0x7f)
			esc[0] = '?';
		if (!audit_put(buf, size, n, esc, elen))
			goto cut;
	}
	if (!audit_put(buf, size, n, "\"", 1))
		goto cut;
	return 1;
cut:
	*n = start;
	return 0;
}

size_t
ws_audit_format(const struct ws_audit *a, int64_t now_ms, const char *event,
                const char *const *keys, const char *const *vals, size_t nkv,
                char *buf, size_t size)
{
	char ts[PC_RFC3339_LEN], pid[24], user[24];
	size_t n = 0, i;

	if (size < 2)
		return 0;
	pc_clock_rfc3339(now_ms, ts, sizeof(ts));
	snprintf(pid, sizeof(pid), "%ld", a->pid);
	(void)audit_put(buf, size, &n, "audit", 5);
	(void)audit_pair(buf, size, &n, "ts", ts);
	(void)audit_pair(buf, size, &n, "pid", pid);
	(void)audit_pair(buf, size, &n, "event", event);
	if (a->user > 0) {
		snprintf(user, sizeof(user), "%" PRId64, a->user);
		(void)audit_pair(buf, size, &n, "user", user);
		(void)audit_pair(buf, size, &n, "session", a->session);
	}
	for (i = 0; i < nkv; i++)
		if (vals[i] != NULL &&
		    !audit_pair(buf, size, &n, keys[i], vals[i]))
			break;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* Formats and writes one line; a failed write is not retried (stderr gone). */
static void
audit_emit(const struct ws_audit *a, const char *event, const char *const *keys,
           const char *const *vals, size_t n)
{
	char line[WS_AUDIT_LINE_MAX];
	size_t len;

	if (a == NULL || a->fd < 0)
		return;
	len = ws_audit_format(a, pc_clock_now_ms(), event, keys, vals, n, line,
	                      sizeof(line));
	if (write(a->fd, line, len) < 0)
		return;
}

#define AUDIT_N(x) (sizeof(x) / sizeof((x)[0]))

void
ws_audit_init(struct ws_audit *a, int fd, long pid, const char *addr)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->pid = pid;
	snprintf(a->addr, sizeof(a->addr), "%s", addr != NULL ? addr : "");
}

/* The trimmed item of s[0..len) after its last comma (or all of it), copied
 * into out; 0 when it does not fit. */
static int
audit_last_item(const char *s, size_t len, char *out, size_t out_size)
{
	const char *p = s + len;

	while (p > s && p[-1] != ',')
		p--;
	while (p < s + len && (*p == ' ' || *p == '\t'))
		p++;
	while (len > 0 && s + len > p &&
	       (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if ((size_t)(s + len - p) >= out_size)
		return 0;
	memcpy(out, p, (size_t)(s + len - p));
	out[s + len - p] = '\0';
	return 1;
}

void
ws_audit_client_addr(const char *trusted_proxies, const char *remote_addr,
                     const char *x_forwarded_for, char *out, size_t out_size)
{
	char peer[PC_ADDR_MAX], before[PC_ADDR_MAX];
	const char *comma;

	if (x_forwarded_for == NULL || *x_forwarded_for == '\0' ||
	    !audit_last_item(x_forwarded_for, strlen(x_forwarded_for), peer,
	                     sizeof(peer)) ||
	    peer[0] == '\0') {
		pc_peer_client_addr(trusted_proxies, remote_addr, NULL, out,
		                    out_size);
		return;
	}
	comma = strrchr(x_forwarded_for, ',');
	if (comma == NULL ||
	    !audit_last_item(x_forwarded_for, (size_t)(comma - x_forwarded_for),
	                     before, sizeof(before)))
		before[0] = '\0';
	pc_peer_client_addr(trusted_proxies, peer,
	                    before[0] != '\0' ? before : NULL, out, out_size);
}

void
ws_audit_connect(struct ws_audit *a, int64_t user, const char *session,
                 int text)
{
	static const char *const keys[] = {"addr", "mode"};
	const char *vals[AUDIT_N(keys)];

	if (a == NULL)
		return;
	a->user = user;
	snprintf(a->session, sizeof(a->session), "%s", session);
	vals[0] = a->addr;
	vals[1] = text ? "text" : "json";
	audit_emit(a, "connect", keys, vals, AUDIT_N(keys));
}

void
ws_audit_reject(struct ws_audit *a, const char *code)
{
	static const char *const keys[] = {"code", "addr"};
	const char *vals[AUDIT_N(keys)];

	if (a == NULL)
		return;
	vals[0] = code;
	vals[1] = a->addr;
	audit_emit(a, "reject", keys, vals, AUDIT_N(keys));
}

void
ws_audit_join(struct ws_audit *a, int64_t room, int64_t last_seq)
{
	static const char *const keys[] = {"room", "last_seq"};
	const char *vals[AUDIT_N(keys)];
	char r[24], s[24];

	if (a == NULL)
		return;
	snprintf(r, sizeof(r), "%" PRId64, room);
	snprintf(s, sizeof(s), "%" PRId64, last_seq);
	vals[0] = r;
	vals[1] = s;
	audit_emit(a, "join", keys, vals, AUDIT_N(keys));
}

void
ws_audit_leave(struct ws_audit *a, int64_t room, const char *by)
{
	static const char *const keys[] = {"room", "by"};
	const char *vals[AUDIT_N(keys)];
	char r[24];

	if (a == NULL)
		return;
	snprintf(r, sizeof(r), "%" PRId64, room);
	vals[0] = r;
	vals[1] = by;
	audit_emit(a, "leave", keys, vals, AUDIT_N(keys));
}

void
ws_audit_send(struct ws_audit *a, int64_t room, int64_t seq, int64_t id)
{
	static const char *const keys[] = {"room", "seq", "id"};
	const char *vals[AUDIT_N(keys)];
	char r[24], s[24], i[24];

	if (a == NULL)
		return;
	snprintf(r, sizeof(r), "%" PRId64, room);
	snprintf(s, sizeof(s), "%" PRId64, seq);
	snprintf(i, sizeof(i), "%" PRId64, id);
	vals[0] = r;
	vals[1] = s;
	vals[2] = id > 0 ? i : NULL;
	audit_emit(a, "send", keys, vals, AUDIT_N(keys));
}

/* Whether one more refused line may be written now (mono ms). */
static int
audit_refused_allowed(struct ws_audit *a, int64_t now)
{
	if (a->window_lines == 0 || now - a->window_ms >= WS_AUDIT_WINDOW_MS) {
		a->window_ms = now;
		a->window_lines = 0;
	}
	if (a->window_lines >= WS_AUDIT_REFUSED_MAX)
		return 0;
	a->window_lines++;
	return 1;
}

void
ws_audit_refused(struct ws_audit *a, const char *code, int64_t room,
                 const char *field)
{
	static const char *const keys[] = {"code", "room", "field", "dropped"};
	const char *vals[AUDIT_N(keys)];
	char r[24], d[24];

	if (a == NULL)
		return;
	a->refused++;
	if (!audit_refused_allowed(a, pc_clock_mono_ms())) {
		a->unlogged++;
		a->dropped_since++;
		return;
	}
	snprintf(r, sizeof(r), "%" PRId64, room);
	snprintf(d, sizeof(d), "%" PRIu64, a->dropped_since);
	vals[0] = code;
	vals[1] = room > 0 ? r : NULL;
	vals[2] = field;
	vals[3] = a->dropped_since > 0 ? d : NULL;
	a->dropped_since = 0;
	audit_emit(a, "refused", keys, vals, AUDIT_N(keys));
}

void
ws_audit_disconnect(struct ws_audit *a, const char *reason)
{
	static const char *const keys[] = {"reason", "refused", "unlogged"};
	const char *vals[AUDIT_N(keys)];
	char r[24], u[24];

	if (a == NULL)
		return;
	snprintf(r, sizeof(r), "%" PRIu64, a->refused);
	snprintf(u, sizeof(u), "%" PRIu64, a->unlogged);
	vals[0] = reason != NULL ? reason : "unknown";
	vals[1] = a->refused > 0 ? r : NULL;
	vals[2] = a->unlogged > 0 ? u : NULL;
	audit_emit(a, "disconnect", keys, vals, AUDIT_N(keys));
}
