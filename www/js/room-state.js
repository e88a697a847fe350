// room-state.js — what the client knows about one room's messages.
//
// For: the rules that keep the screen honest. Shown messages are always one
// contiguous run of seqs (base, top]: a message that arrives ahead of a hole waits
// in `ahead` until the hole is filled over HTTP; a seq is never shown twice; the
// outbox holds sends not yet confirmed, keyed by client_id, so they can be resent
// with the same key after a reconnect.
// Not for: the DOM or the network. chat.js feeds it frames and pages and asks it
// what to fetch (needFill) and what to resend (unsent); messages-view.js draws it.
// Pure module: unit-tested under node (tests/e2e/js/).

// A hole larger than this is not paged through: the view restarts at the hole's
// end and older messages load on scroll-up, as after a long absence.
export const BIG_GAP = 1000;
// History pages are at most this long (contract: limit 1–200).
export const PAGE = 200;

export class RoomState {
	constructor(id) {
		this.id = id;
		this.bySeq = new Map();	// seq → message, exactly the seqs base+1 … top
		this.base = 0;		// seq just before the first shown one
		this.top = 0;		// highest seq shown; everything in (base, top] is shown
		this.ahead = new Map();	// seq → message received beyond a hole
		this.gapTo = 0;		// a gap frame said seqs up to here must be fetched
		this.hasOlder = false;	// more history exists before base
		this.loaded = false;	// the first page has been read
		this.outbox = new Map();	// client_id → {client_id, body, state, seq, error, sentAt}
		this.version = 0;	// bumped when the shown run is replaced (not extended)
	}

	// Seq to give `since` when joining: everything up to it is shown.
	since() {
		return this.top;
	}

	// The first page of history: the newest messages, ascending (GET …/messages).
	// Messages that arrived live meanwhile are kept and merged.
	loadLatest(page) {
		const msgs = sortedMessages(page);
		this.bySeq.clear();
		if (msgs.length) {
			this.base = msgs[0].seq - 1;
			this.top = this.base;
		} else {
			// An empty room: anything live from seq 1 follows on.
			this.base = this.top = 0;
		}
		this.hasOlder = Boolean(page && page.has_more) && this.base > 0;
		this.loaded = true;
		this.version++;
		return this.add(msgs);
	}

	// A page of older history (before=base), ascending. Returns the messages put in
	// front, oldest first.
	prepend(page) {
		const msgs = sortedMessages(page).filter((m) => m.seq <= this.base);
		const put = [];
		// Walk down from base so only a run that touches base is taken.
		for (let i = msgs.length - 1; i >= 0; i--) {
			if (msgs[i].seq !== this.base)
				break;
			this.bySeq.set(msgs[i].seq, msgs[i]);
			this.base--;
			put.unshift(msgs[i]);
		}
		this.hasOlder = Boolean(page && page.has_more) && this.base > 0;
		if (this.base <= 0)
			this.hasOlder = false;
		return put;
	}

	// Messages from a live frame, a replay or a fill page. Returns {shown, updated}:
	// the messages newly shown (ascending) and shown ones that changed (edits).
	add(msgs) {
		const updated = [];
		for (const m of msgs) {
			if (!validMessage(m))
				continue;
			if (m.seq <= this.top) {
				const old = this.bySeq.get(m.seq);
				if (old && changed(old, m)) {
					this.bySeq.set(m.seq, m);
					updated.push(m);
				}
				continue;
			}
			if (!this.ahead.has(m.seq) || changed(this.ahead.get(m.seq), m))
				this.ahead.set(m.seq, m);
		}
		return {shown: this.loaded ? this.drain() : [], updated};
	}

	// Moves messages from ahead to shown while they continue the run.
	drain() {
		const shown = [];
		for (;;) {
			const m = this.ahead.get(this.top + 1);
			if (!m)
				break;
			this.ahead.delete(m.seq);
			this.top = m.seq;
			this.bySeq.set(m.seq, m);
			shown.push(m);
			for (const [cid, e] of this.outbox)
				if (e.seq === m.seq)
					this.outbox.delete(cid);
		}
		for (const seq of this.ahead.keys())
			if (seq <= this.top)
				this.ahead.delete(seq);
		return shown;
	}

	// A gap frame {from, to}: seqs from…to were not replayed. A small gap is fetched
	// (needFill says what); a big one restarts the shown run after `to`.
	// Returns true when the shown run was replaced.
	gap(from, to) {
		if (!this.loaded || !(to >= from) || to <= this.top)
			return false;
		if (to - this.top > BIG_GAP) {
			this.bySeq.clear();
			this.base = this.top = to;
			this.hasOlder = true;
			this.gapTo = 0;
			this.version++;
			this.drain();
			return true;
		}
		this.gapTo = Math.max(this.gapTo, to);
		return false;
	}

	// The history request that fills the hole after top, or null when there is
	// none: {after, limit}.
	needFill() {
		if (!this.loaded)
			return null;
		// Up to the gap's end, or to just before the first message waiting.
		let want = this.gapTo;
		if (this.ahead.size)
			want = Math.max(want, Math.min(...this.ahead.keys()) - 1);
		if (want <= this.top)
			return null;
		return {after: this.top, limit: Math.min(PAGE, want - this.top)};
	}

	// A fill page came back. When it moved nothing forward while a hole remains
	// (the server no longer has those seqs), restart the run at the first waiting
	// message rather than wait forever. Returns {shown, updated, replaced}.
	filled(page) {
		const before = this.top;
		const r = this.add(sortedMessages(page));
		if (this.gapTo <= this.top)
			this.gapTo = 0;
		r.replaced = false;
		if (this.top === before && this.needFill()) {
			const next = Math.min(...this.ahead.keys(), this.gapTo ? this.gapTo + 1 : Infinity);
			this.bySeq.clear();
			this.base = this.top = next - 1;
			this.hasOlder = true;
			this.gapTo = 0;
			this.version++;
			this.drain();
			r.replaced = true;
		}
		return r;
	}

	// An `edited` or `deleted` frame: changes a shown message in place. Returns the
	// new message, or null when it is not shown.
	patch(frame) {
		const old = this.bySeq.get(frame.seq) || this.ahead.get(frame.seq);
		if (!old)
			return null;
		const m = {...old};
		if (frame.type === 'deleted' || frame.deleted) {
			m.deleted = true;
			m.body = null;
		} else if (typeof frame.body === 'string') {
			m.body = frame.body;
		}
		if (frame.edited_at)
			m.edited_at = frame.edited_at;
		if (this.bySeq.has(m.seq))
			this.bySeq.set(m.seq, m);
		else
			this.ahead.set(m.seq, m);
		return this.bySeq.has(m.seq) ? m : null;
	}

	// Keeps at most max shown messages, dropping the oldest. Returns true when any
	// were dropped.
	trim(max) {
		if (this.top - this.base <= max)
			return false;
		while (this.top - this.base > max) {
			this.base++;
			this.bySeq.delete(this.base);
		}
		this.hasOlder = true;
		return true;
	}

	// Messages shown, ascending.
	messages() {
		const out = [];
		for (let s = this.base + 1; s <= this.top; s++) {
			const m = this.bySeq.get(s);
			if (m)
				out.push(m);
		}
		return out;
	}

	// --- outbox ---

	// A new send; the caller sends {type:'send', room, body, client_id}.
	queue(body, clientId) {
		const e = {client_id: clientId, body, state: 'sending', seq: 0, error: null, sentAt: 0};
		this.outbox.set(clientId, e);
		return e;
	}

	// An ack {client_id, seq}: the send is stored. The pending entry stays (as
	// "sent") until its message is shown, then goes. Returns true when the outbox
	// changed.
	ack(frame) {
		const e = this.outbox.get(frame.client_id);
		if (!e)
			return false;
		if (frame.seq <= this.top && this.bySeq.has(frame.seq)) {
			this.outbox.delete(frame.client_id);
			return true;
		}
		e.state = 'sent';
		e.seq = frame.seq;
		e.error = null;
		return true;
	}

	// An error frame for a send. Returns the entry, or null.
	fail(clientId, code, message) {
		const e = this.outbox.get(clientId);
		if (!e || e.state === 'sent')
			return null;
		e.state = 'failed';
		e.error = {code, message};
		return e;
	}

	// Sends to (re)send: not acknowledged, not failed.
	unsent() {
		return [...this.outbox.values()].filter((e) => e.state === 'sending');
	}

	// Pending entries in the order they were queued.
	pending() {
		return [...this.outbox.values()];
	}
}

function validMessage(m) {
	return m && typeof m === 'object' && Number.isInteger(m.seq) && m.seq >= 1;
}

function changed(a, b) {
	return a.body !== b.body || a.edited_at !== b.edited_at || a.deleted !== b.deleted;
}

function sortedMessages(page) {
	const list = page && Array.isArray(page.messages) ? page.messages : [];
	return list.filter(validMessage).sort((a, b) => a.seq - b.seq);
}
