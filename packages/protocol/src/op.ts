/**
 * The operation (op): the unit of everything a terminal records.
 *
 * An op is made durable on the terminal before anything else happens, and
 * its `id` is its idempotency key forever. Each device's ops form a hash
 * chain: `prev` is the hash of the op with `seq - 1` (or GENESIS_HASH for
 * seq 1), and `hash` is SHA-256 over the canonical JSON of every other
 * field. The chain lets the server prove it holds every op and detect a
 * forked or restored device.
 */
import { CanonicalJsonError, canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, HASH_PATTERN, sha256Hex } from './hash.js';
import * as s from './schema.js';
import { type Actor, actorSchema } from './staff-roles.js';
import { UUID_PATTERN, UUID_RULE } from './uuidv7.js';

export const PROTOCOL_VERSION = 1;

/** Longest op kind name, e.g. `payment.offline_authorized`. */
export const KIND_PATTERN = /^[a-z][a-z_]{0,30}\.[a-z][a-z_]{0,30}$/;

export const uuid = () => s.string({ minLength: 36, maxLength: 36, pattern: UUID_PATTERN, patternRule: UUID_RULE });
export const hashHex = () =>
  s.string({ minLength: 64, maxLength: 64, pattern: HASH_PATTERN, patternRule: '64 lowercase hex digits' });
/** Milliseconds since the Unix epoch, from year 2000 to year 2200. */
export const epochMs = () => s.int({ min: 946_684_800_000, max: 7_258_118_400_000 });

/** A decision's rule name: lower-case snake_case, up to 40 characters. */
export const DECISION_RULE_PATTERN = /^[a-z][a-z_]{0,39}$/;

/** How an op was authorized. `none`: the kind needs no authorization (a shift opening, a cash sale). */
export const decisionSchema = s.object({
  mode: s.oneOf(['none', 'local', 'online'] as const),
  outcome: s.oneOf(['approved', 'declined'] as const),
  /** The risk policy the terminal applied, as `policyRef` (`<id>@<version>`), or null when none was in force. */
  policy: s.nullable(s.string({ minLength: 1, maxLength: 64 })),
  /**
   * Optional: the risk rule that decided, e.g. `floor_limit` for a local
   * decline (docs/risk-policy.md). Absent in ops recorded without one, so
   * their canonical JSON and hashes are unchanged.
   */
  rule: s.optional(
    s.string({ minLength: 1, maxLength: 40, pattern: DECISION_RULE_PATTERN, patternRule: 'rule name in snake_case' }),
  ),
});
export type Decision = s.Infer<typeof decisionSchema>;

export const NO_DECISION: Decision = Object.freeze({ mode: 'none', outcome: 'approved', policy: null });

/**
 * The envelope schema. `body` is checked only for being an object here;
 * its own schema depends on `kind` (see op-kinds.ts) and a body that breaks
 * it is answered per op, not for the whole batch.
 */
export const opSchema = s.object({
  v: s.literal(PROTOCOL_VERSION),
  id: uuid(),
  device: uuid(),
  seq: s.int({ min: 1 }),
  prev: hashHex(),
  kind: s.string({
    minLength: 3,
    maxLength: 63,
    pattern: KIND_PATTERN,
    patternRule: 'op kind such as "sale.recorded"',
  }),
  body: s.anyObject(64),
  at: epochMs(),
  decision: decisionSchema,
  /** Optional: who recorded the op and who approved it (staff.ts, docs/protocol.md "Actor"). Covered by the hash. */
  actor: s.optional(actorSchema),
  hash: hashHex(),
});

export interface Op<B = Record<string, unknown>> {
  v: typeof PROTOCOL_VERSION;
  id: string;
  device: string;
  seq: number;
  prev: string;
  kind: string;
  body: B;
  /** Device clock reading when recorded (ms since epoch): evidence, never trusted for order. */
  at: number;
  decision: Decision;
  /** Who recorded the op (and approved it), when staff were signed in; absent otherwise (staff.ts). */
  actor?: Actor;
  hash: string;
}

export type UnsealedOp<B = Record<string, unknown>> = Omit<Op<B>, 'hash'>;

/** The envelope's members but `hash`, in canonical (UTF-16 code unit) order. */
const ENVELOPE_KEYS = ['at', 'body', 'decision', 'device', 'id', 'kind', 'prev', 'seq', 'v'] as const;

/**
 * The canonical JSON (RFC 8785) of every field of the op but `hash`: the
 * exact text its hash covers. An envelope with exactly the protocol's fields
 * is assembled member by member in their known order (the hot path of
 * ingest); anything else goes through the general canonicalizer.
 */
export function canonicalOpText(op: UnsealedOp<unknown> | Op<unknown>): string {
  const record = op as unknown as Record<string, unknown>;
  let members = 0;
  for (const key in record) {
    if (key !== 'hash') members++;
  }
  if (members !== ENVELOPE_KEYS.length || ENVELOPE_KEYS.some((k) => record[k] === undefined)) {
    const { hash: _ignored, ...rest } = op as Op<unknown>;
    return canonicalJson(rest);
  }
  let out = '{';
  for (let i = 0; i < ENVELOPE_KEYS.length; i++) {
    const key = ENVELOPE_KEYS[i] as string;
    try {
      out += `${i === 0 ? '' : ','}"${key}":${canonicalJson(record[key])}`;
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error;
      const inner = error.path;
      throw new CanonicalJsonError(
        error.reason,
        inner === '' || inner.startsWith('[') ? `${key}${inner}` : `${key}.${inner}`,
      );
    }
  }
  return `${out}}`;
}

/** The op's hash: SHA-256 over the canonical JSON of every field but `hash`. */
export function hashOp(op: UnsealedOp<unknown> | Op<unknown>): string {
  return sha256Hex(canonicalOpText(op));
}

export function sealOp<B>(op: UnsealedOp<B>): Op<B> {
  return { ...op, hash: hashOp(op) };
}

export { GENESIS_HASH };
