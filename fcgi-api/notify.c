/*
 * notify.c: the broker channel (notify.h). For now every notification is
 * logged at debug level and dropped; the broker's author replaces these
 * bodies with an NNG PUSH to ipc://$PIPECHAT_BROKER_DIR/api carrying the
 * PC_WIRE_N_* messages of common/wire.h.
 */
#include <inttypes.h>
#include <stddef.h>

#include "log.h"
#include "notify.h"

enum pc_err
notify_open(const char *broker_dir)
{
	pc_log_debug("broker dir %s (notifications are not sent yet)",
	             broker_dir != NULL ? broker_dir : "(none)");
	return PC_OK;
}

void
notify_close(void)
{
}

void
notify_session_revoked(const char *sid)
{
	pc_log_debug("session %s", sid);
}

void
notify_user_revoked(int64_t user_id)
{
	pc_log_debug("user %" PRId64, user_id);
}

void
notify_member_joined(int64_t room_id, int64_t user_id)
{
	pc_log_debug("room %" PRId64 " user %" PRId64, room_id, user_id);
}

void
notify_member_left(int64_t room_id, int64_t user_id)
{
	pc_log_debug("room %" PRId64 " user %" PRId64, room_id, user_id);
}

void
notify_room_changed(int64_t room_id)
{
	pc_log_debug("room %" PRId64, room_id);
}

void
notify_room_event(int64_t room_id, const char *line)
{
	pc_log_debug("room %" PRId64 ": %s", room_id, line);
}

void
notify_user_event(int64_t user_id, const char *line)
{
	pc_log_debug("user %" PRId64 ": %s", user_id, line);
}
