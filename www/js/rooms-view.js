// rooms-view.js — the sidebar's room lists.
//
// For: drawing the rooms the person belongs to ("Your rooms", with unread counts),
// their direct chats apart ("Direct chats", with unread counts and a dot when
// the other person is online), the public rooms they could join, marking the
// open one, and reporting clicks.
// Not for: fetching rooms or deciding what a click does (chat.js).

import {el, clear} from './dom.js';

const ICON = {public: '#', private: '🔒', direct: '@'};

export class RoomsView {
	// mine, direct, others: <ul> elements (and their headings; direct may be
	// absent: direct chats then go with the rooms); empty: the "no rooms" note;
	// onOpen(id) on click; isOnline(room) → true when a direct room's other
	// person is online.
	constructor({mine, mineTitle, direct = null, directTitle = null, others, othersTitle, empty, onOpen,
		isOnline = () => false}) {
		this.mine = mine;
		this.mineTitle = mineTitle;
		this.direct = direct;
		this.directTitle = directTitle;
		this.others = others;
		this.othersTitle = othersTitle;
		this.empty = empty;
		this.onOpen = onOpen;
		this.isOnline = isOnline;
	}

	// rooms: array in the server's order; current: the open room's id or null.
	render(rooms, current) {
		clear(this.mine);
		clear(this.others);
		if (this.direct)
			clear(this.direct);
		let nMine = 0, nOthers = 0, nDirect = 0;
		for (const r of rooms) {
			const item = this.item(r, r.id === current);
			if (r.kind === 'direct' && this.direct) {
				this.direct.append(item);
				nDirect++;
			} else if (r.joined) {
				this.mine.append(item);
				nMine++;
			} else {
				this.others.append(item);
				nOthers++;
			}
		}
		this.mine.hidden = this.mineTitle.hidden = nMine === 0;
		if (this.direct)
			this.direct.hidden = this.directTitle.hidden = nDirect === 0;
		this.others.hidden = this.othersTitle.hidden = nOthers === 0;
		this.empty.hidden = nMine + nOthers + nDirect > 0;
	}

	item(r, isCurrent) {
		const unread = r.joined && !isCurrent && r.unread > 0;
		const btn = el('button', {
			class: 'room-item' + (unread ? ' has-unread' : ''),
			attrs: {
				type: 'button',
				'data-room': r.id,
				'data-name': r.name,
				'data-kind': r.kind,
				'aria-current': isCurrent ? 'page' : null,
				title: r.kind === 'public' && !r.joined ? `Preview #${r.name}` : r.name,
			},
			on: {click: () => this.onOpen(r.id)},
		},
		el('span', {class: 'room-icon', text: ICON[r.kind] || '#', attrs: {'aria-hidden': 'true'}}),
		el('span', {class: 'room-name', text: r.name}),
		r.kind === 'direct' && this.isOnline(r)
			? el('span', {class: 'dot online', attrs: {title: 'online', 'aria-label': 'online'}}) : null,
		unread ? el('span', {
			class: 'badge',
			text: r.unread > 99 ? '99+' : r.unread,
			attrs: {'aria-label': `${r.unread} unread`},
		}) : null);
		return el('li', {}, btn);
	}
}
