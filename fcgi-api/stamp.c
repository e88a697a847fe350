/*
 * stamp.c: the change boards as the API maps them (stamp.h).
 */
#include <errno.h>
#include <string.h>

#include "board.h"
#include "log.h"
#include "stamp.h"

static struct pc_board *sp_board; /* NULL: boards are off */

enum pc_err
stamp_open(const struct pc_shards *sh)
{
	enum pc_err rc;

	stamp_close();
	if (sh->n == 0 || pc_shards_use_tcp(sh))
		return PC_OK; /* beyond one machine: every read asks */
	rc = pc_board_open(sh->s[0].dir, &sp_board);
	if (rc != PC_OK)
		pc_log_err("cannot map the change board %s/%s: %s",
		           sh->s[0].dir, PC_BOARD_FILE,
		           rc == PC_ERR_SYSTEM ? strerror(errno)
		                               : "not a board");
	return rc;
}

void
stamp_close(void)
{
	pc_board_close(sp_board);
	sp_board = NULL;
}

void
stamp_take(int64_t room, struct stamp *out)
{
	out->on = sp_board != NULL;
	out->global = out->on ? pc_board_global(sp_board) : 0;
	out->room = out->on ? pc_board_room(sp_board, room) : 0;
}

void
stamp_bump(void)
{
	if (sp_board != NULL)
		pc_board_bump_global(sp_board);
}
