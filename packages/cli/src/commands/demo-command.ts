/**
 * `holdfast demo`: terminals selling through scripted trouble, then a
 * reconciliation summary (see @holdfast/sim's demo scenario for the script).
 */
import { formatMoney } from '@holdfast/protocol';
import { type DemoReport, formatViolation, runBettingShop, runDemo } from '@holdfast/sim';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { ProgressBar } from '../progress-bar.js';
import { runLiveDemo } from './demo-live.js';

export const DEMO_HELP = `holdfast demo [--scenario stadium|betting-shop] [--terminals N] [--seed S] [--minutes M] [--json]
holdfast demo --live [--port P] [--host H] [--terminals N] [--minutes M]

Starts an embedded server and N simulated terminals (real SDK, real SQLite
journals) that sell through a partial network partition, responses lost after
the server committed, and clerks pressing retry; then heals the network,
drains every queue and prints a reconciliation summary. Runs in virtual time:
the same seed gives the same report.
  --scenario S    stadium (default) or betting-shop
  --terminals N   terminals (1..64)                 default 8 (betting-shop: 6 shops)
  --seed S        random seed                       default 7
  --minutes M     minutes of trading (20..600)      default 60 (betting-shop: 120)
  --json          print one JSON object instead of the summary
Card sales are approved offline under a server-issued risk policy, forwarded
to an in-process card processor (losing answers after commit, one outage),
and a stolen card sold offline comes back as a post-authorization decline.
Customers also pay with stored-value wristbands (topped up in cash at the
tills); one wristband is cloned and spent on two offline lanes beyond its
balance: after the heal the server raises wristband_overspend and blocks it.
Exit status is 1 if anything was lost or applied twice, the offline exposure
passed its bound, or the run broke any invariant of the simulator (the demo
is a scripted SimWorld run, checked like every simulated one).

--live runs it in real time for the operator console instead: a real server
on --port (default 8080; host default 127.0.0.1), terminals (default 6)
selling every 2 s through a repeating script (a zone offline for a minute, a
stolen card declined after authorization, a drawer counted short, one lane
going silent); it prints the console address and a sign-in and runs until
Ctrl-C, or for --minutes M.

--scenario betting-shop: a day in a chain of betting shops on flapping links
(docs/betting.md): staff sign in, tickets are sold online, some voided with a
supervisor's approval (voids without one are refused at the till), results
settle them, winners are paid at their shop or another (a paid ticket
presented again is declined), and the drawers are counted. The report counts
tickets, settlements, payouts, voids and drawers from the server's tables;
exit status 1 if a ticket was paid twice, a void lacked its approval, an
honest drawer showed a variance, an op was lost or applied twice, or any
invariant broke.`;

export async function demoCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    terminals: { type: 'string' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
    scenario: { type: 'string' },
    json: { type: 'boolean' },
    live: { type: 'boolean' },
    port: { type: 'string' },
    host: { type: 'string' },
  });
  if (flags.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  if (flags.live) {
    return runLiveDemo({
      port: intFlag(flags, 'port', 8080, 0, 65_535),
      host: stringFlag(flags, 'host') ?? '127.0.0.1',
      terminals: intFlag(flags, 'terminals', 6, 2, 32),
      minutes: flags.minutes === undefined ? null : intFlag(flags, 'minutes', 1, 1, 600),
    });
  }
  const scenario = flags.scenario ?? 'stadium';
  if (scenario !== 'stadium' && scenario !== 'betting-shop') {
    throw new UsageError(`--scenario must be stadium or betting-shop, got ${JSON.stringify(scenario)}`);
  }
  if (scenario === 'betting-shop') return bettingShop(flags);
  const terminals = intFlag(flags, 'terminals', 8, 1, 64);
  const seed = intFlag(flags, 'seed', 7, 0, 2 ** 32 - 1);
  const minutes = intFlag(flags, 'minutes', 60, 20, 600);
  const bar = new ProgressBar();
  const started = performance.now();
  const report = await runDemo({ terminals, seed, minutes, onProgress: (f, label) => bar.update(f, label) });
  bar.done();
  const wallSeconds = (performance.now() - started) / 1000;
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else console.log(renderReport(report, wallSeconds));
  const ok =
    report.lost === 0 &&
    report.duplicatesApplied === 0 &&
    report.recorded === report.applied &&
    report.exposureMax <= report.exposureBound &&
    report.cards.exposureBreaches === 0 &&
    report.invoicesTwice === 0 &&
    report.violations.length === 0;
  return ok ? 0 : 1;
}

type DemoFlags = Record<string, string | boolean | undefined>;

async function bettingShop(flags: DemoFlags): Promise<number> {
  const shops = intFlag(flags, 'terminals', 6, 1, 64);
  const seed = intFlag(flags, 'seed', 7, 0, 2 ** 32 - 1);
  const minutes = intFlag(flags, 'minutes', 120, 20, 600);
  const bar = new ProgressBar();
  const started = performance.now();
  const r = await runBettingShop({ shops, seed, minutes, onProgress: (f, label) => bar.update(f, label) });
  bar.done();
  const wallSeconds = (performance.now() - started) / 1000;
  const ok =
    r.payoutsTwice === 0 &&
    r.voidsWithoutApproval === 0 &&
    r.refundsOverSale === 0 &&
    r.falseVariances === 0 &&
    r.lost === 0 &&
    r.duplicatesApplied === 0 &&
    r.recorded === r.applied &&
    r.violations.length === 0;
  if (flags.json) {
    console.log(JSON.stringify(r, null, 2));
    return ok ? 0 : 1;
  }
  const money = (n: number) => formatMoney(n, r.currency);
  const check = (good: boolean) => (good ? 'ok' : 'FAILED');
  const c = r.counters;
  const declined = Object.entries(c.payoutsDeclined)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  console.log(
    [
      `Holdfast betting shops — ${r.shops} shops, seed ${r.seed}, ${r.virtualMinutes} virtual minutes in ${wallSeconds.toFixed(1)} s`,
      '',
      `  tickets issued / settled        ${r.ticketsIssued} / ${r.ticketsSettled} (${c.pendingAtSale} were pending confirmation when sold)`,
      `  payouts                         ${r.payouts} (${money(r.payoutsTotal)}); ${c.paidElsewhere} at another shop; declined: ${declined || 'none'}`,
      `  paid twice                      ${r.payoutsTwice}   ${check(r.payoutsTwice === 0)}`,
      `  voids                           ${r.voids}; ${c.voidsRefusedAtTill} without approval refused at the till`,
      `  voids without approval          ${r.voidsWithoutApproval}   ${check(r.voidsWithoutApproval === 0)}`,
      `  sale voids / refunds            ${r.saleVoids} / ${r.refunds}; ${r.corrections?.saleVoidsRefusedAtTill ?? 0} voids without approval refused at the till`,
      `  refunds over their sale         ${r.refundsOverSale} unflagged   ${check(r.refundsOverSale === 0)} (${r.refundsOverSaleFlagged} flagged refund_over_sale)`,
      `  false drawer variances          ${r.falseVariances}   ${check(r.falseVariances === 0)}`,
      `  ops recorded / applied          ${r.recorded} / ${r.applied}   ${check(r.recorded === r.applied)}`,
      `  lost / applied twice            ${r.lost} / ${r.duplicatesApplied}   ${check(r.lost === 0 && r.duplicatesApplied === 0)}`,
      ...(r.violations.length > 0
        ? [
            '',
            `Invariants broken               ${r.violations.length}   FAILED`,
            ...r.violations.slice(0, 20).map((v) => `  ${formatViolation(v)}`),
          ]
        : []),
    ].join('\n'),
  );
  return ok ? 0 : 1;
}

const minuteText = (minute: number | undefined) => (minute === undefined ? '—' : String(minute));

function renderReport(r: DemoReport, wallSeconds: number): string {
  const money = (n: number) => formatMoney(n, r.sales.currency);
  const check = (ok: boolean) => (ok ? 'ok' : 'FAILED');
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const s = r.script;
  const c = r.cards;
  const w = r.wristbands;
  const refused = Object.entries(w.refused)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  const spends = w.clone.spends.map((sp) => `${money(sp.amount)} on ${sp.lane}`).join(' and ');
  const rows = r.perTerminal.map(
    (t) =>
      `  ${t.label}  ${t.zone.padEnd(5)}  ${String(t.recorded).padStart(8)}  ${String(t.confirmed).padStart(9)}  ${String(t.pending).padStart(7)}  ${String(t.deadLetters).padStart(4)}  ${String(t.maxPending).padStart(11)}  ${money(t.salesTotal).padStart(14)}`,
  );
  const exceptions = Object.entries(r.exceptions)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  return [
    `Holdfast demo — ${r.terminals} terminals, seed ${r.seed}, ${r.virtualMinutes} virtual minutes in ${wallSeconds.toFixed(1)} s`,
    '',
    `Trouble: ${s.partitionedZone} lanes offline minutes ${s.partition[0]}–${s.partition[1]}; responses lost after commit (${pct(s.lyingLossRate)} in minutes ${s.lyingNetwork[0]}–${s.lyingNetwork[1]}, ${pct(s.backgroundLossRate)} otherwise);`,
    `         clerks pressed retry ${r.manualRetries} times; the network healed at minute ${s.heal}; shifts closed at minute ${s.close}.`,
    '',
    '  lane     zone   recorded  confirmed  pending  dead  max pending           sales',
    ...rows,
    '',
    'Reconciliation',
    `  ops recorded on terminals      ${r.recorded}`,
    `  ops applied on the server      ${r.applied}   ${check(r.recorded === r.applied)}`,
    `  lost                           ${r.lost}   ${check(r.lost === 0)}`,
    `  applied twice                  ${r.duplicatesApplied}   ${check(r.duplicatesApplied === 0)}`,
    `  sales recorded / settled       ${money(r.sales.recordedTotal)} / ${money(r.sales.settledTotal)}   ${check(r.sales.recordedTotal === r.sales.settledTotal)}`,
    `  conflicts / forks / dead       ${r.conflicts} / ${r.forks} / ${r.deadLetters}`,
    `  failed attempts, retried       ${r.retries} (${r.duplicatesAnswered} ops turned out to have landed: answered as duplicates)`,
    `  network                        ${r.network.requests} requests, ${r.network.partitioned} hit the partition, ${r.network.requestsLost} lost, ${r.network.responsesLost} responses lost after commit`,
    `  deepest queue                  ${r.maxQueueDepth} ops; drained ${r.partitionDrainSeconds ?? '—'} s after the partition, ${r.drainSeconds ?? '—'} s after the heal`,
    `  exceptions for operators       ${exceptions || 'none'}`,
    '',
    'Card payments',
    `  approved offline               ${c.offline} (${money(c.offlineTotal)}); ${c.cashFallbacks} sent online by the policy, paid cash`,
    `  forwarded to the processor     ${c.approved} approved, ${c.declined} declined; ${c.recoveredByKey} answers lost after commit, found by key; processor outage minutes ${s.processorOutage[0]}–${s.processorOutage[1]}`,
    `  charged once                   ${c.processorAuthorizations} authorizations for ${c.offline} offline payments   ${check(c.processorAuthorizations === c.offline)}`,
    `  stolen card                    ${c.stolenCardSale ? `sold offline on ${c.stolenCardSale.lane} at minute ${c.stolenCardSale.minute} (${money(c.stolenCardSale.amount)}, ****${c.stolenCardSale.last4})` : 'refused offline by the policy'}`,
    `  post-authorization declines    ${r.postAuthDeclines} (each a post_auth_decline exception)`,
    `  offline exposure               at most ${money(r.exposureMax)} held unsettled; bound ${money(r.exposureBound)}   ${check(r.exposureMax <= r.exposureBound && c.exposureBreaches === 0)}`,
    '',
    'Wristbands',
    `  paid by wristband              ${w.sales} sales (${money(w.salesTotal)}); refused offline, paid cash: ${refused || 'none'}`,
    `  topped up in cash              ${w.topUps} (${money(w.topUpsTotal)}); ${w.wallets} wallets on the server, ${w.blocked} blocked`,
    `  cloned wristband               ${w.clone.wristband}: ${money(w.clone.toppedUp)} on the chip, then ${spends || 'not spent'} at minute ${minuteText(w.clone.spends[0]?.minute)} while offline`,
    `  overspends                     ${r.overspends} (wristband_overspend); server balance ${w.clone.serverBalance === null ? '—' : money(w.clone.serverBalance)}, blocked (${w.clone.blockedReason ?? 'not blocked'}), known to ${w.clone.lanesKnowingBlock} of ${r.terminals} terminals   ${check(r.overspends >= 1 && w.clone.blockedReason !== null)}`,
    '',
    'E-invoicing (a simulated tax authority, after the evening)',
    `  bills registered               ${r.invoicesIssued}; registered twice ${r.invoicesTwice}   ${check(r.invoicesTwice === 0)}`,
    ...(r.loyalty
      ? [
          '',
          'Loyalty points',
          `  cards scanned                  ${r.loyalty.scanned} sales; ${r.loyalty.earnedPoints} points earned; ${r.loyalty.lookups} balances looked up`,
          `  redeemed                       ${r.loyalty.offlineRedemptions} offline (${r.loyalty.offlinePoints} points, within the cap); ${r.loyalty.onlineRedemptions} online with the member's code (${r.loyalty.onlinePoints} points)`,
          `  points conserved               ${r.pointsConserved ? 'yes' : 'no'}   ${check(r.pointsConserved)}`,
        ]
      : []),
    // A clean run prints nothing more: every invariant of the simulator held.
    ...(r.violations.length > 0
      ? [
          '',
          `Invariants broken               ${r.violations.length}   FAILED`,
          ...r.violations.slice(0, 20).map((v) => `  ${formatViolation(v)}`),
        ]
      : []),
  ].join('\n');
}
