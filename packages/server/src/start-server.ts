/**
 * Starting a complete server process: storage (SQLite in a data directory,
 * or PostgreSQL given a connection string), migrations, the service, the
 * HTTP app, listening on a port.
 */
import { randomBytes } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Clock, type Random, systemClock } from '@holdfast/domain';
import { FiscalClient, ProcessorClient } from '@holdfast/processor-client';
import { loadOrCreateSecretFile } from '@holdfast/secret-file';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { DEFAULT_ONLINE_PROCESSOR_TIMEOUT_MS } from './authorize/online-authorizer.js';
import { BootstrapTokens } from './bootstrap-token.js';
import { type DataDirLock, lockDataDir, prepareDataDir, securePrivateDatabaseFiles } from './data-dir.js';
import { FiscalSubmitter } from './fiscal/fiscal-submitter.js';
import { CardRefunder } from './forwarding/card-refunder.js';
import { Forwarder, type ProcessorLike } from './forwarding/forwarder.js';
import { HoldfastService } from './holdfast-service.js';
import type { AdmissionOptions } from './http/admission.js';
import { buildApp } from './http/build-app.js';
import type { EdgeOptions } from './http/edge.js';
import type { SourceLimitOptions } from './http/source-limit.js';
import { newServerKey } from './policy-keys.js';
import { PostgresStorage } from './storage/postgres/postgres-storage.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { GROUP_MAX_BATCHES, openThreadedSqlite } from './storage/sqlite/sqlite-thread.js';
import type { Storage } from './storage/storage.js';
import { readTlsFiles, reloadTls, TlsConfigError, type TlsFiles } from './tls.js';

export const DATABASE_FILE = 'holdfast.db';

/**
 * Batches ingested at once with SQLite on its own thread: the main thread
 * checks some while the storage thread applies others, and the ones that
 * queue there meanwhile share one commit (group commit, up to this many:
 * GROUP_MAX_BATCHES, sqlite-thread-worker.ts).
 */
export const THREADED_CONCURRENCY = GROUP_MAX_BATCHES;
export const OPERATOR_TOKEN_FILE = 'operator-token';

export interface StartServerOptions {
  /** Directory for the SQLite database and the operator token (with PostgreSQL: the token only). */
  dataDir: string;
  /** PostgreSQL connection string: storage is PostgreSQL instead of SQLite in `dataDir`. */
  databaseUrl?: string;
  /** Connections this process keeps to PostgreSQL (default DEFAULT_POOL_SIZE). */
  databasePoolSize?: number;
  /** File holding the operator token (created if missing); default `<dataDir>/operator-token`. */
  operatorTokenFile?: string;
  port?: number;
  host?: string;
  /** Operator bearer token; default: read from, or created in, `<dataDir>/operator-token`. */
  operatorToken?: string;
  /**
   * With a token file (not `operatorToken`): how long the previous bootstrap
   * token is still accepted after the file changes (default 5 min), and how
   * often the file is polled (default 2 s). SIGHUP re-reads it at once.
   */
  operatorTokenOverlapMs?: number;
  operatorTokenPollMs?: number;
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
  clock?: Clock;
  random?: Random;
  /** Backpressure limits (see http/admission.ts). */
  admission?: Partial<AdmissionOptions>;
  /** Request/headers/idle timeouts and the connection cap (see http/edge.ts, docs/operations.md). */
  edge?: Partial<EdgeOptions>;
  /** The limit on refused requests per source address (see http/source-limit.ts). */
  sourceLimit?: Partial<SourceLimitOptions>;
  /**
   * SQLite only: run the database on its own thread (default true), so a
   * batch's transaction never stops the event loop (see sqlite-thread.ts).
   */
  sqliteThread?: boolean;
  /** Forward offline-approved card payments to this processor (off when absent). */
  processor?: ProcessorForwardingOptions;
  /** Register every bill (accepted sale) with this tax authority (off when absent; docs/e-invoicing.md). */
  fiscal?: FiscalSubmissionOptions;
  /** Origins whose browsers may call the API (CORS allowlist); none by default. */
  corsOrigins?: readonly string[];
  /** Serve GET /metrics to a scraper holding this bearer token (off when absent). */
  metricsToken?: string;
  /**
   * Graceful shutdown's overall deadline, ms (default DEFAULT_SHUTDOWN_TIMEOUT_MS):
   * requests still open then have their connections destroyed.
   */
  shutdownTimeoutMs?: number;
  /** Serve HTTPS with these certificate and key files (reloadable: RunningServer.reloadTls). */
  tls?: TlsFiles;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** How a shutdown ended: every request answered, or connections destroyed at the deadline. */
export interface ShutdownOutcome {
  timedOut: boolean;
  /** Connections still open at the deadline (destroyed); 0 when it did not time out. */
  destroyedConnections: number;
}

export interface ProcessorForwardingOptions {
  /** Base URL of the processor API, e.g. http://127.0.0.1:8090. */
  url: string;
  apiKey: string;
  /** Pause between forwarding rounds, ms (default 2000). */
  intervalMs?: number;
  /** Payments claimed per round (default 50). */
  batchSize?: number;
  /** How long a claim holds, ms (default 60000). */
  leaseMs?: number;
  /** Timeout of each processor call, ms (default 10000). */
  timeoutMs?: number;
  /** Timeout of each processor call made for POST /v1/authorize while a terminal waits, ms (default 8000). */
  onlineTimeoutMs?: number;
  /** Forwarding deadline in hours (default 72); see forwarding/forwarding-deadline.ts. */
  deadlineHours?: number;
  /** Warn when this fraction of the deadline has passed (default 0.75). */
  deadlineWarnFraction?: number;
}

export interface FiscalSubmissionOptions {
  /** Base URL of the tax authority's e-invoicing API (`holdfast fiscal-sim`), e.g. http://127.0.0.1:8095. */
  url: string;
  apiKey: string;
  /** The seller's tax id sent with every bill. */
  sellerTaxId: string;
  /** Pause between rounds, ms (default 2000). */
  intervalMs?: number;
  /** How long a claim holds, ms (default 60000). */
  leaseMs?: number;
  /** Timeout of each authority call, ms (default 10000). */
  timeoutMs?: number;
  /** The jurisdiction's registration deadline in hours (default 24): fiscal_deadline warning at 75 %, alarm when missed. */
  deadlineHours?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  /** The bootstrap token at start (rotations: `bootstrap.current`). */
  operatorToken: string;
  bootstrap: BootstrapTokens;
  service: HoldfastService;
  storage: Storage;
  app: FastifyInstance;
  /** The forwarding worker, when started with `processor`. */
  forwarder: Forwarder | null;
  /** The e-invoicing worker, when started with `fiscal`. */
  fiscalSubmitter: FiscalSubmitter | null;
  /** The card-refund worker (voids' and refunds' card parts), started with the forwarder. */
  cardRefunder: CardRefunder | null;
  /** Graceful shutdown within the deadline (see `shutdown`); resolves either way. */
  /**
   * With `tls`: re-reads the certificate and key files and serves new
   * connections with them; throws TlsConfigError (keeping the old ones) if
   * they cannot be used. Without `tls`: throws.
   */
  reloadTls(): void;
  close(): Promise<void>;
  /**
   * Stops forwarding, stops accepting connections, waits for open requests
   * until the shutdown deadline, then destroys the connections still open,
   * and closes the storage. Says whether the deadline was hit.
   */
  shutdown(): Promise<ShutdownOutcome>;
}

/**
 * Reads the operator token in `path`, creating it (mode 0600) if missing;
 * several processes starting at once on one file agree on one token.
 */
export function loadOrCreateOperatorTokenFile(path: string): string {
  return loadOrCreateSecretFile(path);
}

/**
 * The storage `options` select (PostgreSQL with a databaseUrl, else SQLite
 * in dataDir), migrated, with a policy-signing key (created on the first
 * start; every later start and every other process finds the same one).
 */
export async function openStorage(
  options: Pick<StartServerOptions, 'dataDir' | 'databaseUrl' | 'databasePoolSize' | 'sqliteThread'>,
): Promise<Storage> {
  const path = join(options.dataDir, DATABASE_FILE);
  if (options.databaseUrl === undefined) {
    prepareDataDir(options.dataDir);
    securePrivateDatabaseFiles(path);
  }
  const storage =
    options.databaseUrl === undefined
      ? options.sqliteThread
        ? openThreadedSqlite({ path })
        : new SqliteStorage({ path })
      : new PostgresStorage({
          connectionString: options.databaseUrl,
          ...(options.databasePoolSize !== undefined ? { pool: { max: options.databasePoolSize } } : {}),
        });
  try {
    await storage.migrate();
    await storage.ensureServerKey(newServerKey(Date.now()));
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  // Bad TLS files fail before anything is opened.
  const https = options.tls ? readTlsFiles(options.tls) : undefined;
  const threaded = options.databaseUrl === undefined && options.sqliteThread !== false;
  // One server process per SQLite data directory (PostgreSQL takes any number).
  let lock: DataDirLock | null = null;
  if (options.databaseUrl === undefined) {
    prepareDataDir(options.dataDir);
    lock = lockDataDir(options.dataDir);
  }
  let storage: Storage;
  try {
    storage = await openStorage({ ...options, sqliteThread: threaded });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const admission = threaded ? { concurrency: THREADED_CONCURRENCY, ...options.admission } : options.admission;
  let bootstrap: BootstrapTokens;
  let service: HoldfastService;
  let app: FastifyInstance;
  try {
    const clock = options.clock ?? systemClock;
    if (options.operatorToken !== undefined) {
      bootstrap = new BootstrapTokens({ token: options.operatorToken, now: () => clock.now() });
    } else {
      const file = options.operatorTokenFile ?? join(options.dataDir, OPERATOR_TOKEN_FILE);
      loadOrCreateOperatorTokenFile(file);
      bootstrap = new BootstrapTokens({
        file,
        now: () => clock.now(),
        ...(options.operatorTokenOverlapMs !== undefined ? { overlapMs: options.operatorTokenOverlapMs } : {}),
        ...(options.operatorTokenPollMs !== undefined ? { pollMs: options.operatorTokenPollMs } : {}),
        onEvent: (event) => {
          if (event.kind === 'rotated') {
            app?.log.warn(
              { file, overlapUntil: new Date(event.overlapUntil).toISOString() },
              'bootstrap operator token rotated',
            );
          } else if (event.kind === 'refused')
            app?.log.error({ file, reason: event.reason }, 'bootstrap operator token file refused');
        },
      });
    }
    service = new HoldfastService({
      storage,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.processor ? onlineProcessor(options.processor) : {}),
    });
    app = buildApp({
      service,
      operatorToken: bootstrap,
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(admission ? { admission } : {}),
      ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
      ...(options.metricsToken !== undefined
        ? {
            metrics: {
              token: options.metricsToken,
              ...(options.processor?.deadlineHours !== undefined
                ? { deadlineHours: options.processor.deadlineHours }
                : {}),
            },
          }
        : {}),
      ...(https ? { https } : {}),
      ...(options.edge ? { edge: options.edge } : {}),
      ...(options.sourceLimit ? { sourceLimit: options.sourceLimit } : {}),
      ...(options.processor?.deadlineHours !== undefined
        ? { forwardDeadlineHours: options.processor.deadlineHours }
        : {}),
    });
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
    app.log.info({ policyKeys: (await storage.listServerKeys()).map((k) => k.id) }, 'policy signing key ready');
  } catch (error) {
    // Nothing may stay open when a start fails (a bad token file, a port in use).
    await storage.close();
    lock?.release();
    throw error;
  }
  bootstrap.watch();
  const onHangup = () => bootstrap.reload();
  process.on('SIGHUP', onHangup);
  const forwarder = options.processor ? startForwarder(storage, options.processor, options.clock, app) : null;
  const cardRefunder = options.processor ? startCardRefunder(storage, options.processor, options.clock, app) : null;
  const fiscalSubmitter = options.fiscal ? startFiscalSubmitter(storage, options.fiscal, options.clock, app) : null;
  const outageSweep = startOutageSweep(service, app);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const host = options.host ?? '127.0.0.1';
  let stopping: Promise<ShutdownOutcome> | undefined;
  const shutdown = (): Promise<ShutdownOutcome> => {
    process.off('SIGHUP', onHangup);
    bootstrap.stop();
    outageSweep.stop();
    // The data-dir lock goes last, once the storage is closed, whichever way the shutdown ended.
    stopping ??= shutdownWithin(
      app,
      storage,
      forwarder,
      fiscalSubmitter,
      cardRefunder,
      options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    ).finally(() => lock?.release());
    return stopping;
  };
  const tls = options.tls;
  return {
    url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    operatorToken: bootstrap.current,
    bootstrap,
    service,
    storage,
    app,
    forwarder,
    fiscalSubmitter,
    cardRefunder,
    reloadTls() {
      if (!tls) throw new TlsConfigError('this server was started without --tls-cert/--tls-key');
      reloadTls(app.server as unknown as HttpsServer, tls);
      app.log.info({ cert: tls.certFile }, 'TLS certificate reloaded');
    },
    async close() {
      await shutdown();
    },
    shutdown,
  };
}

/** See RunningServer.shutdown. */
async function shutdownWithin(
  app: FastifyInstance,
  storage: Storage,
  forwarder: Forwarder | null,
  fiscalSubmitter: FiscalSubmitter | null,
  cardRefunder: CardRefunder | null,
  timeoutMs: number,
): Promise<ShutdownOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), timeoutMs);
  });
  const graceful = (async () => {
    await forwarder?.stop();
    await fiscalSubmitter?.stop();
    await cardRefunder?.stop();
    await app.close();
    return 'closed' as const;
  })();
  let outcome: ShutdownOutcome = { timedOut: false, destroyedConnections: 0 };
  try {
    if ((await Promise.race([graceful, deadline])) === 'deadline') {
      const open = await new Promise<number>((resolve) => {
        app.server.getConnections((error, count) => resolve(error ? -1 : count));
      });
      outcome = { timedOut: true, destroyedConnections: Math.max(open, 0) };
      app.log.error(
        { timeoutMs, openConnections: open },
        'shutdown deadline passed: destroying the connections still open',
      );
      app.server.closeAllConnections();
      await graceful;
    }
  } finally {
    clearTimeout(timer);
    await storage.close();
  }
  return outcome;
}

/** The processor for online card authorizations: the same one the forwarder uses, with the online timeout. */
function onlineProcessor(options: ProcessorForwardingOptions): {
  processor: ProcessorLike;
  processorTimeoutMs: number;
} {
  const processorTimeoutMs = options.onlineTimeoutMs ?? DEFAULT_ONLINE_PROCESSOR_TIMEOUT_MS;
  return {
    processor: new ProcessorClient(options.url, { apiKey: options.apiKey, timeoutMs: processorTimeoutMs }),
    processorTimeoutMs,
  };
}

function startForwarder(
  storage: Storage,
  options: ProcessorForwardingOptions,
  clock: Clock | undefined,
  app: FastifyInstance,
): Forwarder {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const forwarder = new Forwarder({
    storage,
    processor: new ProcessorClient(options.url, { apiKey: options.apiKey, timeoutMs }),
    clock: clock ?? systemClock,
    // Unique per process: claims of a process that died run out by their lease.
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    batchSize: options.batchSize ?? 50,
    leaseMs: options.leaseMs ?? 60_000,
    timeoutMs,
    ...(options.deadlineHours !== undefined ? { deadlineHours: options.deadlineHours } : {}),
    ...(options.deadlineWarnFraction !== undefined ? { deadlineWarnFraction: options.deadlineWarnFraction } : {}),
    onEvent: (event) => {
      if (event.kind === 'settled' && event.status === 'declined') app.log.warn(event, 'post-authorization decline');
      else if (event.kind === 'settled') app.log.debug(event, 'offline payment settled');
      else if (event.kind === 'refused') app.log.error(event, 'offline payment refused by the processor');
      else if (event.kind === 'deadline') app.log.warn(event, 'offline payment near or past its forwarding deadline');
      else app.log.warn(event, 'offline payment not forwarded yet');
    },
  });
  forwarder.start(options.intervalMs ?? 2_000);
  app.log.info({ processor: options.url }, 'forwarding offline payments');
  return forwarder;
}

/** The card refunder, on the forwarder's processor and settings (docs/corrections.md). */
function startCardRefunder(
  storage: Storage,
  options: ProcessorForwardingOptions,
  clock: Clock | undefined,
  app: FastifyInstance,
): CardRefunder {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const refunder = new CardRefunder({
    storage,
    processor: new ProcessorClient(options.url, { apiKey: options.apiKey, timeoutMs }),
    clock: clock ?? systemClock,
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    batchSize: options.batchSize ?? 50,
    leaseMs: options.leaseMs ?? 60_000,
    timeoutMs,
    onEvent: (event) => {
      if (event.kind === 'refunded') app.log.debug(event, 'card refund made');
      else if (event.kind === 'declined') app.log.error(event, 'card refund declined by the processor');
      else app.log.warn(event, 'card refund not made yet');
    },
  });
  refunder.start(options.intervalMs ?? 2_000);
  return refunder;
}

function startFiscalSubmitter(
  storage: Storage,
  options: FiscalSubmissionOptions,
  clock: Clock | undefined,
  app: FastifyInstance,
): FiscalSubmitter {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const submitter = new FiscalSubmitter({
    storage,
    authority: new FiscalClient(options.url, { apiKey: options.apiKey, timeoutMs }),
    clock: clock ?? systemClock,
    // Unique per process: claims of a process that died run out by their lease.
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    sellerTaxId: options.sellerTaxId,
    ...(options.deadlineHours !== undefined ? { deadlineHours: options.deadlineHours } : {}),
    batchSize: 50,
    leaseMs: options.leaseMs ?? 60_000,
    timeoutMs,
    onEvent: (event) => {
      if (event.kind === 'registered') app.log.debug(event, 'bill registered');
      else if (event.kind === 'rejected') app.log.error(event, 'bill rejected by the tax authority');
      else if (event.kind === 'refused') app.log.error(event, 'refused for good by the tax authority: not retried');
      else if (event.kind === 'credit_note') app.log.info(event, 'credit note answered');
      else if (event.kind === 'answer_ignored') app.log.warn(event, 'fiscal answer not recorded');
      else if (event.kind === 'deadline') app.log.warn(event, 'bills near or past their registration deadline');
      else app.log.warn(event, 'bill not registered yet');
    },
  });
  submitter.start(options.intervalMs ?? 2_000);
  app.log.info({ authority: options.url }, 'registering bills with the tax authority');
  return submitter;
}

/** How often the server looks for healed outages to notify (docs/reports.md). */
const OUTAGE_SWEEP_MS = 60_000;

/** The outage sweep (ReportDesk.notifyOutages) every minute, one at a time, until stopped. */
function startOutageSweep(service: HoldfastService, app: FastifyInstance): { stop(): void } {
  let busy = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    service.reports
      .notifyOutages()
      .then((outages) => {
        for (const o of outages) {
          app.log.warn({ outage: o.id, lanes: o.lanes.length, opsQueued: o.opsQueued }, 'outage notified');
        }
      })
      .catch((error: unknown) => {
        if (!stopped) app.log.error({ err: error }, 'outage sweep failed');
      })
      .finally(() => {
        busy = false;
      });
  }, OUTAGE_SWEEP_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
