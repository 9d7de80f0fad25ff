/**
 * `holdfast receipt`: a real process against a real server finds a sale by
 * the number the clerk read out and prints it, marked COPY.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deviceCode, receiptNumber } from '@holdfast/domain';
import { ChainBuilder, enrollmentMessage, generateDeviceKeys, importPrivateKey, signMessage } from '@holdfast/protocol';
import { type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'receipt-test-operator-token-0123456789';

describe('holdfast receipt (a real process against a real server)', () => {
  let server: RunningServer;
  let dir: string;
  let number = '';
  let device = '';

  const call = async (path: string, body: unknown, admin = true) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...(admin ? { authorization: `Bearer ${OPERATOR}` } : {}), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(json));
    return json;
  };

  const run = async (...args: string[]) => {
    const p = CliProcess.start('receipt', ['receipt', ...args, '--server', server.url, '--operator-token', OPERATOR]);
    const exit = await p.exited;
    return { code: exit.code, stdout: p.lines.join('\n'), stderr: p.stderr };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-receipt-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
    const { token } = (await call('/v1/admin/enrollment-tokens', {})) as { token: string };
    const keys = generateDeviceKeys();
    const key = importPrivateKey(keys.privateKey);
    const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
    device = ((await call('/v1/enroll', { token, publicKey: keys.publicKey, sig }, false)) as { deviceId: string })
      .deviceId;
    const chain = new ChainBuilder(device, key);
    const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    const sale = chain.next('sale.recorded', {
      shift: open.id,
      currency: 'EUR',
      lines: [{ sku: 'CAFE', name: 'Café con leche', qty: 2, unitPrice: 250 }],
      total: 500,
      tenders: [{ type: 'cash', amount: 500, tendered: 1_000 }],
    });
    await call('/v1/batches', chain.batch([open, sale]), false);
    number = receiptNumber(device, sale.seq);
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the sale as text, in Spanish, marked COPIA', async () => {
    const { code, stdout, stderr } = await run('--number', number.toLowerCase(), '--lang', 'es', '--paper', '58');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\*\*\* COPIA \*\*\*/);
    assert.match(stdout, /2 x Café con leche\s+5,00\s€/);
    assert.match(stdout, /Cambio\s+5,00\s€/);
    assert.ok(stdout.includes(number));
  });

  it('writes ESC/POS bytes to a file', async () => {
    const out = join(dir, 'receipt.bin');
    const { code, stderr } = await run('--number', number, '--format', 'escpos', '--out', out);
    assert.equal(code, 0, stderr);
    const bytes = readFileSync(out);
    assert.deepEqual([...bytes.subarray(0, 2)], [0x1b, 0x40]);
    assert.ok(bytes.includes(Buffer.from('Caf\u0082', 'latin1')), 'é is 0x82 in PC858');
  });

  it('says why when there is no such receipt or the input is wrong', async () => {
    const none = await run('--number', `${deviceCode(device)}-000099`);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /404 not_found no device has printed receipt/);
    const bad = await run('--number', number, '--paper', '57');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--paper must be 58 or 80/);
    const escpos = await run('--number', number, '--format', 'escpos');
    assert.equal(escpos.code, 2);
    assert.match(escpos.stderr, /give --out FILE/);
  });
});
