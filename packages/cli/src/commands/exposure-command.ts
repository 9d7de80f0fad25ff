/**
 * `holdfast exposure`: asks a server for its offline exposure
 * (GET /v1/admin/exposure) and prints, per currency and placement, the
 * bound the risk policies allow next to what terminals hold approved
 * offline and not yet settled, with a warning where the second passes the
 * first (docs/risk-policy.md, docs/operations.md).
 */
import { formatMoney } from '@holdfast/protocol';
import type { ExposureAnswer } from '@holdfast/server';
import { stringFlag, UsageError } from '../args.js';
import { operatorGet, operatorSettings, operatorTarget } from './operator-request.js';

export const EXPOSURE_HELP = `holdfast exposure --server URL (--operator-token T | --operator-token-file F) [--at TIME] [--json]

Prints the worst-case offline exposure the issued risk policies allow, per
currency and placement (merchant / location / event), next to the offline
approvals terminals hold unsettled, and a WARNING line for every group whose
actual exposure is above its worst-case bound.
  --server URL              the Holdfast server, e.g. http://10.0.0.5:8080
  --operator-token T        operator bearer token
  --operator-token-file F   read it from F (e.g. DATA/operator-token)
  --at TIME                 the bound at TIME (epoch ms or ISO 8601, e.g. when
                            the gates open)                            default now
  --json                    print the server's answer as JSON instead
Exit 0 with the report (warnings included), 1 if the server refused or could not be reached.`;

const EPOCH_MIN = 946_684_800_000;
const EPOCH_MAX = 7_258_118_400_000;

/** `--at` as epoch ms: digits are ms, else an ISO 8601 time (Date.parse alone would take "-5" for a date in 2001). */
export function parseAt(raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < EPOCH_MIN || ms > EPOCH_MAX) {
    throw new UsageError(`--at must be epoch milliseconds or an ISO 8601 time (years 2000..2200), got "${raw}"`);
  }
  return ms;
}

/** One line of the report: a placement's bound and its actual exposure (either may be absent). */
export interface ExposureRow {
  currency: string;
  merchant: string | null;
  location: string | null;
  event: string | null;
  devices: number;
  /** Σ caps of the policies in force. */
  bound: { amount: number; count: number };
  /** Σ caps over every policy approvals may still be unsettled under. */
  worst: { amount: number; count: number };
  actual: { amount: number; count: number };
}

const order = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

/** The bound groups and the actual groups joined by currency and placement, in the server's order. */
export function exposureRows(answer: ExposureAnswer): ExposureRow[] {
  const rows = new Map<string, ExposureRow>();
  const row = (g: { currency: string; merchant: string | null; location: string | null; event: string | null }) => {
    const key = JSON.stringify([g.currency, g.merchant, g.location, g.event]);
    let r = rows.get(key);
    if (!r) {
      r = {
        currency: g.currency,
        merchant: g.merchant,
        location: g.location,
        event: g.event,
        devices: 0,
        bound: { amount: 0, count: 0 },
        worst: { amount: 0, count: 0 },
        actual: { amount: 0, count: 0 },
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const g of answer.bound) {
    const r = row(g);
    r.devices = g.devices;
    r.bound = { amount: g.maxAmount, count: g.maxCount };
    r.worst = { amount: g.worstAmount, count: g.worstCount };
  }
  for (const a of answer.actual) row(a).actual = { amount: a.amount, count: a.count };
  return [...rows.values()].sort(
    (a, b) =>
      order(a.currency, b.currency) ||
      order(a.merchant, b.merchant) ||
      order(a.location, b.location) ||
      order(a.event, b.event),
  );
}

const figure = (x: { amount: number; count: number }, currency: string) =>
  `${formatMoney(x.amount, currency)} / ${x.count}`;
const placementOf = (r: ExposureRow) =>
  r.merchant === null ? '(unplaced devices)' : `${r.merchant}/${r.location ?? '*'}/${r.event ?? '*'}`;
const above = (x: { amount: number; count: number }, limit: { amount: number; count: number }) =>
  x.amount > limit.amount || x.count > limit.count;

/** The report as lines of text: a table, the devices no policy covers, then warnings. */
export function renderExposure(answer: ExposureAnswer, policiesIssued: number): string[] {
  const rows = exposureRows(answer);
  const lines = [`offline exposure at ${new Date(answer.at).toISOString()} (amount / payments)`];
  if (rows.length === 0 && policiesIssued === 0) lines.push('no policies issued and nothing held offline');
  else if (rows.length === 0) {
    lines.push(
      `${policiesIssued} ${policiesIssued === 1 ? 'policy' : 'policies'} issued, none in force for a placed device at this time, and nothing held offline: place devices in a policy's scope (holdfast devices place), or check its validFrom and expiresAt`,
    );
  } else {
    const header = ['currency', 'merchant', 'location', 'event', 'devices', 'bound (in force)', 'worst case', 'actual'];
    const cells = rows.map((r) => [
      r.currency,
      r.merchant ?? '-',
      r.location ?? '-',
      r.event ?? '-',
      String(r.devices),
      figure(r.bound, r.currency),
      figure(r.worst, r.currency),
      figure(r.actual, r.currency),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
    const right = new Set([4, 5, 6, 7]);
    const format = (c: string[]) =>
      c
        .map((v, i) => (right.has(i) ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
        .join('  ')
        .trimEnd();
    lines.push(format(header), ...cells.map(format));
  }
  if (answer.uncovered.length > 0) {
    lines.push(
      `no policy in force (approve nothing offline): ${answer.uncovered.length} device(s): ${answer.uncovered.join(', ')}`,
    );
  }
  if (answer.unplaced.length > 0) {
    lines.push(
      `not placed (no policy can cover them): ${answer.unplaced.length} device(s): ${answer.unplaced.join(', ')}`,
    );
  }
  for (const r of rows) {
    const held = `${r.currency} ${placementOf(r)}: ${figure(r.actual, r.currency)} held unsettled`;
    if (above(r.actual, r.worst)) {
      lines.push(
        `WARNING: ${held} is above the worst-case bound of ${figure(r.worst, r.currency)}: a terminal approved beyond its policy, a device was moved or is unplaced`,
      );
    } else if (above(r.actual, r.bound)) {
      lines.push(
        `note: ${held} is above the bound of the policies in force (${figure(r.bound, r.currency)}), within the worst case: approvals under an earlier, larger policy are not settled yet`,
      );
    }
  }
  return lines;
}

export async function exposureCommand(argv: string[]): Promise<number> {
  const flags = operatorSettings(argv, 'exposure', {
    at: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(EXPOSURE_HELP);
    return 0;
  }
  const { server, token } = operatorTarget(flags);
  const at = stringFlag(flags, 'at');
  const url = new URL(`${server}/v1/admin/exposure`);
  if (at !== undefined) url.searchParams.set('at', String(parseAt(at)));

  const answer = await operatorGet<ExposureAnswer>('exposure', url, token);
  if (answer === null) return 1;
  if (flags.json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  const issued = await operatorGet<{ policies: unknown[] }>('exposure', new URL(`${server}/v1/admin/policies`), token);
  if (issued === null) return 1;
  for (const line of renderExposure(answer, issued.policies.length)) console.log(line);
  return 0;
}
