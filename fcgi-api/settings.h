/*
 * settings.h: pipechat-api's settings, read once at start from the
 * environment (and PIPECHAT_CONF) through common/conf.h's table loader.
 *
 * After settings_load the struct is treated as const and shared by every
 * thread. It holds no signing secret: the JWT secret is read from the file
 * named by secret_file, the TURN secret from turn_secret_file (ice.h). The
 * metrics token comes from the environment as the contract names it; -n prints
 * it as "(set)" only. It is not the place for per-request state.
 */
#ifndef PIPECHAT_API_SETTINGS_H
#define PIPECHAT_API_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "shard.h"

struct api_settings {
	char *db;                    /* PIPECHAT_DB: libpq conninfo */
	char *secret_file;           /* PIPECHAT_SECRET_FILE */
	char *broker_dir;            /* PIPECHAT_BROKER_DIR (NULL: no broker) */
	int64_t port;                /* PIPECHAT_PORT: the public port */
	char *origins;               /* PIPECHAT_ORIGINS, or made from port */
	char *trusted_proxies;       /* PIPECHAT_TRUSTED_PROXIES ("": none) */
	char *metrics_token;         /* PIPECHAT_METRICS_TOKEN (NULL: none) */
	int64_t token_ttl;           /* PIPECHAT_TOKEN_TTL, seconds */
	struct pc_limits limits;     /* contract section 4, shown by config */
	enum pc_log_level log_level; /* PIPECHAT_LOG_LEVEL */
	int64_t threads;             /* PIPECHAT_API_THREADS */
	int64_t hash_concurrency;    /* PIPECHAT_HASH_CONCURRENCY */
	char *stun_urls;             /* PIPECHAT_STUN_URLS (NULL: none) */
	char *turn_urls;             /* PIPECHAT_TURN_URLS (NULL: none) */
	char *turn_secret_file;      /* PIPECHAT_TURN_SECRET_FILE */
	int64_t turn_ttl;            /* PIPECHAT_TURN_TTL, seconds */
	int64_t room_create_rate;    /* PIPECHAT_ROOM_CREATE_RATE, per hour */
	int64_t invite_rate;         /* PIPECHAT_INVITE_RATE, per hour */
	/* Sharding (common/shard.h): where notify.c sends what. */
	char *brokers;           /* PIPECHAT_BROKERS (NULL: broker_dir only) */
	char *tls_ca_file;       /* PIPECHAT_TLS_CA_FILE */
	char *tls_cert_file;     /* PIPECHAT_TLS_CERT_FILE: client cert + key */
	int allow_plain;         /* PIPECHAT_ALLOW_PLAINTEXT_TCP */
	struct pc_shards shards; /* parsed; n = 0 when there is no broker */
};

/*
 * Fills a zeroed *out from the environment. On error writes every problem,
 * one per line, into errbuf and returns PC_ERR_INVALID (out left zeroed);
 * PC_ERR_NOMEM. The default origin list is made from the port when
 * PIPECHAT_ORIGINS is unset. The STUN and TURN URL lists are checked
 * (ice_urls_ok), and TURN URLs need PIPECHAT_TURN_SECRET_FILE; the file
 * itself is read later, by ice_open. PIPECHAT_BROKERS (or the one broker of
 * PIPECHAT_BROKER_DIR) is parsed into shards; tls+tcp:// brokers need both
 * TLS files.
 */
enum pc_err settings_load(struct api_settings *out, char *errbuf,
                          size_t errlen);
/* Prints every setting (for -n). */
void settings_print(const struct api_settings *s);
/* Frees what settings_load set; s may be zeroed. */
void settings_free(struct api_settings *s);

#endif
