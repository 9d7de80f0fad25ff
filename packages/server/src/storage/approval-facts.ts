/**
 * Loading the facts of local-approval re-evaluation (ingest/
 * reevaluate-approval.ts), the part both backends share: which rows to ask
 * for and how to turn them into ApprovalFacts. Each backend runs the two
 * queries inside its ingest transaction, only when the batch holds a local
 * approval (approvalFactsNeeded).
 */
import { parsePolicyRef, policyRef, type RiskPolicy, type SignedPolicy } from '@holdfast/protocol';
import type { ApprovalFacts } from '../ingest/ingest-facts.js';

/** Policy ids to load for `refs` (refs that are not `<uuid>@<version>` name nothing stored). */
export function policyIdsOf(refs: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const ref of refs) {
    const parsed = parsePolicyRef(ref);
    if (parsed) ids.add(parsed.id);
  }
  return [...ids];
}

/** The columns of a device's unsettled offline payment the re-evaluation reads. */
export const HELD_COLUMNS = 'op_id, tender_index, seq, amount, currency, token, approved_at';

export function approvalFactsOf(signed: readonly string[], held: readonly Record<string, unknown>[]): ApprovalFacts {
  const policies = new Map<string, RiskPolicy>();
  for (const text of signed) {
    const policy = (JSON.parse(text) as SignedPolicy).policy;
    policies.set(policyRef(policy), policy);
  }
  return {
    policies,
    held: held.map((r) => ({
      id: `${r.op_id as string}/${Number(r.tender_index)}`,
      seq: Number(r.seq),
      amount: Number(r.amount),
      currency: r.currency as string,
      token: r.token as string,
      approvedAt: Number(r.approved_at),
    })),
  };
}
