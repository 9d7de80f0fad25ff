/**
 * Online authorizations on the terminal: ops that must not happen on the
 * terminal's word alone (a betting ticket, a card charged now) are asked of
 * the server first (POST /v1/authorize), and recorded only once it approved.
 *
 *   begin ── journal: pending row (op id, request, op body) COMMITTED ──▶ send
 *                                                                        │
 *      approved ──▶ ONE journal transaction: the op, with THAT op id and
 *      │            decision online/approved, and the row marked approved ──▶ receipt
 *      declined ──▶ row declined (nothing in the chain)
 *      refused  ──▶ row refused: the server will never take this request as it stands
 *      unknown  ──▶ (timeout, network, 5xx, or the server's own "pending")
 *                   row stays pending: the clerk sees PENDING CONFIRMATION,
 *                   never "failed", never a printed ticket
 *
 * Retries (`retry`, after every successful sync, or by the clerk) send the
 * SAME op id and request, so the server answers with what it stored: a late
 * success is recorded exactly once, and the processor never charges twice.
 * The pending row survives a restart (it is in the journal before anything
 * is sent); a power cut before it commits leaves nothing, and nothing was
 * sent.
 */
import type { Clock } from '@holdfast/domain';
import {
  type Actor,
  type AuthorizeRequest,
  type AuthorizeResponse,
  authorizeMessage,
  type OnlineRequest,
} from '@holdfast/protocol';
import { NotEnrolledError, TransportError } from './errors.js';
import type { Journal } from './journal.js';
import type { RecordedOp } from './recorded-op.js';
import type { Credentials } from './sync-events.js';
import type { Transport } from './transport.js';

export type OnlineRowState = 'pending' | 'approved' | 'declined' | 'refused';

/** An online authorization as the terminal's journal keeps it. */
export interface OnlineAuthorization {
  /** The op id: generated before asking, the idempotency key of every retry, and the id of the op recorded. */
  opId: string;
  kind: OnlineRequest['kind'];
  /** The op kind recorded on approval (`ticket.issued`, `sale.recorded`). */
  opKind: string;
  request: OnlineRequest;
  /** The op body to record on approval, without what only the approval supplies. */
  body: Record<string, unknown>;
  state: OnlineRowState;
  createdAt: number;
  attempts: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  authorizationId: string | null;
  reason: string | null;
  message: string | null;
  decidedAt: number | null;
  /** Seq of the op recorded for the approval; null until then. */
  recordedSeq: number | null;
  /** Who asked (staff.ts), stamped on the op recorded on approval; null when nobody was signed in. */
  actor: Actor | null;
}

/**
 * Proof of an approved online op, for printing: exists only once the op is
 * in the journal with the server's authorization id. A ticket's `body`
 * carries its stake, selections and potential payout.
 */
export interface OnlineReceipt {
  opId: string;
  seq: number;
  kind: string;
  authorizationId: string;
  /** Device clock when the op was recorded. */
  at: number;
  body: Record<string, unknown>;
}

/** What the clerk is told about an online request. */
export type OnlineOutcome =
  | { state: 'approved'; opId: string; receipt: OnlineReceipt }
  | { state: 'declined'; opId: string; reason: string; message: string }
  /** The server refused the request itself (a bad request, an op id reused): final, nothing happened. */
  | { state: 'refused'; opId: string; code: string; message: string }
  /** Not known yet: NOT failed. The terminal retries with the same op id. */
  | { state: 'pending_confirmation'; opId: string; lastError: string | null };

/**
 * Records the approved op and returns it; `markApproved` must run inside the
 * op's journal transaction, so the op and its approved row commit together.
 */
export type RecordApproved = (
  row: OnlineAuthorization,
  answer: AuthorizeResponse,
  markApproved: (op: { seq: number }) => void,
) => RecordedOp;

/** The receipt of an approved row, read back from the journal (null if its op is not there). */
function receiptOf(journal: Journal, row: OnlineAuthorization): OnlineReceipt | null {
  const entry = journal.getOp(row.opId);
  if (!entry || row.state !== 'approved' || row.authorizationId === null) return null;
  return {
    opId: row.opId,
    seq: entry.seq,
    kind: entry.kind,
    authorizationId: row.authorizationId,
    at: entry.op.at,
    body: entry.op.body,
  };
}

export interface OnlineAuthorizationsOptions {
  journal: Journal;
  transport: Transport;
  clock: Clock;
  timeoutMs: number;
  credentials: () => Credentials | null;
  recordApproved: RecordApproved;
  /**
   * Why a 200 answer to `POST /v1/authorize` cannot be trusted, or null
   * (Exchange.answerProblem: the server's signature, bound to this request's
   * signature). An unverifiable answer is treated like a timeout.
   */
  answerProblem: (route: 'authorize', requestSig: string, body: unknown) => Promise<string | null>;
  /**
   * Signs the request with the device's credentials: on Node the exchange's
   * NODE_SIGNER (node-signer.ts; synchronous, so the request leaves as it
   * always did), in the browser WebCrypto's (a promise). Passed in, so this
   * module stays free of node:crypto (@holdfast/terminal/portable).
   */
  sign: (message: { ctx: string }, credentials: Credentials) => string | Promise<string>;
}

type Row = Record<string, unknown>;

function toRow(r: Row): OnlineAuthorization {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    opId: r.op_id as string,
    kind: r.kind as OnlineAuthorization['kind'],
    opKind: r.op_kind as string,
    request: JSON.parse(r.request as string) as OnlineRequest,
    body: JSON.parse(r.body as string) as Record<string, unknown>,
    state: r.state as OnlineRowState,
    createdAt: Number(r.created_at),
    attempts: Number(r.attempts),
    lastAttemptAt: n(r.last_attempt_at),
    lastError: (r.last_error as string | null) ?? null,
    authorizationId: (r.authorization_id as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    decidedAt: n(r.decided_at),
    recordedSeq: n(r.recorded_seq),
    actor: typeof r.actor === 'string' ? (JSON.parse(r.actor) as Actor) : null,
  };
}

export class OnlineAuthorizations {
  readonly #journal: Journal;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #credentials: () => Credentials | null;
  readonly #recordApproved: RecordApproved;
  /** Requests in flight per op id: a second attempt joins the first instead of racing it. */
  readonly #inFlight = new Map<string, Promise<OnlineOutcome>>();

  readonly #answerProblem: OnlineAuthorizationsOptions['answerProblem'];
  readonly #sign: OnlineAuthorizationsOptions['sign'];

  constructor(options: OnlineAuthorizationsOptions) {
    this.#journal = options.journal;
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs;
    this.#credentials = options.credentials;
    this.#recordApproved = options.recordApproved;
    this.#answerProblem = options.answerProblem;
    this.#sign = options.sign;
  }

  /** Makes the pending row durable; nothing has been sent yet when this returns. */
  begin(input: {
    opId: string;
    opKind: string;
    request: OnlineRequest;
    body: Record<string, unknown>;
    actor?: Actor | undefined;
    /** Runs inside the transaction that makes the row durable (e.g. using up a staff approval). */
    alongside?: () => void;
  }): void {
    const journal = this.#journal;
    journal.transaction(() => {
      input.alongside?.();
      journal
        .prepare(
          `INSERT INTO online_authorizations (op_id, kind, op_kind, request, body, state, created_at, actor)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(
          input.opId,
          input.request.kind,
          input.opKind,
          JSON.stringify(input.request),
          JSON.stringify(input.body),
          this.#clock.now(),
          input.actor ? JSON.stringify(input.actor) : null,
        );
    }, 'authorize');
  }

  get(opId: string): OnlineAuthorization | undefined {
    const row = this.#journal.prepare<[string], Row>('SELECT * FROM online_authorizations WHERE op_id = ?').get(opId);
    return row ? toRow(row) : undefined;
  }

  /** Rows still waiting for the server's answer, oldest first. */
  pending(): OnlineAuthorization[] {
    return this.#journal
      .prepare<[], Row>("SELECT * FROM online_authorizations WHERE state = 'pending' ORDER BY created_at, op_id")
      .all()
      .map(toRow);
  }

  /** Asks the server about `opId` (again); joins an attempt already in flight. */
  attempt(opId: string): Promise<OnlineOutcome> {
    let running = this.#inFlight.get(opId);
    if (!running) {
      running = this.#attempt(opId).finally(() => this.#inFlight.delete(opId));
      this.#inFlight.set(opId, running);
    }
    return running;
  }

  /** Asks again about every pending row, one at a time, oldest first. */
  async retry(): Promise<OnlineOutcome[]> {
    const out: OnlineOutcome[] = [];
    for (const row of this.pending()) out.push(await this.attempt(row.opId));
    return out;
  }

  async #attempt(opId: string): Promise<OnlineOutcome> {
    const row = this.get(opId);
    if (!row) throw new RangeError(`no online authorization ${opId}`);
    const journal = this.#journal;
    if (row.state !== 'pending') return outcomeOf(journal, row);
    const credentials = this.#credentials();
    if (!credentials) throw new NotEnrolledError();
    const transport = this.#transport;
    const at = this.#clock.now();
    journal.transaction(() => {
      journal
        .prepare('UPDATE online_authorizations SET attempts = attempts + 1, last_attempt_at = ? WHERE op_id = ?')
        .run(at, opId);
    });
    const signed = this.#sign(authorizeMessage(credentials.deviceId, opId, at, row.request), credentials);
    const req: AuthorizeRequest = {
      device: credentials.deviceId,
      opId,
      at,
      sig: typeof signed === 'string' ? signed : await signed,
      request: row.request,
    };
    let answer: Awaited<ReturnType<NonNullable<Transport['authorize']>>>;
    try {
      if (!transport.authorize) throw new TransportError('network', 'this transport cannot reach POST /v1/authorize');
      answer = await transport.authorize(req, this.#timeoutMs);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      return this.#stillPending(opId, error.message);
    }
    if (!answer.ok) {
      if (answer.error.retryable) return this.#stillPending(opId, `${answer.error.code}: ${answer.error.message}`);
      return this.#decide(opId, 'refused', { reason: answer.error.code, message: answer.error.message });
    }
    // Anyone on the path could answer "approved" (and a till would print a ticket): an answer the server did not
    // sign for this very request is no answer, as a timeout: pending confirmation, asked again with the same op id.
    const unverifiable = await this.#answerProblem('authorize', req.sig, answer.body);
    if (unverifiable !== null) return this.#stillPending(opId, `unverifiable answer: ${unverifiable}`);
    const body = answer.body;
    if (body.opId !== opId) return this.#stillPending(opId, `the server answered about op ${body.opId}`);
    switch (body.status) {
      case 'pending':
        return this.#stillPending(opId, 'the server has no final answer yet');
      case 'declined':
        return this.#decide(opId, 'declined', {
          reason: body.reason ?? 'declined',
          message: body.message ?? 'declined by the server',
        });
      case 'approved': {
        const current = this.get(opId);
        if (current?.state !== 'pending') return outcomeOf(journal, current ?? row);
        if (typeof body.authorizationId !== 'string') return this.#stillPending(opId, 'approval without an id');
        const decidedAt = this.#clock.now();
        this.#recordApproved(current, body, (op) => {
          journal
            .prepare(
              `UPDATE online_authorizations SET state = 'approved', authorization_id = ?, decided_at = ?, recorded_seq = ?,
                 last_error = NULL
               WHERE op_id = ? AND state = 'pending'`,
            )
            .run(body.authorizationId, decidedAt, op.seq, opId);
        });
        return outcomeOf(journal, this.get(opId) as OnlineAuthorization);
      }
    }
  }

  /**
   * Inside the journal transaction of an op recorded offline under a pending
   * row's op id (a payout within the offline limit): the row is closed
   * (`declined`, reason `recorded_offline`) and never asked about again.
   */
  settleOffline(opId: string): void {
    this.#journal
      .prepare(
        `UPDATE online_authorizations SET state = 'declined', reason = 'recorded_offline',
           message = 'recorded offline within the payout limit', decided_at = ?
         WHERE op_id = ? AND state = 'pending'`,
      )
      .run(this.#clock.now(), opId);
  }

  #stillPending(opId: string, error: string): OnlineOutcome {
    this.#journal.transaction(() => {
      this.#journal.prepare('UPDATE online_authorizations SET last_error = ? WHERE op_id = ?').run(error, opId);
    });
    return { state: 'pending_confirmation', opId, lastError: error };
  }

  #decide(opId: string, state: 'declined' | 'refused', d: { reason: string; message: string }): OnlineOutcome {
    this.#journal.transaction(() => {
      this.#journal
        .prepare(
          `UPDATE online_authorizations SET state = ?, reason = ?, message = ?, decided_at = ?
           WHERE op_id = ? AND state = 'pending'`,
        )
        .run(state, d.reason, d.message, this.#clock.now(), opId);
    });
    return outcomeOf(this.#journal, this.get(opId) as OnlineAuthorization);
  }
}

/** The clerk's view of a stored row. An approved row whose op is missing reads as pending: never a receipt without the op. */
function outcomeOf(journal: Journal, row: OnlineAuthorization): OnlineOutcome {
  switch (row.state) {
    case 'pending':
      return { state: 'pending_confirmation', opId: row.opId, lastError: row.lastError };
    case 'declined':
      return { state: 'declined', opId: row.opId, reason: row.reason ?? 'declined', message: row.message ?? '' };
    case 'refused':
      return { state: 'refused', opId: row.opId, code: row.reason ?? 'invalid_request', message: row.message ?? '' };
    case 'approved': {
      const receipt = receiptOf(journal, row);
      return receipt
        ? { state: 'approved', opId: row.opId, receipt }
        : { state: 'pending_confirmation', opId: row.opId, lastError: 'approved op not found in the journal' };
    }
  }
}
