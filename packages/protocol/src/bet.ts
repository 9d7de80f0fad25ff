/**
 * Betting tickets: selections, odds and the potential payout, shared by the
 * online authorization request and the `ticket.issued` op (a leaf module:
 * op-kinds.ts and online.ts both build on it).
 */
import { CURRENCY_PATTERN, MAX_AMOUNT } from './money.js';
import * as s from './schema.js';

export const currencyCode = () =>
  s.string({
    minLength: 3,
    maxLength: 3,
    pattern: CURRENCY_PATTERN,
    patternRule: 'ISO 4217 code (3 upper-case letters)',
  });
const name = () => s.string({ minLength: 1, maxLength: 64 });

/** Decimal odds in hundredths: 250 is 2.50 (a winning stake of 100 pays 250). */
export const MIN_ODDS = 101;
export const MAX_ODDS = 100_000;
/** Most selections on one ticket (an accumulator). */
export const MAX_SELECTIONS = 20;

export const betSelectionSchema = s.object({
  /** The sporting event, e.g. `mx-liga-2026-07-12-ame-gua`. */
  event: name(),
  /** The market within the event, e.g. `match_result`. */
  market: name(),
  /** The outcome backed, e.g. `home`. */
  selection: name(),
  /** Decimal odds in hundredths (MIN_ODDS..MAX_ODDS). */
  odds: s.int({ min: MIN_ODDS, max: MAX_ODDS }),
});
export type BetSelection = s.Infer<typeof betSelectionSchema>;

/**
 * What a ticket pays if every selection wins: stake × Π(odds / 100), rounded
 * down to the minor unit. Exact (BigInt): no float ever decides a payout.
 */
export function potentialPayout(stake: number, odds: readonly number[]): number {
  let numerator = BigInt(stake);
  let denominator = 1n;
  for (const o of odds) {
    numerator *= BigInt(o);
    denominator *= 100n;
  }
  const payout = numerator / denominator;
  return payout > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(payout);
}

/** The rules a ticket's selections follow, for both the request and the recorded op. */
export function checkTicketSelections(ticket: {
  stake: number;
  selections: BetSelection[];
}): readonly [string, string] | null {
  const markets = new Set<string>();
  for (let i = 0; i < ticket.selections.length; i++) {
    const sel = ticket.selections[i] as BetSelection;
    const key = JSON.stringify([sel.event, sel.market]);
    if (markets.has(key)) return [`selections[${i}]`, 'one selection per event and market'];
    markets.add(key);
  }
  const payout = potentialPayout(
    ticket.stake,
    ticket.selections.map((x) => x.odds),
  );
  if (payout > MAX_AMOUNT) return ['stake', `potential payout at most ${MAX_AMOUNT}`];
  return null;
}

/** The fields a ticket request and a ticket op share. */
export const TICKET_FIELDS = {
  /** Minor units the customer pays for the ticket. */
  stake: s.int({ min: 1, max: MAX_AMOUNT }),
  currency: currencyCode(),
  selections: s.array(betSelectionSchema, { minItems: 1, maxItems: MAX_SELECTIONS }),
};

/** A selection's result, as the results feed reports it. */
export const SELECTION_RESULTS = ['won', 'lost', 'void', 'push'] as const;
export type SelectionResult = (typeof SELECTION_RESULTS)[number];

/** Where a settled ticket ends: won, lost, void (every selection void) or push (every selection void or push). */
export type TicketOutcome = 'won' | 'lost' | 'void' | 'push';

/**
 * Settles a ticket from its selections' results (`null`: not known yet).
 * Returns null while the ticket cannot be decided: some selection has no
 * result and none has lost. Any lost selection makes the ticket lost (it
 * pays 0, whatever the others do). Otherwise every selection is won, void
 * or push; void and push selections count as odds 1.00, so the payout is
 * `potentialPayout(stake, odds')` — stake × Π(odds' / 100) in exact
 * integer arithmetic, ROUNDED DOWN to the minor unit (the house keeps the
 * fraction). A ticket whose selections are all void is `void` and one
 * whose selections are all void or push is `push`; both pay the stake back.
 */
export function settleTicket(
  stake: number,
  selections: readonly { odds: number; result: SelectionResult | null }[],
): { outcome: TicketOutcome; payout: number } | null {
  if (selections.some((x) => x.result === 'lost')) return { outcome: 'lost', payout: 0 };
  if (selections.some((x) => x.result === null)) return null;
  const won = selections.filter((x) => x.result === 'won').length;
  if (won === 0) {
    const outcome = selections.every((x) => x.result === 'void') ? 'void' : 'push';
    return { outcome, payout: stake };
  }
  const odds = selections.map((x) => (x.result === 'won' ? x.odds : 100));
  return { outcome: 'won', payout: potentialPayout(stake, odds) };
}

/** An event or market name as results name it (the ticket selection's own rule). */
const resultName = () => s.string({ minLength: 1, maxLength: 64 });

/**
 * The body of `POST /v1/admin/events/:event/results`: per selection, its
 * result. Each (market, selection) at most once per request.
 */
export const eventResultsRequestSchema = s.refine(
  s.object({
    results: s.array(s.object({ market: resultName(), selection: resultName(), result: s.oneOf(SELECTION_RESULTS) }), {
      minItems: 1,
      maxItems: 1_000,
    }),
  }),
  (body) => {
    const seen = new Set<string>();
    for (let i = 0; i < body.results.length; i++) {
      const r = body.results[i] as { market: string; selection: string };
      const key = JSON.stringify([r.market, r.selection]);
      if (seen.has(key)) return [`results[${i}]`, 'each market and selection at most once'];
      seen.add(key);
    }
    return null;
  },
);
export type EventResultsRequest = s.Infer<typeof eventResultsRequestSchema>;

/** Validates an event name given in a path. */
export const eventNameSchema = resultName();
