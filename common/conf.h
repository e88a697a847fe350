/*
 * conf.h: settings tables.
 *
 * Each program declares one table of rows (name, environment variable, type,
 * bounds, default, required, where in the program's settings struct the value
 * goes) and loads it once at start. Values come from the environment, which
 * overrides a settings file named by PIPECHAT_CONF (KEY=VALUE lines, # comments).
 * Every error is reported together; after loading the struct is treated as
 * const. Rows shared by several programs are macros here so they are spelled
 * once (PC_CONF_ROW_ORIGINS, ...).
 */
#ifndef PIPECHAT_CONF_H
#define PIPECHAT_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "log.h"

/*
 * An empty value ("PIPECHAT_X=" in the environment or the file) counts as
 * unset, for every type: the default applies, or the row is missing when it is
 * required. So an exported but empty PIPECHAT_METRICS_TOKEN means "no token",
 * never "the empty token".
 */
enum pc_conf_type {
	PC_CONF_STR,  /* char * (malloc'd; NULL when unset and no default) */
	PC_CONF_INT,  /* int64_t within [min, max] */
	PC_CONF_BOOL, /* int: 0/1 from 0/1/true/false/yes/no/on/off */
	/* Like PC_CONF_STR (char *, min/max length), and every comma-separated
	 * item (trimmed of spaces) must be an IPv4 or IPv6 address; "" is the
	 * empty list. */
	PC_CONF_ADDR_LIST,
	/* Like PC_CONF_STR, and every item must be http:// or https:// then
	 * host[:port] with no path, as browsers send Origin. */
	PC_CONF_ORIGIN_LIST,
	/* enum pc_log_level, from err|warn|info|debug (case-insensitive). */
	PC_CONF_LOG_LEVEL,
};

struct pc_conf_row {
	const char *name;        /* short human name, e.g. "port" */
	const char *env;         /* PIPECHAT_PORT */
	enum pc_conf_type type;
	int64_t min, max;        /* PC_CONF_INT bounds; PC_CONF_STR: min and max
				  * length in bytes (max 0 = 4096) */
	const char *def;         /* default as text, or NULL */
	int required;            /* non-zero: unset and no default is an error */
	size_t offset;           /* offsetof(struct settings, field) */
	const char *help;        /* one line for -h and the docs */
};

/*
 * Fills `out` (a zeroed struct of the program's own type) from the table.
 * On error writes every problem, one per line, into errbuf and returns
 * PC_ERR_INVALID; fields already set are freed with pc_conf_free.
 */
enum pc_err pc_conf_load(const struct pc_conf_row *rows, size_t nrows, void *out,
    char *errbuf, size_t errlen);
/* Frees the strings pc_conf_load set. */
void pc_conf_free(const struct pc_conf_row *rows, size_t nrows, void *out);
/* Prints name, variable, value (secrets are never settings) for `-n`. */
void pc_conf_print(const struct pc_conf_row *rows, size_t nrows, const void *in);

/*
 * A list setting such as PIPECHAT_ORIGINS ("a,b,c") split into items.
 * pc_conf_list_has compares whole items, exactly (no prefix match).
 */
int pc_conf_list_has(const char *list, const char *item, size_t item_len);

/*
 * Shared rows: every program that needs one of these settings uses the macro,
 * so its name, bounds, default and help are written once. `type` is the
 * program's settings struct, `field` the member the value goes to.
 *
 * PIPECHAT_PORT             int64_t, 1-65535, default 8080: the public port.
 * PIPECHAT_ORIGINS          char *, comma list of scheme://host[:port]; NO
 *                           default in the table: when it is NULL after
 *                           loading, use pc_conf_default_origins(port).
 * PIPECHAT_TRUSTED_PROXIES  char *, comma list of IPv4/IPv6 addresses,
 *                           default "" (none); every item is checked.
 * PIPECHAT_LOG_LEVEL        enum pc_log_level, err|warn|info|debug, default
 *                           info.
 * PC_CONF_LIMIT_ROWS(type, field) gives six rows for a struct pc_limits
 * member (contract section 4):
 *   PIPECHAT_SEND_RATE 10, PIPECHAT_SEND_BURST 20, PIPECHAT_TYPING_RATE 2,
 *   PIPECHAT_CALL_RATE 20, PIPECHAT_MAX_ROOMS_PER_SOCKET 100,
 *   PIPECHAT_MAX_SOCKETS_PER_USER 20; each 1-1000000.
 */
struct pc_limits {
	int64_t send_rate;            /* messages per second per user */
	int64_t send_burst;           /* bucket size for sends */
	int64_t typing_rate;          /* typing frames per second per user */
	int64_t call_rate;            /* call frames per second per user */
	int64_t max_rooms_per_socket; /* joined rooms per socket */
	int64_t max_sockets_per_user; /* open sockets per user */
};

#define PC_CONF_LIMIT_MAX 1000000

#define PC_CONF_ROW_PORT(type, field)                                          \
	{ "port", "PIPECHAT_PORT", PC_CONF_INT, 1, 65535, "8080", 0,           \
	    offsetof(type, field), "public TCP port of the web server" }

#define PC_CONF_ROW_ORIGINS(type, field)                                       \
	{ "origins", "PIPECHAT_ORIGINS", PC_CONF_ORIGIN_LIST, 0, 4096, NULL,   \
	    0, offsetof(type, field),                                          \
	    "allowed Origin values, comma separated, compared whole "         \
	    "(default http://127.0.0.1:PORT,http://localhost:PORT)" }

#define PC_CONF_ROW_TRUSTED_PROXIES(type, field)                               \
	{ "trusted proxies", "PIPECHAT_TRUSTED_PROXIES", PC_CONF_ADDR_LIST, 0, \
	    4096, "", 0, offsetof(type, field),                                \
	    "proxy addresses whose X-Forwarded-For is believed, comma "       \
	    "separated" }

#define PC_CONF_ROW_LOG_LEVEL(type, field)                                     \
	{ "log level", "PIPECHAT_LOG_LEVEL", PC_CONF_LOG_LEVEL, 0, 0, "info",  \
	    0, offsetof(type, field), "err, warn, info or debug" }

/* The broker list and its TLS files, read the same way by the broker, the
 * worker and the API (common/shard.h parses the list); type must have the
 * fields brokers, tls_ca_file, tls_cert_file and allow_plain. */
#define PC_CONF_ROWS_BROKERS(type)                                             \
	{ "brokers", "PIPECHAT_BROKERS", PC_CONF_STR, 1, 16384, NULL, 0,       \
	    offsetof(type, brokers),                                           \
	    "every broker, comma separated, index = shard (ipc://DIR, "       \
	    "tls+tcp://HOST:PORT; docs/scaling.md); unset: one broker at "    \
	    "PIPECHAT_BROKER_DIR" },                                           \
	{ "tls ca file", "PIPECHAT_TLS_CA_FILE", PC_CONF_STR, 1, 4096, NULL,   \
	    0, offsetof(type, tls_ca_file),                                    \
	    "PEM: the private CA that signed every broker and client "        \
	    "(scripts/make-certs)" },                                          \
	{ "tls cert file", "PIPECHAT_TLS_CERT_FILE", PC_CONF_STR, 1, 4096,     \
	    NULL, 0, offsetof(type, tls_cert_file),                            \
	    "PEM: this program's certificate and key (broker.pem for a "      \
	    "broker, client.pem for workers and the API)" },                   \
	{ "allow plaintext tcp", "PIPECHAT_ALLOW_PLAINTEXT_TCP", PC_CONF_BOOL, \
	    0, 1, "0", 0, offsetof(type, allow_plain),                         \
	    "accept tcp:// brokers (a private network only)" }

#define PC_CONF_LIMIT_ROW_(type, field, member, env, def, help)                \
	{ #member, env, PC_CONF_INT, 1, PC_CONF_LIMIT_MAX, def, 0,             \
	    offsetof(type, field.member), help }

#define PC_CONF_LIMIT_ROWS(type, field)                                        \
	PC_CONF_LIMIT_ROW_(type, field, send_rate, "PIPECHAT_SEND_RATE", "10", \
	    "messages per second per user"),                                   \
	PC_CONF_LIMIT_ROW_(type, field, send_burst, "PIPECHAT_SEND_BURST",     \
	    "20", "burst of messages per user"),                               \
	PC_CONF_LIMIT_ROW_(type, field, typing_rate, "PIPECHAT_TYPING_RATE",   \
	    "2", "typing frames per second per user"),                         \
	PC_CONF_LIMIT_ROW_(type, field, call_rate, "PIPECHAT_CALL_RATE", "20", \
	    "call frames per second per user"),                                \
	PC_CONF_LIMIT_ROW_(type, field, max_rooms_per_socket,                  \
	    "PIPECHAT_MAX_ROOMS_PER_SOCKET", "100", "joined rooms per socket"), \
	PC_CONF_LIMIT_ROW_(type, field, max_sockets_per_user,                  \
	    "PIPECHAT_MAX_SOCKETS_PER_USER", "20", "open sockets per user")

/* "http://127.0.0.1:PORT,http://localhost:PORT", malloc'd (free()); NULL on
 * ENOMEM. */
char *pc_conf_default_origins(int64_t port);
/* err|warn|info|debug (case-insensitive) into *out: PC_OK or PC_ERR_INVALID
 * (*out untouched). NULL counts as "info". */
enum pc_err pc_conf_log_level(const char *s, enum pc_log_level *out);

#endif
