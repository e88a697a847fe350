/*
 * notify.c: the API's one-way channel to the brokers (notify.h): one NNG
 * PUSH socket per broker, dialling its api address (ipc://DIR/api, or
 * tls+tcp://HOST:PORT+1 with this API's client certificate; common/shard.h),
 * carrying the PC_WIRE_N_* messages of common/wire.h.
 *
 * Routing (docs/scaling.md), from the table notify_routes: what concerns a
 * room goes to the room's broker (it alone has the room's subscribers; it
 * knows every socket of every user, since every worker signs in to every
 * broker); a user's events go to the user's broker (one copy, or the user's
 * sockets would get it once per broker); revocations go to every broker, so
 * each forgets the session at once.
 *
 * The dial never blocks (NNG_FLAG_NONBLOCK: a broker that is not up yet is
 * redialled in the background) and neither does a send: a notification that
 * cannot be queued is logged and dropped, because the database stays the
 * record and an HTTP answer never waits for the broker. A short queue
 * (NOTIFY_SENDBUF) carries notifications over a broker restart. NNG sockets
 * are thread-safe, so every request thread sends on the same sockets; the
 * mutex only guards opening and closing. Not here: what the broker does with
 * them (broker/ingest.c).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/tls/tls.h>

#include "log.h"
#include "notify.h"
#include "shard_tls.h"
#include "stamp.h"
#include "wire.h"

#define NOTIFY_SENDBUF 256

enum notify_to { TO_ROOM, TO_USER, TO_ALL };

/* Where each notification goes when there are several brokers. */
static const struct {
	int type;
	enum notify_to to;
} notify_routes[] = {
        {PC_WIRE_N_SESSION_REVOKED, TO_ALL},
        {PC_WIRE_N_USER_REVOKED, TO_ALL},
        {PC_WIRE_N_MEMBER_JOINED, TO_ROOM},
        {PC_WIRE_N_MEMBER_LEFT, TO_ROOM},
        {PC_WIRE_N_ROOM_CHANGED, TO_ROOM},
        {PC_WIRE_N_USER_EVENT, TO_USER},
        {PC_WIRE_N_ROOM_EVENT, TO_ROOM},
};

static struct {
	pthread_mutex_t mu;
	struct pc_shards map;
	nng_socket sock[PC_SHARD_MAX];
	size_t n; /* sockets open (0: notifications are off) */
} nt = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Opens the PUSH socket to broker i and starts dialling. */
static int
notify_dial(const struct api_settings *set, size_t i, nng_socket *out)
{
	const struct pc_shard *b = &set->shards.s[i];
	char url[PC_SHARD_URL_MAX];
	nng_tls_config *tls = NULL;
	nng_dialer d;
	int rv;

	if (pc_shard_url(b, PC_SHARD_API, url, sizeof(url)) != PC_OK) {
		pc_log_warn("broker %zu: address too long", i);
		return NNG_EINVAL;
	}
	if (b->kind == PC_SHARD_TLS &&
	    pc_shard_tls(NNG_TLS_MODE_CLIENT, set->tls_ca_file,
	                 set->tls_cert_file, b->host, &tls) != PC_OK)
		return NNG_EINVAL;
	if ((rv = nng_push0_open(out)) != 0)
		goto out;
	if ((rv = nng_socket_set_int(*out, NNG_OPT_SENDBUF, NOTIFY_SENDBUF)) !=
	            0 ||
	    (rv = nng_socket_set_size(*out, NNG_OPT_RECVMAXSZ, PC_WIRE_MAX)) !=
	            0 ||
	    (rv = nng_socket_set_ms(*out, NNG_OPT_RECONNMINT, 100)) != 0 ||
	    (rv = nng_socket_set_ms(*out, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_dialer_create(&d, *out, url)) != 0 ||
	    (b->kind != PC_SHARD_IPC &&
	     (rv = nng_dialer_set_bool(d, NNG_OPT_TCP_KEEPALIVE, true)) != 0) ||
	    (tls != NULL &&
	     (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls)) != 0) ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(*out);
		goto out;
	}
	pc_log_info("notifications for shard %zu go to %s", i, url);
out:
	if (tls != NULL)
		nng_tls_config_free(tls); /* the dialer holds its own */
	if (rv != 0)
		pc_log_warn("%s: %s; notifications to it are off", url,
		            nng_strerror(rv));
	return rv;
}

enum pc_err
notify_open(const struct api_settings *set)
{
	size_t i;

	if (set->shards.n == 0) {
		pc_log_info("no broker: live sockets will not follow "
		            "changes");
		return PC_OK;
	}
	pthread_mutex_lock(&nt.mu);
	if (nt.n == 0) {
		nt.map = set->shards;
		for (i = 0; i < set->shards.n; i++)
			if (notify_dial(set, i, &nt.sock[i]) != 0)
				break;
		if (i < set->shards.n) {
			/* all or nothing: a partial map would misroute */
			while (i-- > 0)
				nng_close(nt.sock[i]);
		} else
			nt.n = set->shards.n;
	}
	pthread_mutex_unlock(&nt.mu);
	/* never fatal: the API serves without live notifications */
	return PC_OK;
}

void
notify_close(void)
{
	size_t i;

	pthread_mutex_lock(&nt.mu);
	for (i = 0; i < nt.n; i++)
		nng_close(nt.sock[i]);
	nt.n = 0;
	pthread_mutex_unlock(&nt.mu);
}

/* Packs and queues one notification on broker i without blocking; drops it
 * on failure. */
static void
notify_send_one(size_t i, const struct pc_wire_hdr *h, const char *payload,
                size_t len)
{
	nng_msg *m = NULL;
	int rv;

	if ((rv = nng_msg_alloc(&m, PC_WIRE_HDR_LEN + len)) != 0)
		goto fail;
	pc_wire_pack(h, nng_msg_body(m));
	if (len > 0)
		memcpy((char *)nng_msg_body(m) + PC_WIRE_HDR_LEN, payload, len);
	if ((rv = nng_sendmsg(nt.sock[i], m, NNG_FLAG_NONBLOCK)) != 0)
		goto fail;
	pc_log_debug("%s room %" PRId64 " arg %" PRId64 " sent to shard %zu",
	             pc_wire_type_name(h->type), h->room, h->arg, i);
	return;
fail:
	nng_msg_free(m);
	pc_log_warn("%s room %" PRId64 " arg %" PRId64
	            " to shard %zu dropped: %s",
	            pc_wire_type_name(h->type), h->room, h->arg, i,
	            nng_strerror(rv));
}

/* Sends one notification where notify_routes says. */
static void
notify_send(int type, int64_t room, int64_t arg, uint16_t flags,
            const char *payload, size_t len)
{
	struct pc_wire_hdr h;
	enum notify_to to = TO_ALL;
	size_t i;

	/* On the board before any socket can hear of the change (stamp.h). */
	stamp_bump();
	if (nt.n == 0)
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
	for (i = 0; i < sizeof(notify_routes) / sizeof(notify_routes[0]); i++)
		if (notify_routes[i].type == type)
			to = notify_routes[i].to;
	if (to == TO_ROOM)
		notify_send_one(pc_shard_of_room(&nt.map, room), &h, payload,
		                len);
	else if (to == TO_USER)
		notify_send_one(pc_shard_of_user(&nt.map, arg), &h, payload,
		                len);
	else
		for (i = 0; i < nt.n; i++)
			notify_send_one(i, &h, payload, len);
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
