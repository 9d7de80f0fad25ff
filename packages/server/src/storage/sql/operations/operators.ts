/**
 * Operator accounts, sessions, API tokens and the audit log, for every
 * backend. The audit log has an append only here (no update or delete
 * statement exists), and each schema refuses UPDATE and DELETE on it with
 * a trigger.
 */
import type {
  ApiTokenRecord,
  AuditEntry,
  AuditFilter,
  AuditRow,
  OperatorChange,
  OperatorRecord,
  OperatorSessionRecord,
} from '../../../model/operator.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import {
  API_TOKENS,
  AUDIT_LOG,
  apiTokenOf,
  auditOf,
  OPERATOR_SESSIONS,
  OPERATORS,
  operatorOf,
  sessionOf,
} from '../tables/operators.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

/** Inserts an account; `username_taken` (nothing written) if the username is in use. */
export function* insertOperator(d: SqlDialect, record: OperatorRecord): SqlOperation<'inserted' | 'username_taken'> {
  const changed = yield* run(insertSql(OPERATORS, d, { ignoring: true }), valuesOf(OPERATORS, record, d));
  return changed === 1 ? 'inserted' : 'username_taken';
}

export function* getOperator(key: { id: string } | { username: string }): SqlOperation<OperatorRecord | null> {
  const row =
    'id' in key
      ? yield* one('SELECT * FROM operators WHERE id = $1', [key.id])
      : yield* one('SELECT * FROM operators WHERE username = $1', [key.username]);
  return row ? operatorOf(row) : null;
}

export function* listOperators(): SqlOperation<OperatorRecord[]> {
  return (yield* all('SELECT * FROM operators ORDER BY username')).map(operatorOf);
}

/** Applies `change` to account `id`; the account as it now is, or null if there is none. */
export function* updateOperator(id: string, change: OperatorChange): SqlOperation<OperatorRecord | null> {
  const sets: string[] = [];
  const params: unknown[] = [];
  const set = (column: string, value: unknown) => {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  };
  if (change.role !== undefined) set('role', change.role);
  if (change.passwordHash !== undefined) set('password_hash', change.passwordHash);
  if (change.passwordSetAt !== undefined) set('password_set_at', change.passwordSetAt);
  if (change.disabledAt !== undefined) set('disabled_at', change.disabledAt);
  set('updated_at', change.updatedAt);
  params.push(id);
  yield* run(`UPDATE operators SET ${sets.join(', ')} WHERE id = $${params.length}`, params);
  return yield* getOperator({ id });
}

export function* insertSession(d: SqlDialect, session: OperatorSessionRecord): SqlOperation<void> {
  yield* run(insertSql(OPERATOR_SESSIONS, d), valuesOf(OPERATOR_SESSIONS, session, d));
}

export function* sessionByHash(tokenHash: string): SqlOperation<OperatorSessionRecord | null> {
  const row = yield* one('SELECT * FROM operator_sessions WHERE token_hash = $1', [tokenHash]);
  return row ? sessionOf(row) : null;
}

/** Moves a live session's last use forward (never back). */
export function* touchSession(id: string, at: number): SqlOperation<void> {
  yield* run(
    'UPDATE operator_sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1 AND ended_at IS NULL',
    [at, id],
  );
}

/** Ends one session, or every live session of an operator; how many it ended. */
export function* endSessions(which: { id: string } | { operatorId: string }, at: number): SqlOperation<number> {
  return 'id' in which
    ? yield* run('UPDATE operator_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL', [at, which.id])
    : yield* run('UPDATE operator_sessions SET ended_at = $1 WHERE operator_id = $2 AND ended_at IS NULL', [
        at,
        which.operatorId,
      ]);
}

export function* insertApiToken(d: SqlDialect, token: ApiTokenRecord): SqlOperation<void> {
  yield* run(insertSql(API_TOKENS, d), valuesOf(API_TOKENS, token, d));
}

export function* apiTokenByHash(tokenHash: string): SqlOperation<ApiTokenRecord | null> {
  const row = yield* one('SELECT * FROM api_tokens WHERE token_hash = $1', [tokenHash]);
  return row ? apiTokenOf(row) : null;
}

export function* getApiToken(id: string): SqlOperation<ApiTokenRecord | null> {
  const row = yield* one('SELECT * FROM api_tokens WHERE id = $1', [id]);
  return row ? apiTokenOf(row) : null;
}

/** One operator's tokens, or everyone's (null), oldest first. */
export function* listApiTokens(operatorId: string | null): SqlOperation<ApiTokenRecord[]> {
  const rows =
    operatorId === null
      ? yield* all('SELECT * FROM api_tokens ORDER BY created_at, id')
      : yield* all('SELECT * FROM api_tokens WHERE operator_id = $1 ORDER BY created_at, id', [operatorId]);
  return rows.map(apiTokenOf);
}

/** Revokes a token once (a second revocation keeps the first time); the token, or null if there is none. */
export function* revokeApiToken(id: string, at: number): SqlOperation<ApiTokenRecord | null> {
  yield* run('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [at, id]);
  return yield* getApiToken(id);
}

/** Revokes every live token of an operator (on disable); how many. */
export function* revokeApiTokensOf(operatorId: string, at: number): SqlOperation<number> {
  return yield* run('UPDATE api_tokens SET revoked_at = $1 WHERE operator_id = $2 AND revoked_at IS NULL', [
    at,
    operatorId,
  ]);
}

export function* appendAudit(d: SqlDialect, entry: AuditEntry): SqlOperation<void> {
  yield* run(insertSql(AUDIT_LOG, d), valuesOf(AUDIT_LOG, entry, d));
}

/** A page of the audit log by position, filtered. */
export function* listAudit(d: SqlDialect, filter: AuditFilter): SqlOperation<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  add((p) => `pos > ${p}`, filter.after);
  if (filter.actor !== undefined) add((p) => `(actor = ${p} OR actor_name = ${p})`, filter.actor);
  if (filter.action !== undefined) add((p) => `action = ${p}`, filter.action);
  if (filter.outcome !== undefined) add((p) => `outcome = ${p}`, filter.outcome);
  if (filter.target !== undefined) add((p) => `target = ${p}`, filter.target);
  if (filter.from !== undefined) add((p) => `at >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `at < ${p}`, filter.to);
  params.push(filter.limit);
  const rows = yield* all(
    `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY pos LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => auditOf(r, d));
}
