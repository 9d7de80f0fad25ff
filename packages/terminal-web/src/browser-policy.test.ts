/**
 * The browser till's risk policy (browser-policy.ts) on Node's WebCrypto, on
 * a real journal (better-sqlite3): `verifyPolicyWebCrypto` gives the same
 * answer as protocol's node:crypto `verifyPolicy` for a signed policy and
 * each way of breaking one, and `BrowserPolicy` decides card tenders and
 * wristband payments exactly as the Node terminal's `OfflinePolicy` does on
 * the same journal (the same decision, the same exposure meta, the same
 * refusal and rule, the same release of confirmed wristband payments). The
 * Chromium side (WebCrypto in a real browser, the till app) is
 * packages/e2e/src/browser/till-policy.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  generateDeviceKeys,
  PolicyVerificationError,
  type RiskPolicy,
  type SignedPolicy,
  signPolicy,
  uuidv7,
  verifyPolicy,
} from '@holdfast/protocol';
import { Journal } from '@holdfast/terminal';
import { META, NeedsOnlineError } from '@holdfast/terminal/portable';
import { OfflinePolicy } from '@holdfast/terminal/testing';
import { BrowserPolicy, verifyPolicyWebCrypto } from './browser-policy.js';
import { importSigningKeyWebCrypto } from './webcrypto-signing.js';

const SERVER = generateDeviceKeys();
const STRANGER = generateDeviceKeys();
const KEYS = { k1: SERVER.publicKey };
const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

function policy(floorLimit = 5000): RiskPolicy {
  return {
    v: 1,
    id: uuidv7(NOW - 1000, new Uint8Array(10).fill(1)),
    version: 1,
    issuedAt: NOW - 1000,
    validFrom: NOW - 60_000,
    expiresAt: NOW + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 10_000, maxCount: 10 },
      tenders: { card: { floorLimit, instrument: { maxAmount: 8000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

/** The code verifyPolicy (node:crypto) or verifyPolicyWebCrypto gives, or 'ok'. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof PolicyVerificationError, String(error));
    return error.code;
  }
}

test('verifyPolicyWebCrypto agrees with verifyPolicy: signed, tampered, re-keyed, unknown key, malformed', async () => {
  const good = signPolicy(policy(), SERVER.privateKey, 'k1');
  const cases: Array<[string, unknown, Record<string, string>, string]> = [
    ['signed by the server', good, KEYS, 'ok'],
    [
      'the same, re-serialized in another key order',
      JSON.parse(JSON.stringify({ sig: good.sig, keyId: good.keyId, policy: good.policy })),
      KEYS,
      'ok',
    ],
    [
      'floor limit raised after signing',
      { ...good, policy: { ...good.policy, offline: { ...good.policy.offline, maxOfflineMs: 90 * 86_400_000 } } },
      KEYS,
      'bad_signature',
    ],
    [
      'signed by a key not pinned, under the pinned id',
      signPolicy(policy(), STRANGER.privateKey, 'k1'),
      KEYS,
      'bad_signature',
    ],
    ['a key id not pinned', signPolicy(policy(), SERVER.privateKey, 'k9'), KEYS, 'unknown_key'],
    ['a pinned key that is no Ed25519 key', good, { k1: 'not-a-key' }, 'unknown_key'],
    ['a policy with no currency', { ...good, policy: { ...good.policy, currency: undefined } }, KEYS, 'invalid_policy'],
    ['not a policy at all', 'policy', KEYS, 'invalid_policy'],
  ];
  for (const [name, signed, keys, expected] of cases) {
    const node = await outcome(() => verifyPolicy(signed, new Map(Object.entries(keys))));
    const web = await outcome(() => verifyPolicyWebCrypto(signed, keys));
    assert.equal(node, expected, `${name}: node:crypto`);
    assert.equal(web, expected, `${name}: WebCrypto`);
  }
  const refused = await verifyPolicyWebCrypto({ ...good, policy: { ...good.policy, currency: 'eur' } }, KEYS).catch(
    (e: PolicyVerificationError) => e,
  );
  assert.ok(refused instanceof PolicyVerificationError);
  assert.equal(refused.field, 'policy.currency');
});

/** A journal holding `signed` with the server key pinned, opened for each side in turn. */
function withJournal(signed: SignedPolicy, fn: (journal: Journal, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-browser-policy-'));
  const journal = Journal.open(path.join(dir, 'journal.db'));
  journal.setMeta({
    [META.policyKeys]: JSON.stringify(KEYS),
    [META.policy]: JSON.stringify(signed),
    [META.lastServerContactAt]: String(NOW - 1000),
  });
  return fn(journal, dir).finally(() => {
    journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

function sale(id: string, amount: number, token: string) {
  return {
    id,
    at: NOW,
    deviceId: '0190c0de-0000-7000-8000-000000000001',
    placement: { merchant: 'acme', location: 'north', event: null },
    currency: 'EUR',
    tenders: [{ type: 'card' as const, amount, token, brand: 'visa' as const, last4: '4242' }],
  };
}

test('BrowserPolicy decides card tenders as the Node OfflinePolicy does, and refuses a tampered stored policy', async () => {
  const signed = signPolicy(policy(), SERVER.privateKey, 'k1');
  await withJournal(signed, async (journal) => {
    const web = new BrowserPolicy({ journal, transport: null as never, timeoutMs: 1000 });
    // Before load() has re-verified the stored policy, nothing is approved offline.
    assert.throws(
      () => web.authorizeCardSale(sale('a', 1000, 'tok_a')),
      (e: unknown) => e instanceof NeedsOnlineError && e.rule === 'no_policy',
    );
    await web.load();
    const node = new OfflinePolicy(journal);
    const requests = [
      sale('op-1', 1000, 'tok_a'), // within limits
      sale('op-2', 5001, 'tok_a'), // over the floor limit
      sale('op-3', 4000, 'tok_a'), // within the card's floor, within its offline amount (5000 of 8000)
      sale('op-4', 4000, 'tok_a'), // over the card's offline amount (9000 > 8000)
      sale('op-5', 4000, 'tok_b'), // another card: within
    ];
    const outcomes: string[] = [];
    for (const request of requests) {
      const decide = (p: OfflinePolicy | BrowserPolicy) => {
        try {
          return p.authorizeCardSale(request);
        } catch (error) {
          assert.ok(error instanceof NeedsOnlineError);
          return { rule: error.rule, message: error.message, policy: error.policy };
        }
      };
      const fromWeb = decide(web);
      const fromNode = decide(node);
      outcomes.push('decision' in fromWeb ? (fromWeb.decision.rule ?? '') : fromWeb.rule);
      assert.deepEqual(
        'decision' in fromWeb ? { decision: fromWeb.decision, meta: fromWeb.meta } : fromWeb,
        'decision' in fromNode ? { decision: fromNode.decision, meta: fromNode.meta } : fromNode,
        request.id,
      );
      // What was approved is committed, as the Recorder does with the op.
      if ('decision' in fromWeb && 'decision' in fromNode) {
        journal.setMeta(fromWeb.meta);
        web.committed(fromWeb.exposure);
        node.committed(fromNode.exposure);
      }
    }
    // After a reload the exposure comes back from the journal: the same answers.
    const reloaded = await reload(journal);
    assert.deepEqual(outcomes, ['within_limits', 'floor_limit', 'within_limits', 'instrument_amount', 'within_limits']);
    assert.deepEqual([...reloaded.exposure().approvals.keys()], ['op-1', 'op-3', 'op-5']);
    assert.deepEqual(reloaded.exposure(), web.exposure());
    // 9000 of the device's 10 000 held: a 2000 card sale now needs the server, on either side.
    assert.throws(
      () => reloaded.authorizeCardSale(sale('op-6', 2000, 'tok_c')),
      (e: unknown) => e instanceof NeedsOnlineError && e.rule === 'device_amount',
    );
  });
  // A stored policy changed on disk no longer verifies: nothing is approved under it.
  const tampered = { ...signed, policy: { ...signed.policy, currency: 'USD' } };
  await withJournal(tampered, async (journal) => {
    const web = new BrowserPolicy({ journal, transport: null as never, timeoutMs: 1000 });
    await web.load();
    assert.equal(web.policyValid(), false);
    assert.throws(
      () => web.authorizeCardSale({ ...sale('x', 100, 'tok_a'), currency: 'USD' }),
      (e: unknown) => e instanceof NeedsOnlineError && e.rule === 'policy_invalid',
    );
  });
});

test('verifyPolicyWebCrypto passes the policy test vectors (docs/test-vectors/policy.json)', async () => {
  const vectors = JSON.parse(
    fs.readFileSync(new URL('../../../docs/test-vectors/policy.json', import.meta.url), 'utf8'),
  ) as {
    keys: Record<string, string>;
    signed: SignedPolicy;
    refused: Array<{ name: string; code: string; signed: unknown }>;
  };
  assert.deepEqual(await verifyPolicyWebCrypto(vectors.signed, vectors.keys), vectors.signed);
  for (const r of vectors.refused)
    assert.equal(await outcome(() => verifyPolicyWebCrypto(r.signed, vectors.keys)), r.code, r.name);
});

test('refresh keeps a verified newer policy and the contact time; a tampered, older or refused answer stores nothing', async () => {
  const v1 = signPolicy(policy(), SERVER.privateKey, 'k1');
  const v2 = signPolicy({ ...policy(7000), version: 2, issuedAt: NOW }, SERVER.privateKey, 'k1');
  await withJournal(v1, async (journal) => {
    const answers: unknown[] = [];
    const requests: unknown[] = [];
    const transport = {
      fetchPolicy: async (req: unknown) => {
        requests.push(req);
        return answers.shift();
      },
    };
    let clock = NOW;
    const now = () => clock;
    const device = generateDeviceKeys();
    const credentials = {
      deviceId: '0190c0de-0000-7000-8000-000000000001',
      key: await importSigningKeyWebCrypto(device.privateKey),
    };
    const web = new BrowserPolicy({ journal, transport: transport as never, timeoutMs: 1000 });
    await web.load();
    const ok = (p: unknown) => ({ ok: true, status: 200, body: { policy: p, keys: KEYS, serverTime: clock } });
    const stored = () => [journal.getMeta(META.policy), journal.getMeta(META.lastServerContactAt)];
    const before = stored();

    // v2 with its floor limit raised on the way: refused, nothing stored, v1 still decides.
    const raised = { ...v2, policy: { ...v2.policy, offline: { ...v2.policy.offline, maxOfflineMs: 5 * HOUR } } };
    answers.push(ok(raised));
    clock += 1000;
    await assert.rejects(
      web.refresh(credentials, now),
      (e: unknown) => e instanceof PolicyVerificationError && e.code === 'bad_signature',
    );
    assert.deepEqual(stored(), before);
    assert.equal(web.policy()?.policy.version, 1);

    // The server refuses: PolicyRefreshError, nothing stored.
    answers.push({ ok: false, status: 403, error: { code: 'device_revoked', message: 'revoked', retryable: false } });
    await assert.rejects(web.refresh(credentials, now), (e: unknown) => (e as Error).name === 'PolicyRefreshError');
    assert.deepEqual(stored(), before);

    // The honest v2: kept, with the contact time; the request was signed by the device for this time.
    answers.push(ok(v2));
    clock += 1000;
    assert.equal((await web.refresh(credentials, now))?.policy.version, 2);
    assert.equal(journal.getMeta(META.lastServerContactAt), String(clock));
    assert.deepEqual(JSON.parse(journal.getMeta(META.policy) as string), v2);
    assert.equal((requests.at(-1) as { at: number }).at, clock);

    // An older policy answered later does not replace the newer one (the contact time still moves).
    answers.push(ok(v1));
    clock += 1000;
    assert.equal((await web.refresh(credentials, now))?.policy.version, 2);
    assert.equal(journal.getMeta(META.lastServerContactAt), String(clock));
    assert.equal(web.authorizeCardSale(sale('op-7', 6000, 'tok_a')).decision.mode, 'local', "v2's 70.00 floor limit");
  });
});

async function reload(journal: Journal): Promise<BrowserPolicy> {
  const p = new BrowserPolicy({ journal, transport: null as never, timeoutMs: 1000 });
  await p.load();
  return p;
}

/** A policy with wristband limits: 20.00 a payment, 50.00 per wristband, 80.00 held on the device. */
function wristbandPolicy(): RiskPolicy {
  const base = policy();
  return {
    ...base,
    offline: {
      ...base.offline,
      device: { maxAmount: 8000, maxCount: 10 },
      tenders: {
        ...base.offline.tenders,
        wristband: { floorLimit: 2000, instrument: { maxAmount: 5000, maxCount: 4, velocity: null } },
      },
    },
  };
}

function wristbandPayment(id: string, amount: number, wristband: string, at = NOW) {
  return {
    id,
    at,
    deviceId: '0190c0de-0000-7000-8000-000000000001',
    placement: { merchant: 'acme', location: 'north', event: null },
    kind: 'sale.recorded',
    currency: 'EUR',
    amount,
    wristband,
  };
}

type Decided =
  | ReturnType<BrowserPolicy['authorizeWristband']>
  | { rule: string; message: string; policy: string | null };

function decideWristband(p: OfflinePolicy | BrowserPolicy, request: ReturnType<typeof wristbandPayment>): Decided {
  try {
    return p.authorizeWristband(request);
  } catch (error) {
    assert.ok(error instanceof NeedsOnlineError, String(error));
    return { rule: error.rule, message: error.message, policy: error.policy };
  }
}

test('BrowserPolicy decides wristband payments as the Node OfflinePolicy does, releasing confirmed ones alike', async () => {
  const signed = signPolicy(wristbandPolicy(), SERVER.privateKey, 'k1');
  await withJournal(signed, async (journal) => {
    const web = new BrowserPolicy({ journal, transport: null as never, timeoutMs: 1000 });
    // Before load() has re-verified the stored policy, no wristband payment is approved offline.
    assert.throws(
      () => web.authorizeWristband(wristbandPayment('w0', 100, 'band-a')),
      (e: unknown) => e instanceof NeedsOnlineError && e.rule === 'no_policy',
    );
    await web.load();
    const node = new OfflinePolicy(journal);
    const ids: string[] = [];
    const outcomes: string[] = [];
    let seq = 0;
    const steps = [
      wristbandPayment('w1', 1500, 'band-a'), // within limits
      wristbandPayment('w2', 2001, 'band-a'), // over the wristband floor limit (20.00)
      wristbandPayment('w3', 2000, 'band-a'), // at the floor: within (35.00 of band-a's 50.00)
      wristbandPayment('w4', 2000, 'band-a'), // 55.00 > 50.00 on band-a: instrument_amount
      wristbandPayment('w5', 2000, 'band-b'), // another wristband: within (55.00 of the device's 80.00)
      wristbandPayment('w6', 2000, 'band-c'), // within (75.00)
      wristbandPayment('w7', 1000, 'band-c'), // 85.00 > 80.00 held on the device: device_amount
      'confirm w1 and w3', // the server confirmed band-a's two payments: released at the next decision
      wristbandPayment('w8', 1000, 'band-c'), // 50.00 held after the release: within
      wristbandPayment('w9', 2000, 'band-a'), // band-a holds nothing unconfirmed now: within
      wristbandPayment('w10', 2000, 'band-d', NOW + 5 * HOUR), // 5 h after the last server contact (4 h allowed)
    ] as const;
    for (const step of steps) {
      if (typeof step === 'string') {
        // As the sync loop does: the server's confirmation of the ops carrying the approvals.
        for (const id of ['w1', 'w3']) {
          const stored = journal.getOp(id);
          assert.ok(stored, id);
          assert.equal(journal.confirm(stored.seq, { ok: true }, NOW), true);
        }
        continue;
      }
      const fromWeb = decideWristband(web, step);
      const fromNode = decideWristband(node, step);
      outcomes.push('decision' in fromWeb ? (fromWeb.decision.rule ?? '') : fromWeb.rule);
      assert.deepEqual(
        'decision' in fromWeb ? { decision: fromWeb.decision, meta: fromWeb.meta } : fromWeb,
        'decision' in fromNode ? { decision: fromNode.decision, meta: fromNode.meta } : fromNode,
        step.id,
      );
      if ('decision' in fromWeb && 'decision' in fromNode) {
        // The op and its exposure commit together, as the Recorder does.
        seq++;
        journal.append({
          id: step.id,
          device: step.deviceId,
          kind: 'sale.recorded',
          body: { n: seq },
          at: step.at,
          decision: fromWeb.decision,
          meta: fromWeb.meta,
        });
        web.committed(fromWeb.exposure);
        node.committed(fromNode.exposure);
        ids.push(step.id);
      }
    }
    assert.deepEqual(outcomes, [
      'within_limits',
      'floor_limit',
      'within_limits',
      'instrument_amount',
      'within_limits',
      'within_limits',
      'device_amount',
      'within_limits',
      'within_limits',
      'max_offline_duration',
    ]);
    assert.deepEqual(ids, ['w1', 'w3', 'w5', 'w6', 'w8', 'w9']);
    // The approvals held: w1 and w3 were released when w8 was decided; the journal says the same after a reload.
    const reloaded = await reload(journal);
    assert.deepEqual([...reloaded.exposure().approvals.keys()], ['w5', 'w6', 'w8', 'w9']);
    assert.deepEqual(reloaded.exposure(), web.exposure());
    assert.deepEqual(new OfflinePolicy(journal).exposure(), web.exposure());
    const approved = web.authorizeWristband(wristbandPayment('w11', 500, 'band-e'));
    assert.deepEqual(approved.decision, {
      mode: 'local',
      outcome: 'approved',
      policy: `${signed.policy.id}@1`,
      rule: 'within_limits',
    });
  });
  // No policy held at all, and a stored policy changed on disk: refused on both sides, never guessed.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-browser-policy-'));
  const empty = Journal.open(path.join(dir, 'journal.db'));
  try {
    const web = new BrowserPolicy({ journal: empty, transport: null as never, timeoutMs: 1000 });
    await web.load();
    const request = wristbandPayment('n1', 100, 'band-a');
    assert.deepEqual(decideWristband(web, request), decideWristband(new OfflinePolicy(empty), request));
    assert.equal((decideWristband(web, request) as { rule: string }).rule, 'no_policy');
  } finally {
    empty.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const tampered = {
    ...signed,
    policy: { ...signed.policy, offline: { ...signed.policy.offline, maxOfflineMs: HOUR * 48 } },
  };
  await withJournal(tampered, async (journal) => {
    const web = new BrowserPolicy({ journal, transport: null as never, timeoutMs: 1000 });
    await web.load();
    const request = wristbandPayment('t1', 100, 'band-a');
    assert.deepEqual(decideWristband(web, request), decideWristband(new OfflinePolicy(journal), request));
    assert.equal((decideWristband(web, request) as { rule: string }).rule, 'policy_invalid');
  });
});
