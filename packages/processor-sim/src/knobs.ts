/**
 * The behaviour knobs: how slow, how unreliable and how picky the simulated
 * processor is. Set at start and changed at run time (`POST /v1/admin/config`);
 * they are not stored, unlike card profiles (balances are state).
 */
import { type Infer, MAX_AMOUNT, type Schema, schema as s, ValidationError } from '@holdfast/protocol';
import { validated } from './errors.js';

export const TIMEOUT_MODES = ['hang', 'destroy'] as const;
export type TimeoutMode = (typeof TIMEOUT_MODES)[number];

export interface ProcessorKnobs {
  /** Added latency before an authorization is decided, uniform in [min, max] ms. */
  latencyMs: readonly [number, number];
  /** Probability that an otherwise approvable authorization is declined `do_not_honor`. */
  declineRate: number;
  /** Probability that an authorization is declined `processor_error` (a final, stored decline). */
  processorErrorRate: number;
  /** Probability that a request is answered 503 before anything is read or stored. */
  outageRate: number;
  /** Until this time (ms since the epoch, processor clock) every request is answered 503; null: no window. */
  outageUntil: number | null;
  /** Probability that a new authorization is committed and then never answered. */
  timeoutAfterCommitRate: number;
  /** `hang`: keep the connection open for `hangMs`, then drop it; `destroy`: drop it at once. */
  timeoutMode: TimeoutMode;
  /** How long a `hang` keeps the connection before dropping it, ms. */
  hangMs: number;
}

export const DEFAULT_KNOBS: Readonly<ProcessorKnobs> = Object.freeze({
  latencyMs: Object.freeze([0, 0] as const),
  declineRate: 0,
  processorErrorRate: 0,
  outageRate: 0,
  outageUntil: null,
  timeoutAfterCommitRate: 0,
  timeoutMode: 'hang',
  hangMs: 60_000,
});

/** Longest latency or hang the knobs accept: ten minutes. */
export const MAX_DELAY_MS = 600_000;

/** A probability: a JSON number in [0, 1]. */
function rate(): Schema<number> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
        throw new ValidationError(
          path || '(root)',
          'number 0..1',
          typeof value === 'number' ? String(value) : typeof value,
        );
      }
      return value;
    },
    describe: () => ({ type: 'number', minimum: 0, maximum: 1 }),
  };
}

const latencySchema = s.refine(
  s.array(s.int({ min: 0, max: MAX_DELAY_MS }), { minItems: 2, maxItems: 2 }),
  ([min, max]) => ((min as number) <= (max as number) ? null : ['', '[min, max] with min <= max']),
);

export const cardProfileSchema = s.object({
  /** Remaining balance in minor units (any currency); absent: no limit. */
  balance: s.optional(s.nullable(s.int({ min: 0, max: MAX_AMOUNT }))),
  blocked: s.optional(s.boolean()),
  expired: s.optional(s.boolean()),
});
export type CardProfile = Infer<typeof cardProfileSchema>;

/** A card as stored: its profile and its remaining balance (null: unlimited). */
export interface CardState {
  token: string;
  balance: number | null;
  blocked: boolean;
  expired: boolean;
}

/** Card profiles by token: `{ [token]: { balance?, blocked?, expired? } }`. */
const cardsSchema: Schema<Record<string, CardProfile>> = {
  parse(value, path = '') {
    const raw = s.anyObject(10_000).parse(value, path);
    const out: Record<string, CardProfile> = {};
    for (const [token, profile] of Object.entries(raw)) {
      const at = path ? `${path}.${token}` : token;
      if (token.length < 1 || token.length > 128)
        throw new ValidationError(at, 'card token of 1..128 characters', 'other');
      out[token] = cardProfileSchema.parse(profile, at);
    }
    return out;
  },
  describe: () => ({ type: 'object', additionalProperties: cardProfileSchema.describe() }),
};

export const knobsPatchSchema = s.object({
  latencyMs: s.optional(latencySchema),
  declineRate: s.optional(rate()),
  processorErrorRate: s.optional(rate()),
  outageRate: s.optional(rate()),
  outageUntil: s.optional(s.nullable(s.int({ min: 0 }))),
  timeoutAfterCommitRate: s.optional(rate()),
  timeoutMode: s.optional(s.oneOf(TIMEOUT_MODES)),
  hangMs: s.optional(s.int({ min: 0, max: MAX_DELAY_MS })),
  cards: s.optional(cardsSchema),
});

/** A change to the knobs and card profiles, as `POST /v1/admin/config` takes it. */
export type ConfigPatch = Partial<ProcessorKnobs> & { cards?: Record<string, CardProfile> };

/** Parses a config patch; bad input is a 400 naming the field. */
export function parseConfigPatch(body: unknown): ConfigPatch {
  const { latencyMs, ...rest } = validated(() => knobsPatchSchema.parse(body));
  return latencyMs ? { ...rest, latencyMs: [latencyMs[0] as number, latencyMs[1] as number] } : rest;
}

/** `knobs` with `patch` applied (fields absent from the patch keep their value), frozen. */
export function applyKnobs(knobs: Readonly<ProcessorKnobs>, patch: ConfigPatch): Readonly<ProcessorKnobs> {
  const next: ProcessorKnobs = { ...knobs };
  for (const key of Object.keys(DEFAULT_KNOBS) as (keyof ProcessorKnobs)[]) {
    if (patch[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = patch[key];
  }
  next.latencyMs = Object.freeze([next.latencyMs[0], next.latencyMs[1]] as const);
  return Object.freeze(next);
}
