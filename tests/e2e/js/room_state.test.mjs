// Unit tests of www/js/room-state.js under node (node --test): the rules that
// keep a room's shown messages contiguous, deduplicated, and its outbox honest.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {RoomState, BIG_GAP} from '../../../www/js/room-state.js';

const msg = (seq, body = `m${seq}`) => ({id: seq, room: 1, seq, kind: 'text',
	user: {id: 2, username: 'bob'}, body, created_at: '2024-01-01T00:00:00.000Z'});
const page = (from, to, has_more = false) => {
	const messages = [];
	for (let s = from; s <= to; s++)
		messages.push(msg(s));
	return {messages, has_more};
};
const seqs = (st) => st.messages().map((m) => m.seq);

test('first page sets the run and since', () => {
	const st = new RoomState(1);
	st.loadLatest(page(51, 100, true));
	assert.equal(st.base, 50);
	assert.equal(st.top, 100);
	assert.equal(st.since(), 100);
	assert.equal(st.hasOlder, true);
	assert.deepEqual(seqs(st), Array.from({length: 50}, (_, i) => 51 + i));
});

test('empty room: live messages from seq 1 show', () => {
	const st = new RoomState(1);
	st.loadLatest({messages: [], has_more: false});
	assert.equal(st.since(), 0);
	assert.deepEqual(st.add([msg(1)]).shown.map((m) => m.seq), [1]);
	assert.equal(st.hasOlder, false);
});

test('a message never shows twice', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 3));
	assert.deepEqual(st.add([msg(3)]).shown, []);
	assert.deepEqual(st.add([msg(4)]).shown.map((m) => m.seq), [4]);
	assert.deepEqual(st.add([msg(4)]).shown, []);
	assert.deepEqual(seqs(st), [1, 2, 3, 4]);
});

test('messages beyond a hole wait and the hole is fetched', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 3));
	assert.deepEqual(st.add([msg(6), msg(7)]).shown, []);
	assert.deepEqual(st.needFill(), {after: 3, limit: 2});
	const r = st.filled(page(4, 5));
	assert.deepEqual(r.shown.map((m) => m.seq), [4, 5, 6, 7]);
	assert.equal(st.needFill(), null);
	assert.deepEqual(seqs(st), [1, 2, 3, 4, 5, 6, 7]);
});

test('live messages during the first load are merged', () => {
	const st = new RoomState(1);
	st.add([msg(11), msg(12)]);	// arrived while loading
	st.loadLatest(page(1, 11));
	assert.deepEqual(seqs(st), Array.from({length: 12}, (_, i) => i + 1));
});

test('a gap frame is filled page by page before newer ones show', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 10));
	st.gap(11, 400);
	st.add(page(401, 900).messages);
	assert.equal(st.top, 10);
	let need, n = 0;
	while ((need = st.needFill())) {
		assert.ok(need.limit <= 200);
		st.filled(page(need.after + 1, need.after + need.limit));
		n++;
	}
	assert.equal(n, 2);
	assert.equal(st.top, 900);
	assert.deepEqual(seqs(st), Array.from({length: 900}, (_, i) => i + 1));
});

test('a huge gap restarts the run after it; older load on scroll-up', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 10));
	const to = 10 + BIG_GAP + 500;
	assert.equal(st.gap(11, to), true);
	st.add(page(to + 1, to + 500).messages);
	assert.equal(st.base, to);
	assert.equal(st.top, to + 500);
	assert.equal(st.hasOlder, true);
	assert.equal(st.needFill(), null);
	const put = st.prepend(page(to - 49, to, true));
	assert.equal(put.length, 50);
	assert.equal(st.base, to - 50);
});

test('a fill that brings nothing does not hang the room', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 3));
	st.add([msg(8)]);
	const r = st.filled({messages: [], has_more: false});
	assert.equal(r.replaced, true);
	assert.deepEqual(seqs(st), [8]);
	assert.equal(st.needFill(), null);
});

test('older pages only attach where they touch', () => {
	const st = new RoomState(1);
	st.loadLatest(page(101, 150, true));
	assert.equal(st.prepend(page(40, 60)).length, 0);	// does not touch 100
	const put = st.prepend(page(51, 100, true));
	assert.equal(put.length, 50);
	assert.equal(st.base, 50);
	st.prepend(page(1, 50, false));
	assert.equal(st.hasOlder, false);
	assert.deepEqual(seqs(st), Array.from({length: 150}, (_, i) => i + 1));
});

test('edits replace a shown message in place', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 2));
	const r = st.add([{...msg(2), body: 'new', edited_at: '2024-01-01T00:01:00.000Z'}]);
	assert.equal(r.updated.length, 1);
	assert.equal(st.bySeq.get(2).body, 'new');
	const d = st.patch({type: 'deleted', room: 1, seq: 1});
	assert.equal(d.deleted, true);
	assert.equal(d.body, null);
});

test('outbox: ack then message removes the pending send; resend keeps client_id', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 2));
	st.queue('hello', 'cid-1');
	st.queue('again', 'cid-2');
	assert.deepEqual(st.unsent().map((e) => e.client_id), ['cid-1', 'cid-2']);
	st.ack({client_id: 'cid-1', seq: 3});
	assert.equal(st.outbox.get('cid-1').state, 'sent');
	assert.deepEqual(st.unsent().map((e) => e.client_id), ['cid-2']);
	st.add([{...msg(3, 'hello'), user: {id: 1, username: 'me'}}]);
	assert.equal(st.outbox.has('cid-1'), false);
	assert.equal(st.outbox.has('cid-2'), true);
});

test('outbox: an ack for a message already shown drops the entry', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 2));
	st.queue('x', 'c');
	st.add([msg(3, 'x')]);
	st.ack({client_id: 'c', seq: 3});
	assert.equal(st.outbox.size, 0);
});

test('outbox: a refused send is failed, not resent', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 1));
	st.queue('bad', 'c');
	st.fail('c', 'bad_body', 'Bad body.');
	assert.equal(st.unsent().length, 0);
	assert.equal(st.pending()[0].state, 'failed');
});

test('trim keeps the newest and says older exist', () => {
	const st = new RoomState(1);
	st.loadLatest(page(1, 100));
	assert.equal(st.trim(30), true);
	assert.equal(st.base, 70);
	assert.equal(st.hasOlder, true);
	assert.equal(seqs(st).length, 30);
});
