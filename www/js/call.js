// call.js — audio and video calls: WebRTC between two browsers, signalled
// through the chat socket as `call` frames (contract section 4; the vocabulary
// of data.type is in docs/calls.md).
//
// For: one call at a time per tab. The caller sends `ring`; every tab of the
// callee shows the incoming call; accepting on one tab sends `accept` to the
// caller and to the callee's own other tabs (they stop ringing); the caller
// then sends the SDP `offer`, the callee the `answer`, both trickle ICE
// candidates (batched, to stay well inside the call rate limit); either side
// sends `hangup`. The broker ends a call nobody answers (`missed`, and stores
// the "missed call" message) and tells one side when the other's socket went
// away. ICE servers come from GET /api/config (fetched for every call, since
// TURN credentials are short-lived); an empty list works on one network.
// Not for: drawing (call-view.js), the socket (socket.js via send()).

import {get} from './api.js';
import {CallView} from './call-view.js';

const ICE_BATCH_MS = 120;	// candidates gathered this long go in one frame
const RING_GIVE_UP_MS = 40000;	// the broker says `missed` at 30 s; this is a fallback
const SIGNALS = new Set(['ring', 'accept', 'decline', 'busy', 'offer', 'answer', 'ice', 'hangup', 'missed']);

function newId() {
	if (crypto.randomUUID)
		return crypto.randomUUID();
	const b = crypto.getRandomValues(new Uint8Array(16));
	return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export class Calls {
	// me: {id, username}; send(frame) → false when the socket is down;
	// notice(text) shows a message on the page.
	constructor({me, send, notice}) {
		this.me = me;
		this.sendFrame = send;
		this.notice = notice;
		this.room = null;
		this.call = null;		// the call of this tab
		this.incoming = new Map();	// call_id → {room, from, media}
		this.view = new CallView({
			onStart: (media) => this.start(media),
			onAccept: (id) => this.accept(id),
			onDecline: (id) => this.decline(id),
			onHangup: () => this.hangup(),
			onMute: (on) => this.tracks('audio', !on),
			onCamera: (off) => this.tracks('video', !off),
		});
		addEventListener('pagehide', () => this.hangup());
	}

	// The open room (or null): call buttons for direct and private rooms.
	setRoom(r) {
		this.room = r || null;
		this.view.showButtons(Boolean(r && r.joined && (r.kind === 'direct' || r.kind === 'private')));
	}

	signal(room, to, callId, data) {
		return this.sendFrame({type: 'call', room, to: Number(to), call_id: callId, data});
	}

	async iceServers() {
		try {
			const c = await get('/api/config');
			return Array.isArray(c && c.ice_servers) ? c.ice_servers : [];
		} catch {
			return [];
		}
	}

	async media(kind) {
		try {
			return await navigator.mediaDevices.getUserMedia({audio: true, video: kind === 'video'});
		} catch (err) {
			this.notice(`Camera or microphone not available: ${err.message || err.name}`);
			return null;
		}
	}

	// The person to call in the open room: the other member of a direct room,
	// or one chosen from a private room's members.
	async peerFor(room) {
		let members;
		try {
			({members} = await get(`/api/rooms/${encodeURIComponent(room.id)}/members`));
		} catch (err) {
			this.notice(`Could not load the members: ${err.message}`);
			return null;
		}
		const others = (members || []).filter((m) => String(m.id) !== String(this.me.id));
		if (room.kind === 'direct')
			return others[0] || null;
		return this.view.choose(others);
	}

	// ---- placing a call ----

	async start(kind) {
		const room = this.room;
		if (this.call) {
			this.notice('You are already in a call.');
			return;
		}
		if (!room)
			return;
		const peer = await this.peerFor(room);
		if (!peer || this.call)
			return;
		const call = {id: newId(), room: room.id, peer: {id: peer.id, username: peer.username},
			media: kind, role: 'caller', state: 'calling', pc: null, local: null,
			pendingIce: [], iceOut: [], iceTimer: 0, giveUp: 0};
		this.call = call;
		this.view.open(call);
		this.view.setState('calling', `Calling ${peer.username}…`);
		call.local = await this.media(kind);
		if (this.call !== call)
			return this.stopMedia(call);
		if (!call.local)
			return this.end(call, 'Call not started');
		this.view.setLocal(call.local);
		if (!this.signal(call.room, peer.id, call.id, {type: 'ring', media: kind}))
			return this.end(call, 'Offline: the call could not be placed');
		call.giveUp = setTimeout(() => {
			if (this.call === call && call.state === 'calling')
				this.end(call, 'No answer');
		}, RING_GIVE_UP_MS);
	}

	// ---- answering ----

	async accept(callId) {
		const inc = this.incoming.get(callId);
		this.incoming.delete(callId);
		this.view.stopRinging(callId);
		if (!inc)
			return;
		if (this.call) {
			this.notice('You are already in a call.');
			return this.decline(callId, inc);
		}
		const call = {id: callId, room: inc.room, peer: inc.from, media: inc.media, role: 'callee',
			state: 'connecting', pc: null, local: null, pendingIce: [], iceOut: [], iceTimer: 0, giveUp: 0};
		this.call = call;
		this.view.open(call);
		this.view.setState('connecting', `Connecting to ${call.peer.username}…`);
		// other tabs stop ringing at once; the caller may start the offer
		this.signal(call.room, this.me.id, callId, {type: 'accept'});
		call.local = await this.media(call.media);
		if (this.call !== call)
			return this.stopMedia(call);
		if (!call.local) {
			this.signal(call.room, call.peer.id, callId, {type: 'decline'});
			return this.end(call, 'Call not answered');
		}
		this.view.setLocal(call.local);
		await this.makePc(call);
		if (this.call !== call)
			return;
		this.signal(call.room, call.peer.id, callId, {type: 'accept'});
	}

	decline(callId, inc = this.incoming.get(callId)) {
		this.incoming.delete(callId);
		this.view.stopRinging(callId);
		if (!inc)
			return;
		this.signal(inc.room, inc.from.id, callId, {type: 'decline'});
		this.signal(inc.room, this.me.id, callId, {type: 'decline'});
	}

	// ---- ending ----

	hangup() {
		const call = this.call;
		if (!call)
			return;
		this.signal(call.room, call.peer.id, call.id, {type: 'hangup'});
		this.end(call, 'Call ended');
	}

	stopMedia(call) {
		if (call.local)
			for (const t of call.local.getTracks())
				t.stop();
		call.local = null;
	}

	end(call, text) {
		if (this.call !== call)
			return;
		this.call = null;
		call.state = 'ended';
		clearTimeout(call.iceTimer);
		clearTimeout(call.giveUp);
		if (call.pc) {
			call.pc.onicecandidate = call.pc.ontrack = call.pc.onconnectionstatechange = null;
			call.pc.close();
		}
		this.stopMedia(call);
		this.view.closed(text);
	}

	tracks(kind, enabled) {
		const call = this.call;
		if (!call || !call.local)
			return;
		for (const t of kind === 'audio' ? call.local.getAudioTracks() : call.local.getVideoTracks())
			t.enabled = enabled;
	}

	// ---- WebRTC ----

	async makePc(call) {
		const iceServers = await this.iceServers();
		if (this.call !== call)
			return;
		const pc = new RTCPeerConnection({iceServers});
		call.pc = pc;
		for (const t of call.local.getTracks())
			pc.addTrack(t, call.local);
		pc.onicecandidate = (ev) => {
			if (!ev.candidate)
				return;
			call.iceOut.push(ev.candidate.toJSON());
			if (!call.iceTimer)
				call.iceTimer = setTimeout(() => this.flushIce(call), ICE_BATCH_MS);
		};
		pc.ontrack = (ev) => {
			this.view.setRemote(ev.streams[0] || new MediaStream([ev.track]));
		};
		pc.onconnectionstatechange = () => {
			if (this.call !== call)
				return;
			const s = pc.connectionState;
			this.view.screen.dataset.pc = s;
			if (s === 'connected') {
				call.state = 'connected';
				this.view.setState('connected', `In call with ${call.peer.username}`);
			} else if (s === 'failed') {
				this.signal(call.room, call.peer.id, call.id, {type: 'hangup'});
				this.end(call, 'The connection failed');
			} else if (s === 'disconnected') {
				this.view.setState('connecting', 'Reconnecting…');
			}
		};
	}

	flushIce(call) {
		call.iceTimer = 0;
		if (this.call !== call || !call.iceOut.length)
			return;
		this.signal(call.room, call.peer.id, call.id, {type: 'ice', candidates: call.iceOut.splice(0, 20)});
		if (call.iceOut.length)
			call.iceTimer = setTimeout(() => this.flushIce(call), ICE_BATCH_MS);
	}

	async addIce(call, list) {
		for (const c of list)
			try {
				await call.pc.addIceCandidate(c);
			} catch {
				// a candidate that does not parse is skipped; others may work
			}
	}

	async onOffer(call, sdp) {
		if (!call.pc)
			return;
		await call.pc.setRemoteDescription({type: 'offer', sdp});
		await this.addIce(call, call.pendingIce.splice(0));
		const answer = await call.pc.createAnswer();
		await call.pc.setLocalDescription(answer);
		if (this.call === call)
			this.signal(call.room, call.peer.id, call.id, {type: 'answer', sdp: answer.sdp});
	}

	async onAccepted(call) {
		clearTimeout(call.giveUp);
		call.state = 'connecting';
		this.view.setState('connecting', `Connecting to ${call.peer.username}…`);
		await this.makePc(call);
		if (this.call !== call)
			return;
		const offer = await call.pc.createOffer();
		await call.pc.setLocalDescription(offer);
		if (this.call === call)
			this.signal(call.room, call.peer.id, call.id, {type: 'offer', sdp: offer.sdp});
	}

	// ---- frames ----

	onFrame(f) {
		const d = f && f.data;
		if (!d || !SIGNALS.has(d.type) || typeof f.call_id !== 'string' || !f.from)
			return;
		const fromMe = String(f.from.id) === String(this.me.id);
		const call = this.call && this.call.id === f.call_id ? this.call : null;
		const run = (p) => p.catch((err) => {
			if (call && this.call === call) {
				this.signal(call.room, call.peer.id, call.id, {type: 'hangup'});
				this.end(call, `Call failed: ${err.message || err}`);
			}
		});
		switch (d.type) {
		case 'ring':
			if (fromMe || call)
				return;
			if (this.call) {
				this.signal(f.room, f.from.id, f.call_id, {type: 'busy'});
				return;
			}
			this.incoming.set(f.call_id, {room: f.room, from: f.from, media: d.media === 'video' ? 'video' : 'audio'});
			this.view.ring(f.call_id, f.from, d.media);
			return;
		case 'accept':
			if (fromMe && !call) {	// answered on another of my tabs
				this.incoming.delete(f.call_id);
				this.view.stopRinging(f.call_id);
			} else if (call && !fromMe && call.role === 'caller' && call.state === 'calling') {
				run(this.onAccepted(call));
			}
			return;
		case 'decline':
		case 'busy':
			if (fromMe && !call) {
				this.incoming.delete(f.call_id);
				this.view.stopRinging(f.call_id);
			} else if (call && !fromMe && call.role === 'caller') {
				this.end(call, d.type === 'busy' ? `${call.peer.username} is busy` : `${call.peer.username} declined`);
			}
			return;
		case 'offer':
			if (call && !fromMe && call.role === 'callee' && typeof d.sdp === 'string')
				run(this.onOffer(call, d.sdp));
			return;
		case 'answer':
			if (call && !fromMe && call.role === 'caller' && call.pc && typeof d.sdp === 'string')
				run(call.pc.setRemoteDescription({type: 'answer', sdp: d.sdp})
					.then(() => this.addIce(call, call.pendingIce.splice(0))));
			return;
		case 'ice': {
			if (!call || fromMe || !Array.isArray(d.candidates))
				return;
			if (call.pc && call.pc.remoteDescription)
				run(this.addIce(call, d.candidates));
			else
				call.pendingIce.push(...d.candidates);
			return;
		}
		case 'hangup':
		case 'missed':
			this.incoming.delete(f.call_id);
			this.view.stopRinging(f.call_id);
			if (call)
				this.end(call, d.type === 'missed' ? 'No answer'
					: d.reason === 'gone' ? `${call.peer.username} left the call` : 'Call ended');
			return;
		}
	}

	// An error frame: true when it was about a call of this tab (ref = call_id).
	onError(f) {
		if (!f || typeof f.ref !== 'string')
			return false;
		const call = this.call && this.call.id === f.ref ? this.call : null;
		if (!call)
			return this.incoming.has(f.ref) || /^[0-9a-f-]{32,36}$/.test(f.ref) && f.code === 'not_reachable';
		if (f.code === 'not_reachable' && call.state === 'calling')
			this.end(call, `${call.peer.username} is not reachable now`);
		else if (f.code === 'not_reachable' || f.code === 'rate_limited')
			return true;	// our own other tabs are gone; or a frame to retry (ICE batches)
		else if (call.state === 'calling')
			this.end(call, f.message || f.code);
		return true;
	}
}
