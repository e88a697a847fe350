// invites-view.js — the sidebar's pending invitations, with Accept and Decline.
//
// For: loading my pending invitations (GET /api/invites), adding ones that arrive
// live (`invite` frames), answering them. Not for: what happens after accepting
// (chat.js opens the room through onAccepted).

import {api} from './api.js';
import {el, clear} from './dom.js';

export class InvitesView {
	// list: <ul>; box: its section (hidden when empty); onAccepted(invite);
	// onError(err) for a failed answer.
	constructor({list, box, onAccepted, onError}) {
		Object.assign(this, {list, box, onAccepted, onError});
		this.invites = new Map();
	}

	// Loads pending invitations; failures are ignored (the page works without).
	async load() {
		try {
			const res = await api.invitesList();
			for (const inv of (res && res.invites) || [])
				this.invites.set(inv.id, inv);
		} catch {
			// An older server without invitations, or a blip: nothing to show.
		}
		this.render();
	}

	add(inv) {
		if (inv && inv.id != null) {
			this.invites.set(inv.id, inv);
			this.render();
		}
	}

	async answer(inv, accept) {
		try {
			if (accept)
				await api.acceptInvite(inv.id);
			else
				await api.declineInvite(inv.id);
		} catch (err) {
			// 404: withdrawn meanwhile; it just goes away.
			if (err.status !== 404) {
				this.onError(err);
				return;
			}
		}
		this.invites.delete(inv.id);
		this.render();
		if (accept)
			this.onAccepted(inv);
	}

	render() {
		clear(this.list);
		for (const inv of this.invites.values()) {
			this.list.append(el('li', {class: 'invite'},
				el('span', {text: `${inv.from ? inv.from.username : 'Someone'} invited you to `}),
				el('strong', {text: inv.room ? inv.room.name : 'a room'}),
				el('span', {class: 'invite-actions'},
					el('button', {class: 'primary small', text: 'Accept', attrs: {type: 'button'},
						on: {click: () => this.answer(inv, true)}}),
					el('button', {class: 'ghost small', text: 'Decline', attrs: {type: 'button'},
						on: {click: () => this.answer(inv, false)}}))));
		}
		this.box.hidden = this.invites.size === 0;
	}
}
