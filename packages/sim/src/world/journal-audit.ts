/**
 * The terminal side of the invariant checker: one lane's journal, read from
 * disk, against what the app saw recorded, against its own hash chain, and
 * against the server's copy of every op (and, for a device restored from an
 * old image, whether the fork was flagged on both sides).
 */
import { canonicalJson, hashOp, type OpResult } from '@holdfast/protocol';
import type { SqliteStorage } from '@holdfast/server';
import { Journal, type JournalEntry } from '@holdfast/terminal';
import type { ServerOp, Violation } from './invariants.js';
import { storedPart } from './op-history.js';
import { JournalBooks } from './shift-books.js';
import type { SimLane } from './sim-lane.js';

/** One lane: its journal against its intents, its own chain, and the server's copy; returns its books. */
export function checkLane(
  lane: SimLane,
  storage: SqliteStorage,
  serverOps: Map<string, ServerOp>,
  recordedIds: Set<string>,
  out: Violation[],
): JournalBooks {
  const device = lane.deviceId;
  const label = lane.label;
  const injected = lane.restores.length > 0;
  const at = (entry: { id: string; seq: number }) => ({ device: label, opId: entry.id, seq: entry.seq });
  const journalIds = new Map<string, JournalEntry>();
  const books = new JournalBooks();
  const state = {
    prevHash: null as string | null,
    expectedSeq: 1,
    pending: 0,
    firstPending: null as JournalEntry | null,
  };
  const forkedSeqs: number[] = [];

  readJournal(lane, (journal) => {
    for (let after = 0; ; ) {
      const page = journal.ops(after, 1000);
      const last = page.at(-1);
      if (!last) break;
      after = last.seq;
      for (const e of page) {
        journalIds.set(e.id, e);
        recordedIds.add(e.id);
        books.add(e.op);
        if (
          e.seq !== state.expectedSeq ||
          (state.prevHash !== null && e.op.prev !== state.prevHash) ||
          e.op.hash !== e.hash ||
          hashOp(e.op) !== e.hash
        ) {
          out.push({
            rule: 'journal-chain',
            ...at(e),
            message: `journal op at seq ${e.seq} breaks the chain (expected seq ${state.expectedSeq})`,
          });
        }
        state.expectedSeq = e.seq + 1;
        state.prevHash = e.hash;
        checkEntry(e);
      }
    }
    for (let after = 0; ; ) {
      const page = journal.deadLetters(500, after);
      const last = page.at(-1);
      if (!last) break;
      after = last.seq;
      for (const d of page) {
        if (!d.reason || !d.message) {
          out.push({ rule: 'dead-letter', ...at(d), message: `dead letter at seq ${d.seq} has no reason` });
        }
        if (!injected) {
          out.push({
            rule: 'dead-letter',
            ...at(d),
            message: `unexpected dead letter at seq ${d.seq}: ${d.reason}: ${d.message}`,
          });
        }
      }
    }
  });

  function checkEntry(e: JournalEntry): void {
    const s = serverOps.get(e.id);
    if (e.state === 'pending') {
      state.pending++;
      state.firstPending ??= e;
      return;
    }
    if (e.state === 'dead') {
      const result = e.result as OpResult | null;
      if (s && s.status === 'accepted' && s.hash === e.hash) {
        out.push({
          rule: 'view-agrees',
          ...at(e),
          message: `the terminal dead-lettered seq ${e.seq}, but the server applied it`,
        });
      } else if (result?.status === 'fork' || result?.status === 'conflict') {
        forkedSeqs.push(e.seq);
      }
      return;
    }
    if (!s) {
      out.push({
        rule: 'lost',
        ...at(e),
        message: `seq ${e.seq} (${e.kind}) is confirmed on the terminal but not stored on the server`,
      });
      return;
    }
    if (s.device !== device || s.seq !== e.seq || s.hash !== e.hash) {
      out.push({
        rule: 'lost',
        ...at(e),
        message: `the server stores op ${e.id} as device ${s.device} seq ${s.seq} hash ${s.hash.slice(0, 12)}…, the terminal recorded seq ${e.seq} hash ${e.hash.slice(0, 12)}…`,
      });
      return;
    }
    const stored = storedPart(e.result as OpResult);
    if (s.status !== 'accepted' || !stored || canonicalJson(stored) !== canonicalJson(JSON.parse(s.result))) {
      out.push({
        rule: 'view-agrees',
        ...at(e),
        message: `the terminal holds result ${JSON.stringify(stored)} for seq ${e.seq}, the server stored ${s.result}`,
      });
    }
  }

  // A restored device may end blocked behind its forks (an operator must act): then it must say so.
  const blocked = injected && lane.terminal?.status().blocked;
  if (state.firstPending && !blocked) {
    out.push({
      rule: 'not-drained',
      ...at(state.firstPending),
      message: `${state.pending} ops still pending on the terminal after the drain, from seq ${state.firstPending.seq}`,
    });
  }

  // What the app saw recorded must be in the journal (unless a restore took it away: injected).
  const discarded = new Set<string>();
  for (const r of lane.restores) for (const d of r.discarded) discarded.add(d.id);
  for (const d of discarded) recordedIds.add(d);
  for (const intent of lane.intents) {
    recordedIds.add(intent.id);
    const e = journalIds.get(intent.id);
    if (e ? e.seq !== intent.seq || e.hash !== intent.hash : !discarded.has(intent.id)) {
      out.push({
        rule: 'recorded-durable',
        ...at(intent),
        message: `the app saw seq ${intent.seq} (${intent.kind}) recorded, but the journal ${e ? 'holds something else there' : 'lost it'}`,
      });
    }
  }
  const notSeen = journalIds.size - lane.intents.filter((i) => journalIds.has(i.id)).length;
  const cutRecords = lane.crashes.filter(
    (c) => c.how === 'record:after-commit' || (c.inWristbandCall && c.how !== 'record:before-commit'),
  ).length;
  if (notSeen > cutRecords) {
    out.push({
      rule: 'recorded-durable',
      device: label,
      message: `${notSeen} journal ops were never seen recorded by the app, but only ${cutRecords} record calls died after their commit`,
    });
  }

  // The device's chain on the server.
  if (!device) return books;
  const [chain] = storage.query<{ n: number; lo: number | null; hi: number | null }>(
    'SELECT COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM ops WHERE device = ?',
    device,
  );
  const [head] = storage.query<{ high_water: number; latest_seq: number; gap_from: number | null }>(
    'SELECT high_water, latest_seq, gap_from FROM devices WHERE id = ?',
    device,
  );
  const n = chain?.n ?? 0;
  if (n > 0 && (chain?.lo !== 1 || chain.hi !== n)) {
    out.push({
      rule: 'chain',
      device: label,
      message: `the server holds ${n} ops of this device at seqs ${chain?.lo}..${chain?.hi}: a gap`,
    });
  }
  if (head && head.high_water !== n) {
    out.push({
      rule: 'chain',
      device: label,
      message: `the server's high-water mark ${head.high_water} ≠ ${n} ops stored`,
    });
  }
  const journalHead = state.expectedSeq - 1;
  if (
    !injected &&
    head &&
    (head.high_water !== journalHead || head.latest_seq !== journalHead || head.gap_from !== null)
  ) {
    out.push({
      rule: 'chain',
      device: label,
      message: `server head: high water ${head.high_water}, latest seq ${head.latest_seq}, gap from ${head.gap_from}; the journal's head is seq ${journalHead}`,
    });
  }
  if (injected) checkInjectedFork(lane, storage, journalIds, serverOps, forkedSeqs, out);
  return books;
}

/** A restored device: where its new ops collide with stored ones, the collision must be flagged on both sides. */
function checkInjectedFork(
  lane: SimLane,
  storage: SqliteStorage,
  journal: Map<string, JournalEntry>,
  serverOps: Map<string, ServerOp>,
  forkedSeqs: number[],
  out: Violation[],
): void {
  const device = lane.deviceId as string;
  const bySeq = new Map<number, string>();
  for (const [id, s] of serverOps) if (s.device === device) bySeq.set(s.seq, id);
  const flagged = new Set(
    storage
      .query<{ seq: number }>("SELECT seq FROM exceptions WHERE device = ? AND type IN ('fork', 'conflict')", device)
      .map((r) => r.seq),
  );
  for (const e of journal.values()) {
    const holder = bySeq.get(e.seq);
    if (holder !== undefined && holder !== e.id && e.state !== 'dead') {
      out.push({
        rule: 'fork',
        device: lane.label,
        opId: e.id,
        seq: e.seq,
        message: `the server holds another op at seq ${e.seq}, but the terminal did not dead-letter its own`,
      });
    }
  }
  for (const seq of forkedSeqs) {
    if (!flagged.has(seq)) {
      out.push({
        rule: 'fork',
        device: lane.label,
        seq,
        message: `the terminal dead-lettered seq ${seq} as a fork, but the server raised no alarm for it`,
      });
    }
  }
}

/** Reads a lane's journal: through its open terminal, or straight from disk while it is down. */
export function readJournal(lane: SimLane, fn: (journal: Pick<Journal, 'ops' | 'deadLetters'>) => void): void {
  const terminal = lane.terminal;
  if (terminal) {
    fn({
      ops: (after, limit) => terminal.ops({ afterSeq: after, limit }),
      deadLetters: (limit, after) => terminal.deadLetters(limit, after),
    });
    return;
  }
  const journal = Journal.open(lane.dir, { synchronous: 'OFF' });
  try {
    fn(journal);
  } finally {
    journal.close();
  }
}
