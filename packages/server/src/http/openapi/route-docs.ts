/**
 * The OpenAPI description of every route: request bodies derived from the
 * protocol's own schemas (`Schema.describe()`, JSON Schema 2020-12, which
 * OpenAPI 3.1 uses as is), path and query parameters, the success answer,
 * and the error answer every route shares (WireError).
 *
 * Documentation only: the routes keep parsing their input with the
 * protocol schemas, which throw the coded errors terminals depend on
 * (register-openapi.ts turns Fastify's own validation and serialization off
 * for these schemas). Keep docs/protocol.md and this table in step.
 */
import {
  authorizeRequestSchema,
  batchSchema,
  catalogItemsRequestSchema,
  createTokenRequestSchema,
  ERROR_CODES,
  enrollRequestSchema,
  eventResultsRequestSchema,
  feedRequestSchema,
  type JsonSchema,
  loyaltyRequestSchema,
  opQuerySchema,
  placementSchema,
  policyDraftSchema,
  policyRequestSchema,
  priceListRequestSchema,
  revokeRequestSchema,
  rotateKeyRequestSchema,
  shiftReportRequestSchema,
  UUID_PATTERN,
} from '@holdfast/protocol';
import { bettingConfigSchema } from '../../authorize/betting-config.js';
import { exceptionActionRequestSchema } from '../../exceptions/exception-requests.js';
import { EXCEPTION_TYPES } from '../../model/exception.js';
import { EXCEPTION_ACTIONS } from '../../model/exception-action.js';
import { taxRatesRequestSchema } from '../../services/report-desk.js';
import { staffAddSchema, staffBadgeSchema, staffPinSchema, staffUpdateSchema } from '../../services/staff-desk.js';
import { unblockSchema } from '../../wallets/wallet-api.js';
import { fiscalActionSchema, fiscalJurisdictionSchema } from '../fiscal-routes.js';
import { adjustPointsSchema, createMemberSchema } from '../loyalty-routes.js';
import {
  createOperatorSchema,
  createTokenSchema,
  loginSchema,
  passwordChangeSchema,
  resetSchema,
  roleSchema,
} from '../operator-routes.js';

/** Where the document is served. */
export const OPENAPI_PATH = '/v1/openapi.json';

export const WIRE_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'The body of every non-2xx answer (docs/protocol.md "Errors").',
  required: ['code', 'message', 'retryable'],
  properties: {
    code: { enum: Object.keys(ERROR_CODES) },
    message: { type: 'string' },
    field: { type: 'string', description: 'The offending field as a path, e.g. ops[3].body.total' },
    rule: { type: 'string', description: 'The rule the field broke, e.g. integer >= 1' },
    retryable: { type: 'boolean' },
    retryAfterMs: { type: 'integer', minimum: 0 },
  },
};

type Auth = 'none' | 'operator' | 'metrics';

export interface RouteDoc {
  summary: string;
  tag: 'terminal' | 'operator' | 'operations';
  auth: Auth;
  body?: JsonSchema;
  params?: Record<string, JsonSchema>;
  query?: Record<string, JsonSchema>;
  /** The success answer (200 unless `status`). */
  response: JsonSchema;
  /** Content type of the success answer when not JSON. */
  produces?: string;
}

const UUID: JsonSchema = {
  type: 'string',
  pattern: UUID_PATTERN.source,
  description: 'UUID, version 7 or 8 (device-first op ids, protocol.md §1.0), lowercase hex',
};
const WRISTBAND: JsonSchema = { type: 'string', description: 'Wristband uid (hex)' };
const MEMBER: JsonSchema = { type: 'string', description: 'Loyalty card number (6..32 upper-case letters or digits)' };
/** The body of a POST that takes none: nothing, or `{}`. */
const NO_BODY: JsonSchema = { type: 'object', additionalProperties: false, description: 'No body, or {}' };

const int = (min: number, max: number, description: string): JsonSchema => ({
  type: 'string',
  pattern: '^[0-9]+$',
  description: `${description} (integer ${min}..${max})`,
});
const obj = (description: string, properties?: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  description,
  ...(properties ? { properties } : {}),
});
const PAGE = obj('A page: items and the cursor of the next page (null at the end)', {
  items: { type: 'array', items: { type: 'object' } },
  next: { type: ['integer', 'null'] },
});
const REPORT_FROM: JsonSchema = {
  type: 'string',
  description: 'YYYY-MM-DD (UTC) or epoch ms of device time, inclusive; default 7 days before to',
};
const REPORT_TO: JsonSchema = {
  type: 'string',
  description: 'YYYY-MM-DD (UTC) or epoch ms of device time, exclusive; default end of today',
};
const REPORT_FORMAT: JsonSchema = { enum: ['json', 'csv'], description: 'json (default) or csv' };
const DEVICE_STATUS = obj('A device: keys, chain head, how far behind, last contact, placement (DeviceStatus)');

/** Keyed by `METHOD path` with Fastify's `:param` syntax. */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /v1/health': {
    summary: 'Liveness: the process answers and the store answers a ping',
    tag: 'operations',
    auth: 'none',
    response: obj('Alive', {
      status: { const: 'ok' },
      protocol: { type: 'integer' },
      storage: { enum: ['sqlite', 'postgres'] },
      time: { type: 'integer', description: 'Server time, epoch ms' },
    }),
  },
  'GET /v1/ready': {
    summary: 'Readiness: store writable, migrations applied (503 not_ready otherwise)',
    tag: 'operations',
    auth: 'none',
    response: obj('Ready for traffic', {
      status: { const: 'ready' },
      storage: { enum: ['sqlite', 'postgres'] },
      migrations: { type: 'integer' },
      time: { type: 'integer' },
    }),
  },
  [`GET ${OPENAPI_PATH}`]: {
    summary: 'This OpenAPI 3.1 document',
    tag: 'operations',
    auth: 'none',
    response: obj('OpenAPI 3.1 document'),
  },
  'GET /metrics': {
    summary: 'Prometheus metrics (only when a metrics token is configured)',
    tag: 'operations',
    auth: 'metrics',
    response: { type: 'string', description: 'Prometheus text exposition 0.0.4' },
    produces: 'text/plain; version=0.0.4; charset=utf-8',
  },
  'POST /v1/enroll': {
    summary: 'Enroll a device with a one-time token and its public key',
    tag: 'terminal',
    auth: 'none',
    body: enrollRequestSchema.describe(),
    response: obj('The device id and the server time (EnrollResponse)'),
  },
  'POST /v1/batches': {
    summary: 'Send a signed batch of ops (header holdfast-lane: live for ops just recorded)',
    tag: 'terminal',
    auth: 'none',
    body: batchSchema.describe(),
    response: obj('One result per op, the high-water mark and the server time (IngestResponse)'),
  },
  'POST /v1/ops/query': {
    summary: "Ask the server which of a device's ops it holds (signed query)",
    tag: 'terminal',
    auth: 'none',
    body: opQuerySchema.describe(),
    response: obj('The stored results of the ops asked about (OpQueryResponse)'),
  },
  'POST /v1/policy': {
    summary: 'The signed risk policies in force for the device (signed request)',
    tag: 'terminal',
    auth: 'none',
    body: policyRequestSchema.describe(),
    response: obj('Signed policies and the server keys (PolicyResponse)'),
  },
  'POST /v1/feed': {
    summary: "The device's settlement feed after a cursor (signed request)",
    tag: 'terminal',
    auth: 'none',
    body: feedRequestSchema.describe(),
    response: obj('Feed items and the next cursor (FeedResponse)'),
  },
  'POST /v1/shifts/z-report': {
    summary: "Whether the server confirms the Z report of one of the device's own shifts (signed request and answer)",
    tag: 'terminal',
    auth: 'none',
    body: shiftReportRequestSchema.describe(),
    response: obj(
      '{shift, state: open | confirmed | differs, stored, pending, notApplied, server, differences} (ShiftReportAnswer)',
    ),
  },
  'POST /v1/devices/rotate-key': {
    summary: "Rotate the device's signing key (signed by the current and the new key; idempotent by the new key)",
    tag: 'terminal',
    auth: 'none',
    body: rotateKeyRequestSchema.describe(),
    response: obj('The key now current and when the previous one retires, signed by the server (RotateKeyResponse)'),
  },
  'POST /v1/authorize': {
    summary: 'An online decision for a card payment or a ticket, while the terminal waits',
    tag: 'terminal',
    auth: 'none',
    body: authorizeRequestSchema.describe(),
    response: obj('The decision, idempotent by op id (AuthorizeResponse)'),
  },
  'POST /v1/loyalty': {
    summary:
      "A till's loyalty question: a member's balance, a redemption with a one-time code, the code's confirmation",
    tag: 'terminal',
    auth: 'none',
    body: loyaltyRequestSchema.describe(),
    response: obj(
      'The answer, signed by the server (LoyaltyLookupAnswer | LoyaltyRedeemAnswer | LoyaltyConfirmAnswer)',
    ),
  },
  'POST /v1/admin/enrollment-tokens': {
    summary: 'Create a one-time enrollment token',
    tag: 'operator',
    auth: 'operator',
    body: createTokenRequestSchema.describe(),
    response: obj('The token and when it expires (CreateTokenResponse)'),
  },
  'GET /v1/admin/devices': {
    summary: 'Every device with its status',
    tag: 'operator',
    auth: 'operator',
    response: obj('Devices', { devices: { type: 'array', items: DEVICE_STATUS } }),
  },
  'GET /v1/admin/devices/:id': {
    summary: "One device's status",
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    response: DEVICE_STATUS,
  },
  'GET /v1/admin/forwarding/deadlines': {
    summary: 'Offline card payments not yet forwarded nor refused, most urgent first, with their forwarding deadline',
    tag: 'operator',
    auth: 'operator',
    query: { limit: int(1, 1000, 'Most payments listed (default 200)') },
    response: obj('{deadlineHours, items: ForwardingDeadlineRow[]}'),
  },
  'GET /v1/admin/devices/:id/ops': {
    summary: "One device's ops as stored with their results, newest first, paged by seq",
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    query: {
      before: int(1, Number.MAX_SAFE_INTEGER, 'Only ops below this seq (the `next` of the previous page)'),
      limit: int(1, 200, 'Most ops in the page (default 50)'),
      status: { type: 'string', enum: ['accepted', 'rejected'], description: 'Only ops with this result' },
    },
    response: obj('{items: StoredOp[], next: seq | null}'),
  },
  'POST /v1/admin/devices/:id/revoke': {
    summary: 'Revoke a device: its later batches are refused',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: revokeRequestSchema.describe(),
    response: DEVICE_STATUS,
  },
  'POST /v1/admin/devices/:id/placement': {
    summary: 'Place a device (merchant, location, event)',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: placementSchema.describe(),
    response: DEVICE_STATUS,
  },
  'POST /v1/admin/policies': {
    summary: 'Issue a signed risk policy from a draft',
    tag: 'operator',
    auth: 'operator',
    body: policyDraftSchema.describe(),
    response: obj('The signed policy (SignedPolicy)'),
  },
  'POST /v1/admin/policies/dry-run': {
    summary: 'Validate a policy draft as issuing would and preview its exposure bound; issues nothing',
    tag: 'operator',
    auth: 'operator',
    body: policyDraftSchema.describe(),
    response: obj('The policy it would become, the bound per placement with and without it (PolicyDryRun)'),
  },
  'GET /v1/admin/policies': {
    summary: 'Every issued policy',
    tag: 'operator',
    auth: 'operator',
    response: obj('Policies and server keys'),
  },
  'GET /v1/admin/server-keys': {
    summary: 'Every server signing key ever used (public halves, created and retired times)',
    tag: 'operator',
    auth: 'operator',
    response: obj('{keys: [{id, publicKey, createdAt, retiredAt}]}'),
  },
  'POST /v1/admin/server-keys/rotate': {
    summary: 'Rotate the server signing key: a new active key, the old one trusted through the overlap (admin)',
    tag: 'operator',
    auth: 'operator',
    body: NO_BODY,
    response: obj('{active, retired}: the new key and the previous one with its retiredAt'),
  },
  'PUT /v1/admin/betting': {
    summary: 'Set the next betting configuration (limits, liability caps, suspensions)',
    tag: 'operator',
    auth: 'operator',
    body: bettingConfigSchema.describe(),
    response: obj('The stored configuration with its version'),
  },
  'GET /v1/admin/betting': {
    summary: 'The betting configuration in force and the liability per selection',
    tag: 'operator',
    auth: 'operator',
    response: obj('Configuration and liabilities'),
  },
  'POST /v1/admin/events/:event/results': {
    summary: "Record an event's results and settle every open ticket they decide, once (docs/betting.md)",
    tag: 'operator',
    auth: 'operator',
    params: { event: { type: 'string', description: 'The event, as tickets name it' } },
    body: eventResultsRequestSchema.describe(),
    response: obj('Tickets settled and liability released (ResultsOutcome)'),
  },
  'GET /v1/admin/tickets': {
    summary: 'Accepted betting tickets with their state and payout',
    tag: 'operator',
    auth: 'operator',
    response: obj('{tickets}'),
  },
  'GET /v1/admin/tickets/:id': {
    summary: 'One ticket: state, history, payout record',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    response: obj('The ticket (TicketView)'),
  },
  'GET /v1/admin/sales/:id/corrections': {
    summary:
      "A sale's corrections (voids, refunds): held until the sale arrives, then counted; card parts at the processor",
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    response: obj('{sale, counted, corrections, cardRefunds}'),
  },
  'GET /v1/admin/exposure': {
    summary: 'Offline exposure: bound by policy against unsettled payments',
    tag: 'operator',
    auth: 'operator',
    query: { at: int(946_684_800_000, 7_258_118_400_000, 'Epoch ms to read the bound at; default now') },
    response: obj('Exposure per scope and currency (ExposureAnswer)'),
  },
  'GET /v1/admin/ops/:id': {
    summary: 'One stored op with its result',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    response: obj('The op as stored'),
  },
  'GET /v1/admin/receipts/:number': {
    summary: 'The op(s) a receipt number names, with the receipt',
    tag: 'operator',
    auth: 'operator',
    params: { number: { type: 'string', maxLength: 40, description: 'A receipt number such as K7M2Q-000123' } },
    response: obj('{number, matches: [{device, deviceLabel, stored, receipt}]}'),
  },
  'GET /v1/admin/shifts/:id/z-report': {
    summary: "A shift's Z report confirmed against what the server applied (open, confirmed, or the differences)",
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    response: obj(
      '{shift, device, state: open|confirmed|differs, stored, pending, notApplied, report, server, differences}',
    ),
  },
  'POST /v1/admin/session': {
    summary: 'Operator login: username and password to a session (bearer, or cookie with CSRF token)',
    tag: 'operator',
    auth: 'none',
    body: loginSchema.describe(),
    response: obj('{operator, session?, csrfToken?, expiresAt}'),
  },
  'GET /v1/admin/session': {
    summary: 'The caller: operator, role and session expiry',
    tag: 'operator',
    auth: 'operator',
    response: obj('{operator, role, permissions, expiresAt}'),
  },
  'DELETE /v1/admin/session': {
    summary: 'Log out: the session ends',
    tag: 'operator',
    auth: 'operator',
    response: obj('{ok}'),
  },
  'POST /v1/admin/session/password': {
    summary: "Change the caller's own password (ends their sessions)",
    tag: 'operator',
    auth: 'operator',
    body: passwordChangeSchema.describe(),
    response: obj('{ok}'),
  },
  'GET /v1/admin/tokens': {
    summary: "The caller's API tokens (admins: anyone's with ?owner=)",
    tag: 'operator',
    auth: 'operator',
    response: obj('{tokens}'),
  },
  'POST /v1/admin/tokens': {
    summary: 'Create an API token (shown once; the role at most the owner’s)',
    tag: 'operator',
    auth: 'operator',
    body: createTokenSchema.describe(),
    response: obj('{token, secret}'),
  },
  'POST /v1/admin/tokens/:id/revoke': {
    summary: 'Revoke an API token',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: NO_BODY,
    response: obj('{token}'),
  },
  'GET /v1/admin/operators': {
    summary: 'Operator accounts (admin)',
    tag: 'operator',
    auth: 'operator',
    response: obj('{operators}'),
  },
  'POST /v1/admin/operators': {
    summary: 'Create an operator account (admin)',
    tag: 'operator',
    auth: 'operator',
    body: createOperatorSchema.describe(),
    response: obj('{operator}'),
  },
  'POST /v1/admin/operators/:id/role': {
    summary: "Change an operator's role (admin)",
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: roleSchema.describe(),
    response: obj('{operator}'),
  },
  'POST /v1/admin/operators/:id/password': {
    summary: "Reset an operator's password (admin; ends their sessions)",
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: resetSchema.describe(),
    response: obj('{operator}'),
  },
  'POST /v1/admin/operators/:id/disable': {
    summary: 'Disable an operator account (admin)',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: NO_BODY,
    response: obj('{operator}'),
  },
  'POST /v1/admin/operators/:id/enable': {
    summary: 'Enable an operator account again (admin)',
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: NO_BODY,
    response: obj('{operator}'),
  },
  'GET /v1/admin/audit': {
    summary: 'The append-only audit log of operator actions (admin, auditor)',
    tag: 'operator',
    auth: 'operator',
    response: PAGE,
  },
  'GET /v1/admin/catalog/items': {
    summary: 'Every catalog item, by SKU (docs/catalog-and-stock.md)',
    tag: 'operator',
    auth: 'operator',
    response: obj('{items}'),
  },
  'PUT /v1/admin/catalog/items': {
    summary: 'Create or update catalog items by SKU',
    tag: 'operator',
    auth: 'operator',
    body: catalogItemsRequestSchema.describe(),
    response: obj('{items}'),
  },
  'GET /v1/admin/price-lists': {
    summary: "Every version of a location's price list, oldest first",
    tag: 'operator',
    auth: 'operator',
    query: { location: { type: 'string', description: 'The location (required)' } },
    response: obj('{location, versions}'),
  },
  'POST /v1/admin/price-lists': {
    summary: "Publish a location's price list as its next version (201); unknown_sku, ends_in_past",
    tag: 'operator',
    auth: 'operator',
    body: priceListRequestSchema.describe(),
    response: obj('{location, version, currency, from, until, prices, promotions, publishedAt, publishedBy}'),
  },
  'GET /v1/admin/staff': {
    summary: 'The staff roster of a location (docs/staff-and-roles.md)',
    tag: 'operator',
    auth: 'operator',
    query: { location: { type: 'string', description: 'The location (required)' } },
    response: obj('{location, version, members}'),
  },
  'GET /v1/admin/staff/history': {
    summary: 'The roster history: every change with who made it',
    tag: 'operator',
    auth: 'operator',
    query: { location: { type: 'string' }, staff: { type: 'string' } },
    response: obj('{events}'),
  },
  'POST /v1/admin/staff': {
    summary: 'Add a staff member to a location (201)',
    tag: 'operator',
    auth: 'operator',
    body: staffAddSchema.describe(),
    response: obj('{member, version}'),
  },
  'PATCH /v1/admin/staff/:id': {
    summary: "Change a staff member's role or name",
    tag: 'operator',
    auth: 'operator',
    params: { id: { type: 'string' } },
    body: staffUpdateSchema.describe(),
    response: obj('{member, version}'),
  },
  'POST /v1/admin/staff/:id/pin': {
    summary: "Set a staff member's PIN (never logged; terminals get a slow-hash verifier)",
    tag: 'operator',
    auth: 'operator',
    params: { id: { type: 'string' } },
    body: staffPinSchema.describe(),
    response: obj('{member, version}'),
  },
  'POST /v1/admin/staff/:id/badge': {
    summary: "Set or clear a staff member's badge secret",
    tag: 'operator',
    auth: 'operator',
    params: { id: { type: 'string' } },
    body: staffBadgeSchema.describe(),
    response: obj('{member, version}'),
  },
  'DELETE /v1/admin/staff/:id': {
    summary: 'Remove a staff member (terminals sign them out at the next feed)',
    tag: 'operator',
    auth: 'operator',
    params: { id: { type: 'string' } },
    response: obj('{member, version}'),
  },
  'GET /v1/admin/ledger': {
    summary: 'Ledger events after a position, optionally only those applied within a time range',
    tag: 'operator',
    auth: 'operator',
    query: {
      after: int(0, Number.MAX_SAFE_INTEGER, 'Position to read after; default 0'),
      limit: int(1, 1000, 'Page size; default 100'),
      from: int(0, 7_258_118_400_000, 'Only events applied at or after this instant (epoch ms, server clock)'),
      to: int(0, 7_258_118_400_000, 'Only events applied before this instant (epoch ms, server clock)'),
    },
    response: PAGE,
  },
  'GET /v1/admin/exceptions': {
    summary: 'Exceptions with their actions and status',
    tag: 'operator',
    auth: 'operator',
    query: {
      after: int(0, Number.MAX_SAFE_INTEGER, 'Position to read after; default 0'),
      limit: int(1, 1000, 'Page size; default 100'),
      status: { enum: ['open', 'resolved'] },
      type: { enum: [...EXCEPTION_TYPES] },
      lang: {
        type: 'string',
        maxLength: 35,
        description: 'Language of `display` (BCP 47 tag); default Accept-Language',
      },
    },
    response: PAGE,
  },
  'POST /v1/admin/exceptions/:id/actions': {
    summary: `Record an operator action on an exception (${EXCEPTION_ACTIONS.join(', ')})`,
    tag: 'operator',
    auth: 'operator',
    params: { id: UUID },
    body: exceptionActionRequestSchema.describe(),
    response: obj('The exception with its actions and status (ExceptionView)'),
  },
  'GET /v1/admin/reports/declines': {
    summary: 'Post-authorization declines per UTC day, placement and currency',
    tag: 'operator',
    auth: 'operator',
    query: {
      from: { type: 'string', description: 'YYYY-MM-DD (UTC) or epoch ms, inclusive; default 7 days ago' },
      to: { type: 'string', description: 'YYYY-MM-DD (UTC) or epoch ms, exclusive; default end of today' },
    },
    response: obj('Rows and totals (DeclineReport)'),
  },
  'GET /v1/admin/shifts': {
    summary: 'Shifts, of one device or all',
    tag: 'operator',
    auth: 'operator',
    query: { device: UUID },
    response: obj('Shifts', { shifts: { type: 'array', items: { type: 'object' } } }),
  },
  'GET /v1/admin/wallets': {
    summary: 'Wristband wallet accounts by uid',
    tag: 'operator',
    auth: 'operator',
    query: {
      after: WRISTBAND,
      limit: int(1, 1000, 'Page size; default 100'),
      blocked: { enum: ['true', 'false'] },
    },
    response: obj('Accounts and the next cursor', {
      wallets: { type: 'array', items: { type: 'object' } },
      next: { type: ['string', 'null'] },
    }),
  },
  'GET /v1/admin/wallets/:uid': {
    summary: 'A wristband wallet: account, entries, blocked state',
    tag: 'operator',
    auth: 'operator',
    params: { uid: WRISTBAND },
    response: obj('The wallet (WalletView)'),
  },
  'POST /v1/admin/wallets/:uid/unblock': {
    summary: "Lift a wristband's block",
    tag: 'operator',
    auth: 'operator',
    params: { uid: WRISTBAND },
    body: unblockSchema.describe(),
    response: obj('Whether it was blocked, and the account'),
  },
  'GET /v1/admin/stock': {
    summary: 'Tracked stock levels by location and SKU (received, sold, adjusted, counted, qty)',
    tag: 'operator',
    auth: 'operator',
    query: { location: { type: 'string', description: 'One location; default every location' } },
    response: obj('{levels: StockLevelRecord[]}', { levels: { type: 'array', items: { type: 'object' } } }),
  },
  'GET /v1/admin/stock/moves': {
    summary: 'Stock movements in the order applied (receive, count, adjust, sale), paged by pos',
    tag: 'operator',
    auth: 'operator',
    query: {
      location: { type: 'string', description: 'One location; default every location' },
      after: int(0, Number.MAX_SAFE_INTEGER, 'Position to page after'),
      limit: int(1, 1000, 'Page size (default 100)'),
    },
    response: obj('{items, next}'),
  },
  'GET /v1/admin/loyalty/members': {
    summary: "Every loyalty member's account",
    tag: 'operator',
    auth: 'operator',
    response: obj('Accounts by card number', { members: { type: 'array', items: { type: 'object' } } }),
  },
  'POST /v1/admin/loyalty/members': {
    summary: 'Create a loyalty member (no points)',
    tag: 'operator',
    auth: 'operator',
    body: createMemberSchema.describe(),
    response: obj('The account (LoyaltyMemberRecord)'),
  },
  'GET /v1/admin/loyalty/members/:member': {
    summary: 'A loyalty member: account and entries',
    tag: 'operator',
    auth: 'operator',
    params: { member: MEMBER },
    response: obj('The member (LoyaltyMemberView)'),
  },
  'POST /v1/admin/loyalty/members/:member/adjust': {
    summary: "Adjust a member's points (audited)",
    tag: 'operator',
    auth: 'operator',
    params: { member: MEMBER },
    body: adjustPointsSchema.describe(),
    response: obj('The member after the adjustment (LoyaltyMemberView)'),
  },
  'GET /v1/admin/fiscal/bills': {
    summary: 'Fiscal bills: state, attempts, last error, rejection or refusal (query state, device)',
    tag: 'operator',
    auth: 'operator',
    response: obj('Bills by device and seq (FiscalBill)', { bills: { type: 'array', items: { type: 'object' } } }),
  },
  'GET /v1/admin/fiscal/bills/:opId': {
    summary: "A fiscal bill, its operators' actions and its credit notes",
    tag: 'operator',
    auth: 'operator',
    params: { opId: { type: 'string', description: 'The sale op id' } },
    response: obj('FiscalBillDetail'),
  },
  'POST /v1/admin/fiscal/bills/:opId/actions': {
    summary: 'Act on a rejected bill: resubmit (corrected), cancel (credit note), non_fiscal (audited)',
    tag: 'operator',
    auth: 'operator',
    params: { opId: { type: 'string', description: 'The sale op id' } },
    body: fiscalActionSchema.describe(),
    response: obj('The bill after the action, its actions and credit notes'),
  },
  'GET /v1/admin/fiscal/credit-notes': {
    summary: 'Every credit note (refunds, voids, cancellations) and its state',
    tag: 'operator',
    auth: 'operator',
    response: obj('Credit notes in enrolment order', { creditNotes: { type: 'array', items: { type: 'object' } } }),
  },
  'GET /v1/admin/fiscal/jurisdictions': {
    summary: "The jurisdictions known (with their deadlines) and each location's",
    tag: 'operator',
    auth: 'operator',
    response: obj('known and locations'),
  },
  'PUT /v1/admin/fiscal/jurisdictions/:location': {
    summary: "Set a location's jurisdiction (bills enrolled from now on take its deadline)",
    tag: 'operator',
    auth: 'operator',
    params: { location: { type: 'string', description: 'Location id (1..64 of A-Z a-z 0-9 _ . : -)' } },
    body: fiscalJurisdictionSchema.describe(),
    response: obj('The setting'),
  },
  'GET /v1/admin/loyalty/outbox': {
    summary: 'The one-time codes the default code sender "sent" to members (simulated delivery), oldest first',
    tag: 'operator',
    auth: 'operator',
    query: { member: { type: 'string', description: 'Only this card number' } },
    response: obj('The messages', { messages: { type: 'array', items: { type: 'object' } } }),
  },
  'GET /v1/admin/load': {
    summary: 'Admission and backpressure state',
    tag: 'operator',
    auth: 'operator',
    response: obj('Admitted, queued and running batches, totals (LoadSnapshot)'),
  },
  'GET /v1/admin/summary': {
    summary: "The store's totals and this process's ingest counters",
    tag: 'operator',
    auth: 'operator',
    response: obj('Totals (ServiceSummary)'),
  },
  'GET /v1/admin/live': {
    summary: 'Live counters as server-sent events: one `sample` event (LiveSample JSON) every `every` ms',
    tag: 'operator',
    auth: 'operator',
    query: {
      every: {
        type: 'integer',
        minimum: 250,
        maximum: 60_000,
        description: 'Milliseconds between samples (default 1000)',
      },
    },
    response: { type: 'string', description: 'text/event-stream of `sample` events' },
    produces: 'text/event-stream; charset=utf-8',
  },
  'GET /console': {
    summary: 'The operator console: redirects to /console/',
    tag: 'operations',
    auth: 'none',
    response: { type: 'string', description: '301 to /console/' },
    produces: 'text/plain',
  },
  'GET /console/': {
    summary: "The operator console's page (sign-in with an operator account happens in it)",
    tag: 'operations',
    auth: 'none',
    response: { type: 'string', description: 'index.html' },
    produces: 'text/html; charset=utf-8',
  },
  'GET /console/:file': {
    summary: "One of the console's built files (script, style sheet)",
    tag: 'operations',
    auth: 'none',
    params: { file: { type: 'string', description: 'A file name of the built console, e.g. console.js' } },
    response: { type: 'string', description: 'The file, with its content type' },
    produces: 'text/javascript; charset=utf-8',
  },
  // Reports (docs/reports.md).
  'GET /v1/admin/reports/sales': {
    summary: 'Sales by item, UTC day, location or lane, with tax and returns netted (JSON or CSV)',
    tag: 'operator',
    auth: 'operator',
    query: {
      by: { enum: ['item', 'day', 'location', 'lane'], description: 'The grouping; default day' },
      from: REPORT_FROM,
      to: REPORT_TO,
      location: { type: 'string', description: 'Only devices placed at this location' },
      format: REPORT_FORMAT,
    },
    response: obj('{kind, from, to, location, rows, totals} (SalesReport), or CSV'),
  },
  'GET /v1/admin/reports/outages': {
    summary: 'Outages (lanes that queued ops offline longer than the threshold) and their delta per lane',
    tag: 'operator',
    auth: 'operator',
    query: {
      from: REPORT_FROM,
      to: REPORT_TO,
      location: { type: 'string', description: 'Only devices placed at this location' },
      thresholdMinutes: int(1, 10_080, 'An op received this long after it was recorded was queued; default 5'),
      format: REPORT_FORMAT,
    },
    response: obj('{from, to, location, thresholdMs, outages} (OutageReport), or CSV'),
  },
  'GET /v1/admin/reports/accounting': {
    summary: 'The accounting export: balanced journal entries per op, summed per UTC day or shift (JSON or CSV)',
    tag: 'operator',
    auth: 'operator',
    query: {
      by: { enum: ['day', 'shift'], description: 'The grouping of the sums; default day' },
      from: REPORT_FROM,
      to: REPORT_TO,
      location: { type: 'string', description: 'Only devices placed at this location' },
      format: REPORT_FORMAT,
    },
    response: obj('{by, from, to, location, chart, groups, entries} (AccountingExport), or CSV of journal lines'),
  },
  'GET /v1/admin/catalog/tax-rates': {
    summary: 'The tax rate of each catalog tax category (basis points of the tax-inclusive price)',
    tag: 'operator',
    auth: 'operator',
    response: obj('{rates}'),
  },
  'PUT /v1/admin/catalog/tax-rates': {
    summary: 'Set the tax rate of tax categories (others unchanged)',
    tag: 'operator',
    auth: 'operator',
    body: taxRatesRequestSchema.describe(),
    response: obj('{rates}: every rate'),
  },
  'GET /till': {
    summary: "The clerk's till app: redirects to /till/",
    tag: 'operations',
    auth: 'none',
    response: { type: 'string', description: '301 to /till/' },
    produces: 'text/plain',
  },
  'GET /till/': {
    summary:
      "The clerk's till app (docs/till.md): an installable web app; the till enrolls with a one-time token in it",
    tag: 'operations',
    auth: 'none',
    response: { type: 'string', description: 'index.html' },
    produces: 'text/html; charset=utf-8',
  },
  'GET /till/:file': {
    summary: "One of the till app's built files (script, journal worker, sqlite3.wasm, service worker, manifest)",
    tag: 'operations',
    auth: 'none',
    params: { file: { type: 'string', description: 'A file name of the built till, e.g. till.js' } },
    response: { type: 'string', description: 'The file, with its content type' },
    produces: 'text/javascript; charset=utf-8',
  },
};
