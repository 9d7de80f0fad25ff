/**
 * The naive design, as a benchmark baseline: one op per HTTP request, made
 * exactly-once by an idempotency-key table — the conventional pattern
 * (Stripe-style `Idempotency-Key`), built honestly and correctly.
 *
 * `POST /ops` carries one op as JSON with an `Idempotency-Key` header. In one
 * SQLite transaction (WAL, synchronous=FULL: the same durability as the
 * Holdfast server) the server looks the key up; if it is stored, it answers
 * the stored response (or 422 if the key came with a different body); else
 * it inserts the op and the response under the key, commits, and answers.
 * Prepared statements, a compiled JSON schema for the envelope, keep-alive.
 *
 * What it leaves out, compared with Holdfast's ingest (so it does less work
 * per op, which favours it): no signature check, no hash check, no per-device
 * hash chain (so no proof of holding every op, no fork or clone detection),
 * no per-kind body rules, no ledger or shift projections, no seq ordering.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';

export interface NaiveServer {
  app: FastifyInstance;
  /** Rows stored, for consistency checks. */
  counts(): { ops: number; keys: number };
  close(): Promise<void>;
}

const opSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'id', 'device', 'seq', 'prev', 'kind', 'body', 'at', 'decision', 'hash'],
  properties: {
    v: { type: 'integer', const: 1 },
    id: { type: 'string', minLength: 36, maxLength: 36 },
    device: { type: 'string', minLength: 36, maxLength: 36 },
    seq: { type: 'integer', minimum: 1 },
    prev: { type: 'string', minLength: 64, maxLength: 64 },
    kind: { type: 'string', minLength: 3, maxLength: 63 },
    body: { type: 'object' },
    at: { type: 'integer' },
    decision: { type: 'object' },
    hash: { type: 'string', minLength: 64, maxLength: 64 },
  },
} as const;

interface NaiveOp {
  id: string;
  device: string;
  seq: number;
  kind: string;
}

interface Stored {
  fingerprint: string;
  status: number;
  response: string;
}

export function buildNaiveServer(path: string): NaiveServer {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
      status INTEGER NOT NULL, response TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS ops (id TEXT PRIMARY KEY, device TEXT NOT NULL, seq INTEGER NOT NULL,
      kind TEXT NOT NULL, envelope TEXT NOT NULL, received_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ops_device ON ops (device, seq);`);
  const findKey = db.prepare('SELECT fingerprint, status, response FROM idempotency_keys WHERE key = ?');
  const findOp = db.prepare('SELECT 1 FROM ops WHERE id = ?');
  const insertOp = db.prepare(
    'INSERT INTO ops (id, device, seq, kind, envelope, received_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertKey = db.prepare(
    'INSERT INTO idempotency_keys (key, fingerprint, status, response, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const apply = db.transaction(
    (key: string, fingerprint: string, op: NaiveOp, envelope: string): Stored & { replayed: boolean } => {
      const stored = findKey.get(key) as Stored | undefined;
      if (stored) return { ...stored, replayed: true };
      const now = Date.now();
      // The same op under a new key (a client that lost its key) must not be applied twice either.
      const status = findOp.get(op.id) ? 409 : 200;
      const response = JSON.stringify(
        status === 200
          ? { id: op.id, status: 'accepted', at: now }
          : { code: 'conflict', message: `op ${op.id} was already sent under another key` },
      );
      if (status === 200) insertOp.run(op.id, op.device, op.seq, op.kind, envelope, now);
      insertKey.run(key, fingerprint, status, response, now);
      return { fingerprint, status, response, replayed: false };
    },
  );

  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Refuse unknown fields (Fastify's default strips them silently), as Holdfast does.
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.post('/ops', { schema: { body: opSchema } }, async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length < 8 || key.length > 255) {
      return reply.code(400).send({ code: 'invalid_request', message: 'Idempotency-Key header required (8..255)' });
    }
    const envelope = JSON.stringify(request.body);
    const fingerprint = createHash('sha256').update(envelope).digest('hex');
    const result = apply(key, fingerprint, request.body as NaiveOp, envelope);
    if (result.fingerprint !== fingerprint) {
      return reply.code(422).send({ code: 'key_reused', message: 'Idempotency-Key was used with another body' });
    }
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(result.status).type('application/json').send(result.response);
  });

  return {
    app,
    counts: () => ({
      ops: (db.prepare('SELECT COUNT(*) AS n FROM ops').get() as { n: number }).n,
      keys: (db.prepare('SELECT COUNT(*) AS n FROM idempotency_keys').get() as { n: number }).n,
    }),
    async close() {
      await app.close();
      db.close();
    },
  };
}
