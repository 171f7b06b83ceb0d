// The graphql-http audit (GraphQL-over-HTTP conformance) against one URL, with a token.
// Run by clients/graphql-http-audit.sh, which installs graphql-http into clients/.tools/ and
// starts a server when it is given no URL.
//
//   AUDIT_TOKEN=<jwt> node clients/graphql-http-audit.mjs http://127.0.0.1:8000/graphql
//
// Prints every audit, then the summary; exits 1 on any failure (a MUST not met), 0 otherwise.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [url] = process.argv.slice(2);
const token = process.env.AUDIT_TOKEN;
const prefix = process.env.GRAPHQL_HTTP_PREFIX;
if (!url || !token || !prefix) {
  console.error('usage: AUDIT_TOKEN=<jwt> GRAPHQL_HTTP_PREFIX=<dir> node graphql-http-audit.mjs <url>');
  process.exit(2);
}
const require = createRequire(join(prefix, 'package.json'));
const { auditServer } = require('graphql-http');
const version = require('graphql-http/package.json').version;

// auditServer takes no headers: every request it sends gets the token here.
async function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

// The token's first request signs its user in (and provisions a new tenant): done once here,
// not by the audit's 61 requests at once, which would all wait for it (the pool's checkout
// timeout then answers some with 503 and Retry-After, as it should under such a burst).
const signedIn = await fetchWithToken(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: '{ __typename }' }),
});
if (!signedIn.ok) {
  console.error(`the token was not accepted: HTTP ${signedIn.status} ${await signedIn.text()}`);
  process.exit(2);
}

const results = await auditServer({ url, fetchFn: fetchWithToken });
const mark = { ok: 'pass', notice: 'note', warn: 'WARN', error: 'FAIL' };
for (const result of results) {
  console.log(`${mark[result.status]}  ${result.id} ${result.name}`);
  if (result.status !== 'ok') {
    const response = result.response;
    const detail = response ? ` (HTTP ${response.status}, ${response.headers.get('content-type')})` : '';
    console.log(`      ${result.reason}${detail}`);
  }
}
const count = (status) => results.filter((result) => result.status === status).length;
console.log(
  `\ngraphql-http ${version} audit of ${url}: ${results.length} audits, ` +
    `${count('ok')} passed, ${count('notice')} notices, ${count('warn')} warnings, ` +
    `${count('error')} failures`,
);
process.exit(count('error') ? 1 : 0);
