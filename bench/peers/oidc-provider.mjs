// panva's oidc-provider configured like mcp-authd's client_credentials scenario: a
// confidential client (client_secret_basic), RFC 8707 resource indicators, ES256 JWT
// access tokens with aud. Loaded from PEERS_DIR (bench/peers.sh). env: PORT, RESOURCE,
// CLIENT_ID, CLIENT_SECRET.
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';

const require = createRequire(path.join(process.env.PEERS_DIR, 'package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));
const { PORT, RESOURCE, CLIENT_ID, CLIENT_SECRET } = process.env;
const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

const provider = new Provider(`http://127.0.0.1:${PORT}`, {
	clients: [{
		client_id: CLIENT_ID,
		client_secret: CLIENT_SECRET,
		grant_types: ['client_credentials'],
		response_types: [],
		redirect_uris: [],
		token_endpoint_auth_method: 'client_secret_basic',
		id_token_signed_response_alg: 'ES256', // the only key is ES256, as in mcp-authd
	}],
	jwks: { keys: [{ ...signing.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256', use: 'sig' }] },
	cookies: { keys: ['bench-only-cookie-key'] },
	scopes: ['read'],
	features: {
		devInteractions: { enabled: false },
		clientCredentials: { enabled: true },
		resourceIndicators: {
			enabled: true,
			defaultResource: () => RESOURCE,
			useGrantedResource: () => true,
			getResourceServerInfo: (ctx, indicator) => {
				if (indicator !== RESOURCE) throw new Provider.errors.InvalidTarget();
				return { scope: 'read', audience: indicator, accessTokenTTL: 600, accessTokenFormat: 'jwt',
					jwt: { sign: { alg: 'ES256' } } };
			},
		},
	},
});
provider.listen(Number(PORT), '127.0.0.1');
