/**
 * OnlineSales: the ops the terminal records only once the server approved
 * them (a betting ticket, a sale whose card is authorized now). The request
 * and its retries are OnlineAuthorizations' (online.ts); this builds the
 * requests from the clerk's input and records an approval as one
 * `RecordPlan` with the approved op id.
 */
import type { Clock, Random } from '@holdfast/domain';
import {
  type BetSelection,
  type Decision,
  deviceOpId,
  epochMs,
  type OnlineRequest,
  type OpBodies,
  onlineRequestSchema,
  parseBody,
  payoutAuthorizationSchema,
  potentialPayout,
  type SaleLine,
  type Tender,
  ticketAuthorizationSchema,
  ValidationError,
} from '@holdfast/protocol';
import type { Emitter } from './emitter.js';
import type { Journal } from './journal.js';
import {
  type OnlineAuthorization,
  OnlineAuthorizations,
  type OnlineAuthorizationsOptions,
  type OnlineOutcome,
  type RecordApproved,
} from './online.js';
import type { Recorder } from './recording.js';
import type { Credentials } from './sync-events.js';
import type { TerminalEvents } from './terminal-types.js';
import type { Transport } from './transport.js';

/** The decision of an op the server approved online (POST /v1/authorize). */
const ONLINE_APPROVED: Decision = Object.freeze({ mode: 'online', outcome: 'approved', policy: null });
/** A payout recorded offline at the shop's risk, within the betting configuration's limit. */
const PAID_OFFLINE: Decision = Object.freeze({
  mode: 'local',
  outcome: 'approved',
  policy: null,
  rule: 'offline_payout',
});

export interface OnlineSalesOptions {
  journal: Journal;
  transport: Transport;
  clock: Clock;
  idRandom: Random;
  timeoutMs: number;
  recorder: Recorder;
  events: Emitter<TerminalEvents>;
  credentials: () => Credentials | null;
  /** The device's credentials; throws (closed, not enrolled, revoked) when it may not record. */
  canRecord: () => Credentials;
  /** Checks the server's signature on an authorize answer (OnlineAuthorizationsOptions.answerProblem). */
  answerProblem: OnlineAuthorizationsOptions['answerProblem'];
  /** Signs authorize requests (OnlineAuthorizationsOptions.sign: NODE_SIGNER's on Node, WebCrypto's in a browser). */
  sign: OnlineAuthorizationsOptions['sign'];
}

export class OnlineSales {
  readonly #clock: Clock;
  readonly #idRandom: Random;
  readonly #recorder: Recorder;
  readonly #events: Emitter<TerminalEvents>;
  readonly #canRecord: () => Credentials;
  readonly #authorizations: OnlineAuthorizations;

  constructor(options: OnlineSalesOptions) {
    this.#clock = options.clock;
    this.#idRandom = options.idRandom;
    this.#recorder = options.recorder;
    this.#events = options.events;
    this.#canRecord = options.canRecord;
    this.#authorizations = new OnlineAuthorizations({
      journal: options.journal,
      transport: options.transport,
      clock: options.clock,
      timeoutMs: options.timeoutMs,
      credentials: options.credentials,
      recordApproved: this.#recordApproved,
      answerProblem: options.answerProblem,
      sign: options.sign,
    });
  }

  /** Sells a betting ticket: recorded only once the server's risk validation approved it. */
  sellTicket(input: { stake: number; selections: BetSelection[] }): Promise<OnlineOutcome> {
    const shift = this.#recorder.requireOpenShift();
    const request = ticketAuthorizationSchema.parse(
      { kind: 'ticket', stake: input.stake, currency: shift.currency, selections: input.selections },
      'ticket',
    );
    const body = { shift: shift.id, stake: request.stake, currency: request.currency, selections: request.selections };
    return this.#ask('ticket.issued', request, body);
  }

  /**
   * Pays a settled ticket: asks the server (kind payout) and waits for its
   * answer; records `ticket.paid` only once it approved. A decline (lost,
   * unsettled, voided, paid already — with the first payout in its
   * message) records nothing. If the server cannot be reached and the
   * amount is within `offlineLimit`, the payout is recorded offline at the
   * shop's risk under the SAME op id (so a lost approval and the offline op
   * are one payout on the server) and never asked about again; above it, it
   * stays pending confirmation and nothing is paid.
   */
  async payTicket(
    input: { ticket: string; amount: number },
    offlineLimit: number | null,
  ): Promise<OnlineOutcome | { state: 'paid_offline'; opId: string; seq: number }> {
    const shift = this.#recorder.requireOpenShift();
    const request = payoutAuthorizationSchema.parse(
      { kind: 'payout', ticket: input.ticket, amount: input.amount, currency: shift.currency },
      'payout',
    );
    const body = { shift: shift.id, ticket: request.ticket, currency: request.currency, amount: request.amount };
    this.#recorder.checkShiftRules('ticket.paid', { ...body, authorization: null }, shift.id);
    const outcome = await this.#ask('ticket.paid', request, body);
    if (outcome.state !== 'pending_confirmation' || offlineLimit === null || request.amount > offlineLimit) {
      return outcome;
    }
    const opId = outcome.opId;
    const op = this.#recorder.record({
      kind: 'ticket.paid',
      body: { ...body, authorization: null },
      decision: PAID_OFFLINE,
      approval: { opId, markApproved: () => this.#authorizations.settleOffline(opId) },
    });
    return { state: 'paid_offline', opId, seq: op.seq };
  }

  /** Records a sale whose one card tender is authorized online first. */
  recordSale(input: { lines: SaleLine[]; tenders: Tender[] }): Promise<OnlineOutcome> {
    const shift = this.#recorder.requireOpenShift();
    const body = parseBody('sale.recorded', this.#recorder.saleBody(shift, input));
    this.#recorder.checkShiftRules('sale.recorded', body, shift.id);
    const cards = body.tenders.filter((t) => t.type === 'card');
    const card = cards[0];
    if (cards.length !== 1 || card?.type !== 'card') {
      throw new ValidationError(
        'tenders',
        'exactly one card tender for a sale authorized online',
        String(cards.length),
      );
    }
    const request = onlineRequestSchema.parse({
      kind: 'card',
      amount: card.amount,
      currency: body.currency,
      token: card.token,
      brand: card.brand,
      last4: card.last4,
    });
    return this.#ask('sale.recorded', request, body as unknown as Record<string, unknown>);
  }

  /** Online requests still waiting for the server's answer, oldest first. */
  pending(): OnlineAuthorization[] {
    return this.#authorizations.pending();
  }

  get(opId: string): OnlineAuthorization | undefined {
    return this.#authorizations.get(opId);
  }

  /** Asks the server again about every pending confirmation, with the same op ids. */
  retry(): Promise<OnlineOutcome[]> {
    this.#canRecord();
    return this.#authorizations.retry().then((outcomes) => {
      for (const outcome of outcomes) this.#events.emit('online', outcome);
      return outcomes;
    });
  }

  async #ask(
    opKind: 'ticket.issued' | 'sale.recorded' | 'ticket.paid',
    request: OnlineRequest,
    body: Record<string, unknown>,
  ): Promise<OnlineOutcome> {
    const { deviceId } = this.#canRecord();
    // Refused before asking when nobody is signed in where the location has a roster (staff.ts).
    const { actor, approvalId } = this.#recorder.staffStamp(opKind, body as unknown as OpBodies[typeof opKind]);
    const at = epochMs().parse(this.#clock.now(), 'at');
    const opId = deviceOpId(deviceId, at, this.#idRandom.bytes(6));
    // An approval the op needs is used up by the request, with its pending row.
    const alongside = approvalId === null ? undefined : () => this.#recorder.useStaffApproval(approvalId, opId);
    this.#authorizations.begin({ opId, opKind, request, body, actor, ...(alongside ? { alongside } : {}) });
    const outcome = await this.#authorizations.attempt(opId);
    this.#events.emit('online', outcome);
    return outcome;
  }

  /** An approval: the op with the approved id, and its row marked approved, in one transaction. */
  readonly #recordApproved: RecordApproved = (row, answer, markApproved) => {
    const approval = { opId: row.opId, markApproved };
    const actor = row.actor ? { actor: row.actor } : {};
    if (row.opKind === 'ticket.issued') {
      const stake = row.body.stake as number;
      const selections = row.body.selections as BetSelection[];
      const body = {
        ...row.body,
        potentialPayout: potentialPayout(
          stake,
          selections.map((x) => x.odds),
        ),
        authorization: answer.authorizationId as string,
      };
      return this.#recorder.record({
        kind: 'ticket.issued',
        body: body as OpBodies['ticket.issued'],
        decision: ONLINE_APPROVED,
        approval,
        ...actor,
      });
    }
    if (row.opKind === 'ticket.paid') {
      return this.#recorder.record({
        kind: 'ticket.paid',
        body: { ...row.body, authorization: answer.authorizationId as string } as OpBodies['ticket.paid'],
        decision: ONLINE_APPROVED,
        approval,
        ...actor,
      });
    }
    return this.#recorder.record({
      kind: 'sale.recorded',
      body: row.body as OpBodies['sale.recorded'],
      decision: ONLINE_APPROVED,
      approval,
      ...actor,
    });
  };
}
