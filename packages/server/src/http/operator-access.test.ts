/**
 * Operators in the back office through HTTP (Fastify inject, SQLite in
 * memory, the harness's ManualClock): each role against representative
 * endpoints (403 naming the roles needed, or through), login with its
 * lock-outs, session expiry and logout, the cookie session with CSRF, API
 * tokens, account management, and the audit entries all of it leaves.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuditRow, OperatorRole, OperatorView } from '../model/operator.js';
import type { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createHarness, type Harness, OPERATOR_PASSWORD } from '../testing/harness.js';
import { hasRule, operatorRoutesOf, ruleOf } from './operator-access.js';

const MIN = 60_000;
const DEVICE = '01900000-0000-7000-8000-000000000001';
const ROLES: OperatorRole[] = ['viewer', 'operator', 'supervisor', 'admin', 'auditor'];

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

type Headers = Record<string, string>;

async function login(h: Harness, username: string, password = OPERATOR_PASSWORD, ip = '127.0.0.1') {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/session',
    payload: { username, password },
    remoteAddress: ip,
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

async function audit(h: Harness, query = ''): Promise<AuditRow[]> {
  const res = await h.request<{ items: AuditRow[] }>('GET', `/v1/admin/audit${query}`, { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items;
}

/**
 * Representative endpoints, with the roles that may call each (written out
 * here, not derived from the matrix, so a change to the matrix must change
 * this table too). A caller with the right gets past the check: 200, or the
 * endpoint's own answer to the (deliberately unknown or invalid) input.
 */
const ENDPOINTS: { method: 'GET' | 'POST' | 'PUT'; url: string; payload?: unknown; allowed: OperatorRole[] }[] = [
  { method: 'GET', url: '/v1/admin/devices', allowed: ['viewer', 'operator', 'supervisor', 'admin', 'auditor'] },
  { method: 'GET', url: '/v1/admin/ledger', allowed: ['viewer', 'operator', 'supervisor', 'admin', 'auditor'] },
  { method: 'GET', url: '/v1/admin/exceptions', allowed: ['viewer', 'operator', 'supervisor', 'admin', 'auditor'] },
  { method: 'GET', url: '/v1/admin/audit', allowed: ['admin', 'auditor'] },
  { method: 'GET', url: '/v1/admin/operators', allowed: ['admin'] },
  {
    method: 'POST',
    url: '/v1/admin/enrollment-tokens',
    payload: { label: 'till' },
    allowed: ['operator', 'supervisor', 'admin'],
  },
  {
    method: 'POST',
    url: `/v1/admin/devices/${DEVICE}/placement`,
    payload: { merchant: 'acme', location: null, event: null },
    allowed: ['operator', 'supervisor', 'admin'],
  },
  {
    method: 'POST',
    url: `/v1/admin/devices/${DEVICE}/revoke`,
    payload: { reason: 'lost' },
    allowed: ['supervisor', 'admin'],
  },
  {
    method: 'POST',
    url: `/v1/admin/exceptions/${DEVICE}/actions`,
    payload: { action: 'contacted', note: 'called' },
    allowed: ['supervisor', 'admin'],
  },
  {
    method: 'POST',
    url: '/v1/admin/wallets/04A1B2C3D4E5F6/unblock',
    payload: { reason: 'checked' },
    allowed: ['supervisor', 'admin'],
  },
  { method: 'POST', url: '/v1/admin/policies', payload: {}, allowed: ['admin'] },
  { method: 'PUT', url: '/v1/admin/betting', payload: {}, allowed: ['admin'] },
  {
    method: 'POST',
    url: '/v1/admin/operators',
    payload: { username: 'x', role: 'viewer', password: 'short' },
    allowed: ['admin'],
  },
];

describe('operator roles', () => {
  it('every role × representative endpoint: 403 forbidden naming the roles needed, or through', () =>
    withHarness(async (h) => {
      const sessions = new Map<OperatorRole, Headers>();
      for (const role of ROLES) sessions.set(role, await h.operator(`${role}-1`, role));
      for (const e of ENDPOINTS) {
        for (const role of ROLES) {
          const res = await h.request(e.method, e.url, {
            headers: sessions.get(role) as Headers,
            ...(e.payload !== undefined ? { payload: e.payload } : {}),
          });
          const what = `${role} ${e.method} ${e.url}: ${res.status} ${JSON.stringify(res.body)}`;
          if (e.allowed.includes(role)) {
            assert.ok(res.status !== 403 && res.status !== 401, what);
          } else {
            assert.equal(res.status, 403, what);
            assert.equal(res.error.code, 'forbidden', what);
            assert.match(res.error.message, new RegExp(`needs role ${e.allowed.join(' or ')}`), what);
          }
        }
      }
      // The bootstrap token acts as admin.
      for (const e of ENDPOINTS) {
        const res = await h.request(e.method, e.url, { admin: true, ...(e.payload ? { payload: e.payload } : {}) });
        assert.ok(res.status !== 403 && res.status !== 401, `${e.method} ${e.url}: ${res.status}`);
      }
    }));

  it('every unsafe operator route has its own rule (a new one fails here until it is given one)', () =>
    withHarness(async (h) => {
      await h.app.ready();
      const routes = operatorRoutesOf(h.app);
      assert.ok(routes.includes('POST /v1/admin/devices/:id/revoke'), routes.join(', '));
      assert.deepEqual(
        routes.filter((r) => !hasRule(r)),
        [],
      );
      assert.equal(hasRule('POST /v1/admin/some-new-thing'), false);
    }));

  it('an unsafe route without a rule is closed to all but admin; a GET without one needs read', () => {
    assert.equal(ruleOf('POST', '/v1/admin/some-new-thing').access, 'accounts.manage');
    assert.equal(ruleOf('DELETE', '/v1/admin/devices/:id').access, 'accounts.manage');
    assert.equal(ruleOf('GET', '/v1/admin/some-new-view').access, 'read');
    assert.equal(ruleOf('HEAD', '/v1/admin/audit').access, 'audit.read');
  });

  it('a refusal by role is audited with the actor and outcome forbidden; nothing is done', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const viewer = await h.operator('vera', 'viewer');
      const res = await h.request('POST', `/v1/admin/devices/${d.id}/revoke`, {
        headers: viewer,
        payload: { reason: 'not mine to revoke' },
      });
      assert.deepEqual([res.status, res.error.code, res.error.rule], [403, 'forbidden', 'role supervisor | admin']);
      assert.equal((await h.storage.getDevice(d.id))?.revokedAt, null);
      const [entry] = await audit(h, '?action=devices.revoke');
      assert.deepEqual(
        [entry?.actorName, entry?.role, entry?.target, entry?.outcome, entry?.detail],
        // Refused before the body is read: no detail from it.
        ['vera', 'viewer', d.id, 'forbidden', null],
      );
    }));
});

describe('password login', () => {
  it('logs in to a session usable as a bearer token; wrong password and unknown user get one answer', () =>
    withHarness(async (h) => {
      await h.operator('ana', 'supervisor');
      const ok = await login(h, 'ANA');
      assert.equal(ok.status, 200);
      assert.match(ok.body.session, /^hfs_[A-Za-z0-9_-]{43}$/);
      assert.equal(ok.body.operator.username, 'ana');
      assert.equal(ok.body.operator.passwordHash, undefined);
      assert.equal(ok.body.expiresAt, h.clock.now() + 12 * 60 * MIN);
      const me = await h.request<{ username: string; role: string }>('GET', '/v1/admin/session', {
        headers: { authorization: `Bearer ${ok.body.session}` },
      });
      assert.deepEqual([me.status, me.body.username, me.body.role], [200, 'ana', 'supervisor']);
      // Only the hash is stored.
      const stored = await h.storage.operatorSessionByHash(createHash('sha256').update(ok.body.session).digest('hex'));
      assert.equal(stored?.operatorId, ok.body.operator.id);

      const wrong = await login(h, 'ana', 'not the password at all');
      const unknown = await login(h, 'nobody', OPERATOR_PASSWORD);
      for (const r of [wrong, unknown]) {
        assert.deepEqual([r.status, r.body.code], [401, 'invalid_credentials']);
        assert.equal(r.body.message, 'wrong username or password, or the account is disabled');
      }
      const entries = await audit(h, '?action=login');
      assert.deepEqual(
        entries.map((e) => [e.actorName, e.outcome]),
        [
          ['ana', 'ok'], // the harness's own login
          ['ana', 'ok'],
          ['ana', 'invalid_credentials'],
          ['nobody', 'invalid_credentials'],
        ],
      );
      assert.equal(entries[2]?.actor, 'anonymous');
      assert.equal(entries[2]?.source, '127.0.0.1');
    }));

  it('locks an account after 5 failures: login_locked with the time left, even with the right password', () =>
    withHarness(async (h) => {
      await h.operator('ben', 'operator');
      for (let i = 0; i < 4; i++) assert.equal((await login(h, 'ben', `wrong password ${i}`)).status, 401);
      const fifth = await login(h, 'ben', 'wrong password 5');
      assert.deepEqual([fifth.status, fifth.body.code, fifth.body.retryable], [429, 'login_locked', true]);
      assert.equal(fifth.body.retryAfterMs, 15 * MIN);
      assert.equal(fifth.headers['retry-after'], '900');
      h.clock.advance(5 * MIN);
      const right = await login(h, 'ben');
      assert.deepEqual([right.status, right.body.code, right.body.retryAfterMs], [429, 'login_locked', 10 * MIN]);
      // Another account from the same source is not locked by ben's failures.
      await h.operator('cyd', 'viewer');
      assert.equal((await login(h, 'cyd')).status, 200);
      h.clock.advance(10 * MIN);
      assert.equal((await login(h, 'ben')).status, 200);
      // Locked refusals are not audited (they check no password); the failures and the lock are.
      const outcomes = (await audit(h, '?action=login&actor=ben')).map((e) => e.outcome);
      assert.deepEqual(outcomes, ['ok', ...Array(4).fill('invalid_credentials'), 'login_locked', 'ok']);
    }));

  it('locks a source after 20 failures over any accounts; other sources still log in', () =>
    withHarness(async (h) => {
      await h.operator('dana', 'viewer');
      for (let i = 0; i < 19; i++) {
        assert.equal((await login(h, `guess-${i}`, 'password guess 1', '192.0.2.7')).status, 401);
      }
      const twentieth = await login(h, 'guess-x', 'password guess 1', '192.0.2.7');
      assert.deepEqual([twentieth.status, twentieth.body.code], [429, 'login_locked']);
      assert.match(twentieth.body.message, /source 192\.0\.2\.7/);
      assert.equal((await login(h, 'dana', OPERATOR_PASSWORD, '192.0.2.7')).body.code, 'login_locked');
      assert.equal((await login(h, 'dana', OPERATOR_PASSWORD, '192.0.2.8')).status, 200);
    }));

  it('bounds the failure maps: a flood of usernames keeps at most maxEntries keys', () =>
    withHarness(async (h) => {
      const limiter = h.service.operators.limiter;
      for (let i = 0; i < 10_050; i++) limiter.accounts.fail(`user-${i}`, h.clock.now());
      assert.equal(limiter.accounts.size, 10_000);
    }));

  it('refuses a bad body naming the field, unaudited', () =>
    withHarness(async (h) => {
      const res = await h.request('POST', '/v1/admin/session', { payload: { username: 'ana' } });
      assert.deepEqual([res.status, res.error.code, res.error.field], [400, 'invalid_request', 'body.password']);
      assert.deepEqual(await audit(h, '?action=login'), []);
    }));
});

describe('sessions', () => {
  it('end after 30 minutes idle, and at the absolute expiry however busy', () =>
    withHarness(async (h) => {
      const idle = await h.operator('ida', 'viewer');
      const get = (headers: Headers) => h.request('GET', '/v1/admin/devices', { headers });
      assert.equal((await get(idle)).status, 200);
      h.clock.advance(29 * MIN);
      assert.equal((await get(idle)).status, 200); // used: the idle clock starts again
      h.clock.advance(30 * MIN);
      const expired = await get(idle);
      assert.deepEqual([expired.status, expired.error.code], [401, 'session_expired']);
      assert.match(expired.error.message, /idle/);

      const busy = await h.operator('bea', 'viewer');
      for (let t = 0; t < 12 * 60 - 20; t += 20) {
        h.clock.advance(20 * MIN);
        assert.equal((await get(busy)).status, 200, `at ${t + 20} min`);
      }
      h.clock.advance(20 * MIN);
      const absolute = await get(busy);
      assert.deepEqual([absolute.status, absolute.error.code], [401, 'session_expired']);
      assert.match(absolute.error.message, /absolute/);
    }));

  it('logout ends the session; it cannot be used again', () =>
    withHarness(async (h) => {
      const headers = await h.operator('lou', 'viewer');
      const out = await h.request<{ ended: boolean }>('DELETE', '/v1/admin/session', { headers });
      assert.deepEqual([out.status, out.body.ended], [200, true]);
      const after = await h.request('GET', '/v1/admin/devices', { headers });
      assert.deepEqual([after.status, after.error.code], [401, 'session_expired']);
      const [entry] = await audit(h, '?action=logout');
      assert.deepEqual([entry?.actorName, entry?.outcome], ['lou', 'ok']);
    }));
});

describe('cookie sessions and CSRF', () => {
  it('sets an HttpOnly SameSite=Strict cookie; unsafe cookie requests need the CSRF header, bearer ones do not', () =>
    withHarness(async (h) => {
      await h.operator('oli', 'operator');
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/admin/session',
        payload: { username: 'oli', password: OPERATOR_PASSWORD, cookie: true },
      });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { session?: string; csrfToken: string };
      assert.equal(body.session, undefined, 'the session stays out of reach of scripts');
      const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      const session = cookies.find((c) => c.startsWith('holdfast_session='));
      assert.ok(session);
      assert.match(session, /HttpOnly/);
      assert.match(session, /SameSite=Strict/);
      assert.doesNotMatch(session, /Secure/, 'plain HTTP: no Secure flag');
      const value = /holdfast_session=([^;]+)/.exec(session)?.[1] as string;
      const cookie = `holdfast_session=${value}`;

      const read = await h.app.inject({ method: 'GET', url: '/v1/admin/devices', headers: { cookie } });
      assert.equal(read.statusCode, 200);
      const post = (headers: Headers) =>
        h.app.inject({ method: 'POST', url: '/v1/admin/enrollment-tokens', headers, payload: { label: 'x' } });
      for (const headers of [{ cookie }, { cookie, 'x-csrf-token': 'forged' }]) {
        const refused = await post(headers);
        assert.deepEqual([refused.statusCode, refused.json().code], [403, 'csrf_failed']);
      }
      assert.equal(
        (h.storage as SqliteStorage).query<{ n: number }>('SELECT count(*) AS n FROM enrollment_tokens')[0]?.n,
        0,
      );
      assert.equal((await post({ cookie, 'x-csrf-token': body.csrfToken })).statusCode, 200);
      assert.equal((await post({ authorization: `Bearer ${value}` })).statusCode, 200);
      // The bootstrap token is never a cookie.
      const bootstrapCookie = await h.app.inject({
        method: 'GET',
        url: '/v1/admin/devices',
        headers: { cookie: `holdfast_session=${h.adminHeaders.authorization.slice(7)}` },
      });
      assert.equal(bootstrapCookie.statusCode, 401);
    }));
});

describe('API tokens', () => {
  it('are shown once, stored hashed, carry a narrower role, expire and can be revoked', () =>
    withHarness(async (h) => {
      const sup = await h.operator('sam', 'supervisor');
      const created = await h.request<{ token: string; id: string; role: string; tokenHash?: string }>(
        'POST',
        '/v1/admin/tokens',
        { headers: sup, payload: { name: 'dashboard', role: 'viewer', expiresAt: h.clock.now() + 60 * MIN } },
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.match(created.body.token, /^hft_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.tokenHash, undefined);
      const bearer = { authorization: `Bearer ${created.body.token}` };
      assert.equal((await h.request('GET', '/v1/admin/devices', { headers: bearer })).status, 200);
      const refused = await h.request('POST', '/v1/admin/enrollment-tokens', { headers: bearer, payload: {} });
      assert.deepEqual([refused.status, refused.error.code], [403, 'forbidden']);

      const listed = await h.request<{ tokens: Record<string, unknown>[] }>('GET', '/v1/admin/tokens', {
        headers: sup,
      });
      assert.deepEqual(
        listed.body.tokens.map((t) => [t.name, t.role, 'token' in t || 'tokenHash' in t]),
        [['dashboard', 'viewer', false]],
      );
      const row = await h.storage.apiTokenByHash(createHash('sha256').update(created.body.token).digest('hex'));
      assert.equal(row?.id, created.body.id);

      const broader = await h.request('POST', '/v1/admin/tokens', {
        headers: sup,
        payload: { name: 'x', role: 'admin' },
      });
      assert.deepEqual([broader.status, broader.error.code, broader.error.field], [403, 'forbidden', 'role']);

      h.clock.advance(61 * MIN);
      const expired = await h.request('GET', '/v1/admin/devices', { headers: bearer });
      assert.deepEqual([expired.status, expired.error.code], [401, 'unauthorized']);
      assert.match(expired.error.message, /expired/);

      const sam = { authorization: `Bearer ${(await login(h, 'sam')).body.session}` }; // the first one went idle
      const sup2 = await h.operator('sue', 'supervisor');
      const second = await h.request<{ token: string; id: string }>('POST', '/v1/admin/tokens', {
        headers: sup2,
        payload: { name: 'script' },
      });
      const other = await h.request('POST', `/v1/admin/tokens/${second.body.id}/revoke`, { headers: sam });
      assert.deepEqual([other.status, other.error.code], [404, 'not_found'], "sam cannot revoke sue's token");
      const revoked = await h.request('POST', `/v1/admin/tokens/${second.body.id}/revoke`, { headers: sup2 });
      assert.equal(revoked.status, 200);
      const after = await h.request('GET', '/v1/admin/devices', {
        headers: { authorization: `Bearer ${second.body.token}` },
      });
      assert.deepEqual([after.status, after.error.code], [401, 'unauthorized']);
      assert.match(after.error.message, /revoked/);

      const actions = (await audit(h, '?action=tokens.create')).map((e) => [e.actorName, e.outcome, e.detail?.role]);
      assert.deepEqual(actions, [
        ['sam', 'ok', 'viewer'],
        ['sam', 'forbidden', 'admin'],
        ['sue', 'ok', 'supervisor'],
      ]);
    }));
});

describe('accounts', () => {
  it('admin sets roles, resets passwords and disables; sessions and tokens follow', () =>
    withHarness(async (h) => {
      const admin = await h.operator('ada', 'admin');
      const op = await h.operator('otto', 'supervisor');
      const token = await h.request<{ token: string }>('POST', '/v1/admin/tokens', {
        headers: op,
        payload: { name: 'ci' },
      });
      const tokenHeaders = { authorization: `Bearer ${token.body.token}` };

      const demoted = await h.request<OperatorView>('POST', '/v1/admin/operators/otto/role', {
        headers: admin,
        payload: { role: 'viewer' },
      });
      assert.deepEqual([demoted.status, demoted.body.role], [200, 'viewer']);
      const revoke = await h.request('POST', `/v1/admin/devices/${DEVICE}/revoke`, {
        headers: op,
        payload: { reason: 'x' },
      });
      assert.equal(revoke.status, 403, 'the session acts with the new role at once');
      assert.equal(
        (await h.request('GET', '/v1/admin/devices', { headers: tokenHeaders })).status,
        401,
        'a token with rights beyond the new role is revoked',
      );

      const short = await h.request('POST', '/v1/admin/operators/otto/password', {
        headers: admin,
        payload: { password: 'short' },
      });
      assert.deepEqual([short.status, short.error.code, short.error.field], [400, 'invalid_request', 'password']);
      const reset = await h.request('POST', '/v1/admin/operators/otto/password', {
        headers: admin,
        payload: { password: 'a new long passphrase' },
      });
      assert.equal(reset.status, 200);
      assert.equal((await h.request('GET', '/v1/admin/devices', { headers: op })).status, 401, 'sessions ended');
      assert.equal((await login(h, 'otto')).status, 401);
      assert.equal((await login(h, 'otto', 'a new long passphrase')).status, 200);

      const disabled = await h.request<OperatorView>('POST', '/v1/admin/operators/otto/disable', { headers: admin });
      assert.ok(disabled.body.disabledAt);
      assert.equal((await login(h, 'otto', 'a new long passphrase')).body.code, 'invalid_credentials');

      const taken = await h.request('POST', '/v1/admin/operators', {
        headers: admin,
        payload: { username: 'Otto', role: 'viewer', password: OPERATOR_PASSWORD },
      });
      assert.deepEqual([taken.status, taken.error.code], [409, 'username_taken']);

      const roles = await audit(h, '?action=accounts.set_role');
      assert.deepEqual(
        roles.map((e) => [e.actorName, e.target, e.detail]),
        [['ada', demoted.body.id, { role: 'viewer', from: 'supervisor' }]],
      );
      const list = await h.request<{ operators: OperatorView[] }>('GET', '/v1/admin/operators', { headers: admin });
      assert.deepEqual(
        list.body.operators.map((o) => [o.username, o.role, 'passwordHash' in o]),
        [
          ['ada', 'admin', false],
          ['otto', 'viewer', false],
        ],
      );
    }));

  it('an operator changes their own password with the current one; every session of theirs ends', () =>
    withHarness(async (h) => {
      const me = await h.operator('pia', 'viewer');
      const wrong = await h.request('POST', '/v1/admin/session/password', {
        headers: me,
        payload: { current: 'not it at all', password: 'another long passphrase' },
      });
      assert.deepEqual([wrong.status, wrong.error.code], [401, 'invalid_credentials']);
      const ok = await h.request('POST', '/v1/admin/session/password', {
        headers: me,
        payload: { current: OPERATOR_PASSWORD, password: 'another long passphrase' },
      });
      assert.equal(ok.status, 200);
      assert.equal((await h.request('GET', '/v1/admin/devices', { headers: me })).status, 401);
      assert.equal((await login(h, 'pia', 'another long passphrase')).status, 200);
    }));
});

describe('audit log', () => {
  it('records every operator action with actor, time, target, outcome and request id; filters and pages', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const sup = await h.operator('sid', 'supervisor');
      const revoked = await h.request('POST', `/v1/admin/devices/${d.id}/revoke`, {
        headers: sup,
        payload: { reason: 'stolen' },
      });
      assert.equal(revoked.status, 200);
      const [entry] = await audit(h, '?action=devices.revoke');
      assert.ok(entry);
      assert.equal(entry.actorName, 'sid');
      assert.match(entry.actor, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        [entry.role, entry.target, entry.outcome, entry.at, entry.detail],
        ['supervisor', d.id, 'ok', h.clock.now(), { reason: 'stolen' }],
      );
      assert.match(entry.requestId ?? '', /\S/);

      // The bootstrap token is audited as "bootstrap" (its enrollment token above, the operator account).
      const bootstrap = await audit(h, '?actor=bootstrap');
      assert.deepEqual(
        bootstrap.map((e) => e.action),
        ['enrollment_tokens.create', 'accounts.create'],
      );
      assert.equal(bootstrap[1]?.detail?.password, undefined, 'never a secret');

      // Paging: one at a time, in order, to the end.
      const seen: string[] = [];
      let after = 0;
      for (;;) {
        const page = await h.request<{ items: AuditRow[]; next: number | null }>(
          'GET',
          `/v1/admin/audit?limit=1&after=${after}`,
          { admin: true },
        );
        seen.push(...page.body.items.map((e) => e.action));
        if (page.body.next === null) break;
        after = page.body.next;
      }
      assert.deepEqual(seen, ['enrollment_tokens.create', 'accounts.create', 'login', 'devices.revoke']);
      assert.deepEqual(await audit(h, `?from=${h.clock.now() + 1}`), []);
      const bad = await h.request('GET', '/v1/admin/audit?limit=0', { admin: true });
      assert.deepEqual([bad.status, bad.error.field], [400, 'query.limit']);
    }));

  it('exception actions carry the authenticated operator, not a declared name', () =>
    withHarness(async (h) => {
      const sup = await h.operator('real-name', 'supervisor');
      const res = await h.request('POST', `/v1/admin/exceptions/${DEVICE}/actions`, {
        headers: sup,
        payload: { action: 'contacted', note: 'n', by: 'someone-else' },
      });
      // No such exception: refused, and audited under the real actor.
      assert.equal(res.status, 404);
      const [entry] = await audit(h, '?action=exceptions.act');
      assert.deepEqual([entry?.actorName, entry?.outcome], ['real-name', 'not_found']);
    }));
});
