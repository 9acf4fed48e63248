// The enterprise IdP of the Cross-App Access test (tests/interop/t_xaa.sh): panva's
// oidc-provider with its development login and consent pages (any password), extended
// with an RFC 8693 token-exchange grant that turns an ID token it issued into an Identity
// Assertion JWT Authorization Grant (ID-JAG, draft-ietf-oauth-identity-assertion-authz-
// grant) for another application's authorization server -- here mcp-authd.
//
// usage: node xaa_idp.mjs PORT IDP_CLIENT=AUTHD_CLIENT_ID...
//   Each IDP_CLIENT is a confidential client of this IdP (client_secret_post, secret
//   CLIENT_SECRET, redirect URI REDIRECT_URI) allowed the code flow and the exchange; the
//   ID-JAGs minted for it carry client_id = AUTHD_CLIENT_ID, the client it is known as at
//   mcp-authd.
// env: CLIENT_SECRET, REDIRECT_URI, USERS (JSON: {"alice": {"email": "...", "scopes":
//   ["echo:read"]}}; "scopes", when present, is the IdP's policy: the most an ID-JAG for
//   that user may assert). Prints "ready" once listening.
//
// Test switch (this test IdP only, never a real IdP's behaviour): POST /__test__/id-jag
// with {"header": {...}, "claims": {...}} makes every ID-JAG minted afterwards carry
// those header parameters and claims instead of the right ones (a claim set to null is
// left out); POST {} puts things right again. The tests use it to make the IdP mint ID-JAGs
// mcp-authd must refuse (another audience, another client, a plain JWT, too long a life).
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { SignJWT, jwtVerify } from 'jose';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const ID_JAG_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';

const [port, ...maps] = process.argv.slice(2);
const { CLIENT_SECRET, REDIRECT_URI } = process.env;
const users = JSON.parse(process.env.USERS || '{}');
const clientMap = Object.fromEntries(maps.map((m) => m.split('=')));
const issuer = `http://127.0.0.1:${port}`;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KID = 'corp-xaa-1';
let override = {};

const provider = new Provider(issuer, {
	clients: Object.keys(clientMap).map((id) => ({
		client_id: id,
		client_secret: CLIENT_SECRET,
		redirect_uris: [REDIRECT_URI],
		grant_types: ['authorization_code', TOKEN_EXCHANGE],
		response_types: ['code'],
		token_endpoint_auth_method: 'client_secret_post',
	})),
	jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] },
	cookies: { keys: ['xaa-test-only'] },
	claims: { openid: ['sub'], email: ['email', 'email_verified'] },
	scopes: ['openid', 'email'],
	findAccount: (ctx, id) => (users[id] ? {
		accountId: id,
		claims: () => ({ sub: id, email: users[id].email, email_verified: true }),
	} : undefined),
	features: { devInteractions: { enabled: true } },
});

// The exchange: the client presents the user's ID token (issued by this IdP to that very
// client, still valid) and names the authorization server (audience) and the resource it
// wants to reach; the IdP answers with an ID-JAG bound to the client's identity there.
async function idJagExchange(ctx) {
	const p = ctx.oidc.params;
	const client = ctx.oidc.client;
	for (const name of ['subject_token', 'subject_token_type', 'requested_token_type', 'audience'])
		if (!p[name]) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
	if (p.requested_token_type !== ID_JAG_TYPE)
		throw new errors.InvalidRequest('requested_token_type must be id-jag');
	if (p.subject_token_type !== ID_TOKEN_TYPE)
		throw new errors.InvalidRequest('subject_token_type must be id_token');
	let idToken;
	try {
		({ payload: idToken } = await jwtVerify(p.subject_token, publicKey, {
			issuer, audience: client.clientId, algorithms: ['RS256'],
		}));
	} catch (e) {
		throw new errors.InvalidGrant(`subject_token is not a valid ID token of this IdP for this client (${e.code ?? e.message})`);
	}
	const user = users[idToken.sub];
	if (!user) throw new errors.InvalidGrant('unknown user');
	let scope = p.scope;
	if (scope && user.scopes) scope = scope.split(' ').filter((s) => user.scopes.includes(s)).join(' ');
	const now = Math.floor(Date.now() / 1000);
	const claims = {
		iss: issuer,
		sub: idToken.sub,
		aud: p.audience,
		client_id: clientMap[client.clientId],
		jti: randomUUID(),
		iat: now,
		exp: now + 300,
		...(p.resource ? { resource: p.resource } : {}),
		...(scope ? { scope } : {}),
		...(user.email ? { email: user.email } : {}),
		...override.claims,
	};
	for (const k of Object.keys(claims)) if (claims[k] === null) delete claims[k];
	const header = { alg: 'RS256', kid: KID, typ: 'oauth-id-jag+jwt', ...override.header };
	const idJag = await new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
	ctx.body = {
		access_token: idJag,
		issued_token_type: ID_JAG_TYPE,
		token_type: 'N_A',
		expires_in: claims.exp - claims.iat,
		...(claims.scope ? { scope: claims.scope } : {}),
	};
}
provider.registerGrantType(TOKEN_EXCHANGE, idJagExchange, [
	'subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope',
]);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description ?? ''));

const app = provider.callback();
http.createServer(async (req, res) => {
	if (req.url !== '/__test__/id-jag' || req.method !== 'POST') return app(req, res);
	let body = '';
	for await (const chunk of req) body += chunk;
	override = JSON.parse(body || '{}');
	console.log('test switch', JSON.stringify(override));
	res.writeHead(204).end();
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
