// socket.js — the one WebSocket to /ws, kept open.
//
// For: connecting (ws: or wss: as the page), reconnecting with exponential backoff
// and jitter (0.5 s doubling to 15 s), a ping every 25 s so proxies keep the socket
// (contract section 4, keep-alive), and closing a socket that has gone silent so a
// dead connection is noticed. It hands every frame to onFrame and every state
// change to onState ('connecting', 'online', 'offline').
// Not for: what frames mean (chat.js), or queueing frames while offline: send()
// reports false and the caller keeps what it must resend (RoomState's outbox).

const MIN_DELAY = 500;
const MAX_DELAY = 15000;
const PING_EVERY = 25000;
// The server writes at least a ping every 25 s and answers ours with pong;
// nothing for this long means the connection is dead even if no close came.
const SILENCE_LIMIT = 65000;
// A socket that stayed up this long was healthy: the next failure starts the
// backoff from the bottom again.
const HEALTHY_AFTER = 10000;

export class ChatSocket {
	// url: absolute ws(s) URL. onFrame(obj) for every JSON frame; onOpen() when a
	// socket opens (send joins there); onState(state, detail) on changes.
	constructor({url, onFrame, onOpen, onState}) {
		this.url = url;
		this.onFrame = onFrame;
		this.onOpen = onOpen;
		this.onState = onState;
		this.ws = null;
		this.state = 'offline';
		this.attempt = 0;
		this.retryTimer = 0;
		this.pingTimer = 0;
		this.healthyTimer = 0;
		this.lastRecv = 0;
		this.stopped = false;
		this.retryAt = 0;
	}

	// ws://host/ws or wss://host/ws for this page.
	static urlFor(loc = location) {
		return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
	}

	setState(state) {
		if (state === this.state)
			return;
		this.state = state;
		this.onState(state, {retryAt: this.retryAt});
	}

	start() {
		this.stopped = false;
		if (!this.ws)
			this.connect();
	}

	// Closes for good (sign-out, revoked session).
	stop() {
		this.stopped = true;
		clearTimeout(this.retryTimer);
		this.teardown();
		this.setState('offline');
	}

	// Reconnects now if not connected (page became visible, network came back).
	nudge() {
		if (this.stopped || this.ws)
			return;
		clearTimeout(this.retryTimer);
		this.connect();
	}

	connect() {
		this.retryAt = 0;
		this.setState('connecting');
		let ws;
		try {
			ws = new WebSocket(this.url);
		} catch {
			this.scheduleRetry();
			return;
		}
		this.ws = ws;
		ws.onopen = () => {
			if (ws !== this.ws)
				return;
			this.lastRecv = Date.now();
			this.setState('online');
			this.pingTimer = setInterval(() => this.tick(), 5000);
			this.lastPing = Date.now();
			this.healthyTimer = setTimeout(() => { this.attempt = 0; }, HEALTHY_AFTER);
			this.onOpen();
		};
		ws.onmessage = (ev) => {
			if (ws !== this.ws)
				return;
			this.lastRecv = Date.now();
			if (typeof ev.data !== 'string')
				return;
			let frame;
			try {
				frame = JSON.parse(ev.data);
			} catch {
				return;
			}
			if (frame && typeof frame === 'object' && typeof frame.type === 'string')
				this.onFrame(frame);
		};
		ws.onclose = () => {
			if (ws !== this.ws)
				return;
			this.teardown();
			if (!this.stopped)
				this.scheduleRetry();
		};
		// An error is always followed by close; nothing to do here.
		ws.onerror = () => {};
	}

	// Every 5 s while open: ping when due, give up on a silent socket.
	tick() {
		const now = Date.now();
		if (now - this.lastRecv > SILENCE_LIMIT) {
			this.dropAndRetry();
			return;
		}
		if (now - this.lastPing >= PING_EVERY) {
			this.lastPing = now;
			this.send({type: 'ping'});
		}
	}

	// Closes the current socket and reconnects after the backoff (a socket that
	// misbehaves, or a silent one).
	dropAndRetry() {
		this.teardown();
		if (!this.stopped)
			this.scheduleRetry();
	}

	teardown() {
		clearInterval(this.pingTimer);
		clearTimeout(this.healthyTimer);
		const ws = this.ws;
		this.ws = null;
		if (ws) {
			ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
			if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
				ws.close();
		}
	}

	// Backoff: the nth retry waits a random time in [d/2, d], d = min(15 s, 0.5 s·2^n).
	scheduleRetry() {
		const d = Math.min(MAX_DELAY, MIN_DELAY * 2 ** this.attempt);
		const wait = d / 2 + Math.random() * (d / 2);
		this.attempt = Math.min(this.attempt + 1, 10);
		this.retryAt = Date.now() + wait;
		this.state = 'offline';
		this.onState('offline', {retryAt: this.retryAt});
		clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => this.connect(), wait);
	}

	// Sends one frame; false when there is no open socket (nothing is queued).
	send(frame) {
		if (!this.ws || this.ws.readyState !== WebSocket.OPEN)
			return false;
		this.ws.send(JSON.stringify(frame));
		return true;
	}

	get online() {
		return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
	}
}
