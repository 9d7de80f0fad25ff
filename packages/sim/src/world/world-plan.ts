/**
 * What a simulated run is made of, decided up front from the seed by a
 * scenario: the fleet, the clerks' traffic, and every fault with its time.
 * The world only executes a plan, so one (scenario, seed) is one run.
 */
import type { ServerCrashPoint } from '@holdfast/server/testing';
import type { CrashPoint } from '@holdfast/terminal';
import type { MenuItem } from '../baskets.js';
import type { FaultRates, Partition, ServerCapacity } from '../sim-network.js';
import type { ClockFaults } from './drifting-clock.js';

export interface TerminalSpec {
  label: string;
  zone: string;
  /** Sales per minute when the traffic intensity is 1. */
  salesPerMinute: number;
  /** The clerk presses "retry" in bursts while anything is pending. */
  retryHappy: boolean;
  clock: ClockFaults;
}

/** A trading session: every terminal opens a shift at its start and closes it at its end. */
export interface Session {
  from: number;
  to: number;
}

export interface TrafficPlan {
  sessions: readonly Session[];
  /** Multiplier of each terminal's salesPerMinute at true time `t` (peaks, lulls). */
  intensity(t: number): number;
  /**
   * A clerk rings up the sales of one tick in one go (coarse ticks keep a
   * three-day festival cheap); ms.
   */
  tickMs: number;
  /** What the clerks sell. */
  menu: readonly MenuItem[];
  cardShare: number;
  /** Share of sales followed by a cash payout (betting shops pay winning tickets). */
  payoutShare: number;
  /** A safe drop when the drawer holds more than this (minor units); 0: never. */
  safeDropAbove: number;
  /** Share of shift closes whose blind count is off (a cash variance for operators). */
  miscountShare: number;
  openingFloat: number;
  currency: string;
  /** Retry-happy clerks: every `everyMs`, while ops are pending, `presses` presses; sometimes a status query. */
  retry: { everyMs: readonly [number, number]; presses: readonly [number, number]; requeryShare: number };
}

/** How a terminal loses power: at a random moment (`kill`), or at the next write reaching a crash point. */
export type TerminalCrashMode = 'kill' | CrashPoint;

export interface TerminalCrash {
  lane: string;
  /** When the crash is armed (a crash point cuts at the next write reaching it). */
  at: number;
  mode: TerminalCrashMode;
  /** Power is back after this long, ms. */
  downMs: number;
}

export interface ServerCrash {
  /** Armed at this time; the next batch to reach `point` crashes the server. */
  at: number;
  point: ServerCrashPoint;
  downMs: number;
}

/**
 * An injected fork: the device's data directory is imaged at `backupAt` and
 * put back at `restoreAt` (a technician "fixing" a till). The device then
 * records new ops under seqs the server may already hold: the server must
 * flag a fork, and the terminal must dead-letter those ops with the reason.
 */
export interface DeviceRestore {
  lane: string;
  backupAt: number;
  restoreAt: number;
}

/** The end of an outage: how long the backlog recorded before it takes to drain is a key figure. */
export interface Heal {
  at: number;
  /** Zones whose terminals' backlog is measured (`*`: every terminal). */
  zones: readonly string[];
  label: string;
}

export interface FaultPlan {
  latencyMs: readonly [number, number];
  partitions: readonly Partition[];
  rates(t: number): FaultRates;
  capacity?: ServerCapacity;
  terminalCrashes: readonly TerminalCrash[];
  serverCrashes: readonly ServerCrash[];
  restores: readonly DeviceRestore[];
  heals: readonly Heal[];
  /** From here on no fault starts (rates are zero, partitions over) and queues must drain. */
  end: number;
}

/**
 * Card traffic through the processor: terminals enforce a risk policy the
 * server issued (offline approvals within its caps), clerks present cards
 * from a seeded pool, the server's Forwarder sends the offline-approved
 * payments to the processor-sim in rounds, and the processor loses answers
 * after commit and has outages.
 */
export interface CardPlan {
  /** Placement of every device: this merchant and event, location = the terminal's zone. */
  merchant: string;
  event: string;
  /** The risk policy the operator issues before trading (scope: merchant and event). */
  policy: {
    floorLimit: number;
    device: { maxAmount: number; maxCount: number };
    card: { maxAmount: number; maxCount: number; velocity: { count: number; windowMs: number } | null };
    maxOfflineMs: number;
    /** How long the policy is valid from issue, ms. */
    lifetimeMs: number;
  };
  pool: { size: number; blockedShare: number; lowBalanceShare: number; lowBalance: number };
  /** Terminals fetch the policy in the background at most this often (`policyRefreshMinIntervalMs`), ms. */
  policyRefreshMs: number;
  /** A clerk whose card sale needs the server (NeedsOnlineError) asks for cash with this probability, else the sale is dropped. */
  cashFallbackShare: number;
  processor: {
    latencyMs: readonly [number, number];
    lostAnswerRate: number;
    outages: readonly { from: number; to: number }[];
  };
  forwarder: { everyMs: number; batchSize: number; leaseMs: number; timeoutMs: number };
  /** The exposure (actual vs bound) is sampled this often, ms. */
  exposureSampleMs: number;
  /** Stored-value wristbands (docs/wristbands.md); absent: no wristband traffic. */
  wristbands?: WristbandPlan;
  /** Loyalty points (docs/loyalty.md): the policy's rule and the members' traffic; absent: none. */
  loyalty?: LoyaltyPlan;
  /** Catalog sales with limited stock and price changes (docs/catalog-and-stock.md); absent: none. */
  catalog?: CatalogPlan;
}

/** Catalog traffic (world/catalog-traffic.ts): items, each zone's price list versions and its stock. */
export interface CatalogPlan {
  /** The catalog; `price` is version 1's price at every zone (minor units). */
  items: readonly { sku: string; name: string; price: number }[];
  /** Version 1's promotions (at every zone), running from before trading until `until`. */
  promotions: readonly { sku: string; price: number; until: number }[];
  /** Later versions, each published at `at` at every zone: the new prices, and no promotions. */
  changes: readonly { at: number; prices: readonly { sku: string; price: number }[] }[];
  /** Stock received at each zone at the start of trading (by the zone's first lane), per SKU. */
  stock: Readonly<Record<string, number>>;
  /** Share of sales ringing one catalog line (the rest sell free-text baskets). */
  share: number;
}

/** Loyalty traffic (world/loyalty-traffic.ts). */
export interface LoyaltyPlan {
  /** The policy's loyalty rule. */
  rule: { pointsPerUnit: number; perMinor: number; offlineCap: number };
  /** Members enrolled before trading, each with `welcomePoints`. */
  members: number;
  welcomePoints: number;
  /** Share of sales a member card is scanned on. */
  scanShare: number;
  /** Of those, the share that also look the balance up online (always, when the till knows none). */
  lookupShare: number;
  /** Of those with a known balance, the share that spend points offline (within the cap). */
  redeemShare: number;
  /** Of those whose known balance is above the cap, the share that redeem online with a code. */
  onlineShare: number;
  /** Of online redemptions, the share where the clerk mistypes the code once. */
  mistypeShare: number;
}

/**
 * Wristband traffic: each lane has its own crowd of wristbands (customers
 * at that bar), topped up in cash at the till when one runs low, then
 * debited under the policy's `offline.tenders.wristband` limits; a refusal
 * (outside the policy, blocked) is paid cash.
 */
export interface WristbandPlan {
  /** The policy's wristband limits (the device caps are the cards'). */
  floorLimit: number;
  instrument: { maxAmount: number; maxCount: number; velocity: { count: number; windowMs: number } | null };
  /** Share of sales paid by wristband. */
  share: number;
  /** Wristbands per lane. */
  perLane: number;
  /** A top-up, minor units (a multiple of it when a basket costs more). */
  topUp: number;
}

export interface WorldPlan {
  /** Trading starts; the back office is set up an hour before, the fleet enrolled minutes before (ENROLL_LEAD_MS), without faults. */
  start: number;
  terminals: readonly TerminalSpec[];
  traffic: TrafficPlan;
  faults: FaultPlan;
  /** Terminal options. */
  requestTimeoutMs: number;
  batchSize: number;
  idlePingMs: number;
  probeIntervalMs: number;
  /** Ring a tick's sales while the sync loop is paused, so they leave as one batch (see Clerk). */
  groupBursts: boolean;
  /** After trading and faults end, queues must be empty within this much virtual time, ms. */
  drainLimitMs: number;
  /** Card traffic through the processor; absent: card tenders are recorded without a risk decision. */
  cards?: CardPlan;
  /**
   * Staff at the till (needs `cards`, whose placement gives each zone its
   * location): a roster per zone — each lane's clerk and the zone's
   * supervisor — delivered by the feed; clerks sign in, and a supervisor
   * approves every paid-out (SIM_STAFF).
   */
  staff?: boolean;
  /** Betting traffic (docs/betting.md): clerks sell tickets instead of baskets; see BettingPlan. */
  betting?: BettingPlan;
  /** Sale voids and refunds (world/correction-traffic.ts; needs `staff`: a supervisor approves each). */
  corrections?: CorrectionPlan;
}

/** Sale corrections on cash sales (world/correction-traffic.ts); shares are of the cash sales. */
export interface CorrectionPlan {
  /** Share voided at once, same shift and till, with the supervisor's approval. */
  voidShare: number;
  /** Share whose void is attempted WITHOUT an approval (the till must refuse it). */
  unapprovedVoidShare: number;
  /** Share whose customer comes back for a cash refund. */
  refundShare: number;
  /** Of refunds: share at another till of the chain (on the clerk's word). */
  elsewhereShare: number;
  /** Of refunds at another till: share giving back more than the sale (the server must flag it). */
  overShare: number;
  /** Of the other refunds: share refunding part of the sale (the rest: the whole sale). */
  partialShare: number;
  /** A refund comes this long after its sale, ms. */
  refundAfterMs: readonly [number, number];
}

/** One market of an event on offer: its selections and odds (hundredths), resulted once at `resultAt`. */
export interface BettingMarket {
  event: string;
  market: string;
  selections: readonly { selection: string; odds: number }[];
  /** True virtual time the operator posts the result (one selection won, the others lost); no bets after `closesAt`. */
  closesAt: number;
  resultAt: number;
}

/**
 * Betting shops (world/betting-desk.ts): each of the clerk's sales is a
 * ticket sold online (POST /v1/authorize); some are voided within the void
 * window with a supervisor's PIN approval, some voids are attempted without
 * one (the till must refuse them); the operator posts each market's result;
 * winners come back to be paid, at their own shop or another of the chain,
 * and some present a paid ticket again elsewhere (the server must decline).
 */
export interface BettingPlan {
  markets: readonly BettingMarket[];
  /** Share of the customers buying a ticket; the others buy at the counter (drinks, snacks: cash, card, wristband). */
  ticketShare: number;
  /** Stake range, minor units (drawn in whole major units). */
  stake: readonly [number, number];
  /** Most selections on one ticket (distinct events), at least 1. */
  maxLegs: number;
  /** Share of tickets voided (with a supervisor's approval). */
  voidShare: number;
  /** Share of tickets whose void is attempted WITHOUT a supervisor's approval (the till must refuse it). */
  unapprovedVoidShare: number;
  /** A void comes this long after the sale, ms (inside the void window). */
  voidAfterMs: readonly [number, number];
  voidWindowMinutes: number;
  /** A winner comes to be paid this long after the result, ms. */
  payAfterMs: readonly [number, number];
  /** Share of winners paid at another shop of the chain. */
  elsewhereShare: number;
  /** Share of paid winners who present the ticket again at another shop (declined: ticket_paid). */
  representShare: number;
  /** Limits of the betting configuration the operator sets before trading. */
  limits: { minStake: number; maxStake: number; maxPayout: number; selectionLiabilityCap: number };
}

/** The roster a world with `staff` gets: ids and PINs (scrypt verifiers on the server; tills check them offline). */
export const SIM_STAFF = {
  clerk: (lane: string) => `clerk-${lane}`,
  supervisor: (zone: string) => `sup-${zone}`,
  clerkPin: '4821',
  supervisorPin: '7390',
} as const;
