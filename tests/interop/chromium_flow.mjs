// The sign-in pages in a real browser: Debian's Chromium, headless, driven by
// puppeteer-core. A real browser enforces what a form driver does not: SameSite cookies
// across the upstream provider's cross-site redirects (mcp-authd is on "localhost", the
// provider on "127.0.0.1": two sites), the Content-Security-Policy of the pages, and the
// redirect back to a loopback client. Also a keyboard-only pass over the login page
// (every control reachable with Tab and labelled), and a screenshot of each page.
//
// usage: node chromium_flow.mjs  (env: ISSUER, CLIENT_ID, RESOURCE, CALLBACK_PORT,
//        USERNAME, PASSWORD, IDP_LOGIN, SHOTS: a directory for the screenshots)
// Prints one JSON object with what it saw.
import http from 'node:http';
import crypto from 'node:crypto';
import puppeteer from 'puppeteer-core';

const { ISSUER, CLIENT_ID, RESOURCE, CALLBACK_PORT, USERNAME, PASSWORD, IDP_LOGIN, SHOTS } =
	process.env;
const redirectUri = `http://127.0.0.1:${CALLBACK_PORT}/callback`;
const result = { csp_violations: [], console_errors: [] };

// The client: a loopback server that receives the code.
const codes = [];
const client = http.createServer((req, res) => {
	const u = new URL(req.url, redirectUri);
	codes.push(Object.fromEntries(u.searchParams));
	res.writeHead(200, { 'Content-Type': 'text/plain' });
	res.end('client got the answer');
});
await new Promise((r) => client.listen(Number(CALLBACK_PORT), '127.0.0.1', r));

function authorizeUrl(state) {
	const verifier = crypto.randomBytes(32).toString('base64url');
	const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
	const q = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID,
		redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256',
		resource: RESOURCE, scope: 'files:read', state });
	return `${ISSUER}/authorize?${q}`;
}

const browser = await puppeteer.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
});

function watch(page) {
	page.on('console', (m) => {
		const t = m.text();
		if (/Content Security Policy/i.test(t)) result.csp_violations.push(t);
		else if (m.type() === 'error' && !/favicon/.test(t)) result.console_errors.push(t);
	});
}

// Tab through every control from the top of the page (a field with autofocus would
// start in the middle): each must take the focus and have a name.
async function tabPass(page) {
	await page.evaluate(() => { document.body.tabIndex = -1; document.body.focus(); });
	const seen = [];
	for (let i = 0; i < 12; i++) {
		await page.keyboard.press('Tab');
		const f = await page.evaluate(() => {
			const e = document.activeElement;
			if (!e || e === document.body) return null;
			const label = e.labels && e.labels.length ? e.labels[0].textContent.trim()
				: (e.getAttribute('aria-label') || e.textContent || '').trim();
			return { tag: e.tagName.toLowerCase(), type: e.type || '', label };
		});
		if (f == null) break;
		if (seen.some((s) => s.tag === f.tag && s.label === f.label && s.type === f.type)) break;
		seen.push(f);
	}
	return seen;
}

async function controlCount(page) {
	return page.evaluate(() =>
		[...document.querySelectorAll('input:not([type=hidden]), button, a[href], select, textarea')].length);
}

async function clickAndWait(page, selector) {
	await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 15000 }),
		page.click(selector)]);
}

try {
	// ---- 1. keyboard pass and the password login, in one browser context ----
	const ctx1 = await browser.createBrowserContext();
	const page = await ctx1.newPage();
	watch(page);
	await page.goto(authorizeUrl('pw-state'), { waitUntil: 'load' });
	await page.waitForSelector('#username', { timeout: 15000 });
	result.login_url = page.url();
	await page.screenshot({ path: `${SHOTS}/login.png`, fullPage: true });
	result.login_title = await page.title();
	result.keyboard = await tabPass(page);
	result.controls = await controlCount(page);
	// The password login by keyboard alone.
	await page.focus('#username');
	await page.keyboard.type(USERNAME);
	await page.keyboard.press('Tab');
	await page.keyboard.type(PASSWORD);
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
	await page.screenshot({ path: `${SHOTS}/consent.png`, fullPage: true });
	result.consent_title = await page.title();
	result.consent_keyboard = await tabPass(page);
	result.consent_controls = await controlCount(page);
	await clickAndWait(page, 'button[name=decision][value=allow]');
	result.password_code = codes.find((c) => c.state === 'pw-state') ?? null;
	await ctx1.close();

	// ---- 2. through the upstream provider, in a fresh context ----
	const ctx2 = await browser.createBrowserContext();
	const p2 = await ctx2.newPage();
	watch(p2);
	await p2.goto(authorizeUrl('idp-state'), { waitUntil: 'load' });
	await clickAndWait(p2, 'form.idp button');
	result.upstream_host = new URL(p2.url()).host;
	await p2.screenshot({ path: `${SHOTS}/upstream-login.png`, fullPage: true });
	await p2.type('input[name=login]', IDP_LOGIN);
	await p2.type('input[name=password]', 'any');
	await clickAndWait(p2, 'button[type=submit]');
	// The provider's consent, then back to mcp-authd's.
	for (let i = 0; i < 3 && new URL(p2.url()).origin !== ISSUER; i++)
		await clickAndWait(p2, 'button[type=submit]');
	result.back_on = new URL(p2.url()).origin;
	await p2.screenshot({ path: `${SHOTS}/consent-federated.png`, fullPage: true });
	result.federated_consent_text = (await p2.evaluate(() => document.body.innerText)).slice(0, 400);
	await clickAndWait(p2, 'button[name=decision][value=allow]');
	result.federated_code = codes.find((c) => c.state === 'idp-state') ?? null;

	// ---- 3. an error page ----
	await p2.goto(`${ISSUER}/authorize?client_id=nobody&response_type=code`, { waitUntil: 'load' });
	await p2.screenshot({ path: `${SHOTS}/error.png`, fullPage: true });
	result.error_title = await p2.title();
	await ctx2.close();
} catch (e) {
	result.failure = String(e && e.stack ? e.stack : e);
	// Where the browser was when it failed, for the test's diagnostics.
	for (const p of await browser.pages().catch(() => []))
		(result.failure_pages ??= []).push({ url: p.url(), title: await p.title().catch((t) => String(t)) });
} finally {
	await browser.close();
	client.close();
	console.log(JSON.stringify(result));
}
