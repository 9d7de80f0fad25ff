/**
 * Holds a Truth against every rule, and the one call that reads a server
 * and its terminals' journals from disk and checks them.
 */
import { readJournal } from './journal-reader.js';
import { PostgresServerReader } from './postgres/postgres-server-reader.js';
import { accountingRules } from './rules/accounting.js';
import { cardRules } from './rules/cards.js';
import { cashCorrectionRules } from './rules/cash-corrections.js';
import { catalogRules } from './rules/catalog.js';
import { correctionRules } from './rules/corrections.js';
import { drawerRules } from './rules/drawers.js';
import { exactlyOnceRules } from './rules/exactly-once.js';
import { exceptionRules } from './rules/exceptions.js';
import { fiscalRules } from './rules/fiscal.js';
import { journalRules } from './rules/journal-rules.js';
import { loyaltyRules } from './rules/loyalty.js';
import { moneyRules } from './rules/money.js';
import { observedRules } from './rules/observed-rules.js';
import { staffRules } from './rules/staff.js';
import { stockRules } from './rules/stock.js';
import { ticketRules } from './rules/tickets.js';
import { topUpReversalRules } from './rules/topup-reversals.js';
import { walletRules } from './rules/wallets.js';
import { readServer, type ServerReader } from './server-reader.js';
import { SqliteServerReader } from './sqlite/sqlite-server-reader.js';
import type { JournalTruth, ProcessorRecord, Truth } from './truth.js';
import type { Violation } from './violation.js';

/** A rule set: a pure function from the truth to what it breaks. */
export type RuleSet = (truth: Truth) => Violation[];

/** Every rule set, in the order their violations are reported. */
export const RULE_SETS: readonly RuleSet[] = [
  journalRules,
  exactlyOnceRules,
  observedRules,
  moneyRules,
  exceptionRules,
  cardRules,
  walletRules,
  staffRules,
  ticketRules,
  loyaltyRules,
  catalogRules,
  drawerRules,
  fiscalRules,
  correctionRules,
  accountingRules,
  stockRules,
  topUpReversalRules,
  cashCorrectionRules,
];

/** Every violation of every rule; an empty list means the truth is clean. */
export function checkTruth(truth: Truth): Violation[] {
  return RULE_SETS.flatMap((rules) => rules(truth));
}

/** `postgres://…` or `postgresql://…`: a PostgreSQL server; anything else is a SQLite file or data directory. */
export function openServerReader(server: string): ServerReader {
  return /^postgres(ql)?:\/\//.test(server) ? PostgresServerReader.open(server) : SqliteServerReader.open(server);
}

export interface CheckOnDiskOptions {
  /** The server: a SQLite file or data directory, a `postgres://` URL, or an open reader (not closed here). */
  server: string | ServerReader;
  /** The terminals' data directories (each one's label is its directory name), or journals already read. */
  journals: readonly (string | JournalTruth)[];
  /** The processor's records, when card payments were forwarded to one. */
  processor?: readonly ProcessorRecord[];
}

/**
 * Reads the server and the journals (every terminal down) and checks them:
 * every op recorded is stored and applied exactly once, nothing else is,
 * every chain is complete, money is conserved per shift, no exception but
 * the expected ones. Returns the truth read and its violations.
 */
export async function checkServerAgainstJournals(
  options: CheckOnDiskOptions,
): Promise<{ truth: Truth; violations: Violation[] }> {
  const journals = options.journals.map((j) => (typeof j === 'string' ? readJournal(j) : j));
  const reader = typeof options.server === 'string' ? openServerReader(options.server) : options.server;
  try {
    const truth: Truth = { journals, server: await readServer(reader), processor: options.processor ?? null };
    return { truth, violations: checkTruth(truth) };
  } finally {
    if (typeof options.server === 'string') await reader.close();
  }
}
