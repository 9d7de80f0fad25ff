/**
 * HTTPS: the server serves a certificate given as files and swaps it
 * without a restart; the terminal's transport, and `holdfast till`
 * (--tls-ca), trust only a pinned certificate or CA. Certificates are made
 * for the test with openssl (skipped, saying why, where it is missing).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer, TlsConfigError } from '@holdfast/server';
import { HttpTransport, pinnedFetch } from '@holdfast/terminal';
import { CliProcess } from './cli-process.js';

const OPENSSL = spawnSync('openssl', ['version']).status === 0;
const OPERATOR = 'tls-test-operator-token-0123456789';
const root = mkdtempSync(join(tmpdir(), 'holdfast-tls-'));

/** A self-signed certificate for 127.0.0.1: `<name>.crt` and `<name>.key` in root. */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(root, `${name}.crt`);
  const key = join(root, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
      .concat(['-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=holdfast-${name}`])
      .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
    { stdio: 'ignore' },
  );
  return { cert, key };
}

async function reachable(url: string, fetchFn: typeof fetch): Promise<boolean> {
  try {
    await new HttpTransport(url, { fetch: fetchFn }).ping(5_000);
    return true;
  } catch {
    return false;
  }
}

describe('TLS', { skip: OPENSSL ? false : 'openssl is not installed: cannot make test certificates' }, () => {
  let server: RunningServer;
  let first: { cert: string; key: string };
  let second: { cert: string; key: string };
  const served = { cert: join(root, 'served.crt'), key: join(root, 'served.key') };

  before(async () => {
    first = selfSigned('first');
    second = selfSigned('second');
    copyFileSync(first.cert, served.cert);
    copyFileSync(first.key, served.key);
    server = await startServer({
      dataDir: join(root, 'data'),
      port: 0,
      logger: false,
      operatorToken: OPERATOR,
      tls: { certFile: served.cert, keyFile: served.key },
    });
  });
  after(async () => {
    await CliProcess.killAll();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves HTTPS; a pinned certificate is trusted, anything else is not', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await reachable(server.url, pinnedFetch({ ca: readPem(first.cert) })), true);
    assert.equal(await reachable(server.url, pinnedFetch({ ca: readPem(second.cert) })), false, 'another cert');
    assert.equal(await reachable(server.url, fetch), false, 'the system CAs do not vouch for it');
  });

  it('reloads a renewed certificate without a restart; a bad one is refused and the old one kept', async () => {
    copyFileSync(second.cert, served.cert);
    copyFileSync(second.key, served.key);
    server.reloadTls();
    assert.equal(await reachable(server.url, pinnedFetch({ ca: readPem(second.cert) })), true, 'new connections');
    assert.equal(await reachable(server.url, pinnedFetch({ ca: readPem(first.cert) })), false);

    copyFileSync(first.key, served.key); // a key that does not match the certificate
    assert.throws(() => server.reloadTls(), TlsConfigError);
    assert.equal(await reachable(server.url, pinnedFetch({ ca: readPem(second.cert) })), true, 'kept the old one');
    copyFileSync(second.key, served.key);
  });

  it('holdfast server --tls-cert/--tls-key: a real process reloads on SIGHUP and when the files change', async () => {
    const files = { cert: join(root, 'proc.crt'), key: join(root, 'proc.key') };
    copyFileSync(first.cert, files.cert);
    copyFileSync(first.key, files.key);
    const proc = CliProcess.start('tls-server', [
      'server',
      ...['--data', join(root, 'proc-data'), '--port', '0', '--tls-cert', files.cert, '--tls-key', files.key],
    ]);
    await proc.waitFor('listening', () => proc.events.some((e) => e.msg === 'holdfast server listening'), 90_000);
    const url = String(proc.events.find((e) => e.msg === 'holdfast server listening')?.url);
    assert.match(url, /^https:/);
    assert.equal(await reachable(url, pinnedFetch({ ca: readPem(first.cert) })), true);

    copyFileSync(second.cert, files.cert);
    copyFileSync(second.key, files.key);
    process.kill(proc.pid as number, 'SIGHUP');
    const reloaded = () => proc.events.filter((e) => e.msg === 'TLS certificate reloaded').length;
    await proc.waitFor('reload after SIGHUP', () => reloaded() >= 1, 30_000);
    assert.equal(await reachable(url, pinnedFetch({ ca: readPem(second.cert) })), true, 'SIGHUP reloaded');

    const before = reloaded();
    copyFileSync(first.cert, files.cert);
    copyFileSync(first.key, files.key);
    await proc.waitFor('reload after the files changed', () => reloaded() > before, 30_000);
    assert.equal(await reachable(url, pinnedFetch({ ca: readPem(first.cert) })), true, 'file change reloaded');
    assert.ok(proc.running, 'no restart');
    await proc.kill('SIGTERM');
  });

  it('holdfast till --tls-ca enrolls, sells and drains over HTTPS', async () => {
    const res = await pinnedFetch({ ca: readPem(second.cert) })(`${server.url}/v1/admin/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { token } = (await res.json()) as { token: string };
    const till = CliProcess.start('till', [
      'till',
      ...['--data', join(root, 'till'), '--server', server.url, '--token', token, '--tls-ca', second.cert],
      ...['--sales', '3', '--interval-ms', '0', '--exit-when-drained', '--json-events'],
    ]);
    const exit = await till.exited;
    assert.equal(exit.code, 0, till.stderr);
    const drained = till.eventsNamed('drained')[0];
    assert.equal(drained?.confirmed, drained?.recorded, 'every op confirmed over HTTPS');
  });
});

function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}
