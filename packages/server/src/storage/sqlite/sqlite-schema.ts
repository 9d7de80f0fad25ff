/**
 * The SQLite schema, as forward-only migrations. Each runs once, in its own
 * transaction, recorded in `schema_migrations`.
 *
 * The op log and the ledger are append-only, enforced by triggers: a
 * correction is a new event, never an edit.
 */

export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE enrollment_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    device_id TEXT,
    public_key TEXT
  );

  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT,
    high_water INTEGER NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL,
    latest_seq INTEGER NOT NULL DEFAULT 0,
    gap_from INTEGER,
    gap_to INTEGER,
    last_seen_at INTEGER,
    clock_offset_ms INTEGER
  );

  CREATE TABLE ops (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices(id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    envelope TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    result TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (device, seq)
  );

  CREATE TABLE ledger (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    shift_id TEXT,
    currency TEXT,
    amount INTEGER,
    data TEXT NOT NULL,
    device_at INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
  );
  CREATE INDEX ledger_op ON ledger (op_id);

  CREATE TABLE sales (
    op_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    shift_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    total INTEGER NOT NULL,
    cash INTEGER NOT NULL,
    card INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    device_at INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
  );
  CREATE INDEX sales_shift ON sales (shift_id);

  CREATE TABLE cash_movements (
    op_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    shift_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    direction TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount INTEGER NOT NULL,
    device_at INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
  );

  CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    clerk TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    opening_float INTEGER NOT NULL,
    sales INTEGER NOT NULL,
    sales_total INTEGER NOT NULL,
    cash_sales INTEGER NOT NULL,
    card_sales INTEGER NOT NULL,
    cash_in INTEGER NOT NULL,
    cash_out INTEGER NOT NULL,
    counted_cash INTEGER,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    expected_cash INTEGER,
    variance INTEGER
  );
  CREATE INDEX shifts_device_status ON shifts (device, status);

  CREATE TABLE exceptions (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    device TEXT NOT NULL,
    op_id TEXT,
    seq INTEGER,
    message TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE
  );
  CREATE INDEX exceptions_device ON exceptions (device, type);

  CREATE TRIGGER ops_no_update BEFORE UPDATE ON ops BEGIN SELECT RAISE(ABORT, 'ops are append-only'); END;
  CREATE TRIGGER ops_no_delete BEFORE DELETE ON ops BEGIN SELECT RAISE(ABORT, 'ops are append-only'); END;
  CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
  CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
  `,
  // 2: risk policies — device placement, the policy-signing key, issued policies, offline payments.
  // Additive only (new tables, new nullable columns): a server of the previous release keeps working.
  `
  ALTER TABLE enrollment_tokens ADD COLUMN merchant TEXT;
  ALTER TABLE enrollment_tokens ADD COLUMN location TEXT;
  ALTER TABLE enrollment_tokens ADD COLUMN event TEXT;

  -- Placement in its own table, not columns of devices: see the PostgreSQL schema for why.
  CREATE TABLE device_placements (
    device TEXT PRIMARY KEY REFERENCES devices (id),
    merchant TEXT NOT NULL,
    location TEXT,
    event TEXT,
    placed_at INTEGER NOT NULL
  );

  CREATE TABLE server_keys (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    private_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
  );
  -- At most one active key: two processes creating the first key at once store one.
  CREATE UNIQUE INDEX server_keys_one_active ON server_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

  CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    scope_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    merchant TEXT NOT NULL,
    location TEXT,
    event TEXT,
    currency TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    signed TEXT NOT NULL,
    UNIQUE (scope_key, version)
  );
  CREATE INDEX policies_merchant ON policies (merchant, issued_at);
  CREATE TRIGGER policies_no_update BEFORE UPDATE ON policies BEGIN SELECT RAISE(ABORT, 'policies are append-only'); END;
  CREATE TRIGGER policies_no_delete BEFORE DELETE ON policies BEGIN SELECT RAISE(ABORT, 'policies are append-only'); END;

  CREATE TABLE offline_payments (
    op_id TEXT NOT NULL,
    tender_index INTEGER NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    tender TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    token TEXT NOT NULL,
    policy TEXT,
    approved_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    settled_at INTEGER,
    outcome TEXT,
    PRIMARY KEY (op_id, tender_index)
  );
  CREATE INDEX offline_payments_unsettled ON offline_payments (device) WHERE settled_at IS NULL;
  `,
  // Forwarding: who holds a payment for forwarding and until when (a lease), and the processor's answer.
  `
  ALTER TABLE offline_payments ADD COLUMN claimed_by TEXT;
  ALTER TABLE offline_payments ADD COLUMN claim_expires_at INTEGER;
  ALTER TABLE offline_payments ADD COLUMN processor_id TEXT;
  ALTER TABLE offline_payments ADD COLUMN decline_code TEXT;
  ALTER TABLE offline_payments ADD COLUMN settled_by TEXT;
  CREATE INDEX offline_payments_forwarding ON offline_payments (device, seq, tender_index) WHERE settled_at IS NULL;
  `,
  // Device feed (sqlite-feed.ts): one partial index per feed query, so neither scans the ledger's other events.
  // IF NOT EXISTS: the indexes are on a table of migration 1, which a downgrade to it keeps.
  `
  CREATE INDEX IF NOT EXISTS ledger_feed_payments ON ledger (device, pos) WHERE type IN ('payment.settled', 'payment.declined');
  CREATE INDEX IF NOT EXISTS ledger_feed_broadcast ON ledger (pos) WHERE type LIKE 'wristband.%';
  `,
  // Online authorizations (POST /v1/authorize): one row per op id; betting configuration and selection liability.
  `
  CREATE TABLE online_authorizations (
    op_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('card', 'ticket')),
    request_hash TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    authorization_id TEXT NOT NULL UNIQUE,
    reason TEXT,
    message TEXT,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    potential_payout INTEGER,
    processor_id TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
  );
  CREATE TABLE betting_configs (
    version INTEGER PRIMARY KEY,
    config TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE selection_liability (
    currency TEXT NOT NULL,
    event TEXT NOT NULL,
    market TEXT NOT NULL,
    selection TEXT NOT NULL,
    liability INTEGER NOT NULL,
    tickets INTEGER NOT NULL,
    PRIMARY KEY (currency, event, market, selection)
  );
  `,
  // Wristband wallets (wallets/wallet-plan.ts): one account per wristband, one entry per chip write.
  // The balance is stored beside the totals it derives from, and the CHECK keeps them equal.
  `
  CREATE TABLE wallet_accounts (
    wristband TEXT PRIMARY KEY,
    merchant TEXT,
    currency TEXT NOT NULL,
    topped_up INTEGER NOT NULL,
    debited INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    balance INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    max_counter INTEGER NOT NULL,
    distinct_counters INTEGER NOT NULL,
    overspend_op TEXT,
    blocked_reason TEXT,
    blocked_exception TEXT,
    blocked_op TEXT,
    blocked_device TEXT,
    blocked_seq INTEGER,
    blocked_at INTEGER,
    first_seen_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (balance = topped_up - debited + refunded),
    CHECK (topped_up >= 0 AND debited >= 0 AND refunded >= 0),
    CHECK (distinct_counters <= max_counter)
  );
  CREATE INDEX wallet_accounts_blocked ON wallet_accounts (wristband) WHERE blocked_reason IS NOT NULL;
  CREATE TABLE wallet_entries (
    op_id TEXT NOT NULL,
    tender_index INTEGER NOT NULL,
    wristband TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('topup', 'debit', 'refund')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    counter INTEGER NOT NULL,
    balance_before INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    shift_id TEXT NOT NULL,
    device_at INTEGER NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (op_id, tender_index)
  );
  CREATE INDEX wallet_entries_wristband ON wallet_entries (wristband, counter);
  `,
  // Forwarding retries, refusals and operator actions on exceptions (issue 4, ops): a payment's
  // consecutive transient failures and when it is due again; a processor's permanent refusal;
  // and the append-only record of what operators did about each exception.
  `
  ALTER TABLE offline_payments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE offline_payments ADD COLUMN next_attempt_at INTEGER;
  ALTER TABLE offline_payments ADD COLUMN last_error TEXT;
  ALTER TABLE offline_payments ADD COLUMN refused_at INTEGER;
  ALTER TABLE offline_payments ADD COLUMN refusal_code TEXT;
  -- The forwarding-deadline exception last raised for it (NULL, 'warning', 'missed'): the sweep skips
  -- what it already reported without looking each payment's exception up.
  ALTER TABLE offline_payments ADD COLUMN deadline_stage TEXT;

  CREATE TABLE exception_actions (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    exception_id TEXT NOT NULL REFERENCES exceptions (id),
    action TEXT NOT NULL CHECK (action IN ('contacted', 'written_off', 'recovered', 'acknowledged')),
    note TEXT NOT NULL,
    amount INTEGER,
    currency TEXT,
    by TEXT NOT NULL,
    at INTEGER NOT NULL,
    resolves INTEGER NOT NULL CHECK (resolves IN (0, 1))
  );
  CREATE INDEX exception_actions_exception ON exception_actions (exception_id, pos);
  -- Exactly one resolution per exception, whoever races to record it.
  CREATE UNIQUE INDEX exception_actions_one_resolution ON exception_actions (exception_id) WHERE resolves = 1;
  CREATE TRIGGER exception_actions_no_update BEFORE UPDATE ON exception_actions
    BEGIN SELECT RAISE(ABORT, 'exception actions are append-only'); END;
  CREATE TRIGGER exception_actions_no_delete BEFORE DELETE ON exception_actions
    BEGIN SELECT RAISE(ABORT, 'exception actions are append-only'); END;
  `,
  // Staff at the till (issue 11): each location's roster as an append-only history (model/staff.ts).
  `
  CREATE TABLE staff_events (
    location TEXT NOT NULL,
    version INTEGER NOT NULL,
    staff TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('added', 'role_changed', 'pin_set', 'badge_set', 'removed')),
    at INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'manager')),
    pin TEXT,
    badge TEXT,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (location, version)
  );
  CREATE INDEX staff_events_staff ON staff_events (staff, at, version);
  CREATE TRIGGER staff_events_no_update BEFORE UPDATE ON staff_events
    BEGIN SELECT RAISE(ABORT, 'staff events are append-only'); END;
  CREATE TRIGGER staff_events_no_delete BEFORE DELETE ON staff_events
    BEGIN SELECT RAISE(ABORT, 'staff events are append-only'); END;
  `,
  // Operators in the back office (issue 11): named accounts with a role, login sessions and
  // per-user API tokens (each stored as the SHA-256 of its secret), and the append-only audit log.
  `
  CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'supervisor', 'admin', 'auditor')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    password_set_at INTEGER NOT NULL,
    disabled_at INTEGER
  );
  CREATE TABLE operator_sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id) WHERE ended_at IS NULL;
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'supervisor', 'admin', 'auditor')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX api_tokens_operator ON api_tokens (operator_id, created_at);
  CREATE TABLE audit_log (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    request_id TEXT,
    source TEXT,
    detail TEXT
  );
  CREATE INDEX audit_log_at ON audit_log (at);
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  // Betting tickets after their approval (model/ticket.ts, docs/betting.md): the projection, its
  // append-only history (one row per state), results, and payouts (one per ticket: the unique key).
  `
  CREATE TABLE tickets (
    ticket_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    authorization_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    stake INTEGER NOT NULL,
    potential_payout INTEGER NOT NULL,
    selections TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'won', 'lost', 'void', 'push', 'paid', 'voided')),
    payout INTEGER,
    settled_at INTEGER
  );
  CREATE TABLE ticket_selections (
    ticket_id TEXT NOT NULL REFERENCES tickets (ticket_id),
    currency TEXT NOT NULL,
    event TEXT NOT NULL,
    market TEXT NOT NULL,
    selection TEXT NOT NULL,
    odds INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, event, market)
  );
  CREATE INDEX ticket_selections_event ON ticket_selections (event, ticket_id);
  CREATE TABLE ticket_events (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL REFERENCES tickets (ticket_id),
    state TEXT NOT NULL,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    amount INTEGER,
    detail TEXT NOT NULL,
    UNIQUE (ticket_id, state)
  );
  CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
    BEGIN SELECT RAISE(ABORT, 'ticket events are append-only'); END;
  CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
    BEGIN SELECT RAISE(ABORT, 'ticket events are append-only'); END;
  CREATE TABLE event_results (
    event TEXT NOT NULL,
    market TEXT NOT NULL,
    selection TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('won', 'lost', 'void', 'push')),
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (event, market, selection)
  );
  CREATE TABLE ticket_payouts (
    op_id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL UNIQUE REFERENCES tickets (ticket_id),
    device TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
    authorization_id TEXT,
    at INTEGER NOT NULL
  );
  -- Tickets approved before this migration: accepted, their liability still held (settlement releases it).
  INSERT INTO tickets (ticket_id, device, authorization_id, currency, stake, potential_payout, selections,
                       accepted_at, state)
    SELECT op_id, device, authorization_id, currency, amount, potential_payout, json_extract(request, '$.selections'),
           coalesce(decided_at, created_at), 'accepted'
    FROM online_authorizations WHERE kind = 'ticket' AND status = 'approved';
  INSERT INTO ticket_selections (ticket_id, currency, event, market, selection, odds)
    SELECT a.op_id, a.currency, json_extract(s.value, '$.event'), json_extract(s.value, '$.market'),
           json_extract(s.value, '$.selection'), json_extract(s.value, '$.odds')
    FROM online_authorizations a, json_each(a.request, '$.selections') s
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
    device TEXT NOT NULL REFERENCES devices (id),
    public_key TEXT NOT NULL UNIQUE,
    valid_from INTEGER NOT NULL,
    retired_at INTEGER,
    PRIMARY KEY (device, public_key)
  );
  CREATE INDEX device_keys_device ON device_keys (device, valid_from);
  `,
  // Aggregated exceptions (issue 15 item 9): one open op_rejected per device and cause carries
  // how many ops it stands for and when the last was seen; group_key finds a group's latest row.
  // Rows from before keep occurrences 1 and a NULL last_seen_at (read as raised_at).
  `
  ALTER TABLE exceptions ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE exceptions ADD COLUMN last_seen_at INTEGER;
  ALTER TABLE exceptions ADD COLUMN group_key TEXT;
  CREATE INDEX exceptions_group ON exceptions (group_key, pos) WHERE group_key IS NOT NULL;
  `,
  // Loyalty (issue 12 point 3, docs/loyalty.md): members' point totals (the balance is derived)
  // and their entries, one per earn, redeem or adjustment, unique by entry id.
  `
  CREATE TABLE loyalty_members (
    member TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    earned INTEGER NOT NULL,
    redeemed INTEGER NOT NULL,
    adjusted INTEGER NOT NULL,
    overdrawn_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE loyalty_entries (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL UNIQUE,
    member TEXT NOT NULL REFERENCES loyalty_members (member),
    kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'adjust')),
    points INTEGER NOT NULL,
    op_id TEXT,
    device TEXT,
    seq INTEGER,
    sale TEXT,
    balance_seen INTEGER,
    route TEXT,
    reason TEXT,
    actor TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX loyalty_entries_member ON loyalty_entries (member, pos);
  `,
  // Catalog and price lists (issue 12, docs/catalog-and-stock.md): items by SKU, and every
  // published price-list version per location, append-only.
  `
  CREATE TABLE catalog_items (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    tax_category TEXT NOT NULL,
    unit TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  );
  CREATE TABLE price_lists (
    location TEXT NOT NULL,
    version INTEGER NOT NULL,
    currency TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER,
    prices TEXT NOT NULL,
    promotions TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (location, version)
  );
  CREATE TRIGGER price_lists_no_update BEFORE UPDATE ON price_lists
    BEGIN SELECT RAISE(ABORT, 'price lists are append-only'); END;
  CREATE TRIGGER price_lists_no_delete BEFORE DELETE ON price_lists
    BEGIN SELECT RAISE(ABORT, 'price lists are append-only'); END;
  `,
  // E-invoicing (issue 12 point 4, docs/e-invoicing.md): one row per accepted sale, the bill the
  // fiscal submitter registers with the tax authority, in seq order per device, once (the key is
  // derived from op_id); state pending -> registered | rejected; fiscal_number once, never replaced.
  `
  CREATE TABLE fiscal_bills (
    op_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    currency TEXT NOT NULL,
    total INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    provisional_number TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'registered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT,
    claim_expires_at INTEGER,
    fiscal_number TEXT UNIQUE,
    fiscal_sequence INTEGER,
    registered_at INTEGER,
    reject_code TEXT,
    reject_reason TEXT,
    deadline_stage TEXT CHECK (deadline_stage IN ('warning', 'missed')),
    UNIQUE (device, seq),
    CHECK ((state = 'registered') = (fiscal_number IS NOT NULL))
  );
  CREATE INDEX fiscal_bills_pending ON fiscal_bills (device, seq) WHERE state = 'pending';
  CREATE INDEX ledger_feed_bills ON ledger (device, pos) WHERE type = 'bill.registered';
  `,
  // Sale corrections (issue 11 point 3, docs/corrections.md): each sale.voided, sale.refunded and
  // wallet.refunded op, judged against the sale it names; held while its sale is not stored.
  `
  CREATE TABLE sale_corrections (
    op_id TEXT PRIMARY KEY,
    sale_op_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    shift_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL,
    lines TEXT,
    state TEXT NOT NULL CHECK (state IN ('held', 'counted')),
    held_exception TEXT,
    device_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    judged_at INTEGER
  );
  CREATE INDEX sale_corrections_sale ON sale_corrections (sale_op_id);
  `,
  // Reports (issue 12 point 5, docs/reports.md): the tax rate of each catalog tax category, in basis
  // points of the tax-inclusive price (2100 = 21 %); reports read the ledger by device time.
  `
  CREATE TABLE tax_rates (
    category TEXT PRIMARY KEY,
    rate_bp INTEGER NOT NULL CHECK (rate_bp >= 0 AND rate_bp <= 10000),
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  );
  CREATE INDEX ledger_device_at ON ledger (device_at);
  `,
  // E-invoicing, finished (issue 12 point 4, docs/e-invoicing.md): per-jurisdiction deadlines (the
  // jurisdiction of a bill's location, its deadline stored on the bill at enrolment), resubmission
  // after a rejection (submission: the key's suffix), operator resolutions of rejected bills
  // (audited in fiscal_bill_actions), and credit notes (refunds, voids, cancellations) in their own outbox.
  `
  ALTER TABLE fiscal_bills ADD COLUMN jurisdiction TEXT;
  ALTER TABLE fiscal_bills ADD COLUMN deadline_ms INTEGER;
  ALTER TABLE fiscal_bills ADD COLUMN submission INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE fiscal_bills ADD COLUMN seller_tax_id TEXT;
  ALTER TABLE fiscal_bills ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE fiscal_bills ADD COLUMN resolution TEXT
    CHECK (resolution IS NULL OR resolution IN ('cancelled', 'non_fiscal'));
  CREATE TABLE fiscal_jurisdictions (
    location TEXT PRIMARY KEY,
    jurisdiction TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL
  );
  CREATE TABLE fiscal_bill_actions (
    id TEXT PRIMARY KEY,
    op_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('resubmit', 'cancel', 'non_fiscal')),
    note TEXT NOT NULL,
    data TEXT NOT NULL,
    by TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX fiscal_bill_actions_bill ON fiscal_bill_actions (op_id, at);
  CREATE TABLE fiscal_credit_notes (
    op_id TEXT PRIMARY KEY,
    bill_op_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('sale.refunded', 'sale.voided', 'wallet.refunded', 'cancel')),
    device TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    currency TEXT NOT NULL,
    total INTEGER NOT NULL,
    enrolled_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'registered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT,
    claim_expires_at INTEGER,
    fiscal_number TEXT UNIQUE,
    fiscal_sequence INTEGER,
    registered_at INTEGER,
    reject_code TEXT,
    reject_reason TEXT,
    CHECK ((state = 'registered') = (fiscal_number IS NOT NULL))
  );
  CREATE INDEX fiscal_credit_notes_bill ON fiscal_credit_notes (bill_op_id);
  `,
  // Card refunds (issue 11 point 3, docs/corrections.md): the card part of each sale.voided and card
  // sale.refunded, one row per sale card tender refunded, forwarded to the processor once (the key is
  // derived from op_id and tender_index); state pending -> refunded | declined, never back.
  `
  CREATE TABLE card_refunds (
    op_id TEXT NOT NULL,
    tender_index INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('void', 'refund')),
    sale_op_id TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'refunded', 'declined')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT,
    claim_expires_at INTEGER,
    authorization_id TEXT,
    refund_id TEXT UNIQUE,
    decline_code TEXT,
    decline_message TEXT,
    settled_at INTEGER,
    PRIMARY KEY (op_id, tender_index),
    CHECK ((state = 'refunded') = (refund_id IS NOT NULL))
  );
  CREATE INDEX card_refunds_pending ON card_refunds (next_attempt_at) WHERE state = 'pending';
  CREATE INDEX card_refunds_sale ON card_refunds (sale_op_id);
  `,
  // Stock (issue 12 point 2, docs/catalog-and-stock.md): a level per location and SKU, every movement
  // of it (append-only, unique per op or sale line), and the reference an operator's action may name.
  `
  CREATE TABLE stock_levels (
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    tracked INTEGER NOT NULL,
    received INTEGER NOT NULL,
    sold INTEGER NOT NULL,
    adjusted INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    episodes INTEGER NOT NULL,
    short_episode INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (location, sku)
  );
  CREATE TABLE stock_moves (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    move_id TEXT NOT NULL UNIQUE,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('receive', 'count', 'adjust', 'sale')),
    delta INTEGER NOT NULL,
    after INTEGER NOT NULL,
    op_id TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    episode INTEGER,
    note TEXT,
    device_at INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX stock_moves_level ON stock_moves (location, sku, pos);
  CREATE TRIGGER stock_moves_no_update BEFORE UPDATE ON stock_moves
    BEGIN SELECT RAISE(ABORT, 'stock moves are append-only'); END;
  CREATE TRIGGER stock_moves_no_delete BEFORE DELETE ON stock_moves
    BEGIN SELECT RAISE(ABORT, 'stock moves are append-only'); END;
  -- The stock shortfall's decisions join the actions an operator may record, with what they point at:
  -- SQLite cannot change a CHECK, so the append-only table is rebuilt with its rows, indexes and triggers.
  DROP TRIGGER exception_actions_no_update;
  DROP TRIGGER exception_actions_no_delete;
  CREATE TABLE exception_actions_next (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    exception_id TEXT NOT NULL REFERENCES exceptions (id),
    action TEXT NOT NULL CHECK (action IN ('contacted', 'written_off', 'recovered', 'acknowledged',
      'backordered', 'substituted', 'refunded')),
    note TEXT NOT NULL,
    amount INTEGER,
    currency TEXT,
    by TEXT NOT NULL,
    at INTEGER NOT NULL,
    resolves INTEGER NOT NULL CHECK (resolves IN (0, 1)),
    reference TEXT
  );
  INSERT INTO exception_actions_next (pos, id, exception_id, action, note, amount, currency, by, at, resolves)
    SELECT pos, id, exception_id, action, note, amount, currency, by, at, resolves FROM exception_actions;
  DROP TABLE exception_actions;
  ALTER TABLE exception_actions_next RENAME TO exception_actions;
  CREATE INDEX exception_actions_exception ON exception_actions (exception_id, pos);
  CREATE UNIQUE INDEX exception_actions_one_resolution ON exception_actions (exception_id) WHERE resolves = 1;
  CREATE TRIGGER exception_actions_no_update BEFORE UPDATE ON exception_actions
    BEGIN SELECT RAISE(ABORT, 'exception actions are append-only'); END;
  CREATE TRIGGER exception_actions_no_delete BEFORE DELETE ON exception_actions
    BEGIN SELECT RAISE(ABORT, 'exception actions are append-only'); END;
  `,
  // Loyalty online redemptions (issue 12 point 3, docs/loyalty.md): each redemption a till asked
  // for, bound to its op, member, points and device, with the hash of the one-time code sent to
  // the member; and the default code sender's outbox (the simulated message the member reads out).
  `
  CREATE TABLE loyalty_redemptions (
    id TEXT PRIMARY KEY,
    op_id TEXT NOT NULL UNIQUE,
    device TEXT NOT NULL,
    member TEXT NOT NULL REFERENCES loyalty_members (member),
    points INTEGER NOT NULL CHECK (points > 0),
    code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts_left INTEGER NOT NULL,
    sends INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'confirmed', 'locked')),
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER
  );
  CREATE INDEX loyalty_redemptions_member ON loyalty_redemptions (member) WHERE status = 'confirmed';
  CREATE TABLE loyalty_outbox (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    member TEXT NOT NULL,
    redemption TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    code TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX loyalty_outbox_member ON loyalty_outbox (member, pos);
  `,
  // The newest report of each device (issue 14: oldest pending op, policy held, software; docs/console.md):
  // kept apart from devices so recording it never touches the ingest path's rows.
  `
  CREATE TABLE device_reports (
    device TEXT PRIMARY KEY,
    sent_at INTEGER NOT NULL,
    reported_at INTEGER NOT NULL,
    pending_since INTEGER,
    policy TEXT,
    app TEXT
  );
  CREATE INDEX ledger_applied_at ON ledger (applied_at);
  `,
  // Wristband top-up reversals (issue 11 point 3, docs/wristbands.md): one row per wallet.topup_reversed op,
  // found by the top-up it names, so a top-up is never reversed for more than it loaded.
  `
  CREATE TABLE topup_reversals (
    op_id TEXT PRIMARY KEY,
    topup_op_id TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    shift_id TEXT NOT NULL,
    wristband TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    device_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
  );
  CREATE INDEX topup_reversals_topup ON topup_reversals (topup_op_id);
  `,
  // Cash corrections (issue 11 point 3, docs/corrections.md): one row per cash.corrected op, found by the
  // cash.moved it names, so a movement is never corrected for more than it moved.
  `
  CREATE TABLE cash_corrections (
    op_id TEXT PRIMARY KEY,
    movement_op_id TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    shift_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    device_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
  );
  CREATE INDEX cash_corrections_movement ON cash_corrections (movement_op_id);
  `,
  // The sales projection derived from the ledger (issue 17, round three: ingest): every accepted sale.recorded
  // has exactly one ledger event carrying the same facts (amount = total; data: cash, card, lines), so the row
  // per sale was the same data written twice. `sales` is now a view of those events, with the table's columns,
  // and readers are unchanged. The table goes only if the view gives exactly its rows: a sale without its event
  // (or an event without its sale, or twice) stops the migration with the table kept (docs/operations.md).
  `
  CREATE TEMP TABLE sales_unmatched (n INTEGER NOT NULL);
  CREATE TEMP TRIGGER sales_unmatched_refuse BEFORE INSERT ON sales_unmatched WHEN NEW.n > 0 BEGIN
    SELECT RAISE(ABORT, 'migration 25 refused: the sales table and the ledger''s sale.recorded events differ (a damaged or edited database); nothing was changed, see docs/operations.md');
  END;
  INSERT INTO sales_unmatched
    SELECT (SELECT COUNT(*) FROM sales s WHERE NOT EXISTS (
              SELECT 1 FROM ledger l
               WHERE l.op_id = s.op_id AND l.type = 'sale.recorded' AND l.device = s.device AND l.seq = s.seq
                 AND l.shift_id = s.shift_id AND l.currency = s.currency AND l.amount = s.total
                 AND json_extract(l.data, '$.cash') = s.cash AND json_extract(l.data, '$.card') = s.card
                 AND json_extract(l.data, '$.lines') = s.lines AND l.device_at = s.device_at
                 AND l.applied_at = s.applied_at))
         + abs((SELECT COUNT(*) FROM ledger WHERE type = 'sale.recorded') - (SELECT COUNT(*) FROM sales));
  DROP TABLE sales_unmatched;
  DROP TABLE sales;
  CREATE VIEW sales AS
    SELECT op_id, device, seq, shift_id, currency, amount AS total,
           json_extract(data, '$.cash') AS cash, json_extract(data, '$.card') AS card,
           json_extract(data, '$.lines') AS lines, device_at, applied_at
      FROM ledger WHERE type = 'sale.recorded';
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
