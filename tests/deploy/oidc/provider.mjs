// A real OpenID Connect provider (panva/oidc-provider) for Datadive's sign-in tests.
//
//   node provider.mjs <port> <config.json>
//
// config.json (re-read for every sign-in): {"clients": [{client_id, client_secret, redirect_uris}],
//               "users": {"alice": {"password": "...", "groups": ["..."], "email": "..."}}}
// Binds to 127.0.0.1 only, requires PKCE for every client, and serves two plain HTML interactions:
// a login form (login + password, checked against config.json) and a consent form.
// Prints "listening <issuer>" on stdout once ready.
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const config = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const issuer = `http://127.0.0.1:${port}`;
// users are re-read at every request, so a test can change someone's groups between two sign-ins
const users = () => JSON.parse(fs.readFileSync(process.argv[3], 'utf8')).users;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: c.token_endpoint_auth_method || 'client_secret_basic',
  })),
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['datadive-test-only-cookie-key'] },
  async findAccount(ctx, id) {
    const user = users()[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: user.name || id,
          preferred_username: id,
          email: user.email || `${id}@example.org`,
          email_verified: true,
          groups: user.groups || [],
        };
      },
    };
  },
});
provider.proxy = false;

function page(res, title, body, status = 200) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>${esc(title)}</title></head><body>
<h1>${esc(title)}</h1>${body}</body></html>`);
}

async function readForm(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return Object.fromEntries(new URLSearchParams(data));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') {
      return page(res, 'Sign in', `<form method="post" action="/interaction/${esc(uid)}">
<label>Login <input name="login" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`);
    }
    return page(res, 'Authorize', `<p>Allow ${esc(params.client_id)} to read your profile and groups?</p>
<form method="post" action="/interaction/${esc(uid)}"><input type="hidden" name="consent" value="yes">
<button type="submit">Allow</button></form>`);
  }
  const form = await readForm(req);
  if (prompt.name === 'login') {
    const user = users()[form.login];
    if (!user || user.password !== form.password) {
      return page(res, 'Sign in failed', '<p>Wrong login or password.</p>', 401);
    }
    return provider.interactionFinished(req, res, { login: { accountId: form.login } }, {
      mergeWithLastSubmission: false,
    });
  }
  const { accountId } = details.session;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
}

const handler = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      console.error(err);
      page(res, 'Error', `<p>${esc(err.message)}</p>`, 500);
    });
  } else {
    handler(req, res);
  }
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
