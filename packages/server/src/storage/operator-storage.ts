/**
 * What Storage keeps about operators in the back office (accounts,
 * sessions, API tokens, the audit log); part of the Storage interface,
 * written once in sql/operations/operators.ts for both backends.
 */
import type {
  ApiTokenRecord,
  AuditEntry,
  AuditFilter,
  AuditRow,
  OperatorChange,
  OperatorRecord,
  OperatorSessionRecord,
} from '../model/operator.js';

export interface OperatorStorage {
  /** Stores a new account; `username_taken` (nothing stored) if the username is in use. */
  insertOperator(record: OperatorRecord): Promise<'inserted' | 'username_taken'>;
  getOperator(key: { id: string } | { username: string }): Promise<OperatorRecord | null>;
  /** Every account, by username. */
  listOperators(): Promise<OperatorRecord[]>;
  /** Changes an account; the account as it now is, or null if there is none. */
  updateOperator(id: string, change: OperatorChange): Promise<OperatorRecord | null>;

  insertOperatorSession(session: OperatorSessionRecord): Promise<void>;
  /** The session whose token hashes to `tokenHash`, live or not. */
  operatorSessionByHash(tokenHash: string): Promise<OperatorSessionRecord | null>;
  /** Records a session's use at `at` (never moves it back). */
  touchOperatorSession(id: string, at: number): Promise<void>;
  /** Ends a session, or every live session of an operator; how many were ended. */
  endOperatorSessions(which: { id: string } | { operatorId: string }, at: number): Promise<number>;

  insertApiToken(token: ApiTokenRecord): Promise<void>;
  apiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null>;
  /** One operator's tokens, or everyone's (null), oldest first. */
  listApiTokens(operatorId: string | null): Promise<ApiTokenRecord[]>;
  /** Revokes a token once; the token, or null if there is none. */
  revokeApiToken(id: string, at: number): Promise<ApiTokenRecord | null>;
  /** Revokes every live token of an operator; how many. */
  revokeApiTokensOf(operatorId: string, at: number): Promise<number>;

  /** Appends an audit entry (the log has no other write). */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** A page of the audit log by position. */
  listAudit(filter: AuditFilter): Promise<AuditRow[]>;
}
