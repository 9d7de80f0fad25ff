/**
 * A small validation library for untrusted wire input.
 *
 * Every schema parses `unknown` into a typed value or throws a
 * {@link ValidationError} that names the field (as a path such as
 * `ops[3].body.lines[0].qty`) and the rule it broke (such as
 * `integer >= 1`). It stops at the first problem: a terminal that sends a
 * bad op needs one precise message, not a report.
 *
 * Objects are strict: an unknown field is an error. Every field of an op is
 * covered by its hash, so silently ignoring one would let two parties hash
 * different things and both believe they agree.
 *
 * Schemas also describe themselves as JSON Schema (draft 2020-12) so the
 * protocol document and other-language implementers can use the same rules.
 */

import { ValidationError } from './errors.js';

export type JsonSchema = { [key: string]: unknown };

export interface Schema<T> {
  /** Parses `value` found at `path`, or throws a ValidationError. */
  parse(value: unknown, path?: string): T;
  /** This schema as JSON Schema, for documentation and other languages. */
  describe(): JsonSchema;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function fail(path: string, rule: string, got: unknown): never {
  throw new ValidationError(path || '(root)', rule, describeValue(got));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'string') {
    return value.length > 40 ? `string(${value.length})` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Composite schemas parse their parts with no path and add the part's
 * position only when one fails: building `ops[3].body.lines[0].qty` for
 * every field of every valid op would cost more than the checks themselves.
 * So an error thrown by a part names a field relative to that part, and each
 * enclosing composite prefixes its own position on the way out.
 */
function within(error: unknown, prefix: string): unknown {
  return error instanceof ValidationError ? error.within(prefix) : error;
}

export interface IntOptions {
  min?: number;
  max?: number;
}

/** A JSON number that is a safe integer within [min, max]. */
export function int(options: IntOptions = {}): Schema<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const rule =
    options.min !== undefined && options.max !== undefined
      ? `integer ${min}..${max}`
      : options.min !== undefined
        ? `integer >= ${min}`
        : options.max !== undefined
          ? `integer <= ${max}`
          : 'safe integer';
  return {
    parse(value, path = '') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        fail(path, rule, value);
      }
      return value;
    },
    describe: () => ({ type: 'integer', minimum: min, maximum: max }),
  };
}

export interface StringOptions {
  minLength?: number;
  maxLength: number;
  pattern?: RegExp;
  /** Human wording of the pattern for error messages, e.g. "64 lowercase hex digits". */
  patternRule?: string;
}

/**
 * A JSON string of bounded length (in UTF-16 code units) that is well formed
 * (no lone surrogates: RFC 8785 and I-JSON forbid them) and, optionally,
 * matches a pattern.
 */
export function string(options: StringOptions): Schema<string> {
  const minLength = options.minLength ?? 0;
  const { maxLength, pattern } = options;
  const lengthRule = `string of ${minLength}..${maxLength} characters`;
  const patternRule = options.patternRule ?? (pattern ? `string matching ${pattern.source}` : '');
  return {
    parse(value, path = '') {
      if (typeof value !== 'string') fail(path, lengthRule, value);
      if (value.length < minLength || value.length > maxLength) fail(path, lengthRule, value);
      if (pattern && !pattern.test(value)) fail(path, patternRule, value);
      if (!value.isWellFormed()) fail(path, 'well-formed Unicode (no lone surrogates)', value);
      return value;
    },
    describe: () => ({
      type: 'string',
      minLength,
      maxLength,
      ...(pattern ? { pattern: pattern.source } : {}),
    }),
  };
}

/** One of a fixed set of string values. */
export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const set = new Set<string>(values);
  const rule = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return {
    parse(value, path = '') {
      if (typeof value !== 'string' || !set.has(value)) fail(path, rule, value);
      return value as T[number];
    },
    describe: () => ({ enum: [...values] }),
  };
}

/** Exactly one value (string, number or boolean). */
export function literal<const T extends string | number | boolean>(expected: T): Schema<T> {
  const rule = `exactly ${JSON.stringify(expected)}`;
  return {
    parse(value, path = '') {
      if (value !== expected) fail(path, rule, value);
      return expected;
    },
    describe: () => ({ const: expected }),
  };
}

export function boolean(): Schema<boolean> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'boolean') fail(path, 'boolean', value);
      return value;
    },
    describe: () => ({ type: 'boolean' }),
  };
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    parse(value, path = '') {
      return value === null ? null : inner.parse(value, path);
    },
    describe: () => ({ anyOf: [inner.describe(), { type: 'null' }] }),
  };
}

export interface ArrayOptions {
  minItems?: number;
  maxItems: number;
}

export function array<T>(item: Schema<T>, options: ArrayOptions): Schema<T[]> {
  const minItems = options.minItems ?? 0;
  const { maxItems } = options;
  const rule = `array of ${minItems}..${maxItems} items`;
  return {
    parse(value, path = '') {
      if (!Array.isArray(value) || value.length < minItems || value.length > maxItems) {
        fail(path, rule, value);
      }
      const out = new Array<T>(value.length);
      let i = 0;
      try {
        for (; i < value.length; i++) out[i] = item.parse(value[i]);
      } catch (error) {
        throw within(error, `${path}[${i}]`);
      }
      return out;
    },
    describe: () => ({ type: 'array', items: item.describe(), minItems, maxItems }),
  };
}

const OPTIONAL = Symbol('optional');

/** Marks an object field as optional: absent is fine, `undefined` never reaches the wire. */
export interface OptionalSchema<T> extends Schema<T> {
  readonly [OPTIONAL]: true;
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return { ...inner, parse: inner.parse, describe: inner.describe, [OPTIONAL]: true };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object with exactly the given fields (optional ones may be absent; no others). */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const known = new Set(keys);
  const required = keys.filter((k) => !(OPTIONAL in (shape[k] as object)));
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) fail(path, 'object', value);
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!known.has(key)) {
          throw new ValidationError(at(path, key), 'no such field (unknown fields are rejected)', 'present');
        }
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const field = value[key];
        const schema = shape[key] as Schema<unknown>;
        if (field === undefined) {
          if (OPTIONAL in schema) continue;
          throw new ValidationError(at(path, key), 'required', 'missing');
        }
        try {
          out[key] = schema.parse(field);
        } catch (error) {
          throw within(error, at(path, key));
        }
      }
      return out as ObjectOf<S>;
    },
    describe: () => ({
      type: 'object',
      additionalProperties: false,
      required,
      properties: Object.fromEntries(keys.map((k) => [k, (shape[k] as Schema<unknown>).describe()])),
    }),
  };
}

/**
 * One of several object schemas chosen by a string tag field (for example
 * `type` in a tender). An unknown tag is reported on the tag field.
 */
export function taggedUnion<K extends string, const M extends Record<string, Schema<unknown>>>(
  tag: K,
  variants: M,
): Schema<Infer<M[keyof M]>> {
  const tags = Object.keys(variants);
  const tagRule = `one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) fail(path, 'object', value);
      const t = value[tag];
      if (typeof t !== 'string' || !Object.hasOwn(variants, t)) fail(at(path, tag), tagRule, t);
      return (variants[t] as Schema<Infer<M[keyof M]>>).parse(value, path);
    },
    describe: () => ({ oneOf: tags.map((t) => (variants[t] as Schema<unknown>).describe()) }),
  };
}

/** Adds a rule over the parsed value; `check` returns null when fine, else `[field, rule]`. */
export function refine<T>(
  inner: Schema<T>,
  check: (value: T) => readonly [field: string, rule: string] | null,
): Schema<T> {
  return {
    parse(value, path = '') {
      const parsed = inner.parse(value, path);
      const problem = check(parsed);
      if (problem) {
        const [field, rule] = problem;
        throw new ValidationError(field ? at(path, field) : path || '(root)', rule, 'violated');
      }
      return parsed;
    },
    describe: inner.describe,
  };
}

/** Any JSON object, validated later by another schema chosen from context (e.g. an op body by kind). */
export function anyObject(maxKeys = 64): Schema<Record<string, unknown>> {
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) fail(path, 'object', value);
      if (Object.keys(value).length > maxKeys) fail(path, `object with at most ${maxKeys} fields`, value);
      return value;
    },
    describe: () => ({ type: 'object' }),
  };
}
