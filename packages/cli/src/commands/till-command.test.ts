/**
 * `holdfast till` as a real process against an in-process server: its JSON
 * lines, carrying on from the journal after a restart, SIGTERM, and usage
 * errors. (The crash test, ../crash.test.ts, SIGKILLs it.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'till-test-operator-token-0123456789';
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-till-'));
  dirs.push(dir);
  return dir;
};

async function run(...args: string[]): Promise<{ code: number | null; till: CliProcess }> {
  const till = CliProcess.start('till', ['till', ...args]);
  const exit = await till.exited;
  return { code: exit.code, till };
}

describe('holdfast till', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ dataDir: tempDir(), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const newToken = async (): Promise<string> => {
    const res = await fetch(`${server.url}/v1/admin/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: '{}',
    });
    return ((await res.json()) as { token: string }).token;
  };

  it('enrolls, sells N sales in a shift, drains, and a restart carries on from the journal', async () => {
    const data = tempDir();
    const common = [
      '--data',
      data,
      '--server',
      server.url,
      '--interval-ms',
      '0',
      '--json-events',
      '--exit-when-drained',
    ];
    const first = await run(...common, '--token', await newToken(), '--label', 'lane-9', '--sales', '8');
    assert.equal(first.code, 0, first.till.stderr);
    assert.equal(first.till.eventsNamed('started')[0]?.sales, 0);
    const recorded = first.till.eventsNamed('recorded');
    assert.deepEqual(
      recorded.map((e) => [e.seq, e.kind]),
      [[1, 'shift.opened'], ...[2, 3, 4, 5, 6, 7, 8, 9].map((seq) => [seq, 'sale.recorded']), [10, 'shift.closed']],
    );
    const drained = first.till.eventsNamed('drained');
    assert.deepEqual(drained, [{ event: 'drained', recorded: 10, sales: 8, confirmed: 10, deadLetters: 0 }]);
    assert.equal(first.till.events.at(-2), drained[0], 'the summary, then the server’s word on the shift');
    const shiftId = recorded[0]?.id;
    assert.deepEqual(first.till.eventsNamed('z_report'), [
      { event: 'z_report', shift: shiftId, state: 'confirmed', pending: [], notApplied: [], differences: [] },
    ]);
    assert.equal(first.till.events.at(-1)?.event, 'z_report');

    const again = await run(...common, '--sales', '8');
    assert.equal(again.code, 0, again.till.stderr);
    assert.equal(again.till.eventsNamed('started')[0]?.sales, 8);
    assert.deepEqual(again.till.eventsNamed('recorded'), [], 'nothing more to record');

    const more = await run(...common, '--sales', '10');
    assert.equal(more.code, 0, more.till.stderr);
    assert.deepEqual(
      more.till.eventsNamed('recorded').map((e) => [e.seq, e.kind]),
      [
        [11, 'shift.opened'],
        [12, 'sale.recorded'],
        [13, 'sale.recorded'],
        [14, 'shift.closed'],
      ],
    );

    const res = await fetch(`${server.url}/v1/admin/devices`, { headers: { authorization: `Bearer ${OPERATOR}` } });
    const { devices } = (await res.json()) as { devices: { label: string; highWater: number }[] };
    assert.equal(devices.find((d) => d.label === 'lane-9')?.highWater, 14);
  });

  it('SIGTERM stops recording and closes the journal cleanly', async () => {
    const data = tempDir();
    const args = ['till', '--data', data, '--server', server.url, '--token', await newToken()];
    const till = CliProcess.start('till', [...args, '--interval-ms', '5', '--json-events']);
    await till.waitFor('3 recorded ops', () => till.eventsNamed('recorded').length >= 3, 30_000);
    assert.deepEqual(await till.kill('SIGTERM'), { code: 0, signal: null }, till.stderr);
    const stopped = till.eventsNamed('stopped')[0];
    assert.equal(stopped?.signal, 'SIGTERM');
    assert.equal(stopped?.latestSeq, till.eventsNamed('recorded').length);
    // The journal lock was released: a new till opens it at once and sells two more (plain output this time).
    const total = Number(stopped?.sales) + 2;
    const next = await run(
      ...['--data', data, '--server', server.url, '--sales', String(total), '--exit-when-drained', '--locale', 'es'],
    );
    assert.equal(next.code, 0, next.till.stderr);
    assert.match(
      next.till.lines.join('\n'),
      new RegExp(`drained: \\d+ ops recorded \\(${total} sales\\), \\d+ confirmed, 0 need attention`),
    );
    // The server's word on the Z report of the shift it closed, in the clerk's language.
    assert.match(next.till.lines.join('\n'), /: Informe Z confirmado por el servidor\. \(shift [0-9a-f-]+\)/);
  });

  it('usage errors name the flag and exit 2', async () => {
    const data = tempDir();
    const cases: [string[], RegExp][] = [
      [['--server', server.url], /--data is required/],
      [['--data', data, '--server', 'ftp://example.com'], /--server must be an http\(s\) URL/],
      [['--data', data, '--server', server.url, '--exit-when-drained'], /--exit-when-drained needs --sales N/],
      [['--data', data, '--server', server.url, '--interval-ms', 'soon'], /--interval-ms must be a whole number/],
      [['--data', data, '--server', server.url, '--backoff-s', '0,2,1'], /--backoff-s must be non-decreasing/],
      [['--data', data, '--server', server.url, '--backoff-s', '1,x'], /--backoff-s must be non-decreasing/],
      [['--data', data, '--server', server.url, '--shift-sales', '-1'], /--shift-sales must be a whole number/],
      [['--data', data, '--server', server.url, '--sales', '3'], /--token is required: the till in .* is not enrolled/],
    ];
    for (const [args, message] of cases) {
      const { code, till } = await run(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(till.stderr, message);
    }
  });

  it('--staff/--pin signs a member in from the roster the feed delivers; every op names them; a wrong PIN exits 1', async () => {
    const admin = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${server.url}/v1/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const added = await admin('POST', '/staff', {
      location: 'cli-hall',
      id: 'cli-ana',
      name: 'Ana',
      role: 'clerk',
      pin: '4821',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const token = (await admin('POST', '/enrollment-tokens', { merchant: 'acme', location: 'cli-hall' })).body
      .token as string;
    const data = tempDir();
    const common = ['--data', data, '--server', server.url, '--interval-ms', '0', '--json-events'];
    const wrong = await run(...common, '--token', token, '--sales', '1', '--staff', 'cli-ana', '--pin', '4822');
    assert.equal(wrong.code, 1);
    assert.match(wrong.till.stderr, /Wrong PIN\. 4 attempts left\./, 'the clerk’s words, English by default');
    assert.match(wrong.till.stderr, /wrong PIN for cli-ana \(4 tries left/);
    // In the till's language (--locale), the English detail kept for the log.
    const spanish = await run(...common, '--sales', '1', '--staff', 'cli-ana', '--pin', '4822', '--locale', 'es');
    assert.equal(spanish.code, 1);
    assert.match(spanish.till.stderr, /holdfast till: PIN incorrecto\. Quedan 3 intentos\./);
    const portuguese = await run(...common, '--sales', '1', '--staff', 'cli-ana', '--pin', '4822', '--locale', 'pt');
    assert.match(portuguese.till.stderr, /holdfast till: PIN incorreto/);
    assert.equal((await run(...common, '--locale', 'fr')).code, 2, 'a language the till has no words in');
    const none = await run(...common, '--sales', '1');
    assert.equal(none.code, 1, 'the location has a roster: nobody signed in records nothing');
    assert.match(none.till.stderr, /needs a signed-in staff member/);
    const ok = await run(...common, '--sales', '2', '--exit-when-drained', '--staff', 'cli-ana', '--pin', '4821');
    assert.equal(ok.code, 0, ok.till.stderr);
    const ids = ok.till.eventsNamed('recorded').map((e) => String(e.id));
    assert.equal(ids.length, 4);
    for (const id of ids) {
      const res = await fetch(`${server.url}/v1/admin/ops/${id}`, { headers: { authorization: `Bearer ${OPERATOR}` } });
      const stored = (await res.json()) as { op: { actor?: unknown } };
      assert.deepEqual(stored.op.actor, { staff: 'cli-ana' }, id);
    }
    const usage = await run(...common, '--staff', 'cli-ana');
    assert.equal(usage.code, 2);
    assert.match(usage.till.stderr, /--staff and --pin go together/);
  });
});
