import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../args.js';
import { processorFlags } from './server-command.js';

describe('holdfast server: processor forwarding flags', () => {
  it('off without --processor-url', () => {
    assert.equal(processorFlags({}), undefined);
  });

  it('--processor-url with --processor-key turns forwarding on', () => {
    assert.deepEqual(processorFlags({ 'processor-url': 'http://127.0.0.1:8090', 'processor-key': 'k' }), {
      url: 'http://127.0.0.1:8090',
      apiKey: 'k',
      intervalMs: 2_000,
      onlineTimeoutMs: 8_000,
      deadlineHours: 72,
    });
  });

  it('--processor-online-timeout-ms sets the online timeout, within 100..120000, and needs --processor-url', () => {
    const base = { 'processor-url': 'http://x', 'processor-key': 'k' };
    assert.equal(processorFlags({ ...base, 'processor-online-timeout-ms': '100' })?.onlineTimeoutMs, 100);
    assert.equal(processorFlags({ ...base, 'processor-online-timeout-ms': '120000' })?.onlineTimeoutMs, 120_000);
    assert.throws(() => processorFlags({ ...base, 'processor-online-timeout-ms': '99' }), UsageError);
    assert.throws(() => processorFlags({ ...base, 'processor-online-timeout-ms': '120001' }), UsageError);
    assert.throws(() => processorFlags({ 'processor-online-timeout-ms': '5000' }), UsageError);
  });

  it('--forward-deadline-hours: 1..2160 hours, needs --processor-url', () => {
    const flags = { 'processor-url': 'http://x', 'processor-key': 'k' };
    assert.equal(processorFlags({ ...flags, 'forward-deadline-hours': '24' })?.deadlineHours, 24);
    assert.equal(processorFlags({ ...flags, 'forward-deadline-hours': '2160' })?.deadlineHours, 2160);
    assert.throws(() => processorFlags({ ...flags, 'forward-deadline-hours': '0' }), UsageError);
    assert.throws(() => processorFlags({ ...flags, 'forward-deadline-hours': '2161' }), UsageError);
    assert.throws(() => processorFlags({ ...flags, 'forward-deadline-hours': 'soon' }), UsageError);
    assert.throws(() => processorFlags({ 'forward-deadline-hours': '24' }), UsageError);
  });

  it('refuses a key without a URL, a URL without a key, and a URL that is not http(s)', () => {
    assert.throws(() => processorFlags({ 'processor-key': 'k' }), UsageError);
    assert.throws(() => processorFlags({ 'processor-url': 'http://x' }), UsageError);
    assert.throws(() => processorFlags({ 'processor-url': 'ftp://x', 'processor-key': 'k' }), UsageError);
  });
});
