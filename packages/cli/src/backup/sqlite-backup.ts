/**
 * Backup and restore of a SQLite data directory.
 *
 * backup   SQLite's online backup API (better-sqlite3 `db.backup()`): a
 *          consistent copy of the database while the server runs and writes
 *          (the copy restarts if a write lands mid-way). Written beside the
 *          target as `.partial`, verified, then renamed into place.
 * restore  refuses a database another process has open (a running server)
 *          unless forced, copies the backup in with the same backup API (so
 *          SQLite's own locks and WAL handling apply), then verifies.
 * verify   `PRAGMA integrity_check`, then every device's chain: seqs 1..n
 *          with no hole up to its high water, each op's hash recomputed from
 *          its stored text, each op linking to the one before, the last one
 *          being the device's recorded head.
 *
 * The operator token file is not in the database: keep it (or the secret it
 * came from) with the backup's other secrets.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENESIS_HASH, hashOp, type Op } from '@holdfast/protocol';
import { DATABASE_FILE } from '@holdfast/server';
import Database from 'better-sqlite3';

export interface DeviceCheck {
  id: string;
  highWater: number;
  headHash: string;
}

export interface Verification {
  /** `PRAGMA integrity_check` said ok. */
  integrity: boolean;
  devices: DeviceCheck[];
  /** Ops stored, over every device. */
  ops: number;
  /** What is wrong, one line each; empty when the database is sound. */
  problems: string[];
}

/** Thrown when a restore would replace a database a running process holds open. */
export class DatabaseInUseError extends Error {
  override readonly name = 'DatabaseInUseError';
}

/** The database file of a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

/** Copies the data directory's database to `out` (must not exist) while the server may run; verifies the copy. */
export async function backupSqlite(dataDir: string, out: string): Promise<Verification> {
  const source = databasePath(dataDir);
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (existsSync(out)) throw new Error(`${out} exists; give a new file name`);
  mkdirSync(dirname(out), { recursive: true });
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(partial);
  } finally {
    db.close();
  }
  const verification = verifySqlite(partial);
  if (verification.problems.length > 0) {
    rmSync(partial, { force: true });
    throw new Error(`the copy did not verify:\n  ${verification.problems.join('\n  ')}`);
  }
  renameSync(partial, out);
  return verification;
}

/** True when another connection holds the database open (a running server): it cannot leave WAL mode then. */
export function databaseInUse(path: string): boolean {
  if (!existsSync(path)) return false;
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') return false;
    try {
      return db.pragma('journal_mode = DELETE', { simple: true }) !== 'delete';
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return true;
      throw error;
    }
  } finally {
    db.close();
  }
}

/**
 * Replaces the data directory's database with the backup at `from` (which
 * must verify first). Refuses while a process has the database open unless
 * `force`; a forced restore under a running server needs that server
 * restarted at once. Returns the restored database's verification.
 */
export async function restoreSqlite(from: string, dataDir: string, force: boolean): Promise<Verification> {
  if (!existsSync(from)) throw new Error(`no backup at ${from}`);
  const before = verifySqlite(from);
  if (before.problems.length > 0) {
    throw new Error(`the backup ${from} does not verify; nothing was changed:\n  ${before.problems.join('\n  ')}`);
  }
  const target = databasePath(dataDir);
  if (!force && databaseInUse(target)) {
    throw new DatabaseInUseError(
      `${target} is open in another process (a running server?): stop it first, or give --force and restart it right after`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const backup = new Database(from, { readonly: true, fileMustExist: true });
  try {
    await backup.backup(target);
  } finally {
    backup.close();
  }
  return verifySqlite(target);
}

/** Checks a server database: integrity, then every device's chain and head. */
export function verifySqlite(path: string): Verification {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const problems: string[] = [];
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    const intact = integrity.length === 1 && integrity[0] === 'ok';
    if (!intact) problems.push(`integrity_check: ${integrity.slice(0, 5).join('; ')}`);
    const devices = db
      .prepare('SELECT id, high_water AS highWater, head_hash AS headHash FROM devices ORDER BY id')
      .all() as DeviceCheck[];
    const ops = db.prepare('SELECT seq, hash, envelope FROM ops WHERE device = ? ORDER BY seq');
    let count = 0;
    for (const device of devices) {
      let expectedSeq = 1;
      let prev = GENESIS_HASH;
      for (const row of ops.iterate(device.id) as Iterable<{ seq: number; hash: string; envelope: string }>) {
        count++;
        if (row.seq > device.highWater) continue; // ops after a hole, held until it fills
        const problem = chainProblem(device.id, row, expectedSeq, prev);
        if (problem) {
          problems.push(problem);
          break;
        }
        prev = row.hash;
        expectedSeq++;
      }
      if (expectedSeq - 1 !== device.highWater) {
        problems.push(`device ${device.id}: high water is ${device.highWater} but its ops run 1..${expectedSeq - 1}`);
      } else if (prev !== (device.highWater === 0 ? GENESIS_HASH : device.headHash)) {
        problems.push(`device ${device.id}: head hash ${device.headHash} is not the hash of op ${device.highWater}`);
      }
    }
    return { integrity: intact, devices, ops: count, problems };
  } finally {
    db.close();
  }
}

function chainProblem(
  device: string,
  row: { seq: number; hash: string; envelope: string },
  expectedSeq: number,
  prev: string,
): string | null {
  if (row.seq !== expectedSeq) return `device ${device}: op ${expectedSeq} is missing (next stored is ${row.seq})`;
  const op = { ...(JSON.parse(row.envelope) as Omit<Op, 'hash'>), hash: row.hash } as Op;
  if (hashOp(op) !== row.hash) return `device ${device}: op ${row.seq}'s stored hash does not match its content`;
  if (op.prev !== prev) return `device ${device}: op ${row.seq} does not link to op ${row.seq - 1}`;
  return null;
}
