/*
 * board.h: the change board, counters in a small shared file that let an
 * API thread answer a read it has just checked without asking PostgreSQL
 * again (fcgi-api/stamp.h says when; fcgi-api/README.md, "Round 4", why).
 *
 * A board is the file DIR/board in a broker's directory (PIPECHAT_BROKER_DIR,
 * mode 0700), mapped shared by every process that opens it: one `global`
 * counter and PC_BOARD_ROOMS room counters (room id mod PC_BOARD_ROOMS: two
 * rooms may share one, which only costs a needless recheck). A writer moves
 * a counter AFTER its change committed and BEFORE anyone can learn of the
 * change (its answer, its ack, its fan-out, its notification); a reader
 * reads the counters BEFORE the statement that checks what it answers, and
 * may answer the same again while they have not moved. Counters only grow
 * (64 bits do not wrap), and the file is never truncated or recreated while
 * pipechat runs, so equal values mean nothing was written in between.
 *
 * Who writes what: every broker moves the counters of the rooms whose
 * messages it committed (broker/store.c); every API process moves `global`
 * for every unsafe request its handler served and before every
 * notification it sends to a broker (fcgi-api/stamp.h). Only pipechat on
 * one machine uses boards (all brokers at ipc:// addresses); otherwise
 * nothing is mapped and every read asks PostgreSQL, as before.
 *
 * Cross-process atomics: the counters are naturally aligned 64-bit words,
 * read and written with the sequentially consistent __atomic builtins
 * (lock-free on every 64-bit target Debian builds for).
 */
#ifndef PIPECHAT_BOARD_H
#define PIPECHAT_BOARD_H

#include <stdint.h>

#include "err.h"

#define PC_BOARD_ROOMS 4096
#define PC_BOARD_FILE  "board"

struct pc_board;

/*
 * Maps DIR/board, creating it (mode 0600, zero counters) when it does not
 * exist. PC_OK and *out; PC_ERR_SYSTEM (errno kept) when the file cannot be
 * opened, sized or mapped; PC_ERR_INVALID when it is not a board (wrong
 * size or mark) or the path does not fit.
 */
enum pc_err pc_board_open(const char *dir, struct pc_board **out);
/* Unmaps it (NULL allowed). */
void pc_board_close(struct pc_board *b);

uint64_t pc_board_global(const struct pc_board *b);
void pc_board_bump_global(struct pc_board *b);
uint64_t pc_board_room(const struct pc_board *b, int64_t room);
void pc_board_bump_room(struct pc_board *b, int64_t room);

#endif
