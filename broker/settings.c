/*
 * settings.c: the broker's settings table (settings.h). Data only: the
 * loader, bounds checks and error reporting are common/conf.c's.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

static const struct pc_conf_row settings_rows[] = {
        {"database", "PIPECHAT_DB", PC_CONF_STR, 1, 4096, NULL, 1,
         offsetof(struct settings, db), "libpq conninfo string"},
        {"secret file", "PIPECHAT_SECRET_FILE", PC_CONF_STR, 1, 4096, NULL, 1,
         offsetof(struct settings, secret_file),
         "the JWT secret (created 0600 on first start)"},
        {"broker dir", "PIPECHAT_BROKER_DIR", PC_CONF_STR, 1, 80, NULL, 1,
         offsetof(struct settings, broker_dir),
         "directory (0700) of the broker's ipc:// sockets"},
        PC_CONF_LIMIT_ROWS(struct settings, limits),
        {"batch max", "PIPECHAT_BATCH_MAX", PC_CONF_INT, 1, 100000, "1000", 0,
         offsetof(struct settings, batch_max),
         "most sends committed in one transaction"},
        {"pipe queue max", "PIPECHAT_PIPE_QUEUE_MAX", PC_CONF_INT, 65536,
         1073741824, "8388608", 0, offsetof(struct settings, pipe_queue_max),
         "bytes queued for one worker before it is disconnected"},
        {"call ring seconds", "PIPECHAT_CALL_RING_SECONDS", PC_CONF_INT, 5,
         600, "30", 0, offsetof(struct settings, call_ring_s),
         "an unanswered call ends as missed after this"},
        PC_CONF_ROW_LOG_LEVEL(struct settings, log_level),
        PC_CONF_ROWS_BROKERS(struct settings),
        {"broker shard", "PIPECHAT_BROKER_SHARD", PC_CONF_INT, 0,
         PC_SHARD_MAX - 1, "0", 0, offsetof(struct settings, shard),
         "this broker's position in PIPECHAT_BROKERS"},
};

#define SETTINGS_NROWS (sizeof(settings_rows) / sizeof(settings_rows[0]))

/* The sharding rows, checked together (settings.h). */
static enum pc_err
settings_shards(struct settings *s, char *errbuf, size_t errlen)
{
	const struct pc_shard *me;
	enum pc_err rc;

	rc = pc_shards_parse(s->brokers, s->broker_dir, s->allow_plain,
	                     &s->shards, errbuf, errlen);
	if (rc != PC_OK)
		return rc;
	if ((size_t)s->shard >= s->shards.n) {
		snprintf(errbuf, errlen,
		         "PIPECHAT_BROKER_SHARD=%" PRId64
		         ": PIPECHAT_BROKERS lists %zu broker(s)\n",
		         s->shard, s->shards.n);
		return PC_ERR_INVALID;
	}
	me = &s->shards.s[s->shard];
	if (me->kind == PC_SHARD_IPC && strcmp(me->dir, s->broker_dir) != 0) {
		snprintf(errbuf, errlen,
		         "PIPECHAT_BROKERS item %" PRId64
		         " is ipc://%s, but this broker's PIPECHAT_BROKER_DIR "
		         "is %s\n",
		         s->shard, me->dir, s->broker_dir);
		return PC_ERR_INVALID;
	}
	if (pc_shards_use_tls(&s->shards) &&
	    (s->tls_ca_file == NULL || s->tls_cert_file == NULL)) {
		snprintf(errbuf, errlen,
		         "tls+tcp:// brokers need PIPECHAT_TLS_CA_FILE and "
		         "PIPECHAT_TLS_CERT_FILE (scripts/make-certs)\n");
		return PC_ERR_INVALID;
	}
	return PC_OK;
}

enum pc_err
settings_load(struct settings *out, char *errbuf, size_t errlen)
{
	struct settings s;
	enum pc_err rc;

	memset(&s, 0, sizeof(s));
	rc = pc_conf_load(settings_rows, SETTINGS_NROWS, &s, errbuf, errlen);
	if (rc != PC_OK)
		return rc;
	if ((rc = settings_shards(&s, errbuf, errlen)) != PC_OK) {
		pc_conf_free(settings_rows, SETTINGS_NROWS, &s);
		return rc;
	}
	*out = s;
	return PC_OK;
}

void
settings_print(const struct settings *s)
{
	pc_conf_print(settings_rows, SETTINGS_NROWS, s);
}

void
settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	pc_conf_free(settings_rows, SETTINGS_NROWS, s);
	memset(s, 0, sizeof(*s));
}
