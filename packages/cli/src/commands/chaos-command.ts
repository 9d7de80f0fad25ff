/**
 * `holdfast chaos`: the real-process chaos run (see chaos/chaos-run.ts) with
 * a report, exit 1 on any violation.
 */
import { existsSync, readdirSync } from 'node:fs';
import { formatMoney } from '@holdfast/protocol';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { type ChaosReport, randomSeed, runChaos } from '../chaos/chaos-run.js';

export const CHAOS_HELP = `holdfast chaos [--terminals N] [--seconds S] [--seed X] [--sales N] [--data DIR] [--json]

Starts a real server process, a fault-injecting TCP proxy in front of it and
N real till processes selling through the proxy. For S seconds the proxy
drops, delays, cuts answers mid-response and blackholes requests, and tills
and the server are SIGKILLed and restarted on their data, on a schedule drawn
from the seed. Then the network heals, every till drains, and the journals
and the server's database are checked: every recorded op applied exactly
once, complete chains, money conserved per till and per shift, nothing dead,
stored results unchanged.
  --terminals N   till processes (1..20)                                  default 3
  --seconds S     length of the chaos window (5..3600)                    default 60
  --seed X        schedule seed (0..4294967295)                           default random
  --sales N       sales per till (1..100000)                              default 3 per second
  --data DIR      keep server and till data in DIR (empty or new)         default a temp dir
  --json          print the report as one JSON object
Progress goes to stderr. Exit status is 1 on any violation; SIGINT kills every child.`;

export async function chaosCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    terminals: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    sales: { type: 'string' },
    data: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(CHAOS_HELP);
    return 0;
  }
  const terminals = intFlag(flags, 'terminals', 3, 1, 20);
  const seconds = intFlag(flags, 'seconds', 60, 5, 3600);
  const seed = intFlag(flags, 'seed', randomSeed(), 0, 2 ** 32 - 1);
  const salesPerTill = intFlag(flags, 'sales', Math.min(100_000, seconds * 3), 1, 100_000);
  const dataDir = stringFlag(flags, 'data');
  if (dataDir !== undefined && existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new UsageError(`--data must be a new or empty directory: ${dataDir} has files in it`);
  }

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => abort.abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let report: ChaosReport;
  try {
    report = await runChaos({
      terminals,
      seconds,
      seed,
      salesPerTill,
      ...(dataDir !== undefined ? { dataDir } : {}),
      signal: abort.signal,
      log: (line) => console.error(line),
    });
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    console.error(`holdfast chaos: ${(abort.signal.reason as Error).message}; every child process was killed`);
    return 130;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  console.log(flags.json ? JSON.stringify(report, null, 2) : renderReport(report));
  return report.violations.length === 0 ? 0 : 1;
}

function renderReport(r: ChaosReport): string {
  const f = r.proxy.faults;
  const t = r.totals;
  return [
    `Holdfast chaos — ${r.terminals} tills, ${r.seconds} s window, seed ${r.seed}, ${(r.elapsedMs / 1000).toFixed(1)} s in all`,
    '',
    `  kills                  ${r.kills.till} tills, ${r.kills.server} server (restarted: ${r.restarts.till} tills, ${r.restarts.server} server)`,
    `  proxy                  ${r.proxy.requests} requests on ${r.proxy.connections} connections: ${f.pass} passed, ${f.drop} dropped, ${f.delay} delayed,`,
    `                         ${f['cut-response']} answers cut, ${f.blackhole} blackholed, ${r.proxy.targetUnreachable} found the server down`,
    `  ops                    ${t.recorded} recorded on tills, ${t.onServer} on the server; ${t.sales} sales in ${t.shifts} shifts, ${formatMoney(t.salesTotal, 'EUR')}`,
    `  duplicates             ${r.duplicatesAnswered} answered by the server (at least), ${t.confirmedByDuplicate} ops confirmed by a duplicate answer`,
    `  stored results         ${r.snapshots} snapshotted mid-run and compared at the end`,
    `  violations             ${r.violations.length === 0 ? 'none' : r.violations.length}`,
    ...r.violations.map((v) => `    - ${v}`),
    ...(r.dataDir ? ['', `Data kept in ${r.dataDir}`] : []),
  ].join('\n');
}
