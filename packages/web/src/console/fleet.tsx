/**
 * Fleet: every device, online or offline (by the server's clock: seen
 * within OFFLINE_AFTER_MS), what it has not delivered yet and how long the
 * oldest of it has waited, gaps, clock offset, the policy and software it
 * reported, placement, revoked; filters by merchant, location, zone (event)
 * and state. Refreshed every 2 s.
 */
import { useState } from 'preact/hooks';
import { type Column, Table } from '../shared/table.js';
import { age, when } from '../shared/time.js';
import { usePoll } from './hooks.js';
import type { DeviceStatus } from './types.js';

/** A device not heard from for this long is shown offline (terminals sync every few seconds when they can). */
export const OFFLINE_AFTER_MS = 30_000;

export type DeviceState = 'online' | 'offline' | 'never' | 'revoked';

export function stateOf(d: DeviceStatus, now: number): DeviceState {
  if (d.revokedAt !== null) return 'revoked';
  if (d.lastSeenAt === null) return 'never';
  return now - d.lastSeenAt <= OFFLINE_AFTER_MS ? 'online' : 'offline';
}

const STATE_WORDS: Record<DeviceState, string> = {
  online: 'online',
  offline: 'offline',
  never: 'never synced',
  revoked: 'revoked',
};

export function placementText(d: DeviceStatus): string {
  const p = d.placement;
  if (!p) return 'not placed';
  return [p.merchant, p.location, p.event].filter((x) => x !== null).join(' / ');
}

/**
 * How long the oldest op the device has not delivered has waited, by its
 * newest report: '—' when nothing waited, 'not reported' when the device
 * does not report (terminals before reports) though ops are pending.
 */
export function oldestPendingText(d: DeviceStatus, now: number): string {
  const since = d.report?.pendingSince ?? null;
  if (since !== null) return age(now - since);
  return d.report === null && d.behind > 0 ? 'not reported' : '—';
}

/** `v<version>` of a reported policy reference `<id>@<version>`, '—' for none, 'not reported' for no report. */
export function policyText(d: DeviceStatus): string {
  if (d.report === null) return 'not reported';
  const ref = d.report.policy;
  return ref === null ? 'none' : `v${ref.slice(ref.lastIndexOf('@') + 1)}`;
}

function completeness(d: DeviceStatus): string {
  if (d.gap) return `missing seq ${d.gap.from}–${d.gap.to}`;
  if (d.behind > 0) return `${d.behind} ops not delivered yet`;
  return `all ${d.highWater} ops accounted for`;
}

export function useServerNow(): { now: number | null; error: string | null } {
  const health = usePoll<{ time: number }>('/v1/health', 2_000);
  return { now: health.data ? health.data.time : null, error: health.error };
}

export function Fleet() {
  const devices = usePoll<{ devices: DeviceStatus[] }>('/v1/admin/devices', 2_000);
  const { now } = useServerNow();
  const [merchant, setMerchant] = useState('');
  const [location, setLocation] = useState('');
  const [zone, setZone] = useState('');
  const [state, setState] = useState('');
  const [text, setText] = useState('');
  if (devices.error && !devices.data) return <p class="error">{devices.error}</p>;
  if (!devices.data || now === null) return <p>Loading the fleet…</p>;
  const all = devices.data.devices;
  const values = (f: (d: DeviceStatus) => string | null | undefined) =>
    [...new Set(all.map(f).filter((x): x is string => typeof x === 'string'))].sort();
  const rows = all.filter(
    (d) =>
      (merchant === '' || d.placement?.merchant === merchant) &&
      (location === '' || d.placement?.location === location) &&
      (zone === '' || d.placement?.event === zone) &&
      (state === '' || stateOf(d, now) === state) &&
      (text === '' || d.label.toLowerCase().includes(text.toLowerCase()) || d.id.startsWith(text)),
  );
  const counts = { online: 0, offline: 0, never: 0, revoked: 0 };
  for (const d of all) counts[stateOf(d, now)]++;
  const pending = all.reduce((a, d) => a + d.behind, 0);
  const columns: Column<DeviceStatus>[] = [
    {
      header: 'Device',
      value: (d) => d.label,
      render: (d) => <a href={`#/device/${d.id}`}>{d.label}</a>,
    },
    {
      header: 'State',
      value: (d) => STATE_WORDS[stateOf(d, now)],
      render: (d) => <span class={`badge ${stateOf(d, now)}`}>{STATE_WORDS[stateOf(d, now)]}</span>,
    },
    {
      header: 'Last seen',
      value: (d) => (d.lastSeenAt === null ? '' : new Date(d.lastSeenAt).toISOString()),
      render: (d) => (d.lastSeenAt === null ? '—' : `${age(now - d.lastSeenAt)} ago`),
    },
    { header: 'Pending ops', value: (d) => d.behind, className: 'num' },
    {
      header: 'Oldest pending',
      value: (d) => oldestPendingText(d, now),
      render: (d) => <span data-oldest-pending>{oldestPendingText(d, now)}</span>,
    },
    { header: 'Completeness', value: completeness },
    {
      header: 'Clock offset',
      value: (d) => (d.clockOffsetMs === null ? '' : `${Math.round(d.clockOffsetMs / 1000)} s`),
    },
    { header: 'Policy', value: policyText },
    { header: 'Policy reference', value: (d) => d.report?.policy ?? '', csvOnly: true },
    { header: 'App', value: (d) => d.report?.app ?? (d.report === null ? 'not reported' : '—') },
    { header: 'Placement', value: placementText },
    { header: 'Conflicts / forks', value: (d) => `${d.conflicts} / ${d.forks}` },
    { header: 'Revoked', value: (d) => (d.revokedAt === null ? '' : `${when(d.revokedAt)}: ${d.revokeReason ?? ''}`) },
  ];
  const select = (label: string, value: string, set: (v: string) => void, options: string[]) => (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => set((e.currentTarget as HTMLSelectElement).value)} name={label}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section>
      <h2>Fleet</h2>
      <div class="tiles">
        <div class="tile" data-tile="online">
          <b>{counts.online}</b> online
        </div>
        <div class="tile" data-tile="offline">
          <b>{counts.offline}</b> offline
        </div>
        <div class="tile">
          <b>{counts.never}</b> never synced
        </div>
        <div class="tile">
          <b>{counts.revoked}</b> revoked
        </div>
        <div class="tile">
          <b>{pending}</b> ops pending
        </div>
      </div>
      <div class="filters">
        {select(
          'Merchant',
          merchant,
          setMerchant,
          values((d) => d.placement?.merchant),
        )}
        {select(
          'Location',
          location,
          setLocation,
          values((d) => d.placement?.location),
        )}
        {select(
          'Zone',
          zone,
          setZone,
          values((d) => d.placement?.event),
        )}
        {select('State', state, setState, ['online', 'offline', 'never', 'revoked'])}
        <label>
          Search{' '}
          <input
            value={text}
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
            placeholder="label or id"
          />
        </label>
      </div>
      {devices.error ? <p class="error">{devices.error} (showing the last answer)</p> : null}
      <Table name="fleet" columns={columns} rows={rows} rowKey={(d) => d.id} rowClass={(d) => stateOf(d, now)} />
    </section>
  );
}
