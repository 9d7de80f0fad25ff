/** Validation of path and query parameters, with errors that name the parameter. */
import { ProtocolError, UUID_PATTERN, UUID_RULE } from '@holdfast/protocol';

export function uuidParam(value: unknown, name: string): string {
  if (typeof value !== 'string' || !UUID_PATTERN.test(value)) {
    throw new ProtocolError('invalid_request', `${name} must be a UUID (version 7 or 8)`, {
      field: name,
      rule: UUID_RULE,
    });
  }
  return value;
}

export function intQuery(
  query: unknown,
  name: string,
  options: { min: number; max: number; fallback: number },
): number {
  const raw = (query as Record<string, unknown> | undefined)?.[name];
  if (raw === undefined || raw === '') return options.fallback;
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < options.min || value > options.max) {
    throw new ProtocolError(
      'invalid_request',
      `query parameter ${name} must be an integer ${options.min}..${options.max}`,
      {
        field: `query.${name}`,
        rule: `integer ${options.min}..${options.max}`,
      },
    );
  }
  return value;
}
