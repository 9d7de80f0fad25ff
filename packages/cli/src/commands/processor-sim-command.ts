/**
 * `holdfast processor-sim`: runs the card processor simulator, the acquirer
 * the server forwards card payments to (docs/processor-sim.md).
 */
import { resolve } from 'node:path';
import { API_KEY_FILE, type StartProcessorSimOptions, startProcessorSim, TIMEOUT_MODES } from '@holdfast/processor-sim';
import { intFlag, stringFlag, UsageError } from '../args.js';
import { loadSettings } from '../config/index.js';

export const PROCESSOR_SIM_HELP = `holdfast processor-sim [--port P] [--data DIR] [--api-key K] [--seed N] [--latency-ms A..B] …

Runs the card processor (acquirer) simulator: authorizations once per
Idempotency-Key, stored in SQLite in DIR, with latency, declines, outages and
answers lost after the commit drawn from a seed. Every knob can also be
changed at run time with POST /v1/admin/config (docs/processor-sim.md).
  --data DIR            data directory (database, API key)                 default ./processor-sim-data
  --port P              TCP port (0: any free port)                        default 8090
  --host H              address to listen on                               default 127.0.0.1
  --api-key K           bearer key (at least 16 characters) (default: DIR/api-key, created on first start)
  --seed N              seed of every random decision, 0..4294967295        default: random, logged
  --latency-ms A..B     added latency, uniform in A..B ms (or one number)  default 0
  --decline-rate R      probability of a do_not_honor decline, 0..1        default 0
  --processor-error-rate R  probability of a processor_error decline    default 0
  --outage-rate R       probability of a 503 before anything is stored     default 0
  --timeout-after-commit-rate R  probability that a new authorization is
                        stored and its answer never sent                   default 0
  --timeout-mode M      hang (hold the connection, then drop it) | destroy  default hang
  --hang-ms N           how long a hang holds the connection               default 60000
  --log-level L         fatal|error|warn|info|debug|trace|silent           default info
  --config FILE         settings from a JSON file (keys: the flag names)
Environment: HOLDFAST_PROCESSOR_SIM_<FLAG>, e.g. HOLDFAST_PROCESSOR_SIM_PORT, HOLDFAST_PROCESSOR_SIM_API_KEY.
Logs are JSON lines on stdout. SIGINT/SIGTERM close it gracefully.`;

/** The flags of `holdfast processor-sim`; each is also HOLDFAST_PROCESSOR_SIM_<FLAG> and a config file key. */
export const PROCESSOR_SIM_OPTIONS = {
  data: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string' },
  seed: { type: 'string' },
  'latency-ms': { type: 'string' },
  'decline-rate': { type: 'string' },
  'processor-error-rate': { type: 'string' },
  'outage-rate': { type: 'string' },
  'timeout-after-commit-rate': { type: 'string' },
  'timeout-mode': { type: 'string' },
  'hang-ms': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export async function processorSimCommand(argv: string[]): Promise<number> {
  const flags = loadSettings(argv, {
    command: 'processor-sim',
    envPrefix: 'HOLDFAST_PROCESSOR_SIM_',
    options: PROCESSOR_SIM_OPTIONS,
  });
  if (flags.help) {
    console.log(PROCESSOR_SIM_HELP);
    return 0;
  }
  const dataDir = resolve(stringFlag(flags, 'data') ?? 'processor-sim-data');
  const apiKey = stringFlag(flags, 'api-key');
  if (apiKey !== undefined && apiKey.length < 16) throw new UsageError('--api-key must be at least 16 characters');
  const options: StartProcessorSimOptions = {
    dataDir,
    port: intFlag(flags, 'port', 8090, 0, 65535),
    host: stringFlag(flags, 'host') ?? '127.0.0.1',
    logger: { level: stringFlag(flags, 'log-level') ?? 'info' },
    ...(apiKey ? { apiKey } : {}),
    ...(flags.seed !== undefined ? { seed: intFlag(flags, 'seed', 0, 0, 0xffffffff) } : {}),
    ...(flags['latency-ms'] !== undefined ? { latencyMs: latencyFlag(stringFlag(flags, 'latency-ms') ?? '') } : {}),
    ...rateFlag(flags, 'decline-rate', 'declineRate'),
    ...rateFlag(flags, 'processor-error-rate', 'processorErrorRate'),
    ...rateFlag(flags, 'outage-rate', 'outageRate'),
    ...rateFlag(flags, 'timeout-after-commit-rate', 'timeoutAfterCommitRate'),
    ...(flags['hang-ms'] !== undefined ? { hangMs: intFlag(flags, 'hang-ms', 0, 0, 600_000) } : {}),
  };
  const mode = stringFlag(flags, 'timeout-mode');
  if (mode !== undefined) {
    if (!(TIMEOUT_MODES as readonly string[]).includes(mode)) {
      throw new UsageError(`--timeout-mode must be ${TIMEOUT_MODES.join(' or ')}, got "${mode}"`);
    }
    options.timeoutMode = mode as (typeof TIMEOUT_MODES)[number];
  }

  const sim = await startProcessorSim(options);
  sim.app.log.info(
    {
      url: sim.url,
      dataDir,
      seed: sim.seed,
      knobs: sim.service.knobs,
      ...(apiKey ? {} : { apiKeyFile: `${dataDir}/${API_KEY_FILE}` }),
    },
    'processor-sim listening',
  );
  return serveUntilSignal(sim);
}

/** Serves until SIGINT or SIGTERM, then closes `sim` (logging a failure to close) and returns 0. */
export async function serveUntilSignal(sim: {
  app: { log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void } };
  close(): Promise<void>;
}): Promise<number> {
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      sim.app.log.info({ signal }, 'shutting down');
      sim.close().then(done, (error) => {
        sim.app.log.error({ err: error }, 'error while shutting down');
        done();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

/** `--latency-ms 20..200` (or `50`) as [min, max]. */
export function latencyFlag(raw: string): [number, number] {
  const match = /^(\d{1,6})(?:\.\.(\d{1,6}))?$/.exec(raw);
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (!match || min > max || max > 600_000) {
    throw new UsageError(`--latency-ms must be A..B (or one number) with 0 <= A <= B <= 600000, got "${raw}"`);
  }
  return [min, max];
}

/** A probability flag, as `{ [key]: value }` when given. */
function rateFlag<K extends string>(flags: Record<string, unknown>, name: string, key: K): { [P in K]?: number } {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return {};
  const value = /^(\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`--${name} must be a number from 0 to 1, got "${raw}"`);
  return { [key]: value } as { [P in K]?: number };
}
