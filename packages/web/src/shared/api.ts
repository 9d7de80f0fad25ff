/**
 * The operator API from the browser: same-origin fetches authenticated by
 * the session cookie, the CSRF token (the readable `holdfast_csrf` cookie)
 * sent on every unsafe request, and the server's coded errors kept whole.
 */

export const CSRF_COOKIE = 'holdfast_csrf';

/** A non-2xx answer: the server's `{code, message}`, and the request field it named, if any. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function cookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Called on every `unauthorized` / `session_expired` answer (the app shows the sign-in again). */
let onSignedOut: (() => void) | null = null;
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = cookie(CSRF_COOKIE);
    if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  }
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (!res.ok) {
    const wire = (json ?? {}) as { code?: unknown; message?: unknown; field?: unknown };
    const code = typeof wire.code === 'string' ? wire.code : `http_${res.status}`;
    const message = typeof wire.message === 'string' ? wire.message : `${method} ${path}: HTTP ${res.status}`;
    if ((code === 'unauthorized' || code === 'session_expired') && path !== '/v1/admin/session') onSignedOut?.();
    throw new ApiError(res.status, code, message, typeof wire.field === 'string' ? wire.field : undefined);
  }
  return json as T;
}
