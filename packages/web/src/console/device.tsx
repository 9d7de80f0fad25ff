/**
 * One device: its status and report, completeness, its recent ops and the
 * ones the server rejected, shifts, exceptions, and revoke (with a reason;
 * audited by the server).
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../shared/api.js';
import { formatMoney } from '../shared/money.js';
import { type Column, Table } from '../shared/table.js';
import { age, when } from '../shared/time.js';
import { DeviceOps } from './device-ops.js';
import { oldestPendingText, placementText, stateOf, useServerNow } from './fleet.js';
import { usePoll } from './hooks.js';
import type { Session } from './session.js';
import type { DeviceStatus, ExceptionView, Page, ShiftRecord } from './types.js';

export function shiftColumns(locale: string): Column<ShiftRecord>[] {
  const money = (n: number | null, c: string) => (n === null ? '' : formatMoney(n, c, locale));
  return [
    { header: 'Shift', value: (s) => s.id },
    {
      header: 'Device',
      value: (s) => s.device,
      render: (s) => <a href={`#/device/${s.device}`}>{s.device.slice(-12)}</a>,
    },
    { header: 'Clerk', value: (s) => s.clerk },
    { header: 'Status', value: (s) => s.status },
    { header: 'Opened', value: (s) => new Date(s.openedAt).toISOString(), render: (s) => when(s.openedAt) },
    { header: 'Sales', value: (s) => s.sales, className: 'num' },
    { header: 'Expected cash', value: (s) => money(s.expectedCash, s.currency), className: 'num' },
    { header: 'Counted cash', value: (s) => money(s.countedCash, s.currency), className: 'num' },
    {
      header: 'Variance',
      value: (s) => money(s.variance, s.currency),
      render: (s) => <span class={s.variance ? 'bad' : ''}>{money(s.variance, s.currency)}</span>,
      className: 'num',
    },
  ];
}

export function DevicePage(props: { id: string; session: Session }) {
  const status = usePoll<DeviceStatus>(`/v1/admin/devices/${encodeURIComponent(props.id)}`, 3_000);
  const shifts = usePoll<{ shifts: ShiftRecord[] }>(`/v1/admin/shifts?device=${encodeURIComponent(props.id)}`, 10_000);
  const exceptions = usePoll<Page<ExceptionView>>('/v1/admin/exceptions?limit=1000', 10_000);
  const { now } = useServerNow();
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  if (status.error && !status.data) return <p class="error">{status.error}</p>;
  const d = status.data;
  if (!d || now === null) return <p>Loading…</p>;
  const revoke = async (e: Event) => {
    e.preventDefault();
    try {
      await api('POST', `/v1/admin/devices/${encodeURIComponent(d.id)}/revoke`, { reason });
      setOutcome('Revoked.');
      setReason('');
      status.reload();
    } catch (error) {
      setOutcome(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
    }
  };
  const mine = (exceptions.data?.items ?? []).filter((x) => x.device === d.id);
  return (
    <section>
      <p>
        <a href="#/fleet">← Fleet</a>
      </p>
      <h2 data-device-label>{d.label}</h2>
      <dl class="facts">
        <dt>Id</dt>
        <dd>{d.id}</dd>
        <dt>State</dt>
        <dd>
          <span class={`badge ${stateOf(d, now)}`}>{stateOf(d, now)}</span>
        </dd>
        <dt>Last seen</dt>
        <dd>{d.lastSeenAt === null ? 'never' : `${when(d.lastSeenAt)} (${age(now - d.lastSeenAt)} ago)`}</dd>
        <dt>Placement</dt>
        <dd>{placementText(d)}</dd>
        <dt>Recorded vs applied</dt>
        <dd data-completeness>
          {d.gap
            ? `gap: the server is missing seq ${d.gap.from}–${d.gap.to} (device recorded ${d.latestSeq}, server holds ${d.highWater} without a hole)`
            : d.behind > 0
              ? `${d.behind} of ${d.latestSeq} ops not delivered yet`
              : `all ${d.highWater} ops of this device accounted for`}
        </dd>
        <dt>Oldest pending op</dt>
        <dd data-device-oldest-pending>
          {d.report?.pendingSince != null
            ? `recorded ${when(d.report.pendingSince)}, waiting ${oldestPendingText(d, now)}`
            : oldestPendingText(d, now)}
        </dd>
        <dt>Policy held</dt>
        <dd data-device-policy>{d.report === null ? 'not reported' : (d.report.policy ?? 'none')}</dd>
        <dt>App</dt>
        <dd data-device-app>{d.report === null ? 'not reported' : (d.report.app ?? '—')}</dd>
        <dt>Last report</dt>
        <dd>{d.report === null ? 'never (a terminal before reports)' : when(d.report.reportedAt)}</dd>
        <dt>Clock offset</dt>
        <dd>{d.clockOffsetMs === null ? '—' : `${Math.round(d.clockOffsetMs / 1000)} s`}</dd>
        <dt>Enrolled</dt>
        <dd>{when(d.enrolledAt)}</dd>
        <dt>Revoked</dt>
        <dd>{d.revokedAt === null ? 'no' : `${when(d.revokedAt)}: ${d.revokeReason ?? ''}`}</dd>
      </dl>
      {props.session.may('devices.revoke') && d.revokedAt === null ? (
        <form class="inline" onSubmit={revoke} data-form="revoke">
          <label>
            Reason{' '}
            <input
              required
              maxLength={500}
              value={reason}
              onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="danger">
            Revoke device
          </button>
        </form>
      ) : null}
      {outcome ? <p class="outcome">{outcome}</p> : null}
      <h3>Rejected ops</h3>
      <p>Ops the server stored as rejected (the terminal keeps them as dead letters): they changed nothing.</p>
      <DeviceOps device={d.id} rejectedOnly={true} />
      <h3>Recent ops</h3>
      <DeviceOps device={d.id} rejectedOnly={false} />
      <h3>Shifts</h3>
      <Table
        name={`shifts-${d.id}`}
        columns={shiftColumns(navigator.language)}
        rows={shifts.data?.shifts ?? []}
        rowKey={(s) => s.id}
      />
      <h3>Exceptions</h3>
      <Table
        name={`exceptions-${d.id}`}
        columns={[
          { header: 'Raised', value: (x) => new Date(x.raisedAt).toISOString(), render: (x) => when(x.raisedAt) },
          { header: 'Type', value: (x) => x.display.title },
          { header: 'What happened', value: (x) => x.display.text },
          { header: 'Status', value: (x) => x.status },
        ]}
        rows={mine}
        rowKey={(x) => x.id}
      />
    </section>
  );
}
