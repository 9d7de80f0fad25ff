/**
 * A device's ops as the server stored them, newest first, a page at a time
 * (GET /v1/admin/devices/:id/ops): every op, or only the ones the server
 * rejected (what the terminal keeps as dead letters), with the reason.
 */
import { useState } from 'preact/hooks';
import { type Column, Table } from '../shared/table.js';
import { when } from '../shared/time.js';
import { usePoll } from './hooks.js';
import type { Page } from './types.js';

/** An op as stored with its result (server StoredOp), the parts shown. */
export interface StoredOpRow {
  op: { id: string; seq: number; kind: string; at: number };
  result:
    | { status: 'accepted'; at: number }
    | { status: 'rejected'; reason: string; message: string; field?: string; at: number };
  receivedAt: number;
}

const PAGE = 25;

export function DeviceOps(props: { device: string; rejectedOnly: boolean }) {
  // The `before` cursor of each page shown so far: [null] is the newest page.
  const [cursors, setCursors] = useState<(number | null)[]>([null]);
  const before = cursors.at(-1) ?? null;
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (before !== null) query.set('before', String(before));
  if (props.rejectedOnly) query.set('status', 'rejected');
  const path = `/v1/admin/devices/${encodeURIComponent(props.device)}/ops?${query}`;
  const page = usePoll<Page<StoredOpRow>>(path, before === null ? 5_000 : 0);
  const name = props.rejectedOnly ? 'device-rejected' : 'device-ops';
  const columns: Column<StoredOpRow>[] = [
    { header: 'Seq', value: (s) => s.op.seq, className: 'num' },
    { header: 'Kind', value: (s) => s.op.kind },
    {
      header: 'Recorded (device clock)',
      value: (s) => new Date(s.op.at).toISOString(),
      render: (s) => when(s.op.at),
    },
    { header: 'Received', value: (s) => new Date(s.receivedAt).toISOString(), render: (s) => when(s.receivedAt) },
    { header: 'Result', value: (s) => s.result.status },
    {
      header: 'Why rejected',
      value: (s) =>
        s.result.status === 'rejected'
          ? `${s.result.reason}${s.result.field ? ` (${s.result.field})` : ''}: ${s.result.message}`
          : '',
    },
    { header: 'Op id', value: (s) => s.op.id, render: (s) => <code>{s.op.id}</code> },
  ];
  const rows = page.data?.items ?? [];
  const next = page.data?.next ?? null;
  return (
    <div data-device-ops={props.rejectedOnly ? 'rejected' : 'all'}>
      {page.error ? <p class="error">{page.error}</p> : null}
      <Table
        name={name}
        columns={columns}
        rows={rows}
        rowKey={(s) => s.op.id}
        rowClass={(s) => (s.result.status === 'rejected' ? 'rejected' : '')}
        empty={props.rejectedOnly ? 'The server rejected none of its ops.' : 'No op of this device is stored.'}
      />
      <p class="pager">
        <button
          type="button"
          class="secondary"
          data-page="newer"
          disabled={cursors.length === 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Newer
        </button>{' '}
        <button
          type="button"
          class="secondary"
          data-page="older"
          disabled={next === null}
          onClick={() => next !== null && setCursors((c) => [...c, next])}
        >
          Older
        </button>{' '}
        {rows.length > 0 ? `seq ${rows[0]?.op.seq} to ${rows.at(-1)?.op.seq}` : ''}
      </p>
    </div>
  );
}
