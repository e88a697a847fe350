// register.js — the registration page: username, email, password; then it signs
// in and opens the chat page.
//
// For: /register.html only. The rules below mirror the server's (contract
// section 3) so people hear about a mistake before sending; the server still
// decides, and its answer is shown next to the field it names.
// Not for: signing in on its own (login.js).

import {api} from './api.js';
import {FormErrors, checkRules} from './form.js';

const form = document.getElementById('register');
const errors = new FormErrors(form);
const utf8 = new TextEncoder();

const RULES = {
	username: [
		(v) => (v.length >= 3 && v.length <= 32) || 'Use 3 to 32 characters.',
		(v) => /^[A-Za-z0-9_.-]+$/.test(v) || 'Use only letters, digits, “_”, “.” and “-”.',
	],
	email: [
		(v) => v !== '' || 'Enter your email address.',
		(v) => /^[^\s@]+@[^\s@]+$/.test(v) || 'Enter a valid email address.',
	],
	password: [
		(v) => utf8.encode(v).length >= 8 || 'Use at least 8 characters.',
		(v) => utf8.encode(v).length <= 1024 || 'Use at most 1024 bytes.',
	],
};

form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	errors.clear();
	const values = {
		username: form.elements.username.value.trim(),
		email: form.elements.email.value.trim(),
		password: form.elements.password.value,
	};
	if (!checkRules(errors, values, RULES))
		return;
	await errors.busy(async () => {
		try {
			await api.register(values.username, values.email, values.password);
		} catch (err) {
			errors.showError(err);
			return;
		}
		try {
			await api.login(values.username, values.password);
			location.replace('/');
		} catch {
			// The account exists; let the person sign in by hand.
			location.replace('/login.html?registered=1');
		}
	});
});
