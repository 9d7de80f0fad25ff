/**
 * Staff at the till, on every backend (docs/staff-and-roles.md): the
 * operator routes and their coded refusals, the roster history, the signed
 * roster in the device feed (versions, removals), and the staff check at
 * ingest — each bad actor raises its exception and the op still stands.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type Actor,
  checkStaffSecret,
  type FeedResponse,
  feedRequestMessage,
  type IngestResponse,
  type Op,
  signMessage,
  verifyRoster,
} from '@holdfast/protocol';
import type { ExceptionRecord } from '../../model/exception.js';
import { cashMovedBody, type Harness, saleBody, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const MINUTE = 60_000;

async function addStaff(h: Harness, body: Record<string, unknown>) {
  return h.request<{ member: { id: string; role: string; pinSet: boolean }; version: number }>(
    'POST',
    '/v1/admin/staff',
    {
      admin: true,
      payload: body,
    },
  );
}

async function placedDevice(h: Harness, location: string): Promise<TestDevice> {
  const d = await h.enrollDevice(`till-${location}`);
  const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
    admin: true,
    payload: { merchant: 'acme', location, event: null },
  });
  assert.equal(placed.status, 200);
  return d;
}

async function feed(h: Harness, d: TestDevice, roster?: number): Promise<FeedResponse> {
  const at = h.clock.now();
  const answer = await h.request<FeedResponse>('POST', '/v1/feed', {
    payload: {
      device: d.id,
      after: 0,
      at,
      sig: signMessage(feedRequestMessage(d.id, 0, at), d.privateKey),
      ...(roster !== undefined ? { roster } : {}),
    },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

async function exceptionsOf(h: Harness, op: Op): Promise<ExceptionRecord[]> {
  return (await h.storage.listExceptions(0, 1000)).items.filter((e) => e.opId === op.id);
}

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const answer = await h.send(d.batch(ops));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  for (const r of (answer.body as IngestResponse).results) assert.equal(r.status, 'accepted');
}

/** Adds ana (clerk), bea (supervisor) at hall-a and carl (clerk) at hall-b at T0. */
async function seedRoster(h: Harness): Promise<void> {
  for (const [location, id, role, pin] of [
    ['hall-a', 'ana', 'clerk', '4821'],
    ['hall-a', 'bea', 'supervisor', '7390'],
    ['hall-b', 'carl', 'clerk', '5182'],
  ] as const) {
    const added = await addStaff(h, { location, id, name: id.toUpperCase(), role, pin });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
}

for (const backend of STORAGE_BACKENDS) {
  describe(`staff suite: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('operator routes: add, list, change role, PIN, remove; each refusal is coded and names its field', async (h) => {
      await seedRoster(h);
      const list = await h.request<{ version: number; staff: { id: string; pinSet: boolean }[] }>(
        'GET',
        '/v1/admin/staff?location=hall-a',
        { admin: true },
      );
      assert.equal(list.status, 200);
      assert.equal(list.body.version, 2);
      assert.deepEqual(
        list.body.staff.map((s) => [s.id, s.pinSet]),
        [
          ['ana', true],
          ['bea', true],
        ],
      );
      assert.doesNotMatch(JSON.stringify(list.body), /scrypt|salt/, 'no verifier is shown to operators');

      const twice = await addStaff(h, { location: 'hall-b', id: 'ana', name: 'Ana', role: 'clerk' });
      assert.equal(twice.status, 409);
      assert.equal(twice.error.code, 'staff_exists');

      for (const [pin, why] of [
        ['1234', 'a straight run'],
        ['0000', 'one digit repeated'],
        ['12a4', 'not all digits'],
        ['123', '3 digits'],
      ] as const) {
        const bad = await addStaff(h, { location: 'hall-a', id: 'dan', name: 'Dan', role: 'clerk', pin });
        assert.equal(bad.status, 400, pin);
        assert.equal(bad.error.code, 'invalid_request');
        assert.equal(bad.error.field, 'pin');
        assert.match(bad.error.message, new RegExp(why));
      }
      const badName = await addStaff(h, { location: 'hall-a', id: 'dan', name: ' Dan', role: 'clerk' });
      assert.equal(badName.error.field, 'name');
      const badRole = await addStaff(h, { location: 'hall-a', id: 'dan', name: 'Dan', role: 'boss' });
      assert.equal(badRole.error.field, 'role');

      const promoted = await h.request<{ member: { role: string }; version: number }>('PATCH', '/v1/admin/staff/ana', {
        admin: true,
        payload: { role: 'manager' },
      });
      assert.equal(promoted.status, 200);
      assert.equal(promoted.body.member.role, 'manager');
      assert.equal(promoted.body.version, 3);

      const pin = await h.request('POST', '/v1/admin/staff/ana/pin', { admin: true, payload: { pin: '9147' } });
      assert.equal(pin.status, 200);
      const removed = await h.request<{ member: { removedAt: number | null } }>('DELETE', '/v1/admin/staff/ana', {
        admin: true,
      });
      assert.equal(removed.status, 200);
      assert.equal(removed.body.member.removedAt, h.clock.now());
      const again = await h.request<{ code: string; message: string }>('DELETE', '/v1/admin/staff/ana', {
        admin: true,
      });
      assert.equal(again.status, 404);
      assert.match(again.error.message, /was removed from location hall-a/);
      const unknown = await h.request<{ code: string }>('PATCH', '/v1/admin/staff/nobody', {
        admin: true,
        payload: { role: 'clerk' },
      });
      assert.equal(unknown.status, 404);

      const history = await h.request<{ events: { staff: string; action: string; version: number }[] }>(
        'GET',
        '/v1/admin/staff/history?location=hall-a&staff=ana',
        { admin: true },
      );
      assert.deepEqual(
        history.body.events.map((e) => e.action),
        ['added', 'role_changed', 'pin_set', 'removed'],
      );
      const noLocation = await h.request<{ field: string }>('GET', '/v1/admin/staff', { admin: true });
      assert.equal(noLocation.status, 400);
      assert.equal(noLocation.error.field, 'query.location');
      const noToken = await h.request('GET', '/v1/admin/staff?location=hall-a');
      assert.equal(noToken.status, 401);

      // A removed id may join another location later.
      const rejoined = await addStaff(h, { location: 'hall-b', id: 'ana', name: 'Ana', role: 'clerk', pin: '2468' });
      assert.equal(rejoined.status, 201);
    });

    test("feed: the location's signed roster with verifiers, not again at the version held, and without a removed member", async (h) => {
      await seedRoster(h);
      const d = await placedDevice(h, 'hall-a');
      const keys = (await h.service.policyKeys()) as Record<string, string>;
      const first = await feed(h, d);
      assert.ok(first.roster, 'roster delivered');
      const roster = verifyRoster(first.roster, keys);
      assert.equal(roster.location, 'hall-a');
      assert.equal(roster.version, 2);
      assert.deepEqual(
        roster.staff.map((s) => s.id),
        ['ana', 'bea'],
      );
      const ana = roster.staff[0];
      assert.ok(ana?.pin);
      assert.equal(checkStaffSecret('4821', ana.pin), true);
      assert.equal(checkStaffSecret('4822', ana.pin), false);
      assert.doesNotMatch(JSON.stringify(first.roster), /4821/, 'the PIN itself never travels');

      const tampered = structuredClone(first.roster);
      (tampered.roster.staff[0] as { role: string }).role = 'manager';
      assert.throws(() => verifyRoster(tampered, keys), /roster\.sig/);

      assert.equal((await feed(h, d, 2)).roster, undefined, 'nothing new at the version held');
      h.clock.advance(MINUTE);
      assert.equal((await h.request('DELETE', '/v1/admin/staff/ana', { admin: true })).status, 200);
      const after = await feed(h, d, 2);
      assert.ok(after.roster);
      assert.equal(after.roster.roster.version, 3);
      assert.deepEqual(
        after.roster.roster.staff.map((s) => s.id),
        ['bea'],
      );
      const elsewhere = await placedDevice(h, 'hall-z');
      assert.equal((await feed(h, elsewhere)).roster, undefined, 'a location without staff gets no roster');
    });

    test('ingest: each bad actor raises its exception and the op stands; a good one raises none', async (h) => {
      await seedRoster(h);
      h.clock.advance(30 * MINUTE);
      const d = await placedDevice(h, 'hall-a');
      const ana: Actor = { staff: 'ana' };
      const open = d.chain.next(
        'shift.opened',
        { clerk: 'ana', currency: 'EUR', openingFloat: 10_000 },
        undefined,
        undefined,
        ana,
      );
      const shift = open.id;
      const good = d.chain.next('sale.recorded', saleBody(shift, 450), undefined, undefined, ana);
      const approved = d.chain.next(
        'cash.moved',
        cashMovedBody(shift, 'out', 500, { reason: 'paid_out' }),
        undefined,
        undefined,
        { staff: 'ana', approvedBy: 'bea' },
      );
      const unknown = d.chain.next('sale.recorded', saleBody(shift, 100), undefined, undefined, { staff: 'zed' });
      const foreign = d.chain.next('sale.recorded', saleBody(shift, 100), undefined, undefined, { staff: 'carl' });
      const byClerk = d.chain.next(
        'cash.moved',
        cashMovedBody(shift, 'out', 500, { reason: 'paid_out' }),
        undefined,
        undefined,
        { staff: 'bea', approvedBy: 'ana' },
      );
      const unapproved = d.chain.next(
        'cash.moved',
        cashMovedBody(shift, 'out', 500, { reason: 'paid_out' }),
        undefined,
        undefined,
        ana,
      );
      const anonymous = d.chain.next('sale.recorded', saleBody(shift, 100));
      await sendAll(h, d, [open, good, approved, unknown, foreign, byClerk, unapproved, anonymous]);

      for (const op of [open, good, approved]) assert.deepEqual(await exceptionsOf(h, op), [], op.kind);
      const only = async (op: Op) => {
        const list = await exceptionsOf(h, op);
        assert.equal(list.length, 1, JSON.stringify(list));
        return list[0] as ExceptionRecord;
      };
      const e1 = await only(unknown);
      assert.equal(e1.type, 'staff_unknown');
      assert.equal(e1.severity, 'alarm');
      assert.equal(e1.detail.staff, 'zed');
      const e2 = await only(foreign);
      assert.equal(e2.type, 'staff_not_at_location');
      assert.equal(e2.detail.staffLocation, 'hall-b');
      const e3 = await only(byClerk);
      assert.equal(e3.type, 'approval_role_missing');
      assert.equal(e3.detail.approverRole, 'clerk');
      assert.equal(e3.detail.needed, 'supervisor');
      assert.equal((await only(unapproved)).type, 'approval_missing');
      const e5 = await only(anonymous);
      assert.equal(e5.type, 'staff_missing');
      assert.equal(e5.severity, 'warning');

      // Removed at T, an op recorded after T by the removed member raises staff_removed; one before does not.
      const before = d.chain.next('sale.recorded', saleBody(shift, 100), undefined, undefined, ana);
      h.clock.advance(MINUTE);
      assert.equal((await h.request('DELETE', '/v1/admin/staff/ana', { admin: true })).status, 200);
      h.clock.advance(MINUTE);
      const afterRemoval = d.chain.next('sale.recorded', saleBody(shift, 100), undefined, undefined, ana);
      await sendAll(h, d, [before, afterRemoval]);
      assert.deepEqual(await exceptionsOf(h, before), []);
      assert.equal((await only(afterRemoval)).type, 'staff_removed');

      // A duplicate of an op is not checked again: no second exception.
      await h.send(d.batch([afterRemoval]));
      assert.equal((await exceptionsOf(h, afterRemoval)).length, 1);
      const ledger = await h.storage.listLedger(0, 1000);
      assert.ok(
        ledger.items.some((e) => e.opId === unknown.id && e.type === 'sale.recorded'),
        'the op stands',
      );
    });
  });
}
