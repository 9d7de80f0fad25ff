/**
 * `holdfast backup` and `holdfast restore`: a SQLite data directory's
 * database copied while the server runs, and put back, verified both ways
 * (backup/sqlite-backup.ts; docs/operations.md, "Backup and restore").
 */
import { resolve } from 'node:path';
import { requiredString } from '../args.js';
import { backupSqlite, DatabaseInUseError, restoreSqlite, type Verification } from '../backup/sqlite-backup.js';
import { loadSettings } from '../config/index.js';

export const BACKUP_HELP = `holdfast backup --data-dir DIR --out FILE [--json]

Copies the SQLite database of the server data directory DIR to FILE (which
must not exist) with SQLite's online backup API: safe while the server runs.
The copy is verified (integrity_check, every device's hash chain and head)
before it is renamed into place. PostgreSQL: use pg_dump (docs/operations.md).
  --data-dir DIR        the server's data directory (HOLDFAST_DATA)         required
  --out FILE            the backup file to write                            required
  --json                print the verification as JSON`;

export const RESTORE_HELP = `holdfast restore --from FILE --data-dir DIR [--force] [--json]

Replaces the database in DIR with the backup FILE, after checking the backup
verifies, then verifies the result (integrity_check, chains, heads). Refuses
while a server has the database open, unless --force (then restart that
server at once). Terminals re-send what the restored server lacks when they
next talk to it (docs/operations.md, "Backup and restore").
  --from FILE           the backup file                                     required
  --data-dir DIR        the server's data directory (HOLDFAST_DATA)         required
  --force               restore even though a process has the database open
  --json                print the verification as JSON`;

export async function backupCommand(argv: string[]): Promise<number> {
  const flags = loadSettings(argv, {
    command: 'backup',
    envNames: { 'data-dir': 'HOLDFAST_DATA' },
    flagOnly: ['out', 'json'],
    options: { 'data-dir': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (flags.help) {
    console.log(BACKUP_HELP);
    return 0;
  }
  const dataDir = resolve(requiredString(flags, 'data-dir'));
  const out = resolve(requiredString(flags, 'out'));
  try {
    const verification = await backupSqlite(dataDir, out);
    print(flags.json === true, `backed up ${dataDir} to ${out}`, verification);
    return 0;
  } catch (error) {
    console.error(`holdfast backup: ${(error as Error).message}`);
    return 1;
  }
}

export async function restoreCommand(argv: string[]): Promise<number> {
  const flags = loadSettings(argv, {
    command: 'restore',
    envNames: { 'data-dir': 'HOLDFAST_DATA' },
    flagOnly: ['from', 'force', 'json'],
    options: {
      from: { type: 'string' },
      'data-dir': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (flags.help) {
    console.log(RESTORE_HELP);
    return 0;
  }
  const from = resolve(requiredString(flags, 'from'));
  const dataDir = resolve(requiredString(flags, 'data-dir'));
  try {
    const verification = await restoreSqlite(from, dataDir, flags.force === true);
    print(flags.json === true, `restored ${from} into ${dataDir}`, verification);
    return verification.problems.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(`holdfast restore: ${(error as Error).message}`);
    return error instanceof DatabaseInUseError ? 3 : 1;
  }
}

function print(json: boolean, done: string, v: Verification): void {
  if (json) {
    console.log(JSON.stringify({ ok: v.problems.length === 0, ...v }));
    return;
  }
  console.log(done);
  console.log(`integrity_check: ${v.integrity ? 'ok' : 'FAILED'}`);
  console.log(
    `devices: ${v.devices.length}, ops: ${v.ops}, every chain intact and at its head: ${v.problems.length === 0 ? 'yes' : 'NO'}`,
  );
  for (const problem of v.problems) console.log(`  ${problem}`);
}
