/**
 * The exceptions raised for operators:
 *
 *   exception  the only ones are a cash_variance for each miscounted close,
 *              (with card traffic) post-authorization declines, which cards.ts
 *              holds against the processor's records, and the clone and
 *              overspend of a wristband the run cloned on purpose (wallets.ts
 *              holds the overspend to its block)
 *   fork       no fork or conflict was raised unless one was injected
 *
 * A terminal restored from an old image (an injected fault) is left out.
 */

import type { Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Rule, Violation } from '../violation.js';

export function exceptionRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const index = indexTruth(truth);
  const injected = index.injectedDevices;
  const cards = truth.run?.cards ?? truth.processor !== null;
  const cloned = new Set(truth.run?.clonedWristbands ?? []);
  const variances = new Set(
    truth.server.shifts
      .filter((s) => s.variance !== null && s.variance !== 0 && !injected.has(s.device))
      .map((s) => s.id),
  );
  for (const x of truth.server.exceptions) {
    if (injected.has(x.device)) continue;
    const shift = x.detail.shift;
    if (x.type === 'cash_variance' && typeof shift === 'string' && variances.has(shift)) {
      variances.delete(shift);
      continue;
    }
    if (x.type === 'post_auth_decline' && cards) continue;
    if ((x.type === 'wristband_clone' || x.type === 'wristband_overspend') && cloned.has(String(x.detail.wristband)))
      continue;
    const rule: Rule = x.type === 'fork' || x.type === 'conflict' ? 'fork' : 'exception';
    out.push({
      rule,
      device: index.labelOf(x.device),
      ...(x.opId ? { opId: x.opId } : {}),
      ...(x.seq !== null ? { seq: x.seq } : {}),
      message: `unexpected ${x.type} exception: ${x.message}`,
    });
  }
  for (const shift of variances) {
    out.push({
      rule: 'exception',
      opId: shift,
      message: `shift ${shift} closed with a variance but no cash_variance exception was raised`,
    });
  }
  return out;
}
