#!/usr/bin/env node
// The shared browser build: each app under src/<app>/ (today: console) is
// bundled by esbuild from src/<app>/main.tsx into dist/<app>/ with its
// index.html and one style sheet (the app's own, plus uPlot's). No dev
// server, no plugins; `npm run build` at the root runs this after tsc has
// typechecked the sources (tsc -p packages/web).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = (p) => fileURLToPath(import.meta.resolve(p));

for (const app of ['console']) {
  const out = join(here, 'dist', app);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
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
    outfile: join(out, `${app}.js`),
    logLevel: 'warning',
    legalComments: 'none',
  });
  copyFileSync(join(here, 'src', app, 'index.html'), join(out, 'index.html'));
  const css = [
    readFileSync(require('uplot/dist/uPlot.min.css'), 'utf8'),
    readFileSync(join(here, 'src', app, `${app}.css`), 'utf8'),
  ];
  writeFileSync(join(out, `${app}.css`), css.join('\n'));
  console.log(`web: built ${app} into ${out}`);
}
