/*
 * settings.c: the worker's settings table (settings.h). Rows shared with the
 * broker and the API come from conf.h's macros, so they are spelled once.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

static const struct pc_conf_row ws_settings_rows[] = {
        {"broker dir", "PIPECHAT_BROKER_DIR", PC_CONF_STR, 1, 80, NULL, 1,
         offsetof(struct ws_settings, broker_dir),
         "directory of the broker's ipc:// sockets"},
        PC_CONF_ROW_PORT(struct ws_settings, port),
        PC_CONF_ROW_ORIGINS(struct ws_settings, origins),
        PC_CONF_ROW_TRUSTED_PROXIES(struct ws_settings, trusted_proxies),
        PC_CONF_LIMIT_ROWS(struct ws_settings, limits),
        PC_CONF_ROW_LOG_LEVEL(struct ws_settings, log_level),
        {"sandbox", "PIPECHAT_SANDBOX", PC_CONF_STR, 1, 16, "on", 0,
         offsetof(struct ws_settings, sandbox),
         "on (seccomp allowlist; a syscall outside it kills the worker), or "
         "trap or log in builds with PIPECHAT_TEST_HOOKS (name it on "
         "stderr, or let the kernel log it)"},
        PC_CONF_ROWS_BROKERS(struct ws_settings),
        {"ws brokers", "PIPECHAT_WS_BROKERS", PC_CONF_STR, 1, 16384, NULL, 0,
         offsetof(struct ws_settings, ws_brokers),
         "PIPECHAT_BROKERS as this node's workers reach them, same order "
         "(e.g. ipc:// for the brokers on this machine)"},
};

#define WS_SETTINGS_N (sizeof(ws_settings_rows) / sizeof(ws_settings_rows[0]))

enum pc_err
ws_settings_load(struct ws_settings *s, char *errbuf, size_t errlen)
{
	enum pc_err e;

	/* All but the broker slots, which pc_shards_parse writes as far as
	 * it uses them: zeroing all 16 made their pages resident in every
	 * worker for its life (main.c keeps s in zeroed static storage). */
	memset(s, 0, offsetof(struct ws_settings, shards.s));
	if ((e = pc_conf_load(ws_settings_rows, WS_SETTINGS_N, s, errbuf,
	                      errlen)) != PC_OK)
		return e;
	if (s->origins == NULL &&
	    (s->origins = pc_conf_default_origins(s->port)) == NULL) {
		ws_settings_free(s);
		return PC_ERR_NOMEM;
	}
	if (pc_sandbox_mode_parse(s->sandbox, &s->sandbox_mode) != PC_OK) {
		enum pc_sandbox_mode m;
		const char *also = pc_sandbox_mode_parse("trap", &m) == PC_OK
		                           ? ", trap or log"
		                           : " (trap and log need a build with "
		                             "PIPECHAT_TEST_HOOKS)";

		snprintf(errbuf, errlen, "PIPECHAT_SANDBOX=%s: want on%s",
		         s->sandbox, also);
		ws_settings_free(s);
		return PC_ERR_INVALID;
	}
	if (pc_shards_parse(s->ws_brokers != NULL ? s->ws_brokers : s->brokers,
	                    s->broker_dir, s->allow_plain,
	                    &s->shards, errbuf, errlen) != PC_OK ||
	    (pc_shards_use_tls(&s->shards) &&
	     (s->tls_ca_file == NULL || s->tls_cert_file == NULL) &&
	     snprintf(errbuf, errlen,
	              "tls+tcp:// brokers need PIPECHAT_TLS_CA_FILE and "
	              "PIPECHAT_TLS_CERT_FILE") > 0)) {
		ws_settings_free(s);
		return PC_ERR_INVALID;
	}
	return PC_OK;
}

void
ws_settings_free(struct ws_settings *s)
{
	pc_conf_free(ws_settings_rows, WS_SETTINGS_N, s);
	/* A default origins string is ours, not the loader's. */
	free(s->origins);
	s->origins = NULL;
}

void
ws_settings_print(const struct ws_settings *s)
{
	pc_conf_print(ws_settings_rows, WS_SETTINGS_N, s);
}
