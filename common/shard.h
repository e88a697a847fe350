/*
 * shard.h: which broker owns what, when rooms are split across several
 * brokers (contract section 7; docs/scaling.md). The broker, the worker and
 * the API all read the same settings through this file, so they agree on
 * the map without talking to each other:
 *
 *   PIPECHAT_BROKERS  comma list of broker addresses; the position is the
 *                     shard. "ipc://DIR" (a broker on this machine whose
 *                     PIPECHAT_BROKER_DIR is DIR), "tls+tcp://HOST:PORT"
 *                     (another machine, client certificates required), or
 *                     "tcp://HOST:PORT" (plaintext: refused unless
 *                     PIPECHAT_ALLOW_PLAINTEXT_TCP=1, for a private network).
 *                     Unset: one broker at ipc://$PIPECHAT_BROKER_DIR, which
 *                     is pipechat on one machine exactly as before.
 *
 * A room belongs to shard room_id mod n and a user (online state, user
 * events) to shard user_id mod n. Why mod and not a hash ring: ids are
 * dense sequential integers, so mod spreads new rooms evenly with no table
 * to keep in sync, and every program computes it from the settings alone;
 * the price is that changing n moves most rooms (resharding is a planned
 * stop, docs/scaling.md).
 *
 * A tcp address serves two NNG sockets: workers on PORT, the API's
 * notifications on PORT + 1 (an ipc broker uses DIR/workers and DIR/api).
 *
 * Not here: the TLS configuration (shard_tls.h: it needs libnng, which a
 * worker for ipc:// brokers only does not link), dialling or listening
 * (each program's own link code).
 */
#ifndef PIPECHAT_SHARD_H
#define PIPECHAT_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PC_SHARD_MAX      16  /* brokers in PIPECHAT_BROKERS: the map is held by
                               * value in every worker (16 x 344 bytes), so
                               * it stays small; raise it with the docs */
#define PC_SHARD_HOST_MAX 255 /* a DNS name */
#define PC_SHARD_DIR_MAX  80  /* as PIPECHAT_BROKER_DIR: sun_path room */
#define PC_SHARD_URL_MAX  320 /* any URL pc_shard_url writes */

enum pc_shard_kind { PC_SHARD_IPC, PC_SHARD_TCP, PC_SHARD_TLS };
/* Which of a broker's two sockets. */
enum pc_shard_sock { PC_SHARD_WORKERS, PC_SHARD_API };

struct pc_shard {
	enum pc_shard_kind kind;
	char dir[PC_SHARD_DIR_MAX + 1];   /* IPC */
	char host[PC_SHARD_HOST_MAX + 1]; /* TCP, TLS (no brackets) */
	int port;                         /* TCP, TLS: the workers' port */
};

struct pc_shards {
	size_t n; /* 1..PC_SHARD_MAX */
	struct pc_shard s[PC_SHARD_MAX];
};

/*
 * Parses list (PIPECHAT_BROKERS; NULL or "" means one broker at
 * ipc://default_dir) into *out. A tcp:// item is refused unless allow_plain.
 * PC_OK (out->n and out->s[0 .. n) written; the slots past n are left as
 * they were), or PC_ERR_INVALID with the first problem in errbuf (one line,
 * no newline) and *out untouched.
 */
enum pc_err pc_shards_parse(const char *list, const char *default_dir,
                            int allow_plain, struct pc_shards *out,
                            char *errbuf, size_t errlen);
/* The shard owning room (room_id mod n; ids are positive). */
size_t pc_shard_of_room(const struct pc_shards *sh, int64_t room);
/* The shard owning user's online state and user events. */
size_t pc_shard_of_user(const struct pc_shards *sh, int64_t user);
/* Non-zero when any broker is reached over tcp (plain or TLS). */
int pc_shards_use_tcp(const struct pc_shards *sh);
/* Non-zero when any broker is reached over TLS. */
int pc_shards_use_tls(const struct pc_shards *sh);
/*
 * Writes the NNG URL of one of s's sockets into out: ipc://DIR/workers,
 * ipc://DIR/api, tls+tcp://HOST:PORT, tcp://HOST:PORT+1, ... PC_OK, or
 * PC_ERR_INVALID when it does not fit (or a Unix socket path would pass
 * 107 bytes).
 */
enum pc_err pc_shard_url(const struct pc_shard *s, enum pc_shard_sock which,
                         char *out, size_t len);
#endif
