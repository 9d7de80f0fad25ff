import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intFlag, parseFlags, UsageError } from './args.js';

const OPTIONS = { token: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' } } as const;

describe('parseFlags', () => {
  it('takes a value that starts with a dash (a base64url token) after a string flag', () => {
    assert.deepEqual({ ...parseFlags(['--token', '-Xy_9', '--json'], OPTIONS) }, { token: '-Xy_9', json: true });
    assert.deepEqual({ ...parseFlags(['--token=-abc'], OPTIONS) }, { token: '-abc' });
  });

  it('still treats a following known flag as a flag, so a missing value is reported', () => {
    assert.throws(() => parseFlags(['--token', '--json'], OPTIONS), UsageError);
    assert.throws(() => parseFlags(['--token', '--port=1'], OPTIONS), UsageError);
  });

  it('rejects unknown flags and positionals, naming them', () => {
    assert.throws(() => parseFlags(['--turbo'], OPTIONS), /--turbo/);
    assert.throws(() => parseFlags(['extra'], OPTIONS), UsageError);
  });

  it('intFlag names the flag, the range and the bad value', () => {
    assert.equal(intFlag({ port: '8080' }, 'port', 1, 0, 65535), 8080);
    assert.equal(intFlag({}, 'port', 1, 0, 65535), 1);
    assert.throws(
      () => intFlag({ port: '8o80' }, 'port', 1, 0, 65535),
      /--port must be a whole number from 0 to 65535, got "8o80"/,
    );
    assert.throws(() => intFlag({ port: '-1' }, 'port', 1, 0, 65535), UsageError);
  });
});
