/**
 * Exception flood (issue 15 item 9): a device sending thousands of ops the
 * server rejects raises ONE open `op_rejected` per device and cause, whose
 * count, last seen time, last op and sample move on, instead of a row per
 * op. Each op is still stored rejected with its ledger event. Resolving the
 * row closes the group's episode: the next rejection opens a new row. On
 * every backend, through the HTTP API.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { BATCH_MAX_OPS, type Op } from '@holdfast/protocol';
import { EXCEPTION_SAMPLE_SIZE } from '../../model/exception.js';
import type { ExceptionView } from '../../model/exception-action.js';
import { type Harness, saleBody, T0, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

async function sendAll(h: Harness, d: TestDevice, ops: readonly Op[]): Promise<void> {
  for (let i = 0; i < ops.length; i += BATCH_MAX_OPS) {
    const res = await h.send(d.batch(ops.slice(i, i + BATCH_MAX_OPS)));
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    for (const r of res.body.results) assert.equal(r.status, 'rejected', JSON.stringify(r));
  }
}

async function rejectedExceptions(h: Harness): Promise<ExceptionView[]> {
  const res = await h.request<{ items: ExceptionView[] }>('GET', '/v1/admin/exceptions?type=op_rejected&limit=1000', {
    admin: true,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items;
}

const unknownKinds = (d: TestDevice, n: number): Op[] =>
  Array.from({ length: n }, (_, i) => d.chain.next('ticket.cashed_out', { stake: i }));

for (const backend of STORAGE_BACKENDS) {
  describe(`op_rejected aggregates per device and cause: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('10,000 rejected ops in batches: one open row counting 10,000; every op still stored rejected', async (h) => {
      const d = await h.enrollDevice('lane-flood');
      const ops = unknownKinds(d, 10_000);
      await sendAll(h, d, ops);
      const rows = await rejectedExceptions(h);
      assert.equal(rows.length, 1, 'one row for the device and cause');
      const [x] = rows as [ExceptionView];
      assert.equal(x.count, 10_000);
      assert.equal(x.status, 'open');
      assert.equal(x.device, d.id);
      assert.equal(x.opId, ops[0]?.id);
      assert.equal(x.seq, 1);
      assert.equal(x.firstSeenAt, x.raisedAt);
      assert.ok(x.lastSeenAt >= x.firstSeenAt);
      assert.equal(x.detail.cause, 'unknown_kind');
      assert.equal('groupKey' in x, false, 'the group key stays in storage');
      assert.equal(x.detail.reason, 'unknown_kind');
      assert.equal(x.detail.firstOpId, ops[0]?.id);
      assert.equal(x.detail.lastOpId, ops[9_999]?.id);
      assert.equal(x.detail.lastSeq, 10_000);
      assert.deepEqual(
        x.detail.sample,
        ops.slice(0, EXCEPTION_SAMPLE_SIZE).map((op) => op.id),
      );
      const summary = await h.storage.summary();
      assert.equal(summary.opsRejected, 10_000, 'each op is stored with its rejection');
      assert.equal(summary.exceptions.op_rejected, 1, 'the summary counts rows');
      const ledger = await h.storage.listLedger(0, 10_000);
      assert.equal(ledger.items.filter((e) => e.type === 'op.rejected').length, 10_000, 'each op has its ledger event');
      const last = await h.storage.getOp(ops[9_999]?.id ?? '');
      assert.equal(last?.result.status, 'rejected');
    });

    test('two causes → two rows; a second device → its own row; a resent batch counts nothing', async (h) => {
      const d = await h.enrollDevice('lane-a');
      const open = d.openShift();
      const badTotal = () => d.chain.next('sale.recorded', { ...saleBody(open.id, 100), total: 101 });
      const mixed = [open];
      for (let i = 0; i < 3; i++) mixed.push(...unknownKinds(d, 1), badTotal());
      mixed.push(...unknownKinds(d, 1));
      const unknown = mixed.filter((op) => op.kind === 'ticket.cashed_out');
      const badTotals = mixed.filter((op) => op.kind === 'sale.recorded');
      const first = await h.send(d.batch(mixed.slice(0, 4) as Op[]));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((await h.send(d.batch(mixed.slice(4) as Op[]))).status, 200);
      const resent = await h.send(d.batch(mixed.slice(4) as Op[]));
      assert.deepEqual(
        resent.body.results.map((r) => r.status),
        ['duplicate', 'duplicate', 'duplicate', 'duplicate'],
        'resent: all duplicate',
      );
      const e = await h.enrollDevice('lane-b');
      await sendAll(h, e, unknownKinds(e, 2));

      const rows = await rejectedExceptions(h);
      const byGroup = new Map(rows.map((x) => [`${x.device === d.id ? 'a' : 'b'}:${x.detail.cause}`, x]));
      assert.deepEqual([...byGroup.keys()].sort(), ['a:invalid_body:body.total', 'a:unknown_kind', 'b:unknown_kind']);
      assert.equal(rows.length, 3);
      assert.equal(byGroup.get('a:unknown_kind')?.count, 4);
      assert.deepEqual(
        byGroup.get('a:unknown_kind')?.detail.sample,
        unknown.map((op) => op.id),
      );
      assert.equal(byGroup.get('a:invalid_body:body.total')?.count, 3);
      assert.equal(byGroup.get('a:invalid_body:body.total')?.detail.field, 'body.total');
      assert.equal(byGroup.get('a:invalid_body:body.total')?.detail.lastOpId, badTotals[2]?.id);
      assert.equal(byGroup.get('b:unknown_kind')?.count, 2);
    });

    test('resolved, then more rejections: a new open row; the resolved one keeps its count', async (h) => {
      const d = await h.enrollDevice('lane-r');
      await sendAll(h, d, unknownKinds(d, 5));
      const [x] = (await rejectedExceptions(h)) as [ExceptionView];
      const resolved = await h.storage.recordExceptionAction({
        id: '01900000-0000-7000-8000-00000000f100',
        exceptionId: x.id,
        action: 'acknowledged',
        note: 'terminal updated',
        amount: null,
        by: 'ops-ana',
        at: T0 + 10,
      });
      assert.equal(resolved.outcome, 'recorded');
      const later = unknownKinds(d, 7);
      await sendAll(h, d, later);
      const rows = await rejectedExceptions(h);
      assert.deepEqual(
        rows.map((r) => [r.status, r.count, r.opId]),
        [
          ['resolved', 5, x.opId],
          ['open', 7, later[0]?.id],
        ],
      );
    });

    test('other exception types show count 1 and first = last seen = raised', async (h) => {
      const d = await h.enrollDevice('lane-v');
      const open = d.openShift();
      await h.send(d.batch([open, d.closeShift(open.id, 9_950)]));
      const res = await h.request<{ items: ExceptionView[] }>('GET', '/v1/admin/exceptions', { admin: true });
      const [x] = res.body.items;
      assert.equal(x?.type, 'cash_variance');
      assert.equal(x?.count, 1);
      assert.equal(x?.firstSeenAt, x?.raisedAt);
      assert.equal(x?.lastSeenAt, x?.raisedAt);
    });
  });
}
