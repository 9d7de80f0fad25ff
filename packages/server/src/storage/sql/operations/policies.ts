/**
 * Risk policies and their signing keys, for every backend. Issuing holds
 * the `policies` lock (PostgreSQL: an advisory lock; SQLite: its one
 * writer), so concurrent issuers, in any process, queue and each reads the
 * slot (the scope's next version, the latest issuedAt) the one before it
 * left; the unique (scope_key, version) is the backstop (a violation runs
 * PostgreSQL's transaction again).
 */
import type { SignedPolicy } from '@holdfast/protocol';
import type { PolicyFilter, PolicyIssueRequest, ServerKeyRecord } from '../../../model/policy.js';
import { signIssued } from '../../../risk-policies.js';
import { policyScopeKey } from '../../policy-records.js';
import { int, intOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { POLICIES, SERVER_KEYS, serverKeyOf } from '../tables/policies.js';
import { all, lock, one, run, type SqlOperation } from '../transaction-port.js';

const ACTIVE_KEYS = 'SELECT * FROM server_keys WHERE retired_at IS NULL ORDER BY created_at DESC, id';

/** Orders the active key after retired ones created in the same ms (a rotation within the ms of the key it replaces). */
const ACTIVE_LAST = 'CASE WHEN retired_at IS NULL THEN 1 ELSE 0 END';

/** Keys not retired, newest first. */
export function* listServerKeys(): SqlOperation<ServerKeyRecord[]> {
  return (yield* all(ACTIVE_KEYS)).map(serverKeyOf);
}

/**
 * The active key: `candidate` is inserted unless an active key is there
 * (the one-active index; in PostgreSQL a concurrent insert is waited for),
 * then the active key is read back (in PostgreSQL a new snapshot).
 */
export function* ensureServerKey(d: SqlDialect, candidate: ServerKeyRecord): SqlOperation<ServerKeyRecord> {
  yield* run(insertSql(SERVER_KEYS, d, { ignoring: true }), valuesOf(SERVER_KEYS, candidate, d));
  const [key] = yield* listServerKeys();
  if (!key) throw new Error('ensureServerKey: no active server key after inserting one');
  return key;
}

/** Keys a terminal may still verify with at `now`: the active one and those retired later than `now`, newest first. */
export function* listTrustedServerKeys(now: number): SqlOperation<ServerKeyRecord[]> {
  const rows = yield* all(
    `SELECT * FROM server_keys WHERE retired_at IS NULL OR retired_at > $1
     ORDER BY created_at DESC, ${ACTIVE_LAST} DESC, id`,
    [now],
  );
  return rows.map(serverKeyOf);
}

/** Every key ever stored, oldest first (the operator's list). */
export function* listAllServerKeys(): SqlOperation<ServerKeyRecord[]> {
  return (yield* all(`SELECT * FROM server_keys ORDER BY created_at, ${ACTIVE_LAST}, id`)).map(serverKeyOf);
}

/**
 * Makes `candidate` the active key (docs/security.md, "Key lifecycle"): the
 * key active until now gets `retired_at` = the later of `now + overlapMs`
 * and the expiry of the last policy it signed, so every policy it signed
 * verifies until it expires and a terminal has the overlap to learn the new
 * key. Holds the `policies` lock, so no policy is signed by the old key
 * after its retirement was computed, and two rotations at once queue.
 */
export function* rotateServerKey(
  d: SqlDialect,
  candidate: ServerKeyRecord,
  overlapMs: number,
): SqlOperation<{ active: ServerKeyRecord; retired: ServerKeyRecord | null }> {
  yield* lock('policies');
  const now = candidate.createdAt;
  const oldRow = yield* one(`${ACTIVE_KEYS} LIMIT 1`);
  let retired: ServerKeyRecord | null = null;
  if (oldRow) {
    const old = serverKeyOf(oldRow);
    const last = yield* one('SELECT max(expires_at) AS last FROM policies WHERE key_id = $1', [old.id]);
    const retiredAt = Math.max(now + overlapMs, intOrNull(last?.last) ?? 0);
    yield* run('UPDATE server_keys SET retired_at = $1 WHERE id = $2', [retiredAt, old.id]);
    retired = { ...old, retiredAt };
  }
  yield* run(insertSql(SERVER_KEYS, d), valuesOf(SERVER_KEYS, candidate, d));
  return { active: candidate, retired };
}

/** Signs and stores the scope's next policy (see Storage.issuePolicy); in one transaction. */
export function* issuePolicy(d: SqlDialect, request: PolicyIssueRequest): SqlOperation<SignedPolicy> {
  const scopeKey = policyScopeKey(request.draft.scope);
  yield* lock('policies');
  const key = yield* one(`${ACTIVE_KEYS} LIMIT 1`);
  if (!key) throw new Error('issuePolicy: no active policy-signing key (ensureServerKey first)');
  const slot = yield* one(
    `SELECT (SELECT coalesce(max(version), 0) FROM policies WHERE scope_key = $1) AS version,
            (SELECT max(issued_at) FROM policies) AS latest`,
    [scopeKey],
  );
  const signed = signIssued(
    request,
    { version: int(slot?.version) + 1, latestIssuedAt: intOrNull(slot?.latest) },
    serverKeyOf(key),
  );
  yield* run(insertSql(POLICIES, d), valuesOf(POLICIES, { signed, scopeKey }, d));
  return signed;
}

/** Stored policies, oldest first (issuedAt, id), filtered (see Storage.listPolicies). */
export function* listPolicies(filter: PolicyFilter): SqlOperation<SignedPolicy[]> {
  const rows = yield* all(
    `SELECT signed FROM policies
     WHERE (CAST($1 AS TEXT) IS NULL OR merchant = $1) AND (CAST($2 AS BIGINT) IS NULL OR expires_at > $2)
     ORDER BY issued_at, id`,
    [filter.merchant ?? null, filter.unexpiredAt ?? null],
  );
  return rows.map((r) => JSON.parse(r.signed as string) as SignedPolicy);
}
