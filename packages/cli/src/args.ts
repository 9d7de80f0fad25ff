/**
 * Command-line argument parsing on node:util parseArgs, with errors that
 * name the flag and what it takes.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { settingLabel } from './config/source.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Joins `--flag value` into `--flag=value` when the value starts with a dash
 * but is not itself a flag: tokens are base64url and one in 32 starts with
 * "-", which parseArgs would otherwise refuse as ambiguous.
 */
function joinDashValues(argv: readonly string[], options: Options): string[] {
  const stringFlags = new Set<string>();
  const known = new Set<string>(['--help', '-h']);
  for (const [name, option] of Object.entries(options)) {
    known.add(`--${name}`);
    if (option.short) known.add(`-${option.short}`);
    if (option.type === 'string') {
      stringFlags.add(`--${name}`);
      if (option.short) stringFlags.add(`-${option.short}`);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (stringFlags.has(arg) && next?.startsWith('-') && !known.has(next.split('=')[0] as string)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseFlags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({
      args: joinDashValues(argv, options),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function intFlag(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${settingLabel(values, name)} must be a whole number from ${min} to ${max}, got "${String(raw)}"`,
    );
  }
  return n;
}

export function stringFlag(values: Record<string, unknown>, name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

export function requiredString(values: Record<string, unknown>, name: string): string {
  const raw = stringFlag(values, name);
  if (raw === undefined || raw === '') throw new UsageError(`--${name} is required`);
  return raw;
}
