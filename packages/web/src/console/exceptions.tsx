/**
 * The exceptions inbox: counts by type, filters, each exception in words
 * (the server's localized `display`, money through formatMoney), its
 * details, its actions so far, and the governed actions it allows — shown
 * only to a role with `exceptions.act`; the server records the actor.
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../shared/api.js';
import { formatMoney, parseMoneyInput } from '../shared/money.js';
import { type Column, Table } from '../shared/table.js';
import { when } from '../shared/time.js';
import { usePoll } from './hooks.js';
import type { Session } from './session.js';
import type { AuditRow, ExceptionView, Page } from './types.js';

/** Exceptions resolved by accounting for their money (server: exceptions/exception-actions.ts). */
const MONEY_TYPES = ['post_auth_decline', 'payment_refused'];

export function actionsFor(x: ExceptionView): string[] {
  if (x.status === 'resolved') return [];
  // A stock shortfall is resolved by a decision (docs/catalog-and-stock.md), never by an acknowledgement.
  if (x.type === 'stock_shortfall') return ['contacted', 'backordered', 'substituted', 'refunded', 'written_off'];
  return MONEY_TYPES.includes(x.type) ? ['contacted', 'written_off', 'recovered'] : ['contacted', 'acknowledged'];
}

const ACTION_WORDS: Record<string, string> = {
  contacted: 'Contacted (keeps it open)',
  acknowledged: 'Acknowledge (resolves)',
  written_off: 'Write off',
  recovered: 'Recovered',
  backordered: 'Backordered (resolves)',
  substituted: 'Substituted (resolves)',
  refunded: 'Refunded (resolves)',
};

/** What is still to be accounted for of a money exception, or null. */
export function outstanding(x: ExceptionView): { amount: number; currency: string } | null {
  const amount = x.detail.amount;
  const currency = x.detail.currency;
  if (!MONEY_TYPES.includes(x.type) || typeof amount !== 'number' || typeof currency !== 'string') return null;
  const settled = x.actions.reduce((a, act) => a + (act.amount ?? 0), 0);
  return { amount: amount - settled, currency };
}

/** Detail fields that hold money in minor units of the exception's `currency`: shown only through formatMoney. */
const MONEY_DETAIL_KEYS = new Set([
  'amount',
  'total',
  'saleTotal',
  'refundedBefore',
  'variance',
  'expected',
  'counted',
  'expectedCash',
  'countedCash',
  'cashIn',
  'cashOut',
  'difference',
  'stake',
  'payout',
  'outstanding',
  'overspend',
  'balance',
  'balanceBefore',
  'balanceAfter',
]);

/** What the typed amount will be recorded as, formatted (or why it cannot be), so nobody writes off 100× too much. */
function amountPreview(text: string, owed: { amount: number; currency: string }, locale: string): string {
  if (text.trim() === '') return '';
  try {
    const n = parseMoneyInput(text, owed.currency);
    if (n > owed.amount) return `more than the ${formatMoney(owed.amount, owed.currency, locale)} outstanding`;
    return `= ${formatMoney(n, owed.currency, locale)}`;
  } catch (error) {
    return (error as Error).message;
  }
}

function detailText(key: string, value: unknown, currency: unknown, locale: string): string {
  if (value === null || value === undefined) return '—';
  if (MONEY_DETAIL_KEYS.has(key) && typeof currency === 'string' && Number.isSafeInteger(value)) {
    return formatMoney(value as number, currency, locale);
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function ExceptionDetail(props: { x: ExceptionView; session: Session; onDone: (updated: ExceptionView) => void }) {
  const { x, session } = props;
  const locale = navigator.language;
  const allowed = actionsFor(x);
  const [action, setAction] = useState(allowed[0] ?? '');
  const [note, setNote] = useState('');
  const [amount, setAmount] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  const audit = usePoll<{ items: AuditRow[] }>(
    session.may('audit.read') ? `/v1/admin/audit?target=${encodeURIComponent(x.id)}&limit=100` : null,
  );
  const owed = outstanding(x);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { action, note };
    if (amount.trim() !== '' && owed) {
      let n: number;
      try {
        n = parseMoneyInput(amount, owed.currency);
      } catch (error) {
        setOutcome(`amount: ${(error as Error).message}`);
        return;
      }
      if (n < 1 || n > owed.amount) {
        setOutcome(
          `amount: from the currency’s smallest unit to the ${formatMoney(owed.amount, owed.currency, locale)} outstanding`,
        );
        return;
      }
      body.amount = n;
    }
    try {
      const updated = await api<ExceptionView>(
        'POST',
        `/v1/admin/exceptions/${encodeURIComponent(x.id)}/actions`,
        body,
      );
      setOutcome(`Recorded: ${action}.`);
      setNote('');
      setAmount('');
      props.onDone(updated);
      audit.reload();
    } catch (error) {
      setOutcome(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
    }
  };
  return (
    <div class="detail" data-exception={x.id}>
      <h3>{x.display.title}</h3>
      <p class="words" data-words>
        {x.display.text}
      </p>
      {owed ? (
        <p>
          Outstanding: <b data-outstanding>{formatMoney(owed.amount, owed.currency, locale)}</b>
        </p>
      ) : null}
      <dl class="facts">
        <dt>Device</dt>
        <dd>
          <a href={`#/device/${x.device}`}>{x.device}</a>
        </dd>
        <dt>Op</dt>
        <dd>{x.opId ?? '—'}</dd>
        <dt>Raised</dt>
        <dd>{when(x.raisedAt)}</dd>
        {Object.entries(x.detail).map(([k, v]) => [
          <dt key={`k${k}`}>{k}</dt>,
          <dd key={`v${k}`}>{detailText(k, v, x.detail.currency, locale)}</dd>,
        ])}
      </dl>
      <h4>Actions taken</h4>
      {x.actions.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ul data-actions>
          {x.actions.map((a) => (
            <li key={a.id}>
              {when(a.at)} — <b>{a.action}</b> by {a.by}
              {a.amount !== null && a.currency !== null ? ` (${formatMoney(a.amount, a.currency, locale)})` : ''}:{' '}
              {a.note}
            </li>
          ))}
        </ul>
      )}
      {session.may('exceptions.act') && allowed.length > 0 ? (
        <form onSubmit={submit} data-form="exception-action">
          <label>
            Action{' '}
            <select
              name="action"
              value={action}
              onChange={(e) => setAction((e.currentTarget as HTMLSelectElement).value)}
            >
              {allowed.map((a) => (
                <option key={a} value={a}>
                  {ACTION_WORDS[a] ?? a}
                </option>
              ))}
            </select>
          </label>
          {owed && (action === 'written_off' || action === 'recovered') ? (
            <label>
              Amount in {owed.currency} (empty: all outstanding){' '}
              <input
                name="amount"
                inputMode="decimal"
                value={amount}
                onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)}
              />{' '}
              <span data-amount-preview>{amountPreview(amount, owed, locale)}</span>
            </label>
          ) : null}
          <label>
            Note{' '}
            <input
              name="note"
              required
              maxLength={2000}
              value={note}
              onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit">Record</button>
        </form>
      ) : null}
      {outcome ? <p class="outcome">{outcome}</p> : null}
      {audit.data ? (
        <>
          <h4>Audit trail</h4>
          <ul data-audit>
            {audit.data.items.map((a) => (
              <li key={a.id}>
                {when(a.at)} — {a.action} by {a.actorName ?? a.actor} ({a.role ?? '—'}): {a.outcome}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

export function Exceptions(props: { session: Session }) {
  const [status, setStatus] = useState('open');
  const [type, setType] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  // The exception last acted on stays open even when the filter no longer lists it (e.g. just resolved).
  const [pinned, setPinned] = useState<ExceptionView | null>(null);
  const lang = encodeURIComponent(navigator.language);
  const list = usePoll<Page<ExceptionView>>(
    `/v1/admin/exceptions?limit=1000&lang=${lang}${status ? `&status=${status}` : ''}`,
    5_000,
  );
  if (list.error && !list.data) return <p class="error">{list.error}</p>;
  if (!list.data) return <p>Loading exceptions…</p>;
  const items = list.data.items;
  const counts = new Map<string, { title: string; n: number }>();
  for (const x of items) {
    const c = counts.get(x.type) ?? { title: x.display.title, n: 0 };
    c.n += 1;
    counts.set(x.type, c);
  }
  const rows = items.filter((x) => type === '' || x.type === type);
  const chosen = rows.find((x) => x.id === selected) ?? (pinned?.id === selected ? pinned : null);
  const columns: Column<ExceptionView>[] = [
    { header: 'Raised', value: (x) => new Date(x.raisedAt).toISOString(), render: (x) => when(x.raisedAt) },
    {
      header: 'Severity',
      value: (x) => x.severity,
      render: (x) => <span class={`badge ${x.severity}`}>{x.severity}</span>,
    },
    {
      header: 'Type',
      value: (x) => x.display.title,
      render: (x) => (
        <button type="button" class="link" data-open={x.id} onClick={() => setSelected(x.id)}>
          {x.display.title}
        </button>
      ),
    },
    { header: 'What happened', value: (x) => x.display.text },
    { header: 'Count', value: (x) => x.count, className: 'num' },
    { header: 'Status', value: (x) => x.status },
  ];
  return (
    <section class="split">
      <div>
        <h2>Exceptions</h2>
        <div class="tiles">
          {[...counts.entries()].map(([t, c]) => (
            <button
              type="button"
              key={t}
              class={`tile ${type === t ? 'on' : ''}`}
              data-count={t}
              onClick={() => setType(type === t ? '' : t)}
            >
              <b>{c.n}</b> {c.title}
            </button>
          ))}
        </div>
        <div class="filters">
          <label>
            Status{' '}
            <select
              name="status"
              value={status}
              onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="open">open</option>
              <option value="resolved">resolved</option>
              <option value="">all</option>
            </select>
          </label>
        </div>
        <Table
          name="exceptions"
          columns={columns}
          rows={rows}
          rowKey={(x) => x.id}
          empty="No exceptions: nothing needs a decision."
        />
      </div>
      {chosen ? (
        <ExceptionDetail
          key={chosen.id}
          x={chosen}
          session={props.session}
          onDone={(updated) => {
            setPinned(updated);
            list.reload();
          }}
        />
      ) : null}
    </section>
  );
}
