// messages-view.js — the open room's messages on screen.
//
// For: drawing a RoomState — its contiguous run of messages as bubbles, each with
// author and local time, day dividers, and its outbox as "sending…" bubbles below —
// and keeping the scroll where a reader expects it (stick to the bottom when at
// the bottom, stay put when older messages are put on top). It also offers Edit
// and Delete on one's own messages, makes other authors' names clickable, and
// shows "Seen by …" under a given message (setSeen).
// Not for: deciding what is shown (room-state.js) or fetching (chat.js).

import {el, clear, appendLinkified} from './dom.js';

const NEAR = 80;	// px from an edge that still counts as "at" it
// The server takes edits for 24 hours (contract section 8); the button goes a
// minute earlier so a click at the edge does not fail.
export const EDIT_WINDOW_MS = 24 * 3600 * 1000 - 60 * 1000;

const timeFmt = new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit'});
const fullFmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'full', timeStyle: 'medium'});
const dayFmt = new Intl.DateTimeFormat(undefined, {weekday: 'long', day: 'numeric', month: 'long', year: 'numeric'});

function dayKey(d) {
	return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

function dateOf(m) {
	const d = new Date(m.created_at);
	return Number.isNaN(d.getTime()) ? new Date() : d;
}

function dayLabel(d) {
	const today = new Date();
	const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
	if (dayKey(d) === dayKey(today))
		return 'Today';
	if (dayKey(d) === dayKey(yesterday))
		return 'Yesterday';
	return dayFmt.format(d);
}

export class MessagesView {
	// scroller: the scrolling box; list, pending: <ol>s; meId: the signed-in user's id;
	// onNearTop() when the reader scrolls to the top; onRetry(entry), onDiscard(entry)
	// for failed sends; onAtBottom() when the newest message is in view;
	// onEdit(message), onDelete(message) for one's own; onPerson(user) when
	// another author's name is clicked.
	constructor({scroller, list, pending, status, meId, meName, onNearTop, onRetry, onDiscard, onAtBottom,
		onEdit = () => {}, onDelete = () => {}, onPerson = () => {}}) {
		Object.assign(this, {scroller, list, pending, status, meId, meName, onNearTop, onRetry, onDiscard, onAtBottom,
			onEdit, onDelete, onPerson});
		this.seen = {room: null, seq: 0, text: ''};
		this.seenNode = null;
		this.room = null;
		this.version = -1;
		this.lo = 0;	// lowest seq drawn (0: none)
		this.hi = 0;	// highest seq drawn
		this.nodes = new Map();	// seq → <li>
		scroller.addEventListener('scroll', () => this.onScroll(), {passive: true});
	}

	onScroll() {
		if (this.scroller.scrollTop < NEAR)
			this.onNearTop();
		if (this.atBottom())
			this.onAtBottom();
	}

	atBottom() {
		const s = this.scroller;
		return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR;
	}

	scrollToBottom() {
		this.scroller.scrollTop = this.scroller.scrollHeight;
	}

	// Draws state from scratch (another room, or the run was replaced).
	show(state) {
		this.room = state.id;
		this.version = state.version;
		clear(this.list);
		this.nodes.clear();
		this.lo = this.hi = 0;
		const frag = document.createDocumentFragment();
		let prevDay = null;
		for (const m of state.messages()) {
			const d = dateOf(m);
			if (dayKey(d) !== prevDay)
				frag.append(this.divider(d));
			prevDay = dayKey(d);
			frag.append(this.bubble(m));
			if (!this.lo)
				this.lo = m.seq;
			this.hi = m.seq;
		}
		this.list.append(frag);
		this.placeSeen();
		this.showPending(state);
		this.scrollToBottom();
	}

	// "Seen by …" under message seq of room (text '' hides it). Kept across
	// redraws until changed.
	setSeen(room, seq, text) {
		const s = this.seen;
		if (s.room === room && s.seq === seq && s.text === text && (!text || this.seenNode))
			return;
		this.seen = {room, seq, text};
		this.placeSeen();
	}

	placeSeen() {
		const stick = this.atBottom();
		if (this.seenNode)
			this.seenNode.remove();
		this.seenNode = null;
		const {room, seq, text} = this.seen;
		const at = room === this.room && text ? this.nodes.get(seq) : null;
		if (!at)
			return;
		this.seenNode = el('li', {class: 'seen muted small', text, attrs: {'data-testid': 'seen', 'data-seq': seq}});
		at.after(this.seenNode);
		if (stick)
			this.scrollToBottom();
	}

	// Brings the screen up to date with state: new messages at the bottom, older ones
	// on top. Returns true when anything was added at the bottom.
	sync(state) {
		if (state.id !== this.room || state.version !== this.version || !this.lo ||
		    state.base + 1 > this.lo || state.top < this.hi) {
			const had = this.hi;
			this.show(state);
			return this.hi !== had;
		}
		// Older messages, keeping the reader's place.
		if (state.base + 1 < this.lo) {
			const before = this.scroller.scrollHeight;
			const top = this.scroller.scrollTop;
			const frag = document.createDocumentFragment();
			let prevDay = null, last = null;
			for (let s = state.base + 1; s < this.lo; s++) {
				const m = state.bySeq.get(s);
				if (!m)
					continue;
				const d = dateOf(m);
				if (dayKey(d) !== prevDay)
					frag.append(this.divider(d));
				prevDay = dayKey(d);
				frag.append(this.bubble(m));
				last = d;
			}
			const first = this.list.firstElementChild;
			if (last && first && first.classList.contains('day') && first.dataset.day === dayKey(last))
				first.remove();
			this.list.prepend(frag);
			this.lo = state.base + 1;
			this.scroller.scrollTop = top + (this.scroller.scrollHeight - before);
		}
		// Newer messages.
		let added = false;
		if (state.top > this.hi) {
			const stick = this.atBottom();
			let lastDay = this.hi ? dayKey(dateOf(state.bySeq.get(this.hi) || {})) : null;
			for (let s = this.hi + 1; s <= state.top; s++) {
				const m = state.bySeq.get(s);
				if (!m)
					continue;
				const d = dateOf(m);
				if (dayKey(d) !== lastDay)
					this.list.append(this.divider(d));
				lastDay = dayKey(d);
				this.list.append(this.bubble(m));
				added = true;
			}
			this.hi = state.top;
			this.showPending(state);
			if (stick)
				this.scrollToBottom();
		}
		return added;
	}

	// Redraws one shown message (edited or deleted).
	update(m) {
		const old = this.nodes.get(m.seq);
		if (old) {
			const focused = old.contains(document.activeElement);
			const li = this.bubble(m);
			old.replaceWith(li);
			if (focused)
				li.querySelector('.msg-actions button')?.focus();
		}
	}

	// Drops messages no longer in state (trimmed from the top) without a redraw.
	dropBelow(state) {
		while (this.lo && this.lo <= state.base) {
			const n = this.nodes.get(this.lo);
			if (n) {
				// A divider left alone at the top goes too.
				const prev = n.previousElementSibling;
				n.remove();
				this.nodes.delete(this.lo);
				const next = this.list.firstElementChild;
				if (prev && prev.classList.contains('day') && next && next.classList.contains('day'))
					prev.remove();
			}
			this.lo++;
		}
		if (this.lo > this.hi)
			this.lo = this.hi = 0;
	}

	divider(d) {
		return el('li', {class: 'day', attrs: {'data-day': dayKey(d), role: 'separator'}},
			el('span', {text: dayLabel(d)}));
	}

	bubble(m) {
		const user = m.user || {};
		const own = user.id != null && String(user.id) === String(this.meId);
		const d = dateOf(m);
		const cls = ['msg'];
		if (own)
			cls.push('own');
		if (m.kind === 'system')
			cls.push('system');
		if (m.deleted)
			cls.push('deleted');
		const body = el('div', {class: 'body'});
		if (m.deleted || m.body == null)
			body.textContent = 'message deleted';
		else
			appendLinkified(body, m.body);
		const name = user.username || 'unknown';
		// Another live person's name opens their card (message, block).
		const author = !own && user.id != null && m.kind !== 'system' && name !== 'deleted user'
			? el('button', {class: 'author person', text: name,
				attrs: {type: 'button', title: `${name}: message or block`},
				on: {click: () => this.onPerson(user)}})
			: el('span', {class: 'author', text: name});
		const mine = own && !m.deleted && m.kind !== 'system';
		const canEdit = mine && m.body != null && Date.now() - d.getTime() < EDIT_WINDOW_MS;
		const actions = mine ? el('span', {class: 'msg-actions'},
			canEdit ? el('button', {class: 'link', text: 'Edit',
				attrs: {type: 'button', 'data-action': 'edit', 'aria-label': 'Edit message'},
				on: {click: () => this.onEdit(m)}}) : null,
			el('button', {class: 'link', text: 'Delete',
				attrs: {type: 'button', 'data-action': 'delete', 'aria-label': 'Delete message'},
				on: {click: () => this.onDelete(m)}})) : null;
		const li = el('li', {class: cls.join(' '), attrs: {'data-seq': m.seq, 'data-testid': 'message'}},
			el('div', {class: 'meta'},
				author,
				el('time', {text: timeFmt.format(d), attrs: {datetime: m.created_at, title: fullFmt.format(d)}}),
				m.edited_at && !m.deleted ? el('span', {class: 'edited', text: 'edited',
					attrs: {title: `Edited ${fullFmt.format(new Date(m.edited_at))}`}}) : null,
				actions),
			body);
		this.nodes.set(m.seq, li);
		return li;
	}

	// Draws the outbox: each send not yet shown as a message.
	showPending(state) {
		clear(this.pending);
		for (const e of state.pending()) {
			const status = e.state === 'failed'
				? el('span', {class: 'status failed', text: `Not sent: ${e.error ? e.error.message : 'error'}`})
				: el('span', {class: 'status', text: e.state === 'sent' ? 'sent' : 'sending…'});
			const actions = e.state === 'failed' ? el('span', {class: 'actions'},
				el('button', {class: 'link', text: 'Retry', attrs: {type: 'button'}, on: {click: () => this.onRetry(e)}}),
				el('button', {class: 'link', text: 'Discard', attrs: {type: 'button'}, on: {click: () => this.onDiscard(e)}})) : null;
			const body = el('div', {class: 'body'});
			appendLinkified(body, e.body);
			this.pending.append(el('li', {
				class: `msg own pending-msg ${e.state}`,
				attrs: {'data-client-id': e.client_id, 'data-testid': 'pending'},
			},
			el('div', {class: 'meta'}, el('span', {class: 'author', text: this.meName || 'you'}), status, actions),
			body));
		}
	}

	// Shows a line above the messages ("Loading older messages…"), or hides it.
	setStatus(text) {
		this.status.textContent = text || '';
		this.status.hidden = !text;
	}
}
