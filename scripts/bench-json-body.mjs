// The strict JSON body parser (server/src/http/json-body.ts) beside plain JSON.parse on one 500-op batch.
// Run after a build: node scripts/bench-json-body.mjs

import { ChainBuilder, generateDeviceKeys } from '../packages/protocol/dist/index.js';
import { parseJsonBody } from '../packages/server/dist/http/json-body.js';

const keys = generateDeviceKeys();
const dev = '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b';
const chain = new ChainBuilder(dev, keys.privateKey);
const ops = [chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 })];
for (let i = 0; i < 499; i++)
  ops.push(
    chain.next('sale.recorded', {
      shift: ops[0].id,
      currency: 'EUR',
      lines: [
        { sku: 'BEER', name: 'Beer 0.5l', qty: 2, unitPrice: 450 },
        { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 300 },
      ],
      total: 1200,
      tenders: [{ type: 'cash', amount: 1200, tendered: 2000 }],
    }),
  );
const buf = Buffer.from(JSON.stringify(chain.batch(ops)));
const time = (f) => {
  for (let i = 0; i < 50; i++) f();
  const t = performance.now();
  for (let i = 0; i < 200; i++) f();
  return (performance.now() - t) / 200;
};
const plain = time(() => JSON.parse(buf.toString('utf8')));
const strict = time(() => parseJsonBody(buf));
console.log(`body ${buf.length} bytes: JSON.parse ${plain.toFixed(2)} ms, parseJsonBody ${strict.toFixed(2)} ms`);
