/**
 * Operator accounts over HTTP, inside the `/v1/admin` scope (access and
 * audit: operator-access.ts; the wire: docs/protocol.md "Operator auth"):
 *
 *   POST   /session                  login {username, password, cookie?}   public, rate-limited
 *   GET    /session                  who am I, with my permissions
 *   DELETE /session                  logout (the session ends; cookies cleared)
 *   POST   /session/password         change my password {current, password}
 *   GET    /tokens[?all=true]        my API tokens (all: everyone's, admin)
 *   POST   /tokens                   create {name, role?, expiresAt?, owner?}: the secret, shown once
 *   POST   /tokens/:id/revoke        revoke (mine; an admin's: anyone's)
 *   GET    /operators                accounts (admin)
 *   POST   /operators                create {username, role, password} (admin)
 *   POST   /operators/:id/role       {role} (admin; :id is an id or a username)
 *   POST   /operators/:id/password   reset {password} (admin)
 *   POST   /operators/:id/disable | /enable (admin)
 *   GET    /audit                    the audit log (auditor, admin)
 */
import { ProtocolError, schema as s } from '@holdfast/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OPERATOR_ROLES, ROLE_PERMISSIONS, roleMay } from '../model/operator.js';
import type { OperatorAccounts, Principal } from '../services/operator-accounts.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './operator-access.js';
import { intQuery } from './params.js';

export const loginSchema = s.object({
  username: s.string({ minLength: 1, maxLength: 64 }),
  password: s.string({ minLength: 1, maxLength: 1024 }),
  /** true: the session is set as an HttpOnly cookie (the browser console) and left out of the body. */
  cookie: s.optional(s.boolean()),
});
export const passwordChangeSchema = s.object({
  current: s.string({ minLength: 1, maxLength: 1024 }),
  password: s.string({ minLength: 1, maxLength: 1024 }),
});
export const createOperatorSchema = s.object({
  username: s.string({ minLength: 1, maxLength: 64 }),
  role: s.oneOf(OPERATOR_ROLES),
  password: s.string({ minLength: 1, maxLength: 1024 }),
});
export const roleSchema = s.object({ role: s.oneOf(OPERATOR_ROLES) });
export const resetSchema = s.object({ password: s.string({ minLength: 1, maxLength: 1024 }) });
export const createTokenSchema = s.object({
  name: s.string({ minLength: 1, maxLength: 100 }),
  role: s.optional(s.oneOf(OPERATOR_ROLES)),
  /** Epoch ms; absent: never expires. */
  expiresAt: s.optional(s.int({ min: 946_684_800_000, max: 7_258_118_400_000 })),
  /** Username or id of the owner: only an admin may create a token for someone else (the bootstrap token must). */
  owner: s.optional(s.string({ minLength: 1, maxLength: 64 })),
});

const idParam = (request: FastifyRequest): string =>
  s.string({ minLength: 1, maxLength: 64 }).parse((request.params as { id?: unknown }).id, 'id');

function caller(request: FastifyRequest): Principal {
  if (!request.operator) throw new ProtocolError('unauthorized', 'not signed in');
  return request.operator;
}

function setCookies(request: FastifyRequest, reply: FastifyReply, session: string, csrf: string, maxAgeMs: number) {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  const age = Math.max(0, Math.floor(maxAgeMs / 1000));
  void reply.header('set-cookie', [
    `${SESSION_COOKIE}=${session}; Path=/v1/; HttpOnly; SameSite=Strict; Max-Age=${age}${secure}`,
    `${CSRF_COOKIE}=${csrf}; Path=/; SameSite=Strict; Max-Age=${age}${secure}`,
  ]);
}

function clearCookies(request: FastifyRequest, reply: FastifyReply) {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  void reply.header('set-cookie', [
    `${SESSION_COOKIE}=; Path=/v1/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`,
    `${CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0${secure}`,
  ]);
}

/** A query filter value, or undefined; invalid_request naming it when it is not a short string. */
function textQuery(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  return s.string({ minLength: 1, maxLength: 200 }).parse(raw, `query.${name}`);
}

export function operatorRoutes(admin: FastifyInstance, accounts: OperatorAccounts, now: () => number): void {
  admin.post('/session', async (request, reply) => {
    const body = loginSchema.parse(request.body ?? {}, 'body');
    const username = body.username.toLowerCase();
    // A refusal while locked is not audited (it checks no password, and would let anyone flood the log).
    accounts.limiter.check(username, request.ip, now());
    request.auditActor = { actor: 'anonymous', name: username, role: null };
    const result = await accounts.login(body, request.ip).catch((error: unknown) => {
      // Refused before any password was checked (too many checks at once): nothing to audit.
      if (error instanceof ProtocolError && error.code === 'overloaded') delete request.auditActor;
      throw error;
    });
    request.auditActor = { actor: result.operator.id, name: result.operator.username, role: result.operator.role };
    request.auditTarget = result.operator.id;
    const { session, ...rest } = result;
    if (body.cookie === true) {
      setCookies(request, reply, session, result.csrfToken, result.expiresAt - now());
      return rest;
    }
    return result;
  });

  admin.get('/session', async (request) => {
    const p = caller(request);
    return { kind: p.kind, actor: p.actor, username: p.name, role: p.role, permissions: ROLE_PERMISSIONS[p.role] };
  });

  admin.delete('/session', async (request, reply) => {
    const ended = await accounts.logout(caller(request));
    clearCookies(request, reply);
    return { ended };
  });

  admin.post('/session/password', async (request, reply) => {
    const body = passwordChangeSchema.parse(request.body ?? {}, 'body');
    const operator = await accounts.changePassword(caller(request), body.current, body.password);
    clearCookies(request, reply);
    return { operator, sessionsEnded: true };
  });

  // API tokens.

  admin.get('/tokens', async (request) => {
    const p = caller(request);
    const all = (request.query as Record<string, unknown>).all === 'true';
    if (all && !roleMay(p.role, 'accounts.manage')) {
      throw new ProtocolError('forbidden', "listing every operator's tokens needs role admin", { rule: 'role admin' });
    }
    return { tokens: await accounts.listTokens(all ? null : p.actor) };
  });

  admin.post('/tokens', async (request) => {
    const p = caller(request);
    const body = createTokenSchema.parse(request.body ?? {}, 'body');
    const manage = roleMay(p.role, 'accounts.manage');
    let owner: Awaited<ReturnType<OperatorAccounts['find']>>;
    if (body.owner !== undefined) {
      owner = await accounts.find(body.owner);
      if (owner.id !== p.actor && !manage) {
        throw new ProtocolError('forbidden', 'creating a token for another operator needs role admin', {
          field: 'owner',
          rule: 'role admin',
        });
      }
    } else if (p.kind === 'bootstrap') {
      throw new ProtocolError('invalid_request', "the bootstrap token has no account: name the token's owner", {
        field: 'owner',
      });
    } else {
      owner = await accounts.find(p.actor);
    }
    const created = await accounts.createToken(owner, body);
    request.auditTarget = created.info.id;
    request.auditDetail = { owner: owner.username, role: created.info.role };
    return { token: created.token, ...created.info };
  });

  admin.post('/tokens/:id/revoke', async (request) => {
    const p = caller(request);
    return accounts.revokeToken(idParam(request), p, roleMay(p.role, 'accounts.manage'));
  });

  // Accounts (admin: the rule of each route is in operator-access.ts).

  admin.get('/operators', async () => ({ operators: await accounts.list() }));

  admin.post('/operators', async (request) => {
    const body = createOperatorSchema.parse(request.body ?? {}, 'body');
    const created = await accounts.create(body);
    request.auditTarget = created.id;
    return created;
  });

  admin.post('/operators/:id/role', async (request) => {
    const { role } = roleSchema.parse(request.body ?? {}, 'body');
    const before = await accounts.find(idParam(request));
    request.auditTarget = before.id;
    request.auditDetail = { from: before.role, role };
    return accounts.setRole(before.id, role);
  });

  admin.post('/operators/:id/password', async (request) => {
    const { password } = resetSchema.parse(request.body ?? {}, 'body');
    const changed = await accounts.resetPassword(idParam(request), password);
    request.auditTarget = changed.id;
    return changed;
  });

  admin.post('/operators/:id/disable', async (request) => {
    const changed = await accounts.disable(idParam(request));
    request.auditTarget = changed.id;
    return changed;
  });

  admin.post('/operators/:id/enable', async (request) => {
    const changed = await accounts.enable(idParam(request));
    request.auditTarget = changed.id;
    return changed;
  });

  admin.get('/audit', async (request) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const after = intQuery(q, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = intQuery(q, 'limit', { min: 1, max: 1000, fallback: 100 });
    const from =
      q.from === undefined ? undefined : intQuery(q, 'from', { min: 0, max: 7_258_118_400_000, fallback: 0 });
    const to = q.to === undefined ? undefined : intQuery(q, 'to', { min: 0, max: 7_258_118_400_000, fallback: 0 });
    const filter = {
      after,
      limit,
      ...(textQuery(q, 'actor') !== undefined ? { actor: textQuery(q, 'actor') as string } : {}),
      ...(textQuery(q, 'action') !== undefined ? { action: textQuery(q, 'action') as string } : {}),
      ...(textQuery(q, 'outcome') !== undefined ? { outcome: textQuery(q, 'outcome') as string } : {}),
      ...(textQuery(q, 'target') !== undefined ? { target: textQuery(q, 'target') as string } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    };
    return accounts.auditLog(filter);
  });
}
