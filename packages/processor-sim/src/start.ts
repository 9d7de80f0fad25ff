/**
 * Starting the processor simulator: its SQLite database and API key in a
 * data directory, the service, the HTTP app, listening on a port.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '@holdfast/domain';
import { loadOrCreateSecretFile } from '@holdfast/secret-file';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildProcessorApp, type ProcessorHttpTimeouts } from './http.js';
import type { CardProfile, ProcessorKnobs } from './knobs.js';
import { ProcessorService } from './processor-service.js';
import { ProcessorStorage } from './storage.js';

export const PROCESSOR_DATABASE_FILE = 'processor.db';
export const API_KEY_FILE = 'api-key';

export interface StartProcessorSimOptions extends Partial<ProcessorKnobs> {
  /** Directory for the database and the API key file (created if missing). */
  dataDir: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Bearer key for every route but /v1/health; default: read from, or created in, `<dataDir>/api-key`. */
  apiKey?: string;
  /** Seed of every random decision; default: drawn from the OS (reported as `seed`, to replay the run). */
  seed?: number;
  /** Card profiles to store unless already known (a restart keeps balances). */
  cards?: Record<string, CardProfile>;
  /** SQLite synchronous mode; FULL (default) makes every answered authorization durable. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  clock?: Clock;
  /** Fastify/pino logger options; false (default) for silence. */
  logger?: FastifyServerOptions['logger'];
  /** Request/headers/idle timeouts and the connection cap (see http.ts). */
  timeouts?: Partial<ProcessorHttpTimeouts>;
}

export interface RunningProcessorSim {
  url: string;
  port: number;
  apiKey: string;
  seed: number;
  service: ProcessorService;
  app: FastifyInstance;
  /** Stops listening (dropping connections held by timeouts after commit) and closes the database. */
  close(): Promise<void>;
}

/**
 * Reads the API key in `<dataDir>/api-key`, creating it (mode 0600) if
 * missing; two processes starting at once agree on one key.
 */
export function loadOrCreateApiKey(dataDir: string): string {
  return loadOrCreateSecretFile(join(dataDir, API_KEY_FILE));
}

export async function startProcessorSim(options: StartProcessorSimOptions): Promise<RunningProcessorSim> {
  const {
    dataDir,
    port,
    host = '127.0.0.1',
    apiKey,
    seed,
    cards,
    synchronous,
    clock,
    logger,
    timeouts,
    ...knobs
  } = options;
  const storage = new ProcessorStorage({
    path: join(dataDir, PROCESSOR_DATABASE_FILE),
    ...(synchronous ? { synchronous } : {}),
  });
  let service: ProcessorService;
  let app: FastifyInstance;
  let key: string;
  try {
    key = apiKey ?? loadOrCreateApiKey(dataDir);
    service = new ProcessorService({
      storage,
      seed: seed ?? randomBytes(4).readUInt32BE(0),
      knobs,
      ...(cards ? { cards } : {}),
      ...(clock ? { clock } : {}),
    });
    app = buildProcessorApp({
      service,
      apiKey: key,
      ...(logger !== undefined ? { logger } : {}),
      ...(timeouts ? { timeouts } : {}),
    });
    await app.listen({ port: port ?? 0, host });
  } catch (error) {
    storage.close();
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : (port ?? 0);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    apiKey: key,
    seed: service.seed,
    service,
    app,
    async close() {
      await app.close();
      storage.close();
    },
  };
}
