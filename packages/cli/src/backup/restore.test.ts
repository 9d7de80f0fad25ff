/**
 * Backup and restore end to end, with real processes: a `holdfast server`,
 * a terminal (the SDK over HTTP) selling to it, `holdfast backup` while the
 * server runs, more sales, `holdfast restore` of the older backup, and the
 * server started again: the terminal re-sends what the restored server lost
 * and the server ends with every op once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { expectedCash } from '@holdfast/domain';
import { HttpTransport, Terminal } from '@holdfast/terminal';
import Database from 'better-sqlite3';
import { freePort, ServerAdmin, startServerProcess } from '../chaos/server-process.js';
import { CliProcess } from '../cli-process.js';
import { databasePath, verifySqlite } from './sqlite-backup.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-restore-'));
after(async () => {
  await CliProcess.killAll();
  rmSync(dir, { recursive: true, force: true });
});

async function holdfast(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = CliProcess.start(args[0] as string, args);
  const exit = await run.exited;
  return { code: exit.code, stdout: run.lines.join('\n'), stderr: run.stderr };
}

/** A cash sale of `n` beers (cash needs no risk policy; a card sale would need one issued first). */
function cashSale(n: number) {
  return {
    lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: n, unitPrice: 650 }],
    tenders: [{ type: 'cash' as const, amount: 650 * n, tendered: 650 * n }],
  };
}

async function synced(terminal: Terminal): Promise<void> {
  for (let i = 0; i < 200 && terminal.status().pending > 0; i++) {
    await terminal.syncNow();
    if (terminal.status().pending > 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(terminal.status().pending, 0, `still pending: ${terminal.status().lastError}`);
}

function serverOps(dataDir: string, device: string): { ops: number; sales: number } {
  const db = new Database(databasePath(dataDir), { readonly: true });
  try {
    const ops = db.prepare('SELECT COUNT(*) AS n FROM ops WHERE device = ?').get(device) as { n: number };
    const sales = db
      .prepare("SELECT COUNT(*) AS n FROM ops WHERE device = ? AND kind = 'sale.recorded'")
      .get(device) as { n: number };
    return { ops: ops.n, sales: sales.n };
  } finally {
    db.close();
  }
}

describe('holdfast backup and restore', () => {
  it('a terminal re-sends what a restored server lost; the server ends with every op once', async () => {
    const data = join(dir, 'server');
    const journal = join(dir, 'terminal');
    const backup = join(dir, 'backup.db');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let server = await startServerProcess(data, port, 'server', 60_000);

    let terminal = Terminal.open({ dataDir: journal, transport: new HttpTransport(url) });
    await terminal.enroll(await new ServerAdmin(port, data).enrollmentToken('till'), 'till');
    const device = terminal.deviceId as string;
    terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
    for (let i = 0; i < 3; i++) terminal.recordSale(cashSale(i + 1));
    await synced(terminal);

    const made = await holdfast('backup', '--data-dir', data, '--out', backup);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /devices: 1, ops: 4, every chain intact and at its head: yes/);
    const again = await holdfast('backup', '--data-dir', data, '--out', backup);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /backup\.db exists; give a new file name/);

    for (let i = 0; i < 3; i++) terminal.recordSale(cashSale(i + 1));
    const shift = terminal.currentShift();
    assert.ok(shift);
    terminal.closeShift({ countedCash: expectedCash(shift) });
    await synced(terminal);
    const latest = terminal.status().latestSeq;
    assert.equal(latest, 8);
    assert.deepEqual(serverOps(data, device), { ops: 8, sales: 6 });

    const live = await holdfast('restore', '--from', backup, '--data-dir', data);
    assert.equal(live.code, 3, live.stderr);
    assert.match(live.stderr, /is open in another process \(a running server\?\): stop it first/);

    await server.kill('SIGTERM');
    await terminal.close();
    const restored = await holdfast('restore', '--from', backup, '--data-dir', data);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /integrity_check: ok/);
    assert.deepEqual(serverOps(data, device), { ops: 4, sales: 3 });

    server = await startServerProcess(data, port, 'server', 60_000);
    terminal = Terminal.open({ dataDir: journal, transport: new HttpTransport(url) });
    assert.equal(terminal.status().pending, 0, 'the journal holds every op as confirmed');
    terminal.start();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (terminal.status().pending > 0 || serverOps(data, device).ops < latest)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await terminal.close();
    await server.kill('SIGTERM');
    assert.deepEqual(serverOps(data, device), { ops: 8, sales: 6 });
    const check = verifySqlite(databasePath(data));
    assert.deepEqual(check.problems, []);
    assert.equal(check.devices[0]?.highWater, 8);
  });

  it('verify finds a broken chain, a wrong head and a tampered op', async () => {
    const data = join(dir, 'tamper');
    const port = await freePort();
    const server = await startServerProcess(data, port, 'server', 60_000);
    const terminal = Terminal.open({
      dataDir: join(dir, 'tamper-terminal'),
      transport: new HttpTransport(`http://127.0.0.1:${port}`),
    });
    await terminal.enroll(await new ServerAdmin(port, data).enrollmentToken('till'), 'till');
    terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
    terminal.recordSale(cashSale(1));
    terminal.recordSale(cashSale(2));
    await synced(terminal);
    await terminal.close();
    await server.kill('SIGTERM');
    const path = databasePath(data);
    assert.deepEqual(verifySqlite(path).problems, []);

    // The append-only triggers stand in the way of a tamperer with a SQLite shell; drop them as one would.
    const tamper = (sql: string, ...params: unknown[]) => {
      const db = new Database(path);
      const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[];
      for (const { name } of triggers) db.exec(`DROP TRIGGER "${name}"`);
      db.prepare(sql).run(...params);
      db.close();
    };
    const backupOf = (name: string) => {
      const copy = join(dir, name);
      const db = new Database(path, { readonly: true });
      return db.backup(copy).then(() => {
        db.close();
        return copy;
      });
    };
    const pristine = await backupOf('pristine.db');

    tamper('UPDATE ops SET envelope = replace(envelope, \'"seq":2\', \'"seq":2,"x":1\') WHERE seq = 2');
    assert.match(verifySqlite(path).problems.join('\n'), /op 2's stored hash does not match its content/);
    const broken = await backupOf('broken.db');
    const refused = await holdfast('restore', '--from', broken, '--data-dir', join(dir, 'elsewhere'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not verify; nothing was changed/);

    const back = await holdfast('restore', '--from', pristine, '--data-dir', data);
    assert.equal(back.code, 0, back.stderr);
    tamper('UPDATE devices SET head_hash = ?', 'f'.repeat(64));
    assert.match(verifySqlite(path).problems.join('\n'), /head hash f+ is not the hash of op 3/);
    tamper('UPDATE devices SET high_water = 5');
    assert.match(verifySqlite(path).problems.join('\n'), /high water is 5 but its ops run 1\.\.3/);
    tamper('DELETE FROM ops WHERE seq = 2');
    tamper('UPDATE devices SET high_water = 3');
    assert.match(verifySqlite(path).problems.join('\n'), /op 2 is missing \(next stored is 3\)/);
  });
});
