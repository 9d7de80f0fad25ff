/**
 * The device feed (`POST /v1/feed`) in the browser till's worker: the
 * counterpart of terminal/src/feed.ts `DeviceFeed`, whose signed-document
 * checks are node:crypto calls made inside the journal transaction. Here
 * every signature — the answer's, the roster's, the price list's — is
 * checked first with WebCrypto (asynchronous), and only then is the page
 * applied in ONE journal transaction together with the cursor advance, so a
 * power cut leaves the page applied with its cursor or neither.
 *
 * What a page stores, in the same journal tables and meta keys as the Node
 * till (a journal is readable by either):
 *   payment.declined for this device   post_auth_declines (the op needs attention)
 *   other items                        feed_items
 *   placement, roster, price list      meta (a roster or list that does not
 *                                      verify, or names another location, is
 *                                      refused on its own; the one held stays)
 * payment.settled and payment.declined for this device also release the card
 * tender from the offline exposure (OfflineDecisions.release), committed in
 * the page's transaction, as on Node.
 */
import {
  type FeedItem,
  type FeedPriceList,
  type FeedRequest,
  type FeedResponse,
  feedRequestMessage,
  type Placement,
  paymentFeedDataSchema,
  placementSchema,
  priceListMessage,
  type Roster,
  rosterMessage,
  signedPriceListSchema,
  signedRosterSchema,
  ValidationError,
} from '@holdfast/protocol';
import {
  approvalId,
  type HttpTransport,
  type JournalCore,
  META,
  type OfflineDecisions,
  TransportError,
} from '@holdfast/terminal/portable';
import { answerProblemWebCrypto, signWithKeyWebCrypto, verifyMessageWebCrypto } from './webcrypto-signing.js';

/** Most pages one poll reads (as the Node till's FEED_MAX_PAGES_PER_POLL). */
export const BROWSER_FEED_MAX_PAGES = 20;

/** What one poll did. */
export interface BrowserFeedPoll {
  pages: number;
  applied: number;
  declines: number;
  cursor: number;
  placement: Placement | null;
  /** The policy in force for the device as the last page named it (`<id>@<version>`), or null. */
  policy: string | null;
  rosterVersion: number;
  priceListVersion: number;
  /** Why the last roster sent was refused (signature, location), or null. */
  rosterRefused: string | null;
  /** Why the last price list sent was refused (signature, location), or null. */
  priceListRefused: string | null;
  more: boolean;
}

/** The feed answered with an error, or with a page that is not consistent (nothing of that page applied). */
export class BrowserFeedError extends Error {
  readonly code = 'feed_refused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BrowserFeedError';
  }
}

export interface BrowserFeedOptions {
  journal: JournalCore;
  transport: HttpTransport;
  timeoutMs: number;
  /** Each notice that is not this device's payment, in the transaction that stores it (wristband blocks). */
  onNotice?: (type: string, data: unknown, now: number) => void;
  /** The offline decisions whose exposure settlements and declines release; none: nothing is released. */
  policy?: OfflineDecisions;
}

export class BrowserFeed {
  readonly #journal: JournalCore;
  readonly #transport: HttpTransport;
  readonly #timeoutMs: number;
  readonly #policy: OfflineDecisions | null;

  readonly #onNotice: BrowserFeedOptions['onNotice'];

  constructor(options: BrowserFeedOptions) {
    this.#onNotice = options.onNotice;
    this.#journal = options.journal;
    this.#transport = options.transport;
    this.#timeoutMs = options.timeoutMs;
    this.#policy = options.policy ?? null;
  }

  cursor(): number {
    const raw = this.#journal.getMeta(META.feedCursor);
    return raw === null ? 0 : Number(raw);
  }

  placement(): Placement | null {
    const raw = this.#journal.getMeta(META.placement);
    return raw === null ? null : (JSON.parse(raw) as Placement);
  }

  roster(): Roster | null {
    const raw = this.#journal.getMeta(META.roster);
    return raw === null ? null : (JSON.parse(raw) as Roster);
  }

  priceList(): FeedPriceList | null {
    const raw = this.#journal.getMeta(META.priceList);
    return raw === null ? null : (JSON.parse(raw) as FeedPriceList);
  }

  /**
   * Reads the feed from the cursor and applies it page by page. Throws
   * TransportError (no answer, or one not signed by a pinned key: nothing of
   * that page applied) or BrowserFeedError; pages applied before stay.
   */
  async poll(credentials: { deviceId: string; key: CryptoKey }, now: () => number): Promise<BrowserFeedPoll> {
    const result: BrowserFeedPoll = {
      pages: 0,
      applied: 0,
      declines: 0,
      cursor: this.cursor(),
      placement: this.placement(),
      policy: null,
      rosterVersion: this.roster()?.version ?? 0,
      priceListVersion: this.priceList()?.version ?? 0,
      rosterRefused: null,
      priceListRefused: null,
      more: false,
    };
    for (;;) {
      const after = this.cursor();
      const at = now();
      const req: FeedRequest = {
        device: credentials.deviceId,
        after,
        at,
        sig: await signWithKeyWebCrypto(feedRequestMessage(credentials.deviceId, after, at), credentials.key),
      };
      // Only once held: a server before staff or catalogs at the till refuses the unknown field.
      const heldRoster = this.roster()?.version ?? 0;
      if (heldRoster > 0) req.roster = heldRoster;
      const heldList = this.priceList()?.version ?? 0;
      if (heldList > 0) req.priceList = heldList;
      const res = await this.#transport.fetchFeed(req, this.#timeoutMs);
      if (!res.ok) throw new BrowserFeedError(res.status, res.error.message);
      const keys = this.#answerKeys();
      if (keys !== null) {
        const problem = await answerProblemWebCrypto('feed', req.sig, res.body, keys);
        if (problem !== null) throw new TransportError('bad_response', `unverifiable feed answer: ${problem}`);
      }
      // Every signature is checked before the transaction: WebCrypto is asynchronous, the journal's writes are not.
      const checked = await this.#check(res.body, after);
      const page = this.#apply(checked, credentials.deviceId, now());
      result.pages++;
      result.applied += checked.items.length;
      result.declines += page.declines;
      result.cursor = checked.next;
      result.placement = this.placement();
      result.policy = typeof res.body.policy === 'string' ? res.body.policy : null;
      result.rosterVersion = this.roster()?.version ?? 0;
      result.priceListVersion = this.priceList()?.version ?? 0;
      if (checked.rosterRefused !== null) result.rosterRefused = checked.rosterRefused;
      if (checked.priceListRefused !== null) result.priceListRefused = checked.priceListRefused;
      if (!res.body.more || checked.next === after) return result;
      if (result.pages >= BROWSER_FEED_MAX_PAGES) {
        result.more = true;
        return result;
      }
    }
  }

  /** The keys pinned at enrollment (policy keys sign rosters, lists and answers), or null if none. */
  #pinnedKeys(): Record<string, string> | null {
    const pinned = this.#journal.getMeta(META.policyKeys);
    return pinned ? (JSON.parse(pinned) as Record<string, string>) : null;
  }

  /** The keys answers must verify under, or null when the server does not sign answers. */
  #answerKeys(): Record<string, string> | null {
    if (this.#journal.getMeta(META.signsAnswers) !== '1') return null;
    return this.#pinnedKeys() ?? {};
  }

  async #check(body: FeedResponse, after: number): Promise<CheckedPage> {
    const next = body.next;
    if (!Number.isSafeInteger(next) || next < after) {
      throw new BrowserFeedError(200, `next ${String(next)} is not a cursor at or after ${after}`);
    }
    if (!Array.isArray(body.items)) throw new BrowserFeedError(200, 'items is not a list');
    const items: FeedItem[] = [];
    for (const [i, item] of body.items.entries()) {
      const problem = itemProblem(item, after, next);
      if (problem) throw new BrowserFeedError(200, `items[${i}]: ${problem}`);
      items.push(item);
    }
    const placement = parsePlacement(body.placement);
    const location = (placement ?? this.placement())?.location ?? null;
    const keys = this.#pinnedKeys() ?? {};
    let roster: Roster | null = null;
    let rosterRefused: string | null = null;
    if (body.roster !== undefined) {
      try {
        const parsed = signedRosterSchema.parse(body.roster, 'roster');
        await verifySigned(keys, parsed.keyId, parsed.sig, rosterMessage(parsed.roster), 'roster');
        if (location !== null && parsed.roster.location !== location) {
          throw new ValidationError('roster.location', `this device's location ${location}`, parsed.roster.location);
        }
        if (parsed.roster.version !== (this.roster()?.version ?? 0)) roster = parsed.roster;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        rosterRefused = `roster refused: ${error.message}`;
      }
    }
    let priceList: FeedPriceList | null = null;
    let priceListRefused: string | null = null;
    if (body.priceList !== undefined) {
      try {
        const parsed = signedPriceListSchema.parse(body.priceList, 'priceList');
        await verifySigned(keys, parsed.keyId, parsed.sig, priceListMessage(parsed.list), 'priceList');
        if (location !== null && parsed.list.location !== location) {
          throw new ValidationError('priceList.location', `this device's location ${location}`, parsed.list.location);
        }
        if (parsed.list.version > (this.priceList()?.version ?? 0)) priceList = parsed.list;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        priceListRefused = `price list refused: ${error.message}`;
      }
    }
    return { items, next, placement, roster, rosterRefused, priceList, priceListRefused };
  }

  /** Applies a checked page in one transaction (no await inside: nothing else can interleave). */
  #apply(page: CheckedPage, deviceId: string, now: number): { declines: number } {
    const journal = this.#journal;
    const insertDecline = journal.prepare(
      `INSERT OR IGNORE INTO post_auth_declines (op_id, tender_index, pos, amount, currency, brand, last4, decline_code,
                                                 processor_id, declined_at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertNotice = journal.prepare(
      'INSERT OR IGNORE INTO feed_items (pos, type, op_id, device, at, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    let declines = 0;
    const released = new Set<string>();
    let exposure: ReturnType<OfflineDecisions['release']> = null;
    journal.transaction(() => {
      for (const item of page.items) {
        const payment = PAYMENT_TYPES.has(item.type) && item.device === deviceId ? paymentData(item) : null;
        if (!payment) {
          insertNotice.run(item.pos, item.type, item.opId, item.device, item.at, JSON.stringify(item.data), now);
          this.#onNotice?.(item.type, item.data, now);
          continue;
        }
        const id = this.#approvalIdOf(item.opId, payment.tenderIndex);
        if (id !== null) released.add(id);
        if (item.type !== 'payment.declined') continue;
        const inserted = insertDecline.run(
          item.opId,
          payment.tenderIndex,
          item.pos,
          payment.amount,
          payment.currency,
          payment.brand,
          payment.last4,
          payment.declineCode ?? 'unknown',
          payment.processorId,
          item.at,
          now,
        );
        declines += inserted.changes;
      }
      exposure = this.#policy?.release(released) ?? null;
      journal.setMeta({
        ...(exposure?.meta ?? {}),
        ...(page.placement ? { [META.placement]: JSON.stringify(page.placement) } : {}),
        ...(page.roster ? { [META.roster]: JSON.stringify(page.roster) } : {}),
        ...(page.priceList ? { [META.priceList]: JSON.stringify(page.priceList) } : {}),
        [META.feedCursor]: String(page.next),
      });
    }, 'feed');
    const done = exposure as ReturnType<OfflineDecisions['release']>;
    if (done) this.#policy?.committed(done.exposure);
    return { declines };
  }

  /** The exposure key of the card tender `tenderIndex` of op `opId` (as terminal/src/feed.ts), or null. */
  #approvalIdOf(opId: string, tenderIndex: number): string | null {
    const tenders = this.#journal.getOp(opId)?.op.body.tenders;
    if (!Array.isArray(tenders) || (tenders[tenderIndex] as { type?: unknown } | undefined)?.type !== 'card')
      return null;
    const ordinal = tenders.slice(0, tenderIndex).filter((t) => (t as { type?: unknown }).type === 'card').length;
    return approvalId(opId, ordinal);
  }
}

interface CheckedPage {
  items: FeedItem[];
  next: number;
  placement: Placement | null;
  roster: Roster | null;
  rosterRefused: string | null;
  priceList: FeedPriceList | null;
  priceListRefused: string | null;
}

const PAYMENT_TYPES = new Set(['payment.settled', 'payment.declined']);

/** Throws ValidationError unless `sig` over `message` verifies under the pinned key `keyId`. */
async function verifySigned(
  keys: Readonly<Record<string, string>>,
  keyId: string,
  sig: string,
  message: { ctx: string },
  field: string,
): Promise<void> {
  const key = Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
  if (key === undefined) throw new ValidationError(`${field}.keyId`, 'a pinned policy key id', keyId);
  let ok = false;
  try {
    ok = await verifyMessageWebCrypto(message, sig, key);
  } catch {
    ok = false;
  }
  if (!ok) throw new ValidationError(`${field}.sig`, `a signature by policy key ${keyId}`, 'one that does not verify');
}

/** A placement the server reported (enrollment, feed), or null for none or a malformed one. */
export function parsePlacement(placement: unknown): Placement | null {
  if (placement === undefined || placement === null) return null;
  try {
    return placementSchema.parse(placement, 'placement');
  } catch (error) {
    if (error instanceof ValidationError) return null;
    throw error;
  }
}

/** What is wrong with one feed item, or null (the same rules as terminal/src/feed.ts). */
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

function paymentData(item: FeedItem) {
  try {
    return paymentFeedDataSchema.parse(item.data, 'data');
  } catch (error) {
    if (error instanceof ValidationError) return null;
    throw error;
  }
}
