// dom.js — the only way pipechat's pages build elements.
//
// For: creating elements with classes, attributes and text, and emptying them.
// Not for: markup from strings. Text always goes in through textContent, so data
// from the server or other people can never become markup (no innerHTML here or
// anywhere else in www/).

// el('div', {class: 'x', text: 'hi', attrs: {role: 'list'}, on: {click: fn}}, child, …)
// returns a new element. Children are nodes or strings (strings become text nodes);
// null and false children are skipped.
export function el(tag, opts = {}, ...children) {
	const node = document.createElement(tag);
	if (opts.class)
		node.className = opts.class;
	if (opts.text !== undefined && opts.text !== null)
		node.textContent = String(opts.text);
	if (opts.attrs)
		for (const [k, v] of Object.entries(opts.attrs))
			if (v !== undefined && v !== null && v !== false)
				node.setAttribute(k, v === true ? '' : String(v));
	if (opts.on)
		for (const [ev, fn] of Object.entries(opts.on))
			node.addEventListener(ev, fn);
	for (const c of children)
		if (c !== null && c !== undefined && c !== false)
			node.append(typeof c === 'string' ? document.createTextNode(c) : c);
	return node;
}

// Removes every child of node.
export function clear(node) {
	while (node.firstChild)
		node.firstChild.remove();
}

// $('#id') — the element or an Error naming the missing id, so a page that lost an
// element fails loudly at start instead of later.
export function $(selector, root = document) {
	const node = root.querySelector(selector);
	if (!node)
		throw new Error(`missing element ${selector}`);
	return node;
}

// Appends text to parent, turning http(s) URLs into links. Links are built as
// elements with textContent; only http: and https: URLs become links.
const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
export function appendLinkified(parent, text) {
	let last = 0;
	for (const m of text.matchAll(URL_RE)) {
		if (m.index > last)
			parent.append(document.createTextNode(text.slice(last, m.index)));
		const a = document.createElement('a');
		a.textContent = m[0];
		a.href = m[0];
		if (a.protocol === 'http:' || a.protocol === 'https:') {
			a.rel = 'noopener noreferrer nofollow';
			a.target = '_blank';
			parent.append(a);
		} else {
			parent.append(document.createTextNode(m[0]));
		}
		last = m.index + m[0].length;
	}
	if (last < text.length)
		parent.append(document.createTextNode(text.slice(last)));
}
