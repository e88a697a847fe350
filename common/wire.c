/*
 * wire.c: packs and unpacks the broker message header (wire.h).
 * Fixed offsets, network byte order; no allocation, no NNG.
 */
#include <string.h>
#include <endian.h>

#include "wire.h"

static const struct {
	int type;
	const char *name;
} wire_names[] = {
	{ PC_WIRE_AUTH, "auth" },
	{ PC_WIRE_JOIN, "join" },
	{ PC_WIRE_LEAVE, "leave" },
	{ PC_WIRE_SEND, "send" },
	{ PC_WIRE_TYPING, "typing" },
	{ PC_WIRE_READ, "read" },
	{ PC_WIRE_CALL, "call" },
	{ PC_WIRE_FETCH, "fetch" },
	{ PC_WIRE_PING, "ping" },
	{ PC_WIRE_CREDIT, "credit" },
	{ PC_WIRE_AUTHED, "authed" },
	{ PC_WIRE_OK, "ok" },
	{ PC_WIRE_ERROR, "error" },
	{ PC_WIRE_JOINED, "joined" },
	{ PC_WIRE_ACK, "ack" },
	{ PC_WIRE_MSG, "msg" },
	{ PC_WIRE_GAP, "gap" },
	{ PC_WIRE_FETCHED, "fetched" },
	{ PC_WIRE_TICK, "tick" },
	{ PC_WIRE_EVENT, "event" },
	{ PC_WIRE_REMOVED, "removed" },
	{ PC_WIRE_CLOSE, "close" },
	{ PC_WIRE_BATCH, "batch" },
	{ PC_WIRE_N_SESSION_REVOKED, "n_session_revoked" },
	{ PC_WIRE_N_USER_REVOKED, "n_user_revoked" },
	{ PC_WIRE_N_MEMBER_JOINED, "n_member_joined" },
	{ PC_WIRE_N_MEMBER_LEFT, "n_member_left" },
	{ PC_WIRE_N_ROOM_CHANGED, "n_room_changed" },
	{ PC_WIRE_N_USER_EVENT, "n_user_event" },
	{ PC_WIRE_N_ROOM_EVENT, "n_room_event" },
};

const char *
pc_wire_type_name(int type)
{
	size_t i;

	for (i = 0; i < sizeof(wire_names) / sizeof(wire_names[0]); i++)
		if (wire_names[i].type == type)
			return wire_names[i].name;
	return "?";
}

static void
put64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

void
pc_wire_pack(const struct pc_wire_hdr *h, unsigned char *out)
{
	uint16_t flags = htobe16(h->flags);
	uint32_t reserved = 0;

	out[0] = h->version;
	out[1] = h->type;
	memcpy(out + 2, &flags, 2);
	memcpy(out + 4, &reserved, 4);
	put64(out + 8, h->req_id);
	put64(out + 16, (uint64_t)h->room);
	put64(out + 24, (uint64_t)h->seq);
	put64(out + 32, (uint64_t)h->arg);
}

enum pc_err
pc_wire_unpack(const void *data, size_t len, struct pc_wire_hdr *h,
    const char **payload, size_t *payload_len)
{
	const unsigned char *p = data;
	struct pc_wire_hdr tmp;
	uint16_t flags;
	uint32_t reserved;

	if (p == NULL || len < PC_WIRE_HDR_LEN)
		return PC_ERR_INVALID;
	memset(&tmp, 0, sizeof(tmp));
	tmp.version = p[0];
	tmp.type = p[1];
	memcpy(&flags, p + 2, 2);
	memcpy(&reserved, p + 4, 4);
	tmp.flags = be16toh(flags);
	tmp.reserved = be32toh(reserved);
	tmp.req_id = get64(p + 8);
	tmp.room = (int64_t)get64(p + 16);
	tmp.seq = (int64_t)get64(p + 24);
	tmp.arg = (int64_t)get64(p + 32);
	if (tmp.version != PC_WIRE_VERSION || tmp.reserved != 0 ||
	    pc_wire_type_name(tmp.type)[0] == '?')
		return PC_ERR_INVALID;
	*h = tmp;
	*payload = (const char *)p + PC_WIRE_HDR_LEN;
	*payload_len = len - PC_WIRE_HDR_LEN;
	return PC_OK;
}

enum pc_err
pc_wire_batch_next(const char *payload, size_t len, size_t *off,
    const char **msg, size_t *msg_len)
{
	uint32_t n;

	if (*off >= len)
		return PC_ERR_NOT_FOUND;
	if (len - *off < 4)
		return PC_ERR_INVALID;
	memcpy(&n, payload + *off, 4);
	n = be32toh(n);
	if (n < PC_WIRE_HDR_LEN || n > len - *off - 4)
		return PC_ERR_INVALID;
	*msg = payload + *off + 4;
	*msg_len = n;
	*off += 4 + (size_t)n;
	return PC_OK;
}

size_t
pc_wire_batch_put(unsigned char *out, const struct pc_wire_hdr *h,
    const void *payload, size_t payload_len)
{
	uint32_t n = htobe32((uint32_t)(PC_WIRE_HDR_LEN + payload_len));

	memcpy(out, &n, 4);
	pc_wire_pack(h, out + 4);
	if (payload_len > 0)
		memcpy(out + 4 + PC_WIRE_HDR_LEN, payload, payload_len);
	return PC_WIRE_BATCH_ITEM(payload_len);
}
