/**
 * What the operator commands (`holdfast exposure`, `holdfast report`) share:
 * the server and operator-token flags, and one authorized GET whose failure
 * is printed for the operator (unreachable, or the server's error code,
 * message and field).
 */
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { stringFlag, UsageError } from '../args.js';
import { loadSettings, type Settings, settingLabel } from '../config/index.js';

/** The flags every operator command takes (spread into its parseFlags spec). */
export const OPERATOR_FLAGS = {
  server: { type: 'string' },
  'operator-token': { type: 'string' },
  'operator-token-file': { type: 'string' },
} as const;

/**
 * An operator command's flags, with the server and token also read from
 * HOLDFAST_URL, HOLDFAST_OPERATOR_TOKEN / HOLDFAST_OPERATOR_TOKEN_FILE and
 * the config file; the command's own flags (`own`) come from the command line.
 */
export function operatorSettings(
  argv: string[],
  command: string,
  own: NonNullable<ParseArgsConfig['options']>,
): Settings {
  return loadSettings(argv, {
    command,
    options: { ...OPERATOR_FLAGS, ...own },
    envNames: { server: 'HOLDFAST_URL' },
    flagOnly: Object.keys(own),
    alternatives: [['operator-token', 'operator-token-file']],
  });
}

export interface OperatorTarget {
  /** The server's base URL, without a trailing slash. */
  server: string;
  token: string;
}

/** The server and the operator token from the flags; UsageError naming the flag when one is missing or wrong. */
export function operatorTarget(flags: Record<string, unknown>): OperatorTarget {
  const server = stringFlag(flags, 'server');
  if (!server) throw new UsageError('--server (or HOLDFAST_URL) is required');
  if (!/^https?:\/\//.test(server))
    throw new UsageError(`${settingLabel(flags, 'server')} must be an http:// or https:// URL, got "${server}"`);
  const tokenFlag = stringFlag(flags, 'operator-token');
  const tokenFile = stringFlag(flags, 'operator-token-file');
  if (tokenFlag !== undefined && tokenFile !== undefined) {
    throw new UsageError('give --operator-token or --operator-token-file, not both');
  }
  if (tokenFlag === undefined && tokenFile === undefined) {
    throw new UsageError(
      '--operator-token or --operator-token-file (or HOLDFAST_OPERATOR_TOKEN / HOLDFAST_OPERATOR_TOKEN_FILE) is required',
    );
  }
  const token = tokenFlag ?? readFileSync(tokenFile as string, 'utf8').trim();
  return { server: server.replace(/\/+$/, ''), token };
}

/**
 * GETs `url` with the operator token. The parsed answer, or null after
 * printing why not to stderr as `holdfast <command>: …`.
 */
export function operatorGet<T>(command: string, url: URL, token: string): Promise<T | null> {
  return operatorCall<T>(command, 'GET', url, token);
}

/** One authorized request (JSON body if given); the parsed answer, or null after printing why not. */
export async function operatorCall<T>(
  command: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: URL,
  token: string,
  body?: unknown,
): Promise<T | null> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    console.error(`holdfast ${command}: cannot reach ${url.origin}: ${(error as Error).message}`);
    return null;
  }
  const answer = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const wire = answer as { code?: string; message?: string; field?: string } | null;
    const field = wire?.field ? ` (${wire.field})` : '';
    console.error(`holdfast ${command}: ${res.status} ${wire?.code ?? ''} ${wire?.message ?? ''}${field}`.trimEnd());
    return null;
  }
  return answer as T;
}
