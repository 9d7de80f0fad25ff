/**
 * The op kinds Holdfast knows and the schema of each one's body.
 *
 * Bodies are facts a clerk's terminal recorded. Their schemas check shape and
 * internal consistency (a sale's lines add up to its total, its tenders pay
 * exactly that total); rules that depend on other facts, such as whether the
 * shift was open, belong to the server's reconciliation, because a fact
 * recorded offline has already happened.
 */
import { checkTicketSelections, potentialPayout, TICKET_FIELDS } from './bet.js';
import { priceListVersion, skuString } from './catalog.js';
import { CURRENCY_PATTERN, MAX_AMOUNT } from './money.js';
import { uuid } from './op.js';
import * as s from './schema.js';
import { refString } from './wire-strings.js';

const amount = () => s.int({ min: 0, max: MAX_AMOUNT });
const positiveAmount = () => s.int({ min: 1, max: MAX_AMOUNT });
const currency = () =>
  s.string({
    minLength: 3,
    maxLength: 3,
    pattern: CURRENCY_PATTERN,
    patternRule: 'ISO 4217 code (3 upper-case letters)',
  });
const text = (maxLength: number, minLength = 0) => s.string({ minLength, maxLength });

const cardToken = () =>
  s.string({
    minLength: 8,
    maxLength: 128,
    pattern: /^[A-Za-z0-9_\-:.]+$/,
    patternRule: 'token of letters, digits and _-:.',
  });
const cardLast4 = () => s.string({ minLength: 4, maxLength: 4, pattern: /^[0-9]{4}$/, patternRule: '4 digits' });

export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'maestro', 'other'] as const;

export const saleLineSchema = s.object({
  sku: text(64, 1),
  name: text(200),
  qty: s.int({ min: 1, max: 10_000 }),
  /** Price of one unit, minor units. */
  unitPrice: amount(),
  /** Discount on the whole line, minor units; at most qty × unitPrice. */
  discount: s.optional(amount()),
  /**
   * The version of the location's price list the line was priced from
   * (catalog.ts; docs/catalog-and-stock.md). Absent on a free-text line and
   * on tills from before the catalog: such a line is not priced against it.
   */
  priceList: s.optional(priceListVersion()),
});

export const cashTenderSchema = s.object({
  type: s.literal('cash'),
  amount: positiveAmount(),
  /** What the customer handed over; change given is `tendered - amount`. */
  tendered: positiveAmount(),
});

/** How a card is identified wherever it is charged: a processor token, never a card number. */
export const CARD_FIELDS = {
  /** A processor token for the card. Never a card number. */
  token: cardToken(),
  brand: s.oneOf(CARD_BRANDS),
  last4: cardLast4(),
};

export const cardTenderSchema = s.object({
  type: s.literal('card'),
  amount: positiveAmount(),
  ...CARD_FIELDS,
});

/**
 * A stored-value wristband's uid as its reader reports it: 4 to 32 bytes,
 * upper-case hex (ISO 14443 uids are 4, 7 or 10 bytes; room for longer ids).
 */
export const wristbandUid = () =>
  s.string({
    minLength: 8,
    maxLength: 64,
    pattern: /^(?:[0-9A-F]{2}){4,32}$/,
    patternRule: 'upper-case hex uid of 4..32 bytes',
  });

/**
 * The chip's write counter after a write. Each write (debit, top-up,
 * refund) sets it to the previous value + 1; a blank wristband holds 0.
 * See docs/wristbands.md for what the server concludes from it.
 */
export const chipCounter = () => s.int({ min: 1, max: 2_147_483_647 });

/**
 * A payment from a stored-value wristband. The terminal read the chip
 * (`balanceBefore`, counter `counter - 1`), wrote `balanceBefore - amount`
 * and `counter`; both readings are evidence the server checks against the
 * other ops of the same wristband.
 */
export const wristbandTenderSchema = s.refine(
  s.object({
    type: s.literal('wristband'),
    amount: positiveAmount(),
    wristband: wristbandUid(),
    counter: chipCounter(),
    /** The chip's balance read before this debit, minor units. */
    balanceBefore: amount(),
  }),
  (t) => (t.balanceBefore < t.amount ? ['balanceBefore', `at least the tender amount (${t.amount})`] : null),
);

export const tenderSchema = s.taggedUnion('type', {
  cash: cashTenderSchema,
  card: cardTenderSchema,
  wristband: wristbandTenderSchema,
});

/** Longest customer name, phone and email a sale may carry. */
export const CUSTOMER_LIMITS = { name: 100, phone: 32, email: 254 } as const;

/**
 * How to reach the customer, if the clerk asked (optional): what an operator
 * needs after a post-authorization decline. Personal data: only what the
 * clerk typed, at least one field, bounded.
 */
export const customerSchema = s.refine(
  s.object({
    name: s.optional(text(CUSTOMER_LIMITS.name, 1)),
    /** Digits with an optional leading +, and spaces, dashes, dots or parentheses between them. */
    phone: s.optional(
      s.string({
        minLength: 4,
        maxLength: CUSTOMER_LIMITS.phone,
        pattern: /^\+?[0-9(][0-9 ().-]*[0-9]$/,
        patternRule: 'phone number: digits, optional leading + or (, spaces . - ( ) between',
      }),
    ),
    email: s.optional(
      s.string({
        minLength: 3,
        maxLength: CUSTOMER_LIMITS.email,
        pattern: /^[^\s@]+@[^\s@]+$/,
        patternRule: 'email address: local@domain, no spaces',
      }),
    ),
  }),
  (c) =>
    c.name === undefined && c.phone === undefined && c.email === undefined
      ? ['', 'at least one of name, phone, email']
      : null,
);

export const saleBodySchema = s.refine(
  s.object({
    /** Id of the `shift.opened` op of the shift this sale belongs to. */
    shift: uuid(),
    currency: currency(),
    lines: s.array(saleLineSchema, { minItems: 1, maxItems: 500 }),
    /** Σ(qty × unitPrice − discount) over the lines, minor units. */
    total: amount(),
    tenders: s.array(tenderSchema, { minItems: 0, maxItems: 10 }),
    /** The customer's contact, if the clerk captured it. */
    customer: s.optional(customerSchema),
  }),
  (sale) => {
    let total = 0;
    for (let i = 0; i < sale.lines.length; i++) {
      const line = sale.lines[i] as s.Infer<typeof saleLineSchema>;
      const gross = line.qty * line.unitPrice;
      const discount = line.discount ?? 0;
      if (discount > gross) return [`lines[${i}].discount`, 'at most qty × unitPrice'];
      total += gross - discount;
      if (total > MAX_AMOUNT) return ['total', `sale total at most ${MAX_AMOUNT}`];
    }
    if (total !== sale.total) return ['total', `equal to the sum of the lines (${total})`];
    let paid = 0;
    for (let i = 0; i < sale.tenders.length; i++) {
      const tender = sale.tenders[i] as s.Infer<typeof tenderSchema>;
      if (tender.type === 'cash' && tender.tendered < tender.amount) {
        return [`tenders[${i}].tendered`, 'at least the tender amount'];
      }
      paid += tender.amount;
    }
    if (paid !== sale.total) return ['tenders', `amounts summing to the total (${sale.total}), got ${paid}`];
    // One chip write per wristband per sale: two tenders of one wristband would share a counter.
    const seen = new Set<string>();
    for (let i = 0; i < sale.tenders.length; i++) {
      const tender = sale.tenders[i] as s.Infer<typeof tenderSchema>;
      if (tender.type !== 'wristband') continue;
      if (seen.has(tender.wristband)) return [`tenders[${i}].wristband`, 'a wristband at most once per sale'];
      seen.add(tender.wristband);
    }
    return null;
  },
);

export const CASH_MOVEMENT_REASONS = {
  /** Cash added to the drawer's float. */
  float_in: 'in',
  /** Money paid into the drawer that is not a sale. */
  paid_in: 'in',
  /** Cash taken from the drawer to the safe during a shift. */
  safe_drop: 'out',
  /** Money paid out of the drawer that is not a refund (e.g. a supplier). */
  paid_out: 'out',
} as const;
export type CashMovementReason = keyof typeof CASH_MOVEMENT_REASONS;

export const cashMovedBodySchema = s.refine(
  s.object({
    shift: uuid(),
    currency: currency(),
    direction: s.oneOf(['in', 'out'] as const),
    amount: positiveAmount(),
    reason: s.oneOf(Object.keys(CASH_MOVEMENT_REASONS) as [CashMovementReason, ...CashMovementReason[]]),
    note: s.optional(text(500)),
  }),
  (m) =>
    CASH_MOVEMENT_REASONS[m.reason] === m.direction
      ? null
      : ['direction', `"${CASH_MOVEMENT_REASONS[m.reason]}" for reason "${m.reason}"`],
);

export const shiftOpenedBodySchema = s.object({
  /** Who works the till during the shift. */
  clerk: text(64, 1),
  currency: currency(),
  /** Cash in the drawer at opening, minor units. */
  openingFloat: amount(),
});

export const shiftClosedBodySchema = s.object({
  shift: uuid(),
  currency: currency(),
  /** Cash the clerk counted in the drawer at close, minor units (blind count). */
  countedCash: amount(),
  note: s.optional(text(500)),
});

/**
 * A betting ticket the server accepted online (POST /v1/authorize, kind
 * `ticket`). Recorded only with decision `{ mode: 'online', outcome:
 * 'approved' }` and the op id the authorization was asked for; the server
 * raises `online_unverified` for one it never approved.
 */
export const ticketIssuedBodySchema = s.refine(
  s.object({
    /** Id of the `shift.opened` op of the shift the ticket was sold in. */
    shift: uuid(),
    ...TICKET_FIELDS,
    /** stake × Π(odds / 100), rounded down (potentialPayout). */
    potentialPayout: amount(),
    /** The server's authorization id from the approval. */
    authorization: text(64, 1),
  }),
  (ticket) => {
    const problem = checkTicketSelections(ticket);
    if (problem) return problem;
    const payout = potentialPayout(
      ticket.stake,
      ticket.selections.map((x) => x.odds),
    );
    return payout === ticket.potentialPayout
      ? null
      : ['potentialPayout', `stake × Π(odds / 100) rounded down (${payout})`];
  },
);

/**
 * A settled ticket paid out of the shop's drawer (won, or void/push: the
 * stake back). Normally confirmed online first (POST /v1/authorize, kind
 * `payout`; decision online/approved, `authorization` the server's id);
 * under the betting configuration's `offlinePayoutLimit` it may be recorded
 * offline (decision local, `authorization` null) at the shop's risk, and
 * the server checks it at ingest (docs/betting.md).
 */
export const ticketPaidBodySchema = s.object({
  /** Id of the `shift.opened` op of the shift whose drawer paid. */
  shift: uuid(),
  /** Id of the `ticket.issued` op (the ticket's id). */
  ticket: uuid(),
  currency: currency(),
  /** What was paid, minor units: the ticket's settled payout. */
  amount: positiveAmount(),
  /** The server's payout authorization id; null for a payout recorded offline. */
  authorization: s.nullable(text(64, 1)),
});

/**
 * A ticket cancelled at the till before its event, with a supervisor's
 * approval, its stake refunded out of the drawer. Allowed only within the
 * betting configuration's void window (docs/betting.md).
 */
export const ticketVoidedBodySchema = s.object({
  shift: uuid(),
  /** Id of the `ticket.issued` op. */
  ticket: uuid(),
  currency: currency(),
  /** The stake refunded, minor units: the ticket's whole stake. */
  amount: positiveAmount(),
  /** Staff id of the supervisor who approved the void (see server ingest/approval.ts). */
  approvedBy: s.optional(text(64, 1)),
  reason: s.optional(text(200)),
});

export const TOP_UP_METHODS = ['cash', 'card'] as const;
export type TopUpMethod = (typeof TOP_UP_METHODS)[number];

/** The card that paid a card top-up (a processor token, never a card number). */
export const topUpCardSchema = s.object({
  token: cardToken(),
  brand: s.oneOf(CARD_BRANDS),
  last4: cardLast4(),
});

/**
 * Money loaded onto a wristband at a till or a top-up booth. The terminal
 * read the chip (`balanceBefore`, counter `counter - 1`) and wrote
 * `balanceBefore + amount` and `counter`. Paid in cash (into the shift's
 * drawer) or by card (`card` given, and only then).
 */
export const walletToppedUpBodySchema = s.refine(
  s.object({
    shift: uuid(),
    currency: currency(),
    wristband: wristbandUid(),
    amount: positiveAmount(),
    counter: chipCounter(),
    balanceBefore: amount(),
    paid: s.oneOf(TOP_UP_METHODS),
    card: s.optional(topUpCardSchema),
  }),
  (t) => {
    if (t.balanceBefore + t.amount > MAX_AMOUNT) return ['amount', `a balance after top-up at most ${MAX_AMOUNT}`];
    if (t.paid === 'card' && t.card === undefined) return ['card', 'required when paid is "card"'];
    if (t.paid !== 'card' && t.card !== undefined) return ['card', 'only when paid is "card"'];
    return null;
  },
);

/**
 * A refund of a sale credited back onto the wristband that paid it. The
 * terminal wrote `balanceBefore + amount` and `counter`.
 */
export const walletRefundedBodySchema = s.refine(
  s.object({
    shift: uuid(),
    currency: currency(),
    wristband: wristbandUid(),
    amount: positiveAmount(),
    counter: chipCounter(),
    balanceBefore: amount(),
    /** Id of the `sale.recorded` op refunded (paid with this wristband). */
    sale: uuid(),
    reason: s.optional(text(200)),
  }),
  (t) => (t.balanceBefore + t.amount > MAX_AMOUNT ? ['amount', `a balance after refund at most ${MAX_AMOUNT}`] : null),
);

/**
 * A top-up reversed (docs/wristbands.md, "Top-up reversal"): money taken
 * back off the wristband and given back in cash from the drawer (or, for a
 * card top-up, `tender: 'card'`, refunded to its card at the processor), in
 * the shift the top-up was recorded in, approved by a supervisor. The
 * terminal read `balanceBefore` and wrote `balanceBefore - amount` and
 * `counter`; a chip never goes below zero, so `amount <= balanceBefore`.
 */
export const walletTopUpReversedBodySchema = s.refine(
  s.object({
    shift: uuid(),
    currency: currency(),
    wristband: wristbandUid(),
    amount: positiveAmount(),
    counter: chipCounter(),
    balanceBefore: amount(),
    /** Id of the `wallet.topped_up` op reversed (all of it or a part). */
    topup: uuid(),
    reason: s.optional(text(200)),
    /**
     * Where the money goes back, as the top-up was paid: `cash` (absent: cash) out of the drawer, or `card`:
     * refunded to the top-up's card at the processor (the card refunder), nothing out of the drawer.
     */
    tender: s.optional(s.oneOf(TOP_UP_METHODS)),
  }),
  (t) =>
    t.amount > t.balanceBefore ? ['amount', 'at most the balance read from the wristband (balanceBefore)'] : null,
);

/**
 * A cash movement corrected (docs/corrections.md, "Cash corrections"): a
 * `cash.moved` recorded wrongly (wrong amount, direction or reason) is never
 * edited; this op names it (`movement`, its op id) and moves cash the
 * opposite way (`direction`, the reverse of the movement's), all of it or a
 * part, in the shift open when it is recorded, approved by a supervisor.
 */
export const cashCorrectedBodySchema = s.object({
  shift: uuid(),
  currency: currency(),
  /** Id of the `cash.moved` op corrected. */
  movement: uuid(),
  /** Opposite to the movement's: `out` undoes cash moved in, `in` undoes cash moved out. */
  direction: s.oneOf(['in', 'out'] as const),
  amount: positiveAmount(),
  /** Why: what was wrong with the movement. */
  reason: text(200, 1),
});

/** A loyalty member's card number as the till scans or types it (docs/loyalty.md). */
export const MEMBER_PATTERN = /^[A-Z0-9]{6,32}$/;
export const memberId = () =>
  s.string({
    minLength: 6,
    maxLength: 32,
    pattern: MEMBER_PATTERN,
    patternRule: '6 to 32 upper-case letters or digits',
  });

/** The most points one op may move (domain/loyalty.ts MAX_POINTS). */
export const MAX_LOYALTY_POINTS = 1_000_000_000;
const points = () => s.int({ min: 0, max: MAX_LOYALTY_POINTS });

/** How a redemption was decided: offline within the cap, or online with the member's one-time code. */
export const REDEMPTION_ROUTES = ['offline', 'online'] as const;

/**
 * Points a member earned and/or redeemed on one sale (`sale`, the
 * `sale.recorded` op's id), recorded by the till right after the sale. The
 * value of redeemed points is a discount on the sale's lines (money), so
 * the drawer and tenders never see points. `balanceSeen` is the balance the
 * till knew (feed or online look-up) when it decided.
 */
export const loyaltyPointsBodySchema = s.refine(
  s.object({
    shift: uuid(),
    member: memberId(),
    sale: uuid(),
    earned: points(),
    redeemed: points(),
    balanceSeen: s.int({ min: -MAX_LOYALTY_POINTS, max: MAX_LOYALTY_POINTS }),
    /** Required when `redeemed` > 0, and only then. */
    route: s.optional(s.oneOf(REDEMPTION_ROUTES)),
    /**
     * The online redemption the server confirmed with the member's one-time
     * code (`POST /v1/loyalty`, its `redemption` id): required when `route`
     * is `online`, and only then; checked again at ingest.
     */
    approval: s.optional(uuid()),
  }),
  (b) => {
    if (b.earned === 0 && b.redeemed === 0) return ['earned', 'earned or redeemed must be at least 1'];
    if (b.redeemed > 0 && b.route === undefined) return ['route', 'required when redeemed > 0'];
    if (b.redeemed === 0 && b.route !== undefined) return ['route', 'only when redeemed > 0'];
    if (b.route === 'online' && b.approval === undefined) return ['approval', 'required when route is online'];
    if (b.route !== 'online' && b.approval !== undefined) return ['approval', 'only when route is online'];
    return null;
  },
);

/**
 * A whole sale voided at the till, in the shift that recorded it, with a
 * supervisor's approval (`actor.approvedBy`): a new fact naming the sale, the
 * sale itself never changed (docs/corrections.md). Its cash tenders go back
 * out of the drawer (`cash`), its card tenders are refunded to the card
 * (`card`); wristband tenders are credited back by `wallet.refunded` ops
 * naming the same sale. `cash + card` plus the sale's wristband tenders is
 * the sale's total.
 */
export const saleVoidedBodySchema = s.object({
  /** The shift of the sale (a void belongs to the same shift). */
  shift: uuid(),
  /** Id of the `sale.recorded` op voided. */
  sale: uuid(),
  currency: currency(),
  /** The sale's cash tenders, paid back out of the drawer, minor units. */
  cash: amount(),
  /** The sale's card tenders, refunded to the card, minor units. */
  card: amount(),
  reason: s.optional(text(200)),
});

/** One line of a sale given back: the line's index in the sale and how many units. */
export const refundLineSchema = s.object({
  line: s.int({ min: 0, max: 499 }),
  qty: s.int({ min: 1, max: 10_000 }),
});

export const REFUND_TENDERS = ['cash', 'card'] as const;
export type RefundTender = (typeof REFUND_TENDERS)[number];

/**
 * A refund (a return) against an earlier sale, whole or some lines, with a
 * supervisor's approval: cash out of the drawer or back to the card that
 * paid (`card` given, and only then). Onto a wristband, a refund is a
 * `wallet.refunded` op instead. Never more than was paid, across every
 * refund of the sale: the till refuses what it can see, the server raises
 * `refund_over_sale` for the rest (docs/corrections.md).
 */
export const saleRefundedBodySchema = s.refine(
  s.object({
    shift: uuid(),
    /** Id of the `sale.recorded` op refunded (possibly recorded by another device). */
    sale: uuid(),
    currency: currency(),
    /** The lines given back; absent: the whole sale. */
    lines: s.optional(s.array(refundLineSchema, { minItems: 1, maxItems: 500 })),
    /** Money given back, minor units. */
    amount: positiveAmount(),
    tender: s.oneOf(REFUND_TENDERS),
    card: s.optional(topUpCardSchema),
    reason: s.optional(text(200)),
  }),
  (r) => {
    if (r.tender === 'card' && r.card === undefined) return ['card', 'required when tender is "card"'];
    if (r.tender !== 'card' && r.card !== undefined) return ['card', 'only when tender is "card"'];
    const seen = new Set<number>();
    for (let i = 0; i < (r.lines ?? []).length; i++) {
      const line = (r.lines ?? [])[i] as { line: number };
      if (seen.has(line.line)) return [`lines[${i}].line`, 'each sale line at most once per refund'];
      seen.add(line.line);
    }
    return null;
  },
);

/** The most units one stock op may move or count (docs/catalog-and-stock.md, "Stock"). */
export const MAX_STOCK_QTY = 1_000_000;

/**
 * Goods received at a location (a delivery), in whole units of the item.
 * `location` is the till's own location: a till of another location is
 * refused at the till and, as a fact, not applied by the server
 * (`stock_unapplied`).
 */
export const stockReceivedBodySchema = s.object({
  location: refString(),
  sku: skuString(),
  qty: s.int({ min: 1, max: MAX_STOCK_QTY }),
  /** The delivery note or purchase order, free text. */
  reference: s.optional(text(100)),
});

/** A count of what is on the shelf: the server sets the level to `counted` (the difference is a movement). */
export const stockCountedBodySchema = s.object({
  location: refString(),
  sku: skuString(),
  counted: s.int({ min: 0, max: MAX_STOCK_QTY }),
});

export const STOCK_ADJUST_REASONS = ['damaged', 'expired', 'lost', 'found', 'correction', 'other'] as const;

/** A signed correction of a location's stock of one item (breakage, a find), approved by a supervisor. */
export const stockAdjustedBodySchema = s.refine(
  s.object({
    location: refString(),
    sku: skuString(),
    delta: s.int({ min: -MAX_STOCK_QTY, max: MAX_STOCK_QTY }),
    reason: s.oneOf(STOCK_ADJUST_REASONS),
    note: s.optional(text(200)),
  }),
  (b) => (b.delta === 0 ? ['delta', 'a non-zero integer'] : null),
);

export const OP_BODY_SCHEMAS = {
  'sale.recorded': saleBodySchema,
  'cash.moved': cashMovedBodySchema,
  'shift.opened': shiftOpenedBodySchema,
  'shift.closed': shiftClosedBodySchema,
  'ticket.issued': ticketIssuedBodySchema,
  'ticket.paid': ticketPaidBodySchema,
  'ticket.voided': ticketVoidedBodySchema,
  'wallet.topped_up': walletToppedUpBodySchema,
  'wallet.refunded': walletRefundedBodySchema,
  'loyalty.points': loyaltyPointsBodySchema,
  'sale.voided': saleVoidedBodySchema,
  'sale.refunded': saleRefundedBodySchema,
  'stock.received': stockReceivedBodySchema,
  'stock.counted': stockCountedBodySchema,
  'stock.adjusted': stockAdjustedBodySchema,
  'wallet.topup_reversed': walletTopUpReversedBodySchema,
  'cash.corrected': cashCorrectedBodySchema,
} as const;

export type OpKind = keyof typeof OP_BODY_SCHEMAS;
export const OP_KINDS = Object.keys(OP_BODY_SCHEMAS) as OpKind[];

export type SaleBody = s.Infer<typeof saleBodySchema>;
export type SaleLine = s.Infer<typeof saleLineSchema>;
export type Tender = s.Infer<typeof tenderSchema>;
export type CashTender = s.Infer<typeof cashTenderSchema>;
export type CardTender = s.Infer<typeof cardTenderSchema>;
export type WristbandTender = s.Infer<typeof wristbandTenderSchema>;
export type WalletToppedUpBody = s.Infer<typeof walletToppedUpBodySchema>;
export type WalletRefundedBody = s.Infer<typeof walletRefundedBodySchema>;
export type Customer = s.Infer<typeof customerSchema>;
export type CashMovedBody = s.Infer<typeof cashMovedBodySchema>;
export type ShiftOpenedBody = s.Infer<typeof shiftOpenedBodySchema>;
export type ShiftClosedBody = s.Infer<typeof shiftClosedBodySchema>;
export type TicketIssuedBody = s.Infer<typeof ticketIssuedBodySchema>;
export type TicketPaidBody = s.Infer<typeof ticketPaidBodySchema>;
export type TicketVoidedBody = s.Infer<typeof ticketVoidedBodySchema>;
export type LoyaltyPointsBody = s.Infer<typeof loyaltyPointsBodySchema>;
export type SaleVoidedBody = s.Infer<typeof saleVoidedBodySchema>;
export type SaleRefundedBody = s.Infer<typeof saleRefundedBodySchema>;
export type RefundLine = s.Infer<typeof refundLineSchema>;
export type StockReceivedBody = s.Infer<typeof stockReceivedBodySchema>;
export type StockCountedBody = s.Infer<typeof stockCountedBodySchema>;
export type StockAdjustedBody = s.Infer<typeof stockAdjustedBodySchema>;
export type WalletTopUpReversedBody = s.Infer<typeof walletTopUpReversedBodySchema>;
export type CashCorrectedBody = s.Infer<typeof cashCorrectedBodySchema>;

export interface OpBodies {
  'sale.recorded': SaleBody;
  'cash.moved': CashMovedBody;
  'shift.opened': ShiftOpenedBody;
  'shift.closed': ShiftClosedBody;
  'ticket.issued': TicketIssuedBody;
  'ticket.paid': TicketPaidBody;
  'ticket.voided': TicketVoidedBody;
  'wallet.topped_up': WalletToppedUpBody;
  'wallet.refunded': WalletRefundedBody;
  'loyalty.points': LoyaltyPointsBody;
  'sale.voided': SaleVoidedBody;
  'sale.refunded': SaleRefundedBody;
  'stock.received': StockReceivedBody;
  'stock.counted': StockCountedBody;
  'stock.adjusted': StockAdjustedBody;
  'wallet.topup_reversed': WalletTopUpReversedBody;
  'cash.corrected': CashCorrectedBody;
}

export function isKnownKind(kind: string): kind is OpKind {
  return Object.hasOwn(OP_BODY_SCHEMAS, kind);
}

/**
 * Parses an op body by its kind. Throws ValidationError with a field path
 * rooted at `body` (e.g. `body.lines[0].qty`).
 */
export function parseBody<K extends OpKind>(kind: K, body: unknown): OpBodies[K] {
  const schema = OP_BODY_SCHEMAS[kind] as s.Schema<OpBodies[K]>;
  return schema.parse(body, 'body');
}
