/**
 * The till's record: every op with its state in words (pending
 * confirmation, confirmed, needs attention — a timeout is never "failed"),
 * the dead letters with the server's reason, and finding a sale again by
 * the receipt number printed on it.
 */
import type { BrowserTill, TillOpView, TillStatus } from '@holdfast/terminal-web/client';
import { useEffect, useState } from 'preact/hooks';
import { formatMoney } from '../shared/money.js';
import { when } from '../shared/time.js';
import type { ReceiptRequest } from './main.js';
import { errorWords, LOCALE } from './words.js';

/** A recorded op's state in the clerk's words (never "failed" for a lost answer). */
export const STATE_WORDS: Record<TillOpView['state'], string> = {
  pending: 'pending confirmation',
  confirmed: 'confirmed',
  needs_attention: 'needs attention',
};

const KIND_WORDS: Record<string, string> = {
  'sale.recorded': 'Sale',
  'shift.opened': 'Shift opened',
  'shift.closed': 'Shift closed',
  'cash.moved': 'Cash movement',
};

const PRINTS = new Set(['sale.recorded', 'shift.closed']);

function amount(op: TillOpView): string {
  return op.total !== null && op.currency !== null ? formatMoney(op.total, op.currency, LOCALE.format) : '';
}

export function OpRow({ op, onReceipt }: { op: TillOpView; onReceipt: (r: ReceiptRequest) => void }) {
  return (
    <tr data-op={op.id} data-state={op.state}>
      <td class="num">#{op.seq}</td>
      <td>{KIND_WORDS[op.kind] ?? op.kind}</td>
      <td>{when(op.at)}</td>
      <td class="num">{amount(op)}</td>
      <td>
        <span class={`badge ${op.state}`}>{STATE_WORDS[op.state]}</span>
      </td>
      <td>
        {PRINTS.has(op.kind) ? (
          <button type="button" class="secondary" onClick={() => onReceipt({ id: op.id, copy: true })}>
            Reprint
          </button>
        ) : null}
      </td>
    </tr>
  );
}

export function Sales({
  till,
  status,
  onReceipt,
}: {
  till: BrowserTill;
  status: TillStatus;
  onReceipt: (r: ReceiptRequest) => void;
}) {
  const [ops, setOps] = useState<TillOpView[] | null>(null);
  // Reread whenever the counts move (a sale recorded, confirmed, dead-lettered).
  const key = `${status.pending}/${status.confirmed}/${status.deadLetters}`;
  useEffect(() => {
    void till.recent(50).then(setOps);
  }, [till, key]);
  if (!ops) return <p>Loading…</p>;
  if (ops.length === 0) return <p>Nothing recorded on this till yet.</p>;
  return (
    <table data-table="sales" class="list">
      <thead>
        <tr>
          <th>#</th>
          <th>What</th>
          <th>When</th>
          <th class="num">Amount</th>
          <th>State</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {ops.map((op) => (
          <OpRow key={op.id} op={op} onReceipt={onReceipt} />
        ))}
      </tbody>
    </table>
  );
}

export function DeadLetters({
  till,
  status,
  onReceipt,
}: {
  till: BrowserTill;
  status: TillStatus;
  onReceipt: (r: ReceiptRequest) => void;
}) {
  const [dead, setDead] = useState<Array<TillOpView & { reason: string; message: string }> | null>(null);
  useEffect(() => {
    void till.deadLetters(100).then(setDead);
  }, [till, status.deadLetters]);
  if (!dead) return <p>Loading…</p>;
  // Declines after the sale (declines.tsx) are listed above: then "nothing" would not be true.
  if (dead.length === 0)
    return status.declines > 0 ? null : <p data-no-dead-letters>No sale is refused by the server.</p>;
  return (
    <>
      <p>
        The server will not take these as they stand. They stay on this till, and the operator sees them in the console:
        call your manager.
      </p>
      <table data-table="dead-letters" class="list">
        <tbody>
          {dead.map((d) => (
            <tr key={d.id} data-op={d.id}>
              <td class="num">#{d.seq}</td>
              <td>{KIND_WORDS[d.kind] ?? d.kind}</td>
              <td class="num">{amount(d)}</td>
              <td>
                <span class="badge needs_attention">{d.reason}</span> {d.message}
              </td>
              <td>
                {PRINTS.has(d.kind) ? (
                  <button type="button" class="secondary" onClick={() => onReceipt({ id: d.id, copy: true })}>
                    Receipt
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function FindReceipt({ till, onReceipt }: { till: BrowserTill; onReceipt: (r: ReceiptRequest) => void }) {
  const [number, setNumber] = useState('');
  const [found, setFound] = useState<TillOpView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const find = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setFound(null);
    try {
      setFound(await till.findReceipt(number));
    } catch (error) {
      setProblem(errorWords(error));
    }
  };
  return (
    <div class="narrow">
      <form data-form="find" onSubmit={(e) => void find(e)}>
        <label>
          Receipt number (as printed, e.g. K7M2Q-000123)
          <input name="number" value={number} onInput={(e) => setNumber((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Find</button>
      </form>
      {problem ? (
        <div class="problem" role="alert" data-find-error>
          {problem}
        </div>
      ) : null}
      {found ? (
        <table class="list" data-table="found">
          <tbody>
            <OpRow op={found} onReceipt={onReceipt} />
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
