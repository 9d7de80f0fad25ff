/**
 * Who may call which operator route, and the audit of every operator action.
 *
 * One `onRequest` hook on the `/v1/admin` scope authenticates the caller —
 * `Authorization: Bearer <secret>` (the bootstrap token, a session `hfs_…`
 * or an API token `hft_…`) or the session cookie of the browser console —
 * and checks the route's permission (ROUTE_RULES, below; the matrix of
 * roles to permissions is in model/operator.ts). A cookie-authenticated
 * unsafe request (anything but GET/HEAD/OPTIONS) must also carry the
 * session's CSRF token in `x-csrf-token`; a bearer request needs none (a
 * browser never adds an Authorization header by itself).
 *
 * One `onSend` hook appends an audit entry for every non-GET operator
 * request that got past authentication (refusals by role included), and for
 * logins, successful or not, before the answer leaves.
 */
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BootstrapTokens } from '../bootstrap-token.js';
import { type OperatorRole, type Permission, roleMay, rolesWith } from '../model/operator.js';
import { csrfTokenOf, type OperatorAccounts, type Principal, sameSecret } from '../services/operator-accounts.js';

export const SESSION_COOKIE = 'holdfast_session';
export const CSRF_COOKIE = 'holdfast_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** What a route needs: a permission of the matrix, any signed-in caller (`self`), or nobody (`public`: login). */
export type RouteAccess = Permission | 'self' | 'public';

export interface RouteRule {
  access: RouteAccess;
  /** The audit action name. */
  action: string;
  /** Facts from the body worth keeping in the audit entry (never a secret). */
  detail?: (body: Record<string, unknown>) => Record<string, unknown>;
}

const pick =
  (...keys: string[]) =>
  (body: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(keys.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));

const A = '/v1/admin';

/**
 * Every operator route that is not a plain read. A GET not listed here needs
 * `read`; any other method not listed needs a permission only admin has
 * (`unlisted`), so a new route is closed until it is given a rule.
 */
export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = {
  [`POST ${A}/enrollment-tokens`]: {
    access: 'devices.enroll',
    action: 'enrollment_tokens.create',
    detail: pick('label', 'merchant', 'location', 'event', 'ttlSeconds'),
  },
  [`POST ${A}/devices/:id/revoke`]: { access: 'devices.revoke', action: 'devices.revoke', detail: pick('reason') },
  [`POST ${A}/devices/:id/placement`]: {
    access: 'devices.place',
    action: 'devices.place',
    detail: pick('merchant', 'location', 'event'),
  },
  [`POST ${A}/policies`]: { access: 'policies.write', action: 'policies.issue', detail: pick('scope', 'currency') },
  // Validates a draft and previews its bound; issues nothing, so whoever may read policies may ask.
  [`POST ${A}/policies/dry-run`]: { access: 'read', action: 'policies.dry_run', detail: pick('scope', 'currency') },
  [`POST ${A}/server-keys/rotate`]: { access: 'accounts.manage', action: 'server_keys.rotate' },
  [`PUT ${A}/betting`]: { access: 'betting.write', action: 'betting.set' },
  [`POST ${A}/events/:event/results`]: {
    access: 'betting.results',
    action: 'betting.results',
    detail: pick('results'),
  },
  [`POST ${A}/exceptions/:id/actions`]: {
    access: 'exceptions.act',
    action: 'exceptions.act',
    detail: pick('action', 'amount', 'note'),
  },
  [`POST ${A}/wallets/:uid/unblock`]: { access: 'wallets.act', action: 'wallets.unblock', detail: pick('reason') },
  // Loyalty members (docs/loyalty.md). The code outbox holds live one-time codes: loyalty managers only.
  [`GET ${A}/loyalty/outbox`]: { access: 'loyalty.manage', action: 'loyalty.outbox' },
  [`POST ${A}/loyalty/members`]: { access: 'loyalty.manage', action: 'loyalty.create_member', detail: pick('member') },
  [`POST ${A}/loyalty/members/:member/adjust`]: {
    access: 'loyalty.manage',
    action: 'loyalty.adjust',
    detail: pick('points', 'reason', 'id'),
  },
  // Staff rosters at the tills (a PIN or badge in a body is never kept in the audit entry).
  [`POST ${A}/staff`]: { access: 'staff.manage', action: 'staff.add', detail: pick('location', 'id', 'name', 'role') },
  [`PATCH ${A}/staff/:id`]: { access: 'staff.manage', action: 'staff.change', detail: pick('role', 'name') },
  [`POST ${A}/staff/:id/pin`]: { access: 'staff.manage', action: 'staff.set_pin' },
  [`POST ${A}/staff/:id/badge`]: { access: 'staff.manage', action: 'staff.set_badge' },
  [`DELETE ${A}/staff/:id`]: { access: 'staff.manage', action: 'staff.remove' },
  // Catalog and price lists (docs/catalog-and-stock.md).
  [`PUT ${A}/catalog/items`]: { access: 'catalog.write', action: 'catalog.items' },
  [`POST ${A}/price-lists`]: {
    access: 'catalog.write',
    action: 'catalog.publish',
    detail: pick('location', 'currency', 'from', 'until'),
  },
  // Tax rates per catalog tax category, read by the reports (docs/reports.md).
  [`PUT ${A}/catalog/tax-rates`]: { access: 'catalog.write', action: 'catalog.tax_rates', detail: pick('rates') },
  // E-invoicing (docs/e-invoicing.md).
  [`POST ${A}/fiscal/bills/:opId/actions`]: {
    access: 'fiscal.manage',
    action: 'fiscal.bill_action',
    detail: pick('action', 'note', 'sellerTaxId'),
  },
  [`PUT ${A}/fiscal/jurisdictions/:location`]: {
    access: 'fiscal.manage',
    action: 'fiscal.set_jurisdiction',
    detail: pick('jurisdiction'),
  },
  // Accounts (admin).
  [`GET ${A}/operators`]: { access: 'accounts.manage', action: 'accounts.list' },
  [`POST ${A}/operators`]: { access: 'accounts.manage', action: 'accounts.create', detail: pick('username', 'role') },
  [`POST ${A}/operators/:id/role`]: { access: 'accounts.manage', action: 'accounts.set_role', detail: pick('role') },
  [`POST ${A}/operators/:id/password`]: { access: 'accounts.manage', action: 'accounts.reset_password' },
  [`POST ${A}/operators/:id/disable`]: { access: 'accounts.manage', action: 'accounts.disable' },
  [`POST ${A}/operators/:id/enable`]: { access: 'accounts.manage', action: 'accounts.enable' },
  // The caller's own session and tokens.
  [`POST ${A}/session`]: { access: 'public', action: 'login' },
  [`GET ${A}/session`]: { access: 'self', action: 'session.read' },
  [`DELETE ${A}/session`]: { access: 'self', action: 'logout' },
  [`POST ${A}/session/password`]: { access: 'self', action: 'password.change' },
  [`GET ${A}/tokens`]: { access: 'self', action: 'tokens.list' },
  [`POST ${A}/tokens`]: { access: 'self', action: 'tokens.create', detail: pick('name', 'role', 'expiresAt', 'owner') },
  [`POST ${A}/tokens/:id/revoke`]: { access: 'self', action: 'tokens.revoke' },
  // The audit log.
  [`GET ${A}/audit`]: { access: 'audit.read', action: 'audit.read' },
};

/** The permission for an unsafe route without a rule: only admin has every permission. */
const UNLISTED: Permission = 'accounts.manage';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function ruleOf(method: string, url: string | undefined): RouteRule {
  const listed = url === undefined ? undefined : ROUTE_RULES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
  if (listed) return listed;
  const name = `${method} ${url ?? '(no route)'}`;
  return SAFE_METHODS.has(method) ? { access: 'read', action: name } : { access: UNLISTED, action: name };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated operator (set by the access hook). */
    operator?: Principal;
    /** Set by a route that audits on its own terms (login): the actor when there is no principal. */
    auditActor?: { actor: string; name: string | null; role: OperatorRole | null };
    /** What the route acted on, when it is not the `:id`/`:uid` parameter. */
    auditTarget?: string;
    auditDetail?: Record<string, unknown>;
  }
}

/** The request's cookies (a plain `name=value; …` parse: the only cookies read are our own). */
export function cookiesOf(request: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  const header = request.headers.cookie;
  if (typeof header !== 'string') return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

const BOOTSTRAP: Omit<Principal, 'role'> & { role: 'admin' } = {
  kind: 'bootstrap',
  actor: 'bootstrap',
  name: 'bootstrap',
  role: 'admin',
  credentialId: null,
};

export interface OperatorAccessOptions {
  accounts: OperatorAccounts;
  bootstrap: BootstrapTokens;
}

/** The caller of `request`, or a ProtocolError: unauthorized, session_expired, csrf_failed. */
async function authenticate(request: FastifyRequest, options: OperatorAccessOptions): Promise<Principal> {
  const header = request.headers.authorization;
  let secret: string | undefined;
  let viaCookie = false;
  if (typeof header === 'string') {
    secret = /^Bearer (.+)$/.exec(header)?.[1];
  } else {
    secret = cookiesOf(request).get(SESSION_COOKIE);
    viaCookie = secret !== undefined;
  }
  if (!secret) {
    throw new ProtocolError(
      'unauthorized',
      'operator endpoints need "Authorization: Bearer <token>" (the bootstrap token, a session or an API token) or a session cookie',
    );
  }
  let principal: Principal | null;
  if (!viaCookie && options.bootstrap.matches(secret)) principal = { ...BOOTSTRAP };
  else principal = await options.accounts.authenticate(secret);
  if (!principal || (viaCookie && principal.kind !== 'session')) {
    throw new ProtocolError(
      'unauthorized',
      'unknown operator token: send "Authorization: Bearer <token>" with a valid one',
    );
  }
  if (viaCookie && !SAFE_METHODS.has(request.method)) {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameSecret(sent, csrfTokenOf(secret))) {
      throw new ProtocolError(
        'csrf_failed',
        `a request authenticated by the session cookie must send the session's CSRF token in ${CSRF_HEADER}`,
        { field: `headers.${CSRF_HEADER}` },
      );
    }
  }
  return principal;
}

/** Throws forbidden unless `principal` may use a route of `access`. */
export function requireAccess(principal: Principal, access: RouteAccess): void {
  if (access === 'self' || access === 'public') return;
  if (roleMay(principal.role, access)) return;
  const roles = rolesWith(access);
  throw new ProtocolError(
    'forbidden',
    `role ${principal.role} may not do this (${access}): it needs role ${roles.join(' or ')}`,
    { rule: `role ${roles.join(' | ')}` },
  );
}

function outcomeOf(reply: FastifyReply, payload: unknown): string {
  if (reply.statusCode < 400) return 'ok';
  if (typeof payload === 'string') {
    try {
      const code = (JSON.parse(payload) as { code?: unknown }).code;
      if (typeof code === 'string') return code;
    } catch {
      // not JSON: the status says enough
    }
  }
  return `http_${reply.statusCode}`;
}

/** Each app's operator routes (`METHOD url`) as registered, for the check that every unsafe one has a rule. */
const registered = new WeakMap<object, string[]>();

/** The operator routes registered on `app` (after operatorAccess), as `METHOD /v1/admin/…`. */
export function operatorRoutesOf(app: FastifyInstance): readonly string[] {
  return registered.get(app.server) ?? [];
}

/** True if `METHOD url` has its own entry in ROUTE_RULES (a GET needs none). */
export function hasRule(route: string): boolean {
  return route.startsWith('GET ') || route.startsWith('HEAD ') || Object.hasOwn(ROUTE_RULES, route);
}

/** Installs the access and audit hooks on the operator scope `admin`. */
export function operatorAccess(admin: FastifyInstance, options: OperatorAccessOptions): void {
  const routes: string[] = [];
  registered.set(admin.server, routes);
  admin.addHook('onRoute', (route) => {
    for (const method of ([] as string[]).concat(route.method)) routes.push(`${method} ${route.url}`);
  });
  admin.addHook('onRequest', async (request) => {
    const rule = ruleOf(request.method, request.routeOptions.url);
    if (rule.access === 'public') return;
    request.operator = await authenticate(request, options);
    requireAccess(request.operator, rule.access);
  });

  admin.addHook('onSend', async (request, reply, payload) => {
    if (SAFE_METHODS.has(request.method)) return payload;
    const principal = request.operator;
    const who = principal ? { actor: principal.actor, name: principal.name, role: principal.role } : request.auditActor;
    if (!who) return payload; // not authenticated: nothing was done, and nobody to name
    const rule = ruleOf(request.method, request.routeOptions.url);
    const params = (request.params ?? {}) as Record<string, unknown>;
    const body =
      request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
    const target = request.auditTarget ?? (typeof params.id === 'string' ? params.id : undefined) ?? params.uid;
    const detail = { ...(rule.detail?.(body) ?? {}), ...request.auditDetail };
    const entry = {
      actor: who.actor,
      actorName: who.name,
      role: who.role,
      action: rule.action,
      target: typeof target === 'string' ? target : null,
      outcome: outcomeOf(reply, payload),
      requestId: request.id,
      source: request.ip,
      detail: Object.keys(detail).length > 0 ? detail : null,
    };
    try {
      await options.accounts.audit(entry);
    } catch (error) {
      // The action stands (it was applied); the entry goes to the log so it is not lost.
      request.log.error({ err: error, audit: entry }, 'audit entry not stored');
    }
    return payload;
  });
}
