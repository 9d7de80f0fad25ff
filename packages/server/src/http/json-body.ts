/**
 * The server's one JSON body parser (installed by buildApp for
 * application/json).
 *
 * Fastify's default parser decodes the body leniently (invalid UTF-8 becomes
 * U+FFFD) and lets the last of two equal member names win. Both are refused
 * here, with a code naming what was wrong, because a signed op's hash is
 * computed over canonical JSON (RFC 8785), which is defined for I-JSON only
 * (RFC 7493): unique member names and valid Unicode.
 *
 * Order: strict UTF-8 decode, JSON.parse (native), then the checks for
 * duplicate member names, the poisoning keys Fastify refuses (`__proto__`,
 * `constructor.prototype`) and nesting deeper than MAX_JSON_DEPTH:
 * - the fast check (what every good body takes): count the member names in
 *   the text (a string followed by `:`; found with indexOf, not char by
 *   char) and the own keys of the parsed objects (one walk, which also
 *   looks at depth and key names). JSON.parse keeps one member of each
 *   duplicated name, so the counts are equal exactly when no object repeats
 *   a name;
 * - the exact scan (checkMembers), only when the fast check finds anything
 *   wrong: it walks the text char by char to name the object and the member,
 *   and throws.
 * Both run only on text JSON.parse accepted, so they may assume it is well
 * formed.
 */
import { ProtocolError } from '@holdfast/protocol';

/**
 * Deeper nesting of objects and arrays than this is refused before any
 * schema runs: room for an op body as deep as canonical JSON hashes
 * (MAX_CANONICAL_DEPTH, 256) inside its batch.
 */
export const MAX_JSON_DEPTH = 300;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses a request body; throws ProtocolError (invalid_utf8, malformed_json, duplicate_member, invalid_request). */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new ProtocolError('invalid_utf8', 'request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new ProtocolError('malformed_json', 'request body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError('malformed_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value === 'object' && value !== null && !looksClean(text, value)) checkMembers(text);
  return value;
}

/**
 * The fast check: true when `value` (JSON.parse of `text`) has as many own
 * keys as `text` has member names, no `__proto__` or `constructor.prototype`
 * key, and no nesting deeper than MAX_JSON_DEPTH. False sends the body to
 * the exact scan, which names what is wrong.
 */
function looksClean(text: string, value: object): boolean {
  const keys = keyCount(value, 1, false);
  return keys >= 0 && keys === memberNamesIn(text);
}

/** Own keys of every object in `value` (depth is that of `value`), or -1 for a poisoning key or excess depth. */
function keyCount(value: object, depth: number, underConstructor: boolean): number {
  if (depth > MAX_JSON_DEPTH) return -1;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'object' || item === null) continue;
      const inner = keyCount(item, depth + 1, false);
      if (inner < 0) return -1;
      count += inner;
    }
    return count;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key === '__proto__' || (underConstructor && key === 'prototype')) return -1;
    count++;
    const member = record[key];
    if (typeof member !== 'object' || member === null) continue;
    const inner = keyCount(member, depth + 1, key === 'constructor');
    if (inner < 0) return -1;
    count += inner;
  }
  return count;
}

/** Member names in well-formed JSON text: strings followed (after whitespace) by ':'. */
function memberNamesIn(text: string): number {
  let names = 0;
  let i = text.indexOf('"');
  while (i >= 0) {
    // The closing quote: the next '"' not escaped (preceded by an even run of backslashes).
    let end = text.indexOf('"', i + 1);
    for (;;) {
      let slashes = 0;
      while (text.charCodeAt(end - 1 - slashes) === 0x5c /* \ */) slashes++;
      if (slashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let k = end + 1;
    while (isSpace(text.charCodeAt(k))) k++;
    if (text.charCodeAt(k) === 0x3a /* : */) names++;
    i = text.indexOf('"', k);
  }
  return names;
}

interface Frame {
  /** Member names seen so far; null for an array. */
  names: Set<string> | null;
  /** The member name (object) or index (array) of the value being read. */
  at: string | number;
  /** Object only: the next string is a member name. */
  expectName: boolean;
  /** This object is the value of a member named "constructor". */
  underConstructor: boolean;
}

function pathOf(stack: Frame[]): string {
  let path = '';
  for (const frame of stack) {
    if (frame.names === null) path += `[${frame.at}]`;
    else {
      const name = frame.at as string;
      const plain = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name);
      const part = plain ? name : JSON.stringify(name);
      path += path === '' ? part : plain ? `.${part}` : `[${part}]`;
    }
  }
  return path === '' ? '(root)' : path;
}

/** The exact scan: well-formed JSON text for duplicate names, poisoning keys and excessive depth; throws naming the place. */
export function checkMembers(text: string): void {
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // A string: find its end, skipping escapes.
      const start = i + 1;
      let j = start;
      let escaped = false;
      while (true) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else if (d === 0x22) break;
        else j++;
      }
      i = j + 1;
      const top = stack[stack.length - 1];
      if (top?.names && top.expectName) {
        // In an object, a string directly before ':' is a member name.
        let k = i;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === 0x3a /* : */) {
          const name = escaped ? (JSON.parse(text.slice(start - 1, j + 1)) as string) : text.slice(start, j);
          top.at = name;
          top.expectName = false;
          if (top.names.has(name)) {
            throw new ProtocolError(
              'duplicate_member',
              `member ${JSON.stringify(name)} appears twice in one object at ${pathOf(stack)}`,
              { field: pathOf(stack), rule: 'member names unique within an object (I-JSON)' },
            );
          }
          if (name === '__proto__' || (name === 'prototype' && top.underConstructor)) {
            const key = name === '__proto__' ? name : 'constructor.prototype';
            throw new ProtocolError('malformed_json', `request body contains a forbidden "${key}" key`, {
              field: pathOf(stack),
              rule: 'no "__proto__" or "constructor.prototype" keys',
            });
          }
          top.names.add(name);
          i = k + 1;
        }
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) {
        throw new ProtocolError('invalid_request', `request body nests deeper than ${MAX_JSON_DEPTH} levels`, {
          field: pathOf(stack),
          rule: `nesting depth <= ${MAX_JSON_DEPTH}`,
        });
      }
      const parent = stack[stack.length - 1];
      stack.push(
        c === 0x7b
          ? {
              names: new Set(),
              at: '',
              expectName: true,
              underConstructor: parent?.names != null && parent.at === 'constructor',
            }
          : { names: null, at: 0, expectName: false, underConstructor: false },
      );
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1] as Frame;
      if (top.names === null) top.at = (top.at as number) + 1;
      else top.expectName = true;
    }
    i++;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
