/**
 * A seed campaign: runs many seeds of the simulator and keeps a short
 * outcome of each (the full results would not fit a 10,000-seed run). With
 * more than one job, seeds are sharded over child processes of this same
 * command (`--shard k/n --ndjson`), each printing one JSON line per seed;
 * every seed still runs exactly as it would alone.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { InjectableBug } from '@holdfast/domain';
import { type Params, runScenario } from '@holdfast/sim';

export interface CampaignOptions {
  scenario: string;
  from: number;
  to: number;
  size: 'default' | 'small';
  overrides: Params;
  storage: 'disk' | 'memory';
  jobs: number;
  bugs: readonly InjectableBug[];
}

/** What a campaign keeps of one run. */
export interface SeedOutcome {
  seed: number;
  variant: string;
  ok: boolean;
  ops: number;
  wallSeconds: number;
  replay: string;
  violations: { rule: string; message: string }[];
}

/** Runs one seed in this process (a crash of the simulator itself is a failed seed, not an abort). */
export async function runSeed(o: CampaignOptions, seed: number): Promise<SeedOutcome> {
  try {
    const r = await runScenario(o.scenario, seed, {
      size: o.size,
      overrides: o.overrides,
      storage: o.storage,
      bugs: o.bugs,
      explain: 0,
    });
    return {
      seed,
      variant: r.variant,
      ok: r.ok,
      ops: r.recorded,
      wallSeconds: r.wallSeconds,
      replay: r.replay,
      violations: r.violations.slice(0, 5).map((v) => ({ rule: v.rule, message: v.message })),
    };
  } catch (error) {
    return {
      seed,
      variant: o.scenario,
      ok: false,
      ops: 0,
      wallSeconds: 0,
      replay: `holdfast simulate --scenario ${o.scenario} --seed ${seed}`,
      violations: [{ rule: 'simulator-error', message: (error as Error).stack ?? String(error) }],
    };
  }
}

/** The seeds of shard `k` of `n` (every n-th seed), so slow and fast scenarios spread evenly. */
export function shardSeeds(from: number, to: number, k: number, n: number): number[] {
  const seeds: number[] = [];
  for (let seed = from + k; seed <= to; seed += n) seeds.push(seed);
  return seeds;
}

/** Runs the campaign, calling `onOutcome` as each seed finishes (in completion order). */
export async function runCampaign(o: CampaignOptions, onOutcome: (outcome: SeedOutcome) => void): Promise<void> {
  if (o.jobs <= 1) {
    for (let seed = o.from; seed <= o.to; seed++) onOutcome(await runSeed(o, seed));
    return;
  }
  const jobs = Math.min(o.jobs, o.to - o.from + 1);
  await Promise.all(Array.from({ length: jobs }, (_, k) => runShard(o, k, jobs, onOutcome)));
}

function runShard(o: CampaignOptions, k: number, n: number, onOutcome: (outcome: SeedOutcome) => void): Promise<void> {
  const script = process.argv[1];
  if (!script) throw new Error('cannot find the holdfast script to start shards');
  const args = [
    ...process.execArgv,
    script,
    'simulate',
    '--scenario',
    o.scenario,
    '--seeds',
    `${o.from}..${o.to}`,
    '--shard',
    `${k}/${n}`,
    '--ndjson',
    '--storage',
    o.storage,
    ...(o.size === 'small' ? ['--small'] : []),
    ...(Object.keys(o.overrides).length > 0
      ? [
          '--set',
          Object.entries(o.overrides)
            .map(([name, v]) => `${name}=${v}`)
            .join(','),
        ]
      : []),
    ...o.bugs.flatMap((b) => ['--inject-bug', b]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const seen = new Set<number>();
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const outcome = JSON.parse(line) as SeedOutcome;
      seen.add(outcome.seed);
      onOutcome(outcome);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      // A shard that died takes its remaining seeds with it: report them as failed, never as skipped.
      for (const seed of shardSeeds(o.from, o.to, k, n)) {
        if (!seen.has(seed)) {
          onOutcome({
            seed,
            variant: o.scenario,
            ok: false,
            ops: 0,
            wallSeconds: 0,
            replay: `holdfast simulate --scenario ${o.scenario} --seed ${seed}`,
            violations: [{ rule: 'simulator-error', message: `shard ${k}/${n} exited with code ${code}` }],
          });
        }
      }
      resolve();
    });
  });
}
