/*
 * log.h: one line per event to stderr (which the run scripts send to
 * $PIPECHAT_VAR/log/<program>.log) or to syslog.
 *
 * Lines look like `2026-11-26T08:53:04.123Z pipechat-api[123] warn db_query: text`.
 * Log once, where the decision is made; pass __func__ through the macros.
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef PIPECHAT_LOG_H
#define PIPECHAT_LOG_H

enum pc_log_level { PC_LOG_ERR, PC_LOG_WARN, PC_LOG_INFO, PC_LOG_DEBUG };

/* Names the program in every line; use_syslog sends lines to syslog instead
 * of stderr. Lines above max_level are dropped. Call once, before threads. */
void pc_log_open(const char *program, int use_syslog, enum pc_log_level max_level);

void pc_log_line(enum pc_log_level lvl, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pc_log_err(...)   pc_log_line(PC_LOG_ERR, __func__, __VA_ARGS__)
#define pc_log_warn(...)  pc_log_line(PC_LOG_WARN, __func__, __VA_ARGS__)
#define pc_log_info(...)  pc_log_line(PC_LOG_INFO, __func__, __VA_ARGS__)
#define pc_log_debug(...) pc_log_line(PC_LOG_DEBUG, __func__, __VA_ARGS__)

/* Logs and exits(1): only at start-up or for an impossible state. */
void pc_log_fatal(const char *func, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#define pc_fatal(...) pc_log_fatal(__func__, __VA_ARGS__)

#endif
