/**
 * loadOrCreateSecretFile: reads a random secret (an API key, an operator
 * token) kept in a file, creating the file on first use.
 *
 * Several processes may start at once on one file: the secret is written
 * to a private draft (mode 0600) and hard-linked into place, so exactly one
 * draft wins and nobody reads a half-written file. Node-only (file system).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Reads the secret in `path` (trimmed), creating it — 24 random bytes, base64url, mode 0600 — if missing. */
export function loadOrCreateSecretFile(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(draft, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(draft, { force: true });
    }
  }
  return readFileSync(path, 'utf8').trim();
}
