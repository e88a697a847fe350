/*
 * settings.c: pipechat-api's settings table (one row per setting, see
 * common/conf.h) and the few values derived from it (the default origin
 * list, the log level). Not for anything read per request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ice.h"
#include "settings.h"

#define ROW_STR(n, e, d, req, f, h)                                            \
	{                                                                      \
		n, e, PC_CONF_STR, 0, 0, d, req,                               \
		        offsetof(struct api_settings, f), h                    \
	}
#define ROW_INT(n, e, lo, hi, d, f, h)                                         \
	{                                                                      \
		n, e, PC_CONF_INT, lo, hi, d, 0,                               \
		        offsetof(struct api_settings, f), h                    \
	}

static const struct pc_conf_row settings_rows[] = {
        ROW_STR("db", "PIPECHAT_DB", NULL, 1, db,
                "libpq conninfo of the pipechat database"),
        ROW_STR("secret_file", "PIPECHAT_SECRET_FILE", NULL, 1, secret_file,
                "JWT secret file (created 0600 on first start)"),
        ROW_STR("broker_dir", "PIPECHAT_BROKER_DIR", NULL, 0, broker_dir,
                "directory of the broker's ipc:// sockets"),
        PC_CONF_ROW_PORT(struct api_settings, port),
        PC_CONF_ROW_ORIGINS(struct api_settings, origins),
        PC_CONF_ROW_TRUSTED_PROXIES(struct api_settings, trusted_proxies),
        ROW_STR("metrics token", "PIPECHAT_METRICS_TOKEN", NULL, 0,
                metrics_token,
                "bearer token for GET /api/metrics (unset: loopback "
                "peers only, when no proxy is trusted)"),
        ROW_INT("token_ttl", "PIPECHAT_TOKEN_TTL", 60, 31536000, "86400",
                token_ttl, "session and token life, seconds"),
        PC_CONF_LIMIT_ROWS(struct api_settings, limits),
        PC_CONF_ROW_LOG_LEVEL(struct api_settings, log_level),
        ROW_INT("threads", "PIPECHAT_API_THREADS", 1, 256, "4", threads,
                "request threads (one database connection each)"),
        ROW_INT("hash_concurrency", "PIPECHAT_HASH_CONCURRENCY", 1, 64, "2",
                hash_concurrency, "password hashes computed at once"),
        ROW_STR("stun urls", "PIPECHAT_STUN_URLS", NULL, 0, stun_urls,
                "STUN servers for calls, comma separated stun:/stuns: "
                "URLs (default none)"),
        ROW_STR("turn urls", "PIPECHAT_TURN_URLS", NULL, 0, turn_urls,
                "TURN servers for calls, comma separated turn:/turns: "
                "URLs (default none; signed-in users only)"),
        ROW_STR("turn secret file", "PIPECHAT_TURN_SECRET_FILE", NULL, 0,
                turn_secret_file,
                "file (mode 0600) holding coturn's static-auth-secret; "
                "required with TURN URLs"),
        ROW_INT("turn ttl", "PIPECHAT_TURN_TTL", 60, 86400, "3600", turn_ttl,
                "life of a TURN credential, seconds"),
        ROW_INT("room create rate", "PIPECHAT_ROOM_CREATE_RATE", 1, 100000,
                "200", room_create_rate,
                "rooms one user may create per hour (direct rooms "
                "included when POST /api/dm makes one)"),
        ROW_INT("invite rate", "PIPECHAT_INVITE_RATE", 1, 100000, "200",
                invite_rate, "invitations one user may send per hour"),
        PC_CONF_ROWS_BROKERS(struct api_settings),
};

#define SETTINGS_NROWS (sizeof(settings_rows) / sizeof(settings_rows[0]))

/* Appends one problem line to errbuf (cut when full). */
static void __attribute__((format(printf, 3, 4)))
settings_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	used = strnlen(errbuf, errlen - 1);
	if (used > 0 && used + 1 < errlen)
		errbuf[used++] = '\n';
	errbuf[used] = '\0';
	va_start(ap, fmt);
	vsnprintf(errbuf + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* The checks that span rows or go beyond a row's type: the ICE server
 * lists (ice.h). Non-zero when something is wrong (written to errbuf). */
static int
settings_check_ice(const struct api_settings *s, char *errbuf, size_t errlen)
{
	int bad = 0;

	if (!ice_urls_ok(s->stun_urls, 0)) {
		settings_err(
		        errbuf, errlen,
		        "PIPECHAT_STUN_URLS (stun urls): every item must be "
		        "stun:host[:port] or stuns:host[:port]: \"%.200s\"",
		        s->stun_urls);
		bad = 1;
	}
	if (!ice_urls_ok(s->turn_urls, 1)) {
		settings_err(
		        errbuf, errlen,
		        "PIPECHAT_TURN_URLS (turn urls): every item must be "
		        "turn: or turns: host[:port][?transport=udp|tcp]: "
		        "\"%.200s\"",
		        s->turn_urls);
		bad = 1;
	}
	if (s->turn_urls != NULL && s->turn_secret_file == NULL) {
		settings_err(errbuf, errlen,
		             "PIPECHAT_TURN_SECRET_FILE (turn secret file): "
		             "required when PIPECHAT_TURN_URLS is set");
		bad = 1;
	}
	return bad;
}

/* The broker list (shard.h): none when neither PIPECHAT_BROKERS nor
 * PIPECHAT_BROKER_DIR is set. Non-zero when something is wrong. */
static int
settings_check_shards(struct api_settings *s, char *errbuf, size_t errlen)
{
	char why[256];

	if (s->brokers == NULL && s->broker_dir == NULL)
		return 0; /* no broker: notifications are off */
	if (pc_shards_parse(s->brokers, s->broker_dir, s->allow_plain,
	                    &s->shards, why, sizeof(why)) != PC_OK) {
		settings_err(errbuf, errlen, "%s", why);
		return 1;
	}
	if (pc_shards_use_tls(&s->shards) &&
	    (s->tls_ca_file == NULL || s->tls_cert_file == NULL)) {
		settings_err(errbuf, errlen,
		             "tls+tcp:// brokers need PIPECHAT_TLS_CA_FILE and "
		             "PIPECHAT_TLS_CERT_FILE (scripts/make-certs)");
		return 1;
	}
	return 0;
}

enum pc_err
settings_load(struct api_settings *out, char *errbuf, size_t errlen)
{
	struct api_settings s;
	enum pc_err rc;

	memset(&s, 0, sizeof(s));
	rc = pc_conf_load(settings_rows, SETTINGS_NROWS, &s, errbuf, errlen);
	if (rc != PC_OK)
		return rc;
	if (settings_check_ice(&s, errbuf, errlen) |
	    settings_check_shards(&s, errbuf, errlen)) {
		settings_free(&s);
		return PC_ERR_INVALID;
	}
	if (s.origins == NULL) {
		s.origins = pc_conf_default_origins(s.port);
		if (s.origins == NULL) {
			settings_free(&s);
			return PC_ERR_NOMEM;
		}
	}
	*out = s;
	return PC_OK;
}

void
settings_print(const struct api_settings *s)
{
	pc_conf_print(settings_rows, SETTINGS_NROWS, s);
}

void
settings_free(struct api_settings *s)
{
	if (s == NULL)
		return;
	pc_conf_free(settings_rows, SETTINGS_NROWS, s);
	/*
	 * origins may have been made here rather than by pc_conf_load;
	 * pc_conf_free frees every STR field, which includes it, and is
	 * expected to leave the fields NULL or the struct untouched. Clear
	 * the struct so a second call is harmless.
	 */
	memset(s, 0, sizeof(*s));
}
