/**
 * The everyday operator tasks without curl: enrollment tokens, devices,
 * exceptions, risk policies and betting limits, each a thin client of the
 * /v1/admin API (docs/protocol.md). The server validates and answers coded
 * errors, printed with the field they name; tables by default, --json for
 * the server's answer as it came. Server and token from --server /
 * --operator-token(-file), HOLDFAST_URL / HOLDFAST_OPERATOR_TOKEN(_FILE) or
 * the config file (operator-request.ts).
 */
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import {
  type DeviceStatus,
  formatMoney,
  policyDraftSchema,
  type SignedPolicy,
  ValidationError,
} from '@holdfast/protocol';
import type { ExposureAnswer } from '@holdfast/server';
import { intFlag, requiredString, stringFlag, UsageError } from '../args.js';
import { renderExposure } from './exposure-command.js';
import { operatorCall, operatorSettings, operatorTarget } from './operator-request.js';

const TARGET = '--server URL (--operator-token T | --operator-token-file F) [--json]';

export const ENROLL_TOKEN_HELP = `holdfast enroll-token [--label L] [--merchant M [--location L] [--event E]] [--ttl-s S] ${TARGET}

Creates a one-time enrollment token for a terminal (optionally placed at
merchant/location/event when it enrolls) and prints it.
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

export const DEVICES_HELP = `holdfast devices list|show ID|revoke ID --reason R|place ID --merchant M [--location L] [--event E] ${TARGET}

  list                  every device: label, placement, chain head, how far behind, last seen, revoked
  show ID               one device's status
  revoke ID --reason R  revokes the device (its later ops are refused)
  place ID --merchant M [--location L] [--event E]  places or moves the device
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

export const EXCEPTIONS_HELP = `holdfast exceptions list [--status open|resolved] [--type T] [--limit N]|act ID --action A --note N [--amount MINOR] ${TARGET}

  list                  exceptions, oldest first (docs/exceptions.md)
  act ID …              records an operator action on an exception (actions: docs/exceptions.md)
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

export const POLICY_HELP = `holdfast policy show|issue --file F ${TARGET}

  show                  every risk policy issued
  issue --file F        issues the policy draft in the JSON file F (checked here first, naming the
                        field), then prints the exposure bound the policies now allow
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

export const BETTING_HELP = `holdfast betting show|set --file F ${TARGET}

  show                  the betting configuration and the liability held per selection
  set --file F          sets the betting configuration from the JSON file F (PUT /v1/admin/betting)
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE).`;

export const SERVER_KEYS_HELP = `holdfast server-keys list|rotate ${TARGET}

  list                  every server signing key: id, created, retired (public halves only)
  rotate                makes a new key the active signing key; the previous one stays trusted
                        for the overlap (7 days, or until the last policy it signed expires)
                        while terminals learn the new key (docs/security.md, "Key lifecycle")
Server and token also come from HOLDFAST_URL and HOLDFAST_OPERATOR_TOKEN(_FILE). rotate needs an admin token.`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** `sub [ID] --flags…`: the subcommand, its positional id (if it takes one), and the settings. */
export function parseSub(argv: string[], subs: Record<string, { id: boolean; options: Options }>, command: string) {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') return null;
  const spec = subs[sub];
  if (!spec) throw new UsageError(`unknown subcommand "${sub}" (${Object.keys(subs).join(', ')})`);
  let id: string | undefined;
  if (spec.id) {
    id = rest.shift();
    if (id === undefined || id.startsWith('-')) throw new UsageError(`${command} ${sub} needs an id`);
  }
  const flags = operatorSettings(rest, command, { json: { type: 'boolean' }, ...spec.options });
  return { sub, id, flags };
}

/** Rows as an aligned text table with a header. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const placementText = (p: { merchant: string; location: string | null; event: string | null } | null) =>
  p === null ? '-' : `${p.merchant}/${p.location ?? '*'}/${p.event ?? '*'}`;

export function readJsonFile(flags: Record<string, unknown>, name: string): unknown {
  const path = requiredString(flags, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${name}: ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export function print(json: boolean, answer: unknown, lines: () => string[]): number {
  if (json) console.log(JSON.stringify(answer, null, 2));
  else for (const line of lines()) console.log(line);
  return 0;
}

export async function enrollTokenCommand(argv: string[]): Promise<number> {
  const flags = operatorSettings(argv, 'enroll-token', {
    json: { type: 'boolean' },
    label: { type: 'string' },
    merchant: { type: 'string' },
    location: { type: 'string' },
    event: { type: 'string' },
    'ttl-s': { type: 'string' },
  });
  if (flags.help) {
    console.log(ENROLL_TOKEN_HELP);
    return 0;
  }
  const { server, token } = operatorTarget(flags);
  const body: Record<string, unknown> = {};
  for (const name of ['label', 'merchant', 'location', 'event'] as const) {
    const value = stringFlag(flags, name);
    if (value !== undefined) body[name] = value;
  }
  if (flags['ttl-s'] !== undefined) body.ttlSeconds = intFlag(flags, 'ttl-s', 0, 1, 365 * 86_400);
  const answer = await operatorCall<{ token: string; expiresAt: number }>(
    'enroll-token',
    'POST',
    new URL(`${server}/v1/admin/enrollment-tokens`),
    token,
    body,
  );
  if (answer === null) return 1;
  return print(flags.json === true, answer, () => [answer.token, `expires ${iso(answer.expiresAt)}`]);
}

export async function devicesCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    {
      list: { id: false, options: {} },
      show: { id: true, options: {} },
      revoke: { id: true, options: { reason: { type: 'string' } } },
      place: {
        id: true,
        options: { merchant: { type: 'string' }, location: { type: 'string' }, event: { type: 'string' } },
      },
    },
    'devices',
  );
  if (!parsed || parsed.flags.help) {
    console.log(DEVICES_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, id, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const base = `${server}/v1/admin/devices`;
  const json = flags.json === true;
  if (sub === 'list') {
    const answer = await operatorCall<{ devices: DeviceStatus[] }>('devices', 'GET', new URL(base), token);
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.devices.length === 0
        ? ['no devices enrolled']
        : table(
            ['id', 'label', 'placement', 'seq', 'behind', 'last seen', 'revoked'],
            answer.devices.map((d) => [
              d.id,
              d.label,
              placementText(d.placement),
              String(d.highWater),
              String(d.behind),
              iso(d.lastSeenAt),
              d.revokedAt === null ? '-' : `${iso(d.revokedAt)} ${d.revokeReason ?? ''}`.trim(),
            ]),
          ),
    );
  }
  let answer: DeviceStatus | null;
  if (sub === 'show') {
    answer = await operatorCall<DeviceStatus>('devices', 'GET', new URL(`${base}/${id}`), token);
  } else if (sub === 'revoke') {
    const reason = requiredString(flags, 'reason');
    answer = await operatorCall<DeviceStatus>('devices', 'POST', new URL(`${base}/${id}/revoke`), token, { reason });
  } else {
    const placement = {
      merchant: requiredString(flags, 'merchant'),
      location: stringFlag(flags, 'location') ?? null,
      event: stringFlag(flags, 'event') ?? null,
    };
    answer = await operatorCall<DeviceStatus>('devices', 'POST', new URL(`${base}/${id}/placement`), token, placement);
  }
  if (answer === null) return 1;
  const d = answer;
  return print(json, d, () => [
    `device     ${d.id} (${d.label})`,
    `placement  ${placementText(d.placement)}`,
    `chain      seq ${d.highWater}, head ${d.headHash.slice(0, 16)}…, device at ${d.latestSeq} (${d.behind} behind)${d.gap ? `, missing ${d.gap.from}..${d.gap.to}` : ''}`,
    `enrolled   ${iso(d.enrolledAt)}, last seen ${iso(d.lastSeenAt)}`,
    `revoked    ${d.revokedAt === null ? 'no' : `${iso(d.revokedAt)}: ${d.revokeReason ?? ''}`}`,
    `conflicts  ${d.conflicts}, forks ${d.forks}`,
  ]);
}

interface ExceptionRow {
  id: string;
  type: string;
  severity: string;
  status: string;
  device: string;
  seq: number | null;
  message: string;
  raisedAt: number;
  /** Occurrences (op_rejected aggregates per device and cause); absent from servers before it. */
  count?: number;
  lastSeenAt?: number;
}

export async function exceptionsCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    {
      list: { id: false, options: { status: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' } } },
      act: {
        id: true,
        options: {
          action: { type: 'string' },
          note: { type: 'string' },
          amount: { type: 'string' },
        },
      },
    },
    'exceptions',
  );
  if (!parsed || parsed.flags.help) {
    console.log(EXCEPTIONS_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, id, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  if (sub === 'list') {
    const url = new URL(`${server}/v1/admin/exceptions`);
    for (const name of ['status', 'type'] as const) {
      const value = stringFlag(flags, name);
      if (value !== undefined) url.searchParams.set(name, value);
    }
    if (flags.limit !== undefined) url.searchParams.set('limit', String(intFlag(flags, 'limit', 100, 1, 1000)));
    const answer = await operatorCall<{ items: ExceptionRow[]; next: number | null }>('exceptions', 'GET', url, token);
    if (answer === null) return 1;
    return print(flags.json === true, answer, () =>
      answer.items.length === 0
        ? ['no exceptions']
        : table(
            ['id', 'raised', 'count', 'last seen', 'type', 'severity', 'status', 'device', 'seq', 'message'],
            answer.items.map((e) => [
              e.id,
              iso(e.raisedAt),
              String(e.count ?? 1),
              iso(e.lastSeenAt ?? e.raisedAt),
              e.type,
              e.severity,
              e.status,
              e.device,
              e.seq === null ? '-' : String(e.seq),
              e.message,
            ]),
          ),
    );
  }
  const body: Record<string, unknown> = {
    action: requiredString(flags, 'action'),
    note: requiredString(flags, 'note'),
  };
  // Who acted is who the token belongs to (the server records it); the body names no actor.
  if (flags.amount !== undefined) body.amount = intFlag(flags, 'amount', 0, 1, Number.MAX_SAFE_INTEGER);
  const answer = await operatorCall<ExceptionRow>(
    'exceptions',
    'POST',
    new URL(`${server}/v1/admin/exceptions/${id}/actions`),
    token,
    body,
  );
  if (answer === null) return 1;
  return print(flags.json === true, answer, () => [`exception ${answer.id} (${answer.type}): ${answer.status}`]);
}

export async function policyCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    { show: { id: false, options: {} }, issue: { id: false, options: { file: { type: 'string' } } } },
    'policy',
  );
  if (!parsed || parsed.flags.help) {
    console.log(POLICY_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const json = flags.json === true;
  if (sub === 'show') {
    const answer = await operatorCall<{ policies: SignedPolicy[] }>(
      'policy',
      'GET',
      new URL(`${server}/v1/admin/policies`),
      token,
    );
    if (answer === null) return 1;
    return print(json, answer, () =>
      answer.policies.length === 0 ? ['no policies issued'] : policyTable(answer.policies),
    );
  }
  const draft = readJsonFile(flags, 'file');
  try {
    policyDraftSchema.parse(draft);
  } catch (error) {
    if (error instanceof ValidationError) {
      console.error(`holdfast policy: the draft in ${stringFlag(flags, 'file')} is not valid: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const signed = await operatorCall<SignedPolicy>(
    'policy',
    'POST',
    new URL(`${server}/v1/admin/policies`),
    token,
    draft,
  );
  if (signed === null) return 1;
  const exposure = await operatorCall<ExposureAnswer>('policy', 'GET', new URL(`${server}/v1/admin/exposure`), token);
  const all = await operatorCall<{ policies: unknown[] }>(
    'policy',
    'GET',
    new URL(`${server}/v1/admin/policies`),
    token,
  );
  if (exposure === null || all === null) return 1;
  return print(json, { policy: signed, exposure }, () => [
    'issued:',
    ...policyTable([signed]),
    '',
    ...renderExposure(exposure, all.policies.length),
  ]);
}

interface ServerKeyRow {
  id: string;
  publicKey: string;
  createdAt: number;
  retiredAt: number | null;
}

export async function serverKeysCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    { list: { id: false, options: {} }, rotate: { id: false, options: {} } },
    'server-keys',
  );
  if (!parsed || parsed.flags.help) {
    console.log(SERVER_KEYS_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const json = flags.json === true;
  if (sub === 'list') {
    const answer = await operatorCall<{ keys: ServerKeyRow[] }>(
      'server-keys',
      'GET',
      new URL(`${server}/v1/admin/server-keys`),
      token,
    );
    if (answer === null) return 1;
    return print(json, answer, () => serverKeyTable(answer.keys));
  }
  const answer = await operatorCall<{ active: ServerKeyRow; retired: ServerKeyRow | null }>(
    'server-keys',
    'POST',
    new URL(`${server}/v1/admin/server-keys/rotate`),
    token,
  );
  if (answer === null) return 1;
  return print(json, answer, () => [
    `active key ${answer.active.id} (created ${iso(answer.active.createdAt)})`,
    answer.retired === null
      ? 'no previous key'
      : `previous key ${answer.retired.id} trusted until ${iso(answer.retired.retiredAt)}`,
  ]);
}

function serverKeyTable(keys: ServerKeyRow[]): string[] {
  const now = Date.now();
  return table(
    ['id', 'created', 'retired', 'state'],
    keys.map((k) => [
      k.id,
      iso(k.createdAt),
      iso(k.retiredAt),
      k.retiredAt === null ? 'active' : k.retiredAt > now ? 'overlap' : 'retired',
    ]),
  );
}

function policyTable(policies: SignedPolicy[]): string[] {
  return table(
    ['id', 'version', 'scope', 'currency', 'device cap', 'valid from', 'expires'],
    policies.map(({ policy: p }) => [
      p.id,
      String(p.version),
      `${p.scope.merchant}/${p.scope.location ?? '*'}/${p.scope.event ?? '*'}${p.scope.devices ? ` (${p.scope.devices.length} devices)` : ''}`,
      p.currency,
      `${formatMoney(p.offline.device.maxAmount, p.currency)} / ${p.offline.device.maxCount}`,
      iso(p.validFrom),
      iso(p.expiresAt),
    ]),
  );
}

export async function bettingCommand(argv: string[]): Promise<number> {
  const parsed = parseSub(
    argv,
    { show: { id: false, options: {} }, set: { id: false, options: { file: { type: 'string' } } } },
    'betting',
  );
  if (!parsed || parsed.flags.help) {
    console.log(BETTING_HELP);
    return parsed ? 0 : argv.length === 0 ? 2 : 0;
  }
  const { sub, flags } = parsed;
  const { server, token } = operatorTarget(flags);
  const url = new URL(`${server}/v1/admin/betting`);
  const answer =
    sub === 'show'
      ? await operatorCall<unknown>('betting', 'GET', url, token)
      : await operatorCall<unknown>('betting', 'PUT', url, token, readJsonFile(flags, 'file'));
  if (answer === null) return 1;
  // The configuration is nested (limits per market and selection): shown as indented JSON either way.
  console.log(JSON.stringify(answer, null, 2));
  return 0;
}
