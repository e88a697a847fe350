// readers.js — how far each member of a room has read, and "Seen by …".
//
// For: keeping, per room, every member's read marker (from GET …/members'
// last_read_seq, live `read` frames, and the messages they send, since sending
// moves one's own marker) and answering who has seen a given seq.
// Not for: fetching or drawing (chat.js asks, messages-view.js draws).
// Pure module: no DOM, no network.

export class Readers {
	constructor() {
		this.rooms = new Map();	// room id → Map(user id → {username, seq})
	}

	// members: [{id, username, last_read_seq}] from GET …/members. Markers only
	// move forward: a live event that came before the answer is kept.
	load(room, members) {
		const m = this.rooms.get(room) || new Map();
		const seen = new Set();
		for (const u of members || []) {
			if (!u || u.id == null)
				continue;
			const id = String(u.id);
			seen.add(id);
			const old = m.get(id);
			const seq = Number.isInteger(u.last_read_seq) ? u.last_read_seq : 0;
			m.set(id, {username: u.username, seq: Math.max(seq, old ? old.seq : 0)});
		}
		for (const id of [...m.keys()])
			if (!seen.has(id))
				m.delete(id);
		this.rooms.set(room, m);
	}

	// A `read` frame or a message from user: their marker is at least seq.
	// Returns true when anything changed.
	update(room, user, seq) {
		if (!user || user.id == null || !Number.isInteger(seq))
			return false;
		const m = this.rooms.get(room);
		if (!m)
			return false;
		const id = String(user.id);
		const old = m.get(id);
		if (old && old.seq >= seq)
			return false;
		m.set(id, {username: user.username || (old && old.username) || '?', seq});
		return true;
	}

	// True when room's markers are loaded and include user id.
	knows(room, id) {
		const m = this.rooms.get(room);
		return Boolean(m && m.has(String(id)));
	}

	forget(room) {
		this.rooms.delete(room);
	}

	// Usernames (sorted) of the members other than meId who have read seq.
	seenBy(room, seq, meId) {
		const m = this.rooms.get(room);
		if (!m || !seq)
			return [];
		const out = [];
		for (const [id, r] of m)
			if (id !== String(meId) && r.seq >= seq)
				out.push(r.username);
		return out.sort((a, b) => a.localeCompare(b));
	}
}

// ["alice"] → "Seen by alice"; five or more → "Seen by alice, bob, carol and 2 others".
export function seenText(names) {
	if (!names.length)
		return '';
	const shown = names.slice(0, 3);
	const rest = names.length - shown.length;
	if (rest > 0)
		return `Seen by ${shown.join(', ')} and ${rest} other${rest === 1 ? '' : 's'}`;
	if (shown.length === 1)
		return `Seen by ${shown[0]}`;
	return `Seen by ${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}
