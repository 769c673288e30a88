// Runs graphql-http's GraphQL-over-HTTP server audits against a running hub.
// Usage: node audit.mjs URL TOKEN  — prints one line per audit, then a JSON summary line;
// exits 1 when any audit is not "ok" (an error or a warning).
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs URL TOKEN');
  process.exit(2);
}

// The hub refuses anonymous calls (401); every audit request carries the bearer token.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  let detail = '';
  if (result.status !== 'ok') {
    const response = result.response;
    detail = ` — ${result.reason}` + (response ? ` (HTTP ${response.status})` : '');
  }
  console.log(`${result.status.toUpperCase().padEnd(5)} ${result.id} ${result.name}${detail}`);
}
console.log(JSON.stringify({ total: results.length, ...counts }));
process.exit(counts.warn + counts.error === 0 ? 0 : 1);
