// Unit tests of www/js/socket.js under node with a scripted WebSocket and mock
// timers: backoff with jitter between 0.5 s and 15 s, ping every 25 s, a silent
// socket dropped, backoff reset after a healthy connection.
import {test, mock} from 'node:test';
import assert from 'node:assert/strict';

class FakeWS {
	static CONNECTING = 0;
	static OPEN = 1;
	static CLOSING = 2;
	static CLOSED = 3;
	static made = [];
	constructor(url) {
		this.url = url;
		this.readyState = FakeWS.CONNECTING;
		this.sent = [];
		FakeWS.made.push(this);
	}
	send(s) { this.sent.push(JSON.parse(s)); }
	close() { this.readyState = FakeWS.CLOSED; }
	open() { this.readyState = FakeWS.OPEN; this.onopen(); }
	recv(obj) { this.onmessage({data: JSON.stringify(obj)}); }
	drop() { this.readyState = FakeWS.CLOSED; this.onclose({code: 1006}); }
}
globalThis.WebSocket = FakeWS;
const {ChatSocket} = await import('../../../www/js/socket.js');

function make() {
	const frames = [], states = [];
	let opens = 0;
	const s = new ChatSocket({url: 'ws://x/ws', onFrame: (f) => frames.push(f),
		onOpen: () => opens++, onState: (st) => states.push(st)});
	return {s, frames, states, opens: () => opens};
}

test('urlFor follows the page scheme', () => {
	assert.equal(ChatSocket.urlFor({protocol: 'https:', host: 'a.b:8443'}), 'wss://a.b:8443/ws');
	assert.equal(ChatSocket.urlFor({protocol: 'http:', host: '127.0.0.1:8080'}), 'ws://127.0.0.1:8080/ws');
});

test('backoff doubles from 0.5 s to 15 s with jitter, and resets after a healthy socket', () => {
	mock.timers.enable({apis: ['setTimeout', 'setInterval', 'Date']});
	mock.method(Math, 'random', () => 1);	// the top of each jitter window
	try {
		FakeWS.made = [];
		const {s, states} = make();
		s.start();
		const waits = [];
		for (let i = 0; i < 8; i++) {
			FakeWS.made.at(-1).drop();
			waits.push(s.retryAt - Date.now());
			mock.timers.tick(s.retryAt - Date.now());
		}
		assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
		assert.ok(states.includes('offline') && states.includes('connecting'));
		FakeWS.made.at(-1).open();
		mock.timers.tick(10000);	// healthy for 10 s
		FakeWS.made.at(-1).drop();
		assert.equal(s.retryAt - Date.now(), 500);
		s.stop();
	} finally {
		mock.restoreAll();
		mock.timers.reset();
	}
});

test('jitter: the wait is within [d/2, d]', () => {
	mock.timers.enable({apis: ['setTimeout', 'setInterval', 'Date']});
	mock.method(Math, 'random', () => 0);
	try {
		FakeWS.made = [];
		const {s} = make();
		s.start();
		FakeWS.made.at(-1).drop();
		assert.equal(s.retryAt - Date.now(), 250);
		s.stop();
	} finally {
		mock.restoreAll();
		mock.timers.reset();
	}
});

test('pings every 25 s while open; frames are delivered; a silent socket is dropped', () => {
	mock.timers.enable({apis: ['setTimeout', 'setInterval', 'Date']});
	try {
		FakeWS.made = [];
		const {s, frames, opens} = make();
		s.start();
		const ws = FakeWS.made.at(-1);
		ws.open();
		assert.equal(opens(), 1);
		ws.recv({type: 'hello', user: {id: 1}});
		assert.deepEqual(frames.map((f) => f.type), ['hello']);
		for (let t = 0; t < 60; t += 5) {
			mock.timers.tick(5000);
			ws.recv({type: 'pong'});	// the server answers
		}
		const pings = ws.sent.filter((f) => f.type === 'ping').length;
		assert.ok(pings === 2, `pings in 60 s: ${pings}`);
		// Now silence: after 65 s without a frame the socket is given up and redialled.
		for (let t = 0; t < 75; t += 5)
			mock.timers.tick(5000);	// node's mock sets Date to the end of a tick first
		assert.ok(FakeWS.made.length >= 2, 'a new socket was dialled');
		assert.equal(ws.readyState, FakeWS.CLOSED);
		s.stop();
	} finally {
		mock.timers.reset();
	}
});

test('send reports false when not open; stop ends reconnecting', () => {
	mock.timers.enable({apis: ['setTimeout', 'setInterval', 'Date']});
	try {
		FakeWS.made = [];
		const {s} = make();
		s.start();
		assert.equal(s.send({type: 'ping'}), false);
		FakeWS.made.at(-1).drop();
		s.stop();
		mock.timers.tick(60000);
		assert.equal(FakeWS.made.length, 1);
	} finally {
		mock.timers.reset();
	}
});
