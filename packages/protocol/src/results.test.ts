import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode } from './errors.js';
import {
  DEVICE_TERMINAL_ERRORS,
  type OpResult,
  REJECT_REASONS,
  RESULT_STATUSES,
  type Settlement,
  type StoredResult,
  settlementOf,
} from './results.js';

const ref = { id: '01890000-0000-7000-8000-000000000000', seq: 4 };
const accepted: StoredResult = { status: 'accepted', at: 1 };
const invalid: StoredResult = { status: 'rejected', reason: 'invalid_body', message: 'm', field: 'body.total', at: 1 };

describe('settlementOf', () => {
  const cases: ReadonlyArray<readonly [string, OpResult, Settlement]> = [
    ['accepted', { ...ref, ...accepted }, 'confirmed'],
    ['duplicate of an accepted op', { ...ref, status: 'duplicate', original: { ...ref, ...accepted } }, 'confirmed'],
    ['duplicate of a rejected op', { ...ref, status: 'duplicate', original: { ...ref, ...invalid } }, 'dead'],
    ['conflict', { ...ref, status: 'conflict', message: 'm' }, 'dead'],
    ['fork', { ...ref, status: 'fork', message: 'm' }, 'dead'],
    ['rejected: seq_gap', { ...ref, status: 'rejected', reason: 'seq_gap', message: 'm', expectedSeq: 2 }, 'retry'],
    ['rejected: invalid_body', { ...ref, ...invalid }, 'dead'],
    ['rejected: unknown_kind', { ...ref, status: 'rejected', reason: 'unknown_kind', message: 'm', at: 1 }, 'dead'],
  ];
  for (const [name, result, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      assert.equal(settlementOf(result), expected);
    });
  }

  it('covers every status and reject reason', () => {
    assert.deepEqual(new Set(cases.map(([, r]) => r.status)), new Set(RESULT_STATUSES));
    const reasons = cases.flatMap(([, r]) => (r.status === 'rejected' ? [r.reason] : []));
    assert.deepEqual(new Set(reasons), new Set(REJECT_REASONS));
  });
});

describe('DEVICE_TERMINAL_ERRORS', () => {
  it('holds the codes after which a device can no longer deliver, all of them real codes', () => {
    assert.deepEqual([...DEVICE_TERMINAL_ERRORS].sort(), ['device_revoked', 'unknown_device']);
    for (const code of DEVICE_TERMINAL_ERRORS) assert.equal(isErrorCode(code), true);
  });
});
