/**
 * The operator's betting configuration: per-currency stake and payout
 * limits, the liability cap per selection, and the suspended events and
 * markets. Set with `PUT /v1/admin/betting` (docs/risk-policy.md, "Betting
 * limits"); every `POST /v1/authorize` of a ticket reads the newest one
 * inside its own transaction, so a suspension takes effect with the next
 * ticket — unlike the signed risk policy, which devices fetch and hold.
 */
import { CURRENCY_PATTERN, MAX_AMOUNT, schema as s } from '@holdfast/protocol';

const amount = () => s.int({ min: 1, max: MAX_AMOUNT });
const name = () => s.string({ minLength: 1, maxLength: 64 });

export const bettingLimitsSchema = s.refine(
  s.object({
    currency: s.string({
      minLength: 3,
      maxLength: 3,
      pattern: CURRENCY_PATTERN,
      patternRule: 'ISO 4217 code (3 upper-case letters)',
    }),
    /** Smallest stake of one ticket, minor units. */
    minStake: amount(),
    /** Largest stake of one ticket. */
    maxStake: amount(),
    /** Largest potential payout of one ticket. */
    maxPayout: amount(),
    /** Largest Σ potential payouts of accepted tickets on one selection. */
    selectionLiabilityCap: amount(),
    /**
     * Largest payout a shop may record offline, at its own risk, when the
     * server cannot be reached (docs/betting.md); absent: every payout is
     * confirmed online.
     */
    offlinePayoutLimit: s.optional(amount()),
  }),
  (l) => (l.minStake > l.maxStake ? ['minStake', `at most maxStake (${l.maxStake})`] : null),
);

export const bettingConfigSchema = s.refine(
  s.object({
    limits: s.array(bettingLimitsSchema, { minItems: 1, maxItems: 32 }),
    suspended: s.object({
      events: s.array(name(), { minItems: 0, maxItems: 10_000 }),
      markets: s.array(s.object({ event: name(), market: name() }), { minItems: 0, maxItems: 10_000 }),
    }),
    /**
     * How long after its acceptance a ticket may be voided at the till
     * (with a supervisor's approval, and only before its events start);
     * absent: tickets cannot be voided.
     */
    voidWindowMinutes: s.optional(s.int({ min: 1, max: 24 * 60 })),
    /** Start times of events (epoch ms): a ticket on an event that has started cannot be voided. */
    eventStarts: s.optional(
      s.array(s.object({ event: name(), startsAt: s.int({ min: 0, max: 7_258_118_400_000 }) }), {
        minItems: 0,
        maxItems: 10_000,
      }),
    ),
  }),
  (config) => {
    const seen = new Set<string>();
    for (let i = 0; i < config.limits.length; i++) {
      const currency = (config.limits[i] as { currency: string }).currency;
      if (seen.has(currency)) return [`limits[${i}].currency`, 'each currency listed once'];
      seen.add(currency);
    }
    return null;
  },
);
export type BettingConfig = s.Infer<typeof bettingConfigSchema>;
export type BettingLimits = s.Infer<typeof bettingLimitsSchema>;

/** The configuration as stored: each PUT makes the next version. */
export interface BettingConfigRecord {
  version: number;
  config: BettingConfig;
  updatedAt: number;
}

/** Accepted potential payouts on one selection (per currency). */
export interface SelectionLiability {
  currency: string;
  event: string;
  market: string;
  selection: string;
  /** Σ potential payouts of the approved tickets that include this selection, minor units. */
  liability: number;
  tickets: number;
}
