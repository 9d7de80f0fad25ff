/**
 * The cards in a simulated crowd: processor tokens (never a card number)
 * with brand and last four, drawn from the seed. Most are good; a few are
 * blocked (reported stolen) and so declined by the processor after an
 * offline approval; some have a low balance and run out. The processor-sim
 * is told the same profiles, so its answers follow from the pool.
 */
import { pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { CardProfile } from '@holdfast/processor-sim';
import type { CardTender } from '@holdfast/protocol';

export type CardKind = 'good' | 'blocked' | 'low-balance';

export interface SimCard {
  token: string;
  brand: CardTender['brand'];
  last4: string;
  kind: CardKind;
}

export interface CardPoolOptions {
  /** Cards in the crowd. */
  size: number;
  /** Share of blocked (stolen) cards. */
  blockedShare: number;
  /** Share of cards with a low balance. */
  lowBalanceShare: number;
  /** The balance of a low-balance card, minor units. */
  lowBalance: number;
}

const BRANDS: readonly CardTender['brand'][] = ['visa', 'mastercard', 'amex', 'maestro'];

export class CardPool {
  readonly cards: readonly SimCard[];
  readonly #options: CardPoolOptions;

  constructor(random: Random, options: CardPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('card pool size must be >= 1');
    this.#options = options;
    const blocked = Math.round(options.size * options.blockedShare);
    const low = Math.round(options.size * options.lowBalanceShare);
    this.cards = Array.from({ length: options.size }, (_, i) => ({
      // 24 hex digits from the seed: a processor token, unique per pool.
      token: `tok_sim_${String(i).padStart(5, '0')}${hex(random, 16)}`,
      brand: pick(random, BRANDS),
      last4: String(randomIntBetween(random, 0, 9999)).padStart(4, '0'),
      kind: i < blocked ? 'blocked' : i < blocked + low ? 'low-balance' : 'good',
    }));
  }

  /** A card presented at a till. */
  draw(random: Random): SimCard {
    return pick(random, this.cards);
  }

  /** A card of the given kind (the demo's stolen card). */
  first(kind: CardKind): SimCard | undefined {
    return this.cards.find((c) => c.kind === kind);
  }

  /** The processor's card profiles: blocked and low-balance cards; good cards have no limit. */
  profiles(): Record<string, CardProfile> {
    const out: Record<string, CardProfile> = {};
    for (const c of this.cards) {
      if (c.kind === 'blocked') out[c.token] = { blocked: true };
      else if (c.kind === 'low-balance') out[c.token] = { balance: this.#options.lowBalance };
    }
    return out;
  }

  /** The tender of paying `amount` with `card`. */
  static tender(card: SimCard, amount: number): CardTender {
    return { type: 'card', amount, token: card.token, brand: card.brand, last4: card.last4 };
  }
}

function hex(random: Random, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += randomIntBetween(random, 0, 15).toString(16);
  return out;
}
