/*
 * fuzz_wire.c: the broker message format (common/wire.h) on arbitrary bytes,
 * then the worker's handling of what the broker sends (ws_conn_broker in
 * conn.h, including batches and text-mode rendering through textmode.h).
 *
 * Checked: pc_wire_unpack accepts only version 1, a known type and a zero
 * reserved field, and what it accepts packs back to the same 40 bytes with
 * the payload right after them; pc_wire_batch_next moves strictly forward
 * and never points outside its payload; a worker (JSON mode and text mode,
 * joined to rooms 1-3) survives any message with conn.h's invariants kept.
 *
 * The broker is trusted to send ids and seqs in 0..2^53 (it takes them from
 * PostgreSQL bigint sequences that never come near): messages with room,
 * seq or arg outside -1..2^53 are unpacked but not handed to the worker, so
 * the harness looks for parsing bugs, not for arithmetic on impossible seqs.
 */
#include "fuzz_ws.h"
#include "textmode.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static int
plausible(const struct pc_wire_hdr *h)
{
	return h->room >= -1 && h->room <= FUZZ_WS_ID_MAX && h->seq >= -1 &&
	       h->seq <= FUZZ_WS_ID_MAX && h->arg >= -1 &&
	       h->arg <= FUZZ_WS_ID_MAX;
}

/* Unpacks data; checks the round trip; 1 when it is a plausible message
 * (every item of a batch too). */
static int
check_unpack(const uint8_t *data, size_t size, int depth)
{
	struct pc_wire_hdr h;
	unsigned char again[PC_WIRE_HDR_LEN];
	const char *payload = NULL, *msg;
	size_t plen = 0, off = 0, prev, mlen;
	enum pc_err e;
	int ok;

	e = pc_wire_unpack(data, size, &h, &payload, &plen);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_INVALID);
	if (e != PC_OK)
		return 0;
	FUZZ_CHECK(size >= PC_WIRE_HDR_LEN);
	FUZZ_CHECK(h.version == PC_WIRE_VERSION && h.reserved == 0);
	FUZZ_CHECK(strcmp(pc_wire_type_name(h.type), "?") != 0);
	FUZZ_CHECK(payload == (const char *)data + PC_WIRE_HDR_LEN);
	FUZZ_CHECK(plen == size - PC_WIRE_HDR_LEN);
	pc_wire_pack(&h, again);
	FUZZ_CHECK(memcmp(again, data, PC_WIRE_HDR_LEN) == 0);
	ok = plausible(&h);
	if (h.type != PC_WIRE_BATCH)
		return ok;
	for (;;) {
		prev = off;
		e = pc_wire_batch_next(payload, plen, &off, &msg, &mlen);
		FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
		           e == PC_ERR_INVALID);
		if (e != PC_OK) {
			FUZZ_CHECK(off == prev); /* no progress on the end */
			break;
		}
		FUZZ_CHECK(off > prev && off <= plen);
		FUZZ_CHECK(mlen >= PC_WIRE_HDR_LEN);
		FUZZ_CHECK(msg == payload + prev + 4);
		FUZZ_CHECK(msg + mlen == payload + off);
		if (depth < 2 &&
		    !check_unpack((const uint8_t *)msg, mlen, depth + 1))
			ok = 0;
	}
	return ok;
}

static void
feed(int text, const uint8_t *data, size_t size)
{
	struct fuzz_ws f;

	fuzz_ws_init(&f, text, text ? 1 : 0, 100);
	/* The broker's own payloads are copied through as they are: not the
	 * worker's to vouch for. */
	f.check_lines = 0;
	f.check_json = 0;
	fuzz_ws_connect(&f);
	if (!text) {
		FUZZ_CHECK(ws_conn_join(&f.c, 1, -1) == PC_OK);
		FUZZ_CHECK(ws_conn_join(&f.c, 2, 0) == PC_OK);
	}
	FUZZ_CHECK(ws_conn_join(&f.c, 3, 1) == PC_OK);
	fuzz_ws_pump(&f);
	ws_conn_broker(&f.c, data, size);
	fuzz_ws_invariants(&f);
	fuzz_ws_pump(&f);
	fuzz_ws_invariants(&f);
	fuzz_ws_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg;
	size_t off = 0, mlen, prev;
	enum pc_err e;

	/* The bytes as a batch payload on their own. */
	for (;;) {
		prev = off;
		e = pc_wire_batch_next((const char *)data, size, &off, &msg,
		                       &mlen);
		if (e != PC_OK)
			break;
		FUZZ_CHECK(off > prev && off <= size);
	}
	/* Text mode renders any payload as a frame for humans. */
	free(ws_text_render((const char *)data, size, NULL, NULL));
	if (!check_unpack(data, size, 0))
		return 0;
	feed(0, data, size);
	feed(1, data, size);
	return 0;
}
