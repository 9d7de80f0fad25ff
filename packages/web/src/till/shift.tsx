/** The shift: opened with the clerk's name and the float; closed with a blind cash count, then its Z report. */
import type { BrowserTill, TillStatus } from '@holdfast/terminal-web/client';
import { useState } from 'preact/hooks';
import { formatMoney, parseMoneyInput } from '../shared/money.js';
import type { ReceiptRequest } from './main.js';
import { errorWords, LOCALE } from './words.js';

const CURRENCIES = ['EUR', 'USD', 'GBP', 'BRL', 'MXN', 'CHF', 'JPY'];

export function Shift({
  till,
  status,
  onReceipt,
}: {
  till: BrowserTill;
  status: TillStatus;
  onReceipt: (r: ReceiptRequest) => void;
}) {
  // The signed-in staff member's name, when there is one (the clerk may still type another).
  const [clerk, setClerk] = useState(status.staff?.name ?? '');
  const [currency, setCurrency] = useState('EUR');
  const [amount, setAmount] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const shift = status.shift;

  const run = async (e: Event, action: () => Promise<unknown>) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await action();
      setAmount('');
    } catch (error) {
      setProblem(errorWords(error));
    } finally {
      setBusy(false);
    }
  };
  const money = (text: string, cur: string) => {
    try {
      return parseMoneyInput(text.trim() === '' ? '0' : text, cur);
    } catch (error) {
      throw Object.assign(new Error(`“${text}” is not an amount in ${cur}: ${(error as Error).message}`), {
        code: 'validation',
      });
    }
  };

  const body = shift ? (
    <form
      data-form="close-shift"
      onSubmit={(e) =>
        void run(e, async () => {
          const closed = await till.closeShift({ countedCash: money(amount, shift.currency) });
          onReceipt({ id: closed.id, copy: false });
        })
      }
    >
      <h2>Shift of {shift.clerk}</h2>
      <p data-shift-summary>
        {shift.sales} sales, {formatMoney(shift.salesTotal, shift.currency, LOCALE.format)}; float{' '}
        {formatMoney(shift.openingFloat, shift.currency, LOCALE.format)}.
      </p>
      <label>
        Cash counted in the drawer ({shift.currency})
        <input
          name="counted"
          inputMode="decimal"
          required
          value={amount}
          onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="big" disabled={busy}>
        Close the shift and print the Z report
      </button>
    </form>
  ) : (
    <form
      data-form="open-shift"
      onSubmit={(e) =>
        void run(e, () => till.openShift({ clerk: clerk.trim(), currency, openingFloat: money(amount, currency) }))
      }
    >
      <h2>Open a shift</h2>
      <label>
        Clerk
        <input
          name="clerk"
          required
          maxLength={64}
          value={clerk}
          onInput={(e) => setClerk((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        Currency
        <select name="currency" value={currency} onChange={(e) => setCurrency((e.target as HTMLSelectElement).value)}>
          {CURRENCIES.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label>
        Float in the drawer
        <input
          name="float"
          inputMode="decimal"
          value={amount}
          onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="big" disabled={busy || clerk.trim() === ''}>
        Open the shift
      </button>
    </form>
  );
  return (
    <div class="narrow">
      {body}
      {problem ? (
        <div class="problem" role="alert" data-shift-error>
          {problem}
        </div>
      ) : null}
    </div>
  );
}
