/**
 * Starting a complete server process: storage (SQLite in a data directory,
 * or PostgreSQL given a connection string), migrations, the service, the
 * HTTP app, listening on a port.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Clock, type Random, systemClock } from '@holdfast/domain';
import { ProcessorClient } from '@holdfast/processor-client';
import { loadOrCreateSecretFile } from '@holdfast/secret-file';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { DEFAULT_ONLINE_PROCESSOR_TIMEOUT_MS } from './authorize/online-authorizer.js';
import { Forwarder, type ProcessorLike } from './forwarding/forwarder.js';
import { HoldfastService } from './holdfast-service.js';
import type { AdmissionOptions } from './http/admission.js';
import { buildApp } from './http/build-app.js';
import type { EdgeOptions } from './http/edge.js';
import type { SourceLimitOptions } from './http/source-limit.js';
import { newServerKey } from './policy-keys.js';
import { PostgresStorage } from './storage/postgres/postgres-storage.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { openThreadedSqlite } from './storage/sqlite/sqlite-thread.js';
import type { Storage } from './storage/storage.js';

export const DATABASE_FILE = 'holdfast.db';
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

export interface RunningServer {
  url: string;
  port: number;
  operatorToken: string;
  service: HoldfastService;
  storage: Storage;
  app: FastifyInstance;
  /** The forwarding worker, when started with `processor`. */
  forwarder: Forwarder | null;
  close(): Promise<void>;
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
  const threaded = options.databaseUrl === undefined && options.sqliteThread !== false;
  const storage = await openStorage({ ...options, sqliteThread: threaded });
  // On its own thread SQLite applies one batch while the main thread checks the next: two at once.
  const admission = threaded ? { concurrency: 2, ...options.admission } : options.admission;
  let operatorToken: string;
  let service: HoldfastService;
  let app: FastifyInstance;
  try {
    operatorToken =
      options.operatorToken ??
      loadOrCreateOperatorTokenFile(options.operatorTokenFile ?? join(options.dataDir, OPERATOR_TOKEN_FILE));
    service = new HoldfastService({
      storage,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.processor ? onlineProcessor(options.processor) : {}),
    });
    app = buildApp({
      service,
      operatorToken,
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(admission ? { admission } : {}),
      ...(options.edge ? { edge: options.edge } : {}),
      ...(options.sourceLimit ? { sourceLimit: options.sourceLimit } : {}),
    });
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
    app.log.info({ policyKeys: (await storage.listServerKeys()).map((k) => k.id) }, 'policy signing key ready');
  } catch (error) {
    // Nothing may stay open when a start fails (a bad token file, a port in use).
    await storage.close();
    throw error;
  }
  const forwarder = options.processor ? startForwarder(storage, options.processor, options.clock, app) : null;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    operatorToken,
    service,
    storage,
    app,
    forwarder,
    async close() {
      await forwarder?.stop();
      await app.close();
      await storage.close();
    },
  };
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
