// message-actions.js — editing and deleting one's own messages.
//
// For: the "Edit message" dialog (Enter saves, Shift+Enter is a new line, the
// body checked as the composer checks it) sending PATCH …/messages/{seq}, and
// deleting after a confirmation (DELETE …/messages/{seq}). The result is handed
// to onChanged at once; the live `edited` / `deleted` frames that follow change
// nothing more.
// Not for: drawing messages (messages-view.js) or deciding who may edit (the
// view offers the buttons; the server decides).

import {api} from './api.js';
import {el} from './dom.js';
import {FormErrors} from './form.js';
import {bodyProblem} from './composer.js';

export class MessageActions {
	// onChanged(frame) with {type:'edited', …message} or {type:'deleted', room, seq};
	// onProblem(text) for a failed delete; onUnauthenticated().
	constructor({onChanged, onProblem, onUnauthenticated}) {
		Object.assign(this, {onChanged, onProblem, onUnauthenticated});
		this.message = null;
		this.build();
	}

	build() {
		this.input = el('textarea', {attrs: {id: 'edit-form-body', name: 'body', rows: 4, maxlength: 16000,
			'aria-describedby': 'edit-form-body-error', enterkeyhint: 'done'}});
		this.form = el('form', {attrs: {id: 'edit-form', novalidate: true}},
			el('h2', {text: 'Edit message', attrs: {id: 'edit-title'}}),
			el('p', {class: 'form-error', attrs: {id: 'edit-form-error', role: 'alert', hidden: true}}),
			el('label', {class: 'visually-hidden', text: 'Message', attrs: {for: 'edit-form-body'}}),
			this.input,
			el('p', {class: 'field-error', attrs: {id: 'edit-form-body-error', hidden: true}}),
			el('p', {class: 'hint', text: 'Enter saves, Shift+Enter starts a new line.'}),
			el('div', {class: 'dialog-actions'},
				el('button', {class: 'ghost', text: 'Cancel', attrs: {type: 'button', id: 'edit-cancel'},
					on: {click: () => this.dialog.close()}}),
				el('button', {class: 'primary', text: 'Save', attrs: {type: 'submit'}})));
		this.dialog = el('dialog', {class: 'dialog edit-dialog',
			attrs: {id: 'edit-dialog', 'aria-labelledby': 'edit-title'}}, this.form);
		document.body.append(this.dialog);
		this.errors = new FormErrors(this.form);
		this.form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			this.save();
		});
		this.input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
				ev.preventDefault();
				this.save();
			}
		});
	}

	// Opens the editor for message m {room, seq, body}.
	edit(m) {
		this.message = m;
		this.errors.clear();
		this.input.value = m.body || '';
		this.dialog.showModal();
		this.input.focus();
		this.input.setSelectionRange(this.input.value.length, this.input.value.length);
	}

	async save() {
		const m = this.message;
		if (!m)
			return;
		this.errors.clear();
		const body = this.input.value.replace(/\s+$/u, '');
		const problem = bodyProblem(body);
		if (problem)
			return this.errors.show('body', problem);
		if (body === m.body) {
			this.dialog.close();
			return;
		}
		await this.errors.busy(async () => {
			try {
				const saved = await api.editMessage(m.room, m.seq, body);
				this.dialog.close();
				this.onChanged({...(saved || {...m, body}), type: 'edited'});
			} catch (err) {
				if (err.status === 401)
					return this.onUnauthenticated();
				this.errors.show(err.field === 'body' ? 'body' : null, {
					403: 'This message can no longer be edited (edits are possible for 24 hours).',
					404: 'This message was deleted.',
				}[err.status] || err.message);
			}
		});
	}

	// Deletes message m after asking.
	async remove(m) {
		if (!confirm('Delete this message for everyone?'))
			return;
		try {
			await api.deleteMessage(m.room, m.seq);
		} catch (err) {
			if (err.status === 401)
				return this.onUnauthenticated();
			if (err.status !== 404)
				return this.onProblem(`The message could not be deleted: ${err.message}`);
		}
		this.onChanged({type: 'deleted', room: m.room, seq: m.seq});
	}
}
