// Verify an access token from mcp-authd with panva's `jose`, fetching the JWKS the way a
// resource server would. usage: node verify_jose.mjs ISSUER AUDIENCE TOKEN
// Prints the verified header and claims as one JSON line; exits 1 on any failure.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, audience, token] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks.json`));
try {
	const { payload, protectedHeader } = await jwtVerify(token, jwks, {
		issuer,
		audience,
		typ: 'at+jwt',
		requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
	});
	console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (e) {
	console.error(`jose refused the token: ${e.code ?? ''} ${e.message}`);
	process.exit(1);
}
