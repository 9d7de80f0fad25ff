/**
 * Reports (docs/reports.md): sales by item, day, location or lane; the
 * outages and their delta per lane; the journal's sums per account by day
 * or shift. Each table exports its rows as CSV (money formatted on screen,
 * minor units in the CSV only); the server's own CSV of each report is a
 * download link beside it.
 */
import { useState } from 'preact/hooks';
import { formatMoney } from '../shared/money.js';
import { type Column, Table } from '../shared/table.js';
import { usePoll } from './hooks.js';

interface SalesRow {
  key: string;
  label: string;
  currency: string;
  sales: number;
  qty: number;
  gross: number;
  tax: number;
  untaxed: number;
  corrections: number;
  returned: number;
  returnedTax: number;
  net: number;
  netTax: number;
}

interface OutageLane {
  device: string;
  lane: string;
  location: string | null;
  offlineFrom: number;
  syncedAt: number;
  opsQueued: number;
  revenue: {
    currency: string;
    sales: number;
    gross: number;
    returned: number;
    staleSales: number;
    staleDifference: number;
  }[];
  stalePriceSales: number;
  stockShortfalls: number;
}

interface Outage {
  id: string;
  start: number;
  end: number;
  lanes: OutageLane[];
}

interface JournalGroup {
  key: string;
  currency: string;
  entries: number;
  amount: number;
  accounts: { account: string; name: string; debit: number; credit: number }[];
}

const DAY_MS = 86_400_000;
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function Reports() {
  const locale = navigator.language;
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const [from, setFrom] = useState(dayText(today - 6 * DAY_MS));
  const [to, setTo] = useState(dayText(today + DAY_MS));
  const [by, setBy] = useState('item');
  const [journalBy, setJournalBy] = useState('day');
  const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const sales = usePoll<{ rows: SalesRow[] }>(`/v1/admin/reports/sales?by=${by}&${range}`, 60_000);
  const outages = usePoll<{ outages: Outage[] }>(`/v1/admin/reports/outages?${range}`, 60_000);
  const journal = usePoll<{ groups: JournalGroup[] }>(`/v1/admin/reports/accounting?by=${journalBy}&${range}`, 60_000);
  const m = (amount: number, currency: string) => formatMoney(amount, currency, locale);
  const salesColumns: Column<SalesRow>[] = [
    {
      header: by === 'item' ? 'SKU' : by === 'lane' ? 'Lane' : by === 'day' ? 'Day' : 'Location',
      value: (r) => (by === 'lane' ? r.label : r.key || '(unplaced)'),
    },
    ...(by === 'item' ? [{ header: 'Item', value: (r: SalesRow) => r.label }] : []),
    { header: 'Currency', value: (r) => r.currency },
    { header: 'Sales', value: (r) => r.sales, className: 'num' },
    { header: 'Qty', value: (r) => r.qty, className: 'num' },
    { header: 'Gross', value: (r) => m(r.gross, r.currency), className: 'num' },
    { header: 'Tax', value: (r) => m(r.tax, r.currency), className: 'num' },
    { header: 'Returned', value: (r) => m(r.returned, r.currency), className: 'num' },
    { header: 'Net', value: (r) => m(r.net, r.currency), className: 'num' },
    { header: 'Net tax', value: (r) => m(r.netTax, r.currency), className: 'num' },
    { header: 'Gross (minor units)', value: (r) => r.gross, csvOnly: true },
    { header: 'Tax (minor units)', value: (r) => r.tax, csvOnly: true },
    { header: 'Untaxed (minor units)', value: (r) => r.untaxed, csvOnly: true },
    { header: 'Returned (minor units)', value: (r) => r.returned, csvOnly: true },
    { header: 'Net (minor units)', value: (r) => r.net, csvOnly: true },
    { header: 'Net tax (minor units)', value: (r) => r.netTax, csvOnly: true },
  ];
  const laneRows = (outages.data?.outages ?? []).flatMap((o) => o.lanes.map((l) => ({ o, l })));
  const journalRows = (journal.data?.groups ?? []).flatMap((g) => g.accounts.map((t) => ({ g, t })));
  const picker = (label: string, value: string, set: (v: string) => void, options: string[]) => (
    <label>
      {label}{' '}
      <select name={label} value={value} onChange={(e) => set((e.currentTarget as HTMLSelectElement).value)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
  const dateInput = (label: string, value: string, set: (v: string) => void) => (
    <label>
      {label}{' '}
      <input
        type="date"
        name={label}
        value={value}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLInputElement).value;
          if (/^\d{4}-\d{2}-\d{2}$/.test(v)) set(v);
        }}
      />
    </label>
  );
  const serverCsv = (path: string) => (
    <a href={`/v1/admin/reports/${path}&format=csv`} download data-server-csv={path.split('?')[0]}>
      Server CSV
    </a>
  );
  return (
    <section>
      <h2>Reports</h2>
      <p>
        {dateInput('From', from, setFrom)} {dateInput('To (exclusive)', to, setTo)} — device time, UTC days.
      </p>
      <h3>Sales</h3>
      <p>
        {picker('By', by, setBy, ['item', 'day', 'location', 'lane'])} {serverCsv(`sales?by=${by}&${range}`)}
      </p>
      {sales.error ? <p class="error">{sales.error}</p> : null}
      <Table
        name={`sales-by-${by}`}
        columns={salesColumns}
        rows={sales.data?.rows ?? []}
        rowKey={(r) => `${r.key}|${r.currency}`}
      />
      <h3>Outages</h3>
      <p>{serverCsv(`outages?${range}`)}</p>
      {outages.error ? <p class="error">{outages.error}</p> : null}
      <Table
        name="outages"
        columns={[
          { header: 'Outage start', value: ({ o }) => new Date(o.start).toISOString() },
          { header: 'Lane', value: ({ l }) => l.lane },
          { header: 'Location', value: ({ l }) => l.location ?? '(unplaced)' },
          { header: 'Ops queued', value: ({ l }) => l.opsQueued, className: 'num' },
          {
            header: 'Revenue',
            value: ({ l }) => l.revenue.map((r) => m(r.gross, r.currency)).join(' + '),
            className: 'num',
          },
          { header: 'Stale-price sales', value: ({ l }) => l.stalePriceSales, className: 'num' },
          {
            // Per currency: differences in two currencies are never added together.
            header: 'Stale-price difference',
            value: ({ l }) =>
              l.revenue
                .filter((r) => r.staleSales > 0)
                .map((r) => m(r.staleDifference, r.currency))
                .join(' + '),
            className: 'num',
          },
          {
            header: 'Stale-price difference (minor units)',
            value: ({ l }) =>
              l.revenue
                .filter((r) => r.staleSales > 0)
                .map((r) => `${r.staleDifference} ${r.currency}`)
                .join(' + '),
            csvOnly: true,
          },
          { header: 'Stock shortfalls', value: ({ l }) => l.stockShortfalls, className: 'num' },
        ]}
        rows={laneRows}
        rowKey={({ o, l }) => `${o.id}|${l.device}`}
        empty="No outages in this range."
      />
      <h3>Journal</h3>
      <p>
        {picker('Journal by', journalBy, setJournalBy, ['day', 'shift'])}{' '}
        {serverCsv(`accounting?by=${journalBy}&${range}`)}
      </p>
      {journal.error ? <p class="error">{journal.error}</p> : null}
      <Table
        name={`journal-by-${journalBy}`}
        columns={[
          { header: journalBy === 'day' ? 'Day' : 'Shift', value: ({ g }) => g.key },
          { header: 'Currency', value: ({ g }) => g.currency },
          { header: 'Account', value: ({ t }) => `${t.account} ${t.name}` },
          { header: 'Debit', value: ({ g, t }) => m(t.debit, g.currency), className: 'num' },
          { header: 'Credit', value: ({ g, t }) => m(t.credit, g.currency), className: 'num' },
          { header: 'Debit (minor units)', value: ({ t }) => t.debit, csvOnly: true },
          { header: 'Credit (minor units)', value: ({ t }) => t.credit, csvOnly: true },
        ]}
        rows={journalRows}
        rowKey={({ g, t }) => `${g.key}|${g.currency}|${t.account}`}
      />
    </section>
  );
}
