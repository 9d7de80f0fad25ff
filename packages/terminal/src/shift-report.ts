/**
 * A shift's Z report as the server confirms it, asked by the till that
 * recorded the shift (POST /v1/shifts/z-report; docs/receipts.md, "The Z
 * report confirmed by the server"), and the ops of a shift still waiting
 * for the server: what a clerk sees after closing.
 */
import type { Clock } from '@holdfast/domain';
import {
  type AnswerRoute,
  type ShiftReportAnswer,
  type ShiftReportRequest,
  shiftReportRequestMessage,
  signMessage,
} from '@holdfast/protocol';
import { NotEnrolledError, RequestRejectedError, TransportError } from './errors.js';
import type { JournalEntry } from './journal-types.js';
import type { Credentials } from './sync-events.js';
import type { Transport } from './transport.js';

export interface ShiftReportDeps {
  transport: Transport;
  credentials: Credentials | null;
  clock: Clock;
  timeoutMs: number;
  answerProblem: (route: AnswerRoute, requestSig: string, body: unknown) => Promise<string | null>;
}

/**
 * Asks the server for its word on shift `shiftId` of this device. Throws
 * NotEnrolledError, TransportError (no answer, or one no pinned server key
 * signed) or RequestRejectedError (e.g. `not_found` for a shift the server
 * does not hold yet).
 */
export async function fetchShiftReport(shiftId: string, deps: ShiftReportDeps): Promise<ShiftReportAnswer> {
  const { credentials, transport, clock } = deps;
  if (credentials === null) throw new NotEnrolledError();
  if (!transport.fetchShiftReport) {
    throw new TransportError('bad_response', 'this transport cannot ask for a shift’s Z-report confirmation');
  }
  const at = clock.now();
  const req: ShiftReportRequest = {
    device: credentials.deviceId,
    shift: shiftId,
    at,
    sig: signMessage(shiftReportRequestMessage(credentials.deviceId, shiftId, at), credentials.key),
  };
  const res = await transport.fetchShiftReport(req, deps.timeoutMs);
  if (!res.ok) throw new RequestRejectedError(res.status, res.error);
  // Anyone on the path could say "confirmed": an answer the server did not sign is no answer.
  const unsigned = await deps.answerProblem('shifts/z-report', req.sig, res.body);
  if (unsigned !== null) throw new TransportError('bad_response', `unverifiable shift report: ${unsigned}`);
  if (res.body.shift !== shiftId) throw new TransportError('bad_response', 'the answer is about another shift');
  return res.body;
}

/** The ops of shift `shiftId` among `entries` (its opening, and every op naming it) the server has not confirmed. */
export function unconfirmedOfShift(shiftId: string, entries: Iterable<JournalEntry>): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const e of entries) {
    const body = e.op.body as { shift?: unknown };
    if ((e.id === shiftId || body.shift === shiftId) && e.state !== 'confirmed') out.push(e);
  }
  return out;
}
