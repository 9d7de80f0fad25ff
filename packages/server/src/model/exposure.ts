/**
 * Offline card exposure actually held (unsettled payments).
 */
/** Unsettled offline-approved payments of one currency and placement (the device's current placement). */
export interface ExposureActual {
  currency: string;
  /** Null for devices that were never placed. */
  merchant: string | null;
  location: string | null;
  event: string | null;
  /** Σ unsettled amounts, minor units. */
  amount: number;
  count: number;
}
