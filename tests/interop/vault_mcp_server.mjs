// An MCP server that calls a third-party API for its users, built with
// @modelcontextprotocol/sdk (streamable HTTP, with sessions) and protected by mcp-authd:
// bearer JWTs verified with jose against mcp-authd's JWKS (its issuer, aud equal to this
// server's own URL, typ at+jwt), RFC 9728 metadata at its well-known URL.
//
// Two tools:
//   whoami_upstream  fetches the caller's third-party token from mcp-authd's vault (RFC 8693
//                    token exchange at /token, as the client acting for this server:
//                    audience=CONNECTION, subject_token = the caller's token) and calls the
//                    third party's API with it. A user who has not connected their account
//                    yet gets invalid_grant with connect_uri: the tool answers with a URL
//                    elicitation (-32042) sending the user there, when the client declared
//                    it, and a tool error naming the URL otherwise.
//   forward_token    calls the same API with the caller's own mcp-authd token forwarded as
//                    it is (what a server must not do, and what the API must refuse).
// The third party's API is its RFC 7662 introspection endpoint, called by an
// introspect-admin client: the API accepts a token when it is active, and answers its sub.
// Both tools answer one JSON text; nothing in it is a token.
//
// usage: node vault_mcp_server.mjs PORT ISSUER PRM_FILE
// env:   EXCHANGE_CLIENT_ID, EXCHANGE_CLIENT_SECRET (the client acting for this server),
//        CONNECTION (the connection's name at mcp-authd), API_URL (the third party's
//        /introspect), API_CLIENT_ID, API_CLIENT_SECRET
// Prints "listening RESOURCE" once it accepts connections.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { UrlElicitationRequiredError, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';

const [port, issuer, prmFile] = process.argv.slice(2);
const env = process.env;
for (const k of ['EXCHANGE_CLIENT_ID', 'EXCHANGE_CLIENT_SECRET', 'CONNECTION', 'API_URL', 'API_CLIENT_ID', 'API_CLIENT_SECRET'])
	if (!env[k]) throw new Error(`${k} is not set`);
const prm = JSON.parse(readFileSync(prmFile, 'utf8'));
const resource = prm.resource;
const metadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(resource));
const as = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
const jwks = createRemoteJWKSet(new URL(as.jwks_uri));
const TIMEOUT = 10000;

const verifier = {
	async verifyAccessToken(token) {
		let payload;
		try {
			({ payload } = await jwtVerify(token, jwks, { issuer: as.issuer, audience: resource, typ: 'at+jwt' }));
		} catch (e) {
			throw new InvalidTokenError(`token refused: ${e.code ?? e.message}`);
		}
		return {
			token,
			clientId: String(payload.client_id),
			scopes: (payload.scope ?? '').split(' ').filter(Boolean),
			expiresAt: payload.exp,
			resource: new URL(payload.aud),
			extra: { sub: payload.sub },
		};
	},
};

const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = (o) => new URLSearchParams(o).toString();
const AT = 'urn:ietf:params:oauth:token-type:access_token';

// The vault fetch: RFC 8693 at mcp-authd's token endpoint.
async function exchange(subjectToken) {
	const res = await fetch(as.token_endpoint, {
		method: 'POST',
		headers: { authorization: basic(env.EXCHANGE_CLIENT_ID, env.EXCHANGE_CLIENT_SECRET),
			'content-type': 'application/x-www-form-urlencoded' },
		body: form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', audience: env.CONNECTION,
			subject_token: subjectToken, subject_token_type: AT, requested_token_type: AT }),
		signal: AbortSignal.timeout(TIMEOUT),
	});
	return { status: res.status, body: await res.json() };
}

// The third party's API (its introspection endpoint): { accepted, sub }.
async function callApi(token) {
	const res = await fetch(env.API_URL, {
		method: 'POST',
		headers: { authorization: basic(env.API_CLIENT_ID, env.API_CLIENT_SECRET),
			'content-type': 'application/x-www-form-urlencoded' },
		body: form({ token }),
		signal: AbortSignal.timeout(TIMEOUT),
	});
	if (res.status !== 200) throw new Error(`the third party's API answered ${res.status}`);
	const body = await res.json();
	return { api_status: res.status, accepted: body.active === true, sub: body.sub ?? null };
}

const text = (o, isError = false) => ({ content: [{ type: 'text', text: JSON.stringify(o) }], isError });

function vaultServer() {
	const server = new McpServer({ name: 'interop-vault', version: '1.0.0' });
	server.registerTool('whoami_upstream', {
		description: "Who the caller is at the third party, asked of the third party's API with the caller's connected account",
	}, async (extra) => {
		const got = await exchange(extra.authInfo.token);
		if (got.status !== 200) {
			const e = got.body;
			if (e.error === 'invalid_grant' && e.connect_uri) {
				const message = `Connect your ${env.CONNECTION} account first`;
				if (server.server.getClientCapabilities()?.elicitation?.url)
					throw new UrlElicitationRequiredError([
						{ mode: 'url', message, url: e.connect_uri, elicitationId: randomUUID() }]);
				return text({ exchange_status: got.status, error: e.error, connect_uri: e.connect_uri, message }, true);
			}
			return text({ exchange_status: got.status, error: e.error, error_description: e.error_description }, true);
		}
		const t = got.body;
		let claims = null;
		try {
			const c = decodeJwt(t.access_token); // the third party here issues JWTs; only for the report
			claims = { iss: c.iss, aud: c.aud, sub: c.sub };
		} catch { /* an opaque token */ }
		const api = await callApi(t.access_token);
		return text({ exchange_status: got.status, token_type: t.token_type, issued_token_type: t.issued_token_type,
			scope: t.scope, expires_in: t.expires_in, has_refresh_token: 'refresh_token' in t,
			upstream_token: claims, ...api }, !api.accepted);
	});
	server.registerTool('forward_token', {
		description: "Calls the third party's API with the caller's own token forwarded (a confused deputy's mistake)",
	}, async (extra) => text(await callApi(extra.authInfo.token)));
	return server;
}

const app = createMcpExpressApp({ host: '127.0.0.1' });
app.get(new URL(metadataUrl).pathname, (req, res) => res.json(prm));
const bearer = requireBearerAuth({ verifier, resourceMetadataUrl: metadataUrl, expectedResource: new URL(resource) });

// Sessions (the tool needs the client's capabilities, known from initialize), each bound
// to the user who opened it.
const sessions = new Map();
function session(req, res) {
	const s = sessions.get(req.headers['mcp-session-id']);
	if (!s) {
		res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
		return null;
	}
	if (s.sub !== req.auth.extra.sub) {
		res.status(403).json({ jsonrpc: '2.0', error: { code: -32001, message: "Another user's session" }, id: null });
		return null;
	}
	return s.transport;
}
const path = new URL(resource).pathname;
app.post(path, bearer, async (req, res) => {
	let transport;
	if (!req.headers['mcp-session-id'] && isInitializeRequest(req.body)) {
		const sub = req.auth.extra.sub;
		transport = new StreamableHTTPServerTransport({
			sessionIdGenerator: () => randomUUID(),
			enableJsonResponse: true,
			onsessioninitialized: (id) => sessions.set(id, { transport, sub }),
		});
		transport.onclose = () => sessions.delete(transport.sessionId);
		await vaultServer().connect(transport);
	} else if (!(transport = session(req, res))) {
		return;
	}
	await transport.handleRequest(req, res, req.body);
});
app.get(path, bearer, (req, res) => res.status(405).set('Allow', 'POST, DELETE').end());
app.delete(path, bearer, async (req, res) => {
	const transport = session(req, res);
	if (transport) await transport.handleRequest(req, res);
});

const listener = app.listen(Number(port), '127.0.0.1', () => console.log(`listening ${resource}`));
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
