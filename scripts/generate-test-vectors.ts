// Writes docs/test-vectors/*.json from the protocol package's own code (format: docs/test-vectors/README.md).
//   node --conditions=holdfast-src --import tsx scripts/generate-test-vectors.ts
import { writeFileSync } from 'node:fs';
import { generateTestVectors } from '../packages/protocol/src/test-vectors.js';

const dir = new URL('../docs/test-vectors/', import.meta.url);
const vectors = generateTestVectors();
for (const [name, content] of Object.entries({
  'canonical-json.json': vectors.canonicalJson,
  'chain.json': vectors.chain,
  'batch.json': vectors.batch,
  'policy.json': vectors.policy,
  'staff-pin.json': vectors.staffPin,
})) {
  writeFileSync(new URL(name, dir), `${JSON.stringify(content, null, 2)}\n`);
  console.log(`wrote docs/test-vectors/${name}`);
}
