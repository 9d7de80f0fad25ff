#!/usr/bin/env node
// Bundles the browser journal with esbuild into packages/terminal-web/dist/web:
//   journal-worker.js   the dedicated worker (SQLite WASM + the portable journal)
//   sqlite3.wasm        next to it (the worker finds it by import.meta.url)
//   client.js           openBrowserJournal, for a web POS to import
// and fails if a Node module ended up in a bundle (the portable core must not need one).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const out = join(pkg, 'dist', 'web');
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { 'journal-worker': join(pkg, 'src/worker.ts'), client: join(pkg, 'src/client.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'chrome120',
  conditions: ['holdfast-src'],
  // Node modules stay unresolved; with every package side-effect free they drop out with the code
  // that imports them, and the check below fails the build if one is still imported.
  external: ['node:*'],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});

const nodeInputs = Object.keys(result.metafile.inputs).filter((f) => /(^|\/)node:|better-sqlite3/.test(f));
const nodeImports = Object.values(result.metafile.outputs).flatMap((o) =>
  o.imports.filter((i) => i.path.startsWith('node:') || i.external),
);
if (nodeInputs.length > 0 || nodeImports.length > 0) {
  console.error('terminal-web: the browser bundle pulls in Node-only code:', nodeInputs, nodeImports);
  process.exit(1);
}

const require = createRequire(import.meta.url);
copyFileSync(require.resolve('@sqlite.org/sqlite-wasm/sqlite3.wasm'), join(out, 'sqlite3.wasm'));
console.log(`terminal-web: bundle written to ${out}`);
