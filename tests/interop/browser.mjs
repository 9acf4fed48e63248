// A tiny browser for tests: follows our login and consent pages by submitting their
// HTML forms with a cookie jar, the way a user's browser would.
const jar = new Map();

function remember(res) {
	for (const c of res.headers.getSetCookie?.() ?? []) {
		const [pair] = c.split(';');
		const eq = pair.indexOf('=');
		jar.set(pair.slice(0, eq), pair.slice(eq + 1));
	}
}

function cookieHeader() {
	return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

function unescapeHtml(s) {
	return s.replace(/&(amp|lt|gt|quot|#39|#96|#61);/g, (m, e) =>
		({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', '#61': '=' })[e]);
}

// The first form of a page: its action and its fields.
export function parseForm(html) {
	const form = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
	if (!form) throw new Error('no form on the page');
	const fields = new URLSearchParams();
	for (const m of form[2].matchAll(/<input[^>]*>/g)) {
		const name = m[0].match(/name="([^"]*)"/);
		const value = m[0].match(/value="([^"]*)"/);
		const type = m[0].match(/type="([^"]*)"/);
		if (name && (!type || ['hidden', 'text'].includes(type[1])))
			fields.append(unescapeHtml(name[1]), value ? unescapeHtml(value[1]) : '');
	}
	return { action: unescapeHtml(form[1]), fields };
}

export async function get(url) {
	const res = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader() } });
	remember(res);
	return res;
}

export async function post(url, fields) {
	const res = await fetch(url, {
		method: 'POST',
		redirect: 'manual',
		headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
		body: fields.toString(),
	});
	remember(res);
	return res;
}

// Walk from an authorization URL to the redirect back to the client, signing in with
// the given credentials and approving consent. Returns the final Location URL.
export async function authorize(url, { username, password, decision = 'allow' }) {
	let res = await get(url);
	for (let step = 0; step < 5; step++) {
		if (res.status === 303 || res.status === 302) return new URL(res.headers.get('location'));
		const html = await res.text();
		if (res.status !== 200) throw new Error(`authorization page ${res.status}: ${html.slice(0, 200)}`);
		const { action, fields } = parseForm(html);
		if (fields.get('step') === 'login') {
			fields.set('username', username);
			fields.set('password', password);
		} else {
			fields.set('decision', decision);
		}
		res = await post(action, fields);
	}
	throw new Error('too many pages');
}
