/**
 * `holdfast fiscal-sim`: runs the tax authority simulator, the e-invoicing
 * service the server registers bills with (docs/e-invoicing.md).
 */
import { resolve } from 'node:path';
import { FISCAL_API_KEY_FILE, type StartFiscalSimOptions, startFiscalSim } from '@holdfast/processor-sim';
import { intFlag, stringFlag, UsageError } from '../args.js';
import { loadSettings } from '../config/index.js';
import { latencyFlag, serveUntilSignal } from './processor-sim-command.js';

export const FISCAL_SIM_HELP = `holdfast fiscal-sim [--port P] [--data DIR] [--api-key K] [--seed N] [--latency-ms A..B] …

Runs the tax authority simulator: each bill registered once per
Idempotency-Key and given the next sequential fiscal number, or rejected by
rule (a total of 0, a malformed seller tax id), stored in SQLite in DIR,
with latency, outages and answers lost after the commit drawn from a seed.
Knobs can also be changed at run time with POST /v1/admin/config
(docs/e-invoicing.md).
  --data DIR            data directory (database, API key)                 default ./fiscal-sim-data
  --port P              TCP port (0: any free port)                        default 8095
  --host H              address to listen on                               default 127.0.0.1
  --api-key K           bearer key (at least 16 characters) (default: DIR/fiscal-api-key, created on first start)
  --seed N              seed of every random decision, 0..4294967295        default: random, logged
  --latency-ms A..B     added latency, uniform in A..B ms (or one number)  default 0
  --outage-rate R       probability of a 503 before anything is stored     default 0
  --lost-answer-rate R  probability that a new bill is stored and its answer never sent  default 0
  --prefix P            fiscal number prefix (1 to 6 capital letters)       default FE
  --deregistered-tax-ids A,B  seller tax ids struck off: their bills refused for good (422)  default none
  --log-level L         fatal|error|warn|info|debug|trace|silent           default info
  --config FILE         settings from a JSON file (keys: the flag names)
Environment: HOLDFAST_FISCAL_SIM_<FLAG>, e.g. HOLDFAST_FISCAL_SIM_PORT.
Logs are JSON lines on stdout. SIGINT/SIGTERM close it gracefully.`;

export const FISCAL_SIM_OPTIONS = {
  data: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string' },
  seed: { type: 'string' },
  'latency-ms': { type: 'string' },
  'outage-rate': { type: 'string' },
  'lost-answer-rate': { type: 'string' },
  prefix: { type: 'string' },
  'deregistered-tax-ids': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

function rate(flags: Record<string, unknown>, name: string): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const value = /^(\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`--${name} must be a number from 0 to 1, got "${raw}"`);
  return value;
}

export async function fiscalSimCommand(argv: string[]): Promise<number> {
  const flags = loadSettings(argv, {
    command: 'fiscal-sim',
    envPrefix: 'HOLDFAST_FISCAL_SIM_',
    options: FISCAL_SIM_OPTIONS,
  });
  if (flags.help) {
    console.log(FISCAL_SIM_HELP);
    return 0;
  }
  const dataDir = resolve(stringFlag(flags, 'data') ?? 'fiscal-sim-data');
  const apiKey = stringFlag(flags, 'api-key');
  if (apiKey !== undefined && apiKey.length < 16) throw new UsageError('--api-key must be at least 16 characters');
  const prefix = stringFlag(flags, 'prefix');
  if (prefix !== undefined && !/^[A-Z]{1,6}$/.test(prefix)) {
    throw new UsageError(`--prefix must be 1 to 6 capital letters, got "${prefix}"`);
  }
  const deregistered = stringFlag(flags, 'deregistered-tax-ids');
  const deregisteredTaxIds = deregistered === undefined ? undefined : deregistered.split(',').filter((t) => t !== '');
  if (deregisteredTaxIds?.some((t) => !/^[A-Za-z0-9]{1,64}$/.test(t))) {
    throw new UsageError(`--deregistered-tax-ids must be tax ids separated by commas, got "${deregistered}"`);
  }
  const outagePct = rate(flags, 'outage-rate');
  const lostAnswerPct = rate(flags, 'lost-answer-rate');
  const options: StartFiscalSimOptions = {
    dataDir,
    port: intFlag(flags, 'port', 8095, 0, 65535),
    host: stringFlag(flags, 'host') ?? '127.0.0.1',
    logger: { level: stringFlag(flags, 'log-level') ?? 'info' },
    ...(apiKey ? { apiKey } : {}),
    ...(flags.seed !== undefined ? { seed: intFlag(flags, 'seed', 0, 0, 0xffffffff) } : {}),
    ...(flags['latency-ms'] !== undefined ? { latencyMs: latencyFlag(stringFlag(flags, 'latency-ms') ?? '') } : {}),
    ...(outagePct !== undefined ? { outagePct } : {}),
    ...(lostAnswerPct !== undefined ? { lostAnswerPct } : {}),
    ...(prefix ? { prefix } : {}),
    ...(deregisteredTaxIds ? { deregisteredTaxIds } : {}),
  };
  const sim = await startFiscalSim(options);
  sim.app.log.info(
    {
      url: sim.url,
      dataDir,
      seed: sim.seed,
      knobs: sim.knobs(),
      ...(apiKey ? {} : { apiKeyFile: `${dataDir}/${FISCAL_API_KEY_FILE}` }),
    },
    'fiscal-sim listening',
  );
  return serveUntilSignal(sim);
}
