/**
 * Which modules of the Terminal SDK a browser can load: each is bundled for
 * the browser as build.mjs bundles the worker (Node modules left external,
 * packages side-effect free) and must import no Node module.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const terminal = (file: string) => fileURLToPath(new URL(`../../terminal/src/${file}`, import.meta.url));

/** The portable core: the journal and what runs on it without Node's synchronous crypto (the browser till's modules). */
const PORTABLE = [
  'portable.ts',
  'journal-core.ts',
  'outbox.ts',
  'sync-loop.ts',
  'recording.ts',
  'exchange.ts',
  'http-transport.ts',
  'receipts.ts',
  'wristband.ts',
  'wristband-payments.ts',
];

async function nodeImports(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['holdfast-src'],
    external: ['node:*', 'better-sqlite3'],
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((o) =>
    o.imports.filter((i) => i.external || i.path.startsWith('node:')).map((i) => i.path),
  );
}

for (const file of PORTABLE) {
  test(`${file} bundles for the browser without any Node module`, async () => {
    assert.deepEqual(await nodeImports(terminal(file)), []);
  });
}

test('the browser feed (WebCrypto checks of the roster and price list) bundles without any Node module', async () => {
  assert.deepEqual(await nodeImports(fileURLToPath(new URL('../src/browser-feed.ts', import.meta.url))), []);
});

test('the Node entry still needs Node (the check can tell)', async () => {
  assert.ok((await nodeImports(terminal('journal.ts'))).includes('node:fs'));
});
