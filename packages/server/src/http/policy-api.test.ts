/**
 * The risk-policy API in-process (Fastify inject): device placement,
 * issuing and listing policies (operator), a terminal fetching its policy
 * (device signature), the policy keys at enrollment. Every bad input is
 * refused naming its field, and nothing of it is applied; the private
 * signing key appears in no answer and no log line.
 */

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ManualClock } from '@holdfast/domain/testing';
import {
  type CreateTokenResponse,
  type DeviceStatus,
  type EnrollResponse,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  type PolicyDraft,
  type PolicyKeySet,
  type PolicyResponse,
  type PolicyScope,
  policyRequestMessage,
  queryMessage,
  type SignedPolicy,
  signMessage,
  uuidv7,
  verifyPolicy,
  type WireError,
} from '@holdfast/protocol';
import { HoldfastService } from '../holdfast-service.js';
import type { PolicyDryRun } from '../services/policy-desk.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { type Answer, createHarness, type Harness, OPERATOR_TOKEN, T0, type TestDevice } from '../testing/harness.js';
import { buildApp } from './build-app.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const randomId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

/** A valid draft for merchant acme; `scope` and top-level fields may be changed. */
function draft(scope: Partial<PolicyScope> = {}, over: Partial<PolicyDraft> = {}): PolicyDraft {
  return {
    scope: { merchant: 'acme', location: null, event: null, devices: null, ...scope },
    currency: 'EUR',
    expiresAt: T0 + DAY,
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 20_000, maxCount: 10 },
      tenders: {
        card: {
          floorLimit: 5_000,
          instrument: { maxAmount: 10_000, maxCount: 5, velocity: { count: 3, windowMs: 600_000 } },
        },
      },
    },
    online: { kinds: ['ticket.issued'], refundAbove: 2_000, loyaltyRedemptionAbove: null },
    ...over,
  };
}

/** Sets (or, for undefined, deletes) the member at a dotted path of a JSON copy of `value`. */
function edited(value: unknown, path: string, to: unknown): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  const steps = path.split('.');
  let node = copy as Record<string, unknown>;
  for (const step of steps.slice(0, -1)) node = node[step] as Record<string, unknown>;
  const last = steps.at(-1) as string;
  if (to === undefined) delete node[last];
  else node[last] = to;
  return copy;
}

const issue = (h: Harness, payload: unknown) =>
  h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: payload as object });

async function issueOk(h: Harness, payload: PolicyDraft): Promise<SignedPolicy> {
  const res = await issue(h, payload);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const place = (h: Harness, id: string, payload: unknown) =>
  h.request<DeviceStatus>('POST', `/v1/admin/devices/${id}/placement`, { admin: true, payload: payload as object });

async function placeOk(h: Harness, d: TestDevice, location: string | null, event: string | null, merchant = 'acme') {
  const res = await place(h, d.id, { merchant, location, event });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** A device's signed policy request. */
function policyRequest(d: TestDevice, at: number, sig?: string) {
  return { device: d.id, at, sig: sig ?? signMessage(policyRequestMessage(d.id, at), d.privateKey) };
}

const fetchPolicy = (h: Harness, payload: unknown) =>
  h.request<PolicyResponse>('POST', '/v1/policy', { payload: payload as object });

async function policyOf(h: Harness, d: TestDevice): Promise<PolicyResponse> {
  const res = await fetchPolicy(h, policyRequest(d, h.clock.now()));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const keyMap = (keys: PolicyKeySet) => new Map(Object.entries(keys));

/** Everything a refused request could have changed. */
async function snapshot(h: Harness) {
  return {
    policies: await h.storage.listPolicies(),
    devices: await h.storage.listDeviceStatuses(),
    keys: await h.storage.listServerKeys(),
  };
}

/** Sends a request, expects it refused with `code` naming `field`, and checks that nothing changed. */
async function assertRefused(
  h: Harness,
  send: () => Promise<Answer<unknown>>,
  expected: { status: number; code: WireError['code']; field?: string; rule?: RegExp },
): Promise<void> {
  const before = await snapshot(h);
  const res = await send();
  const context = JSON.stringify(res.body);
  assert.equal(res.status, expected.status, context);
  assert.equal(res.error.code, expected.code, context);
  assert.equal(res.error.retryable, false, context);
  assert.equal(res.error.field, expected.field, context);
  if (expected.code === 'invalid_request') {
    assert.ok(
      res.error.rule && res.error.message.includes(res.error.field ?? '(none)'),
      `names field and rule: ${context}`,
    );
  }
  if (expected.rule) assert.match(res.error.rule ?? '', expected.rule, context);
  assert.deepEqual(await snapshot(h), before, 'nothing was applied');
}

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

describe('operator auth on the risk-policy routes', () => {
  it('refuses each without the operator token, or with a wrong one → 401 unauthorized', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice();
      const routes: ['GET' | 'POST', string, unknown][] = [
        ['POST', `/v1/admin/devices/${d.id}/placement`, { merchant: 'acme', location: null, event: null }],
        ['POST', '/v1/admin/policies', draft()],
        ['GET', '/v1/admin/policies', undefined],
        ['GET', '/v1/admin/exposure', undefined],
      ];
      for (const [method, url, payload] of routes) {
        for (const headers of [{}, { authorization: `Bearer ${OPERATOR_TOKEN}x` }, { authorization: OPERATOR_TOKEN }]) {
          await assertRefused(h, () => h.request(method, url, { headers, ...(payload ? { payload } : {}) }), {
            status: 401,
            code: 'unauthorized',
          });
        }
      }
    }));
});

describe('device placement', () => {
  it('an enrollment token carries a placement onto the device it enrolls', () =>
    withHarness(async (h) => {
      const token = await h.request<CreateTokenResponse>('POST', '/v1/admin/enrollment-tokens', {
        admin: true,
        payload: { label: 'bar-n1', merchant: 'acme', location: 'north', event: 'final-2026' },
      });
      assert.equal(token.status, 200);
      assert.deepEqual(token.body.placement, { merchant: 'acme', location: 'north', event: 'final-2026' });
      const bare = await h.request<CreateTokenResponse>('POST', '/v1/admin/enrollment-tokens', { admin: true });
      assert.equal(bare.body.placement, null);
      const merchantOnly = await h.request<CreateTokenResponse>('POST', '/v1/admin/enrollment-tokens', {
        admin: true,
        payload: { merchant: 'acme' },
      });
      assert.deepEqual(merchantOnly.body.placement, { merchant: 'acme', location: null, event: null });

      const enrolled = await h.enroll(token.body.token, generateDeviceKeys());
      assert.equal(enrolled.status, 200);
      const status = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${enrolled.body.deviceId}`, {
        admin: true,
      });
      assert.deepEqual(status.body.placement, { merchant: 'acme', location: 'north', event: 'final-2026' });
      const other = await h.enroll(bare.body.token, generateDeviceKeys());
      const list = await h.request<{ devices: DeviceStatus[] }>('GET', '/v1/admin/devices', { admin: true });
      assert.equal(list.body.devices.find((x) => x.id === other.body.deviceId)?.placement, null);
    }));

  it('refuses a token placement that breaks a rule, naming the field', () =>
    withHarness(async (h) => {
      const post = (payload: unknown) => () =>
        h.request('POST', '/v1/admin/enrollment-tokens', { admin: true, payload: payload as object });
      const bad: [unknown, string, RegExp][] = [
        [{ merchant: '' }, 'merchant', /1\.\.64/],
        [{ merchant: 'acme corp' }, 'merchant', /letters, digits/],
        [{ merchant: 'm'.repeat(65) }, 'merchant', /1\.\.64/],
        [{ merchant: 7 }, 'merchant', /string/],
        [{ merchant: 'acme', location: 'north/2' }, 'location', /letters, digits/],
        [{ merchant: 'acme', event: '' }, 'event', /1\.\.64/],
        [{ location: 'north' }, 'merchant', /required when location or event is given/],
        [{ merchant: 'acme', floor: 2 }, 'floor', /no such field/],
      ];
      for (const [payload, field, rule] of bad) {
        await assertRefused(h, post(payload), { status: 400, code: 'invalid_request', field, rule });
      }
    }));

  it('POST /v1/admin/devices/:id/placement places and moves a device, answering its status', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const first = await place(h, d.id, { merchant: 'acme', location: 'north', event: null });
      assert.equal(first.status, 200);
      assert.equal(first.body.id, d.id);
      assert.deepEqual(first.body.placement, { merchant: 'acme', location: 'north', event: null });
      const moved = await place(h, d.id, { merchant: 'acme', location: null, event: 'final-2026' });
      assert.deepEqual(moved.body.placement, { merchant: 'acme', location: null, event: 'final-2026' });
      const status = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
      assert.deepEqual(status.body, moved.body);
    }));

  it('refuses a bad placement naming the field, a bad id (400) and an unknown device (404)', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const ok = { merchant: 'acme', location: 'north', event: 'final-2026' };
      const bad: [unknown, string, RegExp][] = [
        [edited(ok, 'merchant', undefined), 'merchant', /required/],
        [edited(ok, 'location', undefined), 'location', /required/],
        [edited(ok, 'event', undefined), 'event', /required/],
        [edited(ok, 'merchant', null), 'merchant', /string/],
        [edited(ok, 'merchant', 'ä'), 'merchant', /letters, digits/],
        [edited(ok, 'location', 'x'.repeat(65)), 'location', /1\.\.64/],
        [edited(ok, 'event', 12), 'event', /string/],
        [{ ...ok, devices: null }, 'devices', /no such field/],
        [[ok], '(root)', /object/],
      ];
      for (const [payload, field, rule] of bad) {
        await assertRefused(h, () => place(h, d.id, payload), { status: 400, code: 'invalid_request', field, rule });
      }
      await assertRefused(h, () => place(h, 'not-a-uuid', ok), { status: 400, code: 'invalid_request', field: 'id' });
      await assertRefused(h, () => place(h, randomId(), ok), { status: 404, code: 'not_found' });
    }));
});

describe('issuing policies', () => {
  it('assigns id, version per scope, issuedAt and validFrom, signs with the server key, and lists them', () =>
    withHarness(async (h) => {
      const first = await issueOk(h, draft());
      assert.deepEqual(
        [first.policy.v, first.policy.version, first.policy.issuedAt, first.policy.validFrom],
        [1, 1, T0, T0 - 5 * 60_000],
      );
      assert.match(first.policy.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      const { v: _v, id: _id, version: _version, issuedAt: _issuedAt, validFrom: _validFrom, ...rest } = first.policy;
      assert.deepEqual(rest, (({ validFrom: _x, ...d }) => d)(draft()), 'the draft is kept as given');
      h.clock.advance(1_000);
      const second = await issueOk(h, draft());
      const north = await issueOk(h, draft({ location: 'north' }, { validFrom: T0 + HOUR }));
      assert.deepEqual(
        [second.policy.version, second.policy.issuedAt, north.policy.version, north.policy.validFrom],
        [2, T0 + 1_000, 1, T0 + HOUR],
      );
      assert.notEqual(second.policy.id, first.policy.id);

      const list = await h.request<{ policies: SignedPolicy[]; keys: PolicyKeySet }>('GET', '/v1/admin/policies', {
        admin: true,
      });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.policies, [first, second, north]);
      assert.deepEqual(Object.keys(list.body.keys), [first.keyId]);
      assert.match(first.keyId, /^[0-9a-f]{16}$/);
      for (const p of list.body.policies) assert.deepEqual(verifyPolicy(p, keyMap(list.body.keys)), p);
      const tampered = edited(second, 'policy.offline.device.maxAmount', 99_999_999);
      assert.throws(() => verifyPolicy(tampered, keyMap(list.body.keys)), /signature does not verify/);
    }));

  it('refuses a bad draft naming the field and the rule; nothing is stored', () =>
    withHarness(async (h) => {
      const d = draft();
      const bad: [unknown, string, RegExp][] = [
        [edited(d, 'expiresAt', undefined), 'expiresAt', /required/],
        [edited(d, 'expiresAt', T0), 'expiresAt', /after issuedAt/],
        [edited(d, 'expiresAt', T0 - 1), 'expiresAt', /after issuedAt/],
        [{ ...d, validFrom: T0 + DAY }, 'expiresAt', /after validFrom/],
        [{ ...d, validFrom: T0 - 1, expiresAt: T0 + 90 * DAY }, 'expiresAt', /at most 90 days after validFrom/],
        [{ ...d, validFrom: 'now' }, 'validFrom', /integer/],
        [{ ...d, id: randomId() }, 'id', /no such field/],
        [{ ...d, version: 7 }, 'version', /no such field/],
        [{ ...d, issuedAt: T0 }, 'issuedAt', /no such field/],
        [{ ...d, v: 1 }, 'v', /no such field/],
        [edited(d, 'scope.merchant', 'acme corp'), 'scope.merchant', /letters, digits/],
        [edited(d, 'scope.location', ''), 'scope.location', /1\.\.64/],
        [edited(d, 'scope.devices', []), 'scope.devices', /1\.\.10000/],
        [edited(d, 'currency', 'euro'), 'currency', /3\.\.3 characters/],
        [edited(d, 'currency', 'eur'), 'currency', /ISO 4217/],
        [edited(d, 'offline.maxOfflineMs', -1), 'offline.maxOfflineMs', /integer 0\.\./],
        [edited(d, 'offline.device.maxAmount', 1.5), 'offline.device.maxAmount', /integer/],
        [edited(d, 'offline.tenders.card.floorLimit', -1), 'offline.tenders.card.floorLimit', /integer 0\.\./],
        [edited(d, 'offline.tenders.cash', {}), 'offline.tenders.cash', /no such field/],
        [edited(d, 'online.kinds', ['Ticket']), 'online.kinds[0]', /op kind/],
        // Pattern-valid but no such kind: it would silently never match, so it is refused.
        [
          edited(d, 'online.kinds', ['sale.recorded', 'ticket.placed']),
          'online.kinds[1]',
          /an op kind this server knows/,
        ],
        [edited(d, 'online.refundAbove', undefined), 'online.refundAbove', /required/],
        [['policy'], '(root)', /object/],
      ];
      for (const [payload, field, rule] of bad) {
        await assertRefused(h, () => issue(h, payload), { status: 400, code: 'invalid_request', field, rule });
      }
      const scoped = draft({ devices: [randomId(), randomId()] });
      const repeated = edited(scoped, 'scope.devices', [scoped.scope.devices?.[0], scoped.scope.devices?.[0]]);
      await assertRefused(h, () => issue(h, repeated), {
        status: 400,
        code: 'invalid_request',
        field: 'scope.devices[1]',
        rule: /each device listed once/,
      });
      assert.equal((await issueOk(h, d)).policy.version, 1, 'the refusals used no version');
    }));
});

const dryRun = (h: Harness, payload: unknown, admin = true) =>
  h.request<PolicyDryRun>('POST', '/v1/admin/policies/dry-run', { admin, payload: payload as object });

describe('POST /v1/admin/policies/dry-run', () => {
  it('previews the policy and its bound per placement, which issuing it then yields; nothing is issued', () =>
    withHarness(async (h) => {
      const north = await h.enrollDevice();
      const south = await h.enrollDevice();
      await placeOk(h, north, 'north', null);
      await placeOk(h, south, 'south', null);
      await issueOk(h, draft({ location: 'south' }));
      h.clock.advance(1_000);
      const proposed = draft({ location: 'north' });
      const before = await snapshot(h);
      const preview = await dryRun(h, proposed);
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      assert.deepEqual(await snapshot(h), before, 'nothing issued, no version used');
      assert.deepEqual(
        [preview.body.policy.version, preview.body.policy.issuedAt, preview.body.at],
        [1, T0 + 1_000, T0 + 1_000],
      );
      assert.deepEqual(preview.body.uncovered, [], 'north is covered by the proposal');
      assert.deepEqual(
        preview.body.current.map((g) => g.location),
        ['south'],
        'without it only south has a bound',
      );
      const exposure = async () =>
        (await h.request<{ bound: unknown[] }>('GET', '/v1/admin/exposure', { admin: true })).body.bound;
      assert.deepEqual(preview.body.current, await exposure());
      const northGroup = preview.body.bound.find((g) => g.location === 'north');
      assert.equal(northGroup?.devices, 1);
      assert.equal(northGroup?.maxAmount, 20_000, 'min(device cap, count × floor limit)');
      await issueOk(h, proposed);
      assert.deepEqual(preview.body.bound, await exposure(), 'the preview is the bound issuing it gives');

      // A policy that starts later is previewed at its start.
      const later = await dryRun(h, draft({ location: 'north' }, { validFrom: T0 + HOUR }));
      assert.deepEqual([later.body.at, later.body.policy.version], [T0 + HOUR, 2]);
    }));

  it('refuses a draft issuing would refuse, with the same coded error naming the field', () =>
    withHarness(async (h) => {
      const d = draft();
      const bad: [unknown, string][] = [
        [edited(d, 'expiresAt', T0), 'expiresAt'],
        [edited(d, 'currency', 'eur'), 'currency'],
        [edited(d, 'offline.device.maxAmount', 1.5), 'offline.device.maxAmount'],
        [edited(d, 'online.kinds', ['sale.recorded', 'ticket.placed']), 'online.kinds[1]'],
        [['policy'], '(root)'],
      ];
      for (const [payload, field] of bad) {
        const viaIssue = await issue(h, payload);
        await assertRefused(h, () => dryRun(h, payload), { status: 400, code: 'invalid_request', field });
        const viaDryRun = await dryRun(h, payload);
        assert.deepEqual(viaDryRun.body, viaIssue.body, 'the same refusal as issuing');
      }
    }));
});

describe('POST /v1/policy: a terminal fetches its policy', () => {
  it('gets the newest policy in force that covers its placement, with the keys that verify it', () =>
    withHarness(async (h) => {
      const [n, s, l, x, o] = (await Promise.all(
        ['north', 'south', 'listed', 'loose', 'other'].map((label) => h.enrollDevice(label)),
      )) as [TestDevice, TestDevice, TestDevice, TestDevice, TestDevice];
      await placeOk(h, n, 'north', 'final-2026');
      await placeOk(h, s, 'south', 'final-2026');
      await placeOk(h, l, 'south', null);
      await placeOk(h, o, 'north', 'final-2026', 'globex');

      assert.deepEqual((await policyOf(h, n)).policy, null, 'no policy issued yet');
      const merchantWide = await issueOk(h, draft());
      h.clock.advance(1_000);
      const northOnly = await issueOk(h, draft({ location: 'north' }));
      h.clock.advance(1_000);
      const forListed = await issueOk(h, draft({ devices: [l.id] }));
      h.clock.advance(1_000);
      await issueOk(h, draft({ location: 'south' }, { validFrom: T0 + HOUR })); // not yet in force

      const answer = await policyOf(h, n);
      assert.deepEqual(answer.policy, northOnly);
      assert.equal(answer.serverTime, h.clock.now());
      assert.deepEqual(verifyPolicy(answer.policy, keyMap(answer.keys)), northOnly);
      assert.deepEqual((await policyOf(h, s)).policy, merchantWide);
      assert.deepEqual((await policyOf(h, l)).policy, forListed);
      assert.equal((await policyOf(h, x)).policy, null, 'an unplaced device gets none');
      assert.equal((await policyOf(h, o)).policy, null, "another merchant's policies are not its");

      h.clock.set(T0 + HOUR);
      assert.equal((await policyOf(h, s)).policy?.policy.scope.location, 'south', 'in force from its validFrom');
      h.clock.set(T0 + DAY);
      assert.equal((await policyOf(h, n)).policy, null, 'expired policies are not handed out');
    }));

  it('pins the same keys at enrollment (policyKeys) as /v1/policy and the operator list answer', () =>
    withHarness(async (h) => {
      const token = await h.newToken('till');
      const enrolled = await h.enroll(token, generateDeviceKeys());
      assert.equal(enrolled.status, 200);
      const keys = (enrolled.body as EnrollResponse).policyKeys ?? {};
      assert.equal(Object.keys(keys).length, 1);
      const d = await h.enrollDevice('other');
      assert.deepEqual((await policyOf(h, d)).keys, keys);
      const list = await h.request<{ keys: PolicyKeySet }>('GET', '/v1/admin/policies', { admin: true });
      assert.deepEqual(list.body.keys, keys);
      const [stored] = await h.storage.listServerKeys();
      assert.deepEqual(keys, { [stored?.id ?? '']: stored?.publicKey });
    }));

  it('refuses an unknown device or a bad signature alike (401), a revoked device (403) and bad input (400)', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('till');
      const other = await h.enrollDevice('other');
      const now = h.clock.now();
      const unknown = { ...policyRequest(d, now), device: randomId() };
      await assertRefused(h, () => fetchPolicy(h, unknown), { status: 401, code: 'unknown_device', field: 'sig' });
      const signedByOther = policyRequest(d, now, signMessage(policyRequestMessage(d.id, now), other.privateKey));
      await assertRefused(h, () => fetchPolicy(h, signedByOther), {
        status: 401,
        code: 'unknown_device',
        field: 'sig',
      });
      const otherPurpose = policyRequest(d, now, signMessage(queryMessage(d.id, [], now), d.privateKey));
      await assertRefused(h, () => fetchPolicy(h, otherPurpose), { status: 401, code: 'unknown_device', field: 'sig' });
      const otherTime = { ...policyRequest(d, now), at: now + 1 };
      await assertRefused(h, () => fetchPolicy(h, otherTime), { status: 401, code: 'unknown_device', field: 'sig' });
      const bad: [unknown, string][] = [
        [{ ...policyRequest(d, now), device: 'x' }, 'device'],
        [{ ...policyRequest(d, now), at: 'now' }, 'at'],
        [{ ...policyRequest(d, now), sig: 'x' }, 'sig'],
        [edited(policyRequest(d, now), 'sig', undefined), 'sig'],
        [{ ...policyRequest(d, now), ids: [] }, 'ids'],
        [null, '(root)'],
      ];
      for (const [payload, field] of bad) {
        await assertRefused(h, () => fetchPolicy(h, payload), { status: 400, code: 'invalid_request', field });
      }
      await h.request('POST', `/v1/admin/devices/${d.id}/revoke`, { admin: true, payload: { reason: 'lost' } });
      await assertRefused(h, () => fetchPolicy(h, policyRequest(d, now)), {
        status: 403,
        code: 'device_revoked',
        field: 'device',
      });
    }));
});

describe('the private signing key', () => {
  it('appears in no answer and no log line', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const storage = new SqliteStorage({ path: ':memory:' });
    await storage.migrate();
    const clock = new ManualClock(T0);
    const service = new HoldfastService({ storage, clock });
    const app = buildApp({ service, operatorToken: OPERATOR_TOKEN, logger: { level: 'trace', stream } });
    const admin = { authorization: `Bearer ${OPERATOR_TOKEN}` };
    try {
      const bodies: string[] = [];
      const call = async (
        method: 'GET' | 'POST',
        url: string,
        payload?: object,
        headers: Record<string, string> = admin,
      ) => {
        const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        bodies.push(res.body);
        return res;
      };
      const token = (await call('POST', '/v1/admin/enrollment-tokens', { merchant: 'acme' })).json().token as string;
      const keys = generateDeviceKeys();
      const sig = signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey));
      const enrolled = (await call('POST', '/v1/enroll', { token, publicKey: keys.publicKey, sig }, {})).json();
      await call('POST', '/v1/admin/policies', draft());
      await call('POST', '/v1/admin/policies', { ...draft(), expiresAt: 1 });
      await call('GET', '/v1/admin/policies');
      await call('GET', '/v1/admin/exposure');
      await call('GET', '/v1/admin/devices');
      const at = clock.now();
      const request = {
        device: enrolled.deviceId,
        at,
        sig: signMessage(policyRequestMessage(enrolled.deviceId, at), importPrivateKey(keys.privateKey)),
      };
      assert.equal((await call('POST', '/v1/policy', request, {})).statusCode, 200);
      const [serverKey] = await storage.listServerKeys();
      assert.ok(serverKey && serverKey.privateKey.length > 40);
      assert.ok(lines.length > 10 && lines.some((l) => l.includes('risk policy issued')), 'the log was captured');
      for (const text of [...bodies, ...lines]) {
        assert.ok(!text.includes(serverKey.privateKey), 'the private key is not in an answer or a log line');
        assert.ok(!text.includes('private'), `no private key field: ${text.slice(0, 200)}`);
      }
    } finally {
      await app.close();
      await storage.close();
    }
  });
});
