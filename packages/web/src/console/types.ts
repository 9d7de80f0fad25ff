/**
 * The shapes of the operator API the console reads (docs/protocol.md):
 * copies of the server's types, narrowed to what the console shows, so the
 * browser bundle depends on no server code.
 */
export interface Placement {
  merchant: string;
  location: string | null;
  event: string | null;
}

export interface SessionInfo {
  kind: string;
  actor: string;
  username: string;
  role: string;
  permissions: string[];
}

export interface DeviceStatus {
  id: string;
  label: string;
  enrolledAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
  highWater: number;
  latestSeq: number;
  behind: number;
  gap: { from: number; to: number } | null;
  lastSeenAt: number | null;
  clockOffsetMs: number | null;
  conflicts: number;
  forks: number;
  placement: Placement | null;
  /** The device's newest report (protocol device-report.ts), or null: it never sent one (older terminals). */
  report: DeviceReport | null;
}

export interface DeviceReport {
  /** Server clock when it arrived. */
  reportedAt: number;
  /** When the oldest op the device had not delivered was recorded (server clock), or null: none waited. */
  pendingSince: number | null;
  /** `<policy id>@<version>`, or null: it holds none. */
  policy: string | null;
  app: string | null;
}

export interface ExceptionAction {
  id: string;
  action: string;
  note: string;
  amount: number | null;
  currency: string | null;
  by: string;
  at: number;
  resolves: boolean;
}

export interface ExceptionView {
  id: string;
  type: string;
  severity: 'alarm' | 'warning' | 'info';
  device: string;
  opId: string | null;
  seq: number | null;
  message: string;
  detail: Record<string, unknown>;
  raisedAt: number;
  count: number;
  lastSeenAt: number;
  status: 'open' | 'resolved';
  actions: ExceptionAction[];
  display: { language: string; title: string; text: string };
}

export interface Page<T> {
  items: T[];
  next: number;
  more?: boolean;
}

export interface AuditRow {
  pos: number;
  id: string;
  at: number;
  actor: string;
  actorName: string | null;
  role: string | null;
  action: string;
  target: string | null;
  outcome: string;
  source: string | null;
  detail: Record<string, unknown> | null;
}

export interface ShiftRecord {
  id: string;
  device: string;
  clerk: string;
  currency: string;
  status: 'open' | 'closed';
  openingFloat: number;
  sales: number;
  salesTotal: number;
  cashSales: number;
  cardSales: number;
  cashIn: number;
  cashOut: number;
  countedCash: number | null;
  openedAt: number;
  closedAt: number | null;
  expectedCash: number | null;
  variance: number | null;
}

export interface ExposureGroup {
  currency: string;
  merchant: string;
  location: string | null;
  event: string | null;
  devices: number;
  maxAmount: number;
  maxCount: number;
  worstAmount: number;
  worstCount: number;
}

export interface ExposureActual {
  currency: string;
  merchant: string | null;
  location: string | null;
  event: string | null;
  amount: number;
  count: number;
}

export interface ExposureAnswer {
  at: number;
  bound: ExposureGroup[];
  uncovered: string[];
  unplaced: string[];
  actual: ExposureActual[];
}

export interface CreateTokenResponse {
  token: string;
  label: string | null;
  expiresAt: number;
  placement: Placement | null;
}

export interface LiveSample {
  at: number;
  ingest: { batches: number; accepted: number; duplicate: number; conflict: number; fork: number; rejected: number };
  admission: {
    admitted: { live: number; backlog: number };
    queued: { live: number; backlog: number };
    running: number;
    ingestMs: number;
    totals: { admitted: { live: number; backlog: number }; overloaded: number; rateLimited: number; abandoned: number };
  };
  storageQueueDepth: number;
  forwarding: { pending: number; oldestBase: number | null };
  openExceptions: number;
  devices: { active: number; revoked: number; behind: number };
}
