// settings.js — the settings page: sessions, password, blocked people, account.
//
// For: listing my sessions (GET /api/sessions) with "Sign out" per row
// (DELETE /api/sessions/{id}) and "Sign out everywhere" (POST /api/logout-all);
// changing the password (POST /api/password: the other sessions end); the people
// I block (GET/POST/DELETE /api/blocks); deleting the account with its password
// (DELETE /api/me). Any 401 goes to /login.html.
// Not for: the chat (chat.js) or blocking from a name there (people.js).

import {api} from './api.js';
import {$, el, clear} from './dom.js';
import {FormErrors, checkRules} from './form.js';

const dateFmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});

const PASSWORD_RULES = {
	current: [(v) => v.length > 0 || 'Enter your current password.'],
	new: [
		(v) => v.length >= 8 || 'Use at least 8 characters.',
		(v) => new TextEncoder().encode(v).length <= 1024 || 'Use at most 1024 bytes.',
	],
};

let leaving = false;
function goLogin() {
	if (leaving)
		return;
	leaving = true;
	location.replace('/login.html');
}

function when(s) {
	const d = new Date(s);
	return Number.isNaN(d.getTime()) ? '' : dateFmt.format(d);
}

// "Chrome on Linux" from a User-Agent; the raw string when nothing matches.
const BROWSERS = [[/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'],
	[/Chrom(e|ium)\//, 'Chrome'], [/Safari\//, 'Safari'], [/curl\//, 'curl'],
	[/python-requests|Python/, 'Python script']];
const SYSTEMS = [[/Android/, 'Android'], [/iPhone|iPad|iOS/, 'iOS'], [/Windows/, 'Windows'],
	[/Mac OS X|Macintosh/, 'macOS'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux']];
export function describeAgent(ua) {
	if (!ua)
		return 'Unknown device';
	const b = BROWSERS.find(([re]) => re.test(ua));
	const o = SYSTEMS.find(([re]) => re.test(ua));
	if (b && o)
		return `${b[1]} on ${o[1]}`;
	if (b || o)
		return (b || o)[1];
	return ua.length > 60 ? `${ua.slice(0, 57)}…` : ua;
}

function showError(node, text) {
	node.textContent = text;
	node.hidden = !text;
}

// ---- sessions ----

async function loadSessions() {
	const list = $('#sessions');
	let res;
	try {
		res = await api.sessions();
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		return showError($('#sessions-error'), `Sessions could not be loaded: ${err.message}`);
	}
	showError($('#sessions-error'), '');
	clear(list);
	const sessions = [...((res && res.sessions) || [])].sort((a, b) =>
		(b.current - a.current) || String(b.last_seen_at).localeCompare(String(a.last_seen_at)));
	for (const s of sessions)
		list.append(sessionRow(s));
}

function sessionRow(s) {
	const details = [s.address ? `from ${s.address}` : null,
		s.created_at ? `signed in ${when(s.created_at)}` : null,
		s.last_seen_at ? `last active ${when(s.last_seen_at)}` : null].filter(Boolean).join(' · ');
	return el('li', {class: 'session', attrs: {'data-session': s.id, 'data-current': s.current ? 'true' : 'false'}},
		el('div', {class: 'session-what'},
			el('strong', {text: describeAgent(s.user_agent), attrs: {title: s.user_agent || ''}}),
			el('span', {class: 'muted small', text: details})),
		s.current ? el('span', {class: 'tag', text: 'this device'}) : null,
		el('button', {class: 'ghost small', text: 'Sign out',
			attrs: {type: 'button', 'data-action': 'revoke'},
			on: {click: (ev) => revoke(s, ev.currentTarget)}}));
}

async function revoke(s, button) {
	button.disabled = true;
	try {
		await api.revokeSession(s.id);
	} catch (err) {
		button.disabled = false;
		if (err.status === 401)
			return goLogin();
		if (err.status !== 404)
			return showError($('#sessions-error'), `Could not sign that session out: ${err.message}`);
	}
	if (s.current)
		return goLogin();
	loadSessions();
}

async function logoutAll() {
	if (!confirm('Sign out on every device, this one included?'))
		return;
	try {
		await api.logoutAll();
	} catch (err) {
		if (err.status !== 401)
			return showError($('#sessions-error'), `Could not sign out everywhere: ${err.message}`);
	}
	goLogin();
}

// ---- password ----

function setupPassword() {
	const form = $('#password-form');
	const errors = new FormErrors(form);
	const ok = $('#password-form-ok');
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		errors.clear();
		ok.hidden = true;
		const values = {
			current: form.elements.current.value,
			new: form.elements.new.value,
			confirm: form.elements.confirm.value,
		};
		if (!checkRules(errors, values, {
			...PASSWORD_RULES,
			confirm: [(v) => v === values.new || 'The two new passwords differ.'],
		}))
			return;
		await errors.busy(async () => {
			try {
				await api.changePassword(values.current, values.new);
			} catch (err) {
				if (err.status === 401 && err.code !== 'invalid_credentials')
					return goLogin();
				if (err.code === 'invalid_credentials')
					return errors.show('current', 'That is not your current password.');
				return errors.showError(err);
			}
			form.reset();
			ok.hidden = false;
			loadSessions();
		});
	});
}

// ---- blocks ----

async function loadBlocks() {
	const list = $('#blocks');
	let res;
	try {
		res = await api.blocks();
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		return showError($('#block-form-error'), `Blocked people could not be loaded: ${err.message}`);
	}
	clear(list);
	const blocks = (res && res.blocks) || [];
	for (const b of blocks)
		list.append(el('li', {class: 'person', attrs: {'data-username': b.username}},
			el('span', {class: 'person-name', text: b.username}),
			el('span', {class: 'muted small', text: b.created_at ? `since ${when(b.created_at)}` : ''}),
			el('span', {class: 'row-actions'},
				el('button', {class: 'ghost small', text: 'Unblock',
					attrs: {type: 'button', 'data-action': 'unblock'},
					on: {click: (ev) => unblock(b, ev.currentTarget)}}))));
	$('#blocks-empty').hidden = blocks.length > 0;
}

async function unblock(b, button) {
	button.disabled = true;
	try {
		await api.unblock(b.username);
	} catch (err) {
		button.disabled = false;
		if (err.status === 401)
			return goLogin();
		if (err.status !== 404)
			return showError($('#block-form-error'), `Could not unblock ${b.username}: ${err.message}`);
	}
	loadBlocks();
}

function setupBlockForm() {
	const form = $('#block-form');
	const errors = new FormErrors(form);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		errors.clear();
		const username = form.elements.username.value.trim().replace(/^@/, '');
		if (!checkRules(errors, {username}, {username: [(v) => v.length > 0 || 'Give a username.']}))
			return;
		await errors.busy(async () => {
			try {
				await api.block(username);
			} catch (err) {
				if (err.status === 401)
					return goLogin();
				return errors.show('username', err.status === 404 ? `There is nobody called ${username}.`
					: err.message);
			}
			form.reset();
			loadBlocks();
		});
	});
}

// ---- account ----

function setupDelete() {
	const form = $('#delete-form');
	const errors = new FormErrors(form);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		errors.clear();
		const password = form.elements.password.value;
		if (!checkRules(errors, {password}, {password: [(v) => v.length > 0 || 'Enter your password.']}))
			return;
		if (!confirm('Delete your account for good? This cannot be undone.'))
			return;
		await errors.busy(async () => {
			try {
				await api.deleteMe(password);
			} catch (err) {
				if (err.code === 'invalid_credentials')
					return errors.show('password', 'That is not your password.');
				if (err.status === 401)
					return goLogin();
				return errors.showError(err);
			}
			leaving = true;
			location.replace('/login.html');
		});
	});
}

async function start() {
	let me;
	try {
		me = await api.me();
	} catch (err) {
		if (err.status === 401)
			return goLogin();
		showError($('#settings-error'), `Settings cannot be shown: ${err.message} Reload the page to try again.`);
		document.body.dataset.state = 'error';
		return;
	}
	$('#me-name').textContent = me.username;
	$('#logout-all').addEventListener('click', logoutAll);
	setupPassword();
	setupBlockForm();
	setupDelete();
	await Promise.all([loadSessions(), loadBlocks()]);
	document.body.dataset.state = 'ready';
}

start();
