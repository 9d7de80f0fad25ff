/**
 * mergeDeviceFeed, the part of the device feed both backends share, as a
 * property: over any ledger and any page size, following `next` from 0
 * yields exactly the events that concern the device, in order, once, and
 * ends with the cursor at the ledger's end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DeviceFeedEvent } from '../model/device-feed.js';
import { mergeDeviceFeed } from './device-feed.js';

type Kind = 'own' | 'broadcast' | 'other';

function event(pos: number): DeviceFeedEvent {
  return {
    pos,
    opId: `op-${pos}`,
    device: 'd',
    seq: pos,
    type: 't',
    shiftId: null,
    currency: null,
    amount: null,
    data: {},
    deviceAt: 0,
    appliedAt: 0,
    card: null,
  };
}

/** What a backend's two queries return after `after`: the first `limit` of each kind. */
function page(ledger: readonly { pos: number; kind: Kind }[], after: number, limit: number) {
  const of = (kind: Kind) =>
    ledger
      .filter((e) => e.kind === kind && e.pos > after)
      .slice(0, limit)
      .map((e) => event(e.pos));
  const end = ledger.at(-1)?.pos ?? 0;
  return mergeDeviceFeed(of('own'), of('broadcast'), after, limit, end);
}

describe('mergeDeviceFeed', () => {
  it('paging from 0 yields every event of the device once, in order, and ends at the ledger end', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ gap: fc.integer({ min: 1, max: 3 }), kind: fc.constantFrom<Kind>('own', 'broadcast', 'other') }),
          {
            maxLength: 60,
          },
        ),
        fc.integer({ min: 1, max: 7 }),
        (raw, limit) => {
          const ledger: { pos: number; kind: Kind }[] = [];
          for (const e of raw) ledger.push({ pos: (ledger.at(-1)?.pos ?? 0) + e.gap, kind: e.kind });
          const expected = ledger.filter((e) => e.kind !== 'other').map((e) => e.pos);
          const seen: number[] = [];
          let after = 0;
          for (let pages = 0; ; pages++) {
            assert.ok(pages <= ledger.length + 1, 'paging terminates');
            const p = page(ledger, after, limit);
            assert.ok(p.items.length <= limit);
            assert.ok(p.next >= after, 'the cursor never moves back');
            assert.ok(
              p.items.every((e) => e.pos > after && e.pos <= p.next),
              'items lie in (after, next]',
            );
            seen.push(...p.items.map((e) => e.pos));
            after = p.next;
            if (!p.more) break;
          }
          assert.deepEqual(seen, expected);
          assert.equal(after, ledger.at(-1)?.pos ?? 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
