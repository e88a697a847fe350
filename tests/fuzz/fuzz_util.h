/*
 * fuzz_util.h: what the libFuzzer harnesses of tests/fuzz share: a check
 * that aborts (so libFuzzer records the input as a crash), a reference UTF-8
 * decoder written independently of common/valid.c (for differential checks),
 * the fixed signing key and clock of fuzz_token, and a quiet log.
 *
 * Header-only (static functions): each harness is one program. Not for the
 * unit tests (they use cmocka) and not linked into anything that ships.
 */
#ifndef PIPECHAT_FUZZ_UTIL_H
#define PIPECHAT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* A broken promise: print where and why, then abort so libFuzzer keeps the
 * input as crash-<sha1> and the run fails. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n",      \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* The key every fuzz_token run signs and verifies with (64 bytes, as
 * pc_secret_load makes), and the fixed "now" it verifies at, so a run is
 * reproducible from its input alone. Seeds expire in 2100. */
#define FUZZ_KEY_LEN 64
#define FUZZ_NOW     ((time_t)1764000000) /* 2025-11-24 */
#define FUZZ_EXP     INT64_C(4102444800)  /* 2100-01-01 */

static __attribute__((unused)) void
fuzz_key(unsigned char *key)
{
	size_t i;

	for (i = 0; i < FUZZ_KEY_LEN; i++)
		key[i] = (unsigned char)(0x5a ^ (i * 37));
}

/*
 * Reference UTF-8 decoder: decodes greedily by the lead byte's length, then
 * refuses what Unicode refuses (overlong forms by their minimum value,
 * surrogates, > U+10FFFF). Returns the sequence length or 0, and *cp.
 * Deliberately written another way than valid.c's byte-range table.
 */
static __attribute__((unused)) size_t
fuzz_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n, i;
	uint32_t c;

	if (len == 0)
		return 0;
	if ((p[0] & 0x80) == 0x00) {
		n = 1;
		c = p[0];
	} else if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Non-zero when p[0..len) is valid UTF-8; *count gets the code points. */
static __attribute__((unused)) int
fuzz_utf8_ok(const void *s, size_t len, size_t *count)
{
	const unsigned char *p = s;
	size_t i = 0, n, k = 0;
	uint32_t cp;

	while (i < len) {
		if ((n = fuzz_utf8_decode(p + i, len - i, &cp)) == 0)
			return 0;
		i += n;
		k++;
	}
	if (count != NULL)
		*count = k;
	return 1;
}

/* A NUL-terminated malloc'd copy of data (cut at its first NUL by every
 * string function, as a C string from the network would be). */
static __attribute__((unused)) char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Errors only: the code under test logs every refusal it makes, and a
 * fuzzer makes millions. */
static __attribute__((unused)) void
fuzz_quiet_log(void)
{
	pc_log_open("fuzz", 0, PC_LOG_ERR);
}

#endif
