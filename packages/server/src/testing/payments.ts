/**
 * Payments made through the harness, shared by the storage contract tests
 * and the forwarding, feed, exception and authorization tests: a terminal's
 * local approval, offline-approved card sales, a signed online
 * authorization body. Imported by tests only.
 */
import assert from 'node:assert/strict';
import { authorizeMessage, type Decision, type OnlineRequest, signMessage } from '@holdfast/protocol';
import { type Harness, T0, type TestDevice } from './harness.js';

/** A decision of a payment the terminal approved on its own under policy `p@1`. */
export const LOCAL_APPROVAL: Decision = {
  mode: 'local',
  outcome: 'approved',
  policy: '019a5f3c-8e00-7a21-9c44-3b0e5d6f7a81@1',
  rule: 'within_limits',
};

/** Opens a shift on `d` and records `amounts.length` offline-approved card sales; returns their op ids in seq order. */
export async function offlineSales(h: Harness, d: TestDevice, amounts: readonly number[]): Promise<string[]> {
  const open = d.openShift();
  const sales = amounts.map((amount, i) =>
    d.cardSale(open.id, amount, LOCAL_APPROVAL, { token: `tok_${d.id.slice(-6)}_${i}`, last4: '4242' }),
  );
  const res = await h.send(d.batch([open, ...sales]));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return sales.map((s) => s.id);
}

/** A signed POST /v1/authorize body from `d`. */
export function authorizeBody(d: TestDevice, opId: string, request: OnlineRequest, at = T0) {
  return { device: d.id, opId, at, sig: signMessage(authorizeMessage(d.id, opId, at, request), d.privateKey), request };
}
