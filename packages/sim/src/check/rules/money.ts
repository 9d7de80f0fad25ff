/**
 * Money per device and shift, the journals against the server:
 *
 *   money             the ledger holds what the journals recorded
 *   shift-projection  the server's shift projections agree with the journals
 *
 * A terminal restored from an old image (an injected fault) is left out: its
 * journal forgot what it recorded before the restore.
 */
import { diffBooks, expectedCashOf, JournalBooks, ledgerBooks, PROJECTION_FIELDS, projectedBooks } from '../books.js';
import type { Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

export function moneyRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const index = indexTruth(truth);
  const ledger = ledgerBooks(truth.server);
  const projected = projectedBooks(truth.server);
  for (const journal of truth.journals) {
    if (index.injected(journal) || !journal.deviceId) continue;
    const books = new JournalBooks();
    for (const e of journal.entries) books.add(e.op);
    const label = journal.label;
    for (const [shift, b] of books.shifts) {
      const l = ledger.get(shift);
      const diff = l ? diffBooks(b, l) : 'no ledger events';
      if (diff)
        out.push({ rule: 'money', device: label, opId: shift, message: `shift ${shift}: journal vs ledger: ${diff}` });
      const p = projected.get(shift);
      const pdiff = p ? diffBooks(b, p, PROJECTION_FIELDS) : 'no projection';
      if (pdiff) {
        out.push({
          rule: 'shift-projection',
          device: label,
          opId: shift,
          message: `shift ${shift}: journal vs projection: ${pdiff}`,
        });
      }
      const variance = b.closed && b.countedCash !== null ? b.countedCash - expectedCashOf(b) : null;
      if (p && p.variance !== variance) {
        out.push({
          rule: 'shift-projection',
          device: label,
          opId: shift,
          message: `shift ${shift}: variance ${p.variance} on the server, ${variance} by the journal`,
        });
      }
    }
    for (const [shift, l] of ledger) {
      if (l.device === journal.deviceId && !books.shifts.has(shift)) {
        out.push({
          rule: 'money',
          device: label,
          opId: shift,
          message: `the ledger holds shift ${shift}, which the journal never recorded`,
        });
      }
    }
  }
  return out;
}
