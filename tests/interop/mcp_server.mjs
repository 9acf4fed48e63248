// A real MCP server for interop tests, built with @modelcontextprotocol/sdk: streamable
// HTTP at /mcp with one tool (echo), RFC 9728 protected resource metadata (the document
// `mcp-authd resource metadata URI` prints), and bearer JWTs verified with jose against the
// issuer's JWKS: our issuer, aud equal to this server's own URL, typ at+jwt.
// usage: node mcp_server.mjs PORT ISSUER PRM_FILE
// Prints "listening RESOURCE" once it accepts connections.
import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as z from 'zod/v4';

const [port, issuer, prmFile] = process.argv.slice(2);
const prm = JSON.parse(readFileSync(prmFile, 'utf8'));
const resource = prm.resource;
const metadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(resource));
const as = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
const jwks = createRemoteJWKSet(new URL(as.jwks_uri));

// Any refusal must be an InvalidTokenError: the SDK's middleware turns other errors into a
// 500 without WWW-Authenticate, and a client would then never re-authorize.
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

const app = createMcpExpressApp({ host: '127.0.0.1' });
app.get(new URL(metadataUrl).pathname, (req, res) => res.json(prm));
const bearer = requireBearerAuth({ verifier, resourceMetadataUrl: metadataUrl, expectedResource: new URL(resource) });

function echoServer() {
	const server = new McpServer({ name: 'interop-echo', version: '1.0.0' });
	server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } },
		async ({ text }, extra) => ({
			content: [{ type: 'text', text }],
			_meta: { sub: extra.authInfo?.extra?.sub, client_id: extra.authInfo?.clientId },
		}));
	return server;
}

// Stateless: a new server and transport per request.
app.post(new URL(resource).pathname, bearer, async (req, res) => {
	const server = echoServer();
	const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
	res.on('close', () => {
		transport.close();
		server.close();
	});
	await server.connect(transport);
	await transport.handleRequest(req, res, req.body);
});
const noStream = (req, res) => res.status(405).set('Allow', 'POST').end();
app.get(new URL(resource).pathname, bearer, noStream);
app.delete(new URL(resource).pathname, bearer, noStream);

const listener = app.listen(Number(port), '127.0.0.1', () => console.log(`listening ${resource}`));
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
