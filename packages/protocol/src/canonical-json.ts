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
 * JavaScript's own `<` on strings compares UTF-16 code units, and its
 * JSON.stringify of a finite number or a well-formed string is exactly the
 * RFC's serialization, which is why this can stay short and fast.
 */

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

/** The RFC 8785 canonical JSON text of `value`. Throws CanonicalJsonError for non-JSON values. */
export function canonicalJson(value: unknown): string {
  return serialize(value, '');
}

function serialize(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new CanonicalJsonError(`${path || '(root)'}: lone surrogate in string`);
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path || '(root)'}: ${value} is not JSON`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += serialize(value[i], `${path}[${i}]`);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(`${path || '(root)'}: not a plain object`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = record[key];
        // Like JSON.stringify, a member whose value is undefined is absent.
        if (member === undefined) continue;
        if (!first) out += ',';
        first = false;
        if (!key.isWellFormed()) throw new CanonicalJsonError(`${path}: lone surrogate in a member name`);
        out += JSON.stringify(key);
        out += ':';
        out += serialize(member, path ? `${path}.${key}` : key);
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(`${path || '(root)'}: ${typeof value} is not JSON`);
  }
}
