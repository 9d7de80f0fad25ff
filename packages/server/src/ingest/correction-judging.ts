/**
 * What the planners of governed corrections share (sale voids and refunds
 * in apply-context.ts, cash corrections, top-up reversals): the ids a
 * batch's corrections name, the amounts already corrected per original,
 * and raising a correction's problems as one exception per type.
 */
import type { Op } from '@holdfast/protocol';
import type { ExceptionType, RaiseException } from '../model/exception.js';

/** The ids that `kind` ops name in `field` (from unvalidated bodies), sorted, for loading and locking. */
export function referencedIds(ops: readonly Op[], kind: string, field: string): string[] {
  const refs = new Set<string>();
  for (const op of ops) {
    const id = op.kind === kind ? op.body[field] : undefined;
    if (typeof id === 'string') refs.add(id);
  }
  return [...refs].sort();
}

/** Σ amount of the corrections stored per original id. */
export function amountsById(
  stored: Iterable<readonly [string, readonly { amount: number }[]]> | undefined,
): Map<string, number> {
  return new Map([...(stored ?? [])].map(([id, list]) => [id, list.reduce((sum, r) => sum + r.amount, 0)]));
}

/** Problems grouped by their code, each code's messages in order: one exception per code. */
export function problemsByCode<C extends string>(problems: readonly { code: C; message: string }[]): Map<C, string[]> {
  const byCode = new Map<C, string[]>();
  for (const p of problems) byCode.set(p.code, [...(byCode.get(p.code) ?? []), p.message]);
  return byCode;
}

/**
 * Raises each code of `problems` as one alarm about `op` (deduped by the
 * op's id): `what` names the correction in the message ("cash correction of
 * <id>"), `detail` adds the figures beside the problems' messages.
 */
export function raiseProblems(
  raise: RaiseException,
  op: Op,
  what: string,
  problems: readonly { code: string; message: string }[],
  detail: Record<string, unknown>,
): void {
  for (const [code, messages] of problemsByCode(problems)) {
    raise(code as ExceptionType, 'alarm', op, op.id, `${what} outside the rules: ${messages.join('; ')}`, {
      ...detail,
      problems: messages,
    });
  }
}
