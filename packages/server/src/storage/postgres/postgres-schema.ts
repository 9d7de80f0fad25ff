/**
 * The PostgreSQL schema, as forward-only migrations: the same tables and
 * columns as the SQLite schema (sqlite/sqlite-schema.ts), with BIGINT for
 * milliseconds and money. Each migration runs once, in its own transaction,
 * recorded in `schema_migrations`; `PostgresStorage.migrate()` runs them
 * under an advisory lock so that several processes may start at once.
 *
 * Text kept exactly as given: `envelope` (the op's canonical JSON, so
 * sha256(envelope) = hash) and `result` (the stored answer, repeated
 * byte-for-byte to every retry). Ledger `data` and exception `detail` are
 * JSONB, for operators' queries.
 *
 * Keys are `COLLATE "C"`: byte order, as in SQLite, and cheaper comparisons.
 *
 * The op log and the ledger are append-only, enforced by triggers (row
 * UPDATE/DELETE and TRUNCATE): a correction is a new event, never an edit.
 */

export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE enrollment_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    label TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    device_id TEXT COLLATE "C",
    public_key TEXT COLLATE "C"
  );

  CREATE TABLE devices (
    id TEXT COLLATE "C" PRIMARY KEY,
    label TEXT NOT NULL,
    public_key TEXT COLLATE "C" NOT NULL UNIQUE,
    enrolled_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoke_reason TEXT,
    high_water BIGINT NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL,
    latest_seq BIGINT NOT NULL DEFAULT 0,
    gap_from BIGINT,
    gap_to BIGINT,
    last_seen_at BIGINT,
    clock_offset_ms BIGINT
  );

  CREATE TABLE ops (
    id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
    seq BIGINT NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    envelope TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    result TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (device, seq)
  );

  CREATE TABLE ledger (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    op_id TEXT COLLATE "C" NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    shift_id TEXT COLLATE "C",
    currency TEXT,
    amount BIGINT,
    data JSONB NOT NULL,
    device_at BIGINT NOT NULL,
    applied_at BIGINT NOT NULL
  );
  CREATE INDEX ledger_op ON ledger (op_id);

  CREATE TABLE sales (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    shift_id TEXT COLLATE "C" NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    cash BIGINT NOT NULL,
    card BIGINT NOT NULL,
    lines INTEGER NOT NULL,
    device_at BIGINT NOT NULL,
    applied_at BIGINT NOT NULL
  );
  CREATE INDEX sales_shift ON sales (shift_id);

  CREATE TABLE cash_movements (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    shift_id TEXT COLLATE "C" NOT NULL,
    currency TEXT NOT NULL,
    direction TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount BIGINT NOT NULL,
    device_at BIGINT NOT NULL,
    applied_at BIGINT NOT NULL
  );

  CREATE TABLE shifts (
    id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    clerk TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    opening_float BIGINT NOT NULL,
    sales BIGINT NOT NULL,
    sales_total BIGINT NOT NULL,
    cash_sales BIGINT NOT NULL,
    card_sales BIGINT NOT NULL,
    cash_in BIGINT NOT NULL,
    cash_out BIGINT NOT NULL,
    counted_cash BIGINT,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    expected_cash BIGINT,
    variance BIGINT
  );
  CREATE INDEX shifts_device_status ON shifts (device, status);

  CREATE TABLE exceptions (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    op_id TEXT COLLATE "C",
    seq BIGINT,
    message TEXT NOT NULL,
    detail JSONB NOT NULL,
    raised_at BIGINT NOT NULL,
    dedupe_key TEXT COLLATE "C" NOT NULL UNIQUE
  );
  CREATE INDEX exceptions_device ON exceptions (device, type);

  CREATE FUNCTION holdfast_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
  END
  $$;
  CREATE TRIGGER ops_append_only BEFORE UPDATE OR DELETE ON ops
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('ops are append-only');
  CREATE TRIGGER ops_no_truncate BEFORE TRUNCATE ON ops
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('ops are append-only');
  CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('the ledger is append-only');
  CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('the ledger is append-only');
  `,
  // 2: risk policies — device placement, the policy-signing key, issued policies, offline payments.
  // Additive only (new tables, new nullable columns: no table rewrite, brief locks), so processes
  // of the previous release keep working during a rolling restart.
  `
  ALTER TABLE enrollment_tokens ADD COLUMN merchant TEXT COLLATE "C",
                                ADD COLUMN location TEXT COLLATE "C",
                                ADD COLUMN event TEXT COLLATE "C";

  -- Placement has its own table rather than new columns of devices: a server of the previous
  -- release holds the named prepared statement "SELECT * FROM devices … FOR UPDATE" on each
  -- connection, and once devices has more columns PostgreSQL refuses to run it ("cached plan
  -- must not change result type") until that process restarts: its ingest would fail.
  CREATE TABLE device_placements (
    device TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (id),
    merchant TEXT COLLATE "C" NOT NULL,
    location TEXT COLLATE "C",
    event TEXT COLLATE "C",
    placed_at BIGINT NOT NULL
  );

  CREATE TABLE server_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    public_key TEXT COLLATE "C" NOT NULL UNIQUE,
    private_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
  );
  -- At most one active key: two processes creating the first key at once store one.
  CREATE UNIQUE INDEX server_keys_one_active ON server_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

  CREATE TABLE policies (
    id TEXT COLLATE "C" PRIMARY KEY,
    scope_key TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    merchant TEXT COLLATE "C" NOT NULL,
    location TEXT COLLATE "C",
    event TEXT COLLATE "C",
    currency TEXT COLLATE "C" NOT NULL,
    issued_at BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL,
    signed TEXT NOT NULL,
    UNIQUE (scope_key, version)
  );
  CREATE INDEX policies_merchant ON policies (merchant, issued_at);
  CREATE TRIGGER policies_append_only BEFORE UPDATE OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('policies are append-only');
  CREATE TRIGGER policies_no_truncate BEFORE TRUNCATE ON policies
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('policies are append-only');

  CREATE TABLE offline_payments (
    op_id TEXT COLLATE "C" NOT NULL,
    tender_index INTEGER NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    tender TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    token TEXT COLLATE "C" NOT NULL,
    policy TEXT COLLATE "C",
    approved_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    settled_at BIGINT,
    outcome TEXT,
    PRIMARY KEY (op_id, tender_index)
  );
  CREATE INDEX offline_payments_unsettled ON offline_payments (device) WHERE settled_at IS NULL;
  `,
  // Forwarding: who holds a payment for forwarding and until when (a lease), and the processor's answer.
  `
  ALTER TABLE offline_payments ADD COLUMN claimed_by TEXT COLLATE "C";
  ALTER TABLE offline_payments ADD COLUMN claim_expires_at BIGINT;
  ALTER TABLE offline_payments ADD COLUMN processor_id TEXT COLLATE "C";
  ALTER TABLE offline_payments ADD COLUMN decline_code TEXT;
  ALTER TABLE offline_payments ADD COLUMN settled_by TEXT COLLATE "C";
  CREATE INDEX offline_payments_forwarding ON offline_payments (device, seq, tender_index) WHERE settled_at IS NULL;
  `,
  // Device feed (postgres-feed.ts): one partial index per feed query, so neither scans the ledger's other events.
  `
  CREATE INDEX IF NOT EXISTS ledger_feed_payments ON ledger (device, pos) WHERE type IN ('payment.settled', 'payment.declined');
  CREATE INDEX IF NOT EXISTS ledger_feed_broadcast ON ledger (pos) WHERE type LIKE 'wristband.%';
  `,
  // Online authorizations (POST /v1/authorize): one row per op id; betting configuration and selection liability.
  `
  CREATE TABLE online_authorizations (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('card', 'ticket')),
    request_hash TEXT COLLATE "C" NOT NULL,
    request JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    authorization_id TEXT COLLATE "C" NOT NULL UNIQUE,
    reason TEXT,
    message TEXT,
    amount BIGINT NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    potential_payout BIGINT,
    processor_id TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    decided_at BIGINT
  );
  CREATE TABLE betting_configs (
    version INTEGER PRIMARY KEY,
    config JSONB NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE selection_liability (
    currency TEXT COLLATE "C" NOT NULL,
    event TEXT COLLATE "C" NOT NULL,
    market TEXT COLLATE "C" NOT NULL,
    selection TEXT COLLATE "C" NOT NULL,
    liability BIGINT NOT NULL,
    tickets BIGINT NOT NULL,
    PRIMARY KEY (currency, event, market, selection)
  );
  `,
  // Wristband wallets (wallets/wallet-plan.ts): one account per wristband, one entry per chip write.
  // The balance is stored beside the totals it derives from, and the CHECK keeps them equal.
  `
  CREATE TABLE wallet_accounts (
    wristband TEXT COLLATE "C" PRIMARY KEY,
    merchant TEXT COLLATE "C",
    currency TEXT COLLATE "C" NOT NULL,
    topped_up BIGINT NOT NULL,
    debited BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    max_counter BIGINT NOT NULL,
    distinct_counters BIGINT NOT NULL,
    overspend_op TEXT COLLATE "C",
    blocked_reason TEXT,
    blocked_exception TEXT COLLATE "C",
    blocked_op TEXT COLLATE "C",
    blocked_device TEXT COLLATE "C",
    blocked_seq BIGINT,
    blocked_at BIGINT,
    first_seen_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (balance = topped_up - debited + refunded),
    CHECK (topped_up >= 0 AND debited >= 0 AND refunded >= 0),
    CHECK (distinct_counters <= max_counter)
  );
  CREATE INDEX wallet_accounts_blocked ON wallet_accounts (wristband) WHERE blocked_reason IS NOT NULL;
  CREATE TABLE wallet_entries (
    op_id TEXT COLLATE "C" NOT NULL,
    tender_index INTEGER NOT NULL,
    wristband TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('topup', 'debit', 'refund')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT COLLATE "C" NOT NULL,
    counter BIGINT NOT NULL,
    balance_before BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    shift_id TEXT COLLATE "C" NOT NULL,
    device_at BIGINT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (op_id, tender_index)
  );
  CREATE INDEX wallet_entries_wristband ON wallet_entries (wristband, counter);
  `,
  // Forwarding retries, refusals and operator actions on exceptions (issue 4, ops); see the SQLite schema.
  `
  ALTER TABLE offline_payments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
                               ADD COLUMN next_attempt_at BIGINT,
                               ADD COLUMN last_error TEXT,
                               ADD COLUMN refused_at BIGINT,
                               ADD COLUMN refusal_code TEXT,
                               ADD COLUMN deadline_stage TEXT;

  CREATE TABLE exception_actions (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    exception_id TEXT COLLATE "C" NOT NULL REFERENCES exceptions (id),
    action TEXT NOT NULL CHECK (action IN ('contacted', 'written_off', 'recovered', 'acknowledged')),
    note TEXT NOT NULL,
    amount BIGINT,
    currency TEXT,
    by TEXT NOT NULL,
    at BIGINT NOT NULL,
    resolves BOOLEAN NOT NULL
  );
  CREATE INDEX exception_actions_exception ON exception_actions (exception_id, pos);
  -- Exactly one resolution per exception, whichever process races to record it.
  CREATE UNIQUE INDEX exception_actions_one_resolution ON exception_actions (exception_id) WHERE resolves;
  CREATE TRIGGER exception_actions_append_only BEFORE UPDATE OR DELETE ON exception_actions
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('exception actions are append-only');
  CREATE TRIGGER exception_actions_no_truncate BEFORE TRUNCATE ON exception_actions
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('exception actions are append-only');
  `,
  // Staff at the till (issue 11): each location's roster as an append-only history; see the SQLite schema.
  `
  CREATE TABLE staff_events (
    location TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    staff TEXT COLLATE "C" NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('added', 'role_changed', 'pin_set', 'badge_set', 'removed')),
    at BIGINT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'manager')),
    pin TEXT,
    badge TEXT,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (location, version)
  );
  CREATE INDEX staff_events_staff ON staff_events (staff, at, version);
  CREATE TRIGGER staff_events_append_only BEFORE UPDATE OR DELETE ON staff_events
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('staff events are append-only');
  CREATE TRIGGER staff_events_no_truncate BEFORE TRUNCATE ON staff_events
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('staff events are append-only');
  `,
  // Operators in the back office (issue 11); see the SQLite schema.
  `
  CREATE TABLE operators (
    id TEXT COLLATE "C" PRIMARY KEY,
    username TEXT COLLATE "C" NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'supervisor', 'admin', 'auditor')),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    password_set_at BIGINT NOT NULL,
    disabled_at BIGINT
  );
  CREATE TABLE operator_sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    operator_id TEXT COLLATE "C" NOT NULL REFERENCES operators (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
  );
  CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id) WHERE ended_at IS NULL;
  CREATE TABLE api_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    operator_id TEXT COLLATE "C" NOT NULL REFERENCES operators (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'supervisor', 'admin', 'auditor')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
  );
  CREATE INDEX api_tokens_operator ON api_tokens (operator_id, created_at);
  CREATE TABLE audit_log (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    actor_name TEXT COLLATE "C",
    role TEXT,
    action TEXT COLLATE "C" NOT NULL,
    target TEXT COLLATE "C",
    outcome TEXT COLLATE "C" NOT NULL,
    request_id TEXT,
    source TEXT,
    detail JSONB
  );
  CREATE INDEX audit_log_at ON audit_log (at);
  CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('the audit log is append-only');
  CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('the audit log is append-only');
  `,
  // Betting tickets after their approval; see the SQLite schema.
  `
  CREATE TABLE tickets (
    ticket_id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    authorization_id TEXT COLLATE "C" NOT NULL,
    currency TEXT NOT NULL,
    stake BIGINT NOT NULL,
    potential_payout BIGINT NOT NULL,
    selections JSONB NOT NULL,
    accepted_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'won', 'lost', 'void', 'push', 'paid', 'voided')),
    payout BIGINT,
    settled_at BIGINT
  );
  CREATE TABLE ticket_selections (
    ticket_id TEXT COLLATE "C" NOT NULL REFERENCES tickets (ticket_id),
    currency TEXT NOT NULL,
    event TEXT COLLATE "C" NOT NULL,
    market TEXT COLLATE "C" NOT NULL,
    selection TEXT COLLATE "C" NOT NULL,
    odds INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, event, market)
  );
  CREATE INDEX ticket_selections_event ON ticket_selections (event, ticket_id);
  CREATE TABLE ticket_events (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id TEXT COLLATE "C" NOT NULL REFERENCES tickets (ticket_id),
    state TEXT NOT NULL,
    at BIGINT NOT NULL,
    source TEXT NOT NULL,
    amount BIGINT,
    detail JSONB NOT NULL,
    UNIQUE (ticket_id, state)
  );
  CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('ticket events are append-only');
  CREATE TRIGGER ticket_events_no_truncate BEFORE TRUNCATE ON ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('ticket events are append-only');
  CREATE TABLE event_results (
    event TEXT COLLATE "C" NOT NULL,
    market TEXT COLLATE "C" NOT NULL,
    selection TEXT COLLATE "C" NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('won', 'lost', 'void', 'push')),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (event, market, selection)
  );
  CREATE TABLE ticket_payouts (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    ticket_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES tickets (ticket_id),
    device TEXT COLLATE "C" NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
    authorization_id TEXT COLLATE "C",
    at BIGINT NOT NULL
  );
  -- Tickets approved before this migration: accepted, their liability still held (settlement releases it).
  INSERT INTO tickets (ticket_id, device, authorization_id, currency, stake, potential_payout, selections,
                       accepted_at, state)
    SELECT op_id, device, authorization_id, currency, amount, potential_payout, request->'selections',
           coalesce(decided_at, created_at), 'accepted'
    FROM online_authorizations WHERE kind = 'ticket' AND status = 'approved';
  INSERT INTO ticket_selections (ticket_id, currency, event, market, selection, odds)
    SELECT a.op_id, a.currency, s->>'event', s->>'market', s->>'selection', (s->>'odds')::int
    FROM online_authorizations a, jsonb_array_elements(a.request->'selections') s
    WHERE a.kind = 'ticket' AND a.status = 'approved';
  INSERT INTO ticket_events (ticket_id, state, at, source, amount, detail)
    SELECT op_id, 'accepted', coalesce(decided_at, created_at), 'authorize:' || op_id, amount, '{"backfilled":true}'
    FROM online_authorizations WHERE kind = 'ticket' AND status = 'approved';
  `,
  // Device-key history (issue 15, key lifecycle): every key a device has signed with since its
  // first rotation. devices.public_key stays the current key; a previous key is accepted until
  // its retired_at (the rotation's grace period). A key is never reused, by any device.
  `
  CREATE TABLE device_keys (
    device TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
    public_key TEXT COLLATE "C" NOT NULL UNIQUE,
    valid_from BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (device, public_key)
  );
  CREATE INDEX device_keys_device ON device_keys (device, valid_from);
  `,
  // Aggregated exceptions (issue 15 item 9); see the SQLite schema.
  `
  ALTER TABLE exceptions ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1;
  ALTER TABLE exceptions ADD COLUMN last_seen_at BIGINT;
  ALTER TABLE exceptions ADD COLUMN group_key TEXT COLLATE "C";
  CREATE INDEX exceptions_group ON exceptions (group_key, pos) WHERE group_key IS NOT NULL;
  `,
  // Loyalty (issue 12 point 3); see the SQLite schema. Entries are append-only.
  `
  CREATE TABLE loyalty_members (
    member TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    earned BIGINT NOT NULL,
    redeemed BIGINT NOT NULL,
    adjusted BIGINT NOT NULL,
    overdrawn_by TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE loyalty_entries (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id TEXT COLLATE "C" NOT NULL UNIQUE,
    member TEXT COLLATE "C" NOT NULL REFERENCES loyalty_members (member),
    kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'adjust')),
    points BIGINT NOT NULL,
    op_id TEXT COLLATE "C",
    device TEXT COLLATE "C",
    seq BIGINT,
    sale TEXT COLLATE "C",
    balance_seen BIGINT,
    route TEXT,
    reason TEXT,
    actor TEXT,
    at BIGINT NOT NULL
  );
  CREATE INDEX loyalty_entries_member ON loyalty_entries (member, pos);
  CREATE TRIGGER loyalty_entries_append_only BEFORE UPDATE OR DELETE ON loyalty_entries
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('loyalty entries are append-only');
  CREATE TRIGGER loyalty_entries_no_truncate BEFORE TRUNCATE ON loyalty_entries
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('loyalty entries are append-only');
  `,
  // Catalog and price lists (issue 12); see the SQLite schema.
  `
  CREATE TABLE catalog_items (
    sku TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    tax_category TEXT NOT NULL,
    unit TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
  );
  CREATE TABLE price_lists (
    location TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    currency TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    prices TEXT NOT NULL,
    promotions TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (location, version)
  );
  CREATE TRIGGER price_lists_append_only BEFORE UPDATE OR DELETE ON price_lists
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('price lists are append-only');
  `,
  // E-invoicing (issue 12 point 4); see the SQLite schema.
  `
  CREATE TABLE fiscal_bills (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    provisional_number TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'registered', 'rejected')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT,
    claim_expires_at BIGINT,
    fiscal_number TEXT UNIQUE,
    fiscal_sequence BIGINT,
    registered_at BIGINT,
    reject_code TEXT,
    reject_reason TEXT,
    deadline_stage TEXT CHECK (deadline_stage IN ('warning', 'missed')),
    UNIQUE (device, seq),
    CHECK ((state = 'registered') = (fiscal_number IS NOT NULL))
  );
  CREATE INDEX fiscal_bills_pending ON fiscal_bills (device, seq) WHERE state = 'pending';
  CREATE INDEX ledger_feed_bills ON ledger (device, pos) WHERE type = 'bill.registered';
  `,
  // Sale corrections (issue 11 point 3); see the SQLite schema.
  `
  CREATE TABLE sale_corrections (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    sale_op_id TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    shift_id TEXT COLLATE "C" NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    lines JSONB,
    state TEXT NOT NULL CHECK (state IN ('held', 'counted')),
    held_exception TEXT COLLATE "C",
    device_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    judged_at BIGINT
  );
  CREATE INDEX sale_corrections_sale ON sale_corrections (sale_op_id);
  `,
  // Reports (issue 12 point 5); see the SQLite schema.
  `
  CREATE TABLE tax_rates (
    category TEXT COLLATE "C" PRIMARY KEY,
    rate_bp BIGINT NOT NULL CHECK (rate_bp >= 0 AND rate_bp <= 10000),
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
  );
  CREATE INDEX ledger_device_at ON ledger (device_at);
  `,
  // E-invoicing, finished (issue 12 point 4); see the SQLite schema.
  `
  ALTER TABLE fiscal_bills ADD COLUMN jurisdiction TEXT;
  ALTER TABLE fiscal_bills ADD COLUMN deadline_ms BIGINT;
  ALTER TABLE fiscal_bills ADD COLUMN submission BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE fiscal_bills ADD COLUMN seller_tax_id TEXT;
  ALTER TABLE fiscal_bills ADD COLUMN refused BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE fiscal_bills ADD COLUMN resolution TEXT
    CHECK (resolution IS NULL OR resolution IN ('cancelled', 'non_fiscal'));
  CREATE TABLE fiscal_jurisdictions (
    location TEXT COLLATE "C" PRIMARY KEY,
    jurisdiction TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
  );
  CREATE TABLE fiscal_bill_actions (
    id TEXT COLLATE "C" PRIMARY KEY,
    op_id TEXT COLLATE "C" NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('resubmit', 'cancel', 'non_fiscal')),
    note TEXT NOT NULL,
    data TEXT NOT NULL,
    by TEXT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX fiscal_bill_actions_bill ON fiscal_bill_actions (op_id, at);
  CREATE TABLE fiscal_credit_notes (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    bill_op_id TEXT COLLATE "C" NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('sale.refunded', 'sale.voided', 'wallet.refunded', 'cancel')),
    device TEXT COLLATE "C" NOT NULL,
    issued_at BIGINT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'registered', 'rejected')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT,
    claim_expires_at BIGINT,
    fiscal_number TEXT UNIQUE,
    fiscal_sequence BIGINT,
    registered_at BIGINT,
    reject_code TEXT,
    reject_reason TEXT,
    CHECK ((state = 'registered') = (fiscal_number IS NOT NULL))
  );
  CREATE INDEX fiscal_credit_notes_bill ON fiscal_credit_notes (bill_op_id);
  `,
  // Card refunds (issue 11 point 3); see the SQLite schema.
  `
  CREATE TABLE card_refunds (
    op_id TEXT COLLATE "C" NOT NULL,
    tender_index INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('void', 'refund')),
    sale_op_id TEXT COLLATE "C" NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'refunded', 'declined')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT COLLATE "C",
    claim_expires_at BIGINT,
    authorization_id TEXT COLLATE "C",
    refund_id TEXT COLLATE "C" UNIQUE,
    decline_code TEXT,
    decline_message TEXT,
    settled_at BIGINT,
    PRIMARY KEY (op_id, tender_index),
    CHECK ((state = 'refunded') = (refund_id IS NOT NULL))
  );
  CREATE INDEX card_refunds_pending ON card_refunds (next_attempt_at) WHERE state = 'pending';
  CREATE INDEX card_refunds_sale ON card_refunds (sale_op_id);
  `,
  // Stock (issue 12 point 2); see the SQLite schema.
  `
  CREATE TABLE stock_levels (
    location TEXT COLLATE "C" NOT NULL,
    sku TEXT COLLATE "C" NOT NULL,
    tracked BOOLEAN NOT NULL,
    received BIGINT NOT NULL,
    sold BIGINT NOT NULL,
    adjusted BIGINT NOT NULL,
    counted BIGINT NOT NULL,
    episodes BIGINT NOT NULL,
    short_episode BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (location, sku)
  );
  CREATE TABLE stock_moves (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    move_id TEXT COLLATE "C" NOT NULL UNIQUE,
    location TEXT COLLATE "C" NOT NULL,
    sku TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('receive', 'count', 'adjust', 'sale')),
    delta BIGINT NOT NULL,
    after BIGINT NOT NULL,
    op_id TEXT COLLATE "C" NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    episode BIGINT,
    note TEXT,
    device_at BIGINT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX stock_moves_level ON stock_moves (location, sku, pos);
  CREATE TRIGGER stock_moves_append_only BEFORE UPDATE OR DELETE ON stock_moves
    FOR EACH ROW EXECUTE FUNCTION holdfast_refuse_change('stock moves are append-only');
  CREATE TRIGGER stock_moves_no_truncate BEFORE TRUNCATE ON stock_moves
    FOR EACH STATEMENT EXECUTE FUNCTION holdfast_refuse_change('stock moves are append-only');
  ALTER TABLE exception_actions ADD COLUMN reference TEXT;
  ALTER TABLE exception_actions DROP CONSTRAINT exception_actions_action_check;
  ALTER TABLE exception_actions ADD CONSTRAINT exception_actions_action_check CHECK (action IN
    ('contacted', 'written_off', 'recovered', 'acknowledged', 'backordered', 'substituted', 'refunded'));
  `,
  // Loyalty online redemptions (issue 12 point 3); see the SQLite schema.
  `
  CREATE TABLE loyalty_redemptions (
    id TEXT COLLATE "C" PRIMARY KEY,
    op_id TEXT COLLATE "C" NOT NULL UNIQUE,
    device TEXT COLLATE "C" NOT NULL,
    member TEXT COLLATE "C" NOT NULL REFERENCES loyalty_members (member),
    points BIGINT NOT NULL CHECK (points > 0),
    code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts_left BIGINT NOT NULL,
    sends BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'confirmed', 'locked')),
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT
  );
  CREATE INDEX loyalty_redemptions_member ON loyalty_redemptions (member) WHERE status = 'confirmed';
  CREATE TABLE loyalty_outbox (
    pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member TEXT COLLATE "C" NOT NULL,
    redemption TEXT COLLATE "C" NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    code TEXT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX loyalty_outbox_member ON loyalty_outbox (member, pos);
  `,
  // The newest report of each device (issue 14); see the SQLite schema.
  `
  CREATE TABLE device_reports (
    device TEXT COLLATE "C" PRIMARY KEY,
    sent_at BIGINT NOT NULL,
    reported_at BIGINT NOT NULL,
    pending_since BIGINT,
    policy TEXT,
    app TEXT
  );
  CREATE INDEX ledger_applied_at ON ledger (applied_at);
  `,
  // Wristband top-up reversals (issue 11 point 3); see the SQLite schema.
  `
  CREATE TABLE topup_reversals (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    topup_op_id TEXT COLLATE "C" NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    shift_id TEXT COLLATE "C" NOT NULL,
    wristband TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    device_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
  );
  CREATE INDEX topup_reversals_topup ON topup_reversals (topup_op_id);
  `,
  // Cash corrections (issue 11 point 3); see the SQLite schema.
  `
  CREATE TABLE cash_corrections (
    op_id TEXT COLLATE "C" PRIMARY KEY,
    movement_op_id TEXT COLLATE "C" NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    shift_id TEXT COLLATE "C" NOT NULL,
    currency TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    device_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
  );
  CREATE INDEX cash_corrections_movement ON cash_corrections (movement_op_id);
  `,
  // The sales projection derived from the ledger (issue 17, round three); see the SQLite schema. Processes
  // of the previous release still INSERT their sale rows during a rolling restart: the view takes them and
  // discards them (INSTEAD OF), since the ledger event the same statement writes carries the same facts.
  `
  DO $$
  BEGIN
    IF (SELECT count(*) FROM sales s WHERE NOT EXISTS (
          SELECT 1 FROM ledger l
           WHERE l.op_id = s.op_id AND l.type = 'sale.recorded' AND l.device = s.device AND l.seq = s.seq
             AND l.shift_id = s.shift_id AND l.currency = s.currency AND l.amount = s.total
             AND (l.data->>'cash')::bigint = s.cash AND (l.data->>'card')::bigint = s.card
             AND (l.data->>'lines')::integer = s.lines AND l.device_at = s.device_at
             AND l.applied_at = s.applied_at)) > 0
       OR (SELECT count(*) FROM ledger WHERE type = 'sale.recorded') <> (SELECT count(*) FROM sales) THEN
      RAISE EXCEPTION 'migration 25 refused: the sales table and the ledger''s sale.recorded events differ (a damaged or edited database); nothing was changed, see docs/operations.md';
    END IF;
  END $$;
  DROP TABLE sales;
  CREATE VIEW sales AS
    SELECT op_id, device, seq, shift_id, currency, amount AS total,
           (data->>'cash')::bigint AS cash, (data->>'card')::bigint AS card,
           (data->>'lines')::integer AS lines, device_at, applied_at
      FROM ledger WHERE type = 'sale.recorded';
  CREATE FUNCTION sales_insert_discarded() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
  CREATE TRIGGER sales_insert_discarded INSTEAD OF INSERT ON sales
    FOR EACH ROW EXECUTE FUNCTION sales_insert_discarded();
  `,
  // No query reads the ledger by op id (reports join ops from the ledger, feeds read by device and
  // position); the index only cost writes, most of all for a backlog from an outage, whose op ids
  // interleave across terminals (docs/performance.md, "Reconnection storm").
  `
  DROP INDEX IF EXISTS ledger_op;
  `,
  // Reports read the ledger by device time; an index on device time alone put each backlog batch's
  // entries on as many pages as it has ops (an outage's device times interleave across terminals).
  // Keyed by device first, a batch's entries are neighbours; reports read one range per device
  // (reports.ts, reportInput). docs/performance.md, "Reconnection storm", round four.
  `
  CREATE INDEX IF NOT EXISTS ledger_device_time ON ledger (device, device_at);
  DROP INDEX IF EXISTS ledger_device_at;
  `,
];
