/**
 * Operators in the back office: accounts with a role, the rights each role
 * has (the permission matrix, documented in docs/staff-and-roles.md),
 * sessions, per-user API tokens and the append-only audit log.
 *
 * Secrets are never stored: a password as its scrypt verifier, a session or
 * API token as the SHA-256 of its text (a stolen database cannot replay them).
 */

export const OPERATOR_ROLES = ['viewer', 'operator', 'supervisor', 'admin', 'auditor'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** What a route needs; each role has a set of these. */
export const PERMISSIONS = [
  /** Fleet, ledger, shifts, exceptions, exposure, policies, wallets, load, summary: every GET but the audit log. */
  'read',
  /** GET /v1/admin/audit. */
  'audit.read',
  /** Issue enrollment tokens. */
  'devices.enroll',
  /** Place (or move) a device. */
  'devices.place',
  /** Revoke a device. */
  'devices.revoke',
  /** Record actions on exceptions. */
  'exceptions.act',
  /** Wallet actions (unblock). */
  'wallets.act',
  /** Issue risk policies. */
  'policies.write',
  /** Set the betting configuration. */
  'betting.write',
  /** Post event results, which settle tickets (a results feed's API token needs only this). */
  'betting.results',
  /** Create loyalty members and adjust their points (audited). */
  'loyalty.manage',
  /** Manage the staff rosters of the tills: add, change, remove staff, set PINs and badges. */
  'staff.manage',
  /** Create, list, change and disable operator accounts; list and revoke anyone's API tokens. */
  'accounts.manage',
  /** Create and update catalog items, publish price lists (docs/catalog-and-stock.md). */
  'catalog.write',
  /** E-invoicing: act on rejected bills (resubmit, cancel, non-fiscal) and set locations' jurisdictions (audited). */
  'fiscal.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * The permission matrix. Roles are not a ladder: an auditor reads
 * everything, the audit log included, and changes nothing; a viewer reads
 * but never the audit log.
 */
export const ROLE_PERMISSIONS: Readonly<Record<OperatorRole, readonly Permission[]>> = {
  viewer: ['read'],
  operator: ['read', 'devices.enroll', 'devices.place'],
  supervisor: [
    'read',
    'devices.enroll',
    'devices.place',
    'devices.revoke',
    'exceptions.act',
    'wallets.act',
    'staff.manage',
    'betting.results',
    'loyalty.manage',
    'catalog.write',
    'fiscal.manage',
  ],
  // Every right there is.
  admin: PERMISSIONS,
  auditor: ['read', 'audit.read'],
};

export function roleMay(role: OperatorRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The roles that have `permission`, in OPERATOR_ROLES order (for a 403's message). */
export function rolesWith(permission: Permission): OperatorRole[] {
  return OPERATOR_ROLES.filter((r) => roleMay(r, permission));
}

/** True if every right of `narrower` is one of `role`'s: an API token may carry it. */
export function roleWithin(narrower: OperatorRole, role: OperatorRole): boolean {
  return ROLE_PERMISSIONS[narrower].every((p) => roleMay(role, p));
}

/** An operator account as stored. */
export interface OperatorRecord {
  id: string;
  /** Unique, lowercase: 3..64 of a-z 0-9 . _ - */
  username: string;
  role: OperatorRole;
  /** scrypt verifier (see services/passwords.ts): `scrypt$<logN>$<r>$<p>$<salt>$<key>`. */
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
  /** When the password was last set: sessions older than this are refused. */
  passwordSetAt: number;
  disabledAt: number | null;
}

/** What an operator is shown of an account (never the verifier). */
export interface OperatorView {
  id: string;
  username: string;
  role: OperatorRole;
  createdAt: number;
  updatedAt: number;
  passwordSetAt: number;
  disabledAt: number | null;
}

export function operatorView(r: OperatorRecord): OperatorView {
  const { passwordHash: _secret, ...view } = r;
  return view;
}

/** A change to an account; `updatedAt` always. */
export interface OperatorChange {
  role?: OperatorRole;
  passwordHash?: string;
  passwordSetAt?: number;
  disabledAt?: number | null;
  updatedAt: number;
}

/** A login session as stored: the SHA-256 of its token, never the token. */
export interface OperatorSessionRecord {
  id: string;
  tokenHash: string;
  operatorId: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute expiry, fixed at login. */
  expiresAt: number;
  endedAt: number | null;
}

/** A per-user API token as stored: the SHA-256 of its text, never the text. */
export interface ApiTokenRecord {
  id: string;
  tokenHash: string;
  operatorId: string;
  name: string;
  /** The role it carries: the owner's or a narrower one (roleWithin). */
  role: OperatorRole;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export type ApiTokenView = Omit<ApiTokenRecord, 'tokenHash'>;

export function apiTokenView(t: ApiTokenRecord): ApiTokenView {
  const { tokenHash: _secret, ...view } = t;
  return view;
}

/** The actor of an audited action: a user id, `bootstrap`, or (failed logins) `anonymous`. */
export type AuditOutcome = 'ok' | string;

/** One audit entry, as appended (never updated nor deleted). */
export interface AuditEntry {
  id: string;
  at: number;
  /** The operator's id, "bootstrap" for the bootstrap token, "anonymous" for a failed login. */
  actor: string;
  /** The actor's username as it was (or the username tried, for a failed login). */
  actorName: string | null;
  /** The role the action was taken with. */
  role: OperatorRole | null;
  /** e.g. `devices.revoke`, `login`, `login.failed`, `accounts.set_role`. */
  action: string;
  /** What it acted on (a device id, an account id…), or null. */
  target: string | null;
  /** `ok`, or the error code it was refused with. */
  outcome: AuditOutcome;
  /** The HTTP request id (Fastify's `request.id`). */
  requestId: string | null;
  /** Source address of the request. */
  source: string | null;
  /** Small structured facts (a reason, the new role); never a secret. */
  detail: Record<string, unknown> | null;
}

export interface AuditRow extends AuditEntry {
  pos: number;
}

export interface AuditFilter {
  /** Entries after this position (paging). */
  after: number;
  limit: number;
  actor?: string;
  action?: string;
  outcome?: string;
  target?: string;
  /** Inclusive lower bound on `at`. */
  from?: number;
  /** Exclusive upper bound on `at`. */
  to?: number;
}
