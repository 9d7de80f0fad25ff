/** The sale benchmarks record: two lines, cash or card alternately (the ingest bench's row). */
export function saleBody(shift: string, n: number) {
  return {
    shift,
    currency: 'EUR',
    lines: [
      { sku: 'BEER-05', name: 'Beer 0.5l', qty: 2, unitPrice: 650 },
      { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 450 },
    ],
    total: 1750,
    tenders:
      n % 2 === 0
        ? [{ type: 'card', amount: 1750, token: 'tok_4242424242', brand: 'visa', last4: '4242' }]
        : [{ type: 'cash', amount: 1750, tendered: 2000 }],
  };
}

export const SHIFT_BODY = Object.freeze({ clerk: 'bench', currency: 'EUR', openingFloat: 0 });
