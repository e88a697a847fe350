/*
 * clock.c: wall and monotonic milliseconds (and monotonic microseconds), and the one timestamp format
 * pipechat shows (RFC 3339 UTC with milliseconds). Not a timer facility.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0; /* cannot happen for these clocks */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
pc_clock_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t
pc_clock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
pc_clock_mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
pc_clock_rfc3339(int64_t ms, char *out, size_t out_size)
{
	struct tm tm;
	time_t sec;
	int64_t frac;

	if (out == NULL || out_size == 0)
		return;
	/* Floor division, so times before 1970 keep a positive fraction. */
	frac = ms % 1000;
	if (frac < 0)
		frac += 1000;
	sec = (time_t)((ms - frac) / 1000);
	memset(&tm, 0, sizeof(tm));
	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		snprintf(out, out_size, "%s", "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (int)frac);
}
