/**
 * Two shops pay one winning ticket at once, through two real `holdfast
 * server --database-url` processes on one PostgreSQL (docs/betting.md,
 * "The race"). Each shop sends many payout requests (new op ids, as a
 * retried or double-pressed till would) alternately to both processes,
 * all in flight together. Exactly one payout is approved; every other
 * answer is a decline `ticket_paid` carrying the receipt of that one
 * payout; the database holds one payout row and one `paid` history event.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  type AuthorizeResponse,
  authorizeMessage,
  type EnrollResponse,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  type OnlineRequest,
  signMessage,
  uuidv7,
} from '@holdfast/protocol';
import { PostgresStorage } from '@holdfast/server';
import { startTestPostgres } from '@holdfast/server/testing/postgres';
import {
  CliProcess,
  freePort,
  removeTempDirs,
  START_TIMEOUT_MS,
  startServerProcessWith,
  tempDir,
} from './e2e-fixture.js';

const ATTEMPTS_PER_SHOP = 12;

const pg = await startTestPostgres();
const storages: PostgresStorage[] = [];
after(async () => {
  await CliProcess.killAll();
  await Promise.all(storages.map((s) => s.close()));
  await pg.stop();
  removeTempDirs();
});

/** `holdfast server` with `args` on `port`, once /v1/health answers (retried while the port is still taken). */
const startServer = (name: string, args: string[], port: number): Promise<CliProcess> =>
  startServerProcessWith(args, port, name, START_TIMEOUT_MS);

async function call<T>(
  method: string,
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A shop's device, enrolled over HTTP, that signs authorization requests. */
async function shop(url: string, operatorToken: string) {
  const { body: issued } = await call<{ token: string }>(
    'POST',
    `${url}/v1/admin/enrollment-tokens`,
    {},
    operatorToken,
  );
  const keys = generateDeviceKeys();
  const privateKey = importPrivateKey(keys.privateKey);
  const sig = signMessage(enrollmentMessage(issued.token, keys.publicKey), privateKey);
  const res = await call<EnrollResponse>('POST', `${url}/v1/enroll`, {
    token: issued.token,
    publicKey: keys.publicKey,
    sig,
  });
  assert.equal(res.status, 200);
  const id = res.body.deviceId;
  return {
    id,
    async authorize(target: string, request: OnlineRequest) {
      const at = Date.now();
      const opId = uuidv7(at, crypto.getRandomValues(new Uint8Array(10)));
      const body = {
        device: id,
        opId,
        at,
        sig: signMessage(authorizeMessage(id, opId, at, request), privateKey),
        request,
      };
      const answer = await call<AuthorizeResponse>('POST', `${target}/v1/authorize`, body);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body;
    },
  };
}

test('a payout raced from two shops through two server processes on PostgreSQL pays once', async () => {
  const dir = tempDir('payout-race');
  const url = await pg.newDatabase();
  const tokenFile = join(dir, 'operator-token');
  const common = ['--database-url', url, '--data', dir, '--operator-token-file', tokenFile];
  const ports = [await freePort(), await freePort()];
  await Promise.all(ports.map((port, i) => startServer(`server-${i}`, common, port)));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`) as [string, string];
  const operatorToken = readFileSync(tokenFile, 'utf8').trim();

  const config = {
    limits: [
      { currency: 'MXN', minStake: 100, maxStake: 1_000_000, maxPayout: 10_000_000, selectionLiabilityCap: 10_000_000 },
    ],
    suspended: { events: [], markets: [] },
  };
  assert.equal((await call('PUT', `${urls[0]}/v1/admin/betting`, config, operatorToken)).status, 200);
  const a = await shop(urls[0], operatorToken);
  const b = await shop(urls[1], operatorToken);
  const selections = [{ event: 'mx-liga-ame-gua', market: 'match_result', selection: 'home', odds: 275 }];
  const sold = await a.authorize(urls[0], { kind: 'ticket', stake: 10_000, currency: 'MXN', selections });
  assert.equal(sold.status, 'approved');
  const settled = await call<{ settled: { won: number } }>(
    'POST',
    `${urls[1]}/v1/admin/events/mx-liga-ame-gua/results`,
    { results: [{ market: 'match_result', selection: 'home', result: 'won' }] },
    operatorToken,
  );
  assert.deepEqual([settled.status, settled.body.settled.won], [200, 1]);

  const payout: OnlineRequest = { kind: 'payout', ticket: sold.opId, amount: 27_500, currency: 'MXN' };
  const attempts: Promise<AuthorizeResponse>[] = [];
  for (let i = 0; i < ATTEMPTS_PER_SHOP; i++) {
    attempts.push(a.authorize(urls[i % 2] as string, payout), b.authorize(urls[(i + 1) % 2] as string, payout));
  }
  const answers = await Promise.all(attempts);
  const approved = answers.filter((x) => x.status === 'approved');
  assert.equal(approved.length, 1, JSON.stringify(answers));
  const winner = approved[0] as AuthorizeResponse;
  const declined = answers.filter((x) => x.status === 'declined');
  assert.equal(declined.length, 2 * ATTEMPTS_PER_SHOP - 1);
  for (const x of declined) {
    assert.equal(x.reason, 'ticket_paid');
    assert.deepEqual(
      [x.firstPayout?.opId, x.firstPayout?.amount, x.firstPayout?.currency],
      [winner.opId, 27_500, 'MXN'],
    );
    assert.ok(x.firstPayout?.device === a.id || x.firstPayout?.device === b.id);
  }

  const db = new PostgresStorage({ connectionString: url });
  storages.push(db);
  assert.deepEqual(await db.query('SELECT op_id FROM ticket_payouts'), [{ op_id: winner.opId }]);
  assert.deepEqual(await db.query('SELECT state FROM ticket_events WHERE ticket_id = $1 ORDER BY pos', [sold.opId]), [
    { state: 'accepted' },
    { state: 'won' },
    { state: 'paid' },
  ]);
});
