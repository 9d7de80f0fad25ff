/**
 * Money at risk: offline card exposure per placement (steady bound and
 * worst case from the issued policies, against the unsettled offline
 * payments actually held), the forwarding deadlines of the payments not yet
 * forwarded (most urgent first), post-authorization declines and the
 * decline-rate report, and wristband wallets. (The forwarding backlog's
 * chart is on the Live page.)
 */
import { formatMoney } from '../shared/money.js';
import { type Column, Table } from '../shared/table.js';
import { age, when } from '../shared/time.js';
import { useServerNow } from './fleet.js';
import { usePoll } from './hooks.js';
import type { ExceptionView, ExposureAnswer, ExposureGroup, Page } from './types.js';

interface DeclineRow {
  day: string;
  merchant: string | null;
  location: string | null;
  currency: string;
  forwardedCount: number;
  forwardedAmount: number;
  declinedCount: number;
  declinedAmount: number;
  declineRate: number;
}

/** GET /v1/admin/forwarding/deadlines: one card payment approved offline, not yet forwarded. */
interface DeadlineRow {
  opId: string;
  tenderIndex: number;
  device: string;
  deviceLabel: string;
  seq: number;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  approvedAt: number;
  deadlineAt: number;
  stage: 'warning' | 'missed' | null;
  attempts: number;
  lastError: string | null;
}

/** A span for deadlines: hours and minutes up to a week (a deadline is a few days), days beyond. */
function span(ms: number): string {
  if (ms < 3_600_000 || ms >= 7 * 86_400_000) return age(ms);
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}

/** Time left before a deadline, or how long ago it was missed. */
export function timeLeft(deadlineAt: number, now: number): string {
  return deadlineAt > now ? `${span(deadlineAt - now)} left` : `missed ${span(now - deadlineAt)} ago`;
}

interface Wallet {
  wristband: string;
  currency: string;
  balance: number;
  toppedUp: number;
  debited: number;
  merchant: string | null;
  blocked: { reason?: string } | null;
  updatedAt: number;
}

const place = (g: { merchant: string | null; location: string | null; event: string | null }) =>
  [g.merchant ?? 'not placed', g.location, g.event].filter((x) => x !== null).join(' / ');

export function heldFor(answer: ExposureAnswer, g: ExposureGroup): number {
  return answer.actual
    .filter(
      (a) => a.currency === g.currency && a.merchant === g.merchant && a.location === g.location && a.event === g.event,
    )
    .reduce((sum, a) => sum + a.amount, 0);
}

export function Risk() {
  const locale = navigator.language;
  const exposure = usePoll<ExposureAnswer>('/v1/admin/exposure', 10_000);
  const declines = usePoll<{ rows: DeclineRow[] }>('/v1/admin/reports/declines', 30_000);
  const decl = usePoll<Page<ExceptionView>>(
    `/v1/admin/exceptions?type=post_auth_decline&limit=1000&lang=${encodeURIComponent(locale)}`,
    10_000,
  );
  const wallets = usePoll<{ wallets: Wallet[] }>('/v1/admin/wallets?limit=1000', 30_000);
  const deadlines = usePoll<{ deadlineHours: number; items: DeadlineRow[] }>(
    '/v1/admin/forwarding/deadlines?limit=1000',
    10_000,
  );
  const { now } = useServerNow();
  const deadlineColumns: Column<DeadlineRow>[] = [
    {
      header: 'Deadline',
      value: (r) => new Date(r.deadlineAt).toISOString(),
      render: (r) => when(r.deadlineAt),
    },
    {
      header: 'Time left',
      value: (r) => (now === null ? '' : timeLeft(r.deadlineAt, now)),
      render: (r) =>
        now === null ? '' : <span class={r.deadlineAt <= now ? 'bad' : ''}>{timeLeft(r.deadlineAt, now)}</span>,
    },
    { header: 'Amount', value: (r) => formatMoney(r.amount, r.currency, locale), className: 'num' },
    { header: 'Card', value: (r) => `${r.brand} ****${r.last4}` },
    {
      header: 'Device',
      value: (r) => r.deviceLabel,
      render: (r) => <a href={`#/device/${r.device}`}>{r.deviceLabel}</a>,
    },
    { header: 'Approved', value: (r) => new Date(r.approvedAt).toISOString(), render: (r) => when(r.approvedAt) },
    { header: 'Reported', value: (r) => r.stage ?? '' },
    {
      header: 'Forwarding attempts',
      value: (r) => (r.attempts === 0 ? '0' : `${r.attempts}: ${r.lastError ?? ''}`),
    },
    { header: 'Op', value: (r) => `${r.opId}#${r.tenderIndex}`, csvOnly: true },
    { header: 'Amount (minor units)', value: (r) => r.amount, csvOnly: true },
    { header: 'Currency', value: (r) => r.currency, csvOnly: true },
  ];
  const e = exposure.data;
  const boundColumns: Column<ExposureGroup>[] = [
    { header: 'Placement', value: place },
    { header: 'Currency', value: (g) => g.currency },
    { header: 'Devices', value: (g) => g.devices, className: 'num' },
    { header: 'Steady bound', value: (g) => formatMoney(g.maxAmount, g.currency, locale), className: 'num' },
    { header: 'Worst case', value: (g) => formatMoney(g.worstAmount, g.currency, locale), className: 'num' },
    { header: 'Held now', value: (g) => (e ? formatMoney(heldFor(e, g), g.currency, locale) : ''), className: 'num' },
    { header: 'Bound (minor units)', value: (g) => g.maxAmount, csvOnly: true },
    { header: 'Worst (minor units)', value: (g) => g.worstAmount, csvOnly: true },
  ];
  return (
    <section>
      <h2>Money at risk</h2>
      {exposure.error ? <p class="error">{exposure.error}</p> : null}
      {e ? (
        <>
          <h3>Offline card exposure at {when(e.at)}</h3>
          <Table name="exposure" columns={boundColumns} rows={e.bound} rowKey={(g) => `${g.currency}|${place(g)}`} />
          <h4>Held: unsettled offline-approved payments</h4>
          <Table
            name="exposure-held"
            columns={[
              { header: 'Placement', value: place },
              { header: 'Payments', value: (a) => a.count, className: 'num' },
              { header: 'Amount', value: (a) => formatMoney(a.amount, a.currency, locale), className: 'num' },
            ]}
            rows={e.actual}
            rowKey={(a) => `${a.currency}|${place(a)}`}
          />
          <p>
            Devices with no policy in force (approve nothing offline): {e.uncovered.length}; never placed:{' '}
            {e.unplaced.length}.
          </p>
        </>
      ) : null}
      <h3>Forwarding deadlines</h3>
      <p>
        Card payments approved offline and not yet forwarded to the processor, most urgent first (deadline:{' '}
        {deadlines.data ? `${deadlines.data.deadlineHours} h` : '…'} after the tap, or after the server received it if
        earlier).
      </p>
      {deadlines.error ? <p class="error">{deadlines.error}</p> : null}
      <Table
        name="forwarding-deadlines"
        columns={deadlineColumns}
        rows={deadlines.data?.items ?? []}
        rowKey={(r) => `${r.opId}#${r.tenderIndex}`}
        empty="Every card payment approved offline has been forwarded."
      />
      <h3>Post-authorization declines</h3>
      <Table
        name="declines"
        columns={[
          { header: 'Raised', value: (x) => new Date(x.raisedAt).toISOString(), render: (x) => when(x.raisedAt) },
          { header: 'What happened', value: (x) => x.display.text },
          { header: 'Status', value: (x) => x.status },
        ]}
        rows={decl.data?.items ?? []}
        rowKey={(x) => x.id}
      />
      <h3>Decline rate</h3>
      <Table
        name="decline-rate"
        columns={[
          { header: 'Day', value: (r) => r.day },
          {
            header: 'Placement',
            value: (r) => [r.merchant ?? 'not placed', r.location].filter((x) => x !== null).join(' / '),
          },
          {
            header: 'Forwarded',
            value: (r) => `${r.forwardedCount} (${formatMoney(r.forwardedAmount, r.currency, locale)})`,
          },
          {
            header: 'Declined',
            value: (r) => `${r.declinedCount} (${formatMoney(r.declinedAmount, r.currency, locale)})`,
          },
          { header: 'Rate', value: (r) => `${(r.declineRate * 100).toFixed(1)} %`, className: 'num' },
        ]}
        rows={declines.data?.rows ?? []}
        rowKey={(r) => `${r.day}|${r.merchant}|${r.location}|${r.currency}`}
      />
      <h3>Wristband wallets</h3>
      <Table
        name="wallets"
        columns={[
          { header: 'Wristband', value: (w) => w.wristband },
          { header: 'Balance', value: (w) => formatMoney(w.balance, w.currency, locale), className: 'num' },
          { header: 'Topped up', value: (w) => formatMoney(w.toppedUp, w.currency, locale), className: 'num' },
          { header: 'Spent', value: (w) => formatMoney(w.debited, w.currency, locale), className: 'num' },
          {
            header: 'Blocked',
            value: (w) => (w.blocked ? `yes${w.blocked.reason ? `: ${w.blocked.reason}` : ''}` : 'no'),
          },
          { header: 'Updated', value: (w) => new Date(w.updatedAt).toISOString(), render: (w) => when(w.updatedAt) },
        ]}
        rows={wallets.data?.wallets ?? []}
        rowKey={(w) => w.wristband}
      />
    </section>
  );
}
