/*
 * log.c: one line per event, to stderr or syslog (log.h).
 *
 * A line is formatted into a fixed buffer and written with one write(2), so
 * lines from several threads never interleave. Over-long messages are cut and
 * end in "..."; control characters in the message (a newline a client put in
 * a username, say) are written as '?', so one event is always one line.
 * The settings are file statics set once by pc_log_open before threads start.
 * Not an audit trail and not a metrics sink.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define LOG_LINE_MAX 2048

static char log_program[64] = "pipechat";
static int log_syslog;
static enum pc_log_level log_max = PC_LOG_INFO;

static const struct {
	const char *name;
	int priority;
} log_levels[] = {
        [PC_LOG_ERR] = {"err", LOG_ERR},
        [PC_LOG_WARN] = {"warn", LOG_WARNING},
        [PC_LOG_INFO] = {"info", LOG_INFO},
        [PC_LOG_DEBUG] = {"debug", LOG_DEBUG},
};

void
pc_log_open(const char *program, int use_syslog, enum pc_log_level max_level)
{
	if (program != NULL)
		snprintf(log_program, sizeof(log_program), "%s", program);
	log_syslog = use_syslog;
	log_max = max_level;
	if (use_syslog)
		openlog(log_program, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* The format attribute lets clang check callers (-Wformat-nonliteral). */
static void log_vline(enum pc_log_level lvl, const char *func, const char *fmt,
                      va_list ap) __attribute__((format(printf, 3, 0)));

static void
log_vline(enum pc_log_level lvl, const char *func, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char ts[PC_RFC3339_LEN];
	size_t n, start, i;
	int r, saved = errno;

	if ((unsigned)lvl > PC_LOG_DEBUG)
		lvl = PC_LOG_ERR;
	if (func == NULL)
		func = "?";
	if (log_syslog)
		r = snprintf(line, sizeof(line),
		             "%s %s: ", log_levels[lvl].name, func);
	else {
		pc_clock_rfc3339(pc_clock_now_ms(), ts, sizeof(ts));
		r = snprintf(line, sizeof(line), "%s %s[%ld] %s %s: ", ts,
		             log_program, (long)getpid(), log_levels[lvl].name,
		             func);
	}
	if (r < 0)
		goto out;
	/* A prefix can only be that long through an absurd function name. */
	start = (size_t)r < sizeof(line) - 64 ? (size_t)r : sizeof(line) - 64;
	/* Leave room for "...\n" and the NUL. */
	r = vsnprintf(line + start, sizeof(line) - start - 4, fmt, ap);
	if (r < 0)
		goto out;
	n = start + (size_t)r;
	if (n > sizeof(line) - 5) {
		n = sizeof(line) - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	for (i = start; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (log_syslog) {
		line[n] = '\0';
		syslog(log_levels[lvl].priority, "%s", line);
	} else {
		line[n++] = '\n';
		/* One write per line; a short write to stderr is not retried
		 * so a line is never split between two writes. */
		if (write(STDERR_FILENO, line, n) < 0)
			goto out;
	}
out:
	errno = saved;
}

void
pc_log_line(enum pc_log_level lvl, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	log_vline(lvl, func, fmt, ap);
	va_end(ap);
}

void
pc_log_fatal(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(PC_LOG_ERR, func, fmt, ap);
	va_end(ap);
	exit(1);
}
