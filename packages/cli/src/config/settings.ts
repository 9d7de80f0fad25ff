/**
 * Settings from four places, in this order of precedence:
 *
 *   flag (--port 8080) > environment (HOLDFAST_PORT=8080) > config file
 *   (--config FILE or HOLDFAST_CONFIG, JSON: {"port": 8080}) > default
 *
 * A command declares its flags once (the parseFlags spec); this layer reads
 * the same names from the environment and the file, refuses what it cannot
 * use (unknown file keys, wrong JSON types, unreadable files), and hands the
 * command ONE record shaped like parsed flags, so the command's own checks
 * (intFlag, stringFlag, …) run unchanged on whatever source won. Each value
 * remembers where it came from, so an error names the key the operator has to
 * fix (`HOLDFAST_PORT must be …`, `port in /etc/holdfast.json must be …`).
 *
 * Adding a flag to a command adds its environment variable and file key.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { parseFlags, UsageError } from '../args.js';
import { type Settings, SOURCES, type Source } from './source.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The environment variable of a flag: the prefix and the flag in upper snake case (HOLDFAST_PORT). */
export function envName(flag: string, prefix = 'HOLDFAST_'): string {
  return `${prefix}${flag.replace(/-/g, '_').toUpperCase()}`;
}

export interface SettingsSpec {
  /** The command's name, for messages. */
  command: string;
  /** The command's flags, as given to parseFlags. */
  options: Options;
  /**
   * Prefix of the derived environment variables: HOLDFAST_ for the server;
   * other commands that run beside it take their own (HOLDFAST_TILL_), so a
   * till never picks up the server's HOLDFAST_DATA.
   */
  envPrefix?: string;
  /** Flags whose environment variable is not the derived one (e.g. server → HOLDFAST_URL). */
  envNames?: Readonly<Record<string, string>>;
  /**
   * Flags that are alternatives to each other (a token, or the file holding
   * it): when a stronger source sets one of a group, weaker sources' values
   * for the whole group are ignored rather than clashing.
   */
  alternatives?: readonly (readonly string[])[];
  /** Flags that only make sense on the command line (e.g. --help): not read from env or file. */
  flagOnly?: readonly string[];
}

/** One setting's value, as parseFlags gives it: a string, a boolean, or a list for a repeatable flag. */
type Value = string | boolean | string[];

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/**
 * Parses argv, then fills what the flags left unset from the environment,
 * then from the config file. UsageError naming the key on anything wrong.
 */
export function loadSettings(
  argv: string[],
  spec: SettingsSpec,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Settings {
  const flags = parseFlags(argv, { ...spec.options, config: { type: 'string' } });
  const sources: Record<string, Source> = {};
  for (const name of Object.keys(flags)) if (flags[name] !== undefined) sources[name] = { kind: 'flag' };
  const flagOnly = new Set(['help', 'config', ...(spec.flagOnly ?? [])]);
  const names = Object.keys(spec.options).filter((n) => !flagOnly.has(n));
  const out: Settings = { ...flags };

  const fromEnv: Record<string, Value> = {};
  const envSources: Record<string, Source> = {};
  for (const name of names) {
    const variable = spec.envNames?.[name] ?? envName(name, spec.envPrefix);
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    envSources[name] = { kind: 'env', name: variable };
    if (spec.options[name]?.type === 'boolean') {
      const lower = raw.toLowerCase();
      if (!TRUE.has(lower) && !FALSE.has(lower)) {
        throw new UsageError(`${variable} must be true or false (or 1/0, yes/no, on/off), got "${raw}"`);
      }
      fromEnv[name] = TRUE.has(lower);
    } else if (spec.options[name]?.multiple === true) {
      // A repeatable flag: the variable lists its values, comma-separated.
      fromEnv[name] = raw
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
    } else {
      fromEnv[name] = raw;
    }
  }

  const configPath = typeof flags.config === 'string' ? flags.config : env.HOLDFAST_CONFIG || undefined;
  const fromFile: Record<string, Value> = {};
  const fileSources: Record<string, Source> = {};
  if (configPath !== undefined) {
    const path = resolve(configPath);
    for (const [name, value] of Object.entries(readConfigFile(path, spec, names))) {
      fromFile[name] = value;
      fileSources[name] = { kind: 'file', path };
    }
  }

  const taken = (layer: Record<string, unknown>, group: readonly string[]) => group.some((n) => layer[n] !== undefined);
  const layers: [Record<string, Value>, Record<string, Source>][] = [
    [fromEnv, envSources],
    [fromFile, fileSources],
  ];
  for (const [layer, layerSources] of layers) {
    for (const [name, value] of Object.entries(layer)) {
      if (out[name] !== undefined) continue;
      const group = spec.alternatives?.find((g) => g.includes(name));
      if (group && taken(out, group)) continue;
      out[name] = value;
      sources[name] = layerSources[name] as Source;
    }
  }
  out[SOURCES] = sources;
  return out;
}

/** The config file's settings for `names`, as flag values; UsageError naming the file and key otherwise. */
function readConfigFile(path: string, spec: SettingsSpec, names: readonly string[]): Record<string, Value> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`the config file ${path} must hold one JSON object of settings, e.g. {"port": 8080}`);
  }
  const known = new Set(names);
  const out: Record<string, Value> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key)) {
      throw new UsageError(
        `unknown key "${key}" in the config file ${path}; holdfast ${spec.command} takes: ${[...known].sort().join(', ')}`,
      );
    }
    const where = `"${key}" in ${path}`;
    if (spec.options[key]?.type === 'boolean') {
      if (typeof value !== 'boolean')
        throw new UsageError(`${where} must be true or false, got ${JSON.stringify(value)}`);
      out[key] = value;
    } else if (
      spec.options[key]?.multiple === true &&
      Array.isArray(value) &&
      value.every((v) => typeof v === 'string')
    ) {
      // A repeatable flag: a list in the file, as parseFlags gives it.
      out[key] = value;
    } else if (typeof value === 'string') {
      out[key] = spec.options[key]?.multiple === true ? [value] : value;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      out[key] = String(value);
    } else {
      throw new UsageError(`${where} must be a string or a number, got ${JSON.stringify(value)}`);
    }
  }
  return out;
}
