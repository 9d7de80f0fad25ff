/**
 * Random customer baskets for simulated and load-testing tills: a few lines
 * from a venue menu, paid by card (a processor token, never a card number)
 * or in cash rounded up to the next 5.00.
 */
import { chance, pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { CardTender, SaleLine, Tender } from '@holdfast/protocol';

export interface MenuItem {
  sku: string;
  name: string;
  unitPrice: number;
}

export const VENUE_MENU: readonly MenuItem[] = Object.freeze([
  { sku: 'BEER-05', name: 'Beer 0.5l', unitPrice: 650 },
  { sku: 'WATER-05', name: 'Water 0.5l', unitPrice: 300 },
  { sku: 'COLA-05', name: 'Cola 0.5l', unitPrice: 400 },
  { sku: 'HOTDOG', name: 'Hot dog', unitPrice: 550 },
  { sku: 'PRETZEL', name: 'Pretzel', unitPrice: 450 },
  { sku: 'NACHOS', name: 'Nachos', unitPrice: 700 },
]);

/** Festival prices: a round at a bar averages about 30.00. */
export const FESTIVAL_MENU: readonly MenuItem[] = Object.freeze([
  { sku: 'BEER-04', name: 'Beer 0.4l', unitPrice: 750 },
  { sku: 'CIDER-04', name: 'Cider 0.4l', unitPrice: 800 },
  { sku: 'WATER-05', name: 'Water 0.5l', unitPrice: 400 },
  { sku: 'COCKTAIL', name: 'Cocktail', unitPrice: 1200 },
  { sku: 'BURGER', name: 'Burger', unitPrice: 1300 },
  { sku: 'FRIES', name: 'Fries', unitPrice: 600 },
]);

const BRANDS: readonly CardTender['brand'][] = ['visa', 'mastercard', 'amex', 'maestro'];

export interface Basket {
  lines: SaleLine[];
  tenders: Tender[];
  total: number;
}

/** A basket of 1–3 lines of 1–3 items each; card with probability `cardShare`, else cash. */
export function randomBasket(random: Random, menu: readonly MenuItem[] = VENUE_MENU, cardShare = 0.6): Basket {
  const lines: SaleLine[] = [];
  const count = randomIntBetween(random, 1, 3);
  for (let i = 0; i < count; i++) {
    const item = pick(random, menu);
    lines.push({ sku: item.sku, name: item.name, qty: randomIntBetween(random, 1, 3), unitPrice: item.unitPrice });
  }
  const total = lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
  const tenders: Tender[] = chance(random, cardShare)
    ? [
        {
          type: 'card',
          amount: total,
          token: `tok_${randomIntBetween(random, 1e8, 9e8)}`,
          brand: pick(random, BRANDS),
          last4: String(randomIntBetween(random, 1000, 9999)),
        },
      ]
    : [{ type: 'cash', amount: total, tendered: Math.ceil(total / 500) * 500 }];
  return { lines, tenders, total };
}
