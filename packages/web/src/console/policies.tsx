/**
 * Policies: every risk policy issued, newest first, with its scope,
 * validity and limits, and which one is in force per scope now; below, the
 * editor for a new one (policy-editor.tsx: validated by the server, its
 * exposure bound previewed before it is issued).
 */
import { formatMoney } from '../shared/money.js';
import { type Column, Table } from '../shared/table.js';
import { when } from '../shared/time.js';
import { useServerNow } from './fleet.js';
import { usePoll } from './hooks.js';
import { PolicyEditor } from './policy-editor.js';
import type { Session } from './session.js';

interface Limits {
  floorLimit: number;
  instrument: { maxAmount: number; maxCount: number };
}

export interface PolicyRow {
  policy: {
    id: string;
    version: number;
    issuedAt: number;
    validFrom: number;
    expiresAt: number;
    scope: { merchant: string; location: string | null; event: string | null; devices: string[] | null };
    currency: string;
    offline: {
      maxOfflineMs: number;
      device: { maxAmount: number; maxCount: number };
      tenders: { card?: Limits; wristband?: Limits };
    };
  };
}

const scopeText = (p: PolicyRow['policy']) =>
  [p.scope.merchant, p.scope.location, p.scope.event].filter((x) => x !== null).join(' / ') +
  (p.scope.devices ? ` (${p.scope.devices.length} devices)` : '');

export function Policies(props: { session: Session }) {
  const list = usePoll<{ policies: PolicyRow[] }>('/v1/admin/policies', 30_000);
  const { now } = useServerNow();
  if (list.error) return <p class="error">{list.error}</p>;
  const rows = [...(list.data?.policies ?? [])].sort((a, b) => b.policy.issuedAt - a.policy.issuedAt);
  // The newest started, unexpired policy of each scope is the one in force there.
  const inForce = new Set<string>();
  const seen = new Set<string>();
  for (const { policy: p } of rows) {
    const key = `${scopeText(p)}|${p.currency}`;
    if (now !== null && !seen.has(key) && p.validFrom <= now && now < p.expiresAt) {
      seen.add(key);
      inForce.add(p.id);
    }
  }
  const locale = navigator.language;
  const money = (n: number | undefined, c: string) => (n === undefined ? '' : formatMoney(n, c, locale));
  const columns: Column<PolicyRow>[] = [
    { header: 'Scope', value: (r) => scopeText(r.policy) },
    { header: 'Version', value: (r) => r.policy.version, className: 'num' },
    { header: 'In force', value: (r) => (inForce.has(r.policy.id) ? 'yes' : 'no') },
    {
      header: 'Issued',
      value: (r) => new Date(r.policy.issuedAt).toISOString(),
      render: (r) => when(r.policy.issuedAt),
    },
    {
      header: 'Expires',
      value: (r) => new Date(r.policy.expiresAt).toISOString(),
      render: (r) => when(r.policy.expiresAt),
    },
    { header: 'Max offline', value: (r) => `${Math.round(r.policy.offline.maxOfflineMs / 60_000)} min` },
    {
      header: 'Per device',
      value: (r) =>
        `${money(r.policy.offline.device.maxAmount, r.policy.currency)} / ${r.policy.offline.device.maxCount} payments`,
    },
    { header: 'Card floor limit', value: (r) => money(r.policy.offline.tenders.card?.floorLimit, r.policy.currency) },
    {
      header: 'Wristband floor limit',
      value: (r) => money(r.policy.offline.tenders.wristband?.floorLimit, r.policy.currency),
    },
  ];
  return (
    <section>
      <h2>Policies</h2>
      <p>
        Risk policies issued, newest first (also <code>holdfast policy</code>, docs/risk-policy.md); the exposure each
        allows is on Money at risk.
      </p>
      <Table
        name="policies"
        columns={columns}
        rows={rows}
        rowKey={(r) => r.policy.id}
        empty="No policy issued: devices approve nothing offline."
      />
      {list.data && now !== null ? (
        <PolicyEditor session={props.session} policies={rows} now={now} onIssued={list.reload} />
      ) : null}
    </section>
  );
}
