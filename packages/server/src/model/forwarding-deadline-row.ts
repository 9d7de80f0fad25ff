/**
 * A card payment approved offline and not yet forwarded (settled) nor
 * refused by the processor, with its forwarding deadline: the console's
 * "Forwarding deadlines" list on Money at risk. Never the card token.
 */
export interface ForwardingDeadlineRow {
  opId: string;
  tenderIndex: number;
  device: string;
  deviceLabel: string;
  seq: number;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  approvedAt: number;
  receivedAt: number;
  /** min(approvedAt, receivedAt): when the card network's clock started (forwarding-deadline.ts). */
  deadlineFrom: number;
  /** deadlineFrom + the server's forwarding deadline. */
  deadlineAt: number;
  /** The deadline stage already reported (an exception raised): null, `warning` or `missed`. */
  stage: 'warning' | 'missed' | null;
  /** Consecutive transient forwarding failures, and why the last one left it unsettled. */
  attempts: number;
  lastError: string | null;
}
