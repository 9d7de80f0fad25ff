/**
 * DeviceFeed: the terminal's side of the device feed (`POST /v1/feed`,
 * docs/protocol.md "Device feed"; docs/risk-policy.md "Terminal
 * enforcement").
 *
 * A poll asks for the items after the cursor held in the journal meta,
 * page by page, and applies each page in ONE journal transaction together
 * with the cursor advance, so a power cut leaves the page applied with its
 * cursor or neither. Applying is idempotent: an item at or below the cursor
 * is skipped, and every table it writes is keyed by what it records.
 *
 *   payment.settled   release the op's card tender from the offline exposure
 *   payment.declined  release it too, and record a post-authorization decline
 *                     (the clerk sees the op as needs_attention)
 *   anything else     kept in `feed_items` (pos, type, op, device, at, data)
 *                     and emitted as a `feedItem` event, for the module that
 *                     handles it (e.g. wristband notices)
 *
 * The answer's placement is stored too (policy scope evaluation uses it).
 */
import type { Clock } from '@holdfast/domain';
import {
  type AnswerRoute,
  type DeviceReport,
  type FeedItem,
  type FeedRequest,
  type FeedResponse,
  feedRequestMessage,
  type PaymentFeedData,
  type Placement,
  paymentFeedDataSchema,
  placementSchema,
  signMessage,
  ValidationError,
} from '@holdfast/protocol';
import type { TillCatalog } from './catalog.js';
import { FeedError, TransportError } from './errors.js';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';
import { approvalId, type OfflinePolicy } from './offline-policy.js';
import type { TillStaff } from './staff.js';
import type { TillStock } from './stock.js';
import type { Credentials } from './sync-events.js';
import type { Transport } from './transport.js';

/** Most pages one poll reads before it yields (the next poll goes on from the cursor). */
export const FEED_MAX_PAGES_PER_POLL = 20;

/** A card payment approved offline that the processor declined afterwards: the customer has the goods. */
export interface PostAuthDecline {
  opId: string;
  tenderIndex: number;
  /** The feed position it came at. */
  pos: number;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  declineCode: string;
  processorId: string;
  /** Server clock when the processor's answer arrived. */
  declinedAt: number;
  /** Device clock when the terminal learned it. */
  receivedAt: number;
}

/** A feed item this module does not handle itself, kept in `feed_items` for whoever does. */
export type FeedNotice = FeedItem;

/** What one poll did. */
export interface FeedPollResult {
  pages: number;
  /** Items applied (at or below the old cursor not counted). */
  applied: number;
  /** Approvals released from the offline exposure. */
  released: number;
  declines: PostAuthDecline[];
  notices: FeedNotice[];
  cursor: number;
  placement: Placement | null;
  /** The newest policy in force for the device, as the last page said. */
  policy: string | null;
  /** True if the poll stopped at FEED_MAX_PAGES_PER_POLL with more to read. */
  more: boolean;
  /** Why the last roster the server sent was refused (signature, location), or null: the roster held is kept. */
  rosterRefused: string | null;
  /** Why the last price list the server sent was refused (signature, location), or null: the list held is kept. */
  priceListRefused: string | null;
  /** Why the last stock levels the server sent were refused (shape, location), or null: the levels held are kept. */
  stockRefused: string | null;
}

interface DeclineRow {
  op_id: string;
  tender_index: number;
  pos: number;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  decline_code: string;
  processor_id: string;
  declined_at: number;
  received_at: number;
}

const PAYMENT_TYPES = new Set(['payment.settled', 'payment.declined']);

/**
 * Why a server answer cannot be trusted, or null (Exchange.answerProblem:
 * always null for a server that does not sign answers; learns a rotated key).
 */
export type AnswerCheck = (route: AnswerRoute, requestSig: string, body: unknown) => Promise<string | null>;

export class DeviceFeed {
  #reporter: ((afterSeq: number | null) => DeviceReport) | null = null;
  #serverTakesReports = false;
  readonly #journal: Journal;
  readonly #policy: OfflinePolicy;
  readonly #onNotice: (item: FeedNotice, now: number) => void;
  readonly #staff: TillStaff | null;
  readonly #catalog: TillCatalog | null;
  readonly #stock: TillStock | null;
  readonly #answerProblem: AnswerCheck;

  /**
   * `onNotice` is called for each notice the first time it is kept, inside
   * the transaction that keeps it and advances the cursor (e.g. the
   * terminal's wristband block list), so a notice is applied exactly when
   * its cursor advance commits.
   */
  constructor(
    journal: Journal,
    policy: OfflinePolicy,
    onNotice: (item: FeedNotice, now: number) => void = () => {},
    staff: TillStaff | null = null,
    catalog: TillCatalog | null = null,
    answerProblem: AnswerCheck = async () => null,
    stock: TillStock | null = null,
  ) {
    this.#journal = journal;
    this.#policy = policy;
    this.#onNotice = onNotice;
    this.#staff = staff;
    this.#catalog = catalog;
    this.#answerProblem = answerProblem;
    this.#stock = stock;
  }

  /**
   * Reports go with feed polls and batches (protocol device-report.ts) from
   * `reporter` once a signed feed answer said the server takes them: a server
   * before reports refuses the unknown field, and a refused batch must never
   * be a batch that only carried a report.
   */
  reportsWith(reporter: (afterSeq: number | null) => DeviceReport): void {
    this.#reporter = reporter;
  }

  /** The report for a request (a batch ending at `afterSeq`, or a poll: null), or undefined: none is sent. */
  reportFor(afterSeq: number | null): DeviceReport | undefined {
    return this.#serverTakesReports && this.#reporter ? this.#reporter(afterSeq) : undefined;
  }

  /** The cursor: the ledger position up to which the feed was applied (0 before the first poll). */
  cursor(): number {
    const raw = this.#journal.getMeta(META.feedCursor);
    return raw === null ? 0 : Number(raw);
  }

  /** The placement the server last reported, or null. */
  placement(): Placement | null {
    const raw = this.#journal.getMeta(META.placement);
    return raw === null ? null : (JSON.parse(raw) as Placement);
  }

  /** Post-authorization declines the terminal was told of, oldest first. */
  declines(): PostAuthDecline[] {
    return (this.#journal.prepare('SELECT * FROM post_auth_declines ORDER BY pos').all() as DeclineRow[]).map(
      toDecline,
    );
  }

  /** True if a tender of op `opId` was declined after the fact. */
  isDeclined(opId: string): boolean {
    return this.#journal.prepare('SELECT 1 FROM post_auth_declines WHERE op_id = ?').get(opId) !== undefined;
  }

  /** Feed items kept for other modules, after `afterPos`, oldest first. */
  notices(afterPos = 0, limit = 100): FeedNotice[] {
    const rows = this.#journal
      .prepare('SELECT pos, type, op_id, device, at, data FROM feed_items WHERE pos > ? ORDER BY pos LIMIT ?')
      .all(afterPos, limit) as { pos: number; type: string; op_id: string; device: string; at: number; data: string }[];
    return rows.map((r) => ({
      pos: r.pos,
      type: r.type,
      opId: r.op_id,
      device: r.device,
      at: r.at,
      data: JSON.parse(r.data),
    }));
  }

  /**
   * Reads the feed from the cursor and applies it, page by page (at most
   * FEED_MAX_PAGES_PER_POLL). Throws TransportError (outcome unknown, or an
   * answer not signed by a pinned server key: nothing of that page applied) or
   * FeedError (refused, or an inconsistent answer); pages applied before
   * the failure stay applied.
   */
  async poll(transport: Transport, credentials: Credentials, clock: Clock, timeoutMs: number): Promise<FeedPollResult> {
    const result: FeedPollResult = {
      pages: 0,
      applied: 0,
      released: 0,
      declines: [],
      notices: [],
      cursor: this.cursor(),
      placement: this.placement(),
      policy: null,
      more: false,
      rosterRefused: null,
      priceListRefused: null,
      stockRefused: null,
    };
    for (;;) {
      const after = this.cursor();
      const at = clock.now();
      const report = this.reportFor(null);
      const req: FeedRequest = {
        device: credentials.deviceId,
        after,
        at,
        sig: signMessage(feedRequestMessage(credentials.deviceId, after, at, report), credentials.key),
      };
      if (report !== undefined) req.report = report;
      // Only once a roster is held: a server before staff at the till refuses the unknown field.
      const held = this.#staff?.version() ?? 0;
      if (held > 0) req.roster = held;
      const heldList = this.#catalog?.version() ?? 0;
      if (heldList > 0) req.priceList = heldList;
      const heldStock = this.#stock?.version() ?? 0;
      if (heldStock > 0) req.stock = heldStock;
      const res = await transport.fetchFeed(req, timeoutMs);
      if (!res.ok) throw new FeedError(res.status, res.error);
      // Anyone on the path could add a decline or drop a block: an answer the server did not sign is no answer.
      const unsigned = await this.#answerProblem('feed', req.sig, res.body);
      if (unsigned !== null) throw new TransportError('bad_response', `unverifiable feed answer: ${unsigned}`);
      if (res.body.reports === true) this.#serverTakesReports = true;
      const page = this.#apply(res.body, after, credentials.deviceId, clock.now());
      result.pages++;
      result.applied += page.applied;
      result.released += page.released;
      result.declines.push(...page.declines);
      result.notices.push(...page.notices);
      result.cursor = page.cursor;
      if (page.rosterRefused !== null) result.rosterRefused = page.rosterRefused;
      if (page.priceListRefused !== null) result.priceListRefused = page.priceListRefused;
      if (page.stockRefused !== null) result.stockRefused = page.stockRefused;
      result.placement = this.placement();
      result.policy = typeof res.body.policy === 'string' ? res.body.policy : null;
      if (!res.body.more || page.cursor === after) return result;
      if (result.pages >= FEED_MAX_PAGES_PER_POLL) {
        result.more = true;
        return result;
      }
    }
  }

  /** Applies one answer in one transaction; throws FeedError (nothing applied) if it is inconsistent. */
  #apply(body: FeedResponse, after: number, deviceId: string, now: number) {
    const next = body.next;
    if (!Number.isSafeInteger(next) || next < after) {
      throw new FeedError(200, { message: `next ${String(next)} is not a cursor at or after ${after}` });
    }
    const items: FeedItem[] = [];
    for (const [i, item] of body.items.entries()) {
      const problem = itemProblem(item, after, next);
      if (problem) throw new FeedError(200, { message: `items[${i}]: ${problem}` });
      items.push(item);
    }
    // A roster that does not verify is refused on its own: the items (declines, wristband blocks) still apply.
    let roster: ReturnType<TillStaff['rosterMeta']> = null;
    let rosterRefused: string | null = null;
    if (body.roster !== undefined && this.#staff) {
      try {
        roster = this.#staff.rosterMeta(body.roster, body.placement);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        rosterRefused = `roster refused: ${error.message}`;
      }
    }
    // A price list that does not verify is refused on its own too: the list held stays in use.
    let priceList: ReturnType<TillCatalog['priceListMeta']> = null;
    let priceListRefused: string | null = null;
    if (body.priceList !== undefined && this.#catalog) {
      try {
        priceList = this.#catalog.priceListMeta(body.priceList, body.placement);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        priceListRefused = `price list refused: ${error.message}`;
      }
    }
    // Stock levels for another location or of a bad shape are refused on their own; the levels held stay.
    let stock: ReturnType<TillStock['stockMeta']> | null = null;
    let stockRefused: string | null = null;
    if (body.stock !== undefined && this.#stock) {
      try {
        stock = this.#stock.stockMeta(body.stock, body.placement);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        stockRefused = `stock refused: ${error.message}`;
      }
    }
    const declines: PostAuthDecline[] = [];
    const notices: FeedNotice[] = [];
    const released = new Set<string>();
    const insertDecline = this.#journal.prepare(
      `INSERT OR IGNORE INTO post_auth_declines (op_id, tender_index, pos, amount, currency, brand, last4, decline_code,
                                                 processor_id, declined_at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertNotice = this.#journal.prepare(
      'INSERT OR IGNORE INTO feed_items (pos, type, op_id, device, at, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    let exposure: ReturnType<OfflinePolicy['release']> = null;
    this.#journal.transaction(() => {
      for (const item of items) {
        const payment = PAYMENT_TYPES.has(item.type) && item.device === deviceId ? paymentData(item) : null;
        if (!payment) {
          if (
            insertNotice.run(item.pos, item.type, item.opId, item.device, item.at, JSON.stringify(item.data), now)
              .changes > 0
          ) {
            notices.push(item);
            this.#onNotice(item, now);
          }
          continue;
        }
        const id = this.#approvalIdOf(item.opId, payment.tenderIndex);
        if (id !== null) released.add(id);
        if (item.type === 'payment.declined') {
          const decline: PostAuthDecline = {
            opId: item.opId,
            tenderIndex: payment.tenderIndex,
            pos: item.pos,
            amount: payment.amount,
            currency: payment.currency,
            brand: payment.brand,
            last4: payment.last4,
            declineCode: payment.declineCode ?? 'unknown',
            processorId: payment.processorId,
            declinedAt: item.at,
            receivedAt: now,
          };
          const inserted = insertDecline.run(
            decline.opId,
            decline.tenderIndex,
            decline.pos,
            decline.amount,
            decline.currency,
            decline.brand,
            decline.last4,
            decline.declineCode,
            decline.processorId,
            decline.declinedAt,
            decline.receivedAt,
          );
          if (inserted.changes > 0) declines.push(decline);
        }
      }
      exposure = this.#policy.release(released);
      this.#journal.setMeta({
        ...(exposure?.meta ?? {}),
        ...placementMeta(body.placement),
        ...(roster?.meta ?? {}),
        ...(priceList?.meta ?? {}),
        ...(stock?.meta ?? {}),
        [META.feedCursor]: String(next),
      });
    }, 'feed');
    const done = exposure as ReturnType<OfflinePolicy['release']>;
    if (done) this.#policy.committed(done.exposure);
    if (roster) this.#staff?.rosterCommitted(roster.roster);
    if (priceList) this.#catalog?.committed(priceList.list);
    if (stock) this.#stock?.committed(stock.stock);
    return {
      applied: items.length,
      released: done ? released.size : 0,
      declines,
      notices,
      cursor: next,
      rosterRefused,
      priceListRefused,
      stockRefused,
    };
  }

  /**
   * The exposure key of the card tender `tenderIndex` of the journal's op
   * `opId` (see approvalId), or null if the op is not in this journal or
   * that tender is not a card.
   */
  #approvalIdOf(opId: string, tenderIndex: number): string | null {
    const tenders = this.#journal.getOp(opId)?.op.body.tenders;
    if (!Array.isArray(tenders) || (tenders[tenderIndex] as { type?: unknown } | undefined)?.type !== 'card')
      return null;
    const ordinal = tenders.slice(0, tenderIndex).filter((t) => (t as { type?: unknown }).type === 'card').length;
    return approvalId(opId, ordinal);
  }
}

/** Meta entries storing a placement the server reported (enrollment, feed); {} for none or a malformed one. */
export function placementMeta(placement: unknown): Record<string, string> {
  if (placement === undefined || placement === null) return {};
  try {
    return { [META.placement]: JSON.stringify(placementSchema.parse(placement, 'placement')) };
  } catch (error) {
    if (error instanceof ValidationError) return {};
    throw error;
  }
}

/** What is wrong with one feed item, or null. Items at or below the cursor are skipped by the caller's filter. */
function itemProblem(item: unknown, after: number, next: number): string | null {
  if (typeof item !== 'object' || item === null) return 'not an object';
  const i = item as Record<string, unknown>;
  if (!Number.isSafeInteger(i.pos) || (i.pos as number) <= after || (i.pos as number) > next) {
    return `pos ${String(i.pos)} is not after the cursor ${after} and at most next ${next}`;
  }
  if (typeof i.type !== 'string' || i.type.length === 0 || i.type.length > 64) return 'type is not an event type';
  if (typeof i.opId !== 'string' || typeof i.device !== 'string') return 'opId and device must be strings';
  if (!Number.isSafeInteger(i.at)) return 'at is not a time';
  if (typeof i.data !== 'object' || i.data === null || Array.isArray(i.data)) return 'data is not an object';
  return null;
}

/** The payment data of a payment item, or null if it is malformed (the item is then kept as a notice). */
function paymentData(item: FeedItem): PaymentFeedData | null {
  try {
    return paymentFeedDataSchema.parse(item.data, 'data');
  } catch (error) {
    if (error instanceof ValidationError) return null;
    throw error;
  }
}

function toDecline(r: DeclineRow): PostAuthDecline {
  return {
    opId: r.op_id,
    tenderIndex: r.tender_index,
    pos: r.pos,
    amount: r.amount,
    currency: r.currency,
    brand: r.brand,
    last4: r.last4,
    declineCode: r.decline_code,
    processorId: r.processor_id,
    declinedAt: r.declined_at,
    receivedAt: r.received_at,
  };
}
