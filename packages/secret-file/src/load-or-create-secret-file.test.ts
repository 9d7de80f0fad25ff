import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadOrCreateSecretFile } from './load-or-create-secret-file.js';

describe('loadOrCreateSecretFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'holdfast-secret-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates a 32-character secret with mode 0600 (and its directory), then reads the same one back', () => {
    const path = join(root, 'a', 'b', 'api-key');
    const secret = loadOrCreateSecretFile(path);
    assert.match(secret, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(loadOrCreateSecretFile(path), secret);
    assert.deepEqual(readdirSync(join(root, 'a', 'b')), ['api-key'], 'no draft left behind');
  });

  it('keeps a secret already in the file, trimmed', () => {
    const path = join(root, 'operator-token');
    writeFileSync(path, '  given-token-0123456789  \n');
    assert.equal(loadOrCreateSecretFile(path), 'given-token-0123456789');
  });
});
