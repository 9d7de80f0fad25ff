/**
 * JSON Canonicalization Scheme (RFC 8785).
 *
 * The canonical form is what op hashes and signatures are computed over, so
 * two implementations in different languages must produce the same bytes:
 * - object members sorted by their names as arrays of UTF-16 code units;
 * - no insignificant whitespace;
 * - strings serialized as ECMAScript's JSON.stringify does (which escapes
 *   only `"`, `\`, and control characters, using `\b \t \n \f \r` and
 *   lower-case `\u00xx` forms), with lone surrogates rejected;
 * - numbers serialized as ECMAScript's Number-to-String (shortest round-trip
 *   form), with NaN and the infinities rejected.
 *
 * Unlike JSON.stringify, `undefined` inside an array is an error (not
 * `null`): a hash must never silently cover a different value than the
 * caller holds. Cyclic structures are an error too.
 *
 * JavaScript's own `<` on strings compares UTF-16 code units, and its
 * JSON.stringify of a finite number or a well-formed string is exactly the
 * RFC's serialization, which is why this can stay short and fast.
 */

/** A value that has no canonical JSON form; `path` locates it (e.g. `a.b[1]`, empty at the root). */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  constructor(
    readonly reason: string,
    readonly path = '',
  ) {
    super(`${path || '(root)'}: ${reason}`);
  }
}

/** Deeper nesting than this is refused (it also stops cycles). */
export const MAX_CANONICAL_DEPTH = 256;

/** The RFC 8785 canonical JSON text of `value`. Throws CanonicalJsonError for non-JSON values. */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0);
}

function fail(message: string): never {
  throw new CanonicalJsonError(message);
}

/** Rethrows an error from inside a member or element with its location prefixed. */
function within(error: unknown, step: string): never {
  if (!(error instanceof CanonicalJsonError)) throw error;
  const inner = error.path;
  throw new CanonicalJsonError(
    error.reason,
    inner === '' || inner.startsWith('[') ? `${step}${inner}` : `${step}.${inner}`,
  );
}

/** Member names repeat endlessly (sku, qty, amount…): their quoted forms are cached. */
const QUOTED_KEYS = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    if (!key.isWellFormed()) fail('lone surrogate in a member name');
    quoted = JSON.stringify(key);
    if (key.length <= 64 && QUOTED_KEYS.size < 4096) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

/** Objects with at most this many members have their names sorted in place by insertion. */
const INSERTION_SORT_MAX = 16;

/**
 * The member names of `record` in UTF-16 code unit order (what `<` on
 * strings compares, like the default `Array.prototype.sort`). Ops are made
 * of small objects, and the built-in sort allocates a work copy per call:
 * most of what hashing an op allocated. Larger objects (hostile input may
 * have thousands of members) still go through the built-in O(n log n) sort.
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? JSON.stringify(value) : fail('lone surrogate in string');
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : fail(`${value} is not JSON`);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_CANONICAL_DEPTH) fail(`nested deeper than ${MAX_CANONICAL_DEPTH} (or cyclic)`);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          try {
            out += serialize(value[i], depth + 1);
          } catch (error) {
            within(error, `[${i}]`);
          }
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) fail('not a plain object');
      const record = value as Record<string, unknown>;
      const keys = sortedKeys(record);
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = record[key];
        // Like JSON.stringify, a member whose value is undefined is absent.
        if (member === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += quotedKey(key);
        out += ':';
        try {
          out += serialize(member, depth + 1);
        } catch (error) {
          within(error, key);
        }
      }
      return `${out}}`;
    }
    default:
      return fail(`${typeof value} is not JSON`);
  }
}
