/**
 * The `holdfast` command as a user runs it: a real process, its exit code
 * and its output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SQLITE_MIGRATIONS } from '@holdfast/server';
import { CLI_BIN, childNodeFlags } from './cli-process.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function holdfast(...args: string[]) {
  const run = spawnSync(process.execPath, [...childNodeFlags(), CLI_BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('holdfast command line', () => {
  it('without a command prints the usage listing every command and exits 0', () => {
    const r = holdfast();
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: holdfast <command>/);
    for (const command of [
      'server',
      'till',
      'backup',
      'restore',
      'enroll-token',
      'devices',
      'exceptions',
      'policy',
      'server-keys',
      'betting',
    ]) {
      assert.match(r.stdout, new RegExp(`^  holdfast ${command}\\b`, 'm'), command);
    }
  });

  it('--version prints the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string };
    const r = holdfast('--version');
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), `holdfast ${pkg.version}`);
  });

  it('an unknown command is named', () => {
    const r = holdfast('sell-everything');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "sell-everything"/);
  });

  it('bad flag values are named with what they take', () => {
    const r = holdfast('demo', '--terminals', 'eight');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--terminals must be a whole number from 1 to 64, got "eight"/);
    const unknown = holdfast('demo', '--turbo');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--turbo/);
    const port = holdfast('server', '--port', '70000');
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port must be a whole number from 0 to 65535/);
  });

  it('lists migrate in the usage; migrate and server check their storage flags before starting anything', () => {
    assert.match(holdfast('--help').stdout, /holdfast migrate \[--data DIR \| --database-url URL\]/);
    const both = holdfast('migrate', '--data', 'x', '--database-url', 'postgres://h/db');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --data or --database-url, not both/);
    const notPg = holdfast('server', '--database-url', 'mysql://h/db');
    assert.equal(notPg.code, 2);
    assert.match(notPg.stderr, /--database-url must be a postgres:\/\/ or postgresql:\/\/ URL/);
    const pool = holdfast('server', '--db-pool-size', '5');
    assert.equal(pool.code, 2);
    assert.match(pool.stderr, /--db-pool-size needs --database-url/);
  });

  it('migrate --data creates the SQLite schema and says which version it reached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-migrate-'));
    try {
      const r = holdfast('migrate', '--data', join(dir, 'data'));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`sqlite schema at version ${SQLITE_MIGRATIONS.length} `));
      assert.ok(statSync(join(dir, 'data', 'holdfast.db')).size > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chaos refuses a window too short and a data directory in use, before starting anything', () => {
    const short = holdfast('chaos', '--seconds', '2');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--seconds must be a whole number from 5 to 3600, got "2"/);
    const used = holdfast('chaos', '--data', ROOT);
    assert.equal(used.code, 2);
    assert.match(used.stderr, /--data must be a new or empty directory/);
  });

  it('demo --json prints one JSON report with the reconciliation fields and exits 0', () => {
    const r = holdfast('demo', '--terminals', '3', '--seed', '5', '--minutes', '20', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const field of [
      'terminals',
      'recorded',
      'applied',
      'duplicatesApplied',
      'lost',
      'conflicts',
      'deadLetters',
      'retries',
      'postAuthDeclines',
      'overspends',
      'exposureBound',
      'exposureMax',
      'invoicesIssued',
      'invoicesTwice',
    ]) {
      assert.equal(typeof report[field], 'number', `${field} is a number`);
    }
    assert.equal(report.terminals, 3);
    assert.equal(report.lost, 0);
    assert.equal(report.duplicatesApplied, 0);
    assert.equal(report.recorded, report.applied);
    assert.equal(report.invoicesTwice, 0);
    assert.ok((report.invoicesIssued as number) > 0, 'the bills were registered with the simulated authority');
    assert.ok((report.recorded as number) > 0);
    assert.ok((report.overspends as number) >= 1, 'the cloned wristband was overspent and detected');
    assert.equal((report.wristbands as { blocked: number }).blocked, 1);
  });

  it('demo --scenario betting-shop --json prints the betting day, clean, and the same report for the same seed', () => {
    const run = () => holdfast('demo', '--scenario', 'betting-shop', '--terminals', '4', '--minutes', '45', '--json');
    const r = run();
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const field of [
      'ticketsIssued',
      'ticketsSettled',
      'payouts',
      'payoutsTwice',
      'voids',
      'voidsWithoutApproval',
      'refundsOverSale',
      'refundsOverSaleFlagged',
      'saleVoids',
      'refunds',
      'falseVariances',
      'recorded',
      'applied',
      'lost',
      'duplicatesApplied',
    ]) {
      assert.equal(typeof report[field], 'number', `${field} is a number`);
    }
    assert.ok((report.ticketsIssued as number) > 0 && (report.ticketsSettled as number) > 0);
    assert.ok((report.payouts as number) > 0, 'winners were paid');
    for (const zero of ['payoutsTwice', 'voidsWithoutApproval', 'refundsOverSale', 'falseVariances', 'lost']) {
      assert.equal(report[zero], 0, zero);
    }
    assert.equal(report.duplicatesApplied, 0);
    assert.equal(report.recorded, report.applied);
    assert.deepEqual(report.violations, []);
    assert.equal(run().stdout, r.stdout, 'same seed, same report');
    const bad = holdfast('demo', '--scenario', 'casino');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scenario must be stadium or betting-shop, got "casino"/);
  });

  it('demo without --json prints the reconciliation summary', () => {
    const r = holdfast('demo', '--terminals', '2', '--minutes', '20');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Reconciliation/);
    assert.match(r.stdout, /lost {2,}0 {3}ok/);
    assert.match(r.stdout, /Wristbands/);
    assert.match(r.stdout, /overspends {2,}1 \(wristband_overspend\).*ok$/m);
  });
});
