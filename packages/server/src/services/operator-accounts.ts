/**
 * Operators in the back office: accounts and roles, password login to a
 * session, per-user API tokens, and the audit log (docs/staff-and-roles.md,
 * "Operators in the back office"; the wire is in docs/protocol.md).
 *
 * Credentials, all sent as `Authorization: Bearer <secret>` (a session also
 * as a cookie, see http/operator-access.ts):
 *   - the bootstrap token (BootstrapTokens): acts as admin, audited as "bootstrap";
 *   - a session `hfs_…` from POST /v1/admin/session (idle and absolute expiry);
 *   - an API token `hft_…` (optional expiry, the owner's role or a narrower one).
 * Sessions and API tokens are stored as the SHA-256 of their text; the
 * text is shown once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import {
  type ApiTokenRecord,
  type ApiTokenView,
  type AuditEntry,
  type AuditFilter,
  type AuditRow,
  apiTokenView,
  type OperatorRecord,
  type OperatorRole,
  type OperatorView,
  operatorView,
  roleWithin,
} from '../model/operator.js';
import type { Storage } from '../storage/storage.js';
import { LoginLimiter } from './login-limiter.js';
import { checkPasswordPolicy, DEFAULT_SCRYPT, hashPassword, type ScryptParams, verifyPassword } from './passwords.js';

export const SESSION_PREFIX = 'hfs_';
export const API_TOKEN_PREFIX = 'hft_';

export interface SessionTimes {
  /** A session unused this long ends (default 30 min). */
  idleMs: number;
  /** A session ends this long after login, used or not (default 12 h). */
  absoluteMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };
/** A session's last use is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

/** Who is calling: the authenticated actor of an operator request. */
export interface Principal {
  kind: 'bootstrap' | 'session' | 'token';
  /** The operator's id, or "bootstrap". */
  actor: string;
  /** The username, or "bootstrap". */
  name: string;
  role: OperatorRole;
  /** The session or API token id (not for bootstrap). */
  credentialId: string | null;
}

export interface LoginResult {
  session: string;
  /** The CSRF token a cookie-authenticated unsafe request sends as `x-csrf-token`. */
  csrfToken: string;
  expiresAt: number;
  idleTimeoutMs: number;
  operator: OperatorView;
}

export interface OperatorAccountsOptions {
  storage: Storage;
  clock: Clock;
  newId: () => string;
  scrypt?: ScryptParams;
  sessions?: Partial<SessionTimes>;
  limiter?: LoginLimiter;
  /**
   * Password checks (logins, password changes) running at once in this
   * process, at most (default 8): each holds ~32 MiB and a thread of
   * libuv's pool, so a flood of logins from many sources is refused
   * `overloaded` instead of starving the server.
   */
  maxPasswordChecks?: number;
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The CSRF token of a session: derived from its secret, so a stolen database (hashes only) cannot forge it. */
export function csrfTokenOf(session: string): string {
  return createHash('sha256').update(`holdfast-csrf:${session}`).digest('base64url');
}

export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** A username as stored, or invalid_request naming `field`. */
export function usernameOf(raw: string, field = 'username'): string {
  const username = raw.toLowerCase();
  if (!USERNAME.test(username)) {
    throw new ProtocolError(
      'invalid_request',
      `${field} must be 3..64 of a-z 0-9 . _ - (starting with a letter or digit)`,
      {
        field,
        rule: USERNAME.source,
      },
    );
  }
  return username;
}

export class OperatorAccounts {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #scrypt: ScryptParams;
  readonly times: SessionTimes;
  readonly limiter: LoginLimiter;
  /** A verifier checked when the username is unknown, so both take as long. */
  #decoy: Promise<string> | null = null;
  readonly #maxChecks: number;
  #checking = 0;

  constructor(options: OperatorAccountsOptions) {
    this.#storage = options.storage;
    this.#clock = options.clock;
    this.#newId = options.newId;
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.times = { ...DEFAULT_SESSION_TIMES, ...options.sessions };
    this.limiter = options.limiter ?? new LoginLimiter();
    this.#maxChecks = options.maxPasswordChecks ?? 8;
  }

  /** Runs a password check within the cap on checks at once; overloaded (retryable, 1 s) beyond it. */
  async #check<T>(work: () => Promise<T>): Promise<T> {
    if (this.#checking >= this.#maxChecks) {
      throw new ProtocolError('overloaded', 'too many password checks at once: try again in a second', {
        retryAfterMs: 1_000,
      });
    }
    this.#checking++;
    try {
      return await work();
    } finally {
      this.#checking--;
    }
  }

  // Accounts (admin).

  async create(input: { username: string; role: OperatorRole; password: string }): Promise<OperatorView> {
    const username = usernameOf(input.username);
    checkPasswordPolicy(input.password, username);
    const now = this.#clock.now();
    const record: OperatorRecord = {
      id: this.#newId(),
      username,
      role: input.role,
      passwordHash: await hashPassword(input.password, this.#scrypt),
      createdAt: now,
      updatedAt: now,
      passwordSetAt: now,
      disabledAt: null,
    };
    if ((await this.#storage.insertOperator(record)) === 'username_taken') {
      throw new ProtocolError('username_taken', `an operator named ${username} exists already`, { field: 'username' });
    }
    return operatorView(record);
  }

  async list(): Promise<OperatorView[]> {
    return (await this.#storage.listOperators()).map(operatorView);
  }

  /** An account by id or username; not_found otherwise. */
  async find(idOrName: string): Promise<OperatorRecord> {
    const byId = await this.#storage.getOperator({ id: idOrName });
    const found = byId ?? (await this.#storage.getOperator({ username: idOrName.toLowerCase() }));
    if (!found) throw new ProtocolError('not_found', `no operator ${idOrName}`, { field: 'id' });
    return found;
  }

  /** Changes an account's role; its API tokens with rights the new role lacks are revoked. */
  async setRole(idOrName: string, role: OperatorRole): Promise<OperatorView> {
    const account = await this.find(idOrName);
    const now = this.#clock.now();
    const changed = await this.#update(account.id, { role, updatedAt: now });
    for (const token of await this.#storage.listApiTokens(account.id)) {
      if (token.revokedAt === null && !roleWithin(token.role, role)) await this.#storage.revokeApiToken(token.id, now);
    }
    return changed;
  }

  /** An admin sets a new password; every session of the account ends. */
  async resetPassword(idOrName: string, password: string): Promise<OperatorView> {
    const account = await this.find(idOrName);
    checkPasswordPolicy(password, account.username);
    const now = this.#clock.now();
    const hash = await hashPassword(password, this.#scrypt);
    const changed = await this.#update(account.id, { passwordHash: hash, passwordSetAt: now, updatedAt: now });
    await this.#storage.endOperatorSessions({ operatorId: account.id }, now);
    return changed;
  }

  /** Disables an account: its sessions end and its API tokens are revoked. */
  async disable(idOrName: string): Promise<OperatorView> {
    const account = await this.find(idOrName);
    const now = this.#clock.now();
    const changed = await this.#update(account.id, { disabledAt: account.disabledAt ?? now, updatedAt: now });
    await this.#storage.endOperatorSessions({ operatorId: account.id }, now);
    await this.#storage.revokeApiTokensOf(account.id, now);
    return changed;
  }

  async enable(idOrName: string): Promise<OperatorView> {
    const account = await this.find(idOrName);
    return this.#update(account.id, { disabledAt: null, updatedAt: this.#clock.now() });
  }

  async #update(id: string, change: Parameters<Storage['updateOperator']>[1]): Promise<OperatorView> {
    const updated = await this.#storage.updateOperator(id, change);
    if (!updated) throw new ProtocolError('not_found', `no operator ${id}`, { field: 'id' });
    return operatorView(updated);
  }

  // Login, sessions.

  /**
   * Password login from `source`. Refused with login_locked (before any
   * password is checked) while the account or the source is locked, and
   * with invalid_credentials for an unknown user, a wrong password or a
   * disabled account alike; the failure that reaches the limit answers
   * login_locked.
   */
  async login(input: { username: string; password: string }, source: string): Promise<LoginResult> {
    const username = input.username.toLowerCase();
    const now = this.#clock.now();
    this.limiter.check(username, source, now);
    const { account, ok } = await this.#check(async () => {
      const found = USERNAME.test(username) ? await this.#storage.getOperator({ username }) : null;
      const matches = found
        ? await verifyPassword(input.password, found.passwordHash)
        : (await verifyPassword(input.password, await this.#decoyVerifier())) && false;
      return { account: found, ok: matches };
    });
    if (!account || !ok || account.disabledAt !== null) {
      const lock = this.limiter.fail(username, source, this.#clock.now());
      if (lock) throw lock;
      throw new ProtocolError('invalid_credentials', 'wrong username or password, or the account is disabled');
    }
    this.limiter.succeed(username);
    const session = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = now + this.times.absoluteMs;
    await this.#storage.insertOperatorSession({
      id: this.#newId(),
      tokenHash: sha256(session),
      operatorId: account.id,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      endedAt: null,
    });
    return {
      session,
      csrfToken: csrfTokenOf(session),
      expiresAt,
      idleTimeoutMs: this.times.idleMs,
      operator: operatorView(account),
    };
  }

  #decoyVerifier(): Promise<string> {
    this.#decoy ??= hashPassword(randomBytes(16).toString('hex'), this.#scrypt);
    return this.#decoy;
  }

  /** Ends the session; false if it had ended already. */
  async logout(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'session' || principal.credentialId === null) return false;
    return (await this.#storage.endOperatorSessions({ id: principal.credentialId }, this.#clock.now())) > 0;
  }

  /**
   * The principal of a session or API token secret, or null if the text is
   * neither kind. Refused: session_expired (ended, idle or past its absolute
   * expiry), unauthorized (unknown, revoked or expired token; disabled account).
   */
  async authenticate(secret: string): Promise<Principal | null> {
    if (secret.startsWith(SESSION_PREFIX)) return this.#session(secret);
    if (secret.startsWith(API_TOKEN_PREFIX)) return this.#apiToken(secret);
    return null;
  }

  async #session(secret: string): Promise<Principal> {
    const session = await this.#storage.operatorSessionByHash(sha256(secret));
    if (!session) throw new ProtocolError('unauthorized', 'unknown operator session: log in again');
    const now = this.#clock.now();
    if (session.endedAt !== null) throw new ProtocolError('session_expired', 'this session was logged out or ended');
    if (now >= session.expiresAt)
      throw new ProtocolError('session_expired', 'this session reached its absolute expiry');
    if (now - session.lastSeenAt >= this.times.idleMs) {
      throw new ProtocolError(
        'session_expired',
        `this session was idle for more than ${this.times.idleMs / 60_000} min`,
      );
    }
    const account = await this.#active(session.operatorId);
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await this.#storage.touchOperatorSession(session.id, now);
    return { kind: 'session', actor: account.id, name: account.username, role: account.role, credentialId: session.id };
  }

  async #apiToken(secret: string): Promise<Principal> {
    const token = await this.#storage.apiTokenByHash(sha256(secret));
    if (!token) throw new ProtocolError('unauthorized', 'unknown API token');
    if (token.revokedAt !== null) throw new ProtocolError('unauthorized', `API token ${token.name} was revoked`);
    if (token.expiresAt !== null && this.#clock.now() >= token.expiresAt) {
      throw new ProtocolError('unauthorized', `API token ${token.name} expired`);
    }
    const account = await this.#active(token.operatorId);
    // A token never carries more than its owner has now (setRole revokes such tokens; this is the backstop).
    if (!roleWithin(token.role, account.role)) {
      throw new ProtocolError('unauthorized', `API token ${token.name} carries rights its owner no longer has`);
    }
    return { kind: 'token', actor: account.id, name: account.username, role: token.role, credentialId: token.id };
  }

  async #active(id: string): Promise<OperatorRecord> {
    const account = await this.#storage.getOperator({ id });
    if (!account || account.disabledAt !== null)
      throw new ProtocolError('unauthorized', 'this operator account is disabled');
    return account;
  }

  /** The caller changes their own password (the current one is checked); all their sessions end. */
  async changePassword(principal: Principal, current: string, next: string): Promise<OperatorView> {
    if (principal.kind === 'bootstrap') {
      throw new ProtocolError('invalid_request', 'the bootstrap token has no password; rotate its file instead');
    }
    const account = await this.#active(principal.actor);
    if (!(await this.#check(() => verifyPassword(current, account.passwordHash)))) {
      throw new ProtocolError('invalid_credentials', 'the current password is wrong', { field: 'current' });
    }
    checkPasswordPolicy(next, account.username, 'password');
    const now = this.#clock.now();
    const hash = await hashPassword(next, this.#scrypt);
    const changed = await this.#update(account.id, { passwordHash: hash, passwordSetAt: now, updatedAt: now });
    // Every session of the account ends, the caller's too: they log in again with the new password.
    await this.#storage.endOperatorSessions({ operatorId: account.id }, now);
    return changed;
  }

  // API tokens.

  /** A new API token for the caller (or, for an admin, for `owner`); its secret is in the answer only. */
  async createToken(
    owner: OperatorRecord,
    input: { name: string; role?: OperatorRole | undefined; expiresAt?: number | undefined },
  ): Promise<{ token: string; info: ApiTokenView }> {
    if (owner.disabledAt !== null) throw new ProtocolError('invalid_request', `operator ${owner.username} is disabled`);
    const role = input.role ?? owner.role;
    if (!roleWithin(role, owner.role)) {
      throw new ProtocolError('forbidden', `a token of ${owner.username} (${owner.role}) cannot carry role ${role}`, {
        field: 'role',
        rule: `a role within ${owner.role}`,
      });
    }
    const now = this.#clock.now();
    if (input.expiresAt !== undefined && input.expiresAt <= now) {
      throw new ProtocolError('invalid_request', 'expiresAt must be in the future', {
        field: 'expiresAt',
        rule: '> now',
      });
    }
    const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: ApiTokenRecord = {
      id: this.#newId(),
      tokenHash: sha256(token),
      operatorId: owner.id,
      name: input.name,
      role,
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
    };
    await this.#storage.insertApiToken(record);
    return { token, info: apiTokenView(record) };
  }

  async listTokens(operatorId: string | null): Promise<ApiTokenView[]> {
    return (await this.#storage.listApiTokens(operatorId)).map(apiTokenView);
  }

  /** Revokes token `id`: the caller's own, or anyone's if `mayAny`; not_found otherwise. */
  async revokeToken(id: string, caller: Principal, mayAny: boolean): Promise<ApiTokenView> {
    const tokens = await this.#storage.listApiTokens(mayAny ? null : caller.actor);
    if (!tokens.some((t) => t.id === id)) throw new ProtocolError('not_found', `no API token ${id}`, { field: 'id' });
    const revoked = await this.#storage.revokeApiToken(id, this.#clock.now());
    if (!revoked) throw new ProtocolError('not_found', `no API token ${id}`, { field: 'id' });
    return apiTokenView(revoked);
  }

  // Audit.

  /** Appends an entry (id and time assigned here). */
  async audit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    await this.#storage.appendAudit({ id: this.#newId(), at: this.#clock.now(), ...entry });
  }

  async auditLog(filter: AuditFilter): Promise<{ items: AuditRow[]; next: number | null }> {
    const items = await this.#storage.listAudit(filter);
    return { items, next: items.length === filter.limit ? (items[items.length - 1]?.pos ?? null) : null };
  }
}
