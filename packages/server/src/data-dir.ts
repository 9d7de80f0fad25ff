/**
 * The server's data directory on disk: made ready before the database opens
 * (created, checked writable, its secret-holding files private) and locked
 * for one server process at a time.
 *
 * Every failure here is a DataDirError whose message is one line naming the
 * path and the cause (`EROFS: read-only file system`), never a stack: it is
 * what an operator reads when the disk is wrong.
 *
 * The lock is an SQLite database of its own (`holdfast.lock`) held in
 * `locking_mode=EXCLUSIVE` with a write transaction committed: SQLite keeps
 * a POSIX advisory lock on it for as long as the connection is open, and the
 * kernel drops that lock when the process dies, however it dies (SIGKILL,
 * power cut of the container). So there is no stale lock to clean up and no
 * pid to check for liveness (pids are reused, and a restarted container's
 * server is often pid 1 again). A second server on the same directory fails
 * at once with a DataDirError. Advisory locks are only as good as the file
 * system's: keep the data directory on a local disk, not NFS.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** The data directory cannot be used: the message names the path and the cause, on one line. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export const LOCK_FILE = 'holdfast.lock';

/** `EACCES: permission denied` from a Node file-system error, else its message. */
export function fsCause(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { code?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = e instanceof Error ? e.message : String(error);
  if (!code) return message;
  // Node's message is "CODE: description, syscall 'path'": keep the first part.
  const described = message.startsWith(`${code}:`) ? message.split(',')[0] : `${code}: ${message}`;
  return described ?? code;
}

/**
 * Creates `dir` if missing and checks that it is a directory this process
 * can write and fsync a file in; throws DataDirError otherwise.
 */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new DataDirError(dir, `cannot create data directory ${dir}: ${fsCause(realMkdirError(dir, error))}`);
    }
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    throw new DataDirError(dir, `cannot read data directory ${dir}: ${fsCause(error)}`);
  }
  if (!isDirectory) throw new DataDirError(dir, `data directory ${dir} is not a directory`);
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w', 0o600);
    try {
      writeSync(fd, 'probe\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (error) {
    throw new DataDirError(dir, `data directory ${dir} is not writable: ${fsCause(error)}`);
  }
}

/**
 * The error that really stopped `mkdir -p dir`: Node's recursive mkdir
 * answers ENOENT when a parent cannot be created on a read-only file system,
 * so retry the first missing level alone (which answers EROFS, EACCES…).
 */
function realMkdirError(dir: string, error: unknown): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  let missing = resolve(dir);
  while (dirname(missing) !== missing && !existsSync(dirname(missing))) missing = dirname(missing);
  try {
    mkdirSync(missing);
    rmdirSync(missing);
  } catch (first) {
    return first;
  }
  return error;
}

/**
 * Makes the SQLite database `file` and its -wal and -shm companions mode
 * 0600 (they hold the policy-signing private key and customer contacts):
 * creates the database file empty with 0600 if missing, before SQLite opens
 * it (SQLite then creates -wal and -shm with the database file's mode), and
 * narrows files an older version created 0644.
 */
export function securePrivateDatabaseFiles(file: string): void {
  try {
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
      if (existsSync(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    }
  } catch (error) {
    throw new DataDirError(file, `cannot make database file ${file} private (mode 0600): ${fsCause(error)}`);
  }
}

/** A held data-directory lock; release() lets the next server in. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** Takes the exclusive lock on `dir` (see the module comment); throws DataDirError if another process holds it. */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  let db: Database.Database;
  try {
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw new DataDirError(dir, `cannot open lock file ${path}: ${fsCause(error)}`);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    // A committed write takes SQLite's exclusive lock, which EXCLUSIVE mode then keeps until close.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT');
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new DataDirError(
        dir,
        `data directory ${dir} is in use by another holdfast server (${path} is locked); stop it first`,
      );
    }
    throw new DataDirError(dir, `cannot lock data directory ${dir}: ${(error as Error).message}`);
  }
  return {
    path,
    release() {
      if (db.open) db.close();
    },
  };
}
