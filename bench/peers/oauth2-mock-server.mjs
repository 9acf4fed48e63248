// oauth2-mock-server (npm) as a start-up peer: one ES256 key, listening on PORT.
// Loaded from PEERS_DIR, where bench/peers.sh installs it.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PEERS_DIR, 'package.json'));
const { OAuth2Server } = await import(require.resolve('oauth2-mock-server'));
const server = new OAuth2Server();
await server.issuer.keys.generate('ES256');
await server.start(Number(process.env.PORT), '127.0.0.1');
