/**
 * How `holdfast simulate` prints: one run's key figures and its violations
 * (each explained, with the replay command), a campaign's summary per
 * scenario with its failing seeds, and the list of scenarios.
 */
import { formatMoney } from '@holdfast/protocol';
import { SCENARIOS, type ScenarioResult } from '@holdfast/sim';
import type { CampaignOptions, SeedOutcome } from './seed-campaign.js';

const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

const secs = (s: number | null) => (s === null ? 'never' : `${s} s`);

export function renderResult(r: ScenarioResult): string {
  const f = r.figures;
  const load = f.peakServerLoad;
  const net = f.network;
  const worst = f.heals.reduce<(typeof f.heals)[number] | null>(
    (a, h) =>
      h.drainSeconds === null || (a !== null && a.drainSeconds !== null && a.drainSeconds >= h.drainSeconds) ? a : h,
    null,
  );
  const check = (ok: boolean) => (ok ? 'ok' : 'FAILED');
  const lines = [
    `Holdfast simulate — ${r.scenario}${r.variant !== r.scenario ? ` (${r.variant})` : ''}, seed ${r.seed}, ${r.size} size: ${r.ok ? 'OK' : `FAILED, ${r.violations.length} violations`}`,
    `  ${f.terminals} terminals, ${f.virtualHours} virtual hours in ${r.wallSeconds} s of wall time`,
    `  parameters: ${Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    '',
    `  ops recorded / applied        ${r.recorded} / ${r.applied}   ${check(r.lost === 0)}`,
    `  applied twice / lost          ${r.duplicatesApplied} / ${r.lost}   ${check(r.duplicatesApplied === 0 && r.lost === 0)}`,
    `  sales                         ${f.sales.count}, ${formatMoney(f.sales.total, f.sales.currency)}`,
    `  retries                       ${f.retries} failed attempts retried; clerks pressed retry ${f.manualRetries} times, asked ${f.requeries} times; ${f.duplicatesAnswered} ops answered as duplicates`,
    `  max queue depth               ${f.maxQueueDepth} ops over the fleet, ${f.maxLaneQueueDepth} on one terminal`,
    `  heal → drained                ${secs(f.drainSeconds)} at worst over ${f.heals.length} heals${worst ? ` (${worst.label}: ${worst.backlog} ops on ${worst.lanes} terminals)` : ''}; end of faults → all empty ${secs(f.finalDrainSeconds)}`,
    `  reconnect spread              ${secs(f.reconnectSpreadSeconds)} between the first and last terminal back`,
    `  peak server load              ${load.peakRequestsPerSecond} requests/s, ${load.peakBatchesPerSecond} batches/s, ${load.peakOpsPerSecond} ops/s; ${load.maxInFlight} in flight; longest queue wait ${load.maxQueueDelayMs} ms`,
    `  power cuts (terminals)        ${f.crashes.terminal}: ${tally(f.crashes.terminalBy)}`,
    `  server crashes                ${f.crashes.server}: ${tally(f.crashes.serverBy)}`,
    `  network                       ${net.requests} requests: ${net.requestsLost} lost, ${net.responsesLost} answers lost after commit, ${net.partitioned} cut off, ${net.timeouts} timeouts, ${net.duplicated} duplicated, ${net.reordered} reordered, ${net.spikes} spikes, ${net.refused} refused, ${net.lateAnswers} late answers`,
    `  clocks                        drift up to ${f.clock.maxDriftMs < 10_000 ? `${f.clock.maxDriftMs} ms` : `${Math.round(f.clock.maxDriftMs / 1000)} s`}; the server's offset estimates off by at most ${f.clock.maxEstimateErrorMs} ms`,
    `  exceptions for operators      ${tally(f.exceptions)}`,
  ];
  const c = f.cards;
  if (c) {
    const money = (n: number) => formatMoney(n, f.sales.currency);
    const p = c.processor;
    lines.push(
      `  card sales offline            ${c.offlineApproved} approved offline (${money(c.offlineApprovedTotal)}); sent online by the policy ${Object.values(c.needsOnline).reduce((a, b) => a + b, 0)} (${tally(c.needsOnline)}): ${c.cashFallbacks} paid cash, ${c.dropped} walked away`,
      `  forwarded to the processor    ${c.forwarded.approved} approved, ${c.forwarded.declined} declined after the fact (${c.postAuthDeclines} post_auth_decline exceptions); ${c.forwarded.recovered} answers lost and found by key; ${c.forwarded.unsettledAttempts} left for a later round; ${c.rounds} rounds (${c.roundsFailed} cut by a crash)`,
      `  processor                     ${p.authorizeCalls} calls: ${p.created} created, ${p.replayed} replayed, ${p.lostAnswers} answers lost after commit, ${p.refused} refused in outages, ${p.lookups} lookups by key`,
      `  offline exposure              at most ${money(c.exposure.max)} in ${c.exposure.maxCount} payments held unsettled; bound ${money(c.exposure.bound)} / ${c.exposure.boundCount} (${c.exposure.samples} samples)`,
      `  wristbands                    ${c.wristbands.sales} sales (${money(c.wristbands.salesTotal)}), ${c.wristbands.topUps} cash top-ups (${money(c.wristbands.topUpsTotal)}); refused, paid cash: ${tally(c.wristbands.refused)}`,
    );
  }
  for (const x of f.injected) {
    lines.push(
      `  injected fork                 ${x.lane} restored from an image at seq ${x.backupSeq}: ${x.discarded} ops gone with the device, ${x.forks} fork alarms`,
    );
  }
  if (r.violations.length > 0) {
    lines.push('', 'Violations');
    for (const v of r.violations) lines.push(v.explanation ?? `✗ ${v.rule}: ${v.message}`, '');
  }
  lines.push(`replay: ${r.replay}`);
  return lines.join('\n');
}

export function renderCampaign(
  o: CampaignOptions,
  outcomes: SeedOutcome[],
  wallSeconds: number,
  json: boolean,
): string {
  const failed = outcomes.filter((x) => !x.ok);
  const perMinute = wallSeconds > 0 ? Math.round((outcomes.length / wallSeconds) * 60) : outcomes.length;
  const byScenario = new Map<
    string,
    { runs: number; failed: number; violations: number; ops: number; wallSeconds: number }
  >();
  for (const x of outcomes) {
    const row = byScenario.get(x.variant) ?? { runs: 0, failed: 0, violations: 0, ops: 0, wallSeconds: 0 };
    row.runs++;
    if (!x.ok) row.failed++;
    row.violations += x.violations.length;
    row.ops += x.ops;
    row.wallSeconds += x.wallSeconds;
    byScenario.set(x.variant, row);
  }
  if (json) {
    return JSON.stringify(
      {
        scenario: o.scenario,
        seeds: { from: o.from, to: o.to },
        runs: outcomes.length,
        failed: failed.length,
        ok: failed.length === 0,
        wallSeconds: Math.round(wallSeconds * 10) / 10,
        seedsPerMinute: perMinute,
        byScenario: Object.fromEntries(byScenario),
        failures: failed.map(({ seed, variant, replay, violations }) => ({ seed, variant, replay, violations })),
      },
      null,
      2,
    );
  }
  const rows = [...byScenario].map(
    ([name, r]) =>
      `  ${name.padEnd(28)}${String(r.runs).padStart(6)}${String(r.failed).padStart(8)}${String(r.ops).padStart(10)}${`${r.wallSeconds.toFixed(1)} s`.padStart(11)}`,
  );
  const lines = [
    `Holdfast simulate — seeds ${o.from}..${o.to}, scenario ${o.scenario}: ${outcomes.length} runs in ${wallSeconds.toFixed(1)} s (${perMinute} seeds/minute, ${o.jobs} job${o.jobs === 1 ? '' : 's'}), ${failed.length === 0 ? 'all green' : `${failed.length} FAILED`}`,
    '',
    `  ${'scenario'.padEnd(28)}${'runs'.padStart(6)}${'failed'.padStart(8)}${'ops'.padStart(10)}${'wall'.padStart(11)}`,
    ...rows,
  ];
  if (failed.length > 0) {
    lines.push('', 'Failing seeds (each replays exactly):');
    for (const x of failed.slice(0, 50)) {
      lines.push(
        `  seed ${x.seed} (${x.variant}): ${x.violations[0]?.rule}: ${x.violations[0]?.message.split('\n')[0]}`,
      );
      lines.push(`    ${x.replay}`);
    }
    if (failed.length > 50) lines.push(`  … and ${failed.length - 50} more`);
  }
  return lines.join('\n');
}

export function renderList(): string {
  const lines: string[] = [];
  for (const s of SCENARIOS) {
    lines.push(`${s.name} — ${s.description}`);
    for (const [name, meaning] of Object.entries(s.parameters)) {
      const small = s.small[name];
      lines.push(
        `  ${name.padEnd(24)}${String(s.defaults[name]).padStart(8)}${small === undefined ? '' : ` (small ${small})`}  ${meaning}`,
      );
    }
    lines.push('');
  }
  lines.push('random — one of the above with small random parameters drawn from the seed (the seed campaigns)');
  return lines.join('\n');
}
