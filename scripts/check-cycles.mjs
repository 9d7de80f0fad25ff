#!/usr/bin/env node
// Finds import cycles between the TypeScript files of packages/*/src and
// prints each as a chain of paths; exits 1 if any is not in the allowlist.
//
// An edge is every static `import … from`, `import '…'`, `export … from`
// and `import type`/`export type … from`: a type-only cycle still ties the
// files together (neither can be understood, moved or split alone), and
// `verbatimModuleSyntax` makes turning a type import into a value import a
// one-word change. Dynamic `import()` is left out: it runs late, so it never
// makes a load-order cycle, and it is how a cycle is broken on purpose.
// Relative `.js` specifiers resolve to the `.ts` file; `@holdfast/*` imports
// resolve through the package.json `exports` map's `holdfast-src` condition.
//
// Cycles are found per strongly connected component; each file in one gets
// the shortest cycle through it, so every file in a cycle is named.
//
//   node scripts/check-cycles.mjs                  check (lint runs this)
//   node scripts/check-cycles.mjs --allowlist F    allowlist file (default scripts/known-cycles.txt)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const allowlistPath = resolve(
  root,
  args.includes('--allowlist') ? String(args[args.indexOf('--allowlist') + 1]) : 'scripts/known-cycles.txt',
);

/** Every .ts file under dir (no dist, no node_modules). */
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `@holdfast/name` → { dir, exports } of each workspace package. */
const packages = new Map();
for (const name of readdirSync(join(root, 'packages'))) {
  const manifest = join(root, 'packages', name, 'package.json');
  if (!existsSync(manifest)) continue;
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  packages.set(pkg.name, { dir: join(root, 'packages', name), exports: pkg.exports ?? {} });
}

function resolveSpecifier(from, specifier) {
  if (specifier.startsWith('.')) {
    const base = resolve(dirname(from), specifier);
    const candidates = specifier.endsWith('.js')
      ? [`${base.slice(0, -3)}.ts`, `${base.slice(0, -3)}.tsx`]
      : [base, `${base}.ts`, join(base, 'index.ts')];
    return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
  }
  const match = /^(@holdfast\/[^/]+)(\/.*)?$/.exec(specifier);
  if (!match) return null; // node: built-ins and npm packages cannot import our files back
  const pkg = packages.get(match[1]);
  if (!pkg) return null;
  const entry = pkg.exports[match[2] ? `.${match[2]}` : '.'];
  const target = typeof entry === 'object' && entry !== null ? entry['holdfast-src'] : undefined;
  return typeof target === 'string' ? join(pkg.dir, target) : null;
}

// Comments out first, so an import shown in a doc comment is no edge.
const stripComments = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const IMPORT_RE = /(?:^|[;\n])\s*(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g;

const files = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'src')))
  .flatMap((name) => walk(join(root, 'packages', name, 'src'), []))
  .sort();
const graph = new Map();
for (const file of files) {
  const edges = new Set();
  const text = stripComments(readFileSync(file, 'utf8'));
  for (const m of text.matchAll(IMPORT_RE)) {
    const target = resolveSpecifier(file, m[1]);
    if (target && target !== file) edges.add(target);
    else if (target === file) edges.add(file);
  }
  graph.set(file, [...edges].sort());
}

/** Tarjan's strongly connected components (iterative). */
function components() {
  let index = 0;
  const indexOf = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  for (const start of graph.keys()) {
    if (indexOf.has(start)) continue;
    const work = [[start, 0]];
    indexOf.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, i] = frame;
      const edges = graph.get(node) ?? [];
      if (i < edges.length) {
        frame[1]++;
        const next = edges[i];
        if (!graph.has(next)) continue;
        if (!indexOf.has(next)) {
          indexOf.set(next, index);
          low.set(next, index++);
          stack.push(next);
          onStack.add(next);
          work.push([next, 0]);
        } else if (onStack.has(next)) {
          low.set(node, Math.min(low.get(node), indexOf.get(next)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === indexOf.get(node)) {
        const members = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          members.push(member);
        } while (member !== node);
        const selfLoop = (graph.get(node) ?? []).includes(node);
        if (members.length > 1 || selfLoop) out.push(new Set(members));
      }
    }
  }
  return out;
}

/** The shortest cycle through `start` inside `members` (breadth-first), as a path list. */
function shortestCycle(start, members) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [];
        for (let n = node; n !== null; n = previous.get(n)) path.unshift(n);
        return path;
      }
      if (previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  return [start];
}

/** A cycle written from its smallest path, so one cycle has one spelling. */
function spell(cycle) {
  const names = cycle.map((f) => relative(root, f));
  let first = 0;
  names.forEach((n, i) => {
    if (n < names[first]) first = i;
  });
  const rotated = [...names.slice(first), ...names.slice(0, first)];
  return [...rotated, rotated[0]].join(' -> ');
}

const cycles = new Set();
for (const members of components()) {
  for (const file of [...members].sort()) cycles.add(spell(shortestCycle(file, members)));
}

const allowed = existsSync(allowlistPath)
  ? new Set(
      readFileSync(allowlistPath, 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#')),
    )
  : new Set();
const sorted = [...cycles].sort();
const unknown = sorted.filter((c) => !allowed.has(c));
const known = sorted.filter((c) => allowed.has(c));
const stale = [...allowed].filter((c) => !cycles.has(c));

for (const c of known) console.log(`known cycle (allowlisted): ${c}`);
for (const c of stale)
  console.log(`allowlisted cycle no longer found, remove it from ${relative(root, allowlistPath)}: ${c}`);
for (const c of unknown) console.error(`import cycle: ${c}`);
console.log(
  `${files.length} files, ${cycles.size} cycles (${known.length} allowlisted, ${unknown.length} new)` +
    (unknown.length > 0 ? ': break the new ones (or, for a known one being fixed elsewhere, allowlist it)' : ''),
);
process.exit(unknown.length > 0 ? 1 : 0);
