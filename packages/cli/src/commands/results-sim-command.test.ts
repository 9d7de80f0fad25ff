/**
 * `holdfast results-sim`: the draw (seeded, one winner per market or the
 * whole market void) and the command against a real server holding
 * accepted tickets: they are settled, and posting the same seed again
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import {
  authorizeMessage,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  signMessage,
  uuidv7,
} from '@holdfast/protocol';
import { type RunningServer, startServer } from '@holdfast/server';
import { UsageError } from '../args.js';
import { drawResults, parseMarkets, resultsSimCommand } from './results-sim-command.js';

const OPERATOR = 'results-sim-test-operator-token-0123456789';
const MARKETS = parseMarkets('match_result=home|draw|away');

describe('holdfast results-sim', () => {
  it('draws one winner per market, the same for the same seed; a voided market is all void', () => {
    const a = drawResults(new SeededRandom(7), MARKETS, 0);
    assert.deepEqual(a, drawResults(new SeededRandom(7), MARKETS, 0));
    assert.equal(a.filter((r) => r.result === 'won').length, 1);
    assert.equal(a.filter((r) => r.result === 'lost').length, 2);
    assert.deepEqual(
      drawResults(new SeededRandom(7), MARKETS, 100).map((r) => r.result),
      ['void', 'void', 'void'],
    );
    assert.throws(() => parseMarkets('match_result=home'), UsageError);
  });

  describe('against a server', () => {
    let dir: string;
    let server: RunningServer;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'holdfast-results-sim-'));
      server = await startServer({ dataDir: dir, port: 0, logger: false, operatorToken: OPERATOR });
    });
    after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return res.json() as Promise<Record<string, unknown>>;
    };

    it('settles the tickets on the events it posts; the same seed again changes nothing', async () => {
      await admin('PUT', '/v1/admin/betting', {
        limits: [
          { currency: 'MXN', minStake: 100, maxStake: 100_000, maxPayout: 1_000_000, selectionLiabilityCap: 1_000_000 },
        ],
        suspended: { events: [], markets: [] },
      });
      const { token } = (await admin('POST', '/v1/admin/enrollment-tokens', {})) as { token: string };
      const keys = generateDeviceKeys();
      const key = importPrivateKey(keys.privateKey);
      const enrolled = await fetch(`${server.url}/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token,
          publicKey: keys.publicKey,
          sig: signMessage(enrollmentMessage(token, keys.publicKey), key),
        }),
      });
      const device = ((await enrolled.json()) as { deviceId: string }).deviceId;
      for (const selection of ['home', 'draw', 'away']) {
        const at = Date.now();
        const opId = uuidv7(at, crypto.getRandomValues(new Uint8Array(10)));
        const request = {
          kind: 'ticket' as const,
          stake: 1_000,
          currency: 'MXN',
          selections: [{ event: 'ev-sim', market: 'match_result', selection, odds: 300 }],
        };
        const res = await fetch(`${server.url}/v1/authorize`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            device,
            opId,
            at,
            sig: signMessage(authorizeMessage(device, opId, at, request), key),
            request,
          }),
        });
        assert.equal(((await res.json()) as { status: string }).status, 'approved');
      }
      const argv = ['--server', server.url, '--operator-token', OPERATOR, '--events', 'ev-sim', '--seed', '3'];
      assert.equal(await resultsSimCommand(argv), 0);
      const states = ((await admin('GET', '/v1/admin/tickets')) as { tickets: { state: string }[] }).tickets
        .map((t) => t.state)
        .sort();
      assert.deepEqual(states, ['lost', 'lost', 'won']);
      assert.equal(await resultsSimCommand(argv), 0, 'the same results again: a no-op');
      assert.equal(
        await resultsSimCommand([...argv, '--void-pct', '100']),
        1,
        'another result: refused (result_conflict)',
      );
    });
  });
});
