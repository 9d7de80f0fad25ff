/**
 * The policy editor on the Policies page: a form for the common fields of a
 * risk policy (scope, currency, validity, time offline, per-device and card
 * caps), the rest taken from the policy it starts from. Every change is
 * checked by the server (`POST /v1/admin/policies/dry-run`, the same
 * validation as issuing) and the answer shown: the worst-case exposure bound
 * per placement with and without the proposal, or the server's reason next
 * to the field it names. **Issue** (role `policies.write`) sends the same
 * draft to `POST /v1/admin/policies`; the server audits it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api } from '../shared/api.js';
import { decimalAmount, formatMoney, parseMoneyInput } from '../shared/money.js';
import { type Column, Table } from '../shared/table.js';
import { when } from '../shared/time.js';
import type { PolicyRow } from './policies.js';
import type { Session } from './session.js';
import type { ExposureGroup } from './types.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** What the form edits, as typed (text: the server and the money parser decide what is valid). */
interface Fields {
  merchant: string;
  location: string;
  event: string;
  currency: string;
  days: string;
  maxOfflineMinutes: string;
  deviceAmount: string;
  deviceCount: string;
  cardFloor: string;
  cardAmount: string;
  cardCount: string;
}
type FieldName = keyof Fields;

/** The draft field (as the server names it in a refusal) → the form field it is shown next to. */
const FIELD_OF: Record<string, FieldName> = {
  'scope.merchant': 'merchant',
  'scope.location': 'location',
  'scope.event': 'event',
  currency: 'currency',
  expiresAt: 'days',
  validFrom: 'days',
  'offline.maxOfflineMs': 'maxOfflineMinutes',
  'offline.device.maxAmount': 'deviceAmount',
  'offline.device.maxCount': 'deviceCount',
  'offline.tenders.card.floorLimit': 'cardFloor',
  'offline.tenders.card.instrument.maxAmount': 'cardAmount',
  'offline.tenders.card.instrument.maxCount': 'cardCount',
};

type Draft = Record<string, unknown> & {
  scope: { merchant: string; location: string | null; event: string | null; devices: string[] | null };
  offline: {
    maxOfflineMs: number;
    device: { maxAmount: number; maxCount: number };
    tenders: Record<string, unknown>;
  };
};

/** The draft a new policy starts from when none was issued: card payments only, modest caps. */
const BLANK: Draft = {
  scope: { merchant: '', location: null, event: null, devices: null },
  currency: 'EUR',
  expiresAt: 0,
  offline: {
    maxOfflineMs: 4 * 60 * MINUTE,
    device: { maxAmount: 50_000, maxCount: 20 },
    tenders: {
      card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 3, velocity: null } },
    },
  },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
};

/** The draft of an issued policy: without the fields the server assigns. */
function draftOf(p: PolicyRow['policy'] | null): Draft {
  if (p === null) return structuredClone(BLANK);
  const {
    v: _v,
    id: _id,
    version: _version,
    issuedAt: _i,
    validFrom: _f,
    ...rest
  } = p as unknown as Record<string, unknown>;
  return structuredClone(rest) as Draft;
}

interface Card {
  floorLimit: number;
  instrument: { maxAmount: number; maxCount: number; velocity: unknown };
}

function fieldsOf(d: Draft): Fields {
  const c = d.currency as string;
  const card = d.offline.tenders.card as Card | undefined;
  const money = (n: number | undefined) => (n === undefined ? '' : decimalAmount(n, c));
  return {
    merchant: d.scope.merchant,
    location: d.scope.location ?? '',
    event: d.scope.event ?? '',
    currency: c,
    days: '30',
    maxOfflineMinutes: String(Math.round(d.offline.maxOfflineMs / MINUTE)),
    deviceAmount: money(d.offline.device.maxAmount),
    deviceCount: String(d.offline.device.maxCount),
    cardFloor: money(card?.floorLimit),
    cardAmount: money(card?.instrument.maxAmount),
    cardCount: card ? String(card.instrument.maxCount) : '',
  };
}

/** A whole number as typed, or the text itself (the server then names the field and the rule). */
const wholeOr = (text: string): number | string => (/^\s*\d+\s*$/.test(text) ? Number(text.trim()) : text);

/**
 * The draft the form describes, on top of `base`; amounts typed as money
 * are read exactly in the draft's currency, and a text that is not an
 * amount is reported against its field before anything is sent.
 */
export function buildDraft(
  base: Draft,
  f: Fields,
  now: number,
): { draft: Draft; errors: Partial<Record<FieldName, string>> } {
  const errors: Partial<Record<FieldName, string>> = {};
  const currency = f.currency.trim();
  const money = (name: FieldName): number | null => {
    try {
      return parseMoneyInput(f[name], currency);
    } catch (error) {
      errors[name] = (error as Error).message;
      return null;
    }
  };
  const days = wholeOr(f.days);
  if (typeof days !== 'number') errors.days = 'a whole number of days';
  const minutes = wholeOr(f.maxOfflineMinutes);
  const draft = structuredClone(base);
  draft.scope = {
    merchant: f.merchant.trim(),
    location: f.location.trim() === '' ? null : f.location.trim(),
    event: f.event.trim() === '' ? null : f.event.trim(),
    devices: base.scope.devices,
  };
  draft.currency = currency;
  delete draft.validFrom;
  draft.expiresAt = typeof days === 'number' ? now + days * DAY : now;
  draft.offline.maxOfflineMs = typeof minutes === 'number' ? minutes * MINUTE : (minutes as unknown as number);
  draft.offline.device = {
    maxAmount: money('deviceAmount') ?? 0,
    maxCount: wholeOr(f.deviceCount) as number,
  };
  if (f.cardFloor.trim() === '' && f.cardAmount.trim() === '' && f.cardCount.trim() === '') {
    delete draft.offline.tenders.card;
  } else {
    const card = (draft.offline.tenders.card as Card | undefined) ?? {
      floorLimit: 0,
      instrument: { maxAmount: 0, maxCount: 0, velocity: null },
    };
    draft.offline.tenders.card = {
      floorLimit: money('cardFloor') ?? 0,
      instrument: { ...card.instrument, maxAmount: money('cardAmount') ?? 0, maxCount: wholeOr(f.cardCount) },
    };
  }
  return { draft, errors };
}

interface DryRun {
  policy: { version: number; validFrom: number };
  at: number;
  bound: ExposureGroup[];
  uncovered: string[];
  current: ExposureGroup[];
}

interface BoundRow {
  key: string;
  group: ExposureGroup;
  before: ExposureGroup | undefined;
}

const groupKey = (g: ExposureGroup) => JSON.stringify([g.currency, g.merchant, g.location, g.event]);
const scopeText = (s: { merchant: string; location: string | null; event: string | null }) =>
  [s.merchant, s.location ?? 'every location', s.event].filter((x) => x !== null).join(' / ');
const place = (g: ExposureGroup) => [g.merchant, g.location, g.event].filter((x) => x !== null).join(' / ');

export function PolicyEditor(props: { session: Session; policies: PolicyRow[]; now: number; onIssued: () => void }) {
  const { session, policies, now } = props;
  const locale = navigator.language;
  const [baseId, setBaseId] = useState<string>(policies[0]?.policy.id ?? '');
  const base = useMemo(
    () => draftOf(policies.find((r) => r.policy.id === baseId)?.policy ?? null),
    [baseId, policies.length],
  );
  const [fields, setFields] = useState<Fields>(() => fieldsOf(base));
  useEffect(() => setFields(fieldsOf(base)), [base]);
  const { draft, errors: typed } = buildDraft(base, fields, now);
  const body = JSON.stringify(draft);
  // What was typed (not the draft: its expiresAt follows the server clock, polled every 2 s).
  const typedKey = `${baseId}|${JSON.stringify(fields)}`;
  const [preview, setPreview] = useState<{ key: string; answer: DryRun | null; error: ApiError | null } | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const typedOk = Object.keys(typed).length === 0;

  useEffect(() => {
    if (!typedOk) return;
    let live = true;
    const timer = setTimeout(() => {
      api<DryRun>('POST', '/v1/admin/policies/dry-run', JSON.parse(body)).then(
        (answer) => live && setPreview({ key: typedKey, answer, error: null }),
        (error: unknown) =>
          live &&
          setPreview({
            key: typedKey,
            answer: null,
            error: error instanceof ApiError ? error : new ApiError(0, 'network', String(error)),
          }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // The server's clock moves `expiresAt` every poll; the check is redone when what was typed changes.
  }, [typedKey, typedOk]);

  const current = typedOk && preview?.answer ? preview : null;
  const refused = typedOk ? (preview?.error ?? null) : null;
  const refusedField = refused?.field !== undefined ? FIELD_OF[refused.field] : undefined;
  const errorOf = (name: FieldName): string | undefined =>
    typed[name] ?? (refusedField === name && refused ? refused.message : undefined);

  const set = (name: FieldName) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    setOutcome(null);
    setFields((f) => ({ ...f, [name]: value }));
  };
  const field = (name: FieldName, label: string, hint?: string) => (
    <label class="field" data-field={name}>
      <span>{label}</span>
      <input name={name} value={fields[name]} onInput={set(name)} aria-invalid={errorOf(name) ? 'true' : 'false'} />
      {hint ? <small>{hint}</small> : null}
      {errorOf(name) ? (
        <small class="error" data-field-error={name}>
          {errorOf(name)}
        </small>
      ) : null}
    </label>
  );

  const issue = async () => {
    setBusy(true);
    try {
      const signed = await api<{ policy: { version: number } }>('POST', '/v1/admin/policies', draft);
      setOutcome(`Issued version ${signed.policy.version} for ${scopeText(draft.scope)}.`);
      props.onIssued();
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(0, 'network', String(error));
      setPreview({ key: typedKey, answer: null, error: e });
      setOutcome(null);
    } finally {
      setBusy(false);
    }
  };

  const rows: BoundRow[] = (current?.answer?.bound ?? []).map((g) => ({
    key: groupKey(g),
    group: g,
    before: current?.answer?.current.find((b) => groupKey(b) === groupKey(g)),
  }));
  const m = (n: number | undefined, c: string) => (n === undefined ? '—' : formatMoney(n, c, locale));
  const columns: Column<BoundRow>[] = [
    { header: 'Placement', value: (r) => place(r.group) },
    { header: 'Currency', value: (r) => r.group.currency },
    { header: 'Devices', value: (r) => r.group.devices, className: 'num' },
    { header: 'Steady bound now', value: (r) => m(r.before?.maxAmount, r.group.currency), className: 'num' },
    { header: 'Steady bound with it', value: (r) => m(r.group.maxAmount, r.group.currency), className: 'num' },
    { header: 'Worst case now', value: (r) => m(r.before?.worstAmount, r.group.currency), className: 'num' },
    { header: 'Worst case with it', value: (r) => m(r.group.worstAmount, r.group.currency), className: 'num' },
    { header: 'Worst with it (minor units)', value: (r) => r.group.worstAmount, csvOnly: true },
  ];
  const upToDate = current !== null && current.key === typedKey;

  return (
    <section class="policy-editor" data-policy-editor>
      <h3>New policy</h3>
      <p>
        <label>
          Start from
          <select
            name="base"
            value={baseId}
            onChange={(e) => {
              setOutcome(null);
              setBaseId((e.currentTarget as HTMLSelectElement).value);
            }}
          >
            {policies.map((r) => (
              <option key={r.policy.id} value={r.policy.id}>
                {`${scopeText(r.policy.scope)} v${r.policy.version} (${r.policy.currency})`}
              </option>
            ))}
            <option value="">a blank policy</option>
          </select>
        </label>
        Fields not on the form (velocity limits, wristbands, online rules, loyalty) are kept from it.
      </p>
      <div class="policy-form">
        <fieldset>
          <legend>Scope</legend>
          {field('merchant', 'Merchant')}
          {field('location', 'Location', 'blank: every location')}
          {field('event', 'Zone / event', 'blank: every zone')}
          {field('currency', 'Currency')}
          {field('days', 'Valid for (days)', 'from now; at most 90')}
        </fieldset>
        <fieldset>
          <legend>Offline, per device</legend>
          {field('maxOfflineMinutes', 'Max time offline (minutes)')}
          {field('deviceAmount', 'Max amount', `in ${fields.currency}`)}
          {field('deviceCount', 'Max payments')}
        </fieldset>
        <fieldset>
          <legend>Card payments offline</legend>
          {field('cardFloor', 'Floor limit', 'largest single payment approved offline')}
          {field('cardAmount', 'Per card: max amount')}
          {field('cardCount', 'Per card: max payments', 'all three blank: no card payments offline')}
        </fieldset>
      </div>
      {refused ? (
        <p class="error" data-policy-error>
          This policy would not be issued: {refused.message}
        </p>
      ) : null}
      {current?.answer ? (
        <div data-policy-preview>
          <h4>
            Exposure bound at {when(current.answer.at)} if issued (version {current.answer.policy.version})
          </h4>
          <Table
            name="policy-preview"
            columns={columns}
            rows={rows}
            rowKey={(r) => r.key}
            empty="No placed device would be covered: the bound is zero."
          />
          {current.answer.uncovered.length > 0 ? (
            <p>{current.answer.uncovered.length} placed devices would still approve nothing offline.</p>
          ) : null}
        </div>
      ) : null}
      {session.may('policies.write') ? (
        <p>
          <button type="button" data-issue disabled={busy || !typedOk || !upToDate} onClick={() => void issue()}>
            Issue policy
          </button>{' '}
          {outcome ? <span data-issued>{outcome}</span> : null}
        </p>
      ) : (
        <p class="notice">Your role may preview a policy but not issue one.</p>
      )}
      <details>
        <summary>The draft sent (JSON)</summary>
        <pre data-draft>{JSON.stringify(draft, null, 2)}</pre>
      </details>
    </section>
  );
}
