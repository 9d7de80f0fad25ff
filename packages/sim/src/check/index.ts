/**
 * The checking kit: one way to read the truth of a run from disk and hold
 * it against the rules that make Holdfast worth having. The simulator, the
 * demo, the chaos run and the crash tests all judge a run with it.
 *
 *   read      readJournal(dir) / readJournals(dirs)       → JournalTruth  (journal-reader.ts)
 *             readServer(reader)                          → ServerTruth   (server-reader.ts)
 *               SqliteServerReader.open(fileOrDataDir) or new SqliteServerReader(storage)
 *               PostgresServerReader.open(url)         or new PostgresServerReader(storage)
 *             readProcessor(processorStorage)             → ProcessorRecord[]
 *   judge     checkTruth(truth)                           → Violation[]   (rules/*.ts, pure)
 *   all in one
 *             checkServerAgainstJournals({ server: sqliteFileOrDir | postgresUrl | reader,
 *                                          journals: dataDirs[] })
 *                                                         → { truth, violations }
 *   show      formatViolation(v), stamp(ms)               (format.ts; the simulator's
 *                                                          explain() is world/explain.ts)
 *
 * A Truth is the journals, the server's tables, the processor's records,
 * and (a simulated run only) what the world saw while it ran: what the app
 * saw recorded, restores, answers on the wire, errors. Rules that need the
 * latter find nothing to judge without it.
 *
 * E.g. a crash test, after every process has stopped:
 *
 *   const { violations } = await checkServerAgainstJournals({
 *     server: join(root, 'server'),              // or process.env.DATABASE_URL
 *     journals: tills.map((t) => t.dataDir),
 *   });
 *   assert.deepEqual(violations.map(formatViolation), []);
 */
export {
  type CheckOnDiskOptions,
  checkServerAgainstJournals,
  checkTruth,
  openServerReader,
  RULE_SETS,
  type RuleSet,
} from './check-truth.js';
export { formatViolation, stamp } from './format.js';
export { type JournalPages, readJournal, readJournalPages, readJournals } from './journal-reader.js';
export { type PostgresQueryable, PostgresServerReader } from './postgres/postgres-server-reader.js';
export { readProcessor } from './processor-reader.js';
export { correctionRules } from './rules/corrections.js';
export { drawerRules } from './rules/drawers.js';
export { duplicatesApplied } from './rules/exactly-once.js';
export { loyaltyRules } from './rules/loyalty.js';
export { stockRules } from './rules/stock.js';
export { ticketRules } from './rules/tickets.js';
export { type Row, readServer, SERVER_QUERIES, type ServerReader, type ServerTable } from './server-reader.js';
export { type SqliteQueryable, SqliteServerReader } from './sqlite/sqlite-server-reader.js';
export type * from './truth.js';
export { RULES, type Rule, type Violation } from './violation.js';
