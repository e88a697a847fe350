// new-room.js — the "New room" dialog: a name and public or private.
//
// For: checking the name as the server will (1–64 characters, no control
// characters), POST /api/rooms, showing a 409 or 422 next to the field it names.
// Not for: adding the room to the page (chat.js, through onCreated).

import {api} from './api.js';
import {FormErrors, checkRules} from './form.js';

const RULES = {
	name: [
		(v) => v.length > 0 || 'Give the room a name.',
		(v) => [...v].length <= 64 || 'Use at most 64 characters.',
		// eslint-disable-next-line no-control-regex
		(v) => !/[\u0000-\u001f\u007f]/.test(v) || 'Control characters are not allowed.',
	],
};

// dialog: the <dialog>; form inside it; openButton, cancelButton; onCreated(room);
// onUnauthenticated() for a 401.
export function setupNewRoom({dialog, form, openButton, cancelButton, onCreated, onUnauthenticated}) {
	const errors = new FormErrors(form);
	openButton.addEventListener('click', () => {
		errors.clear();
		form.reset();
		dialog.showModal();
	});
	cancelButton.addEventListener('click', () => dialog.close());
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		errors.clear();
		const values = {name: form.elements.name.value.trim(), kind: form.elements.kind.value};
		if (!checkRules(errors, values, RULES))
			return;
		await errors.busy(async () => {
			try {
				const room = await api.createRoom(values.name, values.kind);
				dialog.close();
				onCreated(room);
			} catch (err) {
				if (err.status === 401)
					onUnauthenticated();
				else
					errors.showError(err);
			}
		});
	});
}
