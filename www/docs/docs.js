// docs.js — the API reference page (/docs/): renders /docs/openapi.json.
//
// For: a readable page of every route, its parameters, request body, answers
// and the shared schemas, for people reading the API. Not for: trying requests
// out or validating anything. No third-party code; every piece of text from the
// file goes into the page through textContent, never as markup.

const SPEC_URL = '/docs/openapi.json';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

// el('div', {class, text, attrs}, child, …): a new element; string children
// become text nodes, null and false ones are skipped.
function el(tag, opts = {}, ...children) {
	const node = document.createElement(tag);
	if (opts.class)
		node.className = opts.class;
	if (opts.text !== undefined && opts.text !== null)
		node.textContent = String(opts.text);
	for (const [k, v] of Object.entries(opts.attrs || {}))
		node.setAttribute(k, String(v));
	for (const c of children)
		if (c !== null && c !== undefined && c !== false)
			node.append(typeof c === 'string' ? document.createTextNode(c) : c);
	return node;
}

// The object a local $ref ("#/components/schemas/Room") points at, or null.
function resolve(spec, ref) {
	if (typeof ref !== 'string' || !ref.startsWith('#/'))
		return null;
	let cur = spec;
	for (const part of ref.slice(2).split('/')) {
		const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
		if (cur === null || typeof cur !== 'object' || !(key in cur))
			return null;
		cur = cur[key];
	}
	return cur;
}

function refName(ref) {
	return ref.split('/').pop();
}

function anchorFor(kind, name) {
	return kind + '-' + String(name).replace(/[^A-Za-z0-9_-]/g, '-');
}

function opAnchor(method, path) {
	return anchorFor('op', method + path);
}

// A short inline description of a schema's type: "integer", "Room",
// "array of Message", "string (public | private)", with links to schemas.
function typeNode(spec, schema) {
	if (!schema)
		return el('span', {class: 'type', text: 'any'});
	if (schema.$ref) {
		const name = refName(schema.$ref);
		if (schema.$ref.startsWith('#/components/schemas/') && !schema.$ref.includes('/properties/'))
			return el('a', {class: 'type', text: name, attrs: {href: '#' + anchorFor('schema', name)}});
		return el('span', {class: 'type', text: name});
	}
	if (schema.allOf && schema.allOf.length === 1) {
		const inner = typeNode(spec, schema.allOf[0]);
		return schema.nullable ? el('span', {}, inner, ' or null') : inner;
	}
	let text = schema.type || 'object';
	if (schema.type === 'array')
		return el('span', {class: 'type'}, 'array of ', typeNode(spec, schema.items));
	if (schema.format)
		text += ' (' + schema.format + ')';
	if (Array.isArray(schema.enum))
		text += ': ' + schema.enum.join(' | ');
	if (schema.nullable)
		text += ' or null';
	return el('span', {class: 'type', text});
}

// Bounds and patterns of a schema, as one line of text (or '').
function constraints(schema) {
	if (!schema)
		return '';
	const out = [];
	if (schema.minimum !== undefined)
		out.push('≥ ' + schema.minimum);
	if (schema.maximum !== undefined)
		out.push('≤ ' + schema.maximum);
	if (schema.minLength !== undefined)
		out.push('length ≥ ' + schema.minLength);
	if (schema.maxLength !== undefined)
		out.push('length ≤ ' + schema.maxLength);
	if (schema.pattern)
		out.push('pattern ' + schema.pattern);
	if (schema.default !== undefined)
		out.push('default ' + JSON.stringify(schema.default));
	return out.join(', ');
}

// A table of an object schema's properties, or a single line for others.
function schemaNode(spec, schema) {
	if (!schema)
		return el('p', {class: 'muted', text: 'No schema.'});
	let target = schema;
	if (schema.$ref)
		target = resolve(spec, schema.$ref) || {};
	if (target.type !== 'object' || !target.properties)
		return el('p', {}, typeNode(spec, schema));
	const required = new Set(target.required || []);
	const rows = Object.entries(target.properties).map(([name, prop]) => el('tr', {},
		el('td', {}, el('code', {text: name}), required.has(name) ? null : el('span', {class: 'muted', text: ' optional'})),
		el('td', {}, typeNode(spec, prop)),
		el('td', {text: [prop.description || '', constraints(prop)].filter(Boolean).join(' — ')})));
	const head = el('tr', {}, el('th', {text: 'field'}), el('th', {text: 'type'}), el('th', {text: 'notes'}));
	const wrap = el('div', {});
	if (schema.$ref)
		wrap.append(el('p', {}, typeNode(spec, schema)));
	wrap.append(el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)));
	return wrap;
}

function parametersNode(spec, params) {
	const list = (params || []).map(p => (p.$ref ? resolve(spec, p.$ref) : p)).filter(Boolean);
	if (!list.length)
		return null;
	const rows = list.map(p => el('tr', {},
		el('td', {}, el('code', {text: p.name})),
		el('td', {text: p.in + (p.required ? '' : ', optional')}),
		el('td', {}, typeNode(spec, p.schema)),
		el('td', {text: [p.description || '', constraints(p.schema)].filter(Boolean).join(' — ')})));
	return el('section', {},
		el('h4', {text: 'Parameters'}),
		el('table', {},
			el('thead', {}, el('tr', {}, el('th', {text: 'name'}), el('th', {text: 'in'}),
				el('th', {text: 'type'}), el('th', {text: 'notes'}))),
			el('tbody', {}, ...rows)));
}

function responsesNode(spec, responses) {
	const items = Object.entries(responses || {}).map(([status, resp]) => {
		const r = resp.$ref ? resolve(spec, resp.$ref) || {} : resp;
		const kind = status[0] === '2' ? 'ok' : 'err';
		const li = el('li', {class: 'resp ' + kind},
			el('span', {class: 'status', text: status}), ' ', r.description || '');
		const content = r.content || {};
		const json = content['application/json'];
		if (json && json.schema)
			li.append(' ', el('span', {class: 'muted', text: '→ '}), typeNode(spec, json.schema));
		else if (Object.keys(content).length)
			li.append(' ', el('span', {class: 'muted', text: '→ ' + Object.keys(content).join(', ')}));
		for (const name of Object.keys(r.headers || {}))
			li.append(' ', el('span', {class: 'muted', text: '(header ' + name + ')'}));
		return li;
	});
	return el('section', {}, el('h4', {text: 'Answers'}), el('ul', {class: 'responses'}, ...items));
}

function operationNode(spec, method, path, op) {
	const sec = el('section', {class: 'op', attrs: {id: opAnchor(method, path)}});
	sec.append(el('h3', {},
		el('span', {class: 'method m-' + method, text: method.toUpperCase()}), ' ',
		el('code', {class: 'path', text: path})));
	if (op.summary)
		sec.append(el('p', {class: 'summary', text: op.summary}));
	if (op.description)
		sec.append(el('p', {text: op.description}));
	const open = Array.isArray(op.security) && op.security.length === 0;
	const sec2 = op.security && op.security.length ? op.security : null;
	let auth = 'Needs the access_token cookie (sign in first).';
	if (open)
		auth = 'No session needed.';
	else if (sec2 && sec2.some(s => 'metricsToken' in s))
		auth = 'No session; a metrics bearer token or a loopback peer.';
	sec.append(el('p', {class: 'auth', text: auth}));
	const params = parametersNode(spec, op.parameters);
	if (params)
		sec.append(params);
	const body = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
	if (body)
		sec.append(el('section', {}, el('h4', {text: 'Request body (application/json)'}), schemaNode(spec, body.schema)));
	sec.append(responsesNode(spec, op.responses));
	return sec;
}

function schemasNode(spec) {
	const schemas = (spec.components && spec.components.schemas) || {};
	const sec = el('section', {attrs: {id: 'schemas'}}, el('h2', {text: 'Schemas'}));
	for (const [name, schema] of Object.entries(schemas)) {
		const s = el('section', {class: 'schema', attrs: {id: anchorFor('schema', name)}},
			el('h3', {}, el('code', {text: name})));
		if (schema.description)
			s.append(el('p', {text: schema.description}));
		s.append(schemaNode(spec, schema));
		if (schema.example !== undefined)
			s.append(el('pre', {class: 'example', text: JSON.stringify(schema.example, null, 2)}));
		sec.append(s);
	}
	return sec;
}

function render(spec) {
	const doc = document.getElementById('doc');
	const toc = document.getElementById('toc');
	doc.replaceChildren();
	toc.replaceChildren();
	const info = spec.info || {};
	doc.append(el('h2', {text: (info.title || 'API') + (info.version ? ' (version ' + info.version + ')' : '')}));
	if (info.description)
		doc.append(el('p', {text: info.description}));

	// Operations grouped by their first tag, in the order of spec.tags.
	const groups = new Map((spec.tags || []).map(t => [t.name, {tag: t, ops: []}]));
	for (const [path, item] of Object.entries(spec.paths || {}))
		for (const method of METHODS) {
			const op = item[method];
			if (!op)
				continue;
			const name = (op.tags && op.tags[0]) || 'other';
			if (!groups.has(name))
				groups.set(name, {tag: {name}, ops: []});
			groups.get(name).ops.push({method, path, op});
		}
	for (const {tag, ops} of groups.values()) {
		if (!ops.length)
			continue;
		const id = anchorFor('tag', tag.name);
		const links = ops.map(({method, path}) => el('li', {},
			el('a', {attrs: {href: '#' + opAnchor(method, path)}},
				el('span', {class: 'method m-' + method, text: method.toUpperCase()}), ' ', path)));
		toc.append(el('h2', {}, el('a', {text: tag.name, attrs: {href: '#' + id}})), el('ul', {}, ...links));
		const sec = el('section', {class: 'tag', attrs: {id}}, el('h2', {text: tag.name}));
		if (tag.description)
			sec.append(el('p', {class: 'muted', text: tag.description}));
		for (const {method, path, op} of ops)
			sec.append(operationNode(spec, method, path, op));
		doc.append(sec);
	}
	toc.append(el('h2', {}, el('a', {text: 'schemas', attrs: {href: '#schemas'}})));
	doc.append(schemasNode(spec));
	if (location.hash) {
		const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
		if (target)
			target.scrollIntoView();
	}
}

async function main() {
	const status = document.getElementById('status');
	try {
		const r = await fetch(SPEC_URL, {headers: {Accept: 'application/json'}});
		if (!r.ok)
			throw new Error('HTTP ' + r.status);
		render(await r.json());
	} catch (e) {
		status.textContent = 'Could not load ' + SPEC_URL + ': ' + e.message;
		status.className = 'error';
	}
}

main();
