// Recipe: mcp-authd dev from a Node test (node:test). One mock issuer for the file; each
// test gets tokens from it and checks them the way an MCP server would, with jose.
// Run: MCP_AUTHD=/path/to/mcp-authd node --test dev_recipe.test.mjs (jose from npm next to it)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const RESOURCE = 'http://127.0.0.1:3000/mcp'; // your MCP server's URL
let dev, settings, jwks;

before(async () => {
	dev = spawn(process.env.MCP_AUTHD ?? 'mcp-authd', ['dev', '--port', '0', '--resource', RESOURCE], {
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const [line] = await createInterface({ input: dev.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
	settings = JSON.parse(line);
	jwks = createRemoteJWKSet(new URL(settings.jwks_uri));
});
after(() => dev.kill());

// What your MCP server does with a bearer token.
const verify = (token) =>
	jwtVerify(token, jwks, { issuer: settings.issuer, audience: RESOURCE, typ: 'at+jwt' });

test('a client_credentials token is accepted', async () => {
	const { client_id, client_secret } = settings.client;
	const res = await fetch(`${settings.issuer}/token`, {
		method: 'POST',
		headers: { authorization: 'Basic ' + Buffer.from(`${client_id}:${client_secret}`).toString('base64') },
		body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE }),
	});
	const { access_token } = await res.json();
	const { payload } = await verify(access_token);
	assert.equal(payload.aud, RESOURCE);
});

test('a token with chosen claims', async () => {
	const res = await fetch(`${settings.issuer}/dev/token`, { method: 'POST', body: JSON.stringify({ sub: 'alice', scope: 'files:read' }) });
	const { payload } = await verify((await res.json()).access_token);
	assert.equal(payload.sub, 'alice');
	assert.equal(payload.scope, 'files:read');
});

for (const kind of ['expired', 'not-yet-valid', 'wrong-audience', 'wrong-issuer', 'unknown-kid', 'bad-signature', 'alg-none', 'wrong-typ']) {
	test(`a ${kind} token is refused`, async () => {
		const res = await fetch(`${settings.issuer}/dev/bad-token?kind=${kind}`, { method: 'POST', body: '{}' });
		await assert.rejects(verify((await res.json()).access_token));
	});
}
