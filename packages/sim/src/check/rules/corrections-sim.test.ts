/**
 * The sale-correction invariants see real data: a small latam-intermittent
 * day (flapping links, power cuts, staff at the tills) with the counters
 * voiding and refunding cash sales (world/correction-traffic.ts) records
 * sale voids and refunds — at another shop, over the sale — and is clean;
 * then the truth is tampered with and the checker names the violation.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { ticketCounts } from '../../scenarios/betting-shop.js';
import { latamIntermittent } from '../../scenarios/latam-intermittent.js';
import { resolveParams } from '../../scenarios/scenario.js';
import type { CorrectionFigures } from '../../world/correction-traffic.js';
import { SimWorld } from '../../world/sim-world.js';
import { worldTruth } from '../../world/world-truth.js';
import { checkTruth } from '../check-truth.js';
import { formatViolation } from '../format.js';
import type { Truth } from '../truth.js';

const SEED = 3;

describe('sale corrections on a simulated latam-intermittent day', () => {
  let truth: Truth;
  let figures: CorrectionFigures;
  before(async () => {
    const params = resolveParams(latamIntermittent, 'small', {
      shops: 5,
      minutes: 40,
      salesPerMinute: 2,
      saleVoidPct: 15,
      unapprovedSaleVoidPct: 10,
      refundPct: 50,
      refundElsewherePct: 60,
      overRefundPct: 50,
    });
    const plan = latamIntermittent.build(params, new SeededRandom(SEED).fork('plan:latam-intermittent'));
    const world = new SimWorld({ scenario: 'latam-intermittent', seed: SEED, plan });
    try {
      await world.run();
      truth = worldTruth(world);
      figures = structuredClone(world.corrections?.figures as CorrectionFigures);
    } finally {
      await world.close();
    }
  });

  it('records voids and refunds (at another shop, over the sale) and holds every invariant', () => {
    assert.deepEqual(checkTruth(truth).map(formatViolation), [], JSON.stringify(figures));
    const counts = ticketCounts(truth);
    assert.ok(counts.saleVoids > 0, `sale voids: ${JSON.stringify(figures)}`);
    assert.ok(counts.refunds > 0, `refunds: ${JSON.stringify(figures)}`);
    assert.ok(figures.saleVoidsRefusedAtTill > 0, 'voids without an approval were refused at the till');
    assert.equal(figures.saleVoidsUnapprovedRecorded, 0);
    assert.ok(figures.refundsElsewhere > 0 && figures.refundsPartial > 0, JSON.stringify(figures));
    assert.ok(figures.overRefunds > 0, JSON.stringify(figures));
    assert.equal(counts.refundsOverSale, 0, 'every over-refund was flagged');
    assert.equal(counts.refundsOverSaleFlagged, figures.overRefunds, 'each deliberate over-refund flagged once');
    const voids = truth.server.ops.filter((o) => o.kind === 'sale.voided' && o.status === 'accepted');
    assert.equal(voids.length, counts.saleVoids);
  });

  it('catches an over-refund the server did not flag', () => {
    const flagged = truth.server.exceptions.filter((x) => x.type === 'refund_over_sale');
    assert.ok(flagged.length > 0);
    const tampered: Truth = {
      ...truth,
      server: { ...truth.server, exceptions: truth.server.exceptions.filter((x) => x.type !== 'refund_over_sale') },
    };
    const rules = checkTruth(tampered).map((v) => v.rule);
    assert.ok(rules.includes('refunds-within-sale'), rules.join(', '));
    assert.equal(ticketCounts(tampered).refundsOverSale, flagged.length);
  });

  it('catches a refund_over_sale raised about a sale that was not over-refunded', () => {
    const x = truth.server.exceptions.find((e) => e.type === 'refund_over_sale');
    assert.ok(x);
    const honest = truth.server.sales.find((s) => s.opId !== x.detail.sale);
    assert.ok(honest);
    const tampered: Truth = {
      ...truth,
      server: {
        ...truth.server,
        exceptions: [
          ...truth.server.exceptions,
          { ...x, id: `${x.id}-false`, detail: { ...x.detail, sale: honest.opId } },
        ],
      },
    };
    assert.ok(checkTruth(tampered).some((v) => v.rule === 'exception' && /refund_over_sale/.test(v.message)));
  });

  it('catches a sale void with no approver', () => {
    const v = truth.server.ledger.find((e) => e.type === 'sale.voided');
    assert.ok(v);
    const tampered: Truth = {
      ...truth,
      server: {
        ...truth.server,
        ledger: truth.server.ledger.map((e) => (e === v ? { ...e, data: { ...e.data, approvedBy: '' } } : e)),
      },
    };
    assert.ok(checkTruth(tampered).some((x) => x.rule === 'sale-void-approved'));
  });
});
