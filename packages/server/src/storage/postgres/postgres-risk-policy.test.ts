/**
 * Risk policies on a real PostgreSQL with several server processes (pools):
 * policy versions and the signing key when processes issue at once, the
 * append-only policy table, and the upgrade of a database of the previous
 * release while its processes are still running.
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ManualClock } from '@holdfast/domain/testing';
import {
  ChainBuilder,
  GENESIS_HASH,
  generateDeviceKeys,
  type PolicyDraft,
  type SignedPolicy,
  uuidv7,
  verifyPolicy,
} from '@holdfast/protocol';
import pg from 'pg';
import { HoldfastService } from '../../holdfast-service.js';
import { createHarness, saleBody, T0 } from '../../testing/harness.js';
import { startTestPostgres } from '../../testing/postgres.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';
import { PostgresStorage } from './postgres-storage.js';

const server = await startTestPostgres();
const opened: PostgresStorage[] = [];
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server.stop();
});

async function open(url: string): Promise<PostgresStorage> {
  const storage = new PostgresStorage({ connectionString: url });
  opened.push(storage);
  return storage;
}

function draft(location: string | null): PolicyDraft {
  return {
    scope: { merchant: 'acme', location, event: null, devices: null },
    currency: 'EUR',
    expiresAt: T0 + 86_400_000,
    offline: {
      maxOfflineMs: 3_600_000,
      device: { maxAmount: 50_000, maxCount: 20 },
      tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

describe('PostgreSQL: risk policies with several processes', () => {
  it('three processes issuing at once on a new database: one signing key, distinct consecutive versions per scope', async () => {
    const url = await server.newDatabase();
    const storages = [await open(url), await open(url), await open(url)];
    await Promise.all(storages.map((s) => s.migrate()));
    // Each process has its own clock; the third runs 5 s behind.
    const services = storages.map(
      (storage, i) => new HoldfastService({ storage, clock: new ManualClock(T0 - (i === 2 ? 5_000 : 0)) }),
    );
    const rounds = 4;
    const issued: SignedPolicy[] = await Promise.all(
      services.flatMap((service) =>
        Array.from({ length: rounds }, (_, i) => service.issuePolicy(draft(i % 2 === 0 ? null : 'north'))),
      ),
    );
    const keys = await storages[0]?.listServerKeys();
    assert.equal(keys?.length, 1, 'the processes created one signing key between them');
    const keySet = new Map((keys ?? []).map((k) => [k.id, k.publicKey]));
    for (const p of issued) verifyPolicy(p, keySet);

    const stored = (await storages[1]?.listPolicies()) ?? [];
    assert.equal(stored.length, 3 * rounds);
    for (const location of [null, 'north']) {
      const scoped = stored.filter((p) => p.policy.scope.location === location);
      assert.deepEqual(
        scoped.map((p) => p.policy.version),
        Array.from({ length: scoped.length }, (_, i) => i + 1),
        `scope ${location}: versions 1..n, and oldest first is version order`,
      );
    }
    const issuedAts = stored.map((p) => p.policy.issuedAt);
    assert.equal(new Set(issuedAts).size, issuedAts.length, 'issuedAt is unique');
    assert.deepEqual(
      [...issuedAts].sort((a, b) => a - b),
      issuedAts,
      'issue order is issuedAt order, the slow clock too',
    );
  });

  it('refuses UPDATE, DELETE and TRUNCATE on policies (append-only)', async () => {
    const storage = await open(await server.newDatabase());
    const h = await createHarness({ storage, closeStorage: async () => undefined });
    await h.service.issuePolicy(draft(null));
    const before = await storage.query('SELECT * FROM policies');
    assert.equal(before.length, 1);
    for (const sql of ['UPDATE policies SET version = 7', 'DELETE FROM policies', 'TRUNCATE policies']) {
      await assert.rejects(storage.query(sql), /policies are append-only/, sql);
    }
    assert.deepEqual(await storage.query('SELECT * FROM policies'), before);
  });

  it('upgrades a database of the previous release under its running processes; their devices stay, unplaced', async () => {
    const url = await server.newDatabase();
    const old = new pg.Client({ connectionString: url });
    await old.connect();
    try {
      // The previous release: schema version 1, one device, and (as its ingest does) a named
      // statement prepared on a connection that stays open across the upgrade.
      await old.query(POSTGRES_MIGRATIONS[0] as string);
      await old.query(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL); INSERT INTO schema_migrations VALUES (1, 0)',
      );
      const keys = generateDeviceKeys();
      const device = uuidv7(T0, new Uint8Array(10).fill(7));
      await old.query(
        'INSERT INTO devices (id, label, public_key, enrolled_at, head_hash) VALUES ($1, $2, $3, $4, $5)',
        [device, 'till-old', keys.publicKey, T0, GENESIS_HASH],
      );
      const lock = { name: 'holdfast_ingest_device', text: 'SELECT * FROM devices WHERE id = $1 FOR UPDATE' };
      await old.query({ ...lock, values: [device] });

      const storage = await open(url);
      await storage.migrate();
      assert.equal(await storage.schemaVersion(), POSTGRES_MIGRATIONS.length);
      const again = await old.query({ ...lock, values: [device] });
      assert.equal(again.rows[0]?.id, device, 'the old release’s prepared statement still runs');

      const h = await createHarness({ storage, closeStorage: async () => undefined });
      assert.equal((await storage.deviceStatus(device))?.placement, null);
      const chain = new ChainBuilder(device, keys.privateKey, { now: () => T0 });
      const opened = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
      const res = await h.send(chain.batch([opened, chain.next('sale.recorded', saleBody(opened.id, 100))]));
      assert.deepEqual(
        res.body.results.map((r) => r.status),
        ['accepted', 'accepted'],
      );
    } finally {
      await old.end();
    }
  });
});
