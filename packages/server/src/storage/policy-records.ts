/**
 * Pieces of the risk-policy storage shared by the backends: the key that
 * groups policies into one version sequence, and the order of the exposure
 * answer.
 */
import { canonicalJson, type PolicyScope, sha256Hex } from '@holdfast/protocol';
import type { ExposureActual } from '../model/exposure.js';

/**
 * The scope key: policies with equal scopes share one version sequence.
 * Device lists are compared as sets (order and the JSON spelling do not
 * matter), so the key is SHA-256 of the canonical JSON with the list sorted.
 */
export function policyScopeKey(scope: PolicyScope): string {
  const devices = scope.devices === null ? null : [...scope.devices].sort();
  return sha256Hex(canonicalJson({ merchant: scope.merchant, location: scope.location, event: scope.event, devices }));
}

const order = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

/** Sorted by currency, merchant, location, event, null first and by code unit (as exposureBound sorts its groups). */
export function sortExposureActual(rows: ExposureActual[]): ExposureActual[] {
  return rows.sort(
    (a, b) =>
      order(a.currency, b.currency) ||
      order(a.merchant, b.merchant) ||
      order(a.location, b.location) ||
      order(a.event, b.event),
  );
}
