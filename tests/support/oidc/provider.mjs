// The OpenID provider the SSO tests sign in against: oidc-provider on 127.0.0.1, on a free port.
//
// Usage: node provider.mjs '<json>' where the JSON holds {"clients": [...], "accounts": {"login": {claims}}}.
// Prints one line {"issuer": "http://127.0.0.1:<port>"} once it listens; stops when stdin closes.
import http from 'node:http';

import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2] || '{}');
const accounts = settings.accounts || {};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: settings.clients || [],
    // The development login form takes any login: the account is the test user of that login.
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    conformIdTokenClaims: false, // put the scope's claims into the ID token, as Keycloak and Entra ID do
    pkce: { required: () => true },
    cookies: { keys: ['vendorcheck-tests-only'] },
    async findAccount(_ctx, id) {
      if (!accounts[id]) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => { server.close(); process.exit(0); });
process.stdin.resume();
