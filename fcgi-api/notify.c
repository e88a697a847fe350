/*
 * notify.c: the API's one-way channel to the broker (notify.h): an NNG PUSH
 * socket dialling ipc://$PIPECHAT_BROKER_DIR/api, carrying the PC_WIRE_N_*
 * messages of common/wire.h.
 *
 * The dial never blocks (NNG_FLAG_NONBLOCK: a broker that is not up yet is
 * redialled in the background) and neither does a send: a notification that
 * cannot be queued is logged and dropped, because the database stays the
 * record and an HTTP answer never waits for the broker. A short queue
 * (NOTIFY_SENDBUF) carries notifications over a broker restart. NNG sockets
 * are thread-safe, so every request thread sends on the one socket; the
 * mutex only guards opening and closing. Not here: what the broker does with
 * them (broker/ingest.c).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "log.h"
#include "notify.h"
#include "wire.h"

#define NOTIFY_SENDBUF 256
#define NOTIFY_URL_MAX 128 /* ipc:// plus a Unix socket path (107 bytes) */

static struct {
	pthread_mutex_t mu;
	nng_socket sock;
	int open;
} nt = {.mu = PTHREAD_MUTEX_INITIALIZER, .sock = NNG_SOCKET_INITIALIZER};

enum pc_err
notify_open(const char *broker_dir)
{
	char url[NOTIFY_URL_MAX + 16];
	int rv;

	if (broker_dir == NULL) {
		pc_log_info("no broker directory: live sockets will not follow "
		            "changes");
		return PC_OK;
	}
	if ((size_t)snprintf(url, sizeof(url), "ipc://%s/api", broker_dir) >=
	    NOTIFY_URL_MAX) {
		pc_log_warn(
		        "%s: path too long for a Unix socket; notifications "
		        "are off",
		        broker_dir);
		return PC_OK;
	}
	pthread_mutex_lock(&nt.mu);
	if (nt.open) {
		pthread_mutex_unlock(&nt.mu);
		return PC_OK;
	}
	if ((rv = nng_push0_open(&nt.sock)) != 0)
		goto fail;
	if ((rv = nng_socket_set_int(nt.sock, NNG_OPT_SENDBUF,
	                             NOTIFY_SENDBUF)) != 0 ||
	    (rv = nng_socket_set_size(nt.sock, NNG_OPT_RECVMAXSZ,
	                              PC_WIRE_MAX)) != 0 ||
	    (rv = nng_socket_set_ms(nt.sock, NNG_OPT_RECONNMINT, 100)) != 0 ||
	    (rv = nng_socket_set_ms(nt.sock, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_dial(nt.sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(nt.sock);
		goto fail;
	}
	nt.open = 1;
	pthread_mutex_unlock(&nt.mu);
	pc_log_info("notifications go to %s", url);
	return PC_OK;
fail:
	pthread_mutex_unlock(&nt.mu);
	/* never fatal: the API serves without live notifications */
	pc_log_warn("%s: %s; notifications are off", url, nng_strerror(rv));
	return PC_OK;
}

void
notify_close(void)
{
	pthread_mutex_lock(&nt.mu);
	if (nt.open)
		nng_close(nt.sock);
	nt.open = 0;
	pthread_mutex_unlock(&nt.mu);
}

/* Packs and queues one notification without blocking; drops it on failure. */
static void
notify_send(int type, int64_t room, int64_t arg, uint16_t flags,
            const char *payload, size_t len)
{
	struct pc_wire_hdr h;
	nng_msg *m = NULL;
	int rv;

	if (!nt.open)
		return;
	if (len > PC_WIRE_MAX - PC_WIRE_HDR_LEN) {
		pc_log_warn("%s: payload of %zu bytes dropped",
		            pc_wire_type_name(type), len);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.flags = flags;
	h.room = room;
	h.arg = arg;
	if ((rv = nng_msg_alloc(&m, PC_WIRE_HDR_LEN + len)) != 0)
		goto fail;
	pc_wire_pack(&h, nng_msg_body(m));
	if (len > 0)
		memcpy((char *)nng_msg_body(m) + PC_WIRE_HDR_LEN, payload, len);
	if ((rv = nng_sendmsg(nt.sock, m, NNG_FLAG_NONBLOCK)) != 0)
		goto fail;
	pc_log_debug("%s room %" PRId64 " arg %" PRId64 " sent",
	             pc_wire_type_name(type), room, arg);
	return;
fail:
	nng_msg_free(m);
	pc_log_warn("%s room %" PRId64 " arg %" PRId64 " dropped: %s",
	            pc_wire_type_name(type), room, arg, nng_strerror(rv));
}

void
notify_session_revoked(const char *sid)
{
	if (sid != NULL && sid[0] != '\0')
		notify_send(PC_WIRE_N_SESSION_REVOKED, 0, 0, 0, sid,
		            strlen(sid));
}

void
notify_user_revoked(int64_t user_id)
{
	notify_send(PC_WIRE_N_USER_REVOKED, 0, user_id, 0, NULL, 0);
}

void
notify_member_joined(int64_t room_id, int64_t user_id)
{
	notify_send(PC_WIRE_N_MEMBER_JOINED, room_id, user_id, 0, NULL, 0);
}

void
notify_member_left(int64_t room_id, int64_t user_id)
{
	notify_send(PC_WIRE_N_MEMBER_LEFT, room_id, user_id, 0, NULL, 0);
}

void
notify_room_changed(int64_t room_id)
{
	notify_send(PC_WIRE_N_ROOM_CHANGED, room_id, 0, 0, NULL, 0);
}

void
notify_room_event(int64_t room_id, const char *line)
{
	if (line != NULL)
		notify_send(PC_WIRE_N_ROOM_EVENT, room_id, 0, 0, line,
		            strlen(line));
}

void
notify_user_event(int64_t user_id, const char *line)
{
	if (line != NULL)
		notify_send(PC_WIRE_N_USER_EVENT, 0, user_id, 0, line,
		            strlen(line));
}

/* Added by the API (kick and room deletion): the flagged variants of
 * notify_member_left and notify_room_changed. */
void
notify_member_kicked(int64_t room_id, int64_t user_id)
{
	notify_send(PC_WIRE_N_MEMBER_LEFT, room_id, user_id, PC_WIRE_F_KICKED,
	            NULL, 0);
}

void
notify_room_deleted(int64_t room_id)
{
	notify_send(PC_WIRE_N_ROOM_CHANGED, room_id, 0, PC_WIRE_F_DELETED, NULL,
	            0);
}
