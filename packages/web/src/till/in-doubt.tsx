/**
 * Needs attention, first part: the sales (and other ops) whose saving hit a
 * disk error in an earlier run — storage full, an OPFS write that failed —
 * each as the journal found it on reopening: kept (it stands and is sent
 * like any sale) or NOT kept (it never happened: ring it again if the
 * customer still wants it). The clerk acknowledges the list once checked.
 */
import type { BrowserTill, InDoubtOp } from '@holdfast/terminal-web/client';
import { useState } from 'preact/hooks';
import { when } from '../shared/time.js';
import { errorWords } from './words.js';

const KIND_WORDS: Record<string, string> = {
  'sale.recorded': 'Sale',
  'shift.opened': 'Shift opened',
  'shift.closed': 'Shift closed',
};

export function InDoubt({
  till,
  ops,
  onAcknowledged,
}: {
  till: BrowserTill;
  ops: InDoubtOp[];
  onAcknowledged: () => void;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  if (ops.length === 0) return null;
  const acknowledge = async () => {
    setProblem(null);
    try {
      await till.acknowledgeInDoubt();
      onAcknowledged();
    } catch (error) {
      setProblem(errorWords(error));
    }
  };
  return (
    <section class="in-doubt" data-in-doubt-list>
      <h2>Check these: the till’s storage failed while saving them</h2>
      <table data-table="in-doubt" class="list">
        <tbody>
          {ops.map((o) => (
            <tr key={o.id} data-in-doubt={o.id} data-recorded={String(o.recorded)}>
              <td>{KIND_WORDS[o.kind] ?? o.kind}</td>
              <td>{when(o.at)}</td>
              <td>
                {o.recorded ? (
                  <>
                    <span class="badge pending">kept</span> It stands as #{o.seq} and is sent to the server: do not ring
                    it again.
                  </>
                ) : (
                  <>
                    <span class="badge needs_attention">NOT kept</span> It never happened on this till: ring it again if
                    the customer still wants it.
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => void acknowledge()} data-acknowledge-in-doubt>
        Checked — clear this list
      </button>
      {problem ? (
        <div class="problem" role="alert">
          {problem}
        </div>
      ) : null}
    </section>
  );
}
