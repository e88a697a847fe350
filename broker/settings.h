/*
 * settings.h: pipechat-broker's settings, read once at start from the
 * environment (and PIPECHAT_CONF) through common/conf.h's table loader.
 *
 * After settings_load the struct is treated as const. It holds no secret:
 * the JWT secret is read from the file named by secret_file. Not the place
 * for run-time state.
 */
#ifndef PIPECHAT_BROKER_SETTINGS_H
#define PIPECHAT_BROKER_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "shard.h"

struct settings {
	char *db;          /* PIPECHAT_DB: libpq conninfo */
	char *secret_file; /* PIPECHAT_SECRET_FILE */
	char *broker_dir;  /* PIPECHAT_BROKER_DIR: holds the ipc sockets */
	struct pc_limits limits; /* the shared limit rows */
	int64_t batch_max;       /* PIPECHAT_BATCH_MAX: sends per transaction */
	int64_t pipe_queue_max;  /* PIPECHAT_PIPE_QUEUE_MAX: bytes queued per
	                            worker */
	int64_t call_ring_s;     /* PIPECHAT_CALL_RING_SECONDS: a call not
	                            answered by then is missed */
	enum pc_log_level log_level; /* PIPECHAT_LOG_LEVEL */
	/* Sharding (shard.h, docs/scaling.md). Unset: one broker, shard 0. */
	char *brokers;       /* PIPECHAT_BROKERS: every broker, index = shard */
	int64_t shard;       /* PIPECHAT_BROKER_SHARD: this broker's index */
	char *tls_ca_file;   /* PIPECHAT_TLS_CA_FILE: the private CA */
	char *tls_cert_file; /* PIPECHAT_TLS_CERT_FILE: our cert + key (PEM) */
	int allow_plain;     /* PIPECHAT_ALLOW_PLAINTEXT_TCP */
	struct pc_shards shards; /* parsed from brokers by settings_load */
};

/*
 * Fills a zeroed *out from the environment. On error writes every problem,
 * one per line, into errbuf and returns PC_ERR_INVALID (out left zeroed).
 * Also checks the sharding rows together: the broker list parses, the
 * shard is one of its positions, an ipc:// entry for this shard is
 * PIPECHAT_BROKER_DIR itself, and a tls+tcp:// one has both TLS files.
 */
enum pc_err settings_load(struct settings *out, char *errbuf, size_t errlen);
/* Prints every setting, for -n. */
void settings_print(const struct settings *s);
/* Frees what settings_load set; s may be zeroed. */
void settings_free(struct settings *s);

#endif
