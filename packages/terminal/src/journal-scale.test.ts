/**
 * Scale: 100,000 pending ops. The journal is filled in bulk transactions
 * (recording one op at a time fsyncs each commit, ~0.5 ms apiece: 100,000
 * would take about a minute); what is tested is that reading, counting and
 * delivering them never loads them all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ManualClock } from '@holdfast/domain/testing';
import {
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  NO_DECISION,
  signMessage,
  uuidv7,
} from '@holdfast/protocol';
import { Journal } from './journal.js';
import { META } from './journal-schema.js';
import { Terminal } from './terminal.js';
import { FakeServer } from './testing/fake-server.js';
import { FaultyTransport } from './testing/faulty-transport.js';
import { tempDir } from './testing/harness.js';

const COUNT = 100_000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

function fastest(fn: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

test(`${COUNT} pending ops: counted, read a batch at a time, delivered`, async () => {
  const dir = tempDir('holdfast-scale-');
  try {
    const clock = new ManualClock();
    const server = new FakeServer({ clock });
    const keys = generateDeviceKeys();
    const token = server.createToken();
    const enrolled = await server.enroll({
      token,
      publicKey: keys.publicKey,
      sig: signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey)),
    });
    assert.ok(enrolled.ok);
    const device = enrolled.body.deviceId;

    const journal = Journal.open(dir);
    journal.setMeta({ [META.deviceId]: device, [META.publicKey]: keys.publicKey, [META.privateKey]: keys.privateKey });
    const random = new Uint8Array(10);
    const view = new DataView(random.buffer);
    for (let start = 0; start < COUNT; start += 10_000) {
      journal.transaction(() => {
        for (let i = start; i < start + 10_000; i++) {
          view.setUint32(6, i);
          journal.append({
            id: uuidv7(clock.now(), random),
            device,
            kind: 'shift.opened',
            body: { clerk: `clerk-${i}`, currency: 'EUR', openingFloat: i },
            at: clock.now(),
            decision: NO_DECISION,
          });
        }
      });
    }
    journal.close();

    const reopened = Journal.open(dir);
    assert.deepEqual(reopened.counts, { pending: COUNT, confirmed: 0, dead: 0 });
    const before = heapAfterGc();
    const batch = reopened.pendingRun(500);
    const held = heapAfterGc() - before;
    assert.equal(batch.length, 500);
    assert.equal(batch[499]?.seq, 500);
    // 500 ops are well under 2 MB; all 100,000 would be far above it.
    assert.ok(held < 2_000_000, `reading one batch held ${held} bytes`);
    // And reading a batch costs a batch, not the backlog: far less than merely listing every pending id.
    const batchMs = fastest(() => reopened.pendingRun(500));
    const listAllMs = fastest(() => reopened.pendingAfter(0, COUNT));
    assert.ok(batchMs * 5 < listAllMs, `a batch took ${batchMs} ms, listing all ids ${listAllMs} ms`);
    reopened.close();

    const net = new FaultyTransport(server, { clock });
    const terminal = Terminal.open({ dataDir: dir, transport: net, clock, autoSync: false, idlePingMs: 0 });
    const status = terminal.status();
    assert.equal(status.pending, COUNT);
    assert.equal(status.latestSeq, COUNT);
    const report = await terminal.syncNow();
    assert.equal(report.outcome, 'idle');
    assert.equal(report.confirmed, COUNT);
    assert.equal(net.batches.length, COUNT / 500);
    assert.ok(net.batches.every((b, i) => b.ops.length === 500 && b.ops[0]?.seq === i * 500 + 1));
    assert.equal(terminal.status().confirmed, COUNT);
    assert.equal(server.device(device)?.highWater, COUNT);
    await terminal.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
