/*
 * fuzz_valid.c: every pc_valid_* of common/valid.h on arbitrary bytes.
 *
 * Differential where the rule is exact: pc_valid_utf8 and its count against
 * the reference decoder of fuzz_util.h; usernames, passwords and client ids
 * against their one-line definitions. One-way where the rule has judgement
 * in it (what counts as white space): an accepted body or room name must be
 * valid UTF-8 of the right length without forbidden control characters, and
 * a room name must come out as a trimmed piece of its input.
 */
#include "fuzz_util.h"
#include "valid.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static int
ref_username(const char *s)
{
	size_t n = strlen(s), i;

	if (n < PC_USERNAME_MIN || n > PC_USERNAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
		           s[i]) == NULL)
			return 0;
	return 1;
}

static int
ref_client_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > PC_CLIENT_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
ref_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* ASCII and Latin-1 white space: every definition of "space" has these. */
static int
ref_surely_space(uint32_t cp)
{
	return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 ||
	       cp == 0xa0;
}

static void
check_body(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	size_t i = 0, n, count = 0;
	uint32_t cp;
	int visible = 0;
	enum pc_err e = pc_valid_body((const char *)data, size);

	FUZZ_CHECK(e == PC_OK || e == PC_ERR_BAD_BODY);
	if (!fuzz_utf8_ok(data, size, NULL)) {
		FUZZ_CHECK(e == PC_ERR_BAD_BODY);
		return;
	}
	while (i < size) {
		n = fuzz_utf8_decode(p + i, size - i, &cp);
		if (ref_control(cp) && cp != '\t' && cp != '\n')
			FUZZ_CHECK(e == PC_ERR_BAD_BODY);
		if (!ref_surely_space(cp))
			visible = 1;
		count++;
		i += n;
	}
	if (count == 0 || count > PC_BODY_MAX || !visible)
		FUZZ_CHECK(e == PC_ERR_BAD_BODY);
	/* A plain printable ASCII body of the right length is always good. */
	if (count >= 1 && count <= PC_BODY_MAX) {
		int plain = 1, letter = 0;

		for (i = 0; i < size; i++) {
			if (data[i] < 0x20 || data[i] > 0x7e)
				plain = 0;
			if (data[i] > 0x20 && data[i] <= 0x7e)
				letter = 1;
		}
		if (plain && letter)
			FUZZ_CHECK(e == PC_OK);
	}
}

static void
check_room_name(const char *s)
{
	/* Exactly the documented size, on the heap: ASan sees one byte over. */
	char *out = malloc(PC_ROOM_NAME_BYTES + 1);
	const char *at;
	size_t len, count = 0, i = 0, n, slen = strlen(s);
	uint32_t cp;
	enum pc_err e;

	FUZZ_CHECK(out != NULL);
	memset(out, 0x7f, PC_ROOM_NAME_BYTES + 1);
	e = pc_valid_room_name(s, out, PC_ROOM_NAME_BYTES + 1);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_INVALID);
	if (e != PC_OK) {
		/* out written only on success */
		for (i = 0; i < PC_ROOM_NAME_BYTES + 1; i++)
			FUZZ_CHECK(out[i] == 0x7f);
		free(out);
		return;
	}
	len = strlen(out);
	FUZZ_CHECK(len >= 1 && len <= PC_ROOM_NAME_BYTES);
	FUZZ_CHECK(fuzz_utf8_ok(s, slen, NULL));
	FUZZ_CHECK(fuzz_utf8_ok(out, len, &count));
	FUZZ_CHECK(count >= 1 && count <= PC_ROOM_NAME_MAX);
	while (i < len) {
		n = fuzz_utf8_decode((const unsigned char *)out + i, len - i,
		                     &cp);
		FUZZ_CHECK(!ref_control(cp));
		/* Trimmed: neither the first nor the last is white space. */
		if (i == 0 || i + n == len)
			FUZZ_CHECK(!ref_surely_space(cp));
		i += n;
	}
	/* A piece of the input: trimming only removes from the ends. */
	at = strstr(s, out);
	FUZZ_CHECK(at != NULL);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0, rcount = 0;
	int ok, rok;
	char *s;

	ok = pc_valid_utf8((const char *)data, size);
	rok = fuzz_utf8_ok(data, size, &rcount);
	if (ok != rok) {
		fprintf(stderr, "pc_valid_utf8 %d, reference %d\n", ok, rok);
		FUZZ_CHECK(!"pc_valid_utf8 disagrees with the reference");
	}
	if (ok) {
		count = pc_valid_utf8_count((const char *)data, size);
		FUZZ_CHECK(count == rcount);
	}
	check_body(data, size);

	s = fuzz_cstr(data, size);
	FUZZ_CHECK(!!pc_valid_username(s) == ref_username(s));
	FUZZ_CHECK(!!pc_valid_client_id(s) == ref_client_id(s));
	{
		size_t n = strlen(s);
		int want = n >= PC_PASSWORD_MIN && n <= PC_PASSWORD_MAX &&
		           fuzz_utf8_ok(s, n, NULL);

		FUZZ_CHECK(!!pc_valid_password(s) == want);
	}
	if (pc_valid_email(s)) {
		const char *at = strchr(s, '@');
		size_t i, n = strlen(s);

		FUZZ_CHECK(n >= 3 && n <= PC_EMAIL_MAX);
		FUZZ_CHECK(at != NULL && at != s &&
		           strchr(at + 1, '@') == NULL);
		FUZZ_CHECK(strchr(at, '.') != NULL);
		for (i = 0; i < n; i++)
			FUZZ_CHECK((unsigned char)s[i] >= 0x21 &&
			           (unsigned char)s[i] <= 0x7e);
	}
	check_room_name(s);
	free(s);
	return 0;
}
