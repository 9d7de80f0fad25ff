/**
 * The rejections-counted rule bites: a real server ingests ops it stores as
 * rejected (unknown kinds, an invalid body), aggregated into one op_rejected
 * per device and cause; the rule finds the counts right. Then a row's count
 * is tampered with, and a row is deleted, and the rule names each cause.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ChainBuilder,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  type OpKind,
  signMessage,
} from '@holdfast/protocol';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import Database from 'better-sqlite3';
import { readServer } from '../server-reader.js';
import { SqliteServerReader } from '../sqlite/sqlite-server-reader.js';
import type { Truth } from '../truth.js';
import { exceptionRules } from './exceptions.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-rejections-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function truthOf(path: string): Promise<Truth> {
  const reader = SqliteServerReader.open(path);
  try {
    return { journals: [], server: await readServer(reader), processor: null };
  } finally {
    await reader.close();
  }
}

const counted = (truth: Truth) =>
  exceptionRules(truth)
    .filter((v) => v.rule === 'rejections-counted')
    .map((v) => v.message);

describe('rejections-counted rule', () => {
  it('finds the aggregated counts right, and names each cause whose count was changed or lost', async () => {
    const path = join(dir, 'server.db');
    const storage = new SqliteStorage({ path });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    try {
      const { token } = await service.createEnrollmentToken({});
      const keys = generateDeviceKeys();
      const key = importPrivateKey(keys.privateKey);
      const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
      const { deviceId } = await service.enroll({ token, publicKey: keys.publicKey, sig });
      const chain = new ChainBuilder(deviceId, key);
      const unknown = 'ticket.cashed_out' as OpKind;
      const first = [1, 2, 3].map((i) => chain.next(unknown, { stake: i } as never));
      await service.ingest(chain.batch(first));
      // A second batch: the open row of the same cause grows; an invalid body opens another cause.
      const second = [chain.next(unknown, { stake: 4 } as never), chain.next('cash.moved', { amount: -1 } as never)];
      await service.ingest(chain.batch(second));
    } finally {
      await storage.close();
    }

    const honest = await truthOf(path);
    assert.deepEqual(
      honest.server.exceptions.map((x) => [x.type, x.detail.cause, x.count]),
      [
        ['op_rejected', 'unknown_kind', 4],
        ['op_rejected', 'invalid_body:body.shift', 1],
      ],
    );
    assert.deepEqual(counted(honest), []);

    const db = new Database(path);
    db.prepare("UPDATE exceptions SET occurrences = 3 WHERE detail LIKE '%unknown_kind%'").run();
    db.prepare("DELETE FROM exceptions WHERE detail LIKE '%invalid_body%'").run();
    db.close();
    assert.deepEqual(counted(await truthOf(path)), [
      '4 ops of cause unknown_kind stored as rejected, but its op_rejected exceptions count 3',
      '1 ops of cause invalid_body:body.shift stored as rejected, but its op_rejected exceptions count 0',
    ]);
  });
});
