#!/usr/bin/env node
// The shared browser build: each app under src/<app>/ (console, till) is
// bundled by esbuild from src/<app>/main.tsx into dist/<app>/ with its
// index.html and one style sheet (the app's own, plus uPlot's). No dev
// server, no plugins; `npm run build` at the root runs this after tsc has
// typechecked the sources (tsc -p packages/web). The till also gets the
// browser journal's worker with sqlite3.wasm beside it, its service worker
// and its web app manifest (buildTill below).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = (p) => fileURLToPath(import.meta.resolve(p));

for (const app of ['console', 'till']) {
  const out = join(here, 'dist', app);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(here, 'src', app, 'main.tsx')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Workspace packages from their TypeScript sources (as the tests run them): no build order to keep.
    conditions: ['holdfast-src'],
    // Node modules stay unresolved: tree-shaken away with the Node-only code of the workspace
    // packages (all side-effect free); the check below fails the build if one is still imported.
    external: ['node:*'],
    metafile: true,
    outfile: join(out, `${app}.js`),
    logLevel: 'warning',
    legalComments: 'none',
  });
  failOnNodeImports(app, result);
  copyFileSync(join(here, 'src', app, 'index.html'), join(out, 'index.html'));
  const css = [
    ...(app === 'console' ? [readFileSync(require('uplot/dist/uPlot.min.css'), 'utf8')] : []),
    readFileSync(join(here, 'src', app, `${app}.css`), 'utf8'),
  ];
  writeFileSync(join(out, `${app}.css`), css.join('\n'));
  if (app === 'till') await buildTill(out);
  console.log(`web: built ${app} into ${out}`);
}

function failOnNodeImports(name, result) {
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
  if (imports.length > 0) {
    console.error(`web: the ${name} bundle imports Node modules:`, imports);
    process.exit(1);
  }
}

/**
 * The till's other files: the browser journal's dedicated worker (SQLite
 * WASM on OPFS and the till engine; packages/terminal-web) with sqlite3.wasm
 * beside it, the manifest and icon, and the service worker, whose cache is
 * named after a hash of every other file so a new build replaces the old.
 */
async function buildTill(out) {
  const worker = await build({
    entryPoints: [join(here, '..', 'terminal-web', 'src', 'worker.ts')],
    bundle: true,
    format: 'esm',
    target: 'chrome120',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    conditions: ['holdfast-src'],
    external: ['node:*'],
    metafile: true,
    outfile: join(out, 'journal-worker.js'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  failOnNodeImports('journal worker', worker);
  copyFileSync(require('@sqlite.org/sqlite-wasm/sqlite3.wasm'), join(out, 'sqlite3.wasm'));
  for (const file of ['manifest.webmanifest', 'icon.svg'])
    copyFileSync(join(here, 'src', 'till', file), join(out, file));
  const shell = readdirSync(out)
    .filter((f) => !f.endsWith('.map'))
    .sort();
  const hash = createHash('sha256');
  for (const f of shell) hash.update(f).update(readFileSync(join(out, f)));
  await build({
    entryPoints: [join(here, 'src', 'till', 'sw.ts')],
    bundle: true,
    format: 'esm',
    target: 'chrome120',
    minify: true,
    define: {
      __SHELL__: JSON.stringify(['./', ...shell.filter((f) => f !== 'index.html')]),
      __VERSION__: JSON.stringify(hash.digest('base64url').slice(0, 16)),
    },
    outfile: join(out, 'sw.js'),
    logLevel: 'warning',
    legalComments: 'none',
  });
}
