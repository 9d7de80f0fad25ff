/**
 * The post-authorization decline-rate report.
 */
/** One row of the decline-rate report: a placement, a UTC day (of the processor's answer) and a currency. */
export interface DeclineReportRow {
  /** UTC day of `settledAt`, YYYY-MM-DD. */
  day: string;
  /** The device's current placement; null merchant for unplaced devices. */
  merchant: string | null;
  location: string | null;
  currency: string;
  /** Offline payments the processor answered for (approved or declined). */
  forwardedCount: number;
  forwardedAmount: number;
  declinedCount: number;
  declinedAmount: number;
  /** declinedCount / forwardedCount (0..1). */
  declineRate: number;
}
