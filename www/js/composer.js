// composer.js — the send box.
//
// For: Enter sends, Shift+Enter starts a new line (and Enter while an input method
// is composing does nothing); the body is checked against the contract's rules
// (1–4000 characters, at least one that is not a space) before it is handed to
// onSend; onTyping fires at most every 2 s while the person types.
// Not for: sending (chat.js owns the socket and the outbox).

export const MAX_CHARS = 4000;
const TYPING_EVERY = 2000;	// contract: typing 2 per second per user; one every 2 s is plenty

// Returns null when body can be sent, else a sentence saying why not.
export function bodyProblem(body) {
	if (!/\S/u.test(body))
		return 'Write something first.';
	const n = [...body].length;
	if (n > MAX_CHARS)
		return `Messages are at most ${MAX_CHARS} characters (this one has ${n}).`;
	// Control characters other than tab and newline are refused by the server.
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(body))
		return 'The message contains characters that cannot be sent.';
	return null;
}

export class Composer {
	// form: the <form>; onSend(body) → true when taken; onTyping(); onProblem(text|null).
	constructor({form, onSend, onTyping, onProblem}) {
		this.form = form;
		this.input = form.elements.body;
		this.lastTyping = 0;
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			this.submit();
		});
		this.input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
				ev.preventDefault();
				this.submit();
			}
		});
		this.input.addEventListener('input', () => {
			onProblem(null);
			const now = Date.now();
			if (this.input.value && now - this.lastTyping > TYPING_EVERY) {
				this.lastTyping = now;
				onTyping();
			}
		});
		this.onSend = onSend;
		this.onProblem = onProblem;
	}

	submit() {
		// Trailing newlines and spaces are noise; inner ones are kept.
		const body = this.input.value.replace(/\s+$/u, '');
		const problem = bodyProblem(body);
		if (problem) {
			this.onProblem(problem);
			return;
		}
		if (this.onSend(body)) {
			this.input.value = '';
			this.lastTyping = 0;
		}
		this.input.focus();
	}

	enable(on) {
		this.form.hidden = !on;
	}

	focus() {
		this.input.focus({preventScroll: true});
	}
}
