/** The journal conformance suite on the Node journal (better-sqlite3); the browser runs it in packages/terminal-web. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Journal } from './journal.js';
import { type JournalDriver, journalConformance } from './testing/journal-conformance.js';

journalConformance('Node (better-sqlite3)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-conformance-'));
  let journal = Journal.open(dir);
  const driver: JournalDriver = {
    append: async (input) => journal.append(input),
    ops: async (after, limit) => journal.ops(after, limit),
    head: async () => journal.head,
    counts: async () => journal.counts,
    integrity: async () =>
      String(journal.prepare<[], { integrity_check: string }>('PRAGMA integrity_check').get()?.integrity_check),
    reopen: async () => {
      journal.close();
      journal = Journal.open(dir);
    },
    close: async () => {
      journal.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return driver;
});
