/** Reconciliation, enrollment, ledger search and the audit log. */

import { useState } from 'preact/hooks';
import qrcode from 'qrcode-generator';
import { ApiError, api } from '../shared/api.js';
import { type Column, Table } from '../shared/table.js';
import { when } from '../shared/time.js';
import { shiftColumns } from './device.js';
import { usePoll } from './hooks.js';
import type { AuditRow, CreateTokenResponse, DeviceStatus, Page, ShiftRecord } from './types.js';

export function Reconciliation() {
  const shifts = usePoll<{ shifts: ShiftRecord[] }>('/v1/admin/shifts', 10_000);
  const devices = usePoll<{ devices: DeviceStatus[] }>('/v1/admin/devices', 10_000);
  const columns: Column<DeviceStatus>[] = [
    { header: 'Device', value: (d) => d.label, render: (d) => <a href={`#/device/${d.id}`}>{d.label}</a> },
    { header: 'Recorded (device)', value: (d) => d.latestSeq, className: 'num' },
    { header: 'Applied (server, no gap)', value: (d) => d.highWater, className: 'num' },
    {
      header: 'Completeness',
      value: (d) =>
        d.gap
          ? `gap: seq ${d.gap.from}–${d.gap.to} missing`
          : d.behind > 0
            ? `${d.behind} ops pending`
            : `all ${d.highWater} ops accounted for`,
    },
  ];
  return (
    <section>
      <h2>Reconciliation</h2>
      <h3>Shifts: expected vs counted cash</h3>
      {shifts.error ? <p class="error">{shifts.error}</p> : null}
      <Table
        name="shifts"
        columns={shiftColumns(navigator.language)}
        rows={shifts.data?.shifts ?? []}
        rowKey={(s) => s.id}
      />
      <h3>Devices: recorded vs applied</h3>
      <Table name="completeness" columns={columns} rows={devices.data?.devices ?? []} rowKey={(d) => d.id} />
    </section>
  );
}

export function Enrollment() {
  const [label, setLabel] = useState('');
  const [merchant, setMerchant] = useState('');
  const [location, setLocation] = useState('');
  const [issued, setIssued] = useState<CreateTokenResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    if (label) body.label = label;
    if (merchant) body.merchant = merchant;
    if (location) body.location = location;
    try {
      setIssued(await api<CreateTokenResponse>('POST', '/v1/admin/enrollment-tokens', body));
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  let qr: string | null = null;
  if (issued) {
    const code = qrcode(0, 'M');
    code.addData(JSON.stringify({ server: window.location.origin, token: issued.token }));
    code.make();
    qr = code.createDataURL(6, 4);
  }
  const field = (name: string, value: string, set: (v: string) => void) => (
    <label>
      {name}{' '}
      <input
        name={name}
        value={value}
        onInput={(e) => set((e.currentTarget as HTMLInputElement).value)}
        maxLength={64}
      />
    </label>
  );
  return (
    <section>
      <h2>Enrollment</h2>
      <form onSubmit={submit} data-form="enroll">
        {field('label', label, setLabel)}
        {field('merchant', merchant, setMerchant)}
        {field('location', location, setLocation)}
        <button type="submit">Issue enrollment token</button>
      </form>
      {error ? <p class="error">{error}</p> : null}
      {issued && qr ? (
        <div class="enroll">
          <img src={qr} alt="Enrollment QR code for the till app" data-qr />
          <p>
            Token <code data-token>{issued.token}</code>, valid until {when(issued.expiresAt)}. The code holds this
            server's address and the token; it can be redeemed once.
          </p>
        </div>
      ) : null}
    </section>
  );
}

export function LedgerSearch() {
  const [kind, setKind] = useState('op');
  const [q, setQ] = useState('');
  const [found, setFound] = useState<unknown>(null);
  const [error, setError] = useState<string | null>(null);
  const search = async (e: Event) => {
    e.preventDefault();
    const v = q.trim();
    if (kind === 'device') {
      window.location.hash = `#/device/${encodeURIComponent(v)}`;
      return;
    }
    const path =
      kind === 'op' ? `/v1/admin/ops/${encodeURIComponent(v)}` : `/v1/admin/receipts/${encodeURIComponent(v)}`;
    try {
      setFound(await api('GET', path));
      setError(null);
    } catch (err) {
      setFound(null);
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  return (
    <section>
      <h2>Ledger search</h2>
      <form onSubmit={search} data-form="ledger">
        <select name="kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
          <option value="op">op id</option>
          <option value="receipt">receipt number</option>
          <option value="device">device id</option>
        </select>{' '}
        <input name="q" required value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      {error ? <p class="error">{error}</p> : null}
      {found !== null ? <pre data-found>{JSON.stringify(found, null, 2)}</pre> : null}
      <LedgerEvents />
    </section>
  );
}

interface LedgerEvent {
  pos: number;
  type: string;
  appliedAt?: number;
  device?: string;
  opId?: string;
  [key: string]: unknown;
}

/** A `datetime-local` value (the browser's time zone) as epoch ms, or null when empty or not a time. */
function localMs(value: string): number | null {
  if (value === '') return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

function LedgerEvents() {
  // The time range: when the server applied each event, from (inclusive) to (exclusive), in local time.
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query = new URLSearchParams({ limit: '200' });
  const fromMs = localMs(from);
  const toMs = localMs(to);
  if (fromMs !== null) query.set('from', String(fromMs));
  if (toMs !== null) query.set('to', String(toMs));
  const events = usePoll<Page<LedgerEvent>>(`/v1/admin/ledger?${query}`, 10_000);
  const rows = events.data?.items ?? [];
  const ranged = fromMs !== null || toMs !== null;
  return (
    <>
      <h3>Ledger: {ranged ? 'the first 200 events applied in the range' : 'first 200 events'}</h3>
      <p class="filters" data-form="ledger-range">
        <label>
          Applied from{' '}
          <input
            type="datetime-local"
            name="from"
            value={from}
            onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          to (before){' '}
          <input
            type="datetime-local"
            name="to"
            value={to}
            onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
      </p>
      {events.error ? <p class="error">{events.error}</p> : null}
      <Table
        name="ledger"
        columns={[
          { header: 'Pos', value: (r) => r.pos, className: 'num' },
          { header: 'Type', value: (r) => r.type },
          { header: 'Device', value: (r) => r.device ?? '' },
          { header: 'Op', value: (r) => r.opId ?? '' },
          {
            header: 'Applied',
            value: (r) => (typeof r.appliedAt === 'number' ? new Date(r.appliedAt).toISOString() : ''),
            render: (r) => (typeof r.appliedAt === 'number' ? when(r.appliedAt) : ''),
          },
        ]}
        rows={rows}
        rowKey={(r) => String(r.pos)}
      />
    </>
  );
}

export function Audit() {
  const log = usePoll<{ items: AuditRow[] }>('/v1/admin/audit?limit=1000', 10_000);
  if (log.error) return <p class="error">{log.error}</p>;
  return (
    <section>
      <h2>Audit log</h2>
      <Table
        name="audit"
        columns={[
          { header: 'At', value: (a) => new Date(a.at).toISOString(), render: (a) => when(a.at) },
          { header: 'Who', value: (a) => a.actorName ?? a.actor },
          { header: 'Role', value: (a) => a.role ?? '' },
          { header: 'Action', value: (a) => a.action },
          { header: 'Target', value: (a) => a.target ?? '' },
          { header: 'Outcome', value: (a) => a.outcome },
          { header: 'Detail', value: (a) => (a.detail ? JSON.stringify(a.detail) : '') },
        ]}
        rows={log.data?.items ?? []}
        rowKey={(a) => a.id}
      />
    </section>
  );
}
