/**
 * The browser journal in real Chromium: the shared conformance suite
 * (packages/terminal/src/testing/journal-conformance.ts) plus what only a
 * browser has: a reload, a second tab, a restart of the browser process, and
 * the process killed mid-write.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Op } from '@holdfast/protocol';
import type { AppendInput } from '@holdfast/terminal/portable';
import {
  allOps,
  assertChain,
  conformanceInput,
  type JournalDriver,
  journalConformance,
} from '@holdfast/terminal/testing/journal-conformance';
import type { BrowserContext, Page } from 'playwright-core';
import type * as Client from './client.js';
import { browserPids, buildBundle, launchPersistent, serveBundle } from './testing/browser-harness.js';

declare global {
  interface Window {
    hf: typeof Client;
    hfReady: boolean;
    journal: Client.BrowserJournal;
  }
}

let origin = '';
let server: Server;
let context: BrowserContext;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-chromium-'));
let tills = 0;
const newTill = () => `till-${process.pid}-${Date.now()}-${++tills}`;

before(async () => {
  buildBundle();
  ({ origin, server } = await serveBundle());
  context = await launchPersistent(profile);
});

after(async () => {
  await context?.close();
  server?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

/** Loads the test page in `page` and opens `till`'s journal there; resolves with what persist() answered. */
async function openIn(page: Page, till: string, lockBudgetMs = 3000): Promise<boolean> {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.hfReady === true);
  return page.evaluate(
    async ({ till, lockBudgetMs, workerUrl }) => {
      window.journal = await window.hf.openBrowserJournal({ till, workerUrl, lockBudgetMs });
      return window.journal.persisted;
    },
    { till, lockBudgetMs, workerUrl: `${origin}/journal-worker.js` },
  );
}

/** A driver over the journal of `till` opened in a page of `ctx`. */
async function browserDriver(ctx: BrowserContext, till: string): Promise<JournalDriver> {
  const page = await ctx.newPage();
  await openIn(page, till);
  return {
    append: (input: AppendInput) => page.evaluate((i) => window.journal.append(i), input),
    ops: (afterSeq, limit) => page.evaluate(([a, l]) => window.journal.ops(a, l), [afterSeq, limit] as const),
    head: () => page.evaluate(() => window.journal.head()),
    counts: () => page.evaluate(() => window.journal.counts()),
    integrity: () => page.evaluate(() => window.journal.integrity()),
    reopen: async () => {
      // A reload: the page goes away without closing anything; the new page opens the journal again.
      await page.reload();
      await page.waitForFunction(() => window.hfReady === true);
      await page.evaluate(
        async ({ till, workerUrl }) => {
          window.journal = await window.hf.openBrowserJournal({ till, workerUrl });
        },
        { till, workerUrl: `${origin}/journal-worker.js` },
      );
    },
    close: async () => {
      await page.evaluate(() => window.journal.close());
      await page.close();
    },
  };
}

journalConformance('browser (SQLite WASM, opfs-sahpool, Chromium)', () => browserDriver(context, newTill()));

/** Appends `count` ops inside the page, one after the other, each awaited (durable) before the next. */
async function appendMany(page: Page, inputs: AppendInput[]): Promise<Op[]> {
  return page.evaluate(async (list) => {
    const out = [];
    for (const input of list) out.push(await window.journal.append(input));
    return out;
  }, inputs);
}

describe('browser journal: what only a browser has', () => {
  test('a second tab opening the same till is refused, and gets it once the first closes', async () => {
    const till = newTill();
    const first = await context.newPage();
    const second = await context.newPage();
    try {
      await openIn(first, till);
      const op = await first.evaluate((i) => window.journal.append(i), conformanceInput(1));
      await assert.rejects(openIn(second, till, 300), (error: Error) => {
        assert.match(error.message, /open in another tab or window: one till, one writer/);
        return true;
      });
      // The refused tab changed nothing; the first goes on recording.
      const next = await first.evaluate((i) => window.journal.append(i), conformanceInput(2));
      assert.equal(next.prev, op.hash);
      await first.evaluate(() => window.journal.close());
      await openIn(second, till);
      const entries = await second.evaluate(() => window.journal.ops(0, 10));
      assert.deepEqual(
        entries.map((e) => e.op),
        [op, next],
      );
      await second.evaluate(() => window.journal.close());
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('persistent storage is asked for and the answer is exposed', async () => {
    const page = await context.newPage();
    try {
      const persisted = await openIn(page, newTill());
      const answer = await page.evaluate(() => navigator.storage.persisted());
      assert.equal(persisted, answer);
      await page.evaluate(() => window.journal.close());
    } finally {
      await page.close();
    }
  });

  test('1,000 pending ops survive a restart of the browser process', async () => {
    const till = newTill();
    let page = await context.newPage();
    await openIn(page, till);
    const inputs = Array.from({ length: 1000 }, (_, i) => conformanceInput(i + 1, { line: i }));
    const written = await appendMany(page, inputs);
    assert.equal(written.length, 1000);
    await context.close();
    context = await launchPersistent(profile);
    page = await context.newPage();
    await openIn(page, till);
    const entries = await allOps({
      ops: (a, l) => page.evaluate(([x, y]) => window.journal.ops(x, y), [a, l] as const),
    } as JournalDriver);
    assert.deepEqual(
      entries.map((e) => e.op),
      written,
    );
    assert.ok(entries.every((e) => e.state === 'pending'));
    assertChain(entries);
    assert.equal(await page.evaluate(() => window.journal.integrity()), 'ok');
    assert.deepEqual(await page.evaluate(() => window.journal.counts()), { pending: 1000, confirmed: 0, dead: 0 });
    await page.evaluate(() => window.journal.close());
    await page.close();
  });

  test('SIGKILL of the browser mid-write, three times: every acknowledged op is there once, nothing doubled, chain and file sound', async () => {
    const till = newTill();
    const inputs = Array.from({ length: 2_000 }, (_, i) => conformanceInput(i + 1, { line: i }));
    let recorded = 0;
    for (let round = 1; round <= 3; round++) {
      const page = await context.newPage();
      await openIn(page, till);
      // The page records as fast as it can and notes each op the journal acknowledged (durable).
      await page.evaluate((list) => {
        const w = window as unknown as { acked: string[] };
        w.acked = [];
        void (async () => {
          for (const input of list) {
            await window.journal.append(input);
            w.acked.push(input.id);
          }
        })();
      }, inputs.slice(recorded));
      await page.waitForFunction(
        () => (window as unknown as { acked: string[] }).acked.length >= 100 + Math.floor(Math.random() * 100),
      );
      const acked = await page.evaluate(() => [...(window as unknown as { acked: string[] }).acked]);
      const pids = browserPids(profile);
      assert.ok(pids.length > 0, 'the browser processes were found');
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone with its parent
        }
      }
      await context.close().catch(() => undefined);
      context = await launchPersistent(profile);
      const reopened = await context.newPage();
      await openIn(reopened, till);
      const entries = await allOps({
        ops: (a, l) => reopened.evaluate(([x, y]) => window.journal.ops(x, y), [a, l] as const),
      } as JournalDriver);
      assert.equal(await reopened.evaluate(() => window.journal.integrity()), 'ok', `round ${round}: integrity`);
      assertChain(entries);
      const ids = entries.map((e) => e.op.id);
      assert.equal(new Set(ids).size, ids.length, `round ${round}: no op recorded twice`);
      // Ops are recorded in input order: the journal is a prefix of the inputs, covering every acknowledged op.
      assert.deepEqual(
        ids,
        inputs.slice(0, ids.length).map((i) => i.id),
        `round ${round}: the journal is the inputs in order, without a gap`,
      );
      assert.ok(
        ids.length >= recorded + acked.length,
        `round ${round}: all ${recorded + acked.length} acknowledged ops are there (found ${ids.length})`,
      );
      recorded = ids.length;
      await reopened.evaluate(() => window.journal.close());
      await reopened.close();
    }
  });
});

describe('browser build against the protocol test vectors (docs/test-vectors)', () => {
  const read = (name: string) =>
    JSON.parse(fs.readFileSync(new URL(`../../../docs/test-vectors/${name}`, import.meta.url), 'utf8')) as unknown;

  test('canonical JSON, op hashes, the batch message and its WebCrypto Ed25519 signature match byte for byte', async () => {
    const vectors = { canonical: read('canonical-json.json'), chain: read('chain.json'), batch: read('batch.json') };
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => window.hfReady === true);
      const failures = await page.evaluate(async (v) => {
        const hf = window.hf;
        const out: string[] = [];
        const canonical = v.canonical as {
          cases: { name: string; input: string; output: string }[];
          refused: { name: string; input: string }[];
        };
        for (const c of canonical.cases) {
          const got = hf.canonicalJson(JSON.parse(c.input));
          if (got !== c.output) out.push(`canonical ${c.name}: ${got}`);
        }
        for (const r of canonical.refused) {
          try {
            hf.canonicalJson(JSON.parse(r.input));
            out.push(`refused ${r.name}: accepted`);
          } catch {
            // refused, as it must be
          }
        }
        const chain = v.chain as { ops: { unsealed: Parameters<typeof hf.hashOp>[0]; hash: string }[] };
        for (const op of chain.ops) {
          const got = hf.hashOp(op.unsealed);
          if (got !== op.hash) out.push(`hash of op ${op.unsealed.seq}: ${got}`);
        }
        const batch = v.batch as {
          key: { privateKeyPkcs8: string; publicKey: string };
          request: Parameters<typeof hf.batchMessage>[0] & { sig: string };
          messageCanonical: string;
        };
        const message = hf.batchMessage(batch.request);
        if (hf.canonicalJson(message) !== batch.messageCanonical) out.push('batch message differs');
        const sig = await hf.signMessageWebCrypto(message, batch.key.privateKeyPkcs8);
        if (sig !== batch.request.sig) out.push(`batch signature: ${sig}`);
        if (!(await hf.verifyMessageWebCrypto(message, batch.request.sig, batch.key.publicKey))) {
          out.push('the vector signature does not verify');
        }
        const tampered = { ...message, latestSeq: message.latestSeq + 1 };
        if (await hf.verifyMessageWebCrypto(tampered, batch.request.sig, batch.key.publicKey)) {
          out.push('a tampered message verifies');
        }
        return out;
      }, vectors);
      assert.deepEqual(failures, []);
    } finally {
      await page.close();
    }
  });
});
