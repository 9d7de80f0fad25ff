/**
 * Transport: the seam between a terminal and its server.
 *
 * A resolved result means the server answered: `ok` with its body, or an
 * error the server chose to send (nothing in the request was applied). A
 * THROWN `TransportError` means the outcome is unknown (timeout, network,
 * unreadable answer): the server may have committed the request. Callers
 * resend the same bytes or ask; they never treat it as failed.
 *
 * `HttpTransport` speaks HTTP/JSON; tests and the simulator plug in
 * in-process transports (see `FakeServer`, `FaultyTransport`).
 */
import type {
  AuthorizeRequest,
  AuthorizeResponse,
  Batch,
  EnrollRequest,
  EnrollResponse,
  FeedRequest,
  FeedResponse,
  IngestResponse,
  LoyaltyAnswer,
  LoyaltyRequest,
  OpQuery,
  OpQueryResponse,
  PolicyRequest,
  PolicyResponse,
  RotateKeyRequest,
  RotateKeyResponse,
  ShiftReportAnswer,
  ShiftReportRequest,
  WireError,
} from '@holdfast/protocol';

export type TransportResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; error: WireError; retryAfterMs?: number };

export interface HealthResponse {
  status: string;
  time: number;
}

/**
 * `live`: the batch carries ops just recorded and nothing is queued behind
 * them, so a busy server may serve it before backlog (HTTP: the
 * `holdfast-lane: live` header). Everything else is `backlog`.
 */
export type Lane = 'live' | 'backlog';

export interface Transport {
  enroll(req: EnrollRequest, timeoutMs: number): Promise<TransportResult<EnrollResponse>>;
  sendBatch(batch: Batch, timeoutMs: number, lane?: Lane): Promise<TransportResult<IngestResponse>>;
  queryOps(query: OpQuery, timeoutMs: number): Promise<TransportResult<OpQueryResponse>>;
  /** The risk policy in force for the device, with the server's policy keys (docs/risk-policy.md). */
  fetchPolicy(req: PolicyRequest, timeoutMs: number): Promise<TransportResult<PolicyResponse>>;
  /** What the server has to tell the device after a cursor: settlements, notices, placement (docs/protocol.md). */
  fetchFeed(req: FeedRequest, timeoutMs: number): Promise<TransportResult<FeedResponse>>;
  /**
   * Asks the server to decide an op online (POST /v1/authorize). Optional so
   * that transports built for offline-only terminals stay valid; a terminal
   * whose transport lacks it keeps every online request pending.
   */
  authorize?(req: AuthorizeRequest, timeoutMs: number): Promise<TransportResult<AuthorizeResponse>>;
  /**
   * Rotates the device's key (POST /v1/devices/rotate-key). Optional so that
   * transports built before rotation stay valid; rotateKey() then fails.
   */
  rotateKey?(req: RotateKeyRequest, timeoutMs: number): Promise<TransportResult<RotateKeyResponse>>;
  /**
   * A loyalty question (POST /v1/loyalty: a balance, a redemption with a
   * one-time code, its confirmation). Optional like `authorize`: without it
   * the till redeems offline within the cap only.
   */
  loyalty?(req: LoyaltyRequest, timeoutMs: number): Promise<TransportResult<LoyaltyAnswer>>;
  ping(timeoutMs: number): Promise<TransportResult<HealthResponse>>;
  /**
   * The server's word on one of the device's shifts (POST /v1/shifts/z-report).
   * Optional, like `authorize`: Terminal.shiftReport() fails without it.
   */
  fetchShiftReport?(req: ShiftReportRequest, timeoutMs: number): Promise<TransportResult<ShiftReportAnswer>>;
}
