// A resource server's view of key rotation: verify every token from a loop of token
// requests with jose's createRemoteJWKSet at its defaults (JWKS cached, re-fetched only
// for an unknown kid and at most every 30 s), until ROTATIONS rotations were seen.
// usage: node rotation_verifier.mjs ISSUER CLIENT_ID CLIENT_SECRET RESOURCE ROTATIONS TIMEOUT_S
// Prints one JSON line: tokens verified, failures, kids seen in order, JWKS fetches.
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

const [issuer, clientId, secret, resource, rotations, timeout] = process.argv.slice(2);
let jwksFetches = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init) => {
	if (String(url).endsWith('/jwks.json')) jwksFetches++;
	return realFetch(url, init);
};
const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks.json`));
const basic = 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64');
const kids = [];
let tokens = 0;
const failures = [];
const deadline = Date.now() + Number(timeout) * 1000;

while (kids.length <= Number(rotations) && Date.now() < deadline) {
	const res = await realFetch(`${issuer}/token`, {
		method: 'POST',
		headers: { authorization: basic },
		body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
	});
	const { access_token } = await res.json();
	const { kid } = decodeProtectedHeader(access_token);
	if (kids[kids.length - 1] !== kid) kids.push(kid);
	try {
		await jwtVerify(access_token, jwks, { issuer, audience: resource, typ: 'at+jwt' });
		tokens++;
	} catch (e) {
		failures.push({ kid, error: e.code ?? e.message });
	}
	await new Promise((r) => setTimeout(r, 100));
}
console.log(JSON.stringify({ tokens, failures, kids, rotations_seen: kids.length - 1, jwks_fetches: jwksFetches }));
