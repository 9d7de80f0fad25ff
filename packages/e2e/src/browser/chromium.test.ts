import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { launchChromium } from './chromium.js';

test('Debian chromium starts under playwright-core, runs script and reaches a loopback server', async () => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>probe</title><p id="x">loopback</p><script>document.title = "ran";</script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    assert.equal(await page.textContent('#x'), 'loopback');
    assert.equal(await page.title(), 'ran');
    // The browser the journal needs: WebAssembly, WebCrypto Ed25519 and OPFS on a secure (loopback) origin.
    const features = await page.evaluate(async () => {
      const ed = await crypto.subtle
        .generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])
        .then(() => true)
        .catch(() => false);
      const opfs = await navigator.storage
        .getDirectory()
        .then(() => true)
        .catch(() => false);
      return { wasm: typeof WebAssembly === 'object', ed, opfs, secure: isSecureContext };
    });
    assert.deepEqual(features, { wasm: true, ed: true, opfs: true, secure: true });
  } finally {
    await browser.close();
    server.close();
  }
});
