/**
 * `holdfast catalog` as a real process against a real server: items are put
 * from a JSON file and listed, a price list with a promotion is published
 * from a JSON file and listed by version, and bad input (an unknown SKU, a
 * list ending in the past, a file that is not JSON) is refused with the
 * server's codes or a usage error, with nothing stored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'operator-token-for-catalog-command-01';

describe('holdfast catalog', () => {
  let server: RunningServer;
  let dir: string;
  const run = async (...args: string[]) => {
    const p = CliProcess.start(args[0] as string, args, {
      HOLDFAST_URL: server.url,
      HOLDFAST_OPERATOR_TOKEN: OPERATOR,
    });
    const exit = await p.exited;
    return { code: exit.code, out: p.lines.join('\n'), stderr: p.stderr };
  };
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-catalog-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts and lists items, publishes and lists price lists; bad input refused with codes', async () => {
    const empty = await run('catalog', 'items');
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.out, 'no catalog items');

    const put = await run(
      'catalog',
      'put',
      '--file',
      file('items.json', {
        items: [
          { sku: 'BEER-05', name: 'Beer 0.5l', taxCategory: 'standard', unit: 'each' },
          { sku: 'PRETZEL', name: 'Pretzel', taxCategory: 'reduced', unit: 'each' },
        ],
      }),
    );
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.out, '2 item(s) written');
    const bare = await run(
      'catalog',
      'put',
      '--file',
      file('bare.json', [{ sku: 'PRETZEL', name: 'Big pretzel', taxCategory: 'reduced', unit: 'each' }]),
    );
    assert.equal(bare.code, 0, bare.stderr);
    const items = await run('catalog', 'items');
    assert.equal(items.code, 0, items.stderr);
    assert.match(items.out, /BEER-05 +Beer 0\.5l +standard +each/);
    assert.match(items.out, /PRETZEL +Big pretzel +reduced +each/);

    const now = Date.now();
    const published = await run(
      'catalog',
      'publish',
      '--file',
      file('list.json', {
        location: 'stand-1',
        currency: 'EUR',
        prices: [
          { sku: 'BEER-05', price: 650 },
          { sku: 'PRETZEL', price: 300 },
        ],
        promotions: [{ sku: 'PRETZEL', price: 250, from: now, until: now + 3_600_000 }],
      }),
    );
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.out, /^published stand-1 price list v1/);
    assert.match(published.out, /BEER-05 +€6\.50/);
    const listed = await run('catalog', 'prices', '--location', 'stand-1', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const versions = JSON.parse(listed.out).versions as { version: number; prices: unknown[]; promotions: unknown[] }[];
    assert.deepEqual(
      versions.map((v) => [v.version, v.prices.length, v.promotions.length]),
      [[1, 2, 1]],
    );

    const unknown = await run(
      'catalog',
      'publish',
      '--file',
      file('unknown.json', { location: 'stand-1', currency: 'EUR', prices: [{ sku: 'NOPE', price: 1 }] }),
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown_sku .*\(prices\[0\]\.sku\)/);
    const past = await run(
      'catalog',
      'publish',
      '--file',
      file('past.json', {
        location: 'stand-1',
        currency: 'EUR',
        until: now - 1000,
        prices: [{ sku: 'BEER-05', price: 1 }],
      }),
    );
    assert.equal(past.code, 1);
    assert.match(past.stderr, /ends_in_past .*\(until\)/);
    const notJson = await run('catalog', 'put', '--file', file('broken.json', '{"items": ['));
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /--file: .*broken\.json is not valid JSON/);
    const noLocation = await run('catalog', 'prices');
    assert.equal(noLocation.code, 2);
    assert.match(noLocation.stderr, /--location/);

    const after = await run('catalog', 'prices', '--location', 'stand-1', '--json');
    assert.equal(JSON.parse(after.out).versions.length, 1, 'refused lists stored nothing');
  });
});
