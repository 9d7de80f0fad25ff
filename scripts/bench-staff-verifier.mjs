#!/usr/bin/env node
// The cost of one staff PIN check (scrypt, protocol STAFF_SCRYPT): what a
// clerk waits at sign-in and what an attacker pays per guess against a
// stolen roster (docs/staff-and-roles.md, "Cost of a PIN check").
// Needs the built protocol package: `npx tsc -b packages/protocol` first.
//
//   node scripts/bench-staff-verifier.mjs [checks=40]
import { checkStaffSecret, makeStaffVerifier, STAFF_SCRYPT } from '../packages/protocol/dist/index.js';

const runs = Number(process.argv[2] ?? 40);
const verifier = makeStaffVerifier('4821');
checkStaffSecret('4822', verifier); // warm-up
const ms = [];
for (let i = 0; i < runs; i++) {
  const start = process.hrtime.bigint();
  checkStaffSecret('4822', verifier);
  ms.push(Number(process.hrtime.bigint() - start) / 1e6);
}
ms.sort((a, b) => a - b);
const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(1);
const { N, r, p } = STAFF_SCRYPT;
console.log(
  JSON.stringify({
    N,
    r,
    p,
    checks: runs,
    p50Ms: Number(at(0.5)),
    p90Ms: Number(at(0.9)),
    minMs: Number(ms[0].toFixed(1)),
  }),
);
