// The official MCP SDK client against an MCP server protected by mcp-authd, with no
// pre-registration: 401 -> RFC 9728 and RFC 8414 discovery -> dynamic registration or a
// Client ID Metadata Document -> PKCE authorization (this script plays the browser) ->
// code exchange -> tools/list and tools/call -> a forced 401 answered with a refresh.
// usage: node mcp_client.mjs MCP_URL USER PASSWORD dcr|METADATA_DOCUMENT_URL
// Prints one JSON line with what it saw; exits non-zero on failure.
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { authorize } from './browser.mjs';

const [mcpUrl, username, password, mode] = process.argv.slice(2);
const REDIRECT = 'http://127.0.0.1:49152/callback';
const calls = [];
const tracingFetch = async (url, init) => {
	const res = await fetch(url, init);
	const u = new URL(String(url));
	calls.push(`${init?.method ?? 'GET'} ${u.origin}${u.pathname} ${res.status}`);
	return res;
};

class Provider {
	constructor() {
		// With a metadata document URL the SDK uses the URL itself as client_id (when the
		// server advertises support); either way it stores what it chose through here.
		if (mode !== 'dcr')
			this.clientMetadataUrl = mode;
	}
	saveClientInformation(info) { this.client = info; }
	get redirectUrl() { return REDIRECT; }
	get clientMetadata() {
		return {
			client_name: 'MCP SDK interop client',
			redirect_uris: [REDIRECT],
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			token_endpoint_auth_method: 'none',
		};
	}
	state() { return (this.lastState = randomBytes(16).toString('base64url')); }
	clientInformation() { return this.client; }
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

const provider = new Provider();
const transport = () => new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: tracingFetch });
const newClient = () => new Client({ name: 'mcp-authd-interop', version: '1.0.0' });

const first = transport();
try {
	await newClient().connect(first);
	throw new Error('the MCP server let an unauthenticated client in');
} catch (e) {
	if (!(e instanceof UnauthorizedError)) throw e;
}
// UPSTREAM="IDP:LOGIN": sign in through that upstream provider as LOGIN instead.
const upstream = process.env.UPSTREAM
	? { idp: process.env.UPSTREAM.split(':')[0], login: process.env.UPSTREAM.split(':')[1] } : null;
const back = await authorize(provider.authorizationUrl, { username, password, upstream });
if (back.searchParams.get('error')) throw new Error(`authorization error: ${back.search}`);
if (back.searchParams.get('state') !== provider.lastState) throw new Error('state mismatch');
await first.finishAuth(back.searchParams.get('code'));
const issued = provider.savedTokens;

const client = newClient();
await client.connect(transport());
const tools = await client.listTools();
const call = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
provider.savedTokens = { ...provider.savedTokens, access_token: 'expired-or-forged' };
const again = await client.callTool({ name: 'echo', arguments: { text: 'again' } });
await client.close();

const claims = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
console.log(JSON.stringify({
	authorization_request: Object.fromEntries([...provider.authorizationUrl.searchParams].filter(([k]) => k !== 'code_challenge')),
	callback_iss: back.searchParams.get('iss'),
	client_id: provider.client?.client_id ?? mode,
	tools: tools.tools.map((t) => t.name),
	echo: call.content?.[0]?.text,
	echo_meta: call._meta,
	echo_after_refresh: again.content?.[0]?.text,
	token: claims(issued.access_token),
	refreshed: provider.savedTokens.access_token !== 'expired-or-forged',
	calls,
}));
