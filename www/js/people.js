// people.js — the "People" dialog: find someone, start a direct chat, block.
//
// For: searching users by username prefix (GET /api/users?q=, with online
// dots), opening the direct chat with one (POST /api/dm), blocking and
// unblocking (POST /api/blocks, DELETE /api/blocks/{username}); also a single
// person's card, opened from their name on a message (showPerson).
// Not for: adding the direct room to the page (chat.js, through onOpenRoom).
// The dialog is built here, so index.html only holds the button that opens it.

import {api} from './api.js';
import {el, clear} from './dom.js';

const SEARCH_DELAY = 200;	// ms of quiet typing before a search
const PAGE = 20;

export class PeopleDialog {
	// meId: the signed-in user's id; onOpenRoom(room) with the direct room;
	// onUnauthenticated() for a 401.
	constructor({meId, onOpenRoom, onUnauthenticated}) {
		Object.assign(this, {meId, onOpenRoom, onUnauthenticated});
		this.blocked = new Set();	// lower-cased usernames I block
		this.timer = 0;
		this.token = 0;
		this.next = null;
		this.person = null;	// username shown alone (a person's card), or null
		this.build();
	}

	build() {
		this.title = el('h2', {text: 'People', attrs: {id: 'people-title'}});
		this.query = el('input', {attrs: {
			id: 'people-q', type: 'search', autocomplete: 'off', autocapitalize: 'none',
			spellcheck: 'false', placeholder: 'Username…', maxlength: 32,
		}, on: {input: () => this.schedule()}});
		this.searchBox = el('div', {class: 'people-search'},
			el('label', {text: 'Find someone by username', attrs: {for: 'people-q'}}), this.query);
		this.list = el('ul', {class: 'people-list', attrs: {id: 'people-list', 'aria-live': 'polite'}});
		this.status = el('p', {class: 'muted small', attrs: {id: 'people-status'}});
		this.error = el('p', {class: 'form-error', attrs: {id: 'people-error', role: 'alert', hidden: true}});
		this.more = el('button', {class: 'ghost small', text: 'More people',
			attrs: {type: 'button', hidden: true}, on: {click: () => this.search(true)}});
		this.dialog = el('dialog', {class: 'dialog people-dialog',
			attrs: {id: 'people-dialog', 'aria-labelledby': 'people-title'}},
		this.title, this.searchBox, this.error, this.list, this.more, this.status,
		el('div', {class: 'dialog-actions'},
			el('button', {class: 'ghost', text: 'Close', attrs: {type: 'button', id: 'people-close'},
				on: {click: () => this.dialog.close()}})));
		document.body.append(this.dialog);
	}

	// Opens the search.
	open() {
		this.person = null;
		this.title.textContent = 'People';
		this.searchBox.hidden = false;
		this.query.value = '';
		this.showDialog();
		this.query.focus();
	}

	// Opens one person's card: user {id, username}.
	showPerson(user) {
		if (!user || !user.username)
			return;
		this.person = user.username;
		this.title.textContent = user.username;
		this.searchBox.hidden = true;
		this.query.value = user.username;
		this.showDialog();
	}

	showDialog() {
		this.setError('');
		clear(this.list);
		if (!this.dialog.open)
			this.dialog.showModal();
		this.loadBlocks().then(() => this.search(false));
	}

	async loadBlocks() {
		try {
			const res = await api.blocks();
			this.blocked = new Set(((res && res.blocks) || []).map((b) => b.username.toLowerCase()));
		} catch (err) {
			if (err.status === 401)
				this.onUnauthenticated();
		}
	}

	schedule() {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => this.search(false), SEARCH_DELAY);
	}

	// Searches the query; more: the next page of the same query.
	async search(more) {
		const token = ++this.token;
		const q = this.query.value.trim();
		this.status.textContent = 'Searching…';
		let res;
		try {
			res = await api.users(q, PAGE, more ? this.next : null);
		} catch (err) {
			if (token !== this.token)
				return;
			this.status.textContent = '';
			if (err.status === 401)
				return this.onUnauthenticated();
			this.setError(`People could not be loaded: ${err.message}`);
			return;
		}
		if (token !== this.token)
			return;
		if (!more)
			clear(this.list);
		let users = (res && res.users) || [];
		if (this.person)
			users = users.filter((u) => u.username.toLowerCase() === this.person.toLowerCase());
		for (const u of users)
			this.list.append(this.row(u));
		this.list.dataset.query = q;	// what the list shows (tests wait for it)
		this.next = this.person ? null : res.next ?? null;
		this.more.hidden = this.next == null;
		this.status.textContent = this.list.childElementCount ? ''
			: this.person ? 'This person is no longer here.' : 'Nobody by that name.';
	}

	row(u) {
		const me = String(u.id) === String(this.meId);
		const blocked = this.blocked.has(u.username.toLowerCase());
		const actions = el('span', {class: 'row-actions'});
		const li = el('li', {class: 'person', attrs: {'data-username': u.username}},
			el('span', {class: `dot ${u.online ? 'online' : 'offline'}`,
				attrs: {title: u.online ? 'online' : 'offline', 'aria-label': u.online ? 'online' : 'offline'}}),
			el('span', {class: 'person-name', text: u.username}),
			me ? el('span', {class: 'muted small', text: '(you)'}) : null,
			actions);
		if (!me) {
			actions.append(
				el('button', {class: 'primary small', text: 'Message',
					attrs: {type: 'button', 'data-action': 'dm', disabled: blocked},
					on: {click: (ev) => this.message(u, ev.currentTarget)}}),
				el('button', {class: 'ghost small', text: blocked ? 'Unblock' : 'Block',
					attrs: {type: 'button', 'data-action': blocked ? 'unblock' : 'block'},
					on: {click: (ev) => this.toggleBlock(u, li, ev.currentTarget)}}));
		}
		return li;
	}

	async message(u, button) {
		button.disabled = true;
		this.setError('');
		try {
			const room = await api.dm(u.username);
			this.dialog.close();
			this.onOpenRoom(room);
		} catch (err) {
			if (err.status === 401)
				return this.onUnauthenticated();
			this.setError(err.status === 404 ? `You cannot message ${u.username}.`
				: `Could not open the chat: ${err.message}`);
		} finally {
			button.disabled = false;
		}
	}

	async toggleBlock(u, li, button) {
		const key = u.username.toLowerCase();
		const blocked = this.blocked.has(key);
		if (!blocked && !confirm(`Block ${u.username}? They will not be able to message, invite or call you.`))
			return;
		button.disabled = true;
		this.setError('');
		try {
			if (blocked)
				await api.unblock(u.username);
			else
				await api.block(u.username);
		} catch (err) {
			button.disabled = false;
			if (err.status === 401)
				return this.onUnauthenticated();
			// Unblocking someone no longer blocked: the goal is reached.
			if (!(blocked && err.status === 404))
				return this.setError(`Could not ${blocked ? 'unblock' : 'block'} ${u.username}: ${err.message}`);
		}
		if (blocked)
			this.blocked.delete(key);
		else
			this.blocked.add(key);
		li.replaceWith(this.row(u));
	}

	setError(text) {
		this.error.textContent = text;
		this.error.hidden = !text;
	}
}
