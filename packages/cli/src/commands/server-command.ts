/**
 * `holdfast server`: runs the settlement server on embedded SQLite, or on
 * PostgreSQL (any number of processes on one database).
 */
import { readFileSync, type Stats, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import {
  type AdmissionOptions,
  checkedOrigin,
  DEFAULT_EDGE,
  DEFAULT_POOL_SIZE,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type EdgeOptions,
  loadOrCreateOperatorTokenFile,
  type RunningServer,
  type SourceLimitOptions,
  startServer,
  type TlsFiles,
} from '@holdfast/server';
import { intFlag, stringFlag, UsageError } from '../args.js';
import { loadSettings, settingLabel } from '../config/index.js';

export const SERVER_HELP = `holdfast server [--data DIR] [--database-url URL] [--port P] [--host H] [--operator-token T] [--log-level L] …

Runs the settlement server on embedded SQLite in DIR (created if missing), or
on PostgreSQL with --database-url (several processes may share one database).
Migrations run at start-up either way.
  --data DIR            data directory (SQLite database, operator token) default ./holdfast-data
  --database-url URL    postgres://user@host:5432/db: store in PostgreSQL (DATABASE_URL is not read;
                        keep the password in PGPASSWORD or ~/.pgpass rather than in the URL)
  --db-pool-size N      connections to PostgreSQL per process            default 10
  --port P              TCP port                                          default 8080
  --host H              address to listen on                              default 127.0.0.1
  --operator-token T    bootstrap admin token for /v1/admin (default: DIR/operator-token, created on first start)
  --operator-token-file F  read the token from F instead (created if missing); share it between processes.
                        A token file is re-read when it changes and on SIGHUP; the old token works 5 more min
  --body-limit BYTES    largest request body                              default 4194304
  --log-level L         fatal|error|warn|info|debug|trace|silent          default info
  --tls-cert FILE, --tls-key FILE  serve HTTPS with this PEM certificate (chain) and key;
                        reloaded without a restart on SIGHUP or when either file changes
Backpressure (see docs/operations.md):
  --max-backlog N       backlog batches admitted at once; more get 503    default 16
  --max-backlog-wait-ms N  fewer backlog batches while slow: N ms of ingest default 2000
  --max-live N          live-lane batches admitted at once                default 256
  --ingest-concurrency N  batches ingested at once                        default 8 (1 with --storage-thread off)
  --device-inflight N   batches of one device at once; more get 429       default 2
  --device-rate N       batches a second per device (0: no limit)         default 50
  --device-burst N      burst allowance per device                        default 100
  --storage-thread on|off  SQLite on its own thread (off: on the main thread) default on
  --processor-url URL   the card processor: forwards offline-approved card payments and
                        authorizes online card payments (POST /v1/authorize); off by default
  --processor-key K     the processor's API key (needed with --processor-url)
  --processor-key-file F  read the processor's API key from F instead
  --forward-interval-ms N  pause between forwarding rounds                default 2000
  --processor-online-timeout-ms N  processor call timeout while a terminal waits  default 8000
  --forward-deadline-hours N  forwarding deadline of an offline payment (warning at 75 %, alarm
                        when missed; see docs/exceptions.md)               default 72
  --fiscal-url URL      the tax authority (holdfast fiscal-sim): registers every sale as a
                        bill and records its fiscal number (docs/e-invoicing.md); off by default
  --fiscal-key-file F   the authority's API key, first line of F (needed with --fiscal-url)
  --fiscal-tax-id ID    the seller's tax id sent with every bill (needed with --fiscal-url)
  --fiscal-interval-ms N  pause between e-invoicing rounds                 default 2000
  --fiscal-deadline-hours N  the jurisdiction's registration deadline of a bill (warning at
                        75 %, alarm when missed)                           default 24
Production edges (see docs/operations.md):
  --cors-origin ORIGIN  let browsers on ORIGIN (scheme://host[:port]) call the API; repeat
                        for several                                       default none
  --metrics-token-file F  serve GET /metrics to a scraper sending the token in F (created if
                        missing, mode 0600) as a bearer token             default off
  --shutdown-timeout-ms N  graceful shutdown deadline: connections still open then are
                        destroyed and the process exits with status 3    default 10000
Slow and hostile clients (see docs/operations.md):
  --headers-timeout-ms N  request headers must arrive within N ms (else 408) default 10000
  --request-timeout-ms N  the whole request, body included, within N ms  default 30000
  --idle-timeout-ms N   close a connection silent for N ms (0: never)    default 30000
  --keep-alive-timeout-ms N  close an idle keep-alive connection after N ms default 5000
  --max-connections N   open connections at most; more are closed        default 4096
  --source-rate N       refused requests a second per source address, sustained (0: no limit) default 20
  --source-burst N      refused requests per source address in a burst   default 500
  --source-max-addresses N  source addresses remembered                  default 10000
  --config FILE         read settings from a JSON file, e.g. {"port": 8080, "data": "/var/lib/holdfast"}
Every setting can also come from HOLDFAST_<FLAG> (e.g. HOLDFAST_PORT, HOLDFAST_OPERATOR_TOKEN_FILE,
HOLDFAST_PROCESSOR_KEY_FILE) or the config file (key = flag name); a flag wins over the
environment, which wins over the file (docs/operations.md, "Configuration").
Logs are JSON lines on stdout. SIGINT/SIGTERM close the server gracefully.`;

/** The flags of `holdfast server`; each is also HOLDFAST_<FLAG> and a config file key. */
export const SERVER_OPTIONS = {
  data: { type: 'string' },
  'database-url': { type: 'string' },
  'db-pool-size': { type: 'string' },
  'operator-token-file': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'operator-token': { type: 'string' },
  'body-limit': { type: 'string' },
  'log-level': { type: 'string' },
  'max-backlog': { type: 'string' },
  'max-backlog-wait-ms': { type: 'string' },
  'max-live': { type: 'string' },
  'ingest-concurrency': { type: 'string' },
  'device-inflight': { type: 'string' },
  'device-rate': { type: 'string' },
  'device-burst': { type: 'string' },
  'storage-thread': { type: 'string' },
  'processor-url': { type: 'string' },
  'processor-key': { type: 'string' },
  'processor-key-file': { type: 'string' },
  'forward-interval-ms': { type: 'string' },
  'processor-online-timeout-ms': { type: 'string' },
  'forward-deadline-hours': { type: 'string' },
  'cors-origin': { type: 'string', multiple: true },
  'fiscal-url': { type: 'string' },
  'fiscal-key-file': { type: 'string' },
  'fiscal-tax-id': { type: 'string' },
  'fiscal-interval-ms': { type: 'string' },
  'fiscal-deadline-hours': { type: 'string' },
  'metrics-token-file': { type: 'string' },
  'shutdown-timeout-ms': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'headers-timeout-ms': { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'keep-alive-timeout-ms': { type: 'string' },
  'max-connections': { type: 'string' },
  'source-rate': { type: 'string' },
  'source-burst': { type: 'string' },
  'source-max-addresses': { type: 'string' },
} as const;

export async function serverCommand(argv: string[]): Promise<number> {
  const flags = loadSettings(argv, {
    command: 'server',
    options: SERVER_OPTIONS,
    alternatives: [
      ['operator-token', 'operator-token-file'],
      ['processor-key', 'processor-key-file'],
    ],
  });
  if (flags.help) {
    console.log(SERVER_HELP);
    return 0;
  }
  const dataDir = resolve(stringFlag(flags, 'data') ?? 'holdfast-data');
  const level = stringFlag(flags, 'log-level') ?? 'info';
  const token = stringFlag(flags, 'operator-token');
  const tokenFile = stringFlag(flags, 'operator-token-file');
  if (token && tokenFile) throw new UsageError('give --operator-token or --operator-token-file, not both');
  const databaseUrl = databaseUrlFlag(flags);
  if (!databaseUrl && stringFlag(flags, 'db-pool-size') !== undefined) {
    throw new UsageError('--db-pool-size needs --database-url');
  }
  const processor = processorFlags(flags);
  const fiscal = fiscalFlags(flags);
  const corsOrigins = corsOriginFlags(flags);
  const metricsTokenFile = stringFlag(flags, 'metrics-token-file');
  const tls = tlsFlags(flags);
  const server = await startServer({
    dataDir,
    ...(databaseUrl
      ? { databaseUrl, databasePoolSize: intFlag(flags, 'db-pool-size', DEFAULT_POOL_SIZE, 1, 1000) }
      : {}),
    ...(tokenFile ? { operatorTokenFile: resolve(tokenFile) } : {}),
    port: intFlag(flags, 'port', 8080, 0, 65535),
    host: stringFlag(flags, 'host') ?? '127.0.0.1',
    bodyLimit: intFlag(flags, 'body-limit', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    logger: { level },
    ...(token ? { operatorToken: token } : {}),
    admission: admissionFlags(flags),
    sqliteThread: storageThreadFlag(flags),
    ...(processor ? { processor } : {}),
    ...(fiscal ? { fiscal } : {}),
    corsOrigins,
    ...(metricsTokenFile ? { metricsToken: loadOrCreateOperatorTokenFile(resolve(metricsTokenFile)) } : {}),
    shutdownTimeoutMs: intFlag(flags, 'shutdown-timeout-ms', DEFAULT_SHUTDOWN_TIMEOUT_MS, 100, 3_600_000),
    edge: edgeFlags(flags),
    sourceLimit: sourceLimitFlags(flags),
    ...(tls ? { tls } : {}),
  });
  const stopWatchingTls = tls ? watchTls(server, tls) : () => undefined;
  const where = databaseUrl ? { database: redactedUrl(databaseUrl) } : { dataDir };
  server.app.log.info({ url: server.url, storage: server.storage.kind, ...where }, 'holdfast server listening');
  if (!token) {
    const file = tokenFile ? resolve(tokenFile) : `${dataDir}/operator-token`;
    server.app.log.info({ file }, 'operator token file');
  }
  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      stopWatchingTls();
      server.app.log.info({ signal }, 'shutting down');
      server.shutdown().then(
        (outcome) => {
          if (!outcome.timedOut) return done(0);
          server.app.log.error(outcome, 'shut down at the deadline; exiting with status 3');
          // Whatever the destroyed requests left running must not keep the process alive.
          setTimeout(() => process.exit(3), 1000).unref();
          done(3);
        },
        (error) => {
          server.app.log.error({ err: error }, 'error while shutting down');
          done(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/**
 * The repeated --cors-origin flags (or a comma-separated HOLDFAST_CORS_ORIGIN,
 * or an array in the config file), each checked to be exactly scheme://host[:port].
 */
export function corsOriginFlags(flags: Record<string, unknown>): string[] {
  const raw = flags['cors-origin'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  return values.map((origin) => {
    try {
      return checkedOrigin(origin);
    } catch (error) {
      throw new UsageError(`--cors-origin: ${(error as Error).message}`);
    }
  });
}

/** --database-url, checked to be a PostgreSQL URL; undefined if not given. */
export function databaseUrlFlag(flags: Record<string, unknown>): string | undefined {
  const url = stringFlag(flags, 'database-url');
  if (url === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError(`${settingLabel(flags, 'database-url')} must be a postgres:// or postgresql:// URL`);
  }
  return url;
}

/** A connection string without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** --processor-url and --processor-key (both or neither), checked; undefined: no forwarding. */
export function processorFlags(
  flags: Record<string, unknown>,
): { url: string; apiKey: string; intervalMs: number; onlineTimeoutMs: number; deadlineHours: number } | undefined {
  const url = stringFlag(flags, 'processor-url');
  const apiKey = processorKey(flags);
  if (url === undefined) {
    if (
      apiKey !== undefined ||
      stringFlag(flags, 'forward-interval-ms') !== undefined ||
      stringFlag(flags, 'processor-online-timeout-ms') !== undefined ||
      stringFlag(flags, 'forward-deadline-hours') !== undefined
    ) {
      throw new UsageError(
        '--processor-key, --forward-interval-ms, --processor-online-timeout-ms and --forward-deadline-hours need --processor-url',
      );
    }
    return undefined;
  }
  if (!/^https?:\/\//.test(url)) {
    throw new UsageError(`${settingLabel(flags, 'processor-url')} must be an http:// or https:// URL`);
  }
  if (!apiKey) throw new UsageError('--processor-url needs --processor-key or --processor-key-file');
  return {
    url,
    apiKey,
    intervalMs: intFlag(flags, 'forward-interval-ms', 2_000, 10, 3_600_000),
    onlineTimeoutMs: intFlag(flags, 'processor-online-timeout-ms', 8_000, 100, 120_000),
    deadlineHours: intFlag(flags, 'forward-deadline-hours', 72, 1, 24 * 90),
  };
}

/** --fiscal-url with its key file and the seller's tax id, checked; undefined: no e-invoicing. */
export function fiscalFlags(
  flags: Record<string, unknown>,
): { url: string; apiKey: string; sellerTaxId: string; intervalMs: number; deadlineHours: number } | undefined {
  const url = stringFlag(flags, 'fiscal-url');
  const taxId = stringFlag(flags, 'fiscal-tax-id');
  if (url === undefined) {
    const given = ['fiscal-key-file', 'fiscal-tax-id', 'fiscal-interval-ms', 'fiscal-deadline-hours'];
    if (given.some((f) => stringFlag(flags, f) !== undefined)) {
      throw new UsageError(
        '--fiscal-key-file, --fiscal-tax-id, --fiscal-interval-ms and --fiscal-deadline-hours need --fiscal-url',
      );
    }
    return undefined;
  }
  if (!/^https?:\/\//.test(url)) {
    throw new UsageError(`${settingLabel(flags, 'fiscal-url')} must be an http:// or https:// URL`);
  }
  const apiKey = processorKey(flags, 'fiscal-key', 'fiscal-key-file');
  if (!apiKey) throw new UsageError('--fiscal-url needs --fiscal-key-file');
  if (!taxId || !/^[A-Za-z0-9]{1,64}$/.test(taxId)) {
    throw new UsageError('--fiscal-url needs --fiscal-tax-id (letters and digits, at most 64)');
  }
  return {
    url,
    apiKey,
    sellerTaxId: taxId,
    intervalMs: intFlag(flags, 'fiscal-interval-ms', 2_000, 10, 3_600_000),
    deadlineHours: intFlag(flags, 'fiscal-deadline-hours', 24, 1, 24 * 90),
  };
}

/** The backpressure flags given, as admission options (absent flags keep the defaults). */
function admissionFlags(flags: Record<string, unknown>): Partial<AdmissionOptions> {
  const out: Partial<AdmissionOptions> = {};
  const set = (flag: string, key: keyof AdmissionOptions, min: number, max: number) => {
    if (stringFlag(flags, flag) !== undefined) out[key] = intFlag(flags, flag, 0, min, max);
  };
  set('max-backlog', 'maxBacklog', 1, 100_000);
  set('max-backlog-wait-ms', 'maxBacklogWaitMs', 1, 600_000);
  set('max-live', 'maxLive', 1, 100_000);
  set('ingest-concurrency', 'concurrency', 1, 256);
  set('device-inflight', 'perDeviceInFlight', 1, 1000);
  set('device-rate', 'perDeviceRate', 0, 100_000);
  set('device-burst', 'perDeviceBurst', 1, 100_000);
  return out;
}

/**
 * The HTTP edge's timeouts and connection cap (server http/edge.ts), each
 * checked here so an error names the setting where it was given; only those
 * given are returned (the server's defaults fill the rest).
 */
export function edgeFlags(flags: Record<string, unknown>): Partial<EdgeOptions> {
  const out: Partial<EdgeOptions> = {};
  const set = (flag: string, key: keyof EdgeOptions, min: number, max: number) => {
    if (flags[flag] !== undefined) out[key] = intFlag(flags, flag, 0, min, max);
  };
  set('headers-timeout-ms', 'headersTimeoutMs', 100, 3_600_000);
  set('request-timeout-ms', 'requestTimeoutMs', 100, 3_600_000);
  set('idle-timeout-ms', 'idleTimeoutMs', 0, 3_600_000);
  set('keep-alive-timeout-ms', 'keepAliveTimeoutMs', 100, 3_600_000);
  set('max-connections', 'maxConnections', 1, 1_000_000);
  // Node refuses a headers timeout above the request timeout: say which two settings clash.
  const headers = out.headersTimeoutMs ?? DEFAULT_EDGE.headersTimeoutMs;
  const request = out.requestTimeoutMs ?? DEFAULT_EDGE.requestTimeoutMs;
  if (headers > request) {
    const label = (flag: string, fallback: number) =>
      flags[flag] === undefined ? `the default ${flag} (${fallback})` : `${settingLabel(flags, flag)} (${flags[flag]})`;
    throw new UsageError(
      `${label('headers-timeout-ms', headers)} must not be above ${label('request-timeout-ms', request)}: the headers are part of the request`,
    );
  }
  return out;
}

/** The per-source limit of refused traffic (server http/source-limit.ts); only the settings given. */
export function sourceLimitFlags(flags: Record<string, unknown>): Partial<SourceLimitOptions> {
  const out: Partial<SourceLimitOptions> = {};
  const set = (flag: string, key: keyof SourceLimitOptions, min: number, max: number) => {
    if (flags[flag] !== undefined) out[key] = intFlag(flags, flag, 0, min, max);
  };
  set('source-rate', 'rate', 0, 100_000);
  set('source-burst', 'burst', 1, 10_000_000);
  set('source-max-addresses', 'maxSources', 1, 10_000_000);
  return out;
}

/** --processor-key, or the first line of --processor-key-file (or another such pair); undefined if neither. */
function processorKey(
  flags: Record<string, unknown>,
  keyFlag = 'processor-key',
  fileFlag = 'processor-key-file',
): string | undefined {
  const key = stringFlag(flags, keyFlag);
  const file = stringFlag(flags, fileFlag);
  if (key !== undefined && file !== undefined) {
    throw new UsageError(`give --${keyFlag} or --${fileFlag}, not both`);
  }
  if (file === undefined) return key;
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`${settingLabel(flags, fileFlag)}: cannot read ${file}: ${code}`);
  }
  const value = text.trim();
  if (!value) throw new UsageError(`${settingLabel(flags, fileFlag)}: ${file} is empty`);
  return value;
}

function storageThreadFlag(flags: Record<string, unknown>): boolean {
  const value = stringFlag(flags, 'storage-thread') ?? 'on';
  if (value !== 'on' && value !== 'off') {
    throw new UsageError(`${settingLabel(flags, 'storage-thread')} must be on or off, got "${value}"`);
  }
  return value === 'on';
}

/** --tls-cert and --tls-key (both or neither), as absolute paths; undefined: plain HTTP. */
export function tlsFlags(flags: Record<string, unknown>): TlsFiles | undefined {
  const cert = stringFlag(flags, 'tls-cert');
  const key = stringFlag(flags, 'tls-key');
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new UsageError('give --tls-cert and --tls-key together');
  return { certFile: resolve(cert), keyFile: resolve(key) };
}

/**
 * Reloads the certificate on SIGHUP and when either file changes (polled,
 * so a renewal tool replacing the files by rename is seen too). A bad
 * renewal is logged and the server keeps serving the certificate it had.
 * Returns the function that stops watching.
 */
function watchTls(server: RunningServer, tls: TlsFiles): () => void {
  const reload = (why: string) => {
    try {
      server.reloadTls();
    } catch (error) {
      server.app.log.error(
        { why, err: (error as Error).message },
        'TLS reload failed; keeping the current certificate',
      );
    }
  };
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  const onChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload('file changed');
  };
  for (const file of [tls.certFile, tls.keyFile]) watchFile(file, { interval: 2_000, persistent: false }, onChange);
  return () => {
    process.removeListener('SIGHUP', onHup);
    for (const file of [tls.certFile, tls.keyFile]) unwatchFile(file, onChange);
  };
}
