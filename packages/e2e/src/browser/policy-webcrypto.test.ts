/**
 * The browser till's policy verification (terminal-web/src/browser-policy.ts
 * `verifyPolicyWebCrypto`) run in real Chromium, on WebCrypto Ed25519, with
 * a policy the real server signed (POST /v1/admin/policies) and the keys it
 * publishes (GET /v1/admin/policies): the server's policy verifies; the same
 * policy with a limit raised, signed by a key id not pinned, or re-keyed is
 * refused with the code protocol's node:crypto `verifyPolicy` gives.
 *
 * The module is bundled here with esbuild (as terminal-web's build does,
 * no Node module inside) and loaded into a page on a loopback origin (a
 * secure context, where WebCrypto is available).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type PolicyKeySet, type SignedPolicy, verifyPolicy } from '@holdfast/protocol';
import { createHarness, type Harness } from '@holdfast/server/testing';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';

const VECTORS = new URL('../../../../docs/test-vectors/policy.json', import.meta.url);
const MODULE = fileURLToPath(new URL('../../../terminal-web/src/browser-policy.ts', import.meta.url));
const DAY = 86_400_000;

let h: Harness;
let browser: Browser;
let page: Page;
let server: Server;

before(async () => {
  h = await createHarness();
  const bundle = await build({
    entryPoints: [MODULE],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'hfPolicy',
    platform: 'browser',
    target: 'chrome120',
    conditions: ['holdfast-src'],
    external: ['node:*'],
    metafile: true,
    logLevel: 'silent',
  });
  const nodeImports = Object.values(bundle.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
  assert.deepEqual(nodeImports, [], 'the policy verifier pulls in no Node module');
  const script = bundle.outputFiles[0]?.text ?? '';
  server = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<!doctype html><meta charset="utf-8"><script>${script.replace(/<\/script/g, '<\\/script')}</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => typeof (window as unknown as { hfPolicy?: unknown }).hfPolicy === 'object');
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

/** What Chromium's WebCrypto says of `signed` under `keys`: 'ok' or the PolicyVerificationError code. */
function inChromium(signed: unknown, keys: Record<string, string>): Promise<string> {
  return page.evaluate(
    async ({ signed, keys }) => {
      const m = (
        window as unknown as {
          hfPolicy: { verifyPolicyWebCrypto(s: unknown, k: Record<string, string>): Promise<unknown> };
        }
      ).hfPolicy;
      try {
        await m.verifyPolicyWebCrypto(signed, keys);
        return 'ok';
      } catch (error) {
        return String((error as { code?: unknown }).code ?? error);
      }
    },
    { signed, keys },
  );
}

function onNode(signed: unknown, keys: Record<string, string>): string {
  try {
    verifyPolicy(signed, new Map(Object.entries(keys)));
    return 'ok';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

describe('risk policy verification in Chromium (WebCrypto Ed25519)', () => {
  it("verifies the server's signed policy and refuses a tampered one, as node:crypto does", async () => {
    const now = h.clock.now();
    const issued = await h.request<SignedPolicy>('POST', '/v1/admin/policies', {
      admin: true,
      payload: {
        scope: { merchant: 'acme', location: null, event: null, devices: null },
        currency: 'EUR',
        expiresAt: now + DAY,
        offline: {
          maxOfflineMs: 3_600_000,
          device: { maxAmount: 20_000, maxCount: 10 },
          tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
        },
        online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
      },
    });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const signed = issued.body;
    const keys = (await h.request<{ keys: PolicyKeySet }>('GET', '/v1/admin/policies', { admin: true })).body.keys;
    assert.ok(Object.hasOwn(keys, signed.keyId));
    const raised = {
      ...signed,
      policy: {
        ...signed.policy,
        offline: {
          ...signed.policy.offline,
          tenders: { card: { ...signed.policy.offline.tenders.card, floorLimit: 500_000 } },
        },
      },
    };
    const otherKey = Object.values(keys).find((k) => k !== keys[signed.keyId]);
    const cases: Array<[string, unknown, Record<string, string>, string]> = [
      ['as the server signed it', signed, keys, 'ok'],
      ['its floor limit raised on the way', raised, keys, 'bad_signature'],
      ['its key id changed to one not pinned', { ...signed, keyId: 'not-pinned' }, keys, 'unknown_key'],
      ['the pinned key unusable', signed, { [signed.keyId]: 'short' }, 'unknown_key'],
      ['its currency broken', { ...signed, policy: { ...signed.policy, currency: 'euro' } }, keys, 'invalid_policy'],
    ];
    if (otherKey !== undefined) {
      cases.push(['the id pinned to another key', signed, { [signed.keyId]: otherKey }, 'bad_signature']);
    }
    for (const [name, input, pinned, expected] of cases) {
      assert.equal(onNode(input, pinned), expected, `${name}: node:crypto`);
      assert.equal(await inChromium(input, pinned), expected, `${name}: Chromium`);
    }
  });

  it('passes the policy test vectors (docs/test-vectors/policy.json)', async () => {
    const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as {
      keys: Record<string, string>;
      signed: unknown;
      refused: Array<{ name: string; code: string; signed: unknown }>;
    };
    assert.equal(await inChromium(vectors.signed, vectors.keys), 'ok');
    for (const r of vectors.refused) assert.equal(await inChromium(r.signed, vectors.keys), r.code, r.name);
  });
});
