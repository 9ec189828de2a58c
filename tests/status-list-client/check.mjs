// A stock Token Status List client (draft-ietf-oauth-status-list), independent of revokd's
// own code: for each access token it follows status.status_list.uri, verifies the Status List
// Token against the server's JWKS and reads the token's entry with @sd-jwt/jwt-status-list.
//
// Usage: node check.mjs <jwks_url> <access_jwt> [<access_jwt> ...]
// Prints one JSON line, e.g. ["VALID","INVALID"]; on any failure a message on stderr and exit 1.
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';

const MEDIA_TYPE = 'application/statuslist+jwt';

function fail(message) {
  console.error(`status-list-client: ${message}`);
  process.exit(1);
}

function reject(message) {
  throw new Error(message);
}

// Fetches, verifies and decodes one Status List Token. The library only decodes (it checks
// neither the signature, typ, sub, exp nor ttl), so all of that is done here first.
async function loadList(uri, jwks) {
  const res = await fetch(uri, { headers: { Accept: MEDIA_TYPE } });
  const contentType = res.headers.get('content-type') ?? '';
  if (res.status !== 200) reject(`GET ${uri}: HTTP ${res.status}`);
  if (!contentType.toLowerCase().startsWith(MEDIA_TYPE)) {
    reject(`GET ${uri}: content-type is "${contentType}", expected ${MEDIA_TYPE}`);
  }
  const listJwt = (await res.text()).trim();
  // jwtVerify also rejects an exp in the past; typ must be statuslist+jwt per the draft.
  const { payload } = await jwtVerify(listJwt, jwks, { typ: 'statuslist+jwt' });
  // The draft requires sub to equal the uri the Referenced Token points at.
  if (payload.sub !== uri) reject(`${uri}: sub ${JSON.stringify(payload.sub)} is not the uri`);
  if (typeof payload.iss !== 'string' || !uri.startsWith(`${payload.iss}/status-lists/`)) {
    reject(`${uri}: iss ${JSON.stringify(payload.iss)} is not the prefix of the uri`);
  }
  // exp and ttl are optional in the draft but revokd must send both, for caching clients.
  const now = Math.floor(Date.now() / 1000);
  if (!Number.isInteger(payload.exp) || payload.exp <= now) reject(`${uri}: bad exp ${payload.exp}`);
  if (!Number.isInteger(payload.ttl) || payload.ttl <= 0) reject(`${uri}: bad ttl ${payload.ttl}`);
  return getListFromStatusListJWT(listJwt);
}

const [jwksUrl, ...tokens] = process.argv.slice(2);
if (!jwksUrl || tokens.length === 0) fail('usage: node check.mjs <jwks_url> <access_jwt> [<access_jwt> ...]');

const jwks = createRemoteJWKSet(new URL(jwksUrl));
const lists = new Map(); // uri -> StatusList, so each list is fetched once per run
const statuses = [];
for (const [n, token] of tokens.entries()) {
  try {
    const ref = decodeJwt(token).status?.status_list;
    if (!Number.isInteger(ref?.idx) || ref.idx < 0 || typeof ref?.uri !== 'string') {
      reject(`no valid status.status_list {idx, uri} claim: ${JSON.stringify(ref)}`);
    }
    if (!lists.has(ref.uri)) lists.set(ref.uri, await loadList(ref.uri, jwks));
    const status = lists.get(ref.uri).getStatus(ref.idx); // throws if idx is past the list
    statuses.push(status === 0 ? 'VALID' : status === 1 ? 'INVALID' : String(status));
  } catch (err) {
    // jose errors carry a code; fetch errors hide the reason (e.g. ECONNREFUSED) in cause.
    const code = err.code ? `${err.code}: ` : '';
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    fail(`token ${n}: ${code}${err.message}${cause}`);
  }
}
console.log(JSON.stringify(statuses));
