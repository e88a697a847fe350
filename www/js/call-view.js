// call-view.js — what a call looks like: the call buttons in the room header,
// the incoming-call panel (accept / decline), the call screen (remote and local
// video, mute, camera off, hang up) and the member picker of a private room.
//
// For: building and updating those elements (through dom.js, text only through
// textContent) and reporting clicks to the handlers it was given.
// Not for: signalling or WebRTC (call.js). The elements are made here rather
// than in index.html so that the chat page's markup stays the chat's.

import {el, clear} from './dom.js';

export class CallView {
	// handlers: onStart(media), onAccept(callId), onDecline(callId), onHangup(),
	// onMute(muted), onCamera(off).
	constructor(handlers) {
		this.h = handlers;
		this.incomingId = null;
		this.muted = false;
		this.cameraOff = false;
		this.hideTimer = 0;

		this.audioBtn = el('button', {class: 'ghost small call-btn', text: 'Call',
			attrs: {id: 'call-audio', type: 'button', 'aria-label': 'Audio call', title: 'Audio call', hidden: true},
			on: {click: () => this.h.onStart('audio')}});
		this.videoBtn = el('button', {class: 'ghost small call-btn', text: 'Video',
			attrs: {id: 'call-video', type: 'button', 'aria-label': 'Video call', title: 'Video call', hidden: true},
			on: {click: () => this.h.onStart('video')}});
		const head = document.querySelector('.room-head');
		if (head)
			head.append(el('span', {class: 'call-buttons'}, this.audioBtn, this.videoBtn));

		this.incomingText = el('p', {class: 'call-incoming-text', attrs: {id: 'call-incoming-text'}});
		this.incoming = el('section', {class: 'call-incoming',
			attrs: {id: 'call-incoming', role: 'alertdialog', 'aria-labelledby': 'call-incoming-text', hidden: true}},
		this.incomingText,
		el('div', {class: 'call-actions'},
			el('button', {class: 'primary call-accept', text: 'Accept',
				attrs: {id: 'call-accept', type: 'button'},
				on: {click: () => this.incomingId && this.h.onAccept(this.incomingId)}}),
			el('button', {class: 'danger call-decline', text: 'Decline',
				attrs: {id: 'call-decline', type: 'button'},
				on: {click: () => this.incomingId && this.h.onDecline(this.incomingId)}})));

		this.remote = el('video', {class: 'call-remote',
			attrs: {id: 'call-remote', autoplay: true, playsinline: true}});
		this.local = el('video', {class: 'call-local',
			attrs: {id: 'call-local', autoplay: true, playsinline: true, muted: true}});
		this.local.muted = true;	// the attribute alone does not mute a live stream
		this.peerName = el('h2', {class: 'call-peer', attrs: {id: 'call-peer'}});
		this.status = el('p', {class: 'call-status', attrs: {id: 'call-status', role: 'status', 'aria-live': 'polite'}});
		this.muteBtn = el('button', {class: 'call-control', text: 'Mute',
			attrs: {id: 'call-mute', type: 'button', 'aria-pressed': 'false'},
			on: {click: () => this.setMuted(!this.muted, true)}});
		this.cameraBtn = el('button', {class: 'call-control', text: 'Camera off',
			attrs: {id: 'call-camera', type: 'button', 'aria-pressed': 'false'},
			on: {click: () => this.setCameraOff(!this.cameraOff, true)}});
		this.hangupBtn = el('button', {class: 'danger call-control', text: 'Hang up',
			attrs: {id: 'call-hangup', type: 'button'},
			on: {click: () => this.h.onHangup()}});
		this.screen = el('section', {class: 'call-view',
			attrs: {id: 'call-view', 'aria-label': 'Call', hidden: true, 'data-state': 'idle'}},
		el('div', {class: 'call-stage'}, this.remote, this.local),
		el('div', {class: 'call-bar'}, this.peerName, this.status,
			el('div', {class: 'call-actions'}, this.muteBtn, this.cameraBtn, this.hangupBtn)));

		this.pickList = el('ul', {class: 'call-pick-list'});
		this.pick = el('dialog', {class: 'dialog call-pick', attrs: {id: 'call-pick', 'aria-labelledby': 'call-pick-title'}},
			el('h2', {text: 'Call whom?', attrs: {id: 'call-pick-title'}}),
			this.pickList,
			el('div', {class: 'dialog-actions'},
				el('button', {class: 'ghost', text: 'Cancel', attrs: {type: 'button', id: 'call-pick-cancel'},
					on: {click: () => this.pick.close()}})));
		document.body.append(this.incoming, this.screen, this.pick);
	}

	// Call buttons for a room where calls make sense (direct or private, joined).
	showButtons(on) {
		this.audioBtn.hidden = !on;
		this.videoBtn.hidden = !on;
	}

	// ---- incoming ----

	ring(callId, from, media) {
		this.incomingId = callId;
		this.incomingText.textContent = `Incoming ${media === 'video' ? 'video' : 'audio'} call from ${from.username}`;
		this.incoming.hidden = false;
		this.incoming.classList.add('ringing');
		document.body.dataset.call = 'ringing';
	}

	// Hides the panel if it shows callId (or whatever it shows, without one).
	stopRinging(callId) {
		if (callId && callId !== this.incomingId)
			return;
		this.incomingId = null;
		this.incoming.hidden = true;
		this.incoming.classList.remove('ringing');
		if (document.body.dataset.call === 'ringing')
			delete document.body.dataset.call;
	}

	// ---- the call screen ----

	open(call) {
		clearTimeout(this.hideTimer);
		this.peerName.textContent = call.peer.username;
		this.screen.dataset.media = call.media;
		this.setMuted(false, false);
		this.setCameraOff(false, false);
		this.cameraBtn.hidden = call.media !== 'video';
		this.screen.hidden = false;
		this.hangupBtn.disabled = false;
	}

	setState(state, text) {
		this.screen.dataset.state = state;
		document.body.dataset.call = state;
		this.status.textContent = text;
	}

	setLocal(stream) {
		this.local.srcObject = stream;
	}

	setRemote(stream) {
		if (this.remote.srcObject !== stream)
			this.remote.srcObject = stream;
		const p = this.remote.play();
		if (p && p.catch)
			p.catch(() => {});
	}

	// Shows why the call ended for a moment, then hides the screen.
	closed(text) {
		this.setState('ended', text);
		this.hangupBtn.disabled = true;
		clearTimeout(this.hideTimer);
		this.hideTimer = setTimeout(() => {
			this.screen.hidden = true;
			this.remote.srcObject = null;
			this.local.srcObject = null;
			if (document.body.dataset.call === 'ended')
				delete document.body.dataset.call;
		}, 2500);
	}

	setMuted(on, report) {
		this.muted = on;
		this.muteBtn.textContent = on ? 'Unmute' : 'Mute';
		this.muteBtn.setAttribute('aria-pressed', String(on));
		if (report)
			this.h.onMute(on);
	}

	setCameraOff(on, report) {
		this.cameraOff = on;
		this.cameraBtn.textContent = on ? 'Camera on' : 'Camera off';
		this.cameraBtn.setAttribute('aria-pressed', String(on));
		if (report)
			this.h.onCamera(on);
	}

	// ---- whom to call in a private room ----

	// Resolves to one of people ({id, username, online}) or null.
	choose(people) {
		clear(this.pickList);
		return new Promise((resolve) => {
			let chosen = null;
			for (const p of people)
				this.pickList.append(el('li', {},
					el('button', {class: 'ghost', text: p.username + (p.online ? ' · online' : ''),
						attrs: {type: 'button', 'data-user': p.id},
						on: {click: () => { chosen = p; this.pick.close(); }}})));
			if (!people.length)
				this.pickList.append(el('li', {class: 'muted', text: 'Nobody else is in this room.'}));
			this.pick.addEventListener('close', () => resolve(chosen), {once: true});
			this.pick.showModal();
		});
	}
}
