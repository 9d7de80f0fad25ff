/**
 * The terminal side of the rules: each journal against what the app saw
 * recorded, against its own hash chain, and against the server's copy of
 * every op; and (for a device restored from an old image) whether its fork
 * was flagged on both sides.
 *
 *   recorded-durable  every op the app saw recorded is in its journal, as recorded
 *   journal-chain     each journal holds seqs 1..n, each op linking to the one before
 *   lost              every confirmed journal op is stored on the server (same device, seq, hash)
 *   view-agrees       the terminal's view of each op (confirmed, dead) agrees with the server
 *   dead-letter       every dead letter has a reason, and none exist without an injected cause
 *   not-drained       nothing is pending on a terminal after the drain
 *   chain             each device's chain on the server is complete: 1..n, no gap, head = journal head
 *   fork              a restored device's collisions are flagged on both sides
 */
import { canonicalJson, hashOp, type OpResult } from '@holdfast/protocol';
import type { JournalEntry } from '@holdfast/terminal';
import { storedPart } from '../stored-part.js';
import type { JournalTruth, ServerOpRow, Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

/** Every journal rule over every journal. */
export function journalRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  for (const journal of truth.journals) out.push(...checkJournal(truth, journal));
  return out;
}

function checkJournal(truth: Truth, journal: JournalTruth): Violation[] {
  const out: Violation[] = [];
  const index = indexTruth(truth);
  const serverOps = index.opsById;
  const device = journal.deviceId;
  const label = journal.label;
  const observed = index.observed(label);
  const injected = index.injected(journal);
  const at = (entry: { id: string; seq: number }) => ({ device: label, opId: entry.id, seq: entry.seq });
  const journalIds = new Map<string, JournalEntry>();
  let prevHash: string | null = null;
  let expectedSeq = 1;
  let pending = 0;
  let firstPending: JournalEntry | null = null;
  const forkedSeqs: number[] = [];

  for (const e of journal.entries) {
    journalIds.set(e.id, e);
    if (
      e.seq !== expectedSeq ||
      (prevHash !== null && e.op.prev !== prevHash) ||
      e.op.hash !== e.hash ||
      hashOp(e.op) !== e.hash
    ) {
      out.push({
        rule: 'journal-chain',
        ...at(e),
        message: `journal op at seq ${e.seq} breaks the chain (expected seq ${expectedSeq})`,
      });
    }
    expectedSeq = e.seq + 1;
    prevHash = e.hash;
    const s = serverOps.get(e.id);
    if (e.state === 'pending') {
      pending++;
      firstPending ??= e;
      continue;
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
      continue;
    }
    out.push(...checkConfirmed(e, s, device, at(e)));
  }
  for (const d of journal.deadLetters) {
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

  // A restored device may end blocked behind its forks (an operator must act): then it must say so.
  const blocked = injected && observed?.blocked === true;
  if (firstPending && !blocked) {
    out.push({
      rule: 'not-drained',
      ...at(firstPending),
      message: `${pending} ops still pending on the terminal after the drain, from seq ${firstPending.seq}`,
    });
  }

  // What the app saw recorded must be in the journal (unless a restore took it away: injected).
  if (observed) {
    const discarded = new Set(observed.discarded);
    for (const intent of observed.intents) {
      const e = journalIds.get(intent.id);
      // A restore may discard an op whose online approval the restored image still holds as asked:
      // the till finishes it again under the same id, at the same or a later seq (the server, which has the
      // first, refuses it as a conflict). Discarded, then re-recorded, is not a durability fault.
      const rerecorded = e !== undefined && discarded.has(intent.id) && e.seq >= intent.seq;
      if (rerecorded) continue;
      if (e ? e.seq !== intent.seq || e.hash !== intent.hash : !discarded.has(intent.id)) {
        out.push({
          rule: 'recorded-durable',
          ...at(intent),
          message: `the app saw seq ${intent.seq} (${intent.kind}) recorded, but the journal ${e ? 'holds something else there' : 'lost it'}`,
        });
      }
    }
    const notSeen = journalIds.size - observed.intents.filter((i) => journalIds.has(i.id)).length;
    if (notSeen > observed.cutRecords) {
      out.push({
        rule: 'recorded-durable',
        device: label,
        message: `${notSeen} journal ops were never seen recorded by the app, but only ${observed.cutRecords} record calls died after their commit`,
      });
    }
  }

  if (!device) return out;
  out.push(...checkServerChain(truth, journal, device, expectedSeq - 1, injected));
  if (injected) out.push(...checkInjectedFork(truth, journal, device, forkedSeqs));
  return out;
}

/** A confirmed journal op: stored on the server as recorded, with the result the terminal holds. */
function checkConfirmed(
  e: JournalEntry,
  s: ServerOpRow | undefined,
  device: string | null,
  where: { device: string; opId: string; seq: number },
): Violation[] {
  if (!s) {
    return [
      {
        rule: 'lost',
        ...where,
        message: `seq ${e.seq} (${e.kind}) is confirmed on the terminal but not stored on the server`,
      },
    ];
  }
  if (s.device !== device || s.seq !== e.seq || s.hash !== e.hash) {
    return [
      {
        rule: 'lost',
        ...where,
        message: `the server stores op ${e.id} as device ${s.device} seq ${s.seq} hash ${s.hash.slice(0, 12)}…, the terminal recorded seq ${e.seq} hash ${e.hash.slice(0, 12)}…`,
      },
    ];
  }
  const stored = storedPart(e.result as OpResult);
  if (s.status !== 'accepted' || !stored || canonicalJson(stored) !== canonicalJson(JSON.parse(s.result))) {
    return [
      {
        rule: 'view-agrees',
        ...where,
        message: `the terminal holds result ${JSON.stringify(stored)} for seq ${e.seq}, the server stored ${s.result}`,
      },
    ];
  }
  return [];
}

/** The device's chain on the server: seqs 1..n with no gap, and its head where the journal's is. */
function checkServerChain(
  truth: Truth,
  journal: JournalTruth,
  device: string,
  journalHead: number,
  injected: boolean,
): Violation[] {
  const out: Violation[] = [];
  const label = journal.label;
  const seqs = truth.server.ops.filter((o) => o.device === device).map((o) => o.seq);
  const n = seqs.length;
  const lo = n > 0 ? Math.min(...seqs) : null;
  const hi = n > 0 ? Math.max(...seqs) : null;
  const head = truth.server.devices.find((d) => d.id === device);
  if (n > 0 && (lo !== 1 || hi !== n)) {
    out.push({
      rule: 'chain',
      device: label,
      message: `the server holds ${n} ops of this device at seqs ${lo}..${hi}: a gap`,
    });
  }
  if (head && head.highWater !== n) {
    out.push({
      rule: 'chain',
      device: label,
      message: `the server's high-water mark ${head.highWater} ≠ ${n} ops stored`,
    });
  }
  if (
    !injected &&
    head &&
    (head.highWater !== journalHead || head.latestSeq !== journalHead || head.gapFrom !== null)
  ) {
    out.push({
      rule: 'chain',
      device: label,
      message: `server head: high water ${head.highWater}, latest seq ${head.latestSeq}, gap from ${head.gapFrom}; the journal's head is seq ${journalHead}`,
    });
  }
  return out;
}

/** A restored device: where its new ops collide with stored ones, the collision must be flagged on both sides. */
function checkInjectedFork(truth: Truth, journal: JournalTruth, device: string, forkedSeqs: number[]): Violation[] {
  const out: Violation[] = [];
  const bySeq = new Map<number, string>();
  for (const s of truth.server.ops) if (s.device === device) bySeq.set(s.seq, s.id);
  const flagged = new Set(
    truth.server.exceptions
      .filter((x) => x.device === device && (x.type === 'fork' || x.type === 'conflict'))
      .map((x) => x.seq),
  );
  for (const e of journal.entries) {
    const holder = bySeq.get(e.seq);
    if (holder !== undefined && holder !== e.id && e.state !== 'dead') {
      out.push({
        rule: 'fork',
        device: journal.label,
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
        device: journal.label,
        seq,
        message: `the terminal dead-lettered seq ${seq} as a fork, but the server raised no alarm for it`,
      });
    }
  }
  return out;
}
