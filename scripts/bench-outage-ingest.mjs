#!/usr/bin/env node
// Ingest of a backlog recorded during an outage, in process (SQLite file,
// one transaction per batch of 500), against the same backlog stamped as
// recorded just now: docs/performance.md, "Reconnection storm".
//
// D devices each hold Q ops. With `outage` stamps every device recorded its
// ops over the same 30 minutes, so their device times interleave across
// devices, as they do when a fleet comes back; their op ids are device first
// (UUIDv8, protocol op-id.ts), as terminals make them since round six. With
// `outage-v7-ids` the op ids are UUIDv7 (time first), as terminals made them
// before: each batch's op-id index entries land on hundreds of pages. With `now`
// stamps each device's ops are recorded one after the other, so the keys
// only grow. Batches are applied interleaved by device, as a server sees
// them. With `outage-arrival-ids` the device times are the outage's but each
// op id's time is the order the server receives the op in (batch by batch,
// device by device): what an op-id index keyed by arrival would cost, the
// experiment of docs/performance.md round five. Prints ops/s and the bytes this process wrote to disk per op
// (/proc/self/io; WAL frames and checkpoints), which holds on a loaded
// machine where ops/s does not.
//
// With --sweep, it then reads what the outage sweep reads, both ways, on the
// database just filled (docs/reports.md): the whole window in one statement
// with every op's body (Storage.reportInput, the sweep's read before) and
// device by device in pages without bodies (Storage.outageEvents, the
// sweep's read now): the
// time of each, the longest single call (what an ingest waits behind on the
// storage thread) and the heap it took.
//
//   npm run build
//   node scripts/bench-outage-ingest.mjs [devices=200] [ops=500] [outage|outage-v7-ids|now|outage-arrival-ids] [walCheckpointPages] [--sweep]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const P = await import(`${root}/packages/protocol/dist/index.js`);
const { HoldfastService, SqliteStorage } = await import(`${root}/packages/server/dist/index.js`);
const { SHIFT_BODY, saleBody } = await import(`${root}/packages/cli/dist/bench/sale-body.js`);

const sweep = process.argv.includes('--sweep');
const [devicesArg = '200', opsArg = '500', stamp = 'outage', pagesArg] = process.argv
  .slice(2)
  .filter((a) => a !== '--sweep');
const devices = Number(devicesArg);
const opsPerDevice = Number(opsArg);
if (!Number.isInteger(devices) || devices < 1 || !Number.isInteger(opsPerDevice) || opsPerDevice < 2) {
  console.error(
    'usage: node scripts/bench-outage-ingest.mjs [devices>=1] [ops>=2] [outage|outage-v7-ids|now|outage-arrival-ids] [walCheckpointPages]',
  );
  process.exit(2);
}
const STAMPS = ['outage', 'outage-v7-ids', 'now', 'outage-arrival-ids'];
if (!STAMPS.includes(stamp)) {
  console.error(`stamps must be one of ${STAMPS.join(', ')}, got "${stamp}"`);
  process.exit(2);
}
const BATCH = 500;
const writtenBytes = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);

const dir = mkdtempSync(join(tmpdir(), 'holdfast-outage-ingest-'));
try {
  const storage = new SqliteStorage({
    path: join(dir, 'holdfast.db'),
    ...(pagesArg === undefined ? {} : { walCheckpointPages: Number(pagesArg) }),
  });
  await storage.migrate();
  const service = new HoldfastService({ storage });
  const to = Date.now() - 61_000;
  const from = to - 30 * 60_000;
  const step = (to - from) / (opsPerDevice - 1);
  const perDevice = [];
  for (let d = 0; d < devices; d++) {
    const keys = P.generateDeviceKeys();
    const key = P.importPrivateKey(keys.privateKey);
    const { token } = await service.createEnrollmentToken({});
    const sig = P.signMessage(P.enrollmentMessage(token, keys.publicKey), key);
    const { deviceId } = await service.enroll({ token, publicKey: keys.publicKey, sig });
    let n = 0;
    const chain = new P.ChainBuilder(
      deviceId,
      keys.privateKey,
      stamp === 'now' ? {} : { now: () => Math.round(from + n * step) },
    );
    const batches = [];
    let ops = [];
    let shift = '';
    for (; n < opsPerDevice; n++) {
      // Arrival ids: batch b of device d arrives (b × devices + d)-th; its ops keep their order within it.
      const id =
        stamp === 'outage-arrival-ids'
          ? P.uuidv7(from + (Math.floor(n / BATCH) * devices + d) * BATCH + (n % BATCH), randomBytes(10))
          : stamp === 'outage-v7-ids'
            ? P.uuidv7(Math.round(from + n * step), randomBytes(10))
            : undefined;
      const op =
        n === 0
          ? chain.next('shift.opened', SHIFT_BODY, undefined, id)
          : chain.next('sale.recorded', saleBody(shift, n), undefined, id);
      if (n === 0) shift = op.id;
      ops.push(op);
      if (ops.length === BATCH || n === opsPerDevice - 1) {
        batches.push(JSON.stringify(P.signBatch(deviceId, ops, key, Date.now(), opsPerDevice)));
        ops = [];
      }
    }
    perDevice.push(batches);
  }
  const interleaved = [];
  for (let b = 0; b < perDevice[0].length; b++) for (const batches of perDevice) interleaved.push(batches[b]);

  const bytesBefore = writtenBytes();
  const t0 = performance.now();
  for (const text of interleaved) {
    const response = await service.ingest(JSON.parse(text));
    const refused = response.results.find((r) => r.status !== 'accepted');
    if (refused) throw new Error(`an op was not accepted: ${JSON.stringify(refused)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const total = devices * opsPerDevice;
  const bytes = writtenBytes() - bytesBefore;
  const pages = storage.query('PRAGMA wal_autocheckpoint')[0].wal_autocheckpoint;
  console.log(
    `${devices} devices × ${opsPerDevice} ops, ${stamp} stamps, wal_autocheckpoint ${pages}: ` +
      `${Math.round(total / seconds)} ops/s, ${(bytes / total / 1024).toFixed(1)} KiB written per op`,
  );
  if (sweep) await probeSweep(storage, from - 86_400_000, Date.now() + 1);
  await storage.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Times the outage sweep's read before (one statement, bodies) and now (pages, no bodies), alternated, 3 rounds. */
async function probeSweep(storage, from, to) {
  const heap = () => process.memoryUsage().heapUsed / 2 ** 20;
  const ways = {
    'one statement with bodies (before)': async () => {
      const t = performance.now();
      const input = await storage.reportInput(from, to);
      const ms = performance.now() - t;
      return { events: input.events.length, ms, longest: ms, calls: 1 };
    },
    'device by device, pages of 2,000 without bodies (now)': async () => {
      let events = 0;
      let longest = 0;
      let calls = 0;
      const t = performance.now();
      for (const device of await storage.listDevices()) {
        let after = null;
        do {
          const c = performance.now();
          const page = await storage.outageEvents(device.id, after, from, to, 2_000);
          longest = Math.max(longest, performance.now() - c);
          events += page.events.length;
          after = page.next;
          calls++;
        } while (after !== null);
      }
      return { events, ms: performance.now() - t, longest, calls };
    },
  };
  for (let round = 1; round <= 3; round++) {
    for (const [name, read] of Object.entries(ways)) {
      globalThis.gc?.();
      const before = heap();
      const r = await read();
      const grown = heap() - before;
      console.log(
        `sweep read, ${name}, round ${round}: ${r.events} events in ${r.ms.toFixed(0)} ms ` +
          `(${((r.ms * 1000) / r.events).toFixed(1)} µs/event), ${r.calls} calls, longest ${r.longest.toFixed(0)} ms, ` +
          `heap +${grown.toFixed(0)} MiB`,
      );
    }
  }
}
