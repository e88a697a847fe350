/*
 * test_wire.c: the broker wire header: pack then unpack gives the same
 * fields in network byte order at fixed offsets; short messages, another
 * version, unknown types and a non-zero reserved field are refused; every
 * type has a name; BATCH payloads are walked item by item and a length that
 * runs past the payload stops the walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wire.h"

static void
fill(struct pc_wire_hdr *h, int type)
{
	memset(h, 0, sizeof(*h));
	h->version = PC_WIRE_VERSION;
	h->type = (uint8_t)type;
	h->flags = PC_WIRE_F_SELF | PC_WIRE_F_BATCH;
	h->req_id = 0x0102030405060708ULL;
	h->room = 42;
	h->seq = -1;
	h->arg = INT64_MAX;
}

static void
test_round_trip(void **state)
{
	struct pc_wire_hdr h, g;
	unsigned char buf[PC_WIRE_HDR_LEN + 5];
	const char *payload = NULL;
	size_t plen = 0;

	(void)state;
	fill(&h, PC_WIRE_MSG);
	pc_wire_pack(&h, buf);
	memcpy(buf + PC_WIRE_HDR_LEN, "hello", 5);
	/* network byte order at fixed offsets */
	assert_int_equal(buf[0], PC_WIRE_VERSION);
	assert_int_equal(buf[1], PC_WIRE_MSG);
	assert_int_equal(buf[3], PC_WIRE_F_SELF | PC_WIRE_F_BATCH);
	assert_int_equal(buf[8], 0x01);
	assert_int_equal(buf[15], 0x08);
	assert_int_equal(buf[23], 42);
	assert_int_equal(buf[24], 0xff);
	assert_int_equal(pc_wire_unpack(buf, sizeof(buf), &g, &payload, &plen),
	                 PC_OK);
	assert_int_equal(g.type, PC_WIRE_MSG);
	assert_int_equal(g.flags, h.flags);
	assert_true(g.req_id == h.req_id);
	assert_true(g.room == 42 && g.seq == -1 && g.arg == INT64_MAX);
	assert_int_equal(plen, 5);
	assert_memory_equal(payload, "hello", 5);
	/* the credit flag is bit 4 of byte 3, where bridge.c reads it */
	h.flags = PC_WIRE_F_CREDIT;
	pc_wire_pack(&h, buf);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[3], 0x10);
	assert_int_equal(pc_wire_unpack(buf, sizeof(buf), &g, &payload, &plen),
	                 PC_OK);
	assert_int_equal(g.flags, PC_WIRE_F_CREDIT);
	/* no payload at all */
	assert_int_equal(
	        pc_wire_unpack(buf, PC_WIRE_HDR_LEN, &g, &payload, &plen),
	        PC_OK);
	assert_int_equal(plen, 0);
}

static void
test_refused(void **state)
{
	struct pc_wire_hdr h, g;
	unsigned char buf[PC_WIRE_HDR_LEN];
	const char *payload = NULL;
	size_t plen = 0;

	(void)state;
	fill(&h, PC_WIRE_AUTH);
	pc_wire_pack(&h, buf);
	assert_int_equal(
	        pc_wire_unpack(buf, PC_WIRE_HDR_LEN - 1, &g, &payload, &plen),
	        PC_ERR_INVALID);
	assert_int_equal(pc_wire_unpack(NULL, 0, &g, &payload, &plen),
	                 PC_ERR_INVALID);
	buf[0] = PC_WIRE_VERSION + 1;
	assert_int_equal(pc_wire_unpack(buf, sizeof(buf), &g, &payload, &plen),
	                 PC_ERR_INVALID);
	pc_wire_pack(&h, buf);
	buf[1] = 200; /* unknown type */
	assert_int_equal(pc_wire_unpack(buf, sizeof(buf), &g, &payload, &plen),
	                 PC_ERR_INVALID);
	pc_wire_pack(&h, buf);
	buf[5] = 1; /* reserved */
	assert_int_equal(pc_wire_unpack(buf, sizeof(buf), &g, &payload, &plen),
	                 PC_ERR_INVALID);
}

static void
test_names(void **state)
{
	static const int types[] = {PC_WIRE_AUTH,
	                            PC_WIRE_JOIN,
	                            PC_WIRE_LEAVE,
	                            PC_WIRE_SEND,
	                            PC_WIRE_TYPING,
	                            PC_WIRE_READ,
	                            PC_WIRE_CALL,
	                            PC_WIRE_FETCH,
	                            PC_WIRE_PING,
	                            PC_WIRE_CREDIT,
	                            PC_WIRE_AUTHED,
	                            PC_WIRE_OK,
	                            PC_WIRE_ERROR,
	                            PC_WIRE_JOINED,
	                            PC_WIRE_ACK,
	                            PC_WIRE_MSG,
	                            PC_WIRE_GAP,
	                            PC_WIRE_FETCHED,
	                            PC_WIRE_TICK,
	                            PC_WIRE_EVENT,
	                            PC_WIRE_REMOVED,
	                            PC_WIRE_CLOSE,
	                            PC_WIRE_BATCH,
	                            PC_WIRE_N_SESSION_REVOKED,
	                            PC_WIRE_N_USER_REVOKED,
	                            PC_WIRE_N_MEMBER_JOINED,
	                            PC_WIRE_N_MEMBER_LEFT,
	                            PC_WIRE_N_ROOM_CHANGED,
	                            PC_WIRE_N_USER_EVENT,
	                            PC_WIRE_N_ROOM_EVENT};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_string_not_equal(pc_wire_type_name(types[i]), "?");
		for (k = 0; k < i; k++)
			assert_string_not_equal(pc_wire_type_name(types[i]),
			                        pc_wire_type_name(types[k]));
	}
	assert_string_equal(pc_wire_type_name(0), "?");
	assert_string_equal(pc_wire_type_name(255), "?");
}

static void
test_batch_walk(void **state)
{
	unsigned char buf[3 * PC_WIRE_BATCH_ITEM(8)];
	struct pc_wire_hdr h, g;
	const char *msg, *payload;
	size_t len = 0, off = 0, mlen, plen;
	int n = 0;

	(void)state;
	fill(&h, PC_WIRE_MSG);
	h.seq = 1;
	len += pc_wire_batch_put(buf + len, &h, "one", 3);
	h.seq = 2;
	len += pc_wire_batch_put(buf + len, &h, NULL, 0);
	h.seq = 3;
	len += pc_wire_batch_put(buf + len, &h, "three333", 8);
	while (pc_wire_batch_next((const char *)buf, len, &off, &msg, &mlen) ==
	       PC_OK) {
		assert_int_equal(pc_wire_unpack(msg, mlen, &g, &payload, &plen),
		                 PC_OK);
		n++;
		assert_true(g.seq == n);
		assert_int_equal(plen, n == 1 ? 3 : n == 2 ? 0 : 8);
	}
	assert_int_equal(n, 3);
	assert_int_equal(off, len);
	assert_int_equal(
	        pc_wire_batch_next((const char *)buf, len, &off, &msg, &mlen),
	        PC_ERR_NOT_FOUND);
	/* a truncated batch stops with INVALID */
	off = 0;
	assert_int_equal(pc_wire_batch_next((const char *)buf, len - 1, &off,
	                                    &msg, &mlen),
	                 PC_OK);
	assert_int_equal(pc_wire_batch_next((const char *)buf, len - 1, &off,
	                                    &msg, &mlen),
	                 PC_OK);
	assert_int_equal(pc_wire_batch_next((const char *)buf, len - 1, &off,
	                                    &msg, &mlen),
	                 PC_ERR_INVALID);
	/* a length shorter than a header, and a stub of a length */
	off = 0;
	memset(buf, 0, 4);
	buf[3] = 10;
	assert_int_equal(
	        pc_wire_batch_next((const char *)buf, len, &off, &msg, &mlen),
	        PC_ERR_INVALID);
	off = 0;
	assert_int_equal(
	        pc_wire_batch_next((const char *)buf, 3, &off, &msg, &mlen),
	        PC_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_batch_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
