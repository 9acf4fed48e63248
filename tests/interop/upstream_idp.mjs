// An enterprise identity provider for the federation tests: panva's oidc-provider with
// its development login and consent pages (any password), one confidential client (the
// mcp-authd under test) and users whose groups the test chooses. Claims other than sub
// are served by userinfo, as oidc-provider does for the code flow.
// env: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, USERS (JSON: {"alice": {"email":
// "...", "email_verified": true, "groups": ["eng"]}}). Prints "ready" once listening.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const users = JSON.parse(process.env.USERS || '{}');
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const provider = new Provider(`http://127.0.0.1:${PORT}`, {
	clients: [{
		client_id: CLIENT_ID,
		client_secret: CLIENT_SECRET,
		redirect_uris: [REDIRECT_URI],
		grant_types: ['authorization_code'],
		response_types: ['code'],
		token_endpoint_auth_method: 'client_secret_basic',
	}],
	jwks: { keys: [{ ...signing.export({ format: 'jwk' }), kid: 'corp-1', alg: 'RS256', use: 'sig' }] },
	cookies: { keys: ['federation-test-only'] },
	claims: {
		openid: ['sub'],
		email: ['email', 'email_verified'],
		groups: ['groups'],
	},
	scopes: ['openid', 'email', 'groups', 'profile'],
	pkce: { required: () => true },
	findAccount: (ctx, id) => (users[id] ? {
		accountId: id,
		claims: () => ({ sub: id, ...users[id] }),
	} : undefined),
	features: { devInteractions: { enabled: true } },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(Number(PORT), '127.0.0.1', () => console.log('ready'));
