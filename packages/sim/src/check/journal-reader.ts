/**
 * Reads a terminal's journal into a JournalTruth: straight from its data
 * directory (the terminal is down), or through any open handle that pages
 * ops and dead letters (a running Terminal).
 */
import { basename } from 'node:path';
import { type DeadLetter, Journal, type JournalEntry } from '@holdfast/terminal';
import type { JournalTruth } from './truth.js';

/** Pages through a journal: what Journal and (adapted) Terminal both offer. */
export interface JournalPages {
  ops(afterSeq: number, limit: number): JournalEntry[];
  deadLetters(limit: number, afterSeq: number): DeadLetter[];
}

const PAGE = 1000;

/** Reads every op and dead letter through `pages`. */
export function readJournalPages(label: string, deviceId: string | null, pages: JournalPages): JournalTruth {
  const entries: JournalEntry[] = [];
  for (let after = 0; ; ) {
    const page = pages.ops(after, PAGE);
    const last = page.at(-1);
    if (!last) break;
    entries.push(...page);
    after = last.seq;
  }
  const deadLetters: DeadLetter[] = [];
  for (let after = 0; ; ) {
    const page = pages.deadLetters(PAGE, after);
    const last = page.at(-1);
    if (!last) break;
    deadLetters.push(...page);
    after = last.seq;
  }
  return { label, deviceId, entries, deadLetters };
}

/** Reads the journal in `dataDir` (its terminal must be down); the label defaults to the directory's name. */
export function readJournal(dataDir: string, label = basename(dataDir)): JournalTruth {
  const journal = Journal.open(dataDir, { synchronous: 'OFF' });
  try {
    return readJournalPages(label, journal.getMeta('device_id'), journal);
  } finally {
    journal.close();
  }
}

/** Reads several journals from their data directories. */
export function readJournals(dataDirs: readonly string[]): JournalTruth[] {
  return dataDirs.map((dir) => readJournal(dir));
}
