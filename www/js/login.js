// login.js — the sign-in page: username or email and password, then the chat page.
//
// For: /login.html only. The server sets the HttpOnly session cookie; this page
// never sees the token. Not for: registration (register.js).

import {api} from './api.js';
import {FormErrors, checkRules} from './form.js';

const form = document.getElementById('login');
const errors = new FormErrors(form);

const RULES = {
	username: [(v) => v.trim() !== '' || 'Enter your username or email.'],
	password: [(v) => v !== '' || 'Enter your password.'],
};

form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	errors.clear();
	const values = {
		username: form.elements.username.value.trim(),
		password: form.elements.password.value,
	};
	if (!checkRules(errors, values, RULES))
		return;
	await errors.busy(async () => {
		try {
			await api.login(values.username, values.password);
			location.replace('/');
		} catch (err) {
			if (err.code === 'invalid_credentials')
				form.elements.password.value = '';
			errors.showError(err);
		}
	});
});

// register.html sends people here with ?registered=1 when signing in after
// registration failed; say so.
if (new URLSearchParams(location.search).get('registered'))
	document.getElementById('login-note').hidden = false;
