// form.js — shows a form's errors where they belong.
//
// For: the sign-in, registration and new-room forms. An API error naming a field
// is shown under that field (and the field is marked invalid); any other error at
// the top of the form. A 429 says how long to wait and keeps the submit button off
// until then.
// Not for: talking to the server or deciding what is valid (the page does that).

// Each field <input name="x"> has an error element with id "<form id>-x-error";
// the form has one top error element with id "<form id>-error".
export class FormErrors {
	constructor(form) {
		this.form = form;
		this.top = document.getElementById(`${form.id}-error`);
		this.submit = form.querySelector('[type=submit]');
		this.timer = 0;
	}

	fieldError(name) {
		return document.getElementById(`${this.form.id}-${name}-error`);
	}

	// Hides every message and unmarks every field.
	clear() {
		for (const input of this.form.elements) {
			if (!input.name)
				continue;
			input.removeAttribute('aria-invalid');
			const e = this.fieldError(input.name);
			if (e) {
				e.textContent = '';
				e.hidden = true;
			}
		}
		if (this.top) {
			this.top.textContent = '';
			this.top.hidden = true;
		}
	}

	// Shows text under the named field when the form has it, else at the top.
	// Returns true when it went to a field.
	show(field, text) {
		const input = field ? this.form.elements.namedItem(field) : null;
		const e = field ? this.fieldError(field) : null;
		if (input && e) {
			// A radio group is a RadioNodeList: mark each of its inputs.
			for (const i of input instanceof RadioNodeList ? input : [input])
				i.setAttribute('aria-invalid', 'true');
			e.textContent = text;
			e.hidden = false;
			return true;
		}
		if (this.top) {
			this.top.textContent = text;
			this.top.hidden = false;
		}
		return false;
	}

	// Shows an ApiError (or any Error); focuses the field it names.
	showError(err) {
		let text = err.message || 'Something went wrong.';
		if (err.status === 429 && err.retryAfter) {
			text = `${text} Try again in ${waitText(err.retryAfter)}.`;
			this.holdSubmit(err.retryAfter);
		}
		if (this.show(err.field, text)) {
			const input = this.form.elements.namedItem(err.field);
			if (input && input.focus)
				input.focus();
		}
	}

	// Keeps the submit button disabled for seconds, counting down on it.
	holdSubmit(seconds) {
		if (!this.submit)
			return;
		clearInterval(this.timer);
		const label = this.submit.dataset.label || this.submit.textContent;
		this.submit.dataset.label = label;
		const until = Date.now() + seconds * 1000;
		const tick = () => {
			const left = Math.ceil((until - Date.now()) / 1000);
			if (left <= 0) {
				clearInterval(this.timer);
				this.submit.disabled = false;
				this.submit.textContent = label;
				return;
			}
			this.submit.disabled = true;
			this.submit.textContent = `${label} (${clock(left)})`;
		};
		tick();
		this.timer = setInterval(tick, 1000);
	}

	// Runs fn with the submit button disabled and marked busy; re-enables it after,
	// unless a 429 hold is running.
	async busy(fn) {
		if (this.submit) {
			this.submit.disabled = true;
			this.submit.setAttribute('aria-busy', 'true');
		}
		try {
			return await fn();
		} finally {
			if (this.submit) {
				this.submit.removeAttribute('aria-busy');
				if (!this.submit.dataset.label || this.submit.textContent === this.submit.dataset.label)
					this.submit.disabled = false;
			}
		}
	}
}

// 75 → "1 min 15 s"; 3600 → "60 min".
export function waitText(seconds) {
	if (seconds < 60)
		return `${seconds} s`;
	const m = Math.floor(seconds / 60), s = seconds % 60;
	return s ? `${m} min ${s} s` : `${m} min`;
}

// 75 → "1:15"; 9 → "0:09".
function clock(seconds) {
	return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// Runs a table of rules {field: [value => true | 'message', …]} over the form's
// values; shows each field's first failure; returns true when all pass.
export function checkRules(errors, values, rules) {
	let ok = true, first = null;
	for (const [field, checks] of Object.entries(rules)) {
		for (const check of checks) {
			const r = check(values[field] ?? '');
			if (r !== true) {
				errors.show(field, r);
				ok = false;
				first = first || field;
				break;
			}
		}
	}
	if (first) {
		const input = errors.form.elements.namedItem(first);
		if (input && input.focus)
			input.focus();
	}
	return ok;
}
