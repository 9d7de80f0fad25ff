/**
 * `holdfast simulate`: the deterministic simulator from the command line —
 * one scenario and seed (with every violation explained and the command
 * that replays it), a campaign over many seeds, or the list of scenarios.
 */
import { availableParallelism } from 'node:os';
import { bugInjectionAllowed, INJECTABLE_BUGS, type InjectableBug } from '@holdfast/domain';
import { findScenario, type Params, runScenario, SCENARIO_NAMES, SCENARIOS } from '@holdfast/sim';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { ProgressBar } from '../progress-bar.js';
import { renderCampaign, renderList, renderResult } from '../simulate/render-simulation.js';
import { type CampaignOptions, runCampaign, runSeed, type SeedOutcome, shardSeeds } from '../simulate/seed-campaign.js';

export const SIMULATE_HELP = `holdfast simulate --scenario NAME --seed N [--small] [--set k=v,...] [--json]
       holdfast simulate --seeds A..B [--scenario NAME] [--jobs N] [--json]
       holdfast simulate --list

Runs the deterministic simulator: real terminals (the SDK on SQLite journals)
and the real server, in one process on a virtual clock, through a network that
loses, delays, duplicates and reorders messages and cuts zones off; terminals
lose power at journal writes, the server crashes mid-batch, clocks drift and
clerks hammer retry. When the faults stop and the queues drain, every
invariant is checked against what is on disk. A seed replays a run exactly.
  --scenario NAME   ${SCENARIO_NAMES.join(', ')}
                    (random: a scenario and small parameters drawn from the seed;
                    the default with --seeds)
  --seed N          the seed (default 1)
  --seeds A..B      run seeds A to B (or N: 1 to N) and summarise; progress on a TTY
  --small           the scenario's small variant (same shape, a fraction of a second)
  --set k=v,...     scenario parameters (see --list)
  --storage S       disk (default) or memory (tmpfs, when there is one); real SQLite either way
  --jobs N          processes for --seeds (default: 1 below 20 seeds, else one per CPU)
  --json            one JSON object: the result, or the campaign's summary
  --list            the scenarios with their parameters and defaults
  --inject-bug B    switch on a deliberate bug (needs HOLDFAST_INJECT_BUGS=1):
                    ${Object.keys(INJECTABLE_BUGS).join(', ')}
Exit status is 1 if any invariant was violated.`;

export async function simulateCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    scenario: { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
    small: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    storage: { type: 'string' },
    jobs: { type: 'string' },
    json: { type: 'boolean' },
    list: { type: 'boolean' },
    'inject-bug': { type: 'string', multiple: true },
    shard: { type: 'string' },
    ndjson: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(SIMULATE_HELP);
    return 0;
  }
  if (flags.list) {
    console.log(
      flags.json
        ? JSON.stringify(
            SCENARIOS.map(({ build: _b, expect: _e, ...s }) => s),
            null,
            2,
          )
        : renderList(),
    );
    return 0;
  }
  const given = stringFlag(flags, 'scenario');
  if (given !== undefined && !SCENARIO_NAMES.includes(given)) {
    throw new UsageError(`--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got "${given}"`);
  }
  const storage = stringFlag(flags, 'storage') ?? 'disk';
  if (storage !== 'disk' && storage !== 'memory')
    throw new UsageError(`--storage must be disk or memory, got "${storage}"`);
  const bugs = injectedBugs(flags['inject-bug']);
  const seedsFlag = stringFlag(flags, 'seeds');
  if (seedsFlag === undefined) {
    if (given === undefined) throw new UsageError('--scenario (or --seeds, or --list) is required');
    const size = flags.small ? 'small' : 'default';
    const overrides = parseOverrides(given, flags.set);
    const seed = intFlag(flags, 'seed', 1, 0, 2 ** 32 - 1);
    const bar = new ProgressBar();
    const result = await runScenario(given, seed, {
      size,
      overrides,
      storage,
      bugs,
      onProgress: (f, label) => bar.update(f, label),
    });
    bar.done();
    console.log(flags.json ? JSON.stringify(result, null, 2) : renderResult(result));
    return result.ok ? 0 : 1;
  }

  const scenario = given ?? 'random';
  const [from, to] = parseRange(seedsFlag);
  const options: CampaignOptions = {
    scenario,
    from,
    to,
    size: flags.small || scenario === 'random' ? 'small' : 'default',
    overrides: scenario === 'random' ? {} : parseOverrides(scenario, flags.set),
    storage,
    jobs: intFlag(flags, 'jobs', to - from + 1 < 20 ? 1 : availableParallelism(), 1, 64),
    bugs,
  };
  const shard = stringFlag(flags, 'shard');
  if (shard !== undefined) {
    const [k, n] = shard.split('/').map(Number) as [number, number];
    for (const seed of shardSeeds(from, to, k, n)) console.log(JSON.stringify(await runSeed(options, seed)));
    return 0;
  }
  return campaign(options, flags.json === true, flags.ndjson === true);
}

async function campaign(options: CampaignOptions, json: boolean, ndjson: boolean): Promise<number> {
  const outcomes: SeedOutcome[] = [];
  const total = options.to - options.from + 1;
  const bar = new ProgressBar();
  const started = performance.now();
  await runCampaign(options, (outcome) => {
    outcomes.push(outcome);
    if (ndjson) console.log(JSON.stringify(outcome));
    const failed = outcomes.filter((o) => !o.ok).length;
    bar.update(
      outcomes.length / total,
      `seed ${outcome.seed} (${outcome.variant}) — ${outcomes.length}/${total}, ${failed} failed`,
    );
  });
  bar.done();
  const wallSeconds = (performance.now() - started) / 1000;
  outcomes.sort((a, b) => a.seed - b.seed);
  if (!ndjson) console.log(renderCampaign(options, outcomes, wallSeconds, json));
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

/** "A..B" or "N" (1..N). */
export function parseRange(text: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  const from = m?.[2] === undefined ? 1 : Number(m[1]);
  const to = m?.[2] === undefined ? Number(m?.[1]) : Number(m[2]);
  if (!m || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from || to < 1) {
    throw new UsageError(`--seeds must be A..B with A <= B (or a count N), got "${text}"`);
  }
  return [from, to];
}

/** --set k=v,k=v (repeatable), checked against the scenario's parameters. */
function parseOverrides(scenario: string, raw: unknown): Params {
  const items = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((s) => String(s).split(','));
  if (items.length > 0 && scenario === 'random') throw new UsageError('--set does not apply to the random scenario');
  const out: Record<string, number> = {};
  const known = items.length > 0 ? findScenario(scenario).defaults : {};
  for (const item of items.filter((s) => s.trim() !== '')) {
    const [name, value] = item.split('=').map((s) => s.trim()) as [string, string | undefined];
    const n = value === undefined || value === '' ? Number.NaN : Number(value);
    if (!(name in known)) {
      throw new UsageError(`--set: ${scenario} has no parameter "${name}" (it has ${Object.keys(known).join(', ')})`);
    }
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--set ${name} must be a number >= 0, got "${value ?? ''}"`);
    out[name] = n;
  }
  return out;
}

function injectedBugs(raw: unknown): InjectableBug[] {
  const names = Array.isArray(raw) ? raw.map(String) : [];
  if (names.length === 0) return [];
  if (!bugInjectionAllowed()) throw new UsageError('--inject-bug needs a process started with HOLDFAST_INJECT_BUGS=1');
  for (const name of names) {
    if (!Object.hasOwn(INJECTABLE_BUGS, name)) {
      throw new UsageError(`--inject-bug must be one of ${Object.keys(INJECTABLE_BUGS).join(', ')}, got "${name}"`);
    }
  }
  return names as InjectableBug[];
}
