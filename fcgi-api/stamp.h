/*
 * stamp.h: the API's side of the change boards (common/board.h): moving
 * them when it changes something, reading them when it may answer a read
 * it has already checked (histcache.h, "vouched" copies).
 *
 * On when every broker is at an ipc:// address (pipechat on one machine:
 * every API process and broker that writes shares these files); off
 * otherwise, and without brokers, and then stamp_take says so (on = 0)
 * and no copy is ever vouched, so every read asks PostgreSQL.
 *
 * One board for the machine, in the first broker's folder (shard 0 of
 * PIPECHAT_BROKERS, or PIPECHAT_BROKER_DIR), whichever broker commits a
 * room's messages. The API moves `global`:
 *   - after every request with an unsafe method whose handler ran
 *     (serve.c), before its answer leaves: login, logout, kick, leave,
 *     edit, account deletion…;
 *   - before every notification to a broker (notify.c), so no socket hears
 *     of a change before the board shows it.
 * Mapped once at start (the boards are never replaced while pipechat runs:
 * scripts/run and the systemd units keep the brokers' folders); state in
 * this file's static data, read-only after stamp_open.
 */
#ifndef PIPECHAT_API_STAMP_H
#define PIPECHAT_API_STAMP_H

#include <stdint.h>

#include "err.h"
#include "shard.h"

/* The counters a check was made under. */
struct stamp {
	uint64_t global;
	uint64_t room;
	int on; /* 0: boards are off, nothing can be vouched */
};

/*
 * Maps the board when every broker in sh is at an ipc:// address (creating
 * the file as a broker would). PC_OK, also when boards stay off (n = 0 or
 * a tcp broker); PC_ERR_SYSTEM or PC_ERR_INVALID when it cannot be mapped,
 * logged with its path: then the API must not start, or it would write
 * without moving the board other processes rely on.
 */
enum pc_err stamp_open(const struct pc_shards *sh);
void stamp_close(void);
/* Reads `global` and room's counter into *out (on = 0 when off). */
void stamp_take(int64_t room, struct stamp *out);
/* Moves `global` (nothing when off). */
void stamp_bump(void);

#endif
