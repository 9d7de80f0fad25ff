/**
 * The simulated wristbands' log (simulated-wristbands.ts) on a real file
 * through the same synchronous interface an OPFS access handle offers:
 * chips kept across reopen, compare-and-set writes, a torn last line
 * ignored, the reader's refusals.
 */
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WristbandRefusedError } from '@holdfast/terminal/portable';
import { ChipLog, SimulatedWristbandReader, type SyncFile, WristbandSimulatorError } from './simulated-wristbands.js';

const UID = '04A1B2C3D4E5F6';

/** A file on disk behind the access handle's synchronous methods. */
function fileAt(path: string): SyncFile & { size(): number } {
  const fd = openSync(path, 'a+');
  let size = 0;
  const buf = Buffer.alloc(1 << 16);
  for (let n = readSync(fd, buf, 0, buf.length, 0); n > 0; n = readSync(fd, buf, 0, buf.length, size)) size += n;
  return {
    getSize: () => size,
    size: () => size,
    read: (buffer, { at }) => readSync(fd, buffer, 0, buffer.length, at),
    write: (buffer, { at }) => {
      const n = writeSync(fd, buffer, 0, buffer.length, at);
      size = Math.max(size, at + n);
      return n;
    },
    flush: () => fsyncSync(fd),
    close: () => closeSync(fd),
  };
}

function withDir(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-chips-'));
  try {
    fn(join(dir, 'chips.log'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a chip issued and written is read back after reopening the file', () =>
  withDir((path) => {
    const file = fileAt(path);
    const chips = new ChipLog(file);
    assert.deepEqual(chips.issue(UID, 'EUR'), { uid: UID, balance: 0, counter: 0, currency: 'EUR' });
    chips.write({ uid: UID, expectedCounter: 0, balance: 2000, counter: 1 });
    file.close();
    const again = fileAt(path);
    assert.deepEqual(new ChipLog(again).get(UID), { uid: UID, balance: 2000, counter: 1, currency: 'EUR' });
    again.close();
  }));

test('a write whose expected counter is not the chip’s changes nothing', () =>
  withDir((path) => {
    const file = fileAt(path);
    const chips = new ChipLog(file);
    chips.issue(UID, 'EUR');
    chips.write({ uid: UID, expectedCounter: 0, balance: 500, counter: 1 });
    assert.throws(() => chips.write({ uid: UID, expectedCounter: 0, balance: 900, counter: 1 }), /counter is 1/);
    assert.throws(() => chips.write({ uid: UID, expectedCounter: 1, balance: -1, counter: 2 }), /refused write/);
    assert.throws(() => chips.write({ uid: UID, expectedCounter: 1, balance: 100, counter: 5 }), /refused write/);
    assert.deepEqual(chips.get(UID), { uid: UID, balance: 500, counter: 1, currency: 'EUR' });
    file.close();
  }));

test('a torn last line (a write cut short) is not a chip image', () =>
  withDir((path) => {
    const file = fileAt(path);
    const chips = new ChipLog(file);
    chips.issue(UID, 'EUR');
    chips.write({ uid: UID, expectedCounter: 0, balance: 700, counter: 1 });
    file.close();
    appendFileSync(path, `{"uid":"${UID}","balance":1,"coun`);
    const torn = fileAt(path);
    assert.equal(new ChipLog(torn).get(UID)?.balance, 700);
    torn.close();
  }));

test('the simulator refuses a malformed uid, a duplicate and a bad currency', () =>
  withDir((path) => {
    const file = fileAt(path);
    const chips = new ChipLog(file);
    assert.throws(() => chips.issue('04a1b2c3', 'EUR'), WristbandSimulatorError);
    assert.throws(() => chips.issue(UID, 'euro'), WristbandSimulatorError);
    chips.issue(UID, 'EUR');
    assert.throws(() => chips.issue(UID, 'EUR'), /exists already/);
    file.close();
  }));

test('the reader: no chip held, a lifted wristband, another wristband', () =>
  withDir((path) => {
    const file = fileAt(path);
    const chips = new ChipLog(file);
    chips.issue(UID, 'EUR');
    assert.throws(
      () => new SimulatedWristbandReader(chips, null).read(),
      (e) => e instanceof WristbandRefusedError && e.code === 'no_chip',
    );
    const lifted = new SimulatedWristbandReader(chips, UID, { liftDuringWrite: true });
    assert.throws(() => lifted.write({ uid: UID, expectedCounter: 0, balance: 100, counter: 1 }), /left the reader/);
    assert.equal(chips.get(UID)?.counter, 0, 'a lifted wristband is not written');
    // Lifted once: the next write reaches the chip.
    lifted.write({ uid: UID, expectedCounter: 0, balance: 100, counter: 1 });
    assert.equal(lifted.read().balance, 100);
    assert.throws(
      () => lifted.write({ uid: '04FFFFFFFF', expectedCounter: 1, balance: 0, counter: 2 }),
      /another wristband/,
    );
    file.close();
  }));
