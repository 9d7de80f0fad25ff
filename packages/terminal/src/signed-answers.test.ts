/**
 * Signed answers (docs/protocol.md §2): a terminal enrolled with a server
 * that signs its answers marks nothing confirmed from an answer the server
 * did not sign for that very request; such an answer counts as no answer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Batch,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  type OpQuery,
  type OpQueryResponse,
  refusalAnswer,
  signAnswer,
} from '@holdfast/protocol';
import { createHarness, type Harness, openTill } from './testing/harness.js';
import type { Transport, TransportResult } from './transport.js';

const SERVER_KEY = generateDeviceKeys();
const KEY_ID = 'k1';

type Tamper = {
  batch?: (res: TransportResult<IngestResponse>, batch: Batch) => TransportResult<IngestResponse>;
  query?: (res: TransportResult<OpQueryResponse>, query: OpQuery) => TransportResult<OpQueryResponse>;
};

/** The fake server behind someone on the path who may rewrite its answers. */
function onThePath(h: Harness, tamper: Tamper): Transport {
  const server = h.server;
  return {
    enroll: (req) => server.enroll(req),
    sendBatch: async (batch) => {
      const res = await server.sendBatch(batch);
      return tamper.batch ? tamper.batch(res, batch) : res;
    },
    queryOps: async (query) => {
      const res = await server.queryOps(query);
      return tamper.query ? tamper.query(res, query) : res;
    },
    fetchPolicy: (req) => server.fetchPolicy(req),
    fetchFeed: (req) => server.fetchFeed(req),
    ping: () => server.ping(),
  };
}

async function signingServer(tamper: Tamper, signs = true): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false });
  h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };
  if (signs) h.server.answerKey = { id: KEY_ID, privateKey: importPrivateKey(SERVER_KEY.privateKey) };
  const terminal = await h.reopen({ transport: onThePath(h, tamper), autoSync: false });
  await terminal.enroll(h.server.createToken());
  openTill(terminal);
  return h;
}

const pick = (a: { serverKey: string; serverSig: string }) => ({ serverKey: a.serverKey, serverSig: a.serverSig });

describe('signed answers', () => {
  test('a genuine signed answer confirms the ops', async () => {
    const h = await signingServer({});
    try {
      await h.terminal.syncNow();
      assert.deepEqual([h.terminal.status().confirmed, h.terminal.status().pending], [1, 0]);
    } finally {
      await h.cleanup();
    }
  });

  for (const [name, forge] of [
    ['unsigned', (_res: TransportResult<IngestResponse>, body: IngestResponse) => body],
    [
      'with the signature of the answer the server gave',
      (res: TransportResult<IngestResponse>, body: IngestResponse) =>
        res.ok ? { ...body, serverKey: res.body.serverKey ?? '', serverSig: res.body.serverSig ?? '' } : body,
    ],
  ] as const) {
    test(`a forged "accepted" (${name}) confirms nothing and dead-letters nothing`, async () => {
      let forged = 0;
      const h = await signingServer({
        batch: (res, batch) => {
          forged++;
          const results = batch.ops.map((op) => ({ id: op.id, seq: op.seq, status: 'accepted' as const, at: 1 }));
          const body = { device: batch.device, results, highWater: 99, serverTime: 1 };
          return { ok: true, status: 200, body: forge(res, body) };
        },
      });
      try {
        await h.terminal.syncNow();
        assert.equal(forged, 1);
        const s = h.terminal.status();
        assert.deepEqual([s.confirmed, s.pending, s.deadLetters], [0, 1, 0]);
        assert.match(s.lastError ?? '', /unverifiable answer/);
      } finally {
        await h.cleanup();
      }
    });
  }

  test("an old signed answer replayed for a new request (another request's signature) confirms nothing", async () => {
    let first: TransportResult<IngestResponse> | null = null;
    const h = await signingServer({
      batch: (res) => {
        first ??= res;
        return first;
      },
    });
    try {
      await h.terminal.syncNow(); // the genuine answer: the shift is confirmed
      assert.equal(h.terminal.status().confirmed, 1);
      h.terminal.recordSale({
        lines: [{ sku: 'A', name: 'a', qty: 1, unitPrice: 100 }],
        tenders: [{ type: 'cash', amount: 100, tendered: 100 }],
      });
      await h.terminal.syncNow(); // answered with the first answer again
      assert.deepEqual([h.terminal.status().confirmed, h.terminal.status().pending], [1, 1]);
    } finally {
      await h.cleanup();
    }
  });

  test('a status answer that does not verify settles nothing and counts as no answer', async () => {
    const h = await signingServer({
      batch: () => ({ ok: false, status: 503, error: { code: 'overloaded', message: 'busy', retryable: true } }),
      query: (res) => (res.ok ? { ...res, body: { ...res.body, highWater: res.body.highWater + 1 } } : res),
    });
    try {
      await assert.rejects(h.terminal.requery(), /unverifiable answer/);
      assert.deepEqual([h.terminal.status().confirmed, h.terminal.status().pending], [0, 1]);
    } finally {
      await h.cleanup();
    }
  });

  const revoked = { code: 'device_revoked' as const, message: 'stolen', retryable: false };

  test('a forged "device_revoked" (unsigned) on a batch stops nothing: no op dead-lettered, the till syncs on', async () => {
    let forge = true;
    const h = await signingServer({
      batch: (res) => (forge ? { ok: false, status: 403, error: revoked } : res),
    });
    try {
      await h.terminal.syncNow();
      const s = h.terminal.status();
      assert.deepEqual([h.terminal.revoked, s.confirmed, s.pending, s.deadLetters], [false, 0, 1, 0]);
      assert.match(s.lastError ?? '', /unverifiable refusal device_revoked/);
      forge = false;
      h.clock.advance(60_000);
      await h.terminal.syncNow();
      assert.deepEqual([h.terminal.revoked, h.terminal.status().confirmed], [false, 1]);
    } finally {
      await h.cleanup();
    }
  });

  test('a refusal signed for another request, or an unsigned one on a status query, stops nothing', async () => {
    const key = { id: KEY_ID, privateKey: importPrivateKey(SERVER_KEY.privateKey) };
    // Signed by the server's key, but for another request: as a replay would be.
    const elsewhere = signAnswer('batches', 'the-signature-of-another-request', refusalAnswer(revoked), key);
    let forge = true;
    const h = await signingServer({
      batch: (res) => (forge ? { ok: false, status: 403, error: { ...revoked, ...pick(elsewhere) } } : res),
      query: (res) => (forge ? { ok: false, status: 403, error: revoked } : res),
    });
    try {
      await h.terminal.syncNow();
      assert.match(h.terminal.status().lastError ?? '', /unverifiable refusal device_revoked: .*does not verify/);
      await assert.rejects(h.terminal.requery(), /unverifiable refusal device_revoked/);
      assert.deepEqual(
        [h.terminal.revoked, h.terminal.status().pending, h.terminal.status().deadLetters],
        [false, 1, 0],
      );
      forge = false;
      h.clock.advance(60_000);
      await h.terminal.syncNow();
      assert.deepEqual([h.terminal.revoked, h.terminal.status().confirmed], [false, 1]);
    } finally {
      await h.cleanup();
    }
  });

  test('the server\'s own signed "device_revoked" stops the till, as before', async () => {
    const h = await signingServer({});
    try {
      h.server.revoke(h.terminal.deviceId as string, 'stolen');
      await h.terminal.syncNow();
      assert.deepEqual([h.terminal.revoked, h.terminal.status().deadLetters], [true, 1]);
    } finally {
      await h.cleanup();
    }
  });

  test('a terminal enrolled with a server that does not sign takes its unsigned answers', async () => {
    const h = await signingServer({}, false);
    try {
      await h.terminal.syncNow();
      assert.equal(h.terminal.status().confirmed, 1);
    } finally {
      await h.cleanup();
    }
  });
});
