/**
 * Selling: the location's catalog (the price list the signed device feed
 * brought, priced now; keys 1–8 for its first eight items) when the till
 * holds one in the shift's currency, else quick items; or a typed amount
 * into the cart, then a
 * tender — cash (what the customer hands over; the change is shown) or
 * card through the simulated reader (it produces a processor token, as the
 * Node till's simulated reader does; no card number ever reaches the till),
 * or the wristband on the (simulated) wristband reader (wristband.tsx).
 * The sale answers once it is durable on this device: "pending
 * confirmation" until the server confirms it, never "failed" for a
 * network that did not answer. A card payment is decided by the risk policy
 * the till holds, and its answer is shown in words (policy-words.ts):
 * approved on this till within the offline limit, or refused, with the limit
 * that sent it to the network, and nothing recorded. When the server is
 * reachable, a card payment the policy sends to the network is asked of the
 * card processor through the server (till-engine.ts recordSaleOnline): the
 * screen says so while it waits, then approved (recorded, decision online)
 * or declined (nothing recorded) in words; with no answer it is listed as
 * waiting for the server until the till's retries settle it, never guessed.
 */
import type { SaleLine, Tender } from '@holdfast/protocol';
import type {
  BrowserTill,
  TillCatalogView,
  TillOpView,
  TillPendingAuthorizationView,
  TillStatus,
} from '@holdfast/terminal-web/client';
import { useEffect, useState } from 'preact/hooks';
import { formatMoney, parseMoneyInput } from '../shared/money.js';
import { CatalogSearch } from './catalog-search.js';
import type { ReceiptRequest } from './main.js';
import {
  approvedWords,
  onlineWords,
  policyLine,
  refusedWords,
  waitingWords,
  wristbandApprovedWords,
  wristbandRefusedWords,
} from './policy-words.js';
import { STATE_WORDS } from './sales.js';
import { errorWords, LOCALE } from './words.js';
import { type ReaderState, WristbandReaderPanel, wristbandError } from './wristband.js';
import { wristbandWords } from './wristband-words.js';

/** How many catalog keys the Sell screen shows before "more items" (search finds the rest). */
const KEYS_SHOWN = 24;

/** The quick keys when the till holds no catalog: name and price in minor units of the shift's currency. */
const QUICK_ITEMS: ReadonlyArray<{ sku: string; name: string; price: number }> = [
  { sku: 'COFFEE', name: 'Coffee', price: 250 },
  { sku: 'TEA', name: 'Tea', price: 220 },
  { sku: 'WATER', name: 'Water', price: 150 },
  { sku: 'BEER-05', name: 'Beer 0.5l', price: 450 },
  { sku: 'WINE-GLASS', name: 'Glass of wine', price: 500 },
  { sku: 'SANDWICH', name: 'Sandwich', price: 650 },
  { sku: 'CAKE', name: 'Cake', price: 380 },
  { sku: 'TSHIRT', name: 'T-shirt', price: 2_000 },
];

interface Done {
  id: string;
  seq: number;
  state: TillOpView['state'];
  total: number;
  change: number;
  currency: string;
  /** Paid with a wristband: what is left on it, or that the chip write must be finished by a tap. */
  wristband?: { balance: number; written: boolean };
  /** The risk policy's answer for a card or wristband payment, in words; null for cash. */
  decision: string | null;
  /** Where the card payment was decided: on this till (local) or by the card processor through the server (online). */
  decidedBy?: 'local' | 'online';
}

/**
 * The card payments asked of the server and not answered yet, reread
 * whenever their count or the till's counts move: listed until settled.
 */
export function WaitingForServer({ till, status }: { till: BrowserTill; status: TillStatus }) {
  const [rows, setRows] = useState<TillPendingAuthorizationView[]>([]);
  const moved = `${status.authorizationsPending}/${status.pending}/${status.confirmed}/${status.lastSuccessAt}`;
  useEffect(() => {
    let live = true;
    till.pendingAuthorizations().then(
      (r) => live && setRows(r),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [till, moved]);
  const [asking, setAsking] = useState(false);
  const askAgain = async () => {
    setAsking(true);
    try {
      await till.retryAuthorizations();
    } catch {
      // Still not answered: the row stays listed, the till asks again after its next successful sync.
    } finally {
      setAsking(false);
      till.pendingAuthorizations().then(setRows, () => undefined);
    }
  };
  if (rows.length === 0) return null;
  const w = onlineWords();
  return (
    <div class="problem" role="status" data-waiting-for-server={rows.length}>
      <strong>{w.waitingTitle}</strong>
      <ul>
        {rows.map((r) => (
          <li key={r.opId} data-waiting={r.opId}>
            {waitingWords(r)}
          </li>
        ))}
      </ul>
      <div>{w.waitingAdvice}</div>
      <button type="button" class="secondary" disabled={asking} data-ask-again onClick={() => void askAgain()}>
        {w.askAgain}
      </button>
    </div>
  );
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The simulated card reader: a one-time processor token and the card's brand and last four digits. */
function simulatedCardRead(): { token: string; brand: 'visa'; last4: string } {
  const last4 = String((crypto.getRandomValues(new Uint16Array(1))[0] ?? 0) % 10_000).padStart(4, '0');
  return { token: `tok_sim_${randomHex(12)}`, brand: 'visa', last4 };
}

export function Sell({
  till,
  status,
  onReceipt,
}: {
  till: BrowserTill;
  status: TillStatus;
  onReceipt: (r: ReceiptRequest) => void;
}) {
  const [lines, setLines] = useState<SaleLine[]>([]);
  const [amountText, setAmountText] = useState('');
  const [tendered, setTendered] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  // The last sale's state follows the till: reread it while it waits, whenever the counts move.
  const moved = `${status.pending}/${status.confirmed}/${status.deadLetters}`;
  const waiting = done !== null && done.state === 'pending' ? done.id : null;
  useEffect(() => {
    if (waiting === null) return;
    void till.recent(10).then((ops) => {
      const state = ops.find((o) => o.id === waiting)?.state;
      if (state && state !== 'pending') setDone((d) => (d && d.id === waiting ? { ...d, state } : d));
    });
  }, [till, waiting, moved]);
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState<string | null>(null);
  const [reader, setReader] = useState<ReaderState>({ present: null, lift: false });
  const [chipsRead, setChipsRead] = useState(0);
  const shift = status.shift;
  const currency = shift?.currency ?? 'EUR';
  const money = (n: number) => formatMoney(n, currency, LOCALE.format);
  const total = lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
  const [catalog, setCatalog] = useState<TillCatalogView | null>(null);
  const listVersion = status.feed.priceListVersion;
  useEffect(() => {
    if (listVersion === 0) return;
    let live = true;
    till.catalog().then(
      (c) => live && setCatalog(c),
      () => live && setCatalog(null),
    );
    return () => {
      live = false;
    };
  }, [till, listVersion]);
  // A list in another currency than the shift's cannot price this shift's sales: quick keys then.
  const items = catalog && catalog.currency === currency ? catalog.items : QUICK_ITEMS;
  // A long price list shows its first keys; the rest are found by search, or all shown on request.
  const [allKeys, setAllKeys] = useState(false);

  const add = (sku: string, name: string, price: number) => {
    setDone(null);
    setProblem(null);
    setLines((ls) => {
      const at = ls.findIndex((l) => l.sku === sku && l.unitPrice === price);
      if (at < 0) return [...ls, { sku, name, qty: 1, unitPrice: price }];
      return ls.map((l, i) => (i === at ? { ...l, qty: l.qty + 1 } : l));
    });
  };

  const addTyped = (e: Event) => {
    e.preventDefault();
    try {
      const price = parseMoneyInput(amountText, currency);
      if (price <= 0) throw new RangeError('the amount must be above zero');
      add('OPEN', 'Item', price);
      setAmountText('');
    } catch (error) {
      setProblem(`“${amountText}” is not an amount in ${currency}: ${(error as Error).message}`);
    }
  };

  const payWristband = async () => {
    if (reader.present === null) {
      setProblem(wristbandWords('pick_one'));
      return;
    }
    const present = reader.present;
    setBusy(true);
    setProblem(null);
    try {
      const receipt = await till.wristbands.pay({ present, lines, liftDuringWrite: reader.lift });
      setReader({ present, lift: false });
      const op = receipt.op;
      setDone({
        id: op.id,
        seq: op.seq,
        state: op.state,
        total,
        change: 0,
        currency,
        decision: receipt.decision?.mode === 'local' ? wristbandApprovedWords(status.policy) : null,
        wristband: { balance: receipt.chip.balance, written: receipt.chipWritten },
      });
      setLines([]);
    } catch (error) {
      const e = error as { code?: unknown; rule?: unknown };
      // The policy sends the payment to the server: refused in words (the browser till cannot ask it).
      let words =
        e?.code === 'needs_online'
          ? wristbandRefusedWords(typeof e.rule === 'string' ? e.rule : undefined, status.policy)
          : wristbandError(error);
      // Too little on the wristband: say how much it holds (a read changes nothing on the chip).
      if ((error as { code?: unknown })?.code === 'insufficient_balance') {
        const view = await till.wristbands.read(present).catch(() => null);
        if (view) words += ` ${wristbandWords('balance', money(view.chip.balance))}`;
      }
      setProblem(words);
    } finally {
      setBusy(false);
      setChipsRead((n) => n + 1);
    }
  };

  const pay = async (kind: 'cash' | 'card' | 'wristband') => {
    if (lines.length === 0 || busy) return;
    if (kind === 'wristband') return payWristband();
    let tender: Tender;
    let change = 0;
    if (kind === 'cash') {
      let given = total;
      if (tendered.trim() !== '') {
        try {
          given = parseMoneyInput(tendered, currency);
        } catch (error) {
          setProblem(`“${tendered}” is not an amount in ${currency}: ${(error as Error).message}`);
          return;
        }
      }
      if (given < total) {
        setProblem(`The customer gave ${money(given)}: that is less than ${money(total)}.`);
        return;
      }
      tender = { type: 'cash', amount: total, tendered: given };
      change = given - total;
    } else {
      tender = { type: 'card', amount: total, ...simulatedCardRead() };
    }
    setBusy(true);
    setProblem(null);
    try {
      const op = await till.recordSale({ lines, tenders: [tender] });
      const decision = op.decision?.mode === 'local' ? approvedWords(status.policy) : null;
      setDone({ id: op.id, seq: op.seq, state: op.state, total, change, currency, decision });
      setLines([]);
      setTendered('');
    } catch (error) {
      const e = error as { code?: unknown; rule?: unknown };
      if (e?.code === 'needs_online' && tender.type === 'card' && status.connectivity === 'online') {
        // The server answered the last exchange: the card processor decides, through it (what must be real-time
        // waits visibly). Offline, degraded or not yet connected: refused in words, as before, never guessed.
        await askOnline(tender);
      } else {
        setProblem(
          e?.code === 'needs_online'
            ? refusedWords(typeof e.rule === 'string' ? e.rule : undefined, status.policy)
            : errorWords(error),
        );
      }
    } finally {
      setBusy(false);
    }
  };

  const askOnline = async (tender: Tender) => {
    const w = onlineWords();
    setAsking(w.asking(money(total)));
    try {
      const outcome = await till.recordSaleOnline({ lines, tenders: [tender] });
      switch (outcome.state) {
        case 'approved':
          setDone({
            id: outcome.opId,
            seq: outcome.receipt.seq,
            state: 'pending',
            total,
            change: 0,
            currency,
            decision: w.approved,
            decidedBy: 'online',
          });
          setLines([]);
          break;
        case 'declined':
          setProblem(w.declined(money(total)));
          break;
        case 'refused':
          setProblem(`${w.refused} ${outcome.message}`);
          break;
        case 'pending_confirmation':
          // Not recorded and not failed: listed below as waiting for the server, asked again with the same op id.
          setLines([]);
          break;
      }
    } catch (error) {
      setProblem(errorWords(error));
    } finally {
      setAsking(null);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
      if (typing && e.key !== 'Enter') return;
      if (!typing && /^[1-8]$/.test(e.key)) {
        const item = items[Number(e.key) - 1];
        if (item) add(item.sku, item.name, item.price);
      } else if (!typing && e.key === 'Backspace') {
        setLines((ls) => ls.slice(0, -1));
      } else if (!typing && (e.key === 'k' || e.key === 'K')) {
        void pay('card');
      } else if (!typing && (e.key === 'w' || e.key === 'W')) {
        void pay('wristband');
      } else if (!typing && e.key === 'Enter') {
        void pay('cash');
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  if (!shift) {
    return (
      <div class="problem" data-no-shift>
        No shift is open on this till. Open one in Shift (F4).
      </div>
    );
  }
  return (
    <div class="sell">
      <section class="keys">
        {items === QUICK_ITEMS ? null : (
          <CatalogSearch items={items} money={money} onAdd={(item) => add(item.sku, item.name, item.price)} />
        )}
        {(allKeys || items.length <= KEYS_SHOWN ? items : items.slice(0, KEYS_SHOWN)).map((item, i) => (
          <button
            type="button"
            key={item.sku}
            class="key"
            data-quick={item.sku}
            data-catalog={items === QUICK_ITEMS ? undefined : catalog?.version}
            onClick={() => add(item.sku, item.name, item.price)}
          >
            {i < 8 ? <kbd>{i + 1}</kbd> : <span />}
            <span>{item.name}</span>
            <span class="price">{money(item.price)}</span>
          </button>
        ))}
        {!allKeys && items.length > KEYS_SHOWN ? (
          <button type="button" class="secondary more-keys" data-more-keys onClick={() => setAllKeys(true)}>
            {items.length - KEYS_SHOWN} more items: find them above (/), or show every key
          </button>
        ) : null}
        <form class="typed" onSubmit={addTyped}>
          <input
            name="amount"
            inputMode="decimal"
            placeholder={`Amount (${currency})`}
            value={amountText}
            onInput={(e) => setAmountText((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="secondary">
            Add
          </button>
        </form>
      </section>
      <section class="cart">
        <table data-table="cart">
          <tbody>
            {lines.map((l, i) => (
              <tr key={`${l.sku}-${l.unitPrice}`}>
                <td>
                  {l.qty} × {l.name}
                </td>
                <td class="num">{money(l.qty * l.unitPrice)}</td>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-label={`remove ${l.name}`}
                    onClick={() => setLines((ls) => ls.filter((_, j) => j !== i))}
                  >
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="total" data-total={total}>
          Total <strong>{money(total)}</strong>
        </div>
        <label>
          Cash given (empty: exact)
          <input
            name="tendered"
            inputMode="decimal"
            value={tendered}
            onInput={(e) => setTendered((e.target as HTMLInputElement).value)}
          />
        </label>
        <div class="pay">
          <button
            type="button"
            class="big"
            data-pay="cash"
            disabled={lines.length === 0 || busy}
            onClick={() => void pay('cash')}
          >
            Cash <kbd>Enter</kbd>
          </button>
          <button
            type="button"
            class="big"
            data-pay="card"
            disabled={lines.length === 0 || busy}
            onClick={() => void pay('card')}
          >
            Card (reader) <kbd>K</kbd>
          </button>
          <button
            type="button"
            class="big"
            data-pay="wristband"
            disabled={lines.length === 0 || busy}
            onClick={() => void pay('wristband')}
          >
            Wristband <kbd>W</kbd>
          </button>
        </div>
        <div class="policy-line" data-policy={status.policy?.ref ?? 'none'}>
          {policyLine(status.policy)}
        </div>
        {asking ? (
          <div class="policy-line" role="status" data-asking-processor>
            {asking}
          </div>
        ) : null}
        <WaitingForServer till={till} status={status} />
        {problem ? (
          <div class="problem" role="alert" data-sale-error>
            {problem}
          </div>
        ) : null}
        {done ? (
          <div class="done" role="status" data-sale-done={done.id}>
            <div>
              Sale #{done.seq} recorded on this till — {money(done.total)}.{' '}
              <span class={`badge ${done.state}`}>{STATE_WORDS[done.state]}</span>
            </div>
            {done.change > 0 ? <div class="change">Change: {money(done.change)}</div> : null}
            {done.wristband?.written ? (
              <div data-wristband-left={done.wristband.balance}>
                {wristbandWords('balance_left', money(done.wristband.balance))}
              </div>
            ) : null}
            {done.wristband && !done.wristband.written ? (
              <div class="problem" data-wristband-unfinished>
                {wristbandWords('tap_again')}
              </div>
            ) : null}
            {done.decision ? (
              <div class="decision" data-decision={done.decidedBy ?? 'local'}>
                {done.decision}
              </div>
            ) : null}
            <button
              type="button"
              class="secondary"
              data-print={done.id}
              onClick={() => onReceipt({ id: done.id, copy: false })}
            >
              Print receipt
            </button>
          </div>
        ) : null}
      </section>
      <WristbandReaderPanel till={till} currency={currency} reader={reader} onReader={setReader} refresh={chipsRead} />
    </div>
  );
}
