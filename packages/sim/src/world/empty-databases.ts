/**
 * Empty databases, made once per process and copied into every world.
 *
 * Each seed starts a server on a new SQLite file and opens a new journal for
 * every terminal; migrating an empty server schema costs ~35 ms of CPU and
 * an empty journal ~7 ms, the same work for every seed (docs/performance.md,
 * "Simulator"). The first world of a process migrates one of each in a temp
 * directory with the real code (SqliteStorage.migrate, Journal.open); later
 * worlds start from a byte copy of those files. Opening a copy runs the same
 * code as opening a fresh file: it finds every migration applied and goes
 * on as it would on a restart. Nothing in an empty database depends on the
 * seed (the migrations' `applied_at` is wall time, which no check reads).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SqliteStorage } from '@holdfast/server';
import { Journal } from '@holdfast/terminal';

interface Template {
  /** The file's name inside its directory (the journal's is the terminal's to choose). */
  name: string;
  bytes: Buffer;
}

let server: Template | null = null;
let journal: Template | null = null;

/** Makes `file`, unless it exists, a copy of an empty, fully migrated server database. */
export async function writeEmptyServerDatabase(file: string): Promise<void> {
  if (existsSync(file)) return;
  if (!server) server = await makeServerTemplate();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, server.bytes);
}

/** Puts an empty, fully migrated journal into the terminal data directory `dir`, unless it holds one. */
export function writeEmptyJournal(dir: string): void {
  if (!journal) journal = makeJournalTemplate();
  const file = join(dir, journal.name);
  if (existsSync(file)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, journal.bytes, { mode: 0o600 });
}

async function makeServerTemplate(): Promise<Template> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sim-server-'));
  try {
    const file = join(dir, 'holdfast.db');
    const storage = new SqliteStorage({ path: file, synchronous: 'OFF' });
    await storage.migrate();
    // Closing the last connection checkpoints the WAL into the file and removes it.
    await storage.close();
    return { name: basename(file), bytes: readFileSync(file) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeJournalTemplate(): Template {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sim-journal-'));
  try {
    const opened = Journal.open(dir, { synchronous: 'OFF' });
    const file = opened.path;
    opened.close();
    return { name: basename(file), bytes: readFileSync(file) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
