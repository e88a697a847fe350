/*
 * ice.c: STUN and TURN entries of GET /api/config (ice.h). HMAC-SHA1 comes
 * from OpenSSL's libcrypto (libsodium has no SHA-1, and coturn's REST-API
 * credentials are defined with it); base64 from libsodium.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "ice.h"
#include "log.h"
#include "token.h"

#define ICE_HOST_MAX 253 /* a DNS name */

/* Read-only once ice_open returns (before the request threads start). */
static struct {
	const struct api_settings *set;
	struct pc_secret secret; /* the TURN secret; len 0: no TURN */
} ice;

/* One URL scheme a list may hold. */
struct ice_scheme {
	const char *prefix;
	int turn;
};

static const struct ice_scheme ice_schemes[] = {
        {"stun:", 0},
        {"stuns:", 0},
        {"turn:", 1},
        {"turns:", 1},
};

/* The query TURN URLs may carry (RFC 7065). */
static const char *const ice_transports[] = {
        "?transport=udp",
        "?transport=tcp",
};

static int
ice_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

/* Length of the scheme prefix of s[0..len) when it belongs to the list
 * kind (turn), else 0. */
static size_t
ice_scheme_len(const char *s, size_t len, int turn)
{
	size_t i, n;

	for (i = 0; i < sizeof(ice_schemes) / sizeof(ice_schemes[0]); i++) {
		n = strlen(ice_schemes[i].prefix);
		if (ice_schemes[i].turn == turn && len >= n &&
		    memcmp(s, ice_schemes[i].prefix, n) == 0)
			return n;
	}
	return 0;
}

/* Length of the host at s[0..len): a name or IPv4 address, or [IPv6];
 * 0 when there is none. */
static size_t
ice_host_len(const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *end;
	size_t n;

	if (len > 0 && s[0] == '[') {
		end = memchr(s, ']', len);
		if (end == NULL)
			return 0;
		n = (size_t)(end - s) - 1;
		if (n == 0 || n >= sizeof(addr))
			return 0;
		memcpy(addr, s + 1, n);
		addr[n] = '\0';
		return inet_pton(AF_INET6, addr, bin) == 1 ? n + 2 : 0;
	}
	for (n = 0; n < len && ice_host_char(s[n]); n++)
		;
	if (n == 0 || n > ICE_HOST_MAX || s[0] == '-' || s[0] == '.')
		return 0;
	return n;
}

/* Length of ":port" at s[0..len) (0 when absent); -1 when malformed. */
static long
ice_port_len(const char *s, size_t len)
{
	long port = 0;
	size_t n;

	if (len == 0 || s[0] != ':')
		return 0;
	for (n = 1; n < len && s[n] >= '0' && s[n] <= '9'; n++) {
		if (n > 5)
			return -1;
		port = port * 10 + (s[n] - '0');
	}
	if (n == 1 || s[1] == '0' || port > 65535)
		return -1;
	return (long)n;
}

/* Non-zero when s[0..len) is one URL of the list kind (turn). */
static int
ice_url_ok(const char *s, size_t len, int turn)
{
	size_t n, i, t;
	long p;

	n = ice_scheme_len(s, len, turn);
	if (n == 0)
		return 0;
	s += n;
	len -= n;
	n = ice_host_len(s, len);
	if (n == 0)
		return 0;
	s += n;
	len -= n;
	p = ice_port_len(s, len);
	if (p < 0)
		return 0;
	s += p;
	len -= (size_t)p;
	if (len == 0)
		return 1;
	for (i = 0;
	     turn && i < sizeof(ice_transports) / sizeof(ice_transports[0]);
	     i++) {
		t = strlen(ice_transports[i]);
		if (len == t && memcmp(s, ice_transports[i], t) == 0)
			return 1;
	}
	return 0;
}

/* The item [*s, end) trimmed of spaces: start in *s, length returned. */
static size_t
ice_trim(const char **s, const char *end)
{
	while (*s < end && **s == ' ')
		(*s)++;
	while (end > *s && end[-1] == ' ')
		end--;
	return (size_t)(end - *s);
}

int
ice_urls_ok(const char *list, int turn)
{
	const char *p, *comma, *item;
	size_t n;

	if (list == NULL)
		return 1;
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		item = p;
		n = ice_trim(&item, comma);
		if (n == 0 || !ice_url_ok(item, n, turn))
			return 0;
		if (*comma == '\0')
			return 1;
	}
}

enum pc_err
ice_credential(const unsigned char *key, size_t keylen, const char *username,
               char *out, size_t out_size)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	enum pc_err rc = PC_ERR_INTERNAL;

	if (key == NULL || keylen == 0 || keylen > INT32_MAX ||
	    username == NULL || out_size < ICE_CREDENTIAL_LEN)
		return PC_ERR_INVALID;
	if (HMAC(EVP_sha1(), key, (int)keylen, (const unsigned char *)username,
	         strlen(username), mac, &maclen) == NULL ||
	    maclen != ICE_HMAC_LEN) {
		pc_log_err("ice_credential: HMAC-SHA1 failed");
		goto out;
	}
	sodium_bin2base64(out, out_size, mac, maclen,
	                  sodium_base64_VARIANT_ORIGINAL);
	rc = PC_OK;
out:
	sodium_memzero(mac, sizeof(mac));
	return rc;
}

enum pc_err
ice_open(const struct api_settings *set)
{
	struct pc_secret s;
	enum pc_err rc;
	int saved;

	ice_close();
	ice.set = set;
	if (set->turn_urls == NULL)
		return PC_OK;
	memset(&s, 0, sizeof(s));
	rc = pc_secret_load(set->turn_secret_file, 0, &s);
	if (rc != PC_OK)
		return rc;
	/* coturn takes static-auth-secret as the text of one line. */
	while (s.len > 0 &&
	       (s.key[s.len - 1] == '\n' || s.key[s.len - 1] == '\r' ||
	        s.key[s.len - 1] == ' ' || s.key[s.len - 1] == '\t'))
		s.key[--s.len] = 0;
	if (s.len < PC_SECRET_MIN) {
		saved = EINVAL;
		pc_secret_wipe(&s);
		errno = saved;
		return PC_ERR_INVALID;
	}
	ice.secret = s;
	pc_secret_wipe(&s);
	return PC_OK;
}

void
ice_close(void)
{
	pc_secret_wipe(&ice.secret);
	sodium_memzero(&ice.secret, sizeof(ice.secret));
	ice.set = NULL;
}

int
ice_has_turn(void)
{
	return ice.set != NULL && ice.set->turn_urls != NULL &&
	       ice.secret.len > 0;
}

/* Adds "urls": [each trimmed item of list] to entry. */
static enum pc_err
ice_add_urls(cJSON *entry, const char *list)
{
	char url[4096 + 1];
	const char *p, *comma, *item;
	cJSON *urls, *s;
	size_t n;

	urls = cJSON_AddArrayToObject(entry, "urls");
	if (urls == NULL)
		return PC_ERR_NOMEM;
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		item = p;
		n = ice_trim(&item, comma);
		if (n >= sizeof(url))
			return PC_ERR_INTERNAL; /* settings bound it */
		memcpy(url, item, n);
		url[n] = '\0';
		s = cJSON_CreateString(url);
		if (s == NULL || !cJSON_AddItemToArray(urls, s)) {
			cJSON_Delete(s);
			return PC_ERR_NOMEM;
		}
		if (*comma == '\0')
			return PC_OK;
	}
}

/* Adds an entry {"urls": list} to arr; *out is the entry. */
static enum pc_err
ice_add_entry(cJSON *arr, const char *list, cJSON **out)
{
	cJSON *entry = cJSON_CreateObject();

	if (entry == NULL || !cJSON_AddItemToArray(arr, entry)) {
		cJSON_Delete(entry);
		return PC_ERR_NOMEM;
	}
	*out = entry;
	return ice_add_urls(entry, list);
}

enum pc_err
ice_servers_add(cJSON *arr, int64_t user_id, time_t now)
{
	char username[ICE_USERNAME_LEN], cred[ICE_CREDENTIAL_LEN];
	cJSON *entry = NULL;
	enum pc_err rc = PC_OK;

	if (ice.set == NULL)
		return PC_OK;
	if (ice.set->stun_urls != NULL) {
		rc = ice_add_entry(arr, ice.set->stun_urls, &entry);
		if (rc != PC_OK)
			return rc;
	}
	if (user_id <= 0 || !ice_has_turn())
		return PC_OK;
	snprintf(username, sizeof(username), "%" PRId64 ":%" PRId64,
	         (int64_t)now + ice.set->turn_ttl, user_id);
	rc = ice_credential(ice.secret.key, ice.secret.len, username, cred,
	                    sizeof(cred));
	if (rc != PC_OK)
		return rc;
	rc = ice_add_entry(arr, ice.set->turn_urls, &entry);
	if (rc == PC_OK &&
	    (cJSON_AddStringToObject(entry, "username", username) == NULL ||
	     cJSON_AddStringToObject(entry, "credential", cred) == NULL))
		rc = PC_ERR_NOMEM;
	sodium_memzero(cred, sizeof(cred));
	return rc;
}
