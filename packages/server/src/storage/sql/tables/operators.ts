/**
 * The operator tables: `operators` (accounts), `operator_sessions`,
 * `api_tokens` and the append-only `audit_log`. Their columns and row
 * mappers, for every backend.
 */

import type {
  ApiTokenRecord,
  AuditEntry,
  AuditRow,
  OperatorRecord,
  OperatorRole,
  OperatorSessionRecord,
} from '../../../model/operator.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { defineTable } from '../table.js';

export const OPERATORS = defineTable<OperatorRecord>('operators', {
  id: ['text', (o) => o.id],
  username: ['text', (o) => o.username],
  role: ['text', (o) => o.role],
  password_hash: ['text', (o) => o.passwordHash],
  created_at: ['bigint', (o) => o.createdAt],
  updated_at: ['bigint', (o) => o.updatedAt],
  password_set_at: ['bigint', (o) => o.passwordSetAt],
  disabled_at: ['bigint', (o) => o.disabledAt],
});

export function operatorOf(r: Row): OperatorRecord {
  return {
    id: r.id as string,
    username: r.username as string,
    role: r.role as OperatorRole,
    passwordHash: r.password_hash as string,
    createdAt: int(r.created_at),
    updatedAt: int(r.updated_at),
    passwordSetAt: int(r.password_set_at),
    disabledAt: intOrNull(r.disabled_at),
  };
}

export const OPERATOR_SESSIONS = defineTable<OperatorSessionRecord>('operator_sessions', {
  id: ['text', (s) => s.id],
  token_hash: ['text', (s) => s.tokenHash],
  operator_id: ['text', (s) => s.operatorId],
  created_at: ['bigint', (s) => s.createdAt],
  last_seen_at: ['bigint', (s) => s.lastSeenAt],
  expires_at: ['bigint', (s) => s.expiresAt],
  ended_at: ['bigint', (s) => s.endedAt],
});

export function sessionOf(r: Row): OperatorSessionRecord {
  return {
    id: r.id as string,
    tokenHash: r.token_hash as string,
    operatorId: r.operator_id as string,
    createdAt: int(r.created_at),
    lastSeenAt: int(r.last_seen_at),
    expiresAt: int(r.expires_at),
    endedAt: intOrNull(r.ended_at),
  };
}

export const API_TOKENS = defineTable<ApiTokenRecord>('api_tokens', {
  id: ['text', (t) => t.id],
  token_hash: ['text', (t) => t.tokenHash],
  operator_id: ['text', (t) => t.operatorId],
  name: ['text', (t) => t.name],
  role: ['text', (t) => t.role],
  created_at: ['bigint', (t) => t.createdAt],
  expires_at: ['bigint', (t) => t.expiresAt],
  revoked_at: ['bigint', (t) => t.revokedAt],
});

export function apiTokenOf(r: Row): ApiTokenRecord {
  return {
    id: r.id as string,
    tokenHash: r.token_hash as string,
    operatorId: r.operator_id as string,
    name: r.name as string,
    role: r.role as OperatorRole,
    createdAt: int(r.created_at),
    expiresAt: intOrNull(r.expires_at),
    revokedAt: intOrNull(r.revoked_at),
  };
}

export const AUDIT_LOG = defineTable<AuditEntry>(
  'audit_log',
  {
    id: ['text', (e) => e.id],
    at: ['bigint', (e) => e.at],
    actor: ['text', (e) => e.actor],
    actor_name: ['text', (e) => e.actorName],
    role: ['text', (e) => e.role],
    action: ['text', (e) => e.action],
    target: ['text', (e) => e.target],
    outcome: ['text', (e) => e.outcome],
    request_id: ['text', (e) => e.requestId],
    source: ['text', (e) => e.source],
    detail: ['jsonb', (e) => (e.detail === null ? null : JSON.stringify(e.detail))],
  },
  ['pos'],
);

export function auditOf(r: Row, d: SqlDialect): AuditRow {
  return {
    pos: int(r.pos),
    id: r.id as string,
    at: int(r.at),
    actor: r.actor as string,
    actorName: textOrNull(r.actor_name),
    role: textOrNull(r.role) as OperatorRole | null,
    action: r.action as string,
    target: textOrNull(r.target),
    outcome: r.outcome as string,
    requestId: textOrNull(r.request_id),
    source: textOrNull(r.source),
    detail: r.detail === null || r.detail === undefined ? null : (d.readJson(r.detail) as Record<string, unknown>),
  };
}
