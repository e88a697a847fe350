/*
 * clock.h: time as pipechat shows it: milliseconds since the epoch, printed as
 * RFC 3339 UTC with milliseconds ("2026-11-26T08:53:04.123Z").
 */
#ifndef PIPECHAT_CLOCK_H
#define PIPECHAT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define PC_RFC3339_LEN 25 /* with the NUL */

/* Wall clock in milliseconds. */
int64_t pc_clock_now_ms(void);
/* Monotonic clock in milliseconds, for timers and rate limits. */
int64_t pc_clock_mono_ms(void);
/* Monotonic clock in microseconds, for durations (latency, commit time). */
int64_t pc_clock_mono_us(void);
/* Formats ms into out (size >= PC_RFC3339_LEN). */
void pc_clock_rfc3339(int64_t ms, char *out, size_t out_size);

#endif
