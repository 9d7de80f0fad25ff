/**
 * Journal on Node: the portable journal (journal-core.ts) opened from a data
 * directory with better-sqlite3, its files private (mode 0600), and the ops
 * in doubt after a disk error kept in an fsynced file next to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openBetterSqlite3 } from './better-sqlite3-connection.js';
import { type InDoubtLog, JournalCore, type JournalCoreOptions } from './journal-core.js';
import type { SqliteConnection } from './sqlite-connection.js';

export {
  type CrashHook,
  type CrashPoint,
  type InDoubtLog,
  type InDoubtOp,
  JournalCore,
  type JournalCoreOptions,
  OPS_PAGE_MAX,
  SYNC_ATTEMPTS_KEPT,
  type WriteLabel,
} from './journal-core.js';

export interface JournalOptions extends JournalCoreOptions {
  /** Opens the SQLite connection (default better-sqlite3): the seam for other bindings and for fault injection. */
  connect?: (file: string) => SqliteConnection;
  /** File listing ops in doubt after a disk error (Journal.open: `<journal>.in-doubt`); none: kept nowhere. */
  inDoubtFile?: string;
}

export class Journal extends JournalCore {
  /** Opens (creating if needed) `<dataDir>/journal.db` with better-sqlite3 and takes its exclusive lock. */
  static open(dataDir: string, options: JournalOptions = {}): Journal {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'journal.db');
    makePrivate(file);
    const connect = options.connect ?? openBetterSqlite3;
    return Journal.attach(connect(file), file, { inDoubtFile: `${file}.in-doubt`, ...options });
  }

  /**
   * Makes the journal on an open connection of any SQLite binding: sets the
   * durability pragmas, migrates, and takes the exclusive lock. `file` names
   * the database in errors. Closes the connection if it throws.
   */
  static override attach(db: SqliteConnection, file: string, options: JournalOptions = {}): Journal {
    const { inDoubtFile, connect: _connect, ...core } = options;
    const inDoubtLog = core.inDoubtLog ?? (inDoubtFile ? fileInDoubtLog(inDoubtFile) : undefined);
    return JournalCore.prepare(db, file, inDoubtLog ? { ...core, inDoubtLog } : core, (init) => new Journal(init));
  }
}

/** The in-doubt list as a file: each line appended and fsynced before append returns. */
export function fileInDoubtLog(file: string): InDoubtLog {
  return {
    append(line) {
      const fd = fs.openSync(file, 'a', 0o600);
      try {
        fs.writeSync(fd, line);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
    read() {
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    },
    clear() {
      fs.rmSync(file, { force: true });
    },
  };
}

/**
 * The journal holds the device's private key: its file and WAL are mode 0600.
 * The database file is created empty with 0600 before SQLite opens it
 * (SQLite creates its -wal and -shm with the database's mode), and files an
 * older version created wider are narrowed.
 */
function makePrivate(file: string): void {
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    if (fs.existsSync(name) && (fs.statSync(name).mode & 0o077) !== 0) fs.chmodSync(name, 0o600);
  }
}
