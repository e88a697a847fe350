// api.js — pipechat's HTTP API (contract section 3) as promises.
//
// For: one fetch per call, JSON in and out, errors turned into ApiError with the
// server's {code, message, field} and the Retry-After of a 429.
// Not for: deciding what an error means to the page (the page's module does that),
// or retrying (a failed call is reported, never repeated behind the caller's back).

export class ApiError extends Error {
	// status: HTTP status (0 when the server could not be reached); code, message,
	// field: from the error body, or made up when there was none; retryAfter:
	// seconds to wait (429 only), or null.
	constructor(status, code, message, field = null, retryAfter = null) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
		this.field = field;
		this.retryAfter = retryAfter;
	}
}

// Retry-After is delta-seconds or an HTTP date; returns whole seconds ≥ 1, or null.
export function parseRetryAfter(value) {
	if (!value)
		return null;
	const s = value.trim();
	if (/^\d+$/.test(s))
		return Math.max(1, parseInt(s, 10));
	const t = Date.parse(s);
	if (Number.isNaN(t))
		return null;
	return Math.max(1, Math.ceil((t - Date.now()) / 1000));
}

const FALLBACK = {
	0: ['network', 'The server cannot be reached. Check your connection and try again.'],
	413: ['too_large', 'That is too large.'],
	429: ['rate_limited', 'Too many attempts.'],
	502: ['unavailable', 'The server is not answering. Try again in a moment.'],
	503: ['unavailable', 'The service is unavailable. Try again in a moment.'],
	504: ['unavailable', 'The server took too long to answer. Try again.'],
};

// request('POST', '/api/login', {username, password}) resolves to the parsed JSON
// body, or null for 204 and empty bodies; rejects with ApiError for any status ≥ 400
// and for network failures.
export async function request(method, path, body) {
	const init = {
		method,
		headers: {Accept: 'application/json'},
		credentials: 'same-origin',
		cache: 'no-store',
	};
	if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, init);
	} catch {
		const [code, msg] = FALLBACK[0];
		throw new ApiError(0, code, msg);
	}
	let data = null;
	const text = await res.text().catch(() => '');
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			data = null;
		}
	}
	if (res.ok)
		return data;
	const retryAfter = res.status === 429 ? parseRetryAfter(res.headers.get('Retry-After')) : null;
	const e = data && typeof data === 'object' && data.error;
	if (e && typeof e.code === 'string')
		throw new ApiError(res.status, e.code, e.message || e.code, e.field ?? null, retryAfter);
	const [code, msg] = FALLBACK[res.status] || ['http_' + res.status, `The server answered ${res.status}.`];
	throw new ApiError(res.status, code, msg, null, retryAfter);
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const del = (path, body) => request('DELETE', path, body);
export const patch = (path, body = {}) => request('PATCH', path, body);

const enc = encodeURIComponent;

// The endpoints the pages use, named as the contract names them.
export const api = {
	register: (username, email, password) => post('/api/register', {username, email, password}),
	login: (username, password) => post('/api/login', {username, password}),
	logout: () => post('/api/logout'),
	me: () => get('/api/me'),
	config: () => get('/api/config'),
	rooms: (after) => get('/api/rooms?limit=50' + (after != null ? '&after=' + encodeURIComponent(after) : '')),
	room: (id) => get(`/api/rooms/${encodeURIComponent(id)}`),
	createRoom: (name, kind) => post('/api/rooms', {name, kind}),
	joinRoom: (id) => post(`/api/rooms/${encodeURIComponent(id)}/join`),
	// history(id, {before|after, limit}): at most one of before and after.
	history: (id, {before, after, limit = 50} = {}) => {
		const q = new URLSearchParams({limit: String(limit)});
		if (before != null)
			q.set('before', String(before));
		else if (after != null)
			q.set('after', String(after));
		return get(`/api/rooms/${encodeURIComponent(id)}/messages?${q}`);
	},
	read: (id, seq) => post(`/api/rooms/${encodeURIComponent(id)}/read`, {seq}),
	invitesList: () => get('/api/invites'),
	acceptInvite: (id) => post(`/api/invites/${encodeURIComponent(id)}/accept`),
	declineInvite: (id) => post(`/api/invites/${encodeURIComponent(id)}/decline`),
	// Issue 4: people, direct chats, members, invitations, read markers.
	users: (q, limit = 20, after = null) =>
		get(`/api/users?q=${enc(q)}&limit=${limit}` + (after != null ? `&after=${enc(after)}` : '')),
	dm: (username) => post('/api/dm', {username}),
	members: (id) => get(`/api/rooms/${enc(id)}/members`),
	invite: (id, username) => post(`/api/rooms/${enc(id)}/invites`, {username}),
	leaveRoom: (id) => post(`/api/rooms/${enc(id)}/leave`),
	// Issue 5: the owner's powers, own messages, the account.
	renameRoom: (id, name) => patch(`/api/rooms/${enc(id)}`, {name}),
	deleteRoom: (id) => del(`/api/rooms/${enc(id)}`),
	kick: (id, username) => post(`/api/rooms/${enc(id)}/kick`, {username}),
	editMessage: (id, seq, body) => patch(`/api/rooms/${enc(id)}/messages/${enc(seq)}`, {body}),
	deleteMessage: (id, seq) => del(`/api/rooms/${enc(id)}/messages/${enc(seq)}`),
	sessions: () => get('/api/sessions'),
	revokeSession: (id) => del(`/api/sessions/${enc(id)}`),
	logoutAll: () => post('/api/logout-all'),
	changePassword: (current, next) => post('/api/password', {current, new: next}),
	deleteMe: (password) => del('/api/me', {password}),
	blocks: () => get('/api/blocks'),
	block: (username) => post('/api/blocks', {username}),
	unblock: (username) => del(`/api/blocks/${enc(username)}`),
};
