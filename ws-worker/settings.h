/*
 * settings.h: the worker's settings table (common/conf.h), read once from the
 * environment websocketd passes on (--passenv) before anything else happens.
 * The worker needs no database and no secret: only where the broker is, which
 * origins may open a socket, the per-socket room limit, and the sandbox
 * mode (sandbox.h).
 */
#ifndef PIPECHAT_WS_SETTINGS_H
#define PIPECHAT_WS_SETTINGS_H

#include <stdint.h>
#include "conf.h"
#include "err.h"
#include "log.h"
#include "sandbox.h"
#include "shard.h"

struct ws_settings {
	char *broker_dir;      /* PIPECHAT_BROKER_DIR, required */
	int64_t port;          /* PIPECHAT_PORT: default origins */
	char *origins;         /* PIPECHAT_ORIGINS, or the default from port */
	char *trusted_proxies; /* PIPECHAT_TRUSTED_PROXIES (client address in
	                          logs) */
	struct pc_limits limits; /* max_rooms_per_socket is enforced here */
	enum pc_log_level log_level;
	char *sandbox; /* PIPECHAT_SANDBOX: on, or trap/log (test builds) */
	enum pc_sandbox_mode sandbox_mode; /* parsed from sandbox */
	/* Sharding (common/shard.h, links.h): every broker, index = shard. */
	char *brokers;       /* PIPECHAT_BROKERS (NULL: broker_dir only) */
	char *ws_brokers;    /* PIPECHAT_WS_BROKERS: the same brokers as this
	                        node's workers reach them (default brokers) */
	char *tls_ca_file;   /* PIPECHAT_TLS_CA_FILE */
	char *tls_cert_file; /* PIPECHAT_TLS_CERT_FILE: client cert + key */
	int allow_plain;     /* PIPECHAT_ALLOW_PLAINTEXT_TCP */
	struct pc_shards shards; /* parsed from brokers (or broker_dir) */
};

/*
 * Loads s (zeroed first, but for the broker slots past those in use:
 * shards.s[shards.n ..] are left as they were). On error every problem is
 * in errbuf, one per line,
 * and PC_ERR_INVALID is returned with nothing left to free.
 */
enum pc_err ws_settings_load(struct ws_settings *s, char *errbuf,
                             size_t errlen);
/* Frees what ws_settings_load set; s may be zeroed. */
void ws_settings_free(struct ws_settings *s);
/* Prints every setting (for -n). */
void ws_settings_print(const struct ws_settings *s);

#endif
