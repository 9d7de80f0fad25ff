/**
 * Starting a complete server process: SQLite storage in a data directory,
 * migrations, the service, the HTTP app, listening on a port.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Random } from '@holdfast/domain';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { HoldfastService } from './holdfast-service.js';
import type { AdmissionOptions } from './http/admission.js';
import { buildApp } from './http/build-app.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import type { Storage } from './storage/storage.js';

export const DATABASE_FILE = 'holdfast.db';
export const OPERATOR_TOKEN_FILE = 'operator-token';

export interface StartServerOptions {
  /** Directory for the database and the operator token. */
  dataDir: string;
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
}

export interface RunningServer {
  url: string;
  port: number;
  operatorToken: string;
  service: HoldfastService;
  storage: Storage;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Reads the operator token kept in the data directory, creating it (mode 0600) on first start. */
export function loadOrCreateOperatorToken(dataDir: string): string {
  const path = join(dataDir, OPERATOR_TOKEN_FILE);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}

export async function openSqliteStorage(dataDir: string): Promise<SqliteStorage> {
  const storage = new SqliteStorage({ path: join(dataDir, DATABASE_FILE) });
  await storage.migrate();
  return storage;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const storage = await openSqliteStorage(options.dataDir);
  let operatorToken: string;
  let service: HoldfastService;
  let app: FastifyInstance;
  try {
    operatorToken = options.operatorToken ?? loadOrCreateOperatorToken(options.dataDir);
    service = new HoldfastService({
      storage,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    app = buildApp({
      service,
      operatorToken,
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.admission ? { admission: options.admission } : {}),
    });
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    // Nothing may stay open when a start fails (a bad token file, a port in use).
    await storage.close();
    throw error;
  }
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
    async close() {
      await app.close();
      await storage.close();
    },
  };
}
