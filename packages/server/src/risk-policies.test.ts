/**
 * A policy issued from an operator's draft keeps the optional sections the
 * draft gives (loyalty, stock): a till reads them from the signed policy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyDraftSchema, riskPolicySchema } from '@holdfast/protocol';
import { policyFromDraft } from './risk-policies.js';

const T = Date.UTC(2026, 11, 7, 12, 0, 0);
const draft = (extra: Record<string, unknown> = {}) =>
  policyDraftSchema.parse(
    {
      scope: { merchant: 'acme', location: null, event: null, devices: null },
      currency: 'EUR',
      expiresAt: T + 86_400_000,
      offline: { maxOfflineMs: 3_600_000, device: { maxAmount: 10_000, maxCount: 10 }, tenders: {} },
      online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
      ...extra,
    },
    'draft',
  );
const assigned = { id: '01900000-0000-7000-8000-000000000001', version: 1, issuedAt: T };

describe('policyFromDraft', () => {
  it('keeps the stock rule of the draft, and adds none when the draft has none', () => {
    const blocking = policyFromDraft(draft({ stock: { blockWhenOut: true } }), assigned);
    assert.deepEqual(blocking.stock, { blockWhenOut: true });
    assert.deepEqual(riskPolicySchema.parse(blocking, 'policy').stock, { blockWhenOut: true });
    assert.equal('stock' in policyFromDraft(draft(), assigned), false);
  });
});
