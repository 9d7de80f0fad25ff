/**
 * The operator's exception desk: exceptions with their actions and status,
 * recording an action, and the decline-rate report. Inputs arrive validated
 * (exceptions/exception-requests.ts); the storage's refusals become
 * ProtocolErrors that name the field.
 */
import type { Clock } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import type { ExceptionActionBody } from '../exceptions/exception-requests.js';
import type { DeclineReportRow } from '../model/decline-report.js';
import type { ExceptionFilter, ExceptionView } from '../model/exception-action.js';
import type { Page, Storage } from '../storage/storage.js';

/** The decline-rate report (GET /v1/admin/reports/declines): `from` inclusive, `to` exclusive. */
export interface DeclineReport {
  from: number;
  to: number;
  rows: DeclineReportRow[];
}

export class ExceptionDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #newId: () => string;

  constructor(storage: Storage, clock: Clock, newId: () => string) {
    this.#storage = storage;
    this.#clock = clock;
    this.#newId = newId;
  }

  /** A page of exceptions by position, with each one's actions and status. */
  list(filter: ExceptionFilter): Promise<Page<ExceptionView>> {
    return this.#storage.listExceptionViews(filter);
  }

  /**
   * Records an action of operator `by` (the authenticated username) on exception `exceptionId` and answers the
   * exception as it now stands. Refused (nothing recorded): not_found,
   * already_resolved, or invalid_request naming the field the storage found
   * wrong (e.g. an amount above what is outstanding).
   */
  async act(exceptionId: string, body: ExceptionActionBody, by: string): Promise<ExceptionView> {
    const outcome = await this.#storage.recordExceptionAction({
      id: this.#newId(),
      exceptionId,
      action: body.action,
      note: body.note,
      amount: body.amount ?? null,
      reference: body.reference ?? null,
      by,
      at: this.#clock.now(),
    });
    switch (outcome.outcome) {
      case 'not_found':
        throw new ProtocolError('not_found', `no exception ${exceptionId}`, { field: 'id' });
      case 'already_resolved': {
        const resolution = outcome.exception.actions.find((a) => a.resolves);
        throw new ProtocolError(
          'already_resolved',
          `exception ${exceptionId} was already resolved (${resolution?.action ?? '?'} by ${resolution?.by ?? '?'}); actions are not taken after a resolution`,
          { field: 'id' },
        );
      }
      case 'invalid':
        throw new ProtocolError('invalid_request', outcome.message, { field: outcome.field, rule: outcome.rule });
      case 'recorded':
        return outcome.exception;
    }
  }

  /** Declines per day and reason over [from, to). */
  async declineReport(range: { from: number; to: number }): Promise<DeclineReport> {
    const { from, to } = range;
    return { from, to, rows: await this.#storage.declineReport(from, to) };
  }
}
