// The authorization code flow with oauth4webapi (panva), a real OAuth client library:
// discovery, PKCE authorization (this script plays the browser), code redemption with
// RFC 8707 resource, refresh; every token is verified with jose against the JWKS.
// usage: node oauth_flow.mjs ISSUER CLIENT_ID REDIRECT_URI RESOURCE USER PASSWORD
// Prints one JSON line with what it saw; exits non-zero on any failure.
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { authorize } from './browser.mjs';

const [issuerText, clientId, redirectUri, resource, username, password] = process.argv.slice(2);
const issuer = new URL(issuerText);
const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' };

const as = await oauth.processDiscoveryResponse(
	issuer,
	await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
);
const client = { client_id: clientId };
const clientAuth = oauth.None();

const verifier = oauth.generateRandomCodeVerifier();
const challenge = await oauth.calculatePKCECodeChallenge(verifier);
const state = oauth.generateRandomState();
const url = new URL(as.authorization_endpoint);
url.searchParams.set('client_id', clientId);
url.searchParams.set('redirect_uri', redirectUri);
url.searchParams.set('response_type', 'code');
url.searchParams.set('code_challenge', challenge);
url.searchParams.set('code_challenge_method', 'S256');
url.searchParams.set('state', state);
url.searchParams.set('resource', resource);

const back = await authorize(url, { username, password });
// Checks state, and iss against the discovered issuer (RFC 9207).
const params = oauth.validateAuthResponse(as, client, back, state);
const tokenRes = await oauth.authorizationCodeGrantRequest(
	as, client, clientAuth, params, redirectUri, verifier,
	{ additionalParameters: { resource }, ...insecure },
);
const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenRes);

const jwks = createRemoteJWKSet(new URL(as.jwks_uri));
const check = async (t) =>
	(await jwtVerify(t, jwks, { issuer: as.issuer, audience: resource, typ: 'at+jwt' })).payload;
const first = await check(tokens.access_token);

const refreshRes = await oauth.refreshTokenGrantRequest(
	as, client, clientAuth, tokens.refresh_token,
	{ additionalParameters: { resource }, ...insecure },
);
const refreshed = await oauth.processRefreshTokenResponse(as, client, refreshRes);
const second = await check(refreshed.access_token);

// The rotated refresh token must now be refused.
let reuse = 'accepted';
try {
	await oauth.processRefreshTokenResponse(as, client,
		await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, insecure));
} catch (e) {
	reuse = e.error ?? e.cause?.error ?? e.code ?? 'refused';
}

console.log(JSON.stringify({
	iss_checked: back.searchParams.get('iss') === as.issuer,
	token_type: tokens.token_type,
	first: { aud: first.aud, sub: first.sub, scope: first.scope, client_id: first.client_id },
	second: { aud: second.aud, sub: second.sub, jti_differs: first.jti !== second.jti },
	rotated: refreshed.refresh_token !== tokens.refresh_token,
	reuse,
}));
