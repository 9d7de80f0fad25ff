/**
 * The journal's SQLite schema and its forward-only migrations.
 *
 * `meta.schema_version` counts the migrations applied. A migration is only
 * ever appended, never edited: a journal on a till in the field was built by
 * the ones before it. Each runs in its own transaction with the version bump.
 */
import { JournalVersionError } from './errors.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Keys of the `meta` table. */
export const META = {
  schemaVersion: 'schema_version',
  deviceId: 'device_id',
  label: 'label',
  publicKey: 'public_key',
  /** PKCS#8 DER, base64url. Never leaves the device. */
  privateKey: 'private_key',
  /**
   * JSON `{publicKey, privateKey}` of a key rotation the server has not
   * confirmed yet: written before the request leaves, so a crash or a lost
   * answer resumes the same rotation (key-rotation.ts).
   */
  pendingKey: 'pending_key',
  /** The token of an enrollment whose answer has not arrived yet. */
  enrollToken: 'enroll_token',
  enrolledAt: 'enrolled_at',
  revokedAt: 'revoked_at',
  revokedCode: 'revoked_code',
  revokedMessage: 'revoked_message',
  /**
   * JSON of the latest shift (domain `Shift`), as journals before schema 7 kept it. Since then the shift
   * after an op is stored in that op's row (`ops.shift`; JournalCore.latestShift reads either).
   */
  shift: 'shift',
  /** JSON `{keyId: publicKey}`: the server's policy keys, pinned on first use (enrollment or first policy answer). */
  policyKeys: 'policy_keys',
  /**
   * Server ms (`at`) of the last key set adopted (protocol key-set.ts): a
   * set is adopted only if newer, so a replayed older set cannot bring back
   * a key the server has dropped since.
   */
  keySetAt: 'key_set_at',
  /**
   * '1' when the server said at enrollment that it signs its answers with
   * those keys: from then on an unsigned or unverifiable answer to a batch or
   * a status query counts as no answer (docs/protocol.md §2, "Signed answers").
   */
  signsAnswers: 'signs_answers',
  /** JSON of the newest verified SignedPolicy; only ever replaced by a newer one (comparePolicies). */
  policy: 'policy',
  /** Device clock (ms) at the last successful policy answer: `lastServerContactAt` of the evaluation. */
  lastServerContactAt: 'last_server_contact_at',
  /** JSON array of the OfflineApprovals held, written in the same transaction as the op that added them. */
  offlineExposure: 'offline_exposure',
  /** The device feed's cursor (a server ledger position), advanced in the same transaction as the items it covers. */
  feedCursor: 'feed_cursor',
  /** JSON Placement `{merchant, location, event}` the server last reported (enrollment or feed answer); absent: never placed. */
  placement: 'placement',
  /** JSON of the newest verified SignedRoster of the device's location (staff.ts); only replaced by another version. */
  roster: 'roster',
  /** JSON of the newest verified price list of the device's location (catalog.ts); only replaced by a newer version. */
  priceList: 'price_list',
  /** JSON FeedStock: the location's last-known stock levels from the feed (stock.ts); replaced by each newer one. */
  stock: 'stock',
} as const;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ops (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    envelope TEXT NOT NULL,
    hash TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_error TEXT,
    result TEXT,
    settled_at INTEGER
  );
  CREATE INDEX ops_pending ON ops (seq) WHERE state = 'pending';
  CREATE TABLE dead_letters (
    seq INTEGER PRIMARY KEY REFERENCES ops (seq),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    result TEXT,
    at INTEGER NOT NULL
  );
  CREATE TABLE sync_attempts (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    first_seq INTEGER,
    last_seq INTEGER,
    ops INTEGER NOT NULL,
    outcome TEXT,
    http_status INTEGER,
    error TEXT
  );
  `,
  // Device feed (feed.ts): post-authorization declines the clerk must see, and feed items kept for other modules.
  `
  CREATE TABLE post_auth_declines (
    op_id TEXT NOT NULL,
    tender_index INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    decline_code TEXT NOT NULL,
    processor_id TEXT NOT NULL,
    declined_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (op_id, tender_index)
  );
  CREATE TABLE feed_items (
    pos INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    op_id TEXT NOT NULL,
    device TEXT NOT NULL,
    at INTEGER NOT NULL,
    data TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  `,
  // Online authorizations (online.ts): made durable BEFORE the request is sent; the op id is the retry key.
  `
  CREATE TABLE online_authorizations (
    op_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('card', 'ticket')),
    op_kind TEXT NOT NULL,
    request TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined', 'refused')),
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_error TEXT,
    authorization_id TEXT,
    reason TEXT,
    message TEXT,
    decided_at INTEGER,
    recorded_seq INTEGER
  );
  CREATE INDEX online_authorizations_pending ON online_authorizations (created_at) WHERE state = 'pending';
  `,
  // Wristbands (wristband.ts): the blocked list the feed keeps current, and each chip write an op
  // promised, committed with the op, so a write cut short is finished the next time the chip is read.
  `
  CREATE TABLE blocked_wristbands (
    wristband TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    exception_id TEXT,
    blocked_at INTEGER NOT NULL
  );
  CREATE TABLE wristband_writes (
    op_id TEXT PRIMARY KEY,
    wristband TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('debit', 'topup', 'refund')),
    amount INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    balance_before INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    sale TEXT,
    recorded_at INTEGER NOT NULL,
    written_at INTEGER
  );
  CREATE INDEX wristband_writes_pending ON wristband_writes (wristband) WHERE written_at IS NULL;
  CREATE INDEX wristband_writes_sale ON wristband_writes (sale) WHERE sale IS NOT NULL;
  `,
  // Staff at the till (staff.ts): wrong-PIN counts and lock-outs per staff member (a restart keeps them),
  // approvals bound to one next op, and who asked for an online authorization (recorded with its op).
  `
  CREATE TABLE staff_lockouts (
    staff TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    lockouts INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    last_failure_at INTEGER NOT NULL
  );
  CREATE TABLE staff_approvals (
    id TEXT PRIMARY KEY,
    op_kind TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    approver TEXT NOT NULL,
    role TEXT NOT NULL,
    staff TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by_op TEXT
  );
  CREATE INDEX staff_approvals_open ON staff_approvals (op_kind, body_hash) WHERE used_by_op IS NULL;
  ALTER TABLE online_authorizations ADD COLUMN actor TEXT;
  `,
  // Ticket payouts are confirmed online too (online-sales.ts payTicket): the kind check gains `payout`.
  // SQLite cannot alter a CHECK, so the table is rebuilt with its rows; `recorded_offline` marks a
  // payout that fell back to offline under the policy limit (never asked again).
  `
  CREATE TABLE online_authorizations_v2 (
    op_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('card', 'ticket', 'payout')),
    op_kind TEXT NOT NULL,
    request TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined', 'refused')),
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_error TEXT,
    authorization_id TEXT,
    reason TEXT,
    message TEXT,
    decided_at INTEGER,
    recorded_seq INTEGER,
    actor TEXT
  );
  INSERT INTO online_authorizations_v2 SELECT op_id, kind, op_kind, request, body, state, created_at, attempts,
    last_attempt_at, last_error, authorization_id, reason, message, decided_at, recorded_seq, actor
    FROM online_authorizations;
  DROP TABLE online_authorizations;
  ALTER TABLE online_authorizations_v2 RENAME TO online_authorizations;
  CREATE INDEX online_authorizations_pending ON online_authorizations (created_at) WHERE state = 'pending';
  `,
  // The shift after an op that changed it, in the op's own row (recording.ts): one row written per sale,
  // where the meta 'shift' entry rewritten with every op was a second B-tree page in every commit.
  // Journals written before keep their meta entry; it stands until the first op that changes the shift.
  `
  ALTER TABLE ops ADD COLUMN shift TEXT;
  `,
  // Pending ops are found by seq from a floor the journal keeps (journal-core.ts): a third B-tree page in
  // every recorded sale's commit, where the commit's fsync is most of what a clerk waits for.
  `
  DROP INDEX ops_pending;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the journal at `path` up to SCHEMA_VERSION. */
export function migrate(db: SqliteConnection, path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const row = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(META.schemaVersion);
  const version = row ? Number(row.value) : 0;
  if (version > SCHEMA_VERSION) throw new JournalVersionError(path, version, SCHEMA_VERSION);
  const setVersion = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      setVersion.run(META.schemaVersion, String(v + 1));
    });
  }
}
