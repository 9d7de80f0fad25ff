/**
 * Reads the processor's own records: every authorization it ever decided,
 * with its idempotency key and the card of the request it answered.
 */
import type { ProcessorStorage } from '@holdfast/processor-sim';
import type { ProcessorRecord } from './truth.js';

/** Every authorization in the processor's store, in creation order. */
export function readProcessor(storage: Pick<ProcessorStorage, 'list'>): ProcessorRecord[] {
  const out: ProcessorRecord[] = [];
  for (let after = 0; ; ) {
    const page = storage.list(after, 1000);
    for (const s of page.items) {
      const request = JSON.parse(s.requestJson) as { card: { token: string } };
      out.push({
        key: s.idempotencyKey,
        id: s.authorization.id,
        status: s.authorization.status,
        amount: s.authorization.amount,
        currency: s.authorization.currency,
        token: request.card.token,
        reference: s.authorization.reference ?? null,
      });
    }
    if (page.next === null) return out;
    after = page.next;
  }
}
