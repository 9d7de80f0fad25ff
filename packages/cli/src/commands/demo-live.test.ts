/**
 * `holdfast demo --live` as a process: it prints the console's address and
 * a sign-in that works (a cookie session for an admin), the terminals are
 * enrolled, placed and selling, the console is served, and Ctrl-C stops it
 * cleanly (exit 0, its data directory removed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLI_BIN, childNodeFlags } from '../cli-process.js';

describe('holdfast demo --live', () => {
  it('prints a console address and a sign-in that works, sells in real time, stops on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [...childNodeFlags(), CLI_BIN, 'demo', '--live', '--port', '0', '--terminals', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      while (!/password \S+/.test(out)) {
        assert.equal(child.exitCode, null, `demo exited early: ${out}${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const consoleUrl = /Console\s+(\S+)/.exec(out)?.[1] ?? '';
      const password = /password (\S+)/.exec(out)?.[1] ?? '';
      const dir = /data in (\S+), removed/.exec(out)?.[1] ?? '';
      assert.match(consoleUrl, /^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
      const base = consoleUrl.replace(/\/console\/$/, '');

      const page = await fetch(consoleUrl);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');

      const login = await fetch(`${base}/v1/admin/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password, cookie: true }),
      });
      assert.equal(login.status, 200, await login.clone().text());
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const who = (await (await fetch(`${base}/v1/admin/session`, { headers: { cookie } })).json()) as { role: string };
      assert.equal(who.role, 'admin');

      // The lanes sell every 2 s and deliver (seconds 0..60 of the script are trouble-free).
      type Device = { label: string; highWater: number; placement: { location: string } | null };
      let devices: Device[] = [];
      while (!(devices.length === 2 && devices.every((d) => d.highWater >= 2))) {
        assert.equal(child.exitCode, null, `demo exited early: ${out}${err}`);
        await new Promise((r) => setTimeout(r, 250));
        devices = (
          (await (await fetch(`${base}/v1/admin/devices`, { headers: { cookie } })).json()) as {
            devices: Device[];
          }
        ).devices;
      }
      assert.deepEqual(devices.map((d) => [d.label, d.placement?.location]).sort(), [
        ['north-1', 'north'],
        ['south-1', 'south'],
      ]);

      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
      assert.match(out, /Stopping the live demo\./);
      assert.equal(existsSync(dir), false, `${dir} removed`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
