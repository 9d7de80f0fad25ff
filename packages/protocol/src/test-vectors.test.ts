import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalJson } from './canonical-json.js';
import { canonicalOpText, hashOp, type UnsealedOp } from './op.js';
import { verifyPolicy } from './risk-policy.js';
import { checkStaffSecret, type SignedRoster, verifyRoster } from './staff.js';
import { generateTestVectors, vectorKeys } from './test-vectors.js';

const read = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../docs/test-vectors/${name}`, import.meta.url), 'utf8')) as unknown;

describe('protocol test vectors (docs/test-vectors)', () => {
  const files = {
    canonicalJson: read('canonical-json.json'),
    chain: read('chain.json'),
    batch: read('batch.json'),
    policy: read('policy.json'),
    staffPin: read('staff-pin.json'),
  };

  it('the files are what the generator makes from this code (run scripts/generate-test-vectors.ts after a change)', () => {
    assert.deepEqual(files, JSON.parse(JSON.stringify(generateTestVectors())));
  });

  it('canonical JSON outputs agree with an independent RFC 8785 implementation, and refused inputs are refused', () => {
    const { cases, refused } = files.canonicalJson as {
      cases: { name: string; input: string; output: string }[];
      refused: { name: string; input: string }[];
    };
    for (const c of cases) {
      assert.equal(canonicalJson(JSON.parse(c.input)), c.output, c.name);
      assert.equal((canonicalize as unknown as (v: unknown) => string)(JSON.parse(c.input)), c.output, c.name);
    }
    for (const r of refused) assert.throws(() => canonicalJson(JSON.parse(r.input)), r.name);
  });

  it('op hashes are SHA-256 of the canonical text and the chain links from genesis', () => {
    const { genesis, ops } = files.chain as {
      genesis: string;
      ops: { unsealed: UnsealedOp; canonical: string; hash: string }[];
    };
    let prev = genesis;
    for (const op of ops) {
      assert.equal(op.unsealed.prev, prev);
      assert.equal(canonicalOpText(op.unsealed), op.canonical);
      assert.equal(createHash('sha256').update(op.canonical, 'utf8').digest('hex'), op.hash);
      assert.equal(hashOp(op.unsealed), op.hash);
      prev = op.hash;
    }
  });

  it('the batch signature verifies under the RFC 8032 test key', () => {
    const { key, request, messageCanonical } = files.batch as {
      key: { publicKey: string };
      request: { sig: string };
      messageCanonical: string;
    };
    // RFC 8032 §7.1 TEST 1: the seed's public key.
    assert.equal(
      Buffer.from(key.publicKey, 'base64url').toString('hex'),
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey }, format: 'jwk' });
    assert.ok(verify(null, Buffer.from(messageCanonical, 'utf8'), publicKey, Buffer.from(request.sig, 'base64url')));
  });

  it('the signed policy verifies under its key, and each refused change is refused with its code', () => {
    const { keys, signed, refused } = files.policy as {
      keys: Record<string, string>;
      signed: unknown;
      refused: Array<{ name: string; code: string; signed: unknown }>;
    };
    const pinned = new Map(Object.entries(keys));
    verifyPolicy(signed, pinned);
    for (const r of refused) {
      assert.throws(
        () => verifyPolicy(r.signed, pinned),
        (e: unknown) => (e as { code?: unknown }).code === r.code,
        r.name,
      );
    }
  });

  it('the staff roster verifies under the vector key, and each PIN check gives the answer listed (node:crypto scrypt)', () => {
    const { keyId, signed, checks } = files.staffPin as {
      keyId: string;
      signed: SignedRoster;
      checks: { staff: string; pin: string; valid: boolean }[];
    };
    const roster = verifyRoster(signed, { [keyId]: vectorKeys().publicKey });
    assert.ok(checks.some((c) => c.valid) && checks.some((c) => !c.valid));
    for (const c of checks) {
      const pin = roster.staff.find((m) => m.id === c.staff)?.pin;
      assert.ok(pin, c.staff);
      assert.equal(checkStaffSecret(c.pin, pin), c.valid, `${c.staff} ${JSON.stringify(c.pin)}`);
    }
  });
});
