/**
 * One journal conformance suite for every journal implementation: the Node
 * journal (better-sqlite3, journal-conformance.test.ts) and the browser
 * journal (SQLite WASM on OPFS in Chromium, packages/terminal-web). Each
 * implementation supplies a JournalDriver; the cases are the same.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GENESIS_HASH, hashOp, NO_DECISION, type Op, uuidv7 } from '@holdfast/protocol';
import type { AppendInput, ChainHead, JournalEntry, OpCounts } from '../journal-types.js';

/** A journal as the suite drives it: every call asynchronous (the browser's is). */
export interface JournalDriver {
  append(input: AppendInput): Promise<Op>;
  ops(afterSeq: number, limit: number): Promise<JournalEntry[]>;
  head(): Promise<ChainHead>;
  counts(): Promise<OpCounts>;
  /** PRAGMA integrity_check. */
  integrity(): Promise<string>;
  /** Closes the journal and opens it again from its storage (the browser: a page reload). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export const CONFORMANCE_DEVICE = '01934f8e-7b2a-7c3d-8e4f-5a6b7c8d9e0f';
let counter = 0;

/** A valid op input with a unique id; `body` varies to exercise canonical JSON. */
export function conformanceInput(n: number, body: Record<string, unknown> = {}): AppendInput {
  counter++;
  const at = 1_735_689_600_000 + n;
  const random = new Uint8Array(10);
  new DataView(random.buffer).setUint32(2, counter);
  new DataView(random.buffer).setUint32(6, n);
  return {
    id: uuidv7(at, random),
    device: CONFORMANCE_DEVICE,
    kind: 'shift.opened',
    body: { clerk: `clerk-${n}`, currency: 'EUR', openingFloat: n, ...body },
    at,
    decision: NO_DECISION,
  };
}

/** Checks seq 1..n without gaps, every prev link and every hash of `entries` (the whole journal). */
export function assertChain(entries: readonly JournalEntry[]): void {
  let prev = GENESIS_HASH;
  entries.forEach((entry, i) => {
    const { op } = entry;
    assert.equal(op.seq, i + 1, 'seqs run 1..n without a gap or a repeat');
    assert.equal(op.prev, prev, `op ${op.seq} links to the op before it`);
    const { hash, ...unsealed } = op;
    assert.equal(hashOp(unsealed), hash, `op ${op.seq}'s hash is the hash of its content`);
    prev = hash;
  });
}

/** Every op of the journal, page by page. */
export async function allOps(driver: JournalDriver): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for (;;) {
    const page = await driver.ops(out.length === 0 ? 0 : (out[out.length - 1] as JournalEntry).op.seq, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** Registers the conformance cases for one implementation. `open` gives a fresh, empty journal. */
export function journalConformance(name: string, open: () => Promise<JournalDriver>): void {
  describe(`journal conformance: ${name}`, () => {
    test('an appended op reads back identical, sealed and linked', async () => {
      const journal = await open();
      try {
        assert.deepEqual(await journal.head(), { seq: 0, hash: GENESIS_HASH });
        const written: Op[] = [];
        written.push(await journal.append(conformanceInput(1)));
        // Canonical JSON edge cases in the body: non-ASCII, escapes, numbers.
        written.push(
          await journal.append(
            conformanceInput(2, { note: 'Zoë € 𝄞 "q" \\ \n\t\u0001', big: 9007199254740991, neg: -0.5 }),
          ),
        );
        written.push(await journal.append(conformanceInput(3, { nested: { b: [1, 2, { a: null }], a: true } })));
        const entries = await journal.ops(0, 10);
        assert.deepEqual(
          entries.map((e) => e.op),
          written,
        );
        assert.ok(entries.every((e) => e.state === 'pending'));
        assert.deepEqual(await journal.head(), { seq: 3, hash: (written[2] as Op).hash });
        assert.deepEqual(await journal.counts(), { pending: 3, confirmed: 0, dead: 0 });
        assertChain(entries);
        assert.equal(await journal.integrity(), 'ok');
      } finally {
        await journal.close();
      }
    });

    test('ops survive a reopen and the chain continues where it stopped', async () => {
      const journal = await open();
      try {
        const first = await journal.append(conformanceInput(10));
        const second = await journal.append(conformanceInput(11));
        await journal.reopen();
        assert.deepEqual(await journal.head(), { seq: 2, hash: second.hash });
        const third = await journal.append(conformanceInput(12));
        assert.equal(third.seq, 3);
        assert.equal(third.prev, second.hash);
        const entries = await allOps(journal);
        assert.deepEqual(
          entries.map((e) => e.op),
          [first, second, third],
        );
        assertChain(entries);
        assert.equal(await journal.integrity(), 'ok');
      } finally {
        await journal.close();
      }
    });

    test('an op id recorded twice is refused and nothing changes', async () => {
      const journal = await open();
      try {
        const input = conformanceInput(20);
        const op = await journal.append(input);
        await assert.rejects(journal.append({ ...input, at: input.at + 1 }));
        assert.deepEqual(await journal.head(), { seq: 1, hash: op.hash });
        assert.deepEqual(await journal.counts(), { pending: 1, confirmed: 0, dead: 0 });
      } finally {
        await journal.close();
      }
    });

    test('an op that has no canonical JSON is refused before anything is written', async () => {
      const journal = await open();
      try {
        await assert.rejects(journal.append({ ...conformanceInput(31), body: { bad: Number.NaN } }));
        assert.deepEqual(await journal.head(), { seq: 0, hash: GENESIS_HASH });
        assert.equal((await journal.ops(0, 10)).length, 0);
      } finally {
        await journal.close();
      }
    });
  });
}
