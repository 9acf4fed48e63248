// The client side of the Cross-App Access test (tests/interop/t_xaa.sh), built only on the
// MCP TypeScript SDK v2 client package (@modelcontextprotocol/client).
//
// usage:
//   node xaa_client.mjs xaa MCP_URL
//     env: IDP (the enterprise IdP's issuer), IDP_CLIENT_ID, IDP_CLIENT_SECRET,
//     REDIRECT_URI (registered at the IdP), IDP_USER (who signs in at the IdP),
//     AUTHD_ISSUER, AUTHD_CLIENT_ID, AUTHD_CLIENT_SECRET.
//     The user signs in at the IdP (authorization code flow through its login and consent
//     pages, this script playing the browser) and the client gets an ID token. Then the
//     SDK: 401 from the MCP server -> RFC 9728 and RFC 8414 discovery -> the assertion
//     callback asks the IdP for an ID-JAG (discoverAndRequestJwtAuthGrant: RFC 8693
//     token exchange) -> CrossAppAccessProvider presents it to mcp-authd (RFC 7523
//     jwt-bearer grant, client_secret_basic) -> tools/list and tools/call.
//   node xaa_client.mjs pkjwt MCP_URL CLIENT_ID PRIVATE_KEY_PEM_FILE ALG
//     env: AUTHD_ISSUER. client_credentials with PrivateKeyJwtProvider (private_key_jwt).
//   node xaa_client.mjs keygen ec|rsa PREFIX
//     Writes PREFIX.pem (PKCS#8 private key) and PREFIX.jwks (its public JWKS).
//
// xaa and pkjwt print one JSON line with what they saw, and exit 1 when the SDK failed
// (the line then has "error").
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
	Client, StreamableHTTPClientTransport, CrossAppAccessProvider, discoverAndRequestJwtAuthGrant,
	PrivateKeyJwtProvider,
} from '@modelcontextprotocol/client';
import { authorize } from './browser.mjs';

const [mode, ...args] = process.argv.slice(2);
const env = process.env;
const claims = (jwt, part = 1) => JSON.parse(Buffer.from(jwt.split('.')[part], 'base64url').toString());

if (mode === 'keygen') {
	const [type, prefix] = args;
	const { privateKey, publicKey } = type === 'rsa'
		? generateKeyPairSync('rsa', { modulusLength: 2048 })
		: generateKeyPairSync('ec', { namedCurve: 'P-256' });
	writeFileSync(`${prefix}.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }));
	const jwk = { ...publicKey.export({ format: 'jwk' }), kid: `${type}-1`, use: 'sig', alg: type === 'rsa' ? 'RS256' : 'ES256' };
	writeFileSync(`${prefix}.jwks`, JSON.stringify({ keys: [jwk] }));
	process.exit(0);
}

// Every request the SDK makes, in order: where it went, the JSON-RPC method for the MCP
// server, and the answer's status.
const calls = [];
const out = { calls };
const tracingFetch = async (url, init) => {
	const res = await fetch(url, init);
	const u = new URL(String(url));
	let what = '';
	if (typeof init?.body === 'string' && init.body.startsWith('{'))
		what = ` ${JSON.parse(init.body).method ?? ''}`;
	else if (init?.body) {
		const form = new URLSearchParams(String(init.body));
		what = ` ${form.get('grant_type') ?? ''}`;
		if (form.get('client_assertion'))
			out.client_assertion = { header: claims(form.get('client_assertion'), 0), claims: claims(form.get('client_assertion')) };
	}
	calls.push(`${init?.method ?? 'GET'} ${u.origin}${u.pathname}${what} ${res.status}`);
	return res;
};

// The user's ID token, from a real sign-in at the IdP: code flow with PKCE, the IdP's
// development login and consent pages, the code redeemed with client_secret_post.
async function idTokenFromIdp() {
	const verifier = randomBytes(32).toString('base64url');
	const url = new URL('/auth', env.IDP);
	url.search = new URLSearchParams({
		client_id: env.IDP_CLIENT_ID, response_type: 'code', scope: 'openid email',
		redirect_uri: env.REDIRECT_URI, state: randomBytes(8).toString('base64url'),
		code_challenge: createHash('sha256').update(verifier).digest('base64url'),
		code_challenge_method: 'S256',
	});
	const back = await authorize(url.href, { upstream: { idp: '-', login: env.IDP_USER } });
	const code = back.searchParams.get('code');
	if (!code) throw new Error(`IdP sign-in ended without a code: ${back.search}`);
	const res = await fetch(new URL('/token', env.IDP), {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({
			grant_type: 'authorization_code', code, redirect_uri: env.REDIRECT_URI, code_verifier: verifier,
			client_id: env.IDP_CLIENT_ID, client_secret: env.IDP_CLIENT_SECRET,
		}),
	});
	const body = await res.json();
	if (!body.id_token) throw new Error(`IdP token endpoint: ${res.status} ${JSON.stringify(body)}`);
	return body.id_token;
}

let provider;
try {
	const mcpUrl = new URL(args[0]);
	if (mode === 'xaa') {
		const idToken = await idTokenFromIdp();
		out.id_token = claims(idToken);
		provider = new CrossAppAccessProvider({
			assertion: async (ctx) => {
				out.assertion_ctx = { authorizationServerUrl: String(ctx.authorizationServerUrl), resourceUrl: String(ctx.resourceUrl), scope: ctx.scope };
				const grant = await discoverAndRequestJwtAuthGrant({
					idpUrl: env.IDP,
					audience: ctx.authorizationServerUrl,
					resource: ctx.resourceUrl,
					idToken,
					clientId: env.IDP_CLIENT_ID,
					clientSecret: env.IDP_CLIENT_SECRET,
					scope: ctx.scope,
					fetchFn: ctx.fetchFn,
				});
				out.id_jag_header = claims(grant.jwtAuthGrant, 0);
				out.id_jag = claims(grant.jwtAuthGrant);
				out.id_jag_jwt = grant.jwtAuthGrant;
				return grant.jwtAuthGrant;
			},
			clientId: env.AUTHD_CLIENT_ID,
			clientSecret: env.AUTHD_CLIENT_SECRET,
			expectedIssuer: env.AUTHD_ISSUER,
			fetchFn: tracingFetch,
		});
	} else if (mode === 'pkjwt') {
		const [, clientId, keyFile, alg] = args;
		provider = new PrivateKeyJwtProvider({
			clientId, privateKey: readFileSync(keyFile, 'utf8'), algorithm: alg, expectedIssuer: env.AUTHD_ISSUER,
		});
	} else {
		throw new Error(`unknown mode ${mode}`);
	}
	const client = new Client({ name: 'mcp-authd-xaa-interop', version: '1.0.0' });
	await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: tracingFetch }));
	out.tools = (await client.listTools()).tools.map((t) => t.name);
	const call = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
	out.echo = call.content?.[0]?.text;
	out.echo_meta = call._meta;
	await client.close();
} catch (e) {
	out.error = `${e.name ?? 'Error'}: ${e.message}`;
	if (e.code !== undefined) out.error_code = e.code; // OAuthError: the OAuth error code
}
const at = provider?.tokens()?.access_token;
if (at) {
	out.token_header = claims(at, 0);
	out.token = claims(at);
}
console.log(JSON.stringify(out));
process.exit(out.error ? 1 : 0);
