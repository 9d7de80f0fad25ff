/**
 * Where each setting's value came from, carried on the parsed values so an
 * error can name what the operator has to fix. Kept apart from settings.ts so
 * args.ts can name sources without importing the loader.
 */

export type Source = { kind: 'flag' } | { kind: 'env'; name: string } | { kind: 'file'; path: string };

export const SOURCES = Symbol('holdfast.settings.sources');

/** Parsed values, as parseFlags returns them, with where each came from. */
export type Settings = Record<string, string | boolean | string[] | undefined> & { [SOURCES]?: Record<string, Source> };

/** How to name a setting in an error: `--port`, `HOLDFAST_PORT` or `port in FILE`. */
export function settingLabel(values: Record<string, unknown>, name: string): string {
  const source = (values as Settings)[SOURCES]?.[name];
  if (!source || source.kind === 'flag') return `--${name}`;
  if (source.kind === 'env') return source.name;
  return `"${name}" in ${source.path}`;
}

/** Where a setting's value came from (flag when unknown). */
export function settingSource(values: Record<string, unknown>, name: string): Source {
  return (values as Settings)[SOURCES]?.[name] ?? { kind: 'flag' };
}
