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

// Every form of a page: its action (resolved against the page's URL) and its fields.
function parseForms(html, pageUrl) {
	const forms = [];
	for (const m of html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
		const { fields } = parseForm(m[0]);
		forms.push({ action: new URL(unescapeHtml(m[1]), pageUrl).href, fields });
	}
	return forms;
}

// Walk from an authorization URL to the redirect back to the client, signing in with
// the given credentials and approving consent. With upstream (a provider's name and the
// login to use at its development login page), sign in through that provider instead:
// its button on the login page, then its pages, across hosts. Returns the final
// Location URL (the client's redirect URI).
export async function authorize(url, { username, password, decision = 'allow', upstream = null }) {
	const redirectUri = new URL(url).searchParams.get('redirect_uri');
	let pageUrl = url;
	let res = await get(url);
	for (let step = 0; step < 16; step++) {
		if (res.status === 303 || res.status === 302) {
			const loc = new URL(res.headers.get('location'), pageUrl);
			if (loc.href.startsWith(redirectUri)) return loc;
			pageUrl = loc.href;
			res = await get(pageUrl);
			continue;
		}
		const html = await res.text();
		if (res.status !== 200) throw new Error(`authorization page ${res.status}: ${html.slice(0, 200)}`);
		const forms = parseForms(html, pageUrl);
		let form = forms[0];
		if (upstream && forms.some((f) => f.fields.get('idp') === upstream.idp))
			form = forms.find((f) => f.fields.get('idp') === upstream.idp);
		else if (form.fields.get('step') === 'login') {
			form.fields.set('username', username);
			form.fields.set('password', password);
		} else if (/name="login"/.test(html) && upstream) {
			form.fields.set('login', upstream.login); // the provider's development login
			form.fields.set('password', 'any');
		} else if (form.fields.has('decision') || form.fields.get('step') === 'consent') {
			form.fields.set('decision', decision);
		}
		if (!form.fields.has('decision') && /name="decision"/.test(html))
			form.fields.set('decision', decision);
		pageUrl = form.action;
		res = await post(form.action, form.fields);
	}
	throw new Error('too many pages');
}
