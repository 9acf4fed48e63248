// A user connects a third-party account, end to end: the official MCP SDK client and a
// real browser (Debian's Chromium, headless, driven by puppeteer-core).
//
//  1. The SDK client meets the MCP server's 401, discovers mcp-authd (RFC 9728, RFC 8414)
//     and asks for authorization; the browser signs the user in at mcp-authd and allows.
//     The code comes back to a loopback redirect URI; the SDK exchanges it.
//  2. whoami_upstream before the user has connected: the MCP server's vault fetch gets
//     invalid_grant with connect_uri and answers with a URL elicitation (-32042).
//  3. The browser (the same one: mcp-authd's session cookie is there) follows the
//     elicitation's URL: mcp-authd sends it to the third party, the user signs in there
//     and allows, and comes back to mcp-authd's list of connected accounts (screenshot).
//  4. whoami_upstream again: the third party's API answers for the connected account;
//     forward_token: the same API refuses the user's own token, forwarded.
//
// usage: node vault_e2e.mjs  (env: MCP_URL, CLIENT_ID (a public client registered with
//        the redirect URI http://127.0.0.1:CALLBACK_PORT/callback), CALLBACK_PORT,
//        USERNAME, PASSWORD (at mcp-authd), TP_USERNAME, TP_PASSWORD (at the third party),
//        SHOT: where to write the screenshot of the connections page)
// Prints one JSON object with what it saw (never a token); .failure when a step failed.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import puppeteer from 'puppeteer-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ElicitRequestSchema, UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';

const { MCP_URL, CLIENT_ID, CALLBACK_PORT, USERNAME, PASSWORD, TP_USERNAME, TP_PASSWORD, SHOT } = process.env;
const REDIRECT = `http://127.0.0.1:${CALLBACK_PORT}/callback`;
const STEP_TIMEOUT = 15000;
const result = { navigations: [], calls: [], http_errors: [] };

// The MCP client's redirect URI: a loopback server that takes the code.
let gotCode;
const codeArrived = new Promise((r) => { gotCode = r; });
const callback = http.createServer((req, res) => {
	const u = new URL(req.url, REDIRECT);
	if (u.pathname === '/callback') gotCode(Object.fromEntries(u.searchParams));
	res.writeHead(200, { 'Content-Type': 'text/plain' });
	res.end('You can close this window.');
});
await new Promise((r) => callback.listen(Number(CALLBACK_PORT), '127.0.0.1', r));

// The SDK's OAuth client provider, for a client registered beforehand.
class Provider {
	get redirectUrl() { return REDIRECT; }
	get clientMetadata() {
		return { client_name: 'Vault e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'], token_endpoint_auth_method: 'none' };
	}
	clientInformation() { return { client_id: CLIENT_ID }; }
	saveClientInformation() { throw new Error('the client is registered already'); }
	state() { return (this.lastState = randomBytes(16).toString('base64url')); }
	tokens() { return this.savedTokens; }
	saveTokens(t) { this.savedTokens = t; }
	redirectToAuthorization(url) { this.authorizationUrl = url; }
	saveCodeVerifier(v) { this.verifier = v; }
	codeVerifier() { return this.verifier; }
	invalidateCredentials(scope) {
		if (scope === 'all' || scope === 'tokens') this.savedTokens = undefined;
		if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
	}
}
const tracingFetch = async (url, init) => {
	const res = await fetch(url, init);
	const u = new URL(String(url));
	let what = '';
	try { what = JSON.parse(init?.body ?? '').method ?? ''; } catch { /* a form */ }
	result.calls.push(`${init?.method ?? 'GET'} ${u.origin}${u.pathname}${what ? ` ${what}` : ''} ${res.status}`);
	return res;
};
const provider = new Provider();
const transport = () => new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: tracingFetch });
const newClient = () => {
	// URL elicitation declared: the server may answer a tool call with a URL to open.
	const c = new Client({ name: 'vault-e2e', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
	c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
	return c;
};
const claims = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
const toolJson = (r) => JSON.parse(r.content?.[0]?.text ?? 'null');

const browser = await puppeteer.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
});
const watchdog = setTimeout(() => {
	result.failure = 'timed out';
	console.log(JSON.stringify(result));
	process.exit(1);
}, 50000);

async function clickAndWait(page, selector) {
	await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: STEP_TIMEOUT }), page.click(selector)]);
}
// Sign in on an mcp-authd login page (the user's, or the third party's), then allow on
// its consent page when one is shown.
async function signInAndAllow(page, username, password) {
	result.navigations.push(`login page: ${await page.title()} at ${new URL(page.url()).origin}`);
	await page.type('#username', username);
	await page.type('#password', password);
	await clickAndWait(page, 'input[name=step][value=login] ~ button[type=submit]');
	if (await page.$('button[name=decision][value=allow]')) {
		result.navigations.push(`consent page: ${await page.title()} at ${new URL(page.url()).origin}`);
		await clickAndWait(page, 'button[name=decision][value=allow]');
	}
}

let client;
try {
	const page = await browser.newPage();
	page.setDefaultTimeout(STEP_TIMEOUT);
	page.on('response', (r) => {
		if (r.status() >= 400 && !/\/favicon\.ico$/.test(r.url())) result.http_errors.push(`${r.status()} ${r.url()}`);
	});
	page.on('request', (r) => {
		if (r.isNavigationRequest() && r.frame() === page.mainFrame()) {
			const u = new URL(r.url());
			result.navigations.push(`${r.method()} ${u.origin}${u.pathname}`);
		}
	});

	// ---- 1. the MCP client's sign-in, in the browser ----
	try {
		await newClient().connect(transport());
		throw new Error('the MCP server let a client in without a token');
	} catch (e) {
		if (!(e instanceof UnauthorizedError)) throw e;
	}
	result.authorization_request = Object.fromEntries(['resource', 'code_challenge_method', 'client_id']
		.map((k) => [k, provider.authorizationUrl.searchParams.get(k)]));
	await page.goto(provider.authorizationUrl.href, { waitUntil: 'load' });
	await signInAndAllow(page, USERNAME, PASSWORD);
	const back = await Promise.race([codeArrived,
		new Promise((_, no) => setTimeout(() => no(new Error('no code at the redirect URI')), STEP_TIMEOUT))]);
	if (back.state !== provider.lastState) throw new Error('state mismatch');
	await transport().finishAuth(back.code);
	const token = claims(provider.savedTokens.access_token);
	result.token = { sub: token.sub, aud: token.aud, client_id: token.client_id };

	client = newClient();
	await client.connect(transport());
	result.tools = (await client.listTools()).tools.map((t) => t.name).sort();

	// ---- 2. the tool before the user has connected ----
	try {
		result.before = toolJson(await client.callTool({ name: 'whoami_upstream', arguments: {} }));
	} catch (e) {
		if (!(e instanceof UrlElicitationRequiredError)) throw e;
		result.elicitation = { code: e.code, elicitations: e.elicitations };
	}
	const url = result.elicitation?.elicitations?.[0]?.url;
	if (!url) throw new Error('no URL elicitation before connecting');

	// ---- 3. the user opens the URL, signs in at the third party and allows ----
	result.navigations.push('-- the elicitation URL --');
	await page.goto(url, { waitUntil: 'load' });
	result.third_party_origin = new URL(page.url()).origin;
	await signInAndAllow(page, TP_USERNAME, TP_PASSWORD);
	result.connections_url = page.url();
	result.connections_title = await page.title();
	result.connections_names = await page.$$eval('li .name', (els) => els.map((e) => e.textContent.trim()));
	result.connections_notice = await page.$eval('.note', (e) => e.textContent.trim()).catch(() => null);
	await page.screenshot({ path: SHOT, fullPage: true });
	// Which cookies the browser holds for which host (names only).
	const cdp = await page.createCDPSession();
	const { cookies } = await cdp.send('Network.getAllCookies');
	result.cookies = cookies.map((c) => `${c.domain} ${c.name}`).sort();

	// ---- 4. the tools, connected ----
	result.whoami = toolJson(await client.callTool({ name: 'whoami_upstream', arguments: {} }));
	result.forward = toolJson(await client.callTool({ name: 'forward_token', arguments: {} }));
} catch (e) {
	result.failure = String(e && e.stack ? e.stack : e);
} finally {
	clearTimeout(watchdog);
	await client?.close().catch(() => {});
	await browser.close();
	callback.closeAllConnections();
	callback.close();
	console.log(JSON.stringify(result));
	// Idle keep-alive connections of fetch would hold the process for seconds more.
	process.exit(result.failure ? 1 : 0);
}
