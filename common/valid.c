/*
 * valid.c: the input rules of valid.h (contract sections 3 and 8).
 *
 * One strict UTF-8 decoder (shortest form only, no surrogates, nothing above
 * U+10FFFF, nothing truncated) feeds every check. "White space" is ASCII
 * white space plus the Unicode White_Space characters and the invisible
 * zero-width ones (U+200B-200D, U+2060, U+FEFF), so a body of only such
 * characters counts as empty and a room name is trimmed of them.
 * Pure functions: no allocation, no state. Not a normaliser: names are
 * compared as given (ignoring ASCII case is the database's job).
 */
#include <stdint.h>
#include <string.h>

#include "valid.h"

/*
 * Decodes one code point at p[0..len). Returns its length in bytes (1-4) and
 * writes *cp, or 0 when the bytes there are not valid UTF-8.
 */
static size_t
valid_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xc2) /* continuation byte, or overlong C0/C1 */
		return 0;
	if (p[0] < 0xe0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] < 0xf0) {
		n = 3;
		c = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f; /* surrogates D800-DFFF */
	} else if (p[0] < 0xf5) {
		n = 4;
		c = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0;
	if (len < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	c = (c << 6) | (p[1] & 0x3f);
	for (i = 2; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*cp = c;
	return n;
}

int
pc_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	if (len > 0 && p == NULL)
		return 0;
	while (i < len) {
		if (p[i] < 0x80) { /* ASCII runs are the common case */
			i++;
			continue;
		}
		if ((n = valid_decode(p + i, len - i, &cp)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

size_t
pc_valid_utf8_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, count = 0;

	for (i = 0; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			count++;
	return count;
}

/* U+0000-001F, U+007F, U+0080-009F. */
static int
valid_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* White_Space, plus the invisible zero-width characters people use to fake
 * an empty message: U+180E, U+200B-200D, U+2060, U+FEFF. */
static const struct {
	uint32_t lo, hi;
} valid_spaces[] = {
        {0x0009, 0x000d}, {0x0020, 0x0020}, {0x0085, 0x0085}, {0x00a0, 0x00a0},
        {0x1680, 0x1680}, {0x180e, 0x180e}, {0x2000, 0x200d}, {0x2028, 0x2029},
        {0x202f, 0x202f}, {0x205f, 0x2060}, {0x3000, 0x3000}, {0xfeff, 0xfeff},
};

static int
valid_is_space(uint32_t cp)
{
	size_t i;

	for (i = 0; i < sizeof(valid_spaces) / sizeof(valid_spaces[0]); i++)
		if (cp >= valid_spaces[i].lo && cp <= valid_spaces[i].hi)
			return 1;
	return 0;
}

static int
valid_ascii_word(const char *s, size_t min, size_t max)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return 0;
	}
	return i >= min;
}

int
pc_valid_username(const char *s)
{
	return valid_ascii_word(s, PC_USERNAME_MIN, PC_USERNAME_MAX);
}

/* One DNS-ish label run: no empty labels, at least one dot. */
int
pc_valid_email(const char *s)
{
	const char *at, *p;
	size_t len, label = 0;
	int dots = 0;

	if (s == NULL)
		return 0;
	len = strnlen(s, PC_EMAIL_MAX + 1);
	if (len == 0 || len > PC_EMAIL_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	if (at == s || at[1] == '\0')
		return 0;
	for (p = at + 1; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			dots++;
			label = 0;
		} else
			label++;
	}
	return dots > 0 && label > 0;
}

int
pc_valid_password(const char *s)
{
	size_t len;

	if (s == NULL)
		return 0;
	len = strnlen(s, PC_PASSWORD_MAX + 1);
	return len >= PC_PASSWORD_MIN && len <= PC_PASSWORD_MAX &&
	       pc_valid_utf8(s, len);
}

enum pc_err
pc_valid_body(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, count = 0;
	uint32_t cp;
	int visible = 0;

	if (s == NULL || len == 0)
		return PC_ERR_BAD_BODY;
	while (i < len) {
		if ((n = valid_decode(p + i, len - i, &cp)) == 0)
			return PC_ERR_BAD_BODY;
		if (valid_is_control(cp) && cp != '\t' && cp != '\n')
			return PC_ERR_BAD_BODY;
		if (++count > PC_BODY_MAX)
			return PC_ERR_BAD_BODY;
		if (!valid_is_space(cp))
			visible = 1;
		i += n;
	}
	return visible ? PC_OK : PC_ERR_BAD_BODY;
}

enum pc_err
pc_valid_room_name(const char *s, char *out, size_t out_size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i, n, start = 0, end = 0, count = 0;
	uint32_t cp;
	int seen = 0;

	if (s == NULL || out == NULL)
		return PC_ERR_INVALID;
	/* Anything longer cannot trim down to a name without 4 KiB of
	 * spaces, which no one types. */
	len = strnlen(s, 4096 + 1);
	if (len > 4096)
		return PC_ERR_INVALID;
	/* Pass one: valid UTF-8, and where the first and last non-space are.
	 * White space that is also a control character (tab, newline, NEL)
	 * is trimmed at the ends and refused inside, by pass two. */
	for (i = 0; i < len; i += n) {
		if ((n = valid_decode(p + i, len - i, &cp)) == 0)
			return PC_ERR_INVALID;
		if (valid_is_space(cp))
			continue;
		if (!seen)
			start = i;
		seen = 1;
		end = i + n;
	}
	if (!seen)
		return PC_ERR_INVALID;
	for (i = start; i < end; i += n) {
		if ((n = valid_decode(p + i, end - i, &cp)) == 0)
			return PC_ERR_INVALID; /* not after pass one */
		if (valid_is_control(cp))
			return PC_ERR_INVALID;
		count++;
	}
	if (count > PC_ROOM_NAME_MAX || end - start + 1 > out_size)
		return PC_ERR_INVALID;
	memcpy(out, s + start, end - start);
	out[end - start] = '\0';
	return PC_OK;
}

int
pc_valid_client_id(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= PC_CLIENT_ID_MAX || s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return i > 0;
}
