/**
 * The SDK as someone outside this repository gets it: `npm pack` of
 * @holdfast/protocol, @holdfast/domain and @holdfast/terminal, installed
 * from the tarballs into a fresh app in a temporary directory (no
 * workspace, no source), which enrolls a till and records a sale against a
 * real `holdfast server` process started from this repository.
 *
 * The install runs with --offline: the three tarballs are local, and
 * better-sqlite3 (a native module the registry would build or download a
 * binary for) is linked from this repository's already-built copy, so the
 * test needs no network. It packs the built `dist/` (npm test builds first).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliProcess, freePort, ServerAdmin, startServerProcess } from '@holdfast/cli/testing';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const PACKAGES = ['protocol', 'domain', 'terminal'] as const;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-packed-sdk-'));
after(async () => {
  await CliProcess.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const APP = `
import { HttpTransport, Terminal } from '@holdfast/terminal';
import { formatMoney } from '@holdfast/protocol';

const [server, token, data] = process.argv.slice(2);
const till = Terminal.open({ dataDir: data, transport: new HttpTransport(server) });
if (!till.enrolled) await till.enroll(token, 'packed-till');
if (!till.currentShift()) till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 20000 });
const sale = till.recordSale({
  lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 2, unitPrice: 650 }],
  tenders: [{ type: 'cash', amount: 1300, tendered: 2000 }],
});
for (let i = 0; i < 100 && till.opState(sale.id) !== 'confirmed'; i++) {
  await till.syncNow();
  if (till.opState(sale.id) !== 'confirmed') await new Promise((r) => setTimeout(r, 100));
}
console.log(JSON.stringify({ device: till.deviceId, sale: sale.id, state: till.opState(sale.id), total: formatMoney(1300, 'EUR') }));
await till.close();
`;

describe('the packed SDK outside the monorepo', () => {
  it('installs from npm pack tarballs into a fresh app and records a sale against a real server', async () => {
    for (const name of PACKAGES) {
      assert.ok(existsSync(join(ROOT, 'packages', name, 'dist/index.js')), `packages/${name} is built (npm run build)`);
    }
    const packs = join(dir, 'packs');
    mkdirSync(packs);
    execFileSync(
      NPM,
      ['pack', '--silent', '--pack-destination', packs, ...PACKAGES.flatMap((n) => ['-w', `@holdfast/${n}`])],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const tarballs = readdirSync(packs);
    assert.deepEqual(tarballs.sort(), PACKAGES.map((n) => `holdfast-${n}-0.1.0.tgz`).sort());

    const app = join(dir, 'app');
    mkdirSync(app);
    const dependencies: Record<string, string> = {
      'better-sqlite3': `file:${join(ROOT, 'node_modules/better-sqlite3')}`,
    };
    for (const name of PACKAGES)
      dependencies[`@holdfast/${name}`] = `file:${join(packs, `holdfast-${name}-0.1.0.tgz`)}`;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'sdk-app', private: true, type: 'module', dependencies }),
    );
    writeFileSync(join(app, 'app.mjs'), APP);
    const install = spawnSync(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(install.status, 0, install.stderr);
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/@holdfast/terminal/package.json'), 'utf8'));
    assert.equal(installed.license, 'Apache-2.0');
    assert.ok(!existsSync(join(app, 'node_modules/@holdfast/terminal/src')), 'the tarball ships dist only');
    assert.ok(existsSync(join(app, 'node_modules/@holdfast/terminal/LICENSE')));

    const data = join(dir, 'server');
    const port = await freePort();
    const server = await startServerProcess(data, port, 'server', 60_000);
    const token = await new ServerAdmin(port, data).enrollmentToken('packed-till');
    const run = spawnSync(process.execPath, ['app.mjs', `http://127.0.0.1:${port}`, token, join(dir, 'till')], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { sale: string; state: string };
    assert.equal(out.state, 'confirmed');
    const stored = (await new ServerAdmin(port, data).storedOp(out.sale)) as { op?: { kind?: string } } | null;
    assert.equal(stored?.op?.kind, 'sale.recorded');
    await server.kill('SIGTERM');
  });
});
