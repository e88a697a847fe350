// chat.js — the chat page: who is signed in, the rooms, the open room, live.
//
// For: wiring the pieces together. It loads the person (GET /api/me; a 401 goes
// to /login.html) and their rooms, keeps one ChatSocket joined to every room
// they belong to (each resumed with since = the highest contiguous seq shown),
// routes each server frame to its handler (a table, FRAMES), fills holes over
// HTTP before anything newer is shown, and resends unacknowledged sends with
// their original client_id after a reconnect. It also keeps the members' read
// markers for "Seen by …" (readers.js) and hands the People, room Details and
// edit dialogs (people.js, room-admin.js, message-actions.js) what they change.
// Not for: the rules of a room's message run (room-state.js), drawing
// (rooms-view.js, messages-view.js), the socket's life (socket.js).

import {api} from './api.js';
import {$} from './dom.js';
import {ChatSocket} from './socket.js';
import {RoomState} from './room-state.js';
import {RoomsView} from './rooms-view.js';
import {MessagesView} from './messages-view.js';
import {Composer} from './composer.js';
import {InvitesView} from './invites-view.js';
import {setupNewRoom} from './new-room.js';
import {Calls} from './call.js';
import {Readers, seenText} from './readers.js';
import {PeopleDialog} from './people.js';
import {RoomDialog} from './room-admin.js';
import {MessageActions} from './message-actions.js';

// Frames that mean the session is over: sign in again.
const AUTH_CODES = new Set(['session_revoked', 'session_expired', 'unauthenticated']);
// Send errors worth retrying by themselves (nothing was stored).
const RETRY_CODES = new Set(['rate_limited', 'unavailable']);
const KEEP_OPEN = 2000;		// messages kept for the open room (while at the bottom)
const KEEP_HIDDEN = 300;	// for rooms in the background
const RESEND_AFTER = 15000;	// an unacknowledged send is sent again (same client_id)
const FIRST_PAGE = 50;
const READ_EVERY = 1000;	// read markers at most this often per room
const TYPING_SHOWN = 4000;	// "X is typing…" fades this long after their last typing frame

const app = {
	me: null,
	rooms: new Map(),	// id → room {id, name, kind, member_count, last_seq, unread, joined}
	order: [],		// room ids in the server's order
	next: null,		// `after` for the next page of rooms
	states: new Map(),	// id → RoomState, for rooms whose messages were loaded
	current: null,		// the open room's id
	subscribed: new Set(),	// rooms the socket should be joined to
	maxRooms: 100,		// joined rooms per socket (contract limit; /api/config may say)
	filling: new Set(),	// rooms with a hole being filled over HTTP
	loadingOlder: false,
	openToken: 0,
	lastRead: new Map(),	// id → seq last reported read
	readTimer: new Map(),
	typing: new Map(),	// username → timeout, for the open room
	online: new Map(),	// room id → Set of user ids online there (joined, presence)
	readers: new Readers(),	// members' read markers, for "Seen by …"
	socket: null,
	leaving: false,
};

const ui = {};

// crypto.randomUUID exists only in secure contexts; a plain-http deployment on a
// LAN address still needs client ids, so fall back to getRandomValues (RFC 4122 v4).
function uuid() {
	if (crypto.randomUUID)
		return crypto.randomUUID();
	const b = crypto.getRandomValues(new Uint8Array(16));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function goLogin() {
	if (app.leaving)
		return;
	app.leaving = true;
	if (app.socket)
		app.socket.stop();
	location.replace('/login.html');
}

// Any API failure: a 401 ends the page's session; others are shown.
function apiFailed(err, what) {
	if (err && err.status === 401) {
		goLogin();
		return;
	}
	notice(`${what}: ${err && err.message ? err.message : 'something went wrong.'}`);
}

let noticeTimer = 0;
function notice(text, ms = 6000) {
	ui.notice.textContent = text;
	ui.notice.hidden = !text;
	clearTimeout(noticeTimer);
	if (text)
		noticeTimer = setTimeout(() => { ui.notice.hidden = true; }, ms);
}

// ---- rooms ----

function upsertRoom(r, {front = false} = {}) {
	if (!r || r.id == null)
		return null;
	const old = app.rooms.get(r.id);
	const room = {unread: 0, last_seq: 0, member_count: 0, joined: false, ...old, ...r};
	app.rooms.set(r.id, room);
	if (!old) {
		if (front)
			app.order.unshift(r.id);
		else
			app.order.push(r.id);
	}
	return room;
}

function dropRoom(id) {
	app.rooms.delete(id);
	app.order = app.order.filter((x) => x !== id);
	app.states.delete(id);
	unsubscribe(id);
}

function renderRooms() {
	ui.roomsView.render(app.order.map((id) => app.rooms.get(id)).filter(Boolean), app.current);
	ui.moreRooms.hidden = app.next == null;
	let unread = 0;
	for (const r of app.rooms.values())
		if (r.joined && r.id !== app.current)
			unread += r.unread || 0;
	const cur = app.rooms.get(app.current);
	const title = cur ? `${cur.kind === 'direct' ? '@' : '#'}${cur.name} · pipechat` : 'pipechat';
	document.title = unread ? `(${unread}) ${title}` : title;
}

async function loadRooms() {
	try {
		const page = await api.rooms(app.next);
		for (const r of page.rooms || [])
			upsertRoom(r);
		app.next = page.next ?? null;
		ui.roomsError.hidden = true;
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		ui.roomsError.textContent = `Rooms could not be loaded: ${err.message}`;
		ui.roomsError.hidden = false;
	}
	renderRooms();
	for (const id of app.order)
		if (app.rooms.get(id).joined)
			subscribe(id);
}

// ---- socket subscriptions ----

function subscribe(id) {
	if (app.subscribed.has(id))
		return;
	if (app.subscribed.size >= app.maxRooms) {
		if (id !== app.current)
			return;
		// Make room for the open one: leave a background room with no loaded state.
		const victim = [...app.subscribed].find((x) => x !== app.current && !app.states.get(x)) ??
			[...app.subscribed].find((x) => x !== app.current);
		if (victim == null)
			return;
		unsubscribe(victim);
	}
	app.subscribed.add(id);
	sendJoin(id);
}

function unsubscribe(id) {
	app.online.delete(id);
	if (!app.subscribed.delete(id))
		return;
	app.socket.send({type: 'leave', room: id});
}

// The join frame for a room, then its unacknowledged sends (in order, after the
// join on the same socket so the worker sees the membership first).
function sendJoin(id) {
	const st = app.states.get(id);
	const frame = {type: 'join', room: id};
	if (st && st.loaded)
		frame.since = st.since();
	if (!app.socket.send(frame))
		return;
	if (st)
		for (const e of st.unsent())
			transmit(st, e);
}

function transmit(st, e) {
	e.sentAt = Date.now();
	e.retryAt = 0;
	app.socket.send({type: 'send', room: st.id, body: e.body, client_id: e.client_id});
}

function onSocketOpen() {
	for (const id of app.subscribed)
		sendJoin(id);
}

function onSocketState(state, {retryAt}) {
	ui.conn.dataset.state = state;
	ui.conn.textContent = state === 'connecting' ? 'connecting…' : state;
	ui.conn.title = state === 'offline' && retryAt
		? `Offline — reconnecting in ${Math.max(1, Math.round((retryAt - Date.now()) / 1000))} s`
		: `Connection: ${state}`;
	document.body.dataset.conn = state;
}

// Every few seconds: resend sends that got no ack (the server answers a repeated
// client_id with the original ack, so this is safe) and those whose wait is over.
function resendTick() {
	if (!app.socket.online)
		return;
	const now = Date.now();
	for (const st of app.states.values()) {
		if (!app.subscribed.has(st.id))
			continue;
		for (const e of st.unsent())
			if ((e.retryAt && now >= e.retryAt) || (!e.retryAt && e.sentAt && now - e.sentAt > RESEND_AFTER))
				transmit(st, e);
	}
}

// ---- frames ----

const FRAMES = {
	hello: onHello,
	joined: onJoined,
	message: onMessage,
	ack: onAck,
	gap: onGap,
	error: onErrorFrame,
	typing: onTyping,
	presence: onPresence,
	edited: onPatch,
	deleted: onPatch,
	removed: onRemoved,
	room: onRoomEvent,
	invite: onInvite,
	read: onRead,
	call: (f) => ui.calls && ui.calls.onFrame(f),
	ping: () => {},	// keep-alive only; no answer needed
	pong: () => {},
};

function onFrame(f) {
	const h = FRAMES[f.type];
	if (h)
		h(f);
}

function onHello(f) {
	// Another account signed in in another tab: this page is stale.
	if (f.user && app.me && String(f.user.id) !== String(app.me.id))
		location.reload();
}

function onJoined(f) {
	const r = app.rooms.get(f.room);
	if (!r)
		return;
	if (Number.isInteger(f.last_seq)) {
		// A room joined without `since` (no messages loaded) gets no replay:
		// what was sent since the room list was read counts as unread here.
		const missed = f.last_seq - (r.last_seq || 0);
		const st = app.states.get(f.room);
		if (missed > 0 && r.joined && f.room !== app.current && !(st && st.loaded)) {
			r.unread = (r.unread || 0) + missed;
			renderRooms();
		}
		r.last_seq = Math.max(r.last_seq || 0, f.last_seq);
	}
	if (Array.isArray(f.online))
		app.online.set(f.room, new Set(f.online.map((u) => String(u && u.id != null ? u.id : u))));
	if (f.room === app.current)
		renderRoomHead();
	if (r.kind === 'direct')
		renderRooms();
}

function isMine(m) {
	return m.user && String(m.user.id) === String(app.me.id);
}

function onMessage(m) {
	const r = app.rooms.get(m.room);
	const st = app.states.get(m.room);
	if (m.user)	// sending moves the sender's read marker to the message
		app.readers.update(m.room, m.user, m.seq);
	if (r) {
		if (m.seq > (r.last_seq || 0)) {
			if (!isMine(m) && !(m.room === app.current && !document.hidden))
				r.unread = (r.unread || 0) + 1;
			r.last_seq = m.seq;
		}
	}
	if (st) {
		const res = st.add([m]);
		shown(st, res);
		if (st.needFill())
			fill(st);
	}
	if (m.room === app.current && m.user)
		stopTyping(m.user.username);
	renderRooms();
}

// After state changed: redraw the open room, trim the others.
function shown(st, {shown: added = [], updated = []} = {}) {
	if (st.id !== app.current) {
		st.trim(KEEP_HIDDEN);
		return;
	}
	for (const m of updated)
		ui.messages.update(m);
	if (ui.messages.atBottom() && st.trim(KEEP_OPEN))
		ui.messages.dropBelow(st);
	const mine = added.some(isMine);
	ui.messages.sync(st);
	ui.messages.showPending(st);
	if (mine)
		ui.messages.scrollToBottom();
	setHistoryStatus(st);
	markRead();
	refreshSeen();
}

function onAck(f) {
	const st = app.states.get(f.room);
	if (st && st.ack(f) && f.room === app.current)
		ui.messages.showPending(st);
}

function onGap(f) {
	const st = app.states.get(f.room);
	if (!st)
		return;
	if (st.gap(f.from, f.to) && st.id === app.current)
		ui.messages.sync(st);
	fill(st);
}

// Fetches the hole after st.top page by page until nothing is missing; newer
// messages wait in the state meanwhile.
async function fill(st) {
	if (app.filling.has(st.id))
		return;
	app.filling.add(st.id);
	try {
		for (let i = 0; i < 1000; i++) {
			const need = st.needFill();
			if (!need || app.states.get(st.id) !== st)
				break;
			const page = await api.history(st.id, {after: need.after, limit: need.limit});
			shown(st, st.filled(page));
		}
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		if (err.status === 404) {
			dropRoom(st.id);
			renderRooms();
			return;
		}
		setTimeout(() => fill(st), 3000);
	} finally {
		app.filling.delete(st.id);
	}
}

function findEntry(clientId) {
	for (const st of app.states.values()) {
		const e = st.outbox.get(clientId);
		if (e)
			return [st, e];
	}
	return [null, null];
}

function onErrorFrame(f) {
	if (AUTH_CODES.has(f.code))
		return goLogin();
	if (ui.calls && ui.calls.onError(f))
		return;
	const [st, e] = f.ref ? findEntry(f.ref) : [null, null];
	if (st && e) {
		if (RETRY_CODES.has(f.code)) {
			const wait = Number.isFinite(f.retry_after_ms) ? f.retry_after_ms : 3000;
			e.retryAt = Date.now() + Math.max(200, wait);
			setTimeout(resendTick, Math.max(200, wait) + 50);
			return;
		}
		st.fail(f.ref, f.code, f.message || f.code);
		if (st.id === app.current)
			ui.messages.showPending(st);
		return;
	}
	if ((f.code === 'not_found' || f.code === 'not_member') && f.room != null) {
		app.subscribed.delete(f.room);
		app.online.delete(f.room);
		const r = app.rooms.get(f.room);
		if (r && f.code === 'not_member')
			r.joined = false;
		if (f.code === 'not_found')
			dropRoom(f.room);
		renderRooms();
		if (f.room === app.current)
			openRoom(app.rooms.has(f.room) ? f.room : null);
	}
	// Typing and read frames are best effort; say nothing when they are refused.
	if (f.ref === 'typing' || f.ref === 'read')
		return;
	notice(f.message || f.code);
}

function onTyping(f) {
	if (f.room !== app.current || !f.user || String(f.user.id) === String(app.me.id))
		return;
	const name = f.user.username;
	clearTimeout(app.typing.get(name));
	app.typing.set(name, setTimeout(() => stopTyping(name), TYPING_SHOWN));
	renderTyping();
}

function stopTyping(name) {
	if (!app.typing.has(name))
		return;
	clearTimeout(app.typing.get(name));
	app.typing.delete(name);
	renderTyping();
}

// The line fades out (CSS on .typing without .on) before its text goes.
let typingClear = 0;
function renderTyping() {
	const names = [...app.typing.keys()];
	clearTimeout(typingClear);
	if (names.length === 0) {
		ui.typing.classList.remove('on');
		typingClear = setTimeout(() => { ui.typing.textContent = ''; }, 600);
		return;
	}
	ui.typing.textContent = names.length === 1 ? `${names[0]} is typing…`
		: names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
		: 'Several people are typing…';
	ui.typing.classList.add('on');
}

function onPresence(f) {
	if (!f.user)
		return;
	if (!app.online.has(f.room))
		app.online.set(f.room, new Set());
	if (f.online)
		app.online.get(f.room).add(String(f.user.id));
	else
		app.online.get(f.room).delete(String(f.user.id));
	if (f.room === app.current)
		renderRoomHead();
	if (app.rooms.get(f.room)?.kind === 'direct')
		renderRooms();
	// A new member came online here (joined, accepted an invitation): count and
	// read markers are stale.
	if (f.online && f.room === app.current && !app.readers.knows(f.room, f.user.id))
		loadMembers(f.room);
}

function onPatch(f) {
	const st = app.states.get(f.room);
	if (!st)
		return;
	const m = st.patch(f);
	if (m && f.room === app.current) {
		ui.messages.update(m);
		refreshSeen();
	}
}

function onRemoved(f) {
	const r = app.rooms.get(f.room);
	if (!r)
		return;
	app.subscribed.delete(f.room);
	app.online.delete(f.room);
	app.readers.forget(f.room);
	if (ui.roomDialog.room && ui.roomDialog.room.id === f.room)
		ui.roomDialog.close();
	if (r.kind === 'public') {
		r.joined = false;
		r.unread = 0;
		// Left, kicked, or deleted? A deleted room leaves the list.
		api.room(f.room).catch((err) => {
			if (err.status === 404 && f.room !== app.current) {
				dropRoom(f.room);
				renderRooms();
			}
		});
	} else {
		dropRoom(f.room);
	}
	if (f.room === app.current) {
		notice(`You are no longer a member of ${r.name}.`);
		openRoom(app.rooms.has(f.room) ? f.room : null);
	}
	renderRooms();
}

function onRoomEvent(f) {
	const room = f.room && typeof f.room === 'object' ? f.room : null;
	if (!room)
		return;
	const r = upsertRoom({joined: true, ...room}, {front: true});
	if (r.joined)
		subscribe(r.id);
	ui.roomDialog.changed(r);
	if (r.id === app.current) {
		renderRoomHead();
		if (app.states.has(r.id))
			setHistoryStatus(app.states.get(r.id));	// it names the room
	}
	renderRooms();
}

function onInvite(f) {
	ui.invites.add(f.invite);
}

function onRead(f) {
	const r = app.rooms.get(f.room);
	if (!r || !f.user)
		return;
	if (String(f.user.id) !== String(app.me.id)) {
		// Someone else's marker: "Seen by …".
		if (app.readers.update(f.room, f.user, f.seq) && f.room === app.current)
			refreshSeen();
		return;
	}
	// My own read marker, moved in another tab.
	r.unread = Math.max(0, (r.last_seq || 0) - f.seq);
	app.lastRead.set(f.room, Math.max(app.lastRead.get(f.room) || 0, f.seq));
	renderRooms();
}

// ---- the open room ----

function renderRoomHead() {
	if (ui.calls)
		ui.calls.setRoom(app.rooms.get(app.current));
	const r = app.rooms.get(app.current);
	ui.roomMenu.hidden = !r;
	if (!r) {
		ui.roomTitle.textContent = 'Choose a room';
		ui.roomInfo.textContent = '';
		return;
	}
	ui.roomTitle.textContent = `${r.kind === 'direct' ? '@' : r.kind === 'private' ? '🔒 ' : '#'}${r.name}`;
	const parts = [];
	if (r.kind !== 'direct')
		parts.push(`${r.member_count ?? 0} member${r.member_count === 1 ? '' : 's'}`);
	const online = app.online.has(r.id) ? app.online.get(r.id).size : 0;
	if (r.joined && online)
		parts.push(`${online} online`);
	if (!r.joined)
		parts.push('preview');
	ui.roomInfo.textContent = parts.join(' · ');
}

function setHistoryStatus(st) {
	const r = app.rooms.get(st.id);
	if (app.loadingOlder)
		ui.messages.setStatus('Loading older messages…');
	else if (st.loaded && !st.hasOlder)
		ui.messages.setStatus(st.top === 0 ? `No messages yet in ${r ? r.name : 'this room'}. Say hello!`
			: `This is the start of ${r ? r.name : 'the room'}.`);
	else
		ui.messages.setStatus('');
}

async function openRoom(id) {
	const token = ++app.openToken;
	closeSidebar();
	clearTypingAll();
	if (id != null && !app.rooms.has(id)) {
		try {
			upsertRoom(await api.room(id));
		} catch {
			id = null;
		}
		if (token !== app.openToken)
			return;
	}
	app.current = id;
	const r = app.rooms.get(id);
	history.replaceState(null, '', r ? `#room=${id}` : location.pathname);
	renderRooms();
	renderRoomHead();
	ui.welcome.hidden = Boolean(r);
	ui.joinBar.hidden = !r || r.joined;
	ui.composer.enable(Boolean(r && r.joined));
	if (!r) {
		ui.messages.show(new RoomState(null));
		ui.messages.setStatus('');
		return;
	}
	let st = app.states.get(id);
	if (!st) {
		st = new RoomState(id);
		app.states.set(id, st);
	}
	ui.messages.show(st);
	if (!st.loaded) {
		ui.messages.setStatus('Loading messages…');
		let page;
		try {
			page = await api.history(id, {limit: FIRST_PAGE});
		} catch (err) {
			if (app.states.get(id) === st && !st.loaded)
				app.states.delete(id);
			if (err.status === 401)
				return goLogin();
			if (token !== app.openToken)
				return;
			if (err.status === 404) {
				dropRoom(id);
				notice('That room no longer exists.');
				return openRoom(null);
			}
			ui.messages.setStatus(`Messages could not be loaded: ${err.message}`);
			return;
		}
		st.loadLatest(page);
		if (st.needFill())
			fill(st);
	}
	if (token !== app.openToken)
		return;
	ui.messages.show(st);
	setHistoryStatus(st);
	if (r.joined) {
		subscribe(id);
		loadMembers(id);
	}
	refreshSeen();
	markRead();
	if (matchMedia('(pointer: fine)').matches && r.joined)
		ui.composer.focus();
}

function clearTypingAll() {
	for (const t of app.typing.values())
		clearTimeout(t);
	app.typing.clear();
	renderTyping();
}

async function loadOlder() {
	const st = app.states.get(app.current);
	if (!st || !st.loaded || !st.hasOlder || app.loadingOlder)
		return;
	app.loadingOlder = true;
	setHistoryStatus(st);
	try {
		const page = await api.history(st.id, {before: st.base + 1, limit: FIRST_PAGE});
		st.prepend(page);
		if (st.id === app.current)
			ui.messages.sync(st);
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		notice(`Older messages could not be loaded: ${err.message}`);
	} finally {
		app.loadingOlder = false;
		if (st.id === app.current)
			setHistoryStatus(st);
	}
}

// Tells the server how far the open room has been read, when it is really seen.
function markRead() {
	const id = app.current;
	const r = app.rooms.get(id);
	const st = app.states.get(id);
	if (!r || !r.joined || !st || !st.top || document.hidden || !ui.messages.atBottom())
		return;
	r.unread = 0;
	if (st.top <= (app.lastRead.get(id) || 0) || app.readTimer.has(id))
		return;
	app.readTimer.set(id, setTimeout(() => {
		app.readTimer.delete(id);
		const seq = st.top;
		if (seq > (app.lastRead.get(id) || 0) && app.socket.send({type: 'read', room: id, seq}))
			app.lastRead.set(id, seq);
	}, READ_EVERY));
	renderRooms();
}

function sendMessage(body) {
	const r = app.rooms.get(app.current);
	const st = app.states.get(app.current);
	if (!r || !r.joined || !st || !st.loaded)
		return false;
	const e = st.queue(body, uuid());
	transmit(st, e);
	ui.messages.showPending(st);
	ui.messages.scrollToBottom();
	return true;
}

async function joinCurrent() {
	const id = app.current;
	const r = app.rooms.get(id);
	if (!r)
		return;
	ui.joinButton.disabled = true;
	try {
		await api.joinRoom(id);
		r.joined = true;
		r.member_count = (r.member_count || 0) + 1;
		subscribe(id);
		ui.joinBar.hidden = true;
		ui.composer.enable(true);
		ui.composer.focus();
		renderRooms();
		renderRoomHead();
	} catch (err) {
		apiFailed(err, 'Could not join');
	} finally {
		ui.joinButton.disabled = false;
	}
}

// ---- read markers of others, people, the room's details ----

// Members of a joined room: their read markers (for "Seen by …") and count.
async function loadMembers(id) {
	let res;
	try {
		res = await api.members(id);
	} catch (err) {
		if (err.status === 401)
			goLogin();
		return;	// best effort: no "Seen by" until the next open
	}
	onMembers(id, (res && res.members) || []);
}

function onMembers(id, members) {
	app.readers.load(id, members);
	const r = app.rooms.get(id);
	if (r)
		r.member_count = members.length;
	if (id === app.current) {
		renderRoomHead();
		refreshSeen();
	}
}

// "Seen by …" under my newest message in the open room.
function refreshSeen() {
	const id = app.current;
	const st = app.states.get(id);
	if (!st || !ui.messages)
		return;
	for (let s = st.top; s > st.base; s--) {
		const m = st.bySeq.get(s);
		if (m && isMine(m) && m.kind !== 'system' && !m.deleted) {
			ui.messages.setSeen(id, s, seenText(app.readers.seenBy(id, s, app.me.id)));
			return;
		}
	}
	ui.messages.setSeen(id, 0, '');
}

// A direct room's other person is online (has a socket in it).
function directOnline(r) {
	const set = app.online.get(r.id);
	return Boolean(set && [...set].some((uid) => uid !== String(app.me.id)));
}

// A direct room from POST /api/dm (or any room to show now).
function openGivenRoom(room) {
	upsertRoom({member_count: 2, last_seq: 0, unread: 0, ...room, joined: true}, {front: true});
	subscribe(room.id);
	openRoom(room.id);
}

// After I deleted or left a room over HTTP (the `removed` frame may follow).
function roomGone(id, how) {
	const r = app.rooms.get(id);
	app.subscribed.delete(id);	// the server unsubscribes this socket itself
	app.readers.forget(id);
	if (r && r.kind === 'public' && how === 'left') {
		r.joined = false;
		r.unread = 0;
		app.online.delete(id);
	} else {
		dropRoom(id);
	}
	renderRooms();
	if (app.current === id)
		openRoom(app.rooms.has(id) ? id : null);
}

// ---- phone sidebar ----

function openSidebar() {
	document.body.classList.add('sidebar-open');
	ui.menu.setAttribute('aria-expanded', 'true');
	ui.scrim.hidden = false;
}

function closeSidebar() {
	document.body.classList.remove('sidebar-open');
	ui.menu.setAttribute('aria-expanded', 'false');
	ui.scrim.hidden = true;
}

// ---- start ----

function roomFromHash() {
	const m = /^#room=(\d+)$/.exec(location.hash);
	return m ? Number(m[1]) : null;
}

function pickFirstRoom() {
	const fromHash = roomFromHash();
	if (fromHash != null)
		return fromHash;
	const rooms = app.order.map((id) => app.rooms.get(id));
	const general = rooms.find((r) => r.kind === 'public' && r.name.toLowerCase() === 'general');
	const firstJoined = rooms.find((r) => r.joined);
	return (general && general.joined ? general : firstJoined || general || null)?.id ?? null;
}

async function start() {
	Object.assign(ui, {
		conn: $('#conn'),
		notice: $('#notice'),
		typing: $('#typing'),
		roomTitle: $('#room-title'),
		roomInfo: $('#room-info'),
		welcome: $('#welcome'),
		joinBar: $('#join-bar'),
		joinButton: $('#join'),
		moreRooms: $('#more-rooms'),
		roomsError: $('#rooms-error'),
		menu: $('#menu'),
		scrim: $('#scrim'),
		roomMenu: $('#room-menu'),
	});

	let me;
	try {
		me = await api.me();
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		document.body.dataset.state = 'error';
		notice(`pipechat cannot start: ${err.message} Reload the page to try again.`, 1e9);
		return;
	}
	app.me = me;
	$('#me-name').textContent = me.username;
	document.body.dataset.state = 'ready';

	ui.roomsView = new RoomsView({
		mine: $('#my-rooms'),
		mineTitle: $('#my-rooms-title'),
		others: $('#public-rooms'),
		othersTitle: $('#public-rooms-title'),
		empty: $('#rooms-empty'),
		direct: $('#direct-rooms'),
		directTitle: $('#direct-rooms-title'),
		isOnline: directOnline,
		onOpen: (id) => openRoom(id),
	});
	ui.messages = new MessagesView({
		scroller: $('#scroller'),
		list: $('#messages'),
		pending: $('#pending'),
		status: $('#history-status'),
		meId: me.id,
		meName: me.username,
		onNearTop: loadOlder,
		onAtBottom: markRead,
		onEdit: (m) => ui.actions.edit(m),
		onDelete: (m) => ui.actions.remove(m),
		onPerson: (u) => ui.people.showPerson(u),
		onRetry: (e) => {
			const st = app.states.get(app.current);
			if (!st)
				return;
			e.state = 'sending';
			e.error = null;
			transmit(st, e);
			ui.messages.showPending(st);
		},
		onDiscard: (e) => {
			const st = app.states.get(app.current);
			if (!st)
				return;
			st.outbox.delete(e.client_id);
			ui.messages.showPending(st);
		},
	});
	ui.calls = new Calls({me, send: (frame) => Boolean(app.socket && app.socket.send(frame)), notice});
	ui.composer = new Composer({
		form: $('#composer'),
		onSend: sendMessage,
		onTyping: () => app.socket.send({type: 'typing', room: app.current}),
		onProblem: (text) => notice(text || ''),
	});

	$('#logout').addEventListener('click', async () => {
		try {
			await api.logout();
		} catch (err) {
			if (err.status !== 401)
				return apiFailed(err, 'Could not sign out');
		}
		goLogin();
	});
	ui.joinButton.addEventListener('click', joinCurrent);
	ui.moreRooms.addEventListener('click', loadRooms);
	ui.menu.addEventListener('click', () =>
		document.body.classList.contains('sidebar-open') ? closeSidebar() : openSidebar());
	ui.scrim.addEventListener('click', closeSidebar);
	document.addEventListener('keydown', (ev) => {
		if (ev.key === 'Escape')
			closeSidebar();
	});
	setupNewRoom({
		dialog: $('#new-room-dialog'),
		form: $('#new-room-form'),
		openButton: $('#new-room'),
		cancelButton: $('#new-room-cancel'),
		onUnauthenticated: goLogin,
		onCreated: (room) => {
			upsertRoom({member_count: 1, last_seq: 0, unread: 0, ...room, joined: true}, {front: true});
			subscribe(room.id);
			openRoom(room.id);
		},
	});
	ui.invites = new InvitesView({
		list: $('#invites'),
		box: $('#invites-box'),
		onError: (err) => apiFailed(err, 'Invitation'),
		onAccepted: (inv) => {
			if (!inv.room)
				return;
			upsertRoom({id: inv.room.id, name: inv.room.name, kind: 'private', joined: true}, {front: true});
			subscribe(inv.room.id);
			openRoom(inv.room.id);
		},
	});
	ui.people = new PeopleDialog({meId: me.id, onOpenRoom: openGivenRoom, onUnauthenticated: goLogin});
	$('#people').addEventListener('click', () => ui.people.open());
	ui.roomDialog = new RoomDialog({
		meId: me.id,
		onMembers,
		onRenamed: (room) => onRoomEvent({room}),
		onGone: roomGone,
		onPerson: (u) => ui.people.showPerson(u),
		onUnauthenticated: goLogin,
		isOnline: (roomId, userId) => Boolean(app.online.get(roomId)?.has(String(userId))),
	});
	ui.roomMenu.addEventListener('click', () => {
		const r = app.rooms.get(app.current);
		if (r)
			ui.roomDialog.open(r);
	});
	ui.actions = new MessageActions({
		onChanged: onPatch,
		onProblem: (text) => notice(text),
		onUnauthenticated: goLogin,
	});

	app.socket = new ChatSocket({
		url: ChatSocket.urlFor(),
		onFrame,
		onOpen: onSocketOpen,
		onState: onSocketState,
	});
	app.socket.start();
	setInterval(resendTick, 5000);
	document.addEventListener('visibilitychange', () => {
		if (!document.hidden) {
			app.socket.nudge();
			markRead();
		}
	});
	addEventListener('online', () => app.socket.nudge());
	addEventListener('hashchange', () => {
		const id = roomFromHash();
		if (id != null && id !== app.current)
			openRoom(id);
	});

	api.config().then((c) => {
		const n = c && c.limits && (c.limits.max_rooms_per_socket ?? c.limits.rooms_per_socket);
		if (Number.isInteger(n) && n > 0)
			app.maxRooms = n;
	}).catch(() => {});
	ui.invites.load();
	await loadRooms();
	await openRoom(pickFirstRoom());
	if (app.current == null)
		openSidebar();
}

start();
