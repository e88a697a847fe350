// room-admin.js — the open room's details dialog: members, invitations, and
// the owner's powers.
//
// For: listing members with online dots and roles (GET …/members), inviting by
// username to a private room (any member; POST …/invites), and for the owner
// renaming (PATCH), deleting (DELETE) and kicking (POST …/kick); leaving
// (POST …/leave) for anyone but in a direct room. Errors show in the dialog.
// Not for: what the page does afterwards (chat.js, through the callbacks), or
// read markers (readers.js; chat.js hands it the members this loads).
// The dialog is built here, so index.html only holds the button that opens it.

import {api} from './api.js';
import {el, clear} from './dom.js';
import {FormErrors, checkRules} from './form.js';

const NAME_RULES = {
	name: [
		(v) => v.length > 0 || 'Give the room a name.',
		(v) => [...v].length <= 64 || 'Use at most 64 characters.',
		// eslint-disable-next-line no-control-regex
		(v) => !/[\u0000-\u001f\u007f]/.test(v) || 'Control characters are not allowed.',
	],
};
const INVITE_RULES = {
	username: [(v) => v.length > 0 || 'Whom should we invite? Give a username.'],
};

// A one-line form: <form id=id><label/><div class=inline-form><input name/><button/></div>
// plus the error elements FormErrors expects.
function inlineForm(id, field, label, button, inputAttrs = {}) {
	const input = el('input', {attrs: {id: `${id}-${field}`, name: field, type: 'text', autocomplete: 'off',
		'aria-describedby': `${id}-${field}-error`, ...inputAttrs}});
	const form = el('form', {class: 'inline', attrs: {id, novalidate: true}},
		el('label', {text: label, attrs: {for: `${id}-${field}`}}),
		el('div', {class: 'inline-form'}, input,
			el('button', {class: 'primary', text: button, attrs: {type: 'submit'}})),
		el('p', {class: 'field-error', attrs: {id: `${id}-${field}-error`, hidden: true}}),
		el('p', {class: 'form-error', attrs: {id: `${id}-error`, role: 'alert', hidden: true}}));
	return {form, input};
}

export class RoomDialog {
	// meId; onMembers(roomId, members) whenever members are loaded; onRenamed(room);
	// onGone(roomId, how) after delete ('deleted') or leave ('left');
	// onPerson(user) when a member's name is clicked; onUnauthenticated();
	// isOnline(roomId, userId) → true when the socket saw them online in the
	// room (presence), which counts as well as the API's `online`.
	constructor({meId, onMembers, onRenamed, onGone, onPerson, onUnauthenticated, isOnline = () => false}) {
		Object.assign(this, {meId, onMembers, onRenamed, onGone, onPerson, onUnauthenticated, isOnline});
		this.room = null;
		this.members = [];
		this.build();
	}

	build() {
		this.title = el('h2', {attrs: {id: 'room-dialog-title'}});
		this.kindLine = el('p', {class: 'muted small', attrs: {id: 'room-dialog-kind'}});
		this.error = el('p', {class: 'form-error', attrs: {id: 'room-dialog-error', role: 'alert', hidden: true}});

		const rename = inlineForm('rename-form', 'name', 'Room name', 'Rename', {maxlength: 64});
		this.renameForm = rename.form;
		this.renameInput = rename.input;
		this.renameForm.addEventListener('submit', (ev) => {
			ev.preventDefault();
			this.rename();
		});

		const invite = inlineForm('invite-form', 'username', 'Invite someone by username', 'Invite',
			{autocapitalize: 'none', spellcheck: 'false', maxlength: 32});
		this.inviteForm = invite.form;
		this.inviteInput = invite.input;
		this.inviteOk = el('p', {class: 'ok-note small', attrs: {id: 'invite-form-ok', role: 'status', hidden: true}});
		this.inviteForm.append(this.inviteOk);
		this.inviteForm.addEventListener('submit', (ev) => {
			ev.preventDefault();
			this.invite();
		});

		this.membersTitle = el('h3', {class: 'members-title', text: 'Members'});
		this.list = el('ul', {class: 'people-list', attrs: {id: 'room-members'}});
		this.deleteButton = el('button', {class: 'ghost danger', text: 'Delete room',
			attrs: {type: 'button', id: 'room-delete'}, on: {click: () => this.remove()}});
		this.leaveButton = el('button', {class: 'ghost', text: 'Leave room',
			attrs: {type: 'button', id: 'room-leave'}, on: {click: () => this.leave()}});
		this.dialog = el('dialog', {class: 'dialog room-dialog',
			attrs: {id: 'room-dialog', 'aria-labelledby': 'room-dialog-title'}},
		this.title, this.kindLine, this.error, this.renameForm, this.inviteForm,
		this.membersTitle, this.list,
		el('div', {class: 'dialog-actions'}, this.deleteButton, this.leaveButton,
			el('span', {class: 'spacer'}),
			el('button', {class: 'primary', text: 'Close', attrs: {type: 'button', id: 'room-dialog-close'},
				on: {click: () => this.dialog.close()}})));
		document.body.append(this.dialog);
		// FormErrors finds its elements by id: only once they are in the page.
		this.renameErrors = new FormErrors(this.renameForm);
		this.inviteErrors = new FormErrors(this.inviteForm);
	}

	get isOwner() {
		const me = this.members.find((m) => String(m.id) === String(this.meId));
		return Boolean(me && me.role === 'owner');
	}

	// Opens the dialog for room {id, name, kind, joined}.
	async open(room) {
		this.room = room;
		this.members = [];
		this.setError('');
		this.renameErrors.clear();
		this.inviteErrors.clear();
		this.inviteOk.hidden = true;
		this.inviteInput.value = '';
		this.draw();
		if (!this.dialog.open)
			this.dialog.showModal();
		await this.load();
	}

	// Reloads members (also used by chat.js when a room changes under the dialog).
	async load() {
		const room = this.room;
		if (!room)
			return;
		try {
			const res = await api.members(room.id);
			if (room !== this.room)
				return;
			this.members = (res && res.members) || [];
			this.onMembers(room.id, this.members);
		} catch (err) {
			if (err.status === 401)
				return this.onUnauthenticated();
			this.setError(`Members could not be loaded: ${err.message}`);
		}
		this.draw();
	}

	// room changed (renamed live): redraw if it is the one shown.
	changed(room) {
		if (this.room && room && room.id === this.room.id) {
			this.room = {...this.room, ...room};
			this.draw();
		}
	}

	close() {
		if (this.dialog.open)
			this.dialog.close();
	}

	draw() {
		const r = this.room;
		if (!r)
			return;
		const owner = this.isOwner;
		const direct = r.kind === 'direct';
		this.title.textContent = `${direct ? '@' : r.kind === 'private' ? '🔒 ' : '#'}${r.name}`;
		this.kindLine.textContent = direct ? 'Direct chat'
			: r.kind === 'private' ? 'Private room: only invited people can join.'
			: 'Public room: anyone signed in can join.';
		this.renameForm.hidden = !owner || direct;
		if (!this.renameForm.hidden && document.activeElement !== this.renameInput)
			this.renameInput.value = r.name;
		this.inviteForm.hidden = r.kind !== 'private' || !r.joined;
		this.deleteButton.hidden = !owner || direct;
		this.leaveButton.hidden = direct || !r.joined;
		this.membersTitle.textContent = this.members.length ? `Members (${this.members.length})` : 'Members';
		clear(this.list);
		const members = this.members.map((m) => ({...m,
			online: Boolean(m.online || String(m.id) === String(this.meId) || this.isOnline(r.id, m.id))}));
		const sorted = members.sort((a, b) =>
			(b.role === 'owner') - (a.role === 'owner') || (b.online - a.online) ||
			a.username.localeCompare(b.username));
		for (const m of sorted)
			this.list.append(this.row(m, owner && !direct));
	}

	row(m, canKick) {
		const me = String(m.id) === String(this.meId);
		const name = me ? el('span', {class: 'person-name', text: m.username})
			: el('button', {class: 'person-name link-like', text: m.username,
				attrs: {type: 'button', title: `${m.username}: message or block`},
				on: {click: () => this.onPerson({id: m.id, username: m.username})}});
		return el('li', {class: 'person', attrs: {'data-username': m.username}},
			el('span', {class: `dot ${m.online ? 'online' : 'offline'}`,
				attrs: {title: m.online ? 'online' : 'offline', 'aria-label': m.online ? 'online' : 'offline'}}),
			name,
			me ? el('span', {class: 'muted small', text: '(you)'}) : null,
			m.role === 'owner' ? el('span', {class: 'tag', text: 'owner'}) : null,
			el('span', {class: 'row-actions'},
				canKick && !me ? el('button', {class: 'ghost small danger', text: 'Remove',
					attrs: {type: 'button', 'data-action': 'kick', title: `Remove ${m.username} from the room`},
					on: {click: (ev) => this.kick(m, ev.currentTarget)}}) : null));
	}

	async rename() {
		const r = this.room;
		this.renameErrors.clear();
		const values = {name: this.renameInput.value.trim()};
		if (!checkRules(this.renameErrors, values, NAME_RULES) || values.name === r.name)
			return;
		await this.renameErrors.busy(async () => {
			try {
				const room = await api.renameRoom(r.id, values.name);
				this.changed(room);
				this.onRenamed(room);
			} catch (err) {
				if (err.status === 401)
					return this.onUnauthenticated();
				this.renameErrors.showError(err);
			}
		});
	}

	async invite() {
		const r = this.room;
		this.inviteErrors.clear();
		this.inviteOk.hidden = true;
		const values = {username: this.inviteInput.value.trim().replace(/^@/, '')};
		if (!checkRules(this.inviteErrors, values, INVITE_RULES))
			return;
		await this.inviteErrors.busy(async () => {
			try {
				await api.invite(r.id, values.username);
				this.inviteInput.value = '';
				this.inviteOk.textContent = `Invitation sent to ${values.username}.`;
				this.inviteOk.hidden = false;
			} catch (err) {
				if (err.status === 401)
					return this.onUnauthenticated();
				const text = {
					404: `There is nobody called ${values.username} you can invite.`,
				}[err.status] || {
					already_member: `${values.username} is already a member.`,
					already_invited: `${values.username} is already invited.`,
				}[err.code];
				this.inviteErrors.show('username', text || err.message);
			}
		});
	}

	async kick(m, button) {
		if (!confirm(`Remove ${m.username} from ${this.room.name}?`))
			return;
		button.disabled = true;
		this.setError('');
		try {
			await api.kick(this.room.id, m.username);
		} catch (err) {
			button.disabled = false;
			if (err.status === 401)
				return this.onUnauthenticated();
			if (err.status !== 404)
				return this.setError(`Could not remove ${m.username}: ${err.message}`);
		}
		await this.load();
	}

	async remove() {
		const r = this.room;
		if (!confirm(`Delete ${r.name} and all its messages for everyone? This cannot be undone.`))
			return;
		await this.act(() => api.deleteRoom(r.id), 'deleted', 'Could not delete the room');
	}

	async leave() {
		const r = this.room;
		if (!confirm(`Leave ${r.name}?`))
			return;
		await this.act(() => api.leaveRoom(r.id), 'left', 'Could not leave the room');
	}

	async act(call, how, failed) {
		const r = this.room;
		this.setError('');
		try {
			await call();
		} catch (err) {
			if (err.status === 401)
				return this.onUnauthenticated();
			if (err.status !== 404)
				return this.setError(`${failed}: ${err.message}`);
		}
		this.close();
		this.onGone(r.id, how);
	}

	setError(text) {
		this.error.textContent = text;
		this.error.hidden = !text;
	}
}
